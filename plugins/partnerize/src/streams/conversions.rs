//! The `conversions` stream: each campaign's conversions, read and written.
//!
//! Read: the brand's conversion report of each campaign
//! (`GET /reporting/report_advertiser/campaign/{id}/conversion.json`) in
//! cursor mode (`cursor_id`, 300 rows, `next_page`), with payment info,
//! from `history_start` to the moment the campaign's read began. A
//! conversion's id is `{campaign id}:{conversion id}`.
//!
//! Written: Partnerize imports no conversion through REST: a sale it did
//! not track is added as an **untracked transaction query** (the partner's
//! claim for a missing sale: order id, value, currency, time), raised with
//! the partner's camref (the partner is approved on the campaign first when
//! needed) through `POST /user/publisher/{id}/tq/create`, which runs as a
//! job that the plugin waits for; the brand then decides it
//! (`POST /campaign/{id}/tq/{id}/approve|reject`) after the record's status,
//! and the conversion it makes is the target. The upsert key is the order
//! id within the campaign: an existing query (listed with
//! `GET /user/publisher/{id}/tq`) or a conversion Partnerize already tracked
//! under that order id is not raised again; a later change of status or
//! value goes through the v3 bulk update of the conversion's items
//! (`POST /v3/brand/campaigns/{id}/conversions/bulk`, a job). A reversed
//! conversion is rejected with the reason `reversed` (Partnerize has no
//! reversal). The commission is the `commissions` stream's: a conversion is
//! raised expecting none.

use crate::PartnerizePlugin;
use crate::client::ItemChange;
use crate::mapping::{self, composite};
use chrono::{DateTime, Utc};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{ConversionStatus, Money};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use super::{Lookups, ReportCursor, campaign_of, outcome};

/// The stream.
pub(crate) struct Conversions;

impl ChildStream<PartnerizePlugin> for Conversions {
    const NAME: &'static str = "conversions";
    const ENTITY: EntityKind = EntityKind::Conversion;
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
        let label = format!("conversions of campaign {parent}");
        let paginator = api.conversions(parent, &from, &until)?;
        let map = |item: &Value| mapping::conversion_record(&item["conversion_data"]);
        let batch = pages.read(api.http(), paginator, &label, page, max_records, map).await?;
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
    publisher: String,
    camref: String,
    order_id: String,
    amount: Money,
    status: ConversionStatus,
    at: DateTime<Utc>,
}

/// Where a planned record stands once its query is known.
#[derive(Debug, Clone)]
enum Known {
    /// Raised by this write: the query, pending, and its conversion.
    Raised { tq: String, conversion: String },
    /// Already there: the conversion, and its query when it has one (with
    /// the query's state).
    Existing { conversion: String, tq: Option<(String, String)> },
}

/// The record's plan, or why Partnerize cannot take it.
async fn plan(
    plugin: &PartnerizePlugin,
    lookups: &mut Lookups,
    record: &Record,
) -> Result<Result<Planned, RejectReason>, PluginError> {
    let Entity::Conversion(conversion) = &record.entity else {
        let kind = record.entity.kind().as_str();
        return Ok(Err(RejectReason::new("wrong_entity", format!("a {kind} cannot be written as a conversion"))));
    };
    let missing = |field: &str, why: &str| Ok(Err(RejectReason::new(format!("missing_{field}"), why.to_owned())));
    let Some(order_id) = conversion.order_id.as_deref().map(str::trim).filter(|id| !id.is_empty()) else {
        return missing(
            "order_id",
            "Partnerize keys a conversion by its order id (conversion_reference), and this one has none",
        );
    };
    let Some(amount) = conversion.amount else {
        return missing("amount", "a sale added to Partnerize needs its value");
    };
    if let Err(reason) = mapping::check_money(&amount, "amount") {
        return Ok(Err(reason));
    }
    let Some(at) = conversion.converted_at else {
        return missing("converted_at", "a sale added to Partnerize needs the time it happened");
    };
    let Some(partner) = &conversion.partner else {
        return missing("partner", "a Partnerize conversion is credited to a partner, and this one names none");
    };
    let campaign = match campaign_of(plugin, conversion.program.as_ref()) {
        Ok(campaign) => campaign,
        Err(reason) => return Ok(Err(reason)),
    };
    let publisher = match lookups.partner(&plugin.api, &record.source_platform, partner).await? {
        Ok(publisher) => publisher,
        Err(reason) => return Ok(Err(reason)),
    };
    let camref = match lookups.camref(&plugin.api, &campaign, &publisher).await? {
        Ok(camref) => camref,
        Err(reason) => return Ok(Err(reason)),
    };
    Ok(Ok(Planned {
        campaign,
        publisher,
        camref,
        order_id: order_id.to_owned(),
        amount,
        status: conversion.status.unwrap_or(ConversionStatus::Pending),
        at,
    }))
}

fn item_value(amount: Decimal) -> Option<serde_json::Number> {
    match mapping::number(amount) {
        Value::Number(number) => Some(number),
        _ => None,
    }
}

async fn write(plugin: &mut PartnerizePlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
    let mut lookups = Lookups::default();
    let mut plans: Vec<Result<Planned, RejectReason>> = Vec::with_capacity(records.len());
    for record in &records {
        plans.push(
            plan(plugin, &mut lookups, record).await.map_err(|error| error.for_record(record.source_id.as_str()))?,
        );
    }
    let api = &plugin.api;
    // What is there: each (partner, campaign)'s queries, by order id.
    let mut queries: HashMap<(String, String), HashMap<String, Value>> = HashMap::new();
    for planned in plans.iter().flatten() {
        let key = (planned.publisher.clone(), planned.campaign.clone());
        if let Entry::Vacant(slot) = queries.entry(key) {
            let found = api.transaction_queries(&planned.publisher, &planned.campaign).await?;
            let by_order = found
                .into_iter()
                .filter(|tq| tq["transaction_query_type"] == "untracked")
                .filter_map(|tq| Some((mapping::text(&tq, "conversion_reference")?, tq)))
                .collect();
            slot.insert(by_order);
        }
    }
    let mut known: Vec<Option<Result<Known, RejectReason>>> = vec![None; plans.len()];
    // Raise the missing ones, one job per partner.
    let mut to_raise: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, planned) in plans.iter().enumerate() {
        let Ok(planned) = planned else { continue };
        let found = queries
            .get(&(planned.publisher.clone(), planned.campaign.clone()))
            .and_then(|by| by.get(&planned.order_id));
        match found {
            Some(tq) => {
                let state = mapping::text(tq, "current_state").unwrap_or_default();
                known[index] = Some(match mapping::text(tq, "conversion_id") {
                    Some(conversion) => Ok(Known::Existing {
                        conversion,
                        tq: mapping::text(tq, "transaction_query_id").map(|id| (id, state)),
                    }),
                    None => Err(RejectReason::new(
                        "refused_by_platform",
                        format!("transaction query for order {} has no conversion", planned.order_id),
                    )),
                });
            }
            None => to_raise.entry(planned.publisher.clone()).or_default().push(index),
        }
    }
    for (publisher, indexes) in &to_raise {
        // The same order twice in one batch is raised once.
        let mut first_of: HashMap<(String, String), usize> = HashMap::new();
        let mut raised: Vec<usize> = Vec::new();
        let mut bodies = Vec::new();
        for &index in indexes {
            let Ok(planned) = &plans[index] else { continue };
            if first_of.insert((planned.campaign.clone(), planned.order_id.clone()), index).is_some() {
                continue;
            }
            raised.push(index);
            bodies.push(json!({
                "transaction_query_type": "untracked",
                "camref": planned.camref,
                "conversion_reference": planned.order_id,
                "conversion_value": mapping::number(planned.amount.amount),
                "conversion_currency": planned.amount.currency.code(),
                "conversion_date_time": mapping::v1_format(planned.at),
                "expected_commission": 0,
                "notes": format!("Migrated by cutover from {}", records[index].source_platform),
            }));
        }
        let answers = api.create_transaction_queries(publisher, &bodies).await?;
        for (&index, answer) in raised.iter().zip(answers) {
            known[index] = Some(match answer {
                Ok(tq) => match (mapping::text(&tq, "transaction_query_id"), mapping::text(&tq, "conversion_id")) {
                    (Some(tq), Some(conversion)) => Ok(Known::Raised { tq, conversion }),
                    _ => Err(RejectReason::new(
                        "refused_by_platform",
                        "Partnerize raised the query without a conversion",
                    )),
                },
                Err(error) => match (error["type"].as_str(), mapping::text(&error, "conversion_id")) {
                    // Partnerize tracked this order itself: that conversion is the target.
                    (Some("duplicate"), Some(conversion)) => Ok(Known::Existing { conversion, tq: None }),
                    _ => Err(RejectReason::new(
                        "refused_by_platform",
                        format!(
                            "Partnerize refused the transaction query: {}",
                            error["message"].as_str().unwrap_or("no reason given")
                        ),
                    )),
                },
            });
        }
        for &index in indexes {
            if known[index].is_none()
                && let Ok(planned) = &plans[index]
                && let Some(&first) = first_of.get(&(planned.campaign.clone(), planned.order_id.clone()))
            {
                known[index] = known[first].clone().map(|first| {
                    first.map(|done| match done {
                        Known::Raised { conversion, .. } | Known::Existing { conversion, .. } => {
                            Known::Existing { conversion, tq: None }
                        }
                    })
                });
            }
        }
    }
    // Decide what was raised; compare what was there.
    let mut changed = vec![false; plans.len()];
    let mut failures: Vec<Option<RejectReason>> = vec![None; plans.len()];
    let mut to_compare: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, planned) in plans.iter().enumerate() {
        let (Ok(planned), Some(Ok(state))) = (planned, &known[index]) else { continue };
        match state {
            Known::Raised { tq, .. } => {
                let (word, _) = mapping::status_word(planned.status);
                if word != "pending" {
                    let action = if word == "approved" { "approve" } else { "reject" };
                    if let Err(error) = api.decide(&planned.campaign, tq, action).await {
                        match crate::client::refusal(&error) {
                            Some(reason) => failures[index] = Some(reason),
                            None => return Err(PluginError::from(error).for_record(records[index].source_id.as_str())),
                        }
                    }
                }
            }
            Known::Existing { .. } => to_compare.entry(planned.campaign.clone()).or_default().push(index),
        }
    }
    for (campaign, indexes) in &to_compare {
        let ids: Vec<String> = indexes
            .iter()
            .filter_map(|&index| match &known[index] {
                Some(Ok(Known::Existing { conversion, .. })) => Some(conversion.clone()),
                _ => None,
            })
            .collect();
        let current = api.conversions_by_id(campaign, &ids).await?;
        let mut changes: Vec<ItemChange> = Vec::new();
        let mut owners: Vec<usize> = Vec::new();
        for &index in indexes {
            let (Ok(planned), Some(Ok(Known::Existing { conversion, tq }))) = (&plans[index], &known[index]) else {
                continue;
            };
            let Some(data) = current.get(conversion) else {
                failures[index] = Some(RejectReason::new(
                    "conversion_not_found",
                    format!("Partnerize has no conversion {conversion} on campaign {campaign}"),
                ));
                continue;
            };
            match compare(planned, data, tq.as_ref()) {
                Err(reason) => failures[index] = Some(reason),
                Ok(Change::None) => {}
                Ok(Change::Decide(tq, action)) => {
                    if let Err(error) = api.decide(campaign, &tq, action).await {
                        match crate::client::refusal(&error) {
                            Some(reason) => failures[index] = Some(reason),
                            None => return Err(PluginError::from(error).for_record(records[index].source_id.as_str())),
                        }
                    }
                    changed[index] = true;
                }
                Ok(Change::Items(items)) => {
                    changed[index] = true;
                    owners.extend(std::iter::repeat_n(index, items.len()));
                    changes.extend(items);
                }
            }
        }
        if !changes.is_empty() {
            for (position, why) in api.update_items(campaign, &changes).await? {
                if let Some(&index) = owners.get(position) {
                    failures[index] =
                        Some(RejectReason::new("refused_by_platform", format!("Partnerize refused the update: {why}")));
                }
            }
        }
    }
    Ok(records
        .iter()
        .enumerate()
        .map(|(index, record)| match (&plans[index], &known[index], &failures[index]) {
            (Err(reason), _, _) | (_, Some(Err(reason)), _) | (_, _, Some(reason)) => {
                WriteOutcome::rejected(record.source_id.clone(), reason.clone())
            }
            (Ok(planned), Some(Ok(state)), None) => {
                let (conversion, created) = match state {
                    Known::Raised { conversion, .. } => (conversion, true),
                    Known::Existing { conversion, .. } => (conversion, false),
                };
                outcome(&record.source_id, created, changed[index], composite(&planned.campaign, conversion))
            }
            (Ok(_), None, None) => WriteOutcome::rejected(
                record.source_id.clone(),
                RejectReason::new("refused_by_platform", "the conversion was not written"),
            ),
        })
        .collect())
}

/// What an existing conversion needs.
#[derive(Debug, PartialEq)]
enum Change {
    None,
    /// Its query is still pending: decide it (`approve`, `reject`).
    Decide(String, &'static str),
    /// The bulk update of its items.
    Items(Vec<ItemChange>),
}

/// What `planned` changes on the stored conversion `data`.
fn compare(planned: &Planned, data: &Value, tq: Option<&(String, String)>) -> Result<Change, RejectReason> {
    let stored_currency = data["currency"].as_str().unwrap_or_default();
    if !stored_currency.is_empty() && stored_currency != planned.amount.currency.code() {
        return Err(RejectReason::new(
            "unsupported_change",
            format!(
                "the conversion is in {stored_currency} on Partnerize, which cannot change a conversion's currency"
            ),
        ));
    }
    let items = data["conversion_items"].as_array().cloned().unwrap_or_default();
    let (word, reason) = mapping::status_word(planned.status);
    let value = data["conversion_value"]["value"].clone();
    let value_moves = mapping::decimal(&value).is_none_or(|stored| stored != planned.amount.amount);
    if value_moves && items.len() != 1 {
        return Err(RejectReason::new(
            "unsupported_change",
            format!("the conversion has {} items on Partnerize: its value changes item by item", items.len()),
        ));
    }
    let status_moves = items.iter().any(|item| item["item_status"].as_str() != Some(word));
    if let Some((tq, state)) = tq
        && state == "pending"
        && status_moves
        && !value_moves
        && word != "pending"
    {
        return Ok(Change::Decide(tq.clone(), if word == "approved" { "approve" } else { "reject" }));
    }
    let changes: Vec<ItemChange> = items
        .iter()
        .filter_map(|item| {
            let id = mapping::text(item, "conversion_item_id")?;
            let status = (item["item_status"].as_str() != Some(word)).then_some(word);
            let new_value = value_moves.then(|| item_value(planned.amount.amount)).flatten();
            (status.is_some() || new_value.is_some()).then(|| ItemChange {
                conversion_item_id: id,
                status,
                reason: status.and(reason),
                item_value: new_value,
            })
        })
        .collect();
    Ok(if changes.is_empty() { Change::None } else { Change::Items(changes) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_sdk::schema::Currency;

    fn planned(status: ConversionStatus, cents: i64) -> Planned {
        Planned {
            campaign: "10l176".into(),
            publisher: "1l1007802".into(),
            camref: "abc".into(),
            order_id: "ORD-1".into(),
            amount: Money::new(Decimal::new(cents, 2), Currency::EUR),
            status,
            at: DateTime::UNIX_EPOCH,
        }
    }

    fn stored(status: &str, value: f64, items: usize) -> Value {
        let items: Vec<Value> =
            (0..items).map(|index| json!({"conversion_item_id": format!("i{index}"), "item_status": status})).collect();
        json!({"currency": "EUR", "conversion_value": {"value": value}, "conversion_items": items})
    }

    #[test]
    fn an_unchanged_conversion_needs_nothing_and_a_pending_query_is_decided() {
        assert_eq!(
            compare(&planned(ConversionStatus::Approved, 4990), &stored("approved", 49.9, 1), None),
            Ok(Change::None)
        );
        let pending = ("tq1".to_owned(), "pending".to_owned());
        assert_eq!(
            compare(&planned(ConversionStatus::Approved, 4990), &stored("pending", 49.9, 1), Some(&pending)),
            Ok(Change::Decide("tq1".into(), "approve"))
        );
    }

    #[test]
    fn a_reversal_is_a_rejection_with_its_reason_and_a_new_value_changes_the_item() {
        let Ok(Change::Items(changes)) =
            compare(&planned(ConversionStatus::Reversed, 4990), &stored("approved", 49.9, 2), None)
        else {
            panic!("items change");
        };
        assert_eq!(changes.len(), 2);
        assert_eq!((changes[0].status, changes[0].reason), (Some("rejected"), Some("reversed")));
        let Ok(Change::Items(changes)) =
            compare(&planned(ConversionStatus::Approved, 2500), &stored("approved", 49.9, 1), None)
        else {
            panic!("items change");
        };
        assert_eq!(serde_json::to_value(&changes[0]).unwrap(), json!({"conversion_item_id": "i0", "item_value": 25}));
    }

    #[test]
    fn what_partnerize_cannot_change_is_refused_with_its_reason() {
        let mut other = stored("approved", 49.9, 1);
        other["currency"] = json!("GBP");
        let reason = compare(&planned(ConversionStatus::Approved, 4990), &other, None).unwrap_err();
        assert_eq!(reason.code, "unsupported_change");
        let reason =
            compare(&planned(ConversionStatus::Approved, 100), &stored("approved", 49.9, 3), None).unwrap_err();
        assert!(reason.message.contains("3 items"), "{}", reason.message);
    }
}
