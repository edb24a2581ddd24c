//! The `partners` stream, read and written.
//!
//! Read: `GET /network/{id}/publisher` (v1, paged by offset), each partner
//! with its tier (the name of its first commission group, from
//! `GET /v3/network/{id}/commission-groups`, loaded once per read) and its
//! payment details (`GET /user/publisher/{id}/payment_detail`; a bank
//! account number is read masked to its last four digits).
//!
//! Written: an upsert on an external key, `{source platform}:{source id}`,
//! kept as the partner's `reporting_identifier` (searchable through
//! `GET /v2/networks/{id}/publishers?reporting_identifier=`), with the
//! previous platform's id in `foreign_identifier`. A new partner is made
//! with `POST /user/publisher` (which takes neither identifier) and then
//! updated with them; should a run die between the two, the next finds the
//! partner by its email among those without a reporting identifier. The
//! tier is kept as membership of the commission group of that name (made on
//! the tier campaign when no campaign has one), the payout as the partner's
//! payment details. A partner's parent is not written: Partnerize has no
//! second tier.

use crate::PartnerizePlugin;
use crate::client::{Api, refusal};
use crate::mapping::{self, PartnerWrite};
use cutover_http::{HttpError, PageCursor, PagedReader};
use cutover_sdk::prelude::*;
use serde_json::{Value, json};
use std::collections::HashMap;

use super::written;

/// The stream.
pub(crate) struct Partners;

/// Each partner's tier: the name of the first commission group (in the
/// API's order) that holds it.
async fn tiers(api: &Api) -> Result<HashMap<String, String>, HttpError> {
    let mut tiers = HashMap::new();
    for group in api.commission_groups().await? {
        let Some(name) = mapping::text(&group, "name") else { continue };
        for publisher in group["publishers"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            tiers.entry(publisher.to_owned()).or_insert_with(|| name.clone());
        }
    }
    Ok(tiers)
}

/// The set a partner is paid through: the first one not suspended, else
/// the first.
fn preferred(sets: &[Value]) -> Option<&Value> {
    sets.iter().find(|set| set["suspended"] != "y").or_else(|| sets.first())
}

impl Stream<PartnerizePlugin> for Partners {
    const NAME: &'static str = "partners";
    const ENTITY: EntityKind = EntityKind::Partner;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut PartnerizePlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let PartnerizePlugin { api, pages, tiers: known, .. } = plugin;
        if cursor.is_none() {
            // A read from the start sees the platform as it is now.
            *pages = PagedReader::new();
            *known = None;
        }
        let tiers = match known {
            Some(tiers) => tiers,
            empty => empty.insert(tiers(api).await?),
        };
        let taken = pages.take(api.http(), api.partners()?, "partners", cursor, max_records).await?;
        let api = &*api;
        let tiers = &*tiers;
        Ok(taken
            .map_async(async |item: &Value| -> Result<Result<Record, RejectReason>, HttpError> {
                let partner = &item["publisher"];
                let Some(id) = mapping::text(partner, "publisher_id") else {
                    return Ok(Err(RejectReason::new("malformed_record", "the partner has no `publisher_id`")));
                };
                let sets = api.payment_details(&id).await?;
                Ok(mapping::partner_record(partner, tiers.get(&id).map(String::as_str), preferred(&sets)))
            })
            .await?)
    }

    async fn write(plugin: &mut PartnerizePlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let mut groups: Option<Vec<Value>> = None;
        write_each(records, async |record| {
            let write = match mapping::partner_write(record) {
                Ok(write) => write,
                Err(reason) => return Ok(Err(reason)),
            };
            let answer = write_one(plugin, &write, &mut groups).await?;
            Ok(answer.map(|(target, created, changed)| written(created, changed, target)))
        })
        .await
    }

    async fn count(plugin: &mut PartnerizePlugin) -> Result<Option<u64>, PluginError> {
        Ok(Some(plugin.api.count_partners().await?))
    }
}

/// A refusal of the record, or an error of the batch.
macro_rules! refused {
    ($call:expr) => {
        match $call {
            Ok(value) => value,
            Err(error) => match refusal(&error) {
                Some(reason) => return Ok(Err(reason)),
                None => return Err(error.into()),
            },
        }
    };
}

/// Finds the partner written under `write`'s key, or one that a run which
/// died between create and update left with this email and no key.
async fn find(api: &Api, write: &PartnerWrite) -> Result<Option<String>, HttpError> {
    if let Some(found) = api.search_partners("reporting_identifier", &write.key).await?.first() {
        return Ok(mapping::text(found, "id"));
    }
    let Some(email) = &write.contact_email else { return Ok(None) };
    let orphans = api.search_partners("publisher_email", email).await?;
    Ok(orphans
        .iter()
        .find(|partner| mapping::text(partner, "reporting_identifier").is_none())
        .and_then(|partner| mapping::text(partner, "id")))
}

/// Writes one partner: `Ok(Ok((id, created, changed)))`, or the reason
/// Partnerize refused it.
async fn write_one(
    plugin: &mut PartnerizePlugin,
    write: &PartnerWrite,
    groups: &mut Option<Vec<Value>>,
) -> Result<Result<(String, bool, bool), RejectReason>, PluginError> {
    let api = &plugin.api;
    let (id, created, mut changed) = match find(api, write).await? {
        None => {
            let Some(email) = &write.contact_email else {
                return Ok(Err(RejectReason::new(
                    "missing_email",
                    "Partnerize needs a contact email to create a partner, and this one has none",
                )));
            };
            let defaults = &plugin.config.new_partners;
            let Some(terms) = &defaults.entity_terms_id else {
                return Err(PluginError::new(
                    ErrorCode::Config,
                    "plugin `partnerize`: creating a partner needs `new_partners.entity_terms_id`",
                )
                .with_help("set it to the id of the network terms partners accept (console → Network → Terms)"));
            };
            let mut body = json!({
                "account_name": write.account_name,
                "contact_email": email,
                "vertical": defaults.vertical,
                "promotional_method": defaults.promotional_method,
                "signup_ip": defaults.signup_ip,
                "entity_terms_id": terms,
            });
            for field in [
                "company_name",
                "contact_name",
                "contact_locale",
                "operating_country",
                "reporting_timezone",
                "default_currency",
                "phone",
            ] {
                if let Some(value) = write.fields.get(field) {
                    body[field] = Value::from(value.clone());
                }
            }
            let made = refused!(api.create_partner(&body).await);
            let Some(id) = mapping::text(&made, "publisher_id") else {
                return Err(PluginError::new(
                    ErrorCode::Other("platform".into()),
                    "Partnerize created a partner without an id",
                ));
            };
            (id, true, true)
        }
        Some(id) => (id, false, false),
    };
    // The fields the create did not take (the identifiers, the status), or
    // those that differ from what is stored.
    let current = if created { None } else { api.partner(&id).await? };
    let update: serde_json::Map<String, Value> = write
        .fields
        .iter()
        .filter(|(field, value)| {
            current.as_ref().is_none_or(|current| mapping::text(current, field).as_deref() != Some(value.as_str()))
        })
        .map(|(field, value)| ((*field).to_owned(), Value::from(value.clone())))
        .collect();
    if !update.is_empty() {
        refused!(api.update_partner(&id, &Value::Object(update)).await);
        changed = true;
    }
    if let Some(tier) = &write.tier {
        changed |= refused!(ensure_tier(plugin, groups, &id, tier).await);
    }
    if let Some(payout) = &write.payout {
        let api = &plugin.api;
        let sets = api.payment_details(&id).await?;
        if let Some(body) = mapping::payment_detail_change(payout, preferred(&sets)) {
            refused!(api.set_payment_detail(&id, &body).await);
            changed = true;
        }
    }
    Ok(Ok((id, created, changed)))
}

/// Puts the partner in the commission group named `tier` (any case), made
/// on the tier campaign when no campaign has one; whether anything changed.
async fn ensure_tier(
    plugin: &mut PartnerizePlugin,
    groups: &mut Option<Vec<Value>>,
    publisher_id: &str,
    tier: &str,
) -> Result<bool, HttpError> {
    let api = &plugin.api;
    if groups.is_none() {
        *groups = Some(api.commission_groups().await?);
    }
    let groups = groups.get_or_insert_with(Vec::new);
    let named = |group: &Value| mapping::text(group, "name").is_some_and(|name| name.eq_ignore_ascii_case(tier));
    let members = |group: &Value| -> Vec<String> {
        group["publishers"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
    };
    if groups.iter().any(|group| named(group) && members(group).iter().any(|member| member == publisher_id)) {
        return Ok(false);
    }
    if let Some(group) = groups.iter_mut().find(|group| named(group)) {
        let mut publishers = members(group);
        publishers.push(publisher_id.to_owned());
        let id = mapping::text(group, "commission_group_id").unwrap_or_default();
        api.set_group_members(&id, &publishers).await?;
        group["publishers"] = json!(publishers);
        return Ok(true);
    }
    let campaign = match plugin.config.tier_campaign_id.clone().or_else(|| plugin.config.campaign_id.clone()) {
        Some(campaign) => campaign,
        None => {
            let campaigns = api.all_campaigns().await?;
            campaigns.first().and_then(|campaign| mapping::text(campaign, "campaign_id")).unwrap_or_default()
        }
    };
    let made = api.create_group(&campaign, tier, &[publisher_id.to_owned()]).await?;
    groups.push(made);
    Ok(true)
}
