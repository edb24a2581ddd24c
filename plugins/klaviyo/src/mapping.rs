//! Klaviyo resources (JSON:API objects) ↔ canonical records, both ways, with
//! no I/O: every function here takes JSON or a record and returns the other.
//!
//! Profiles: `email`, `phone_number`, `first_name`, `last_name`,
//! `organization` and `created` are [`Contact`] fields; the other standard
//! attributes become custom fields named after them (`external_id`,
//! `locale`, `title`, `image`, `location.<key>`), and each custom property
//! becomes a typed custom field of its own name (`properties.<key>` when
//! the name is one of those reserved ones), so nothing is dropped.
//!
//! Consent (`subscriptions.email.marketing`): a global suppression wins over
//! the consent value, the strongest first: `HARD_BOUNCE` → bounced,
//! `INVALID_EMAIL` → cleaned, `SPAM_COMPLAINT` and `USER_SUPPRESSED` →
//! suppressed, `UNSUBSCRIBE` → unsubscribed; then a suppression on the list
//! read; then `SUBSCRIBED` → subscribed, `UNSUBSCRIBED` → unsubscribed,
//! `NEVER_SUBSCRIBED` → non-subscribed.
//!
//! Klaviyo's consent is a person's, a Mailchimp-like source's a list's: who
//! is pending on list A and subscribed on list B is subscribed on Klaviyo.
//! So that the list's own status is not lost, the `subscriptions` writer
//! keeps a pending or non-subscribed status in the profile property
//! `cutover_list_status_<list id>` ([`LIST_STATUS_PREFIX`]), and reading
//! that list's member gives the kept status instead of a subscription (a
//! suppression still wins). The property is not read as a custom field.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{
    ConsentState, ConsentStatus, EngagementEvent, EngagementKind, List, Membership, Reference, format_compact,
};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::str::FromStr;

/// The `source_platform` of every record this plugin reads.
pub(crate) const PLATFORM: &str = "klaviyo";

/// Standard profile attributes with no canonical field, kept as custom
/// fields of the same name.
const EXTRA_ATTRIBUTES: [&str; 4] = ["external_id", "locale", "title", "image"];

/// The profile property, followed by a list id, that keeps a list's own
/// pending or non-subscribed status where the person is subscribed.
pub(crate) const LIST_STATUS_PREFIX: &str = "cutover_list_status_";

/// The name of the property keeping `list_id`'s own status.
pub(crate) fn list_status_property(list_id: &str) -> String {
    format!("{LIST_STATUS_PREFIX}{list_id}")
}

/// The value the property keeps for `status`, for the statuses a list keeps
/// for itself (weaker than a subscription, not a suppression).
pub(crate) fn list_status_value(status: ConsentStatus) -> Option<&'static str> {
    match status {
        ConsentStatus::Pending => Some("pending"),
        ConsentStatus::NonSubscribed => Some("non_subscribed"),
        _ => None,
    }
}

/// The status a profile keeps for `list_id` in its property, if any.
fn kept_list_status(profile: &Value, list_id: &str) -> Option<ConsentStatus> {
    let kept = profile.pointer("/attributes/properties")?.get(list_status_property(list_id))?.as_str()?;
    match kept {
        "pending" => Some(ConsentStatus::Pending),
        "non_subscribed" => Some(ConsentStatus::NonSubscribed),
        _ => None,
    }
}

/// The custom field holding an event's metric name.
pub(crate) const METRIC_FIELD: &str = "metric";
/// The event property that carries a written event's `unique_id`, so a
/// later write can tell which events Klaviyo already holds: `GET
/// /api/events` returns `event_properties` but not `unique_id`.
pub(crate) const EVENT_ID_FIELD: &str = "cutover_id";

/// Klaviyo's own metrics for the canonical engagement kinds.
const METRICS: [(EngagementKind, &str); 6] = [
    (EngagementKind::Sent, "Received Email"),
    (EngagementKind::Open, "Opened Email"),
    (EngagementKind::Click, "Clicked Email"),
    (EngagementKind::Bounce, "Bounced Email"),
    (EngagementKind::Unsubscribe, "Unsubscribed"),
    (EngagementKind::Complaint, "Marked Email as Spam"),
];

/// Global suppression reasons, strongest first, with what they mean.
const SUPPRESSIONS: [(&str, ConsentStatus); 5] = [
    ("HARD_BOUNCE", ConsentStatus::Bounced),
    ("INVALID_EMAIL", ConsentStatus::Cleaned),
    ("SPAM_COMPLAINT", ConsentStatus::Suppressed),
    ("USER_SUPPRESSED", ConsentStatus::Suppressed),
    ("UNSUBSCRIBE", ConsentStatus::Unsubscribed),
];

fn reject(code: &str, message: impl Into<String>) -> RejectReason {
    RejectReason::new(code, message)
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str).map(str::trim).filter(|text| !text.is_empty())
}

/// Klaviyo's datetimes (`2023-08-15T12:30:00+00:00`) in UTC.
pub(crate) fn instant(value: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    text(value, pointer).and_then(|text| DateTime::parse_from_rfc3339(text).ok()).map(|moment| moment.to_utc())
}

/// An instant as Klaviyo reads it: RFC 3339 in UTC, to the second or finer.
pub(crate) fn render_instant(moment: &DateTime<Utc>) -> String {
    moment.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn resource_id(resource: &Value) -> Result<&str, RejectReason> {
    text(resource, "/id").ok_or_else(|| reject("malformed_resource", "the resource has no `id`"))
}

fn updated_at(resource: &Value, pointer: &str) -> DateTime<Utc> {
    instant(resource, pointer).unwrap_or(DateTime::UNIX_EPOCH)
}

/// A property value as a typed custom value; `None` for `null`, which is no
/// value. Objects are kept as their JSON text.
pub(crate) fn custom_value(value: &Value) -> Option<CustomValue> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(flag) => CustomValue::Boolean(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(integer) => CustomValue::Integer(integer),
            None => match Decimal::from_str(&number.to_string())
                .or_else(|_| Decimal::from_scientific(&number.to_string()))
            {
                Ok(decimal) => CustomValue::Decimal(decimal),
                Err(_) => CustomValue::Text(number.to_string().into()),
            },
        },
        Value::String(text) => {
            if let Ok(moment) = DateTime::parse_from_rfc3339(text) {
                CustomValue::DateTime(moment.to_utc())
            } else if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
                && text.len() == 10
            {
                CustomValue::Date(day)
            } else {
                CustomValue::Text(text.as_str().into())
            }
        }
        Value::Array(items) => CustomValue::List(items.iter().filter_map(custom_value).collect()),
        Value::Object(_) => CustomValue::Text(value.to_string().into()),
    })
}

/// A typed custom value as a Klaviyo property value. A decimal that a JSON
/// number cannot hold exactly is written as text; text that is a JSON
/// object (an object property read from Klaviyo) is written as that object.
pub(crate) fn property_value(value: &CustomValue) -> Value {
    match value {
        CustomValue::Text(text) if text.starts_with('{') => match serde_json::from_str::<Value>(text) {
            Ok(object @ Value::Object(_)) => object,
            _ => Value::from(text.as_str()),
        },
        CustomValue::Text(text) => Value::from(text.as_str()),
        CustomValue::Integer(integer) => Value::from(*integer),
        CustomValue::Decimal(decimal) => {
            let text = decimal.normalize().to_string();
            match text.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                Some(number) if Decimal::from_str(&number.to_string()).ok() == Some(decimal.normalize()) => {
                    Value::Number(number)
                }
                _ => Value::from(text),
            }
        }
        CustomValue::Boolean(flag) => Value::from(*flag),
        CustomValue::Date(day) => Value::from(day.format("%Y-%m-%d").to_string()),
        CustomValue::DateTime(moment) => Value::from(render_instant(moment)),
        CustomValue::List(items) => Value::Array(items.iter().map(property_value).collect()),
    }
}

/// Whether a custom field name is one this plugin maps to a standard attribute.
fn is_reserved(name: &str) -> bool {
    EXTRA_ATTRIBUTES.contains(&name) || name.starts_with("location.") || name.starts_with("properties.")
}

/// A profile resource as a contact record.
pub(crate) fn profile_record(resource: &Value) -> Result<Record, RejectReason> {
    let id = resource_id(resource)?;
    let contact = Contact {
        email: text(resource, "/attributes/email").map(Into::into),
        first_name: text(resource, "/attributes/first_name").map(Into::into),
        last_name: text(resource, "/attributes/last_name").map(Into::into),
        phone: text(resource, "/attributes/phone_number").map(Into::into),
        company: text(resource, "/attributes/organization").map(Into::into),
        created_at: instant(resource, "/attributes/created"),
    };
    let mut record = Record::new(PLATFORM, id, updated_at(resource, "/attributes/updated"), Entity::Contact(contact));
    let fields = &mut record.custom_fields;
    for name in EXTRA_ATTRIBUTES {
        if let Some(value) = resource.pointer(&format!("/attributes/{name}")).and_then(custom_value) {
            fields.insert(name.into(), value);
        }
    }
    if let Some(location) = resource.pointer("/attributes/location").and_then(Value::as_object) {
        for (key, value) in location {
            // Coordinates are numbers; the rest is text even when it looks like a date.
            let typed = match value {
                Value::String(text) if !text.trim().is_empty() => Some(CustomValue::Text(text.as_str().into())),
                Value::String(_) => None,
                other => custom_value(other),
            };
            if let Some(typed) = typed {
                fields.insert(format_compact!("location.{key}"), typed);
            }
        }
    }
    if let Some(properties) = resource.pointer("/attributes/properties").and_then(Value::as_object) {
        for (key, value) in properties.iter().filter(|(key, _)| !key.starts_with(LIST_STATUS_PREFIX)) {
            if let Some(typed) = custom_value(value) {
                let name = if is_reserved(key) { format_compact!("properties.{key}") } else { key.as_str().into() };
                fields.insert(name, typed);
            }
        }
    }
    Ok(record)
}

/// The `attributes` of a profile upsert for a contact record: what the
/// record says, and nothing else (an attribute it does not give is kept).
pub(crate) fn profile_attributes(record: &Record) -> Result<Map<String, Value>, RejectReason> {
    let Entity::Contact(contact) = &record.entity else {
        return Err(wrong_entity(record, EntityKind::Contact));
    };
    let mut attributes = Map::new();
    if let Some(email) = contact.email.as_deref().map(str::trim).filter(|email| !email.is_empty()) {
        attributes.insert("email".into(), Value::from(email));
    }
    let mut unreadable_phone = None;
    if let Some(phone) = contact.phone.as_deref().map(str::trim).filter(|phone| !phone.is_empty()) {
        match cutover_sdk::schema::normalize::phone(phone, None) {
            Ok(e164) => {
                attributes.insert("phone_number".into(), Value::from(e164.as_str()));
            }
            Err(invalid) => unreadable_phone = Some((phone, invalid)),
        }
    }
    for (field, attribute) in
        [(&contact.first_name, "first_name"), (&contact.last_name, "last_name"), (&contact.company, "organization")]
    {
        if let Some(value) = field {
            attributes.insert(attribute.into(), Value::from(value.as_str()));
        }
    }
    let mut location = Map::new();
    let mut properties = Map::new();
    for (name, value) in &record.custom_fields {
        if EXTRA_ATTRIBUTES.contains(&name.as_str()) {
            attributes.insert(name.as_str().into(), Value::from(plain_text(value)));
        } else if let Some(key) = name.strip_prefix("location.") {
            let value = match (key, value) {
                ("latitude" | "longitude", CustomValue::Decimal(_) | CustomValue::Integer(_)) => property_value(value),
                _ => Value::from(plain_text(value)),
            };
            location.insert(key.into(), value);
        } else {
            let key = name.strip_prefix("properties.").unwrap_or(name);
            properties.insert(key.into(), property_value(value));
        }
    }
    if let Some((phone, invalid)) = unreadable_phone {
        if !["email", "external_id"].iter().any(|key| attributes.contains_key(*key)) {
            return Err(reject(invalid.reason().as_str(), invalid.message()));
        }
        // Klaviyo refuses a number it cannot read as E.164. The profile is
        // still written, found by its email, with the number kept as given.
        properties.insert("phone_as_given".into(), Value::from(phone));
    }
    if !["email", "phone_number", "external_id"].iter().any(|key| attributes.contains_key(*key)) {
        return Err(reject(
            "no_identifier",
            "klaviyo needs an email, a phone number or an `external_id` custom field to find or create a profile",
        ));
    }
    if !location.is_empty() {
        attributes.insert("location".into(), Value::Object(location));
    }
    if !properties.is_empty() {
        attributes.insert("properties".into(), Value::Object(properties));
    }
    Ok(attributes)
}

/// A custom value where Klaviyo expects text.
fn plain_text(value: &CustomValue) -> String {
    match property_value(value) {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

/// Whether a profile already holds every attribute of an upsert, so that
/// writing it would change nothing. Emails compare without case.
pub(crate) fn profile_holds(existing: &Value, wanted: &Map<String, Value>) -> bool {
    let Some(attributes) = existing.get("attributes") else {
        return false;
    };
    wanted.iter().all(|(name, value)| {
        let current = attributes.get(name).unwrap_or(&Value::Null);
        match (name.as_str(), value, current) {
            ("email", Value::String(wanted), Value::String(current)) => wanted.eq_ignore_ascii_case(current.trim()),
            ("location" | "properties", Value::Object(wanted), Value::Object(current)) => {
                wanted.iter().all(|(key, value)| same_value(current.get(key), value))
            }
            _ => same_value(Some(current), value),
        }
    })
}

/// JSON equality that takes `1.0` and `1` for the same number, and two
/// writings of the same instant (`…+00:00`, `…Z`) for the same text.
fn same_value(current: Option<&Value>, wanted: &Value) -> bool {
    match (current, wanted) {
        (Some(Value::Number(current)), Value::Number(wanted)) => current.as_f64() == wanted.as_f64(),
        (Some(Value::String(current)), Value::String(wanted)) if current != wanted => {
            match (DateTime::parse_from_rfc3339(current), DateTime::parse_from_rfc3339(wanted)) {
                (Ok(current), Ok(wanted)) => current == wanted,
                _ => false,
            }
        }
        (Some(Value::Array(current)), Value::Array(wanted)) => {
            current.len() == wanted.len()
                && current.iter().zip(wanted).all(|(current, wanted)| same_value(Some(current), wanted))
        }
        (Some(current), wanted) => current == wanted,
        (None, wanted) => wanted.is_null(),
    }
}

/// A list resource as a list record.
pub(crate) fn list_record(resource: &Value) -> Result<Record, RejectReason> {
    let id = resource_id(resource)?;
    let double_opt_in = match text(resource, "/attributes/opt_in_process") {
        Some("double_opt_in") => Some(true),
        Some("single_opt_in") => Some(false),
        _ => None,
    };
    let list = List {
        name: text(resource, "/attributes/name").map(Into::into),
        description: None,
        double_opt_in,
        created_at: instant(resource, "/attributes/created"),
    };
    Ok(Record::new(PLATFORM, id, updated_at(resource, "/attributes/updated"), Entity::List(list)))
}

/// The list a record describes: its name and its opt-in process.
pub(crate) fn list_attributes(record: &Record) -> Result<(String, Option<&'static str>), RejectReason> {
    let Entity::List(list) = &record.entity else {
        return Err(wrong_entity(record, EntityKind::List));
    };
    let name = list
        .name
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| reject("no_name", "a klaviyo list needs a name"))?;
    let opt_in = list.double_opt_in.map(|double| if double { "double_opt_in" } else { "single_opt_in" });
    Ok((name.to_owned(), opt_in))
}

/// The email marketing consent of a profile resource read with
/// `additional-fields[profile]=subscriptions`, on list `list_id` when the
/// read is of a list's members. `None` when the profile carries no consent
/// block (it was read without the additional field).
pub(crate) fn email_consent(profile: &Value, list_id: Option<&str>) -> Result<Option<ConsentState>, RejectReason> {
    let Some(marketing) = profile.pointer("/attributes/subscriptions/email/marketing") else {
        return Ok(None);
    };
    let method = text(marketing, "/method");
    let detail = text(marketing, "/method_detail").or_else(|| text(marketing, "/custom_method_detail"));
    let source = match (method, detail) {
        (Some(method), Some(detail)) => Some(format_compact!("{method}: {detail}")),
        (Some(method), None) => Some(method.into()),
        (None, detail) => detail.map(Into::into),
    };
    let suppressions: Vec<&Value> =
        marketing.get("suppression").and_then(Value::as_array).map(|items| items.iter().collect()).unwrap_or_default();
    for (reason, status) in SUPPRESSIONS {
        if let Some(item) = suppressions.iter().find(|item| text(item, "/reason") == Some(reason)) {
            return Ok(Some(ConsentState {
                status,
                source,
                method: Some(reason.into()),
                changed_at: instant(item, "/timestamp"),
                ip: None,
            }));
        }
    }
    if let Some(reason) = suppressions.iter().find_map(|item| text(item, "/reason")) {
        // A reason newer than this plugin: it is still a suppression.
        return Ok(Some(ConsentState {
            status: ConsentStatus::Suppressed,
            source,
            method: Some(reason.into()),
            changed_at: None,
            ip: None,
        }));
    }
    if let Some(list_id) = list_id
        && let Some(item) = marketing
            .get("list_suppressions")
            .and_then(Value::as_array)
            .and_then(|items| items.iter().find(|item| text(item, "/list_id") == Some(list_id)))
    {
        let reason = text(item, "/reason").unwrap_or("UNSUBSCRIBE");
        let status = match reason {
            "UNSUBSCRIBE" => ConsentStatus::Unsubscribed,
            _ => ConsentStatus::Suppressed,
        };
        return Ok(Some(ConsentState {
            status,
            source,
            method: Some(format_compact!("LIST_{reason}")),
            changed_at: instant(item, "/timestamp"),
            ip: None,
        }));
    }
    let consent = text(marketing, "/consent").unwrap_or("NEVER_SUBSCRIBED");
    let status = consent_status(consent)?;
    if let Some(kept) = list_id.and_then(|list_id| kept_list_status(profile, list_id))
        && !status.is_suppression()
    {
        return Ok(Some(ConsentState {
            status: kept,
            source,
            method: Some("cutover_list_status".into()),
            changed_at: None,
            ip: None,
        }));
    }
    let opt_in = match marketing.get("double_optin").and_then(Value::as_bool) {
        Some(true) => Some("double_opt_in".into()),
        Some(false) if status == ConsentStatus::Subscribed => Some("single_opt_in".into()),
        _ => None,
    };
    Ok(Some(ConsentState {
        status,
        source,
        method: opt_in,
        changed_at: instant(marketing, "/consent_timestamp").or_else(|| instant(marketing, "/last_updated")),
        ip: None,
    }))
}

/// The SMS marketing consent of a profile resource, when it says anything:
/// a profile with no phone number that never subscribed says nothing.
pub(crate) fn sms_consent(profile: &Value) -> Result<Option<ConsentState>, RejectReason> {
    let Some(marketing) = profile.pointer("/attributes/subscriptions/sms/marketing") else {
        return Ok(None);
    };
    let consent = text(marketing, "/consent").unwrap_or("NEVER_SUBSCRIBED");
    let has_phone = text(profile, "/attributes/phone_number").is_some();
    if consent == "NEVER_SUBSCRIBED" && !has_phone {
        return Ok(None);
    }
    Ok(Some(ConsentState {
        status: consent_status(consent)?,
        source: text(marketing, "/method").map(Into::into),
        method: None,
        changed_at: instant(marketing, "/consent_timestamp").or_else(|| instant(marketing, "/last_updated")),
        ip: None,
    }))
}

fn consent_status(consent: &str) -> Result<ConsentStatus, RejectReason> {
    match consent {
        "SUBSCRIBED" => Ok(ConsentStatus::Subscribed),
        "UNSUBSCRIBED" => Ok(ConsentStatus::Unsubscribed),
        "NEVER_SUBSCRIBED" => Ok(ConsentStatus::NonSubscribed),
        other => Err(reject("unknown_consent", format!("klaviyo consent `{other}` is not one this plugin knows"))),
    }
}

/// The source id of a membership: list id and profile id.
pub(crate) fn membership_id(list_id: &str, profile_id: &str) -> CompactString {
    format_compact!("{list_id}:{profile_id}")
}

/// A member of list `list_id` (a profile resource read from the list's
/// members with its subscriptions) as a membership record.
pub(crate) fn membership_record(list_id: &str, profile: &Value) -> Result<Record, RejectReason> {
    let profile_id = resource_id(profile)?;
    let mut consent =
        cutover_sdk::schema::Consent { email: email_consent(profile, Some(list_id))?, ..Default::default() };
    consent.sms = sms_consent(profile)?;
    let membership = Membership {
        list: Some(Reference::new(EntityKind::List, list_id)),
        contact: Some(Reference::new(EntityKind::Contact, profile_id)),
        email: text(profile, "/attributes/email").map(Into::into),
        consent,
        tags: Vec::new(),
        joined_at: instant(profile, "/attributes/joined_group_at"),
    };
    Ok(Record::new(
        PLATFORM,
        membership_id(list_id, profile_id),
        updated_at(profile, "/attributes/updated"),
        Entity::Membership(membership),
    ))
}

/// What a membership asks of a Klaviyo profile's email consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EmailAction {
    /// Subscribe with the original consent time (a historical import).
    Subscribe,
    /// Unsubscribe (the unsubscribe job: a global unsubscribe).
    Unsubscribe,
    /// Suppress (the suppression job: `USER_SUPPRESSED`).
    Suppress,
    /// Leave consent as it is: only the list membership is written.
    Keep,
}

/// The consent write for a canonical email consent. A suppression is never
/// made a subscription, and non-subscribed, pending or unknown consent
/// changes nothing: subscribing those would lift suppressions or send
/// double opt-in confirmations during a migration.
pub(crate) fn email_action(consent: Option<&ConsentState>) -> EmailAction {
    match consent.map(|state| state.status) {
        Some(status) if status.is_suppression() => match status {
            ConsentStatus::Unsubscribed => EmailAction::Unsubscribe,
            _ => EmailAction::Suppress,
        },
        Some(ConsentStatus::Subscribed) => EmailAction::Subscribe,
        _ => EmailAction::Keep,
    }
}

/// Whether a profile's current email consent on Klaviyo already is what
/// `action` would make it.
pub(crate) fn consent_holds(current: Option<&ConsentState>, action: EmailAction) -> bool {
    let status = current.map(|state| state.status);
    match action {
        EmailAction::Keep => true,
        EmailAction::Subscribe => status == Some(ConsentStatus::Subscribed),
        EmailAction::Unsubscribe => status.is_some_and(ConsentStatus::is_suppression),
        // Klaviyo records a manual suppression as `USER_SUPPRESSED`; a bounce
        // or an invalid address is already at least as strong.
        EmailAction::Suppress => {
            matches!(status, Some(ConsentStatus::Suppressed | ConsentStatus::Bounced | ConsentStatus::Cleaned))
        }
    }
}

/// An event resource as an engagement event record; `metrics` maps metric
/// ids to names (from `include=metric`).
pub(crate) fn event_record(resource: &Value, metrics: &BTreeMap<String, String>) -> Result<Record, RejectReason> {
    let properties = resource.pointer("/attributes/event_properties").and_then(Value::as_object);
    // An event this plugin wrote reads back under the id its write answered:
    // its `unique_id`, kept in the `cutover_id` property. A bulk create job
    // gives no event id, so that is the only id a write can answer, and it
    // must find the event again.
    let written_as = properties.and_then(|properties| properties.get(EVENT_ID_FIELD)).and_then(Value::as_str);
    let id = match written_as.filter(|id| !id.is_empty()) {
        Some(unique_id) => unique_id,
        None => resource_id(resource)?,
    };
    let occurred_at = instant(resource, "/attributes/datetime").or_else(|| {
        resource
            .pointer("/attributes/timestamp")
            .and_then(Value::as_i64)
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
    });
    let metric_name = text(resource, "/relationships/metric/data/id").and_then(|metric_id| metrics.get(metric_id));
    let kind = metric_name.and_then(|name| METRICS.iter().find(|(_, metric)| metric == name).map(|(kind, _)| *kind));
    let url = properties.and_then(|properties| properties.get("URL")).and_then(Value::as_str).map(Into::into);
    let event = EngagementEvent {
        kind,
        occurred_at,
        campaign: None,
        contact: text(resource, "/relationships/profile/data/id").map(|id| Reference::new(EntityKind::Contact, id)),
        list: None,
        email: None,
        url,
    };
    let mut record =
        Record::new(PLATFORM, id, occurred_at.unwrap_or(DateTime::UNIX_EPOCH), Entity::EngagementEvent(event));
    if let Some(name) = metric_name {
        record.custom_fields.insert(METRIC_FIELD.into(), CustomValue::Text(name.as_str().into()));
    }
    for (key, value) in properties.into_iter().flatten() {
        if key == "URL" || key == METRIC_FIELD || key == EVENT_ID_FIELD {
            continue;
        }
        if let Some(typed) = custom_value(value) {
            record.custom_fields.insert(key.as_str().into(), typed);
        }
    }
    Ok(record)
}

/// The metric name an event record is written under: its `metric` custom
/// field (an event read from Klaviyo), else Klaviyo's metric for its kind.
pub(crate) fn event_metric(record: &Record) -> Result<String, RejectReason> {
    let Entity::EngagementEvent(event) = &record.entity else {
        return Err(wrong_entity(record, EntityKind::EngagementEvent));
    };
    if let Some(CustomValue::Text(name)) = record.custom_fields.get(METRIC_FIELD) {
        return Ok(name.to_string());
    }
    event
        .kind
        .and_then(|kind| METRICS.iter().find(|(known, _)| *known == kind))
        .map(|(_, name)| (*name).to_owned())
        .ok_or_else(|| {
            reject("no_metric", "the event has no kind and no `metric` custom field to name its klaviyo metric")
        })
}

/// The dedupe key Klaviyo keeps per profile and metric: the record's origin.
pub(crate) fn event_unique_id(record: &Record) -> String {
    format!("{}:{}", record.source_platform, record.source_id)
}

/// Who an event happened to: a Klaviyo profile id (a contact reference the
/// host rewrote) and/or an email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventProfile {
    /// The profile id, from the contact reference.
    pub(crate) id: Option<String>,
    /// The address, from the event's `email`.
    pub(crate) email: Option<String>,
}

/// An engagement event record as an entry of a bulk create events job
/// (`{"type": "event", "attributes": {...}}`, without its profile), and who
/// it happened to. Its `unique_id` is also the `cutover_id` property.
pub(crate) fn event_body(record: &Record) -> Result<(Value, EventProfile), RejectReason> {
    let Entity::EngagementEvent(event) = &record.entity else {
        return Err(wrong_entity(record, EntityKind::EngagementEvent));
    };
    let metric = event_metric(record)?;
    let occurred_at = event
        .occurred_at
        .ok_or_else(|| reject("no_time", "the event has no time: klaviyo would record it as happening now"))?;
    let profile = EventProfile {
        id: event.contact.as_ref().map(|contact| contact.source_id.to_string()),
        email: event.email.as_deref().map(str::trim).filter(|email| !email.is_empty()).map(str::to_owned),
    };
    if profile.id.is_none() && profile.email.is_none() {
        return Err(reject("no_profile", "the event names no contact and no email address"));
    }
    let unique_id = event_unique_id(record);
    let mut properties = Map::new();
    for (name, value) in &record.custom_fields {
        if name != METRIC_FIELD {
            properties.insert(name.to_string(), property_value(value));
        }
    }
    if let Some(url) = &event.url {
        properties.insert("URL".into(), Value::from(url.as_str()));
    }
    if let Some(campaign) = &event.campaign {
        properties.insert("campaign_id".into(), Value::from(campaign.source_id.as_str()));
    }
    if let Some(list) = &event.list {
        properties.insert("list_id".into(), Value::from(list.source_id.as_str()));
    }
    properties.insert(EVENT_ID_FIELD.into(), Value::from(unique_id.as_str()));
    // Klaviyo keeps times to the second.
    let seconds = DateTime::from_timestamp(occurred_at.timestamp(), 0).unwrap_or(occurred_at);
    let body = json!({
        "type": "event",
        "attributes": {
            "properties": properties,
            "time": render_instant(&seconds),
            "unique_id": unique_id,
            "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
        }
    });
    Ok((body, profile))
}

/// The `profile.data` of a bulk create events entry: the profile id when
/// the event names one (a contact reference), else its email, which Klaviyo
/// upserts.
pub(crate) fn event_profile_data(profile: &EventProfile) -> Value {
    match (&profile.id, &profile.email) {
        (Some(id), _) => json!({"type": "profile", "id": id}),
        (None, email) => json!({"type": "profile", "attributes": {"email": email}}),
    }
}

fn wrong_entity(record: &Record, expected: EntityKind) -> RejectReason {
    reject(
        "wrong_entity",
        format!("a {} cannot be written to a {} stream", record.entity.kind().as_str(), expected.as_str()),
    )
}

#[cfg(test)]
mod tests;
