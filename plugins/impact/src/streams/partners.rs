//! The `partners` stream, read and written.
//!
//! Read: `GET /MediaPartners`, walked through `@nextpageuri`; each partner's
//! revenue tier is the name of the partner group it is in (groups are kept
//! per program: `GET /Campaigns/{id}/MediaPartnerGroups`).
//!
//! Written: `POST /MediaPartners`, which makes a **direct** partner joined
//! to the template terms' program on an active contract. The upsert key is
//! `MPValue1 = "{source platform}:{source id}"` (the previous platform's
//! partner id, where the brand can keep it): a second write finds it there
//! and creates nothing. `MPValue2` holds the parent (second tier) and is
//! updated with `PUT /MediaPartners/{id}` (the only field a brand may
//! change; partners own their profile). The tier joins the program's group
//! of that name. What impact.com cannot take is refused with its reason,
//! never dropped: a status other than active (a new partner is active), a
//! partner without an email, a tier with no group of that name. Payout
//! details are the partner's own in impact.com (withdrawal settings): they
//! are not sent, and never logged.

use std::collections::HashMap;

use crate::mapping::{self, custom, text};
use crate::streams::{refuse, wrong_entity};
use crate::{ImpactPlugin, client::Refused};
use cutover_http::{PageCursor, Request, path};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{Partner, PartnerStatus};
use serde_json::Value;

/// The stream.
pub(crate) struct Partners;

impl Stream<ImpactPlugin> for Partners {
    const NAME: &'static str = "partners";
    const ENTITY: EntityKind = EntityKind::Partner;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut ImpactPlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        if cursor.is_none() || plugin.tiers.is_none() {
            plugin.tiers = Some(tiers(plugin).await?);
        }
        let tiers = plugin.tiers.clone().unwrap_or_default();
        let paginator = plugin.client.collection(Request::get("MediaPartners"), "MediaPartners");
        super::read_pages(plugin, Self::NAME, paginator, "media partners", cursor, max_records, |item| {
            mapping::partner(item, &tiers)
        })
        .await
    }

    async fn write(plugin: &mut ImpactPlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let existing = plugin.client.all(Request::get("MediaPartners"), "MediaPartners").await?;
        let mut by_key: HashMap<String, Value> = existing
            .into_iter()
            .filter_map(|partner| Some((text(&partner, "MPValue1")?.to_string(), partner)))
            .collect();
        let mut groups: HashMap<String, Vec<Value>> = HashMap::new();
        let mut outcomes = Vec::with_capacity(records.len());
        for record in records {
            let Entity::Partner(partner) = &record.entity else {
                outcomes.push(wrong_entity(&record, Self::NAME));
                continue;
            };
            let key = format!("{}:{}", record.source_platform, record.source_id);
            let outcome = match by_key.get(&key) {
                Some(found) => update(plugin, &record, partner, found).await?,
                None => match create(plugin, &record, partner, &key, &mut groups).await? {
                    Ok((id, created)) => {
                        by_key.insert(key, created);
                        WriteOutcome::of(record.source_id.clone(), Ok::<_, RejectReason>(WriteResult::created(id)))
                    }
                    Err(outcome) => outcome,
                },
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    async fn count(plugin: &mut ImpactPlugin) -> Result<Option<u64>, PluginError> {
        Ok(Some(plugin.client.total(Request::get("MediaPartners")).await?))
    }
}

/// Each partner's tier: the name of the first group (in program order) it
/// is in.
async fn tiers(plugin: &ImpactPlugin) -> Result<HashMap<String, String>, PluginError> {
    let mut tiers = HashMap::new();
    let programs = plugin.client.all(Request::get("Campaigns"), "Campaigns").await?;
    for program in programs {
        let Some(id) = text(&program, "Id") else { continue };
        for group in program_groups(plugin, &id).await? {
            let Some(name) = text(&group, "Name") else { continue };
            for member in group["MediaPartners"].as_array().into_iter().flatten() {
                if let Some(member) = text(member, "Id") {
                    tiers.entry(member.to_string()).or_insert_with(|| name.to_string());
                }
            }
        }
    }
    Ok(tiers)
}

async fn program_groups(plugin: &ImpactPlugin, program: &str) -> Result<Vec<Value>, PluginError> {
    let request = Request::get(path(["Campaigns", program, "MediaPartnerGroups"])?);
    Ok(plugin.client.all(request, "Groups").await?)
}

/// An existing partner: only the parent (`MPValue2`) can change.
async fn update(
    plugin: &ImpactPlugin,
    record: &Record,
    partner: &Partner,
    found: &Value,
) -> Result<WriteOutcome, PluginError> {
    let Some(id) = text(found, "Id") else {
        return Ok(refuse(record, "malformed_record", "the partner impact.com holds for this key has no `Id`"));
    };
    let parent = partner.parent.as_ref().map(|parent| parent.source_id.to_string()).unwrap_or_default();
    let held = text(found, "MPValue2").map(|value| value.to_string()).unwrap_or_default();
    if parent == held {
        return Ok(WriteOutcome::of(record.source_id.clone(), Ok::<_, RejectReason>(WriteResult::unchanged(id))));
    }
    let request = Request::put(path(["MediaPartners", id.as_str()])?).form(&[("MPValue2", parent.as_str())]);
    let answer = plugin
        .client
        .write(request)
        .await
        .map_err(|error| PluginError::from(error).for_record(record.source_id.as_str()))?;
    Ok(WriteOutcome::of(
        record.source_id.clone(),
        answer
            .map(|_| WriteResult::updated(id))
            .map_err(|refused: Refused| RejectReason::new(refused.code, refused.message)),
    ))
}

/// A new direct partner, or the outcome that refuses it.
async fn create(
    plugin: &ImpactPlugin,
    record: &Record,
    partner: &Partner,
    key: &str,
    groups: &mut HashMap<String, Vec<Value>>,
) -> Result<Result<(CompactString, Value), WriteOutcome>, PluginError> {
    if let Some(status) = partner.status
        && status != PartnerStatus::Active
    {
        return Ok(Err(refuse(
            record,
            "status_not_writable",
            format!("impact.com creates a partner active; a {status:?} partner cannot be created as such"),
        )));
    }
    let Some(email) = partner.email.clone() else {
        return Ok(Err(refuse(record, "missing_field", "impact.com requires an email address for a partner")));
    };
    let defaults = &plugin.config.partner_defaults;
    let value = |name: &str, default: &Option<String>| custom(record, name).or_else(|| default.clone());
    let currency = partner
        .payout
        .as_ref()
        .and_then(|payout| payout.currency)
        .map(|currency| currency.code().to_owned())
        .or_else(|| value("currency", &defaults.currency));
    let required = [
        ("TemplateTermsId", value("template_terms_id", &defaults.template_terms_id)),
        ("Website", value("website", &defaults.website)),
        ("AddressLine1", value("address_line1", &defaults.address_line1)),
        ("City", value("city", &defaults.city)),
        ("PostalCode", value("postal_code", &defaults.postal_code)),
        ("Country", value("country", &defaults.country)),
        ("PhoneCountry", value("phone_country", &defaults.phone_country)),
        ("PhoneNumber", value("phone_number", &defaults.phone_number)),
        ("PrimaryPromotionalMethod", value("primary_promotional_method", &defaults.primary_promotional_method)),
        ("Currency", currency),
    ];
    let missing: Vec<&str> = required.iter().filter(|(_, value)| value.is_none()).map(|(name, _)| *name).collect();
    if !missing.is_empty() {
        return Ok(Err(refuse(
            record,
            "missing_field",
            format!(
                "impact.com requires {} for a new partner: set the record's custom field or `partner_defaults` in the config",
                missing.join(", ")
            ),
        )));
    }
    let program = required[0].1.clone().unwrap_or_default();
    let mut group_id = None;
    if let Some(tier) = &partner.tier {
        if !groups.contains_key(&program) {
            let found = program_groups(plugin, &program).await?;
            groups.insert(program.clone(), found);
        }
        let found = groups.get(&program).and_then(|groups| {
            groups.iter().find(|group| text(group, "Name").is_some_and(|name| name.eq_ignore_ascii_case(tier)))
        });
        match found.and_then(|group| text(group, "Id")) {
            Some(id) => group_id = Some(id.to_string()),
            None => {
                return Ok(Err(refuse(
                    record,
                    "unknown_tier",
                    format!("program {program} has no partner group named `{tier}`: create it in impact.com first"),
                )));
            }
        }
    }
    let name = partner.name.clone().unwrap_or_else(|| email.clone());
    let (first, last) = match (custom(record, "first_name"), custom(record, "last_name")) {
        (Some(first), Some(last)) => (first, last),
        _ => match name.split_once(' ') {
            Some((first, last)) => (first.to_owned(), last.to_owned()),
            None => (name.to_string(), name.to_string()),
        },
    };
    // The partner sets their own password when they first sign in; the
    // one the API requires is random and never kept or logged.
    let password = random_password();
    let parent = partner.parent.as_ref().map(|parent| parent.source_id.to_string()).unwrap_or_default();
    let mut form: Vec<(&str, String)> =
        required.iter().map(|(name, value)| (*name, value.clone().unwrap_or_default())).collect();
    form.extend([
        ("AccountName", name.to_string()),
        ("Username", email.to_string()),
        ("EmailAddress", email.to_string()),
        ("FirstName", first),
        ("LastName", last),
        ("Password", password),
        ("MPValue1", key.to_owned()),
        ("MPValue2", parent),
    ]);
    if let Some(group) = group_id {
        form.push(("MPGroupIDs", group));
    }
    let answer = plugin
        .client
        .write(Request::post("MediaPartners").form(&form))
        .await
        .map_err(|error| PluginError::from(error).for_record(record.source_id.as_str()))?;
    match answer {
        Ok(created) => match text(&created, "Id") {
            Some(id) => {
                let mut held = serde_json::json!({"Id": id.as_str(), "MPValue1": key});
                held["MPValue2"] =
                    form.iter().find(|(name, _)| *name == "MPValue2").map(|(_, value)| value.clone()).into();
                Ok(Ok((id, held)))
            }
            None => Ok(Err(refuse(record, "malformed_answer", "impact.com created the partner but answered no `Id`"))),
        },
        Err(refused) => {
            Ok(Err(WriteOutcome::rejected(record.source_id.clone(), RejectReason::new(refused.code, refused.message))))
        }
    }
}

/// 24 characters from the thread's cryptographic generator.
fn random_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%+-";
    let mut rng = rand::rng();
    (0..24).map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())])).collect()
}
