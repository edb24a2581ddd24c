//! The `commissions` stream: what partners earn, one commission per
//! conversion item (the item's `item_publisher_commission` in the
//! conversion's currency, its status, paid when its self-bill was), read
//! and written.
//!
//! Read: the conversion report of each campaign (as `conversions` reads
//! it), each item a record `{campaign id}:{conversion item id}`.
//!
//! Written: a commission belongs to its conversion (the record's
//! `conversion`, `{campaign id}:{conversion id}`, as the `conversions`
//! stream answered it), so writing one changes that conversion, fetched by
//! id from the report: a different amount through an **incorrect-commission
//! transaction query** (the documented way to correct what a partner
//! earns; a job, then approved by the brand), a different status through
//! the v3 bulk update of the conversion's items (a job). The target is the
//! conversion's first item. Partnerize pays one level: a commission of
//! another level is refused. `paid` is written approved (Partnerize marks
//! payment itself, through self-billing), `reversed` rejected with that
//! reason.

use crate::PartnerizePlugin;
use crate::client::{ItemChange, refusal};
use crate::mapping::{self, composite, split_composite};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{CommissionStatus, Money};
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::{Lookups, ReportCursor, outcome};

/// The stream.
pub(crate) struct Commissions;

impl ChildStream<PartnerizePlugin> for Commissions {
    const NAME: &'static str = "commissions";
    const ENTITY: EntityKind = EntityKind::Commission;
    const DIRECTION: Direction = Direction::Both;
    type Parent = String;
    type Cursor = ReportCursor;

    async fn parents(plugin: &mut PartnerizePlugin) -> Result<Vec<String>, PluginError> {
        super::campaign_ids(plugin).await
    }

    async fn read(
        plugin: &mut PartnerizePlugin,
        parent: &String,
        cursor: Option<ReportCursor>,
        max_records: usize,
    ) -> Result<Batch<ReportCursor>, PluginError> {
        let (from, until, page) = ReportCursor::window(plugin, cursor);
        let PartnerizePlugin { api, pages, .. } = plugin;
        let label = format!("commissions of campaign {parent}");
        let paginator = api.conversions(parent, &from, &until)?;
        let map = |item: &Value| mapping::commission_records(&item["conversion_data"]);
        let batch = pages.read_flat(api.http(), paginator, &label, page, max_records, map).await?;
        Ok(batch.map_cursor(|page| ReportCursor { until, page }))
    }

    async fn write(plugin: &mut PartnerizePlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        write(plugin, records).await
    }
}

/// One record, ready to be written.
#[derive(Debug, Clone)]
struct Planned {
    campaign: String,
    conversion: String,
    amount: Option<Money>,
    status: Option<CommissionStatus>,
    partner: Option<String>,
}

fn plan(record: &Record) -> Result<Planned, RejectReason> {
    let Entity::Commission(commission) = &record.entity else {
        let kind = record.entity.kind().as_str();
        return Err(RejectReason::new("wrong_entity", format!("a {kind} cannot be written as a commission")));
    };
    if let Some(level) = commission.level.filter(|level| *level != 1) {
        return Err(RejectReason::new(
            "unsupported_level",
            format!("Partnerize pays the partner who made the sale only (level 1), not level {level}"),
        ));
    }
    let Some(conversion) = &commission.conversion else {
        return Err(RejectReason::new(
            "missing_conversion",
            "a Partnerize commission belongs to a conversion, and this one names none",
        ));
    };
    let Some((campaign, id)) = split_composite(&conversion.source_id) else {
        return Err(RejectReason::new(
            "unresolved_reference",
            format!(
                "conversion `{}` is not a Partnerize conversion (`campaign:conversion`): write the conversions first",
                conversion.source_id
            ),
        ));
    };
    if let Some(amount) = &commission.amount {
        mapping::check_money(amount, "amount")?;
    }
    Ok(Planned {
        campaign: campaign.to_owned(),
        conversion: id.to_owned(),
        amount: commission.amount,
        status: commission.status,
        partner: commission.partner.as_ref().map(|partner| partner.source_id.to_string()),
    })
}

async fn write(plugin: &mut PartnerizePlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
    let plans: Vec<Result<Planned, RejectReason>> = records.iter().map(plan).collect();
    let api = &plugin.api;
    let mut lookups = Lookups::default();
    let mut results: Vec<Option<Result<(String, bool), RejectReason>>> = vec![None; records.len()];
    let mut by_campaign: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, planned) in plans.iter().enumerate() {
        match planned {
            Ok(planned) => by_campaign.entry(planned.campaign.clone()).or_default().push(index),
            Err(reason) => results[index] = Some(Err(reason.clone())),
        }
    }
    for (campaign, indexes) in &by_campaign {
        let ids: Vec<String> =
            indexes.iter().filter_map(|&index| plans[index].as_ref().ok().map(|p| p.conversion.clone())).collect();
        let current = api.conversions_by_id(campaign, &ids).await?;
        let mut changes: Vec<ItemChange> = Vec::new();
        let mut owners: Vec<usize> = Vec::new();
        for &index in indexes {
            let Ok(planned) = &plans[index] else { continue };
            let Some(data) = current.get(&planned.conversion) else {
                results[index] = Some(Err(RejectReason::new(
                    "conversion_not_found",
                    format!("Partnerize has no conversion {} on campaign {campaign}", planned.conversion),
                )));
                continue;
            };
            let publisher = mapping::text(data, "publisher_id").unwrap_or_default();
            if let Some(partner) = &planned.partner
                && *partner != publisher
                && !partner_is(&mut lookups, plugin, &records[index], partner, &publisher).await?
            {
                results[index] = Some(Err(RejectReason::new(
                    "partner_mismatch",
                    format!(
                        "conversion {} is credited to partner {publisher} on Partnerize, not {partner}",
                        planned.conversion
                    ),
                )));
                continue;
            }
            let items = data["conversion_items"].as_array().cloned().unwrap_or_default();
            let Some(first) = items.first().and_then(|item| mapping::text(item, "conversion_item_id")) else {
                results[index] = Some(Err(RejectReason::new(
                    "refused_by_platform",
                    format!("conversion {} has no items", planned.conversion),
                )));
                continue;
            };
            let mut changed = false;
            if let Some(amount) = &planned.amount {
                match correct_amount(plugin, &mut lookups, campaign, &publisher, data, amount).await? {
                    Ok(moved) => changed |= moved,
                    Err(reason) => {
                        results[index] = Some(Err(reason));
                        continue;
                    }
                }
            }
            if let Some(status) = planned.status {
                let (word, reason) = mapping::commission_word(status);
                for item in &items {
                    if item["item_status"].as_str() != Some(word)
                        && let Some(id) = mapping::text(item, "conversion_item_id")
                    {
                        changes.push(ItemChange {
                            conversion_item_id: id,
                            status: Some(word),
                            reason,
                            item_value: None,
                        });
                        owners.push(index);
                        changed = true;
                    }
                }
            }
            results[index] = Some(Ok((composite(campaign, &first), changed)));
        }
        if !changes.is_empty() {
            for (position, why) in api.update_items(campaign, &changes).await? {
                if let Some(&index) = owners.get(position) {
                    results[index] = Some(Err(RejectReason::new(
                        "refused_by_platform",
                        format!("Partnerize refused the update: {why}"),
                    )));
                }
            }
        }
    }
    Ok(records
        .iter()
        .zip(results)
        .map(|(record, result)| match result {
            Some(Ok((target, changed))) => outcome(&record.source_id, false, changed, target),
            Some(Err(reason)) => WriteOutcome::rejected(record.source_id.clone(), reason),
            None => WriteOutcome::rejected(
                record.source_id.clone(),
                RejectReason::new("refused_by_platform", "the commission was not written"),
            ),
        })
        .collect())
}

/// Whether the record's partner reference names `publisher` after all
/// (a reference the engine did not rewrite, to a partner written under the
/// external key).
async fn partner_is(
    lookups: &mut Lookups,
    plugin: &PartnerizePlugin,
    record: &Record,
    partner: &str,
    publisher: &str,
) -> Result<bool, PluginError> {
    let reference = cutover_sdk::schema::Reference::new(EntityKind::Partner, partner);
    Ok(lookups.partner(&plugin.api, &record.source_platform, &reference).await?.is_ok_and(|found| found == publisher))
}

/// Sets what the partner earns on the conversion `data` to `amount`
/// through an incorrect-commission query, approved; whether it changed.
async fn correct_amount(
    plugin: &PartnerizePlugin,
    lookups: &mut Lookups,
    campaign: &str,
    publisher: &str,
    data: &Value,
    amount: &Money,
) -> Result<Result<bool, RejectReason>, PluginError> {
    let api = &plugin.api;
    let currency = data["currency"].as_str().unwrap_or_default();
    if currency != amount.currency.code() {
        return Ok(Err(RejectReason::new(
            "currency_mismatch",
            format!(
                "the commission is in {} but its conversion in {currency}: Partnerize keeps both in one",
                amount.currency
            ),
        )));
    }
    let stored = mapping::decimal(&data["conversion_value"]["publisher_commission"]);
    if stored == Some(amount.amount) {
        return Ok(Ok(false));
    }
    let Some(reference) = mapping::text(data, "conversion_reference") else {
        return Ok(Err(RejectReason::new("refused_by_platform", "the conversion has no order id to raise a query on")));
    };
    let camref = match lookups.camref(api, campaign, publisher).await? {
        Ok(camref) => camref,
        Err(reason) => return Ok(Err(reason)),
    };
    let query = json!({
        "transaction_query_type": "incorrect_commission",
        "camref": camref,
        "conversion_reference": reference,
        "expected_commission": mapping::number(amount.amount),
        "notes": "Commission migrated by cutover",
    });
    let answers = api.create_transaction_queries(publisher, &[query]).await?;
    let tq = match answers.into_iter().next() {
        Some(Ok(tq)) => tq,
        Some(Err(error)) => {
            return Ok(Err(RejectReason::new(
                "refused_by_platform",
                format!(
                    "Partnerize refused the commission query: {}",
                    error["message"].as_str().unwrap_or("no reason given")
                ),
            )));
        }
        None => return Ok(Err(RejectReason::new("refused_by_platform", "Partnerize answered no commission query"))),
    };
    let Some(tq_id) = mapping::text(&tq, "transaction_query_id") else {
        return Ok(Err(RejectReason::new("refused_by_platform", "the commission query has no id")));
    };
    match api.decide(campaign, &tq_id, "approve").await {
        Ok(()) => Ok(Ok(true)),
        Err(error) => match refusal(&error) {
            Some(reason) => Ok(Err(reason)),
            None => Err(error.into()),
        },
    }
}
