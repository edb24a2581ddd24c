//! Affiliates ↔ partners.
//!
//! Read: name from `firstname` and `lastname`; `company_name`; `status` 1
//! active, 2 suspended (disabled), 3 pending, 4 rejected; the tier from the
//! tag with the tier prefix (`tier:gold` → `gold`), the other tags in the
//! custom field `tags`; the parent from `referred_by` (the sponsor of the
//! referral program, which may have been deleted since: the reference is
//! kept as Scaleo holds it); payout details from `payment_details`, JSON in
//! a string, masked (an IBAN, an account number or a wallet reads
//! `****` and its last four characters; a PayPal address or a Payoneer id
//! as given) and never logged. A `payment_details` that is not JSON is
//! refused, and its raw item is kept with the details blanked. Kept as
//! custom fields: the network's custom fields (text, numbers, booleans),
//! `phone`, `website_url`, `city`, `timezone`, `country` (GeoNames id),
//! `referral_commission` (the sponsor's percent), `external_id` (an id
//! from the platform the affiliate came from), `payout_currency` when it is
//! not ISO 4217 (`USDT`).
//!
//! Written: `email` (required by Scaleo), the name split at its first space
//! into `firstname` and `lastname`, `company_name`, `status` (inactive is
//! written as disabled and reads back suspended), the tier and the custom
//! field `tags` as tags, `referred_by`, `payment_details` (`method`,
//! `account`, `currency`), and the custom fields above back to their
//! fields, the others to Scaleo's custom fields (as text: a decimal reads
//! back as text). `created_at` is Scaleo's own.

use super::{record, wrong_entity};
use crate::values::{self, custom_json, custom_value, field, put, text};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{Currency, Partner, PartnerStatus, PayoutDetails, Reference};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// Custom fields that are Scaleo affiliate fields of their own.
const FIELD_CUSTOMS: &[&str] = &["phone", "website_url", "city", "timezone", "country", "referral_commission"];

/// The canonical partner of an affiliate, or why it cannot be one.
pub(crate) fn to_record(item: &Value, tier_prefix: &str) -> Result<Record, RejectReason> {
    let id = values::source_id(item)?;
    let updated_at = values::updated_at(item)?;
    let names: Vec<CompactString> =
        ["firstname", "lastname"].iter().filter_map(|name| text(field(item, name))).collect();
    let status = match values::id(field(item, "status")) {
        None => None,
        Some(1) => Some(PartnerStatus::Active),
        Some(2) => Some(PartnerStatus::Suspended),
        Some(3) => Some(PartnerStatus::Pending),
        Some(4) => Some(PartnerStatus::Rejected),
        Some(other) => {
            return Err(RejectReason::new(
                "unmappable_value",
                format!("affiliate status {other} is not one Scaleo documents (1-4)"),
            ));
        }
    };
    let tags: Vec<String> = match field(item, "tags") {
        Some(Value::Array(tags)) => tags.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::String(tags)) => {
            tags.split(',').map(|tag| tag.trim().to_owned()).filter(|tag| !tag.is_empty()).collect()
        }
        _ => Vec::new(),
    };
    let tier = tags.iter().find_map(|tag| tag.strip_prefix(tier_prefix)).map(CompactString::from);
    let other_tags: Vec<CustomValue> = tags
        .iter()
        .filter(|tag| !tag.starts_with(tier_prefix))
        .map(|tag| CustomValue::Text(tag.as_str().into()))
        .collect();
    let (payout, payout_currency) = payout_details(field(item, "payment_details"))?;
    let partner = Partner {
        name: (!names.is_empty()).then(|| names.join(" ").into()),
        email: text(field(item, "email")),
        company: text(field(item, "company_name")),
        status,
        tier,
        parent: values::id(field(item, "referred_by"))
            .map(|sponsor| Reference::new(EntityKind::Partner, sponsor.to_string())),
        payout,
        created_at: values::instant(field(item, "created_at"), "created_at")?,
    };
    let mut record = record(id.to_string(), updated_at, Entity::Partner(partner));
    let custom = &mut record.custom_fields;
    if let Some(Value::Object(fields)) = field(item, "custom_fields") {
        for (name, value) in fields {
            if let Some(value) = custom_value(value) {
                custom.insert(name.as_str().into(), value);
            }
        }
    }
    if !other_tags.is_empty() {
        custom.insert("tags".into(), CustomValue::List(other_tags));
    }
    for name in ["phone", "website_url", "city", "timezone", "external_id"] {
        if let Some(value) = text(field(item, name)) {
            custom.insert(name.into(), CustomValue::Text(value));
        }
    }
    if let Some(country) = values::id(field(item, "country")).filter(|country| *country > 0) {
        custom.insert("country".into(), CustomValue::Integer(i64::try_from(country).unwrap_or(i64::MAX)));
    }
    if let Some(rate) = values::decimal(field(item, "referral_commission"), "referral_commission")? {
        custom.insert("referral_commission".into(), CustomValue::Decimal(rate));
    }
    if let Some(currency) = payout_currency {
        custom.insert("payout_currency".into(), CustomValue::Text(currency));
    }
    Ok(record)
}

/// `****` and the last four letters or digits of an account number.
fn masked(account: &str) -> CompactString {
    let kept: Vec<char> = account.chars().filter(char::is_ascii_alphanumeric).collect();
    let tail: String = kept[kept.len().saturating_sub(4)..].iter().collect();
    format!("****{tail}").into()
}

/// Payout details from `payment_details` (JSON in a string), and a payout
/// currency that is not ISO 4217, kept apart. The details never appear in
/// a reason.
fn payout_details(value: Option<&Value>) -> Result<(Option<PayoutDetails>, Option<CompactString>), RejectReason> {
    let details: Value = match value {
        None => return Ok((None, None)),
        Some(Value::String(text)) if text.trim().is_empty() => return Ok((None, None)),
        Some(Value::String(text)) => serde_json::from_str(text).map_err(|_| {
            RejectReason::new(
                "invalid_payment_details",
                "`payment_details` is not JSON (its content is not shown: it is a secret)",
            )
        })?,
        Some(object @ Value::Object(_)) => object.clone(),
        Some(_) => {
            return Err(RejectReason::new(
                "invalid_payment_details",
                "`payment_details` is neither JSON text nor an object",
            ));
        }
    };
    let Some(details) = details.as_object() else {
        return Err(RejectReason::new("invalid_payment_details", "`payment_details` is not a JSON object"));
    };
    let get = |name: &str| details.get(name).and_then(Value::as_str).filter(|value| !value.trim().is_empty());
    let account_reference = ["account", "paypal_email", "email", "payoneer_id"]
        .iter()
        .find_map(|name| get(name))
        .map(CompactString::from)
        .or_else(|| ["iban", "account_number", "wallet"].iter().find_map(|name| get(name)).map(masked));
    let (currency, odd_currency) = match get("currency") {
        None => (None, None),
        Some(code) => match cutover_sdk::schema::normalize::currency(code) {
            Ok(currency) => (Some(currency), None),
            Err(_) => (None, Some(CompactString::from(code))),
        },
    };
    let payout = PayoutDetails { method: get("method").map(CompactString::from), account_reference, currency };
    let empty = payout == PayoutDetails::default();
    Ok(((!empty).then_some(payout), odd_currency))
}

/// The raw item of a rejected affiliate, with its payout details blanked,
/// for the rejects ledger.
pub(crate) fn redacted(raw: &str) -> String {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(mut item)) => {
            if item.get("payment_details").is_some_and(|details| !details.is_null()) {
                item.insert("payment_details".into(), Value::String("[redacted]".into()));
            }
            Value::Object(item).to_string()
        }
        _ => "[redacted: not a JSON object]".to_owned(),
    }
}

/// What a partner write sends, before its sponsor is looked up.
#[derive(Debug, Clone)]
pub(crate) struct AffiliateWrite {
    /// The body of the write, without `referred_by`, `password` or
    /// `external_id`.
    pub(crate) body: Map<String, Value>,
    /// The parent to look up: its source id as written.
    pub(crate) parent: Option<Reference>,
    /// The email, the natural key after the external one.
    pub(crate) email: String,
}

/// The affiliate fields of a canonical partner, or why Scaleo cannot take it.
pub(crate) fn from_record(record: &Record, tier_prefix: &str) -> Result<AffiliateWrite, RejectReason> {
    let Entity::Partner(partner) = &record.entity else {
        return Err(wrong_entity(record, "an affiliate"));
    };
    let email = partner
        .email
        .as_ref()
        .filter(|email| !email.trim().is_empty())
        .ok_or_else(|| RejectReason::new("missing_email", "Scaleo requires an email for every affiliate"))?
        .trim()
        .to_owned();
    let mut body = Map::new();
    body.insert("email".into(), Value::String(email.clone()));
    let (firstname, lastname) = match partner.name.as_deref().map(str::trim).filter(|name| !name.is_empty()) {
        Some(name) => match name.split_once(char::is_whitespace) {
            Some((first, last)) => (Value::from(first), Value::from(last.trim())),
            None => (Value::from(name), Value::Null),
        },
        None => (Value::Null, Value::Null),
    };
    body.insert("firstname".into(), firstname);
    body.insert("lastname".into(), lastname);
    body.insert("company_name".into(), partner.company.as_deref().map_or(Value::Null, Value::from));
    let status = partner.status.map(|status| match status {
        PartnerStatus::Active => 1,
        PartnerStatus::Suspended | PartnerStatus::Inactive => 2,
        PartnerStatus::Pending => 3,
        PartnerStatus::Rejected => 4,
    });
    put(&mut body, "status", status);
    let mut tags: Vec<String> = partner.tier.iter().map(|tier| format!("{tier_prefix}{tier}")).collect();
    for tag in values::texts(record.custom_fields.get("tags")) {
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    body.insert("tags".into(), Value::from(tags));
    let details = partner.payout.as_ref().map(|payout| {
        let mut details = Map::new();
        put(&mut details, "method", payout.method.as_deref());
        put(&mut details, "account", payout.account_reference.as_deref());
        put(&mut details, "currency", payout.currency.map(Currency::code));
        Value::Object(details).to_string()
    });
    body.insert("payment_details".into(), details.map_or(Value::Null, Value::String));
    let mut custom = Map::new();
    for (name, value) in &record.custom_fields {
        match name.as_str() {
            "tags" | "external_id" | "payout_currency" => {}
            "country" => {
                if let CustomValue::Integer(country) = value {
                    body.insert("country".into(), Value::from(*country));
                }
            }
            "referral_commission" => {
                if let CustomValue::Decimal(rate) = value {
                    body.insert("referral_commission".into(), Value::String(rate.to_string()));
                }
            }
            known if FIELD_CUSTOMS.contains(&known) => {
                if let CustomValue::Text(text) = value {
                    body.insert(known.into(), Value::String(text.to_string()));
                }
            }
            _ => {
                custom.insert(name.to_string(), custom_json(value));
            }
        }
    }
    body.insert("custom_fields".into(), Value::Object(custom));
    Ok(AffiliateWrite { body, parent: partner.parent.clone(), email })
}

/// Whether `current` (an affiliate as Scaleo gives it) already holds every
/// field of `body`.
pub(crate) fn holds(current: &Value, body: &Map<String, Value>) -> bool {
    body.iter().all(|(name, wanted)| {
        let held = current.get(name).unwrap_or(&Value::Null);
        match name.as_str() {
            "email" => {
                held.as_str().zip(wanted.as_str()).is_some_and(|(held, wanted)| held.eq_ignore_ascii_case(wanted))
            }
            "payment_details" | "contacts" => json_text(held) == json_text(wanted),
            "referral_commission" => {
                let number = |value: &Value| values::decimal(Some(value), name).ok().flatten();
                number(held) == number(wanted)
            }
            "status" | "referred_by" | "country" => values::id(Some(held)) == values::id(Some(wanted)),
            "custom_fields" => {
                held.as_object().map_or(Map::new(), Clone::clone) == wanted.as_object().map_or(Map::new(), Clone::clone)
            }
            _ => held == wanted,
        }
    })
}

/// JSON held in a string, parsed, for comparing by content.
fn json_text(value: &Value) -> Option<Value> {
    match value {
        Value::String(text) => serde_json::from_str(text).ok(),
        Value::Null => None,
        other => Some(other.clone()),
    }
}

/// The referral commission rate of an affiliate, in percent.
pub(crate) fn referral_rate(item: &Value) -> Decimal {
    values::decimal(field(item, "referral_commission"), "referral_commission").ok().flatten().unwrap_or_default()
}
