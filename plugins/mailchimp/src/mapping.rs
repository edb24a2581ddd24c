//! Mailchimp objects ↔ canonical records.
//!
//! Consent is the part that must not go wrong. Read, a member's `status`
//! becomes the email consent of its [`Membership`]:
//!
//! | Mailchimp | canonical | provenance (`changed_at`, `ip`) |
//! | --- | --- | --- |
//! | `subscribed` | `subscribed` | `timestamp_opt`, `ip_opt` |
//! | `pending` | `pending` | `timestamp_signup`, `ip_signup` |
//! | `transactional` | `non_subscribed` | `last_changed` |
//! | `unsubscribed` | `unsubscribed` | `last_changed` |
//! | `cleaned` | `cleaned` | `last_changed` |
//! | `archived` | `non_subscribed` | `last_changed` |
//!
//! `source` is the member's `source` (how they were added). An archived
//! member's earlier status is not in the API, so it carries no consent; the
//! raw status always travels in the `mailchimp_status` custom field.
//!
//! Written, the canonical status picks the Mailchimp status:
//!
//! | canonical | Mailchimp |
//! | --- | --- |
//! | `subscribed` | `subscribed` |
//! | `pending` | `pending` (Mailchimp sends the confirmation) |
//! | `non_subscribed`, no email consent | `transactional` |
//! | `unsubscribed`, `suppressed` | `unsubscribed` |
//! | `cleaned`, `bounced` | `cleaned` |
//!
//! A new member gets that status; an existing member only when it is
//! `unsubscribed` or `cleaned`, so a write never makes an unsubscribed or
//! cleaned member subscribed (it sends `status_if_new`, not `status`).
//! Opt-in evidence travels: `joined_at` as `timestamp_signup`, and for a
//! subscription the consent's `changed_at` and `ip` as `timestamp_opt` and
//! `ip_opt`.
//!
//! Merge fields become custom fields named by their tag,
//! typed from the merge field's type (`number` → integer or decimal, `date`
//! → date, `address` → one field per part, `ADDRESS.city`); GDPR marketing
//! permissions become `marketing_permission.<text>` booleans.

use crate::client::{
    ApiAction, ApiCampaign, ApiEmailActivity, ApiList, ApiMember, ApiUnsubscribe, MergeFieldDefinition,
};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use cutover_sdk::schema::{
    Campaign, CampaignStatus, CompactString, Consent, ConsentState, ConsentStatus, Contact, CustomValue,
    EngagementEvent, EngagementKind, Entity, EntityKind, List, Membership, Record, Reference, normalize,
};
use cutover_sdk::{RejectReason, SourceReject};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::str::FromStr;

/// The platform name records carry.
pub(crate) const PLATFORM: &str = "mailchimp";

/// Custom field holding a member's raw Mailchimp status.
pub(crate) const STATUS_FIELD: &str = "mailchimp_status";
/// Prefix of the custom fields holding GDPR marketing permissions.
pub(crate) const PERMISSION_PREFIX: &str = "marketing_permission.";

/// A Mailchimp member status, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemberStatus {
    Subscribed,
    Unsubscribed,
    Cleaned,
    Pending,
    Transactional,
    Archived,
}

impl MemberStatus {
    pub(crate) fn parse(name: &str) -> Option<MemberStatus> {
        Some(match name {
            "subscribed" => MemberStatus::Subscribed,
            "unsubscribed" => MemberStatus::Unsubscribed,
            "cleaned" => MemberStatus::Cleaned,
            "pending" => MemberStatus::Pending,
            "transactional" => MemberStatus::Transactional,
            "archived" => MemberStatus::Archived,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Subscribed => "subscribed",
            MemberStatus::Unsubscribed => "unsubscribed",
            MemberStatus::Cleaned => "cleaned",
            MemberStatus::Pending => "pending",
            MemberStatus::Transactional => "transactional",
            MemberStatus::Archived => "archived",
        }
    }

    /// The canonical consent status. Archived members' consent before
    /// archiving is not in the API: they are known, never opted in as far as
    /// the record can prove.
    pub(crate) fn consent(self) -> ConsentStatus {
        match self {
            MemberStatus::Subscribed => ConsentStatus::Subscribed,
            MemberStatus::Unsubscribed => ConsentStatus::Unsubscribed,
            MemberStatus::Cleaned => ConsentStatus::Cleaned,
            MemberStatus::Pending => ConsentStatus::Pending,
            MemberStatus::Transactional | MemberStatus::Archived => ConsentStatus::NonSubscribed,
        }
    }
}

/// The Mailchimp status a canonical email consent is written as. No consent
/// on record is `transactional`: a known contact without marketing consent.
/// Bounced becomes `cleaned`, a suppression (complaint, block list)
/// `unsubscribed`: Mailchimp has no closer status that stops marketing.
pub(crate) fn write_status(consent: Option<ConsentStatus>) -> MemberStatus {
    match consent {
        Some(ConsentStatus::Subscribed) => MemberStatus::Subscribed,
        Some(ConsentStatus::Pending) => MemberStatus::Pending,
        Some(ConsentStatus::NonSubscribed) | None => MemberStatus::Transactional,
        Some(ConsentStatus::Unsubscribed | ConsentStatus::Suppressed) => MemberStatus::Unsubscribed,
        Some(ConsentStatus::Bounced | ConsentStatus::Cleaned) => MemberStatus::Cleaned,
    }
}

/// A Mailchimp timestamp (`2015-10-21T15:41:36+00:00`); empty is none.
pub(crate) fn instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    DateTime::parse_from_rfc3339(text)
        .map(|moment| moment.with_timezone(&Utc))
        .ok()
        .or_else(|| normalize::timestamp(text, chrono::FixedOffset::east_opt(0)?).ok())
}

/// Mailchimp's timestamp form.
pub(crate) fn mailchimp_time(moment: &DateTime<Utc>) -> String {
    moment.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

fn text(value: &str) -> Option<CompactString> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.into())
}

fn ip(value: &str) -> Option<IpAddr> {
    IpAddr::from_str(value.trim()).ok()
}

/// The merge fields of an audience by tag, for typing values.
pub(crate) type MergeTypes = BTreeMap<String, String>;

pub(crate) fn merge_types(definitions: &[MergeFieldDefinition]) -> MergeTypes {
    definitions.iter().map(|field| (field.tag.clone(), field.kind.clone())).collect()
}

/// A merge field value as a typed custom value; `None` for an empty one.
pub(crate) fn merge_value(kind: Option<&str>, value: &Value) -> Option<CustomValue> {
    let as_text = match value {
        Value::Null => return None,
        Value::String(text) if text.trim().is_empty() => return None,
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => return Some(CustomValue::Boolean(*flag)),
        Value::Array(_) | Value::Object(_) => return Some(CustomValue::Text(value.to_string().into())),
    };
    let typed = match kind {
        Some("number") => match as_text.trim().parse::<i64>() {
            Ok(integer) => Some(CustomValue::Integer(integer)),
            Err(_) => Decimal::from_str(as_text.trim()).ok().map(CustomValue::Decimal),
        },
        Some("date") => NaiveDate::parse_from_str(as_text.trim(), "%Y-%m-%d")
            .ok()
            .or_else(|| normalize::date(as_text.trim()).ok())
            .map(CustomValue::Date),
        _ => None,
    };
    // A value that does not fit its declared type is kept as given.
    Some(typed.unwrap_or_else(|| CustomValue::Text(as_text.into())))
}

/// Every merge field of a member as custom fields (an address as one field
/// per part), except the tags in `skip`.
fn merge_custom_fields(
    member: &ApiMember,
    types: &MergeTypes,
    skip: &[&str],
    custom_fields: &mut BTreeMap<CompactString, CustomValue>,
) {
    for (tag, value) in &member.merge_fields {
        if skip.contains(&tag.as_str()) {
            continue;
        }
        match value {
            Value::Object(parts) => {
                for (part, part_value) in parts {
                    if let Some(typed) = merge_value(None, part_value) {
                        custom_fields.insert(format!("{tag}.{part}").into(), typed);
                    }
                }
            }
            _ => {
                if let Some(typed) = merge_value(types.get(tag).map(String::as_str), value) {
                    custom_fields.insert(tag.as_str().into(), typed);
                }
            }
        }
    }
}

/// Where a member is, for reject locations.
pub(crate) fn member_location(list_id: &str, member: &ApiMember) -> String {
    format!("lists/{list_id}/members/{}", member.id)
}

fn member_reject(list_id: &str, member: &ApiMember, raw: &Value, reason: RejectReason) -> SourceReject {
    SourceReject { location: member_location(list_id, member), raw: raw.to_string(), reason }
}

/// Checks what every member record needs: a known status, a valid address.
fn check_member(list_id: &str, member: &ApiMember, raw: &Value) -> Result<MemberStatus, Box<SourceReject>> {
    let status = MemberStatus::parse(&member.status).ok_or_else(|| {
        Box::new(member_reject(
            list_id,
            member,
            raw,
            RejectReason::new("unmappable_value", format!("unknown member status `{}`", member.status)),
        ))
    })?;
    if let Err(invalid) = normalize::email(&member.email_address) {
        return Err(Box::new(member_reject(
            list_id,
            member,
            raw,
            RejectReason::new(invalid.reason().as_str(), invalid.message().to_owned()),
        )));
    }
    Ok(status)
}

/// A member as a [`Membership`] record: source id `<list id>:<subscriber
/// hash>` (one person is a member of several audiences), the person as a
/// reference to the `contacts` record (the subscriber hash), consent with
/// provenance, tags, and every merge field as a custom field.
pub(crate) fn membership(
    list_id: &str,
    member: &ApiMember,
    raw: &Value,
    types: &MergeTypes,
) -> Result<Record, Box<SourceReject>> {
    let status = check_member(list_id, member, raw)?;
    let last_changed = instant(&member.last_changed);
    let signed_up = instant(&member.timestamp_signup);
    let opted_in = instant(&member.timestamp_opt);
    let (changed_at, consent_ip) = match status {
        MemberStatus::Subscribed => (opted_in.or(last_changed), ip(&member.ip_opt).or_else(|| ip(&member.ip_signup))),
        MemberStatus::Pending => (signed_up.or(last_changed), ip(&member.ip_signup)),
        _ => (last_changed, None),
    };
    let email_consent = ConsentState {
        status: status.consent(),
        source: text(&member.source),
        method: None,
        changed_at,
        ip: consent_ip,
    };
    let sms_consent = sms_status(&member.sms_subscription_status).map(|status| ConsentState {
        changed_at: instant(&member.sms_subscription_last_updated),
        ..ConsentState::new(status)
    });
    let entity = Membership {
        list: Some(Reference::new(EntityKind::List, list_id)),
        contact: Some(Reference::new(EntityKind::Contact, member.id.as_str())),
        email: Some(member.email_address.as_str().into()),
        consent: Consent { email: Some(email_consent), sms: sms_consent, ..Consent::default() },
        tags: member.tags.iter().map(|tag| CompactString::from(tag.name.as_str())).collect(),
        joined_at: signed_up.or(opted_in),
    };
    let source_id = format!("{list_id}:{}", member.id);
    let mut record =
        Record::new(PLATFORM, source_id, last_changed.unwrap_or(DateTime::UNIX_EPOCH), Entity::Membership(entity));
    let custom_fields = &mut record.custom_fields;
    custom_fields.insert(STATUS_FIELD.into(), CustomValue::Text(status.as_str().into()));
    if let Some(reason) = text(&member.unsubscribe_reason) {
        custom_fields.insert("unsubscribe_reason".into(), CustomValue::Text(reason));
    }
    if let Some(vip) = member.vip {
        custom_fields.insert("vip".into(), CustomValue::Boolean(vip));
    }
    if let Some(language) = text(&member.language) {
        custom_fields.insert("language".into(), CustomValue::Text(language));
    }
    if let Some(email_type) = text(&member.email_type) {
        custom_fields.insert("email_type".into(), CustomValue::Text(email_type));
    }
    if let Some(rating) = member.member_rating {
        custom_fields.insert("member_rating".into(), CustomValue::Integer(rating));
    }
    for permission in &member.marketing_permissions {
        custom_fields
            .insert(format!("{PERMISSION_PREFIX}{}", permission.text).into(), CustomValue::Boolean(permission.enabled));
    }
    merge_custom_fields(member, types, &[], custom_fields);
    Ok(record)
}

fn sms_status(status: &str) -> Option<ConsentStatus> {
    match status {
        "subscribed" => Some(ConsentStatus::Subscribed),
        "unsubscribed" => Some(ConsentStatus::Unsubscribed),
        "nonsubscribed" => Some(ConsentStatus::NonSubscribed),
        "pending" => Some(ConsentStatus::Pending),
        _ => None,
    }
}

/// Merge tags that become typed [`Contact`] fields.
const CONTACT_TAGS: [&str; 4] = ["FNAME", "LNAME", "PHONE", "COMPANY"];

/// A member as a [`Contact`]: source id the subscriber hash; `FNAME`,
/// `LNAME`, `PHONE`, `COMPANY` as fields, the other merge fields as custom
/// fields.
pub(crate) fn contact(
    list_id: &str,
    member: &ApiMember,
    raw: &Value,
    types: &MergeTypes,
) -> Result<Record, Box<SourceReject>> {
    check_member(list_id, member, raw)?;
    let merge_text = |tag: &str| match member.merge_fields.get(tag) {
        Some(Value::String(value)) => text(value),
        Some(Value::Number(number)) => Some(number.to_string().into()),
        _ => None,
    };
    let entity = Contact {
        email: Some(member.email_address.as_str().into()),
        first_name: merge_text("FNAME"),
        last_name: merge_text("LNAME"),
        phone: merge_text("PHONE"),
        company: merge_text("COMPANY"),
        created_at: instant(&member.timestamp_signup).or_else(|| instant(&member.timestamp_opt)),
    };
    let mut record = Record::new(
        PLATFORM,
        member.id.as_str(),
        instant(&member.last_changed).unwrap_or(DateTime::UNIX_EPOCH),
        Entity::Contact(entity),
    );
    merge_custom_fields(member, types, &CONTACT_TAGS, &mut record.custom_fields);
    Ok(record)
}

/// An audience as a [`List`] record.
pub(crate) fn list(list: &ApiList) -> Record {
    let created_at = instant(&list.date_created);
    let entity = List { name: text(&list.name), description: None, double_opt_in: list.double_optin, created_at };
    let mut record =
        Record::new(PLATFORM, list.id.as_str(), created_at.unwrap_or(DateTime::UNIX_EPOCH), Entity::List(entity));
    if let Some(reminder) = text(&list.permission_reminder) {
        record.custom_fields.insert("permission_reminder".into(), CustomValue::Text(reminder));
    }
    if let Some(enabled) = list.marketing_permissions {
        record.custom_fields.insert("marketing_permissions".into(), CustomValue::Boolean(enabled));
    }
    record
}

/// The body that creates an audience from a [`List`]: the config's
/// defaults, the record's name, double opt-in and permission reminder.
pub(crate) fn new_list_body(record: &Record, list: &List, defaults: &Map<String, Value>) -> Value {
    let mut body = defaults.clone();
    if let Some(name) = &list.name {
        body.insert("name".into(), Value::from(name.as_str()));
    }
    if let Some(double_opt_in) = list.double_opt_in {
        body.insert("double_optin".into(), Value::from(double_opt_in));
    }
    if let Some(CustomValue::Text(reminder)) = record.custom_fields.get("permission_reminder") {
        body.insert("permission_reminder".into(), Value::from(reminder.as_str()));
    }
    body.entry("email_type_option").or_insert(Value::Bool(false));
    Value::Object(body)
}

fn campaign_status(status: &str) -> Option<CampaignStatus> {
    Some(match status {
        "save" => CampaignStatus::Draft,
        "paused" => CampaignStatus::Paused,
        "schedule" => CampaignStatus::Scheduled,
        "sending" => CampaignStatus::Sending,
        "sent" => CampaignStatus::Sent,
        "canceled" | "canceling" => CampaignStatus::Canceled,
        _ => return None,
    })
}

/// A campaign as a [`Campaign`] record (metadata only, no content).
pub(crate) fn campaign(campaign: &ApiCampaign) -> Record {
    let created_at = instant(&campaign.create_time);
    let send_at = instant(&campaign.send_time);
    let settings = &campaign.settings;
    let entity = Campaign {
        name: text(&settings.title),
        subject: text(&settings.subject_line),
        from_name: text(&settings.from_name),
        from_email: text(&settings.reply_to),
        status: campaign_status(&campaign.status),
        lists: text(&campaign.recipients.list_id)
            .map(|list_id| vec![Reference::new(EntityKind::List, list_id)])
            .unwrap_or_default(),
        segments: Vec::new(),
        send_at,
        created_at,
    };
    let mut record = Record::new(
        PLATFORM,
        campaign.id.as_str(),
        send_at.or(created_at).unwrap_or(DateTime::UNIX_EPOCH),
        Entity::Campaign(entity),
    );
    if let Some(kind) = text(&campaign.kind) {
        record.custom_fields.insert("type".into(), CustomValue::Text(kind));
    }
    if let Some(sent) = campaign.emails_sent {
        record.custom_fields.insert("emails_sent".into(), CustomValue::Integer(sent));
    }
    if let Some(url) = text(&campaign.archive_url) {
        record.custom_fields.insert("archive_url".into(), CustomValue::Text(url));
    }
    record
}

fn event(
    source_id: String,
    kind: EngagementKind,
    occurred_at: Option<DateTime<Utc>>,
    campaign_id: &str,
    email_id: &str,
    list_id: &str,
    email: &str,
) -> Record {
    let entity = EngagementEvent {
        kind: Some(kind),
        occurred_at,
        campaign: Some(Reference::new(EntityKind::Campaign, campaign_id)),
        contact: text(email_id).map(|id| Reference::new(EntityKind::Contact, id)),
        list: text(list_id).map(|id| Reference::new(EntityKind::List, id)),
        email: text(email),
        url: None,
    };
    Record::new(PLATFORM, source_id, occurred_at.unwrap_or(DateTime::UNIX_EPOCH), Entity::EngagementEvent(entity))
}

/// A recipient's email-activity item as events: `sent` at the campaign's
/// send time, then each open, click and bounce in the order given. Source
/// ids are `<campaign>:<email id>:sent` and `<campaign>:<email id>:<n>`
/// (the action's place in the item).
pub(crate) fn activity_events(
    campaign_id: &str,
    sent_at: Option<DateTime<Utc>>,
    item: &ApiEmailActivity,
) -> Vec<Record> {
    let mut records = Vec::with_capacity(1 + item.activity.len());
    records.push(event(
        format!("{campaign_id}:{}:sent", item.email_id),
        EngagementKind::Sent,
        sent_at,
        campaign_id,
        &item.email_id,
        &item.list_id,
        &item.email_address,
    ));
    for (position, action) in item.activity.iter().enumerate() {
        let Some(kind) = action_kind(action) else {
            continue;
        };
        let mut record = event(
            format!("{campaign_id}:{}:{position}", item.email_id),
            kind,
            instant(&action.timestamp),
            campaign_id,
            &item.email_id,
            &item.list_id,
            &item.email_address,
        );
        if let Entity::EngagementEvent(body) = &mut record.entity {
            body.url = text(&action.url);
        }
        if let Some(bounce) = text(&action.kind) {
            record.custom_fields.insert("bounce_type".into(), CustomValue::Text(bounce));
        }
        if let Some(address) = text(&action.ip) {
            record.custom_fields.insert("ip".into(), CustomValue::Text(address));
        }
        records.push(record);
    }
    records
}

fn action_kind(action: &ApiAction) -> Option<EngagementKind> {
    match action.action.as_str() {
        "open" => Some(EngagementKind::Open),
        "click" => Some(EngagementKind::Click),
        "bounce" => Some(EngagementKind::Bounce),
        _ => None,
    }
}

/// An unsubscribe from a campaign's report as an event, source id
/// `<campaign>:<email id>:unsubscribe`.
pub(crate) fn unsubscribe_event(campaign_id: &str, item: &ApiUnsubscribe) -> Record {
    let mut record = event(
        format!("{campaign_id}:{}:unsubscribe", item.email_id),
        EngagementKind::Unsubscribe,
        instant(&item.timestamp),
        campaign_id,
        &item.email_id,
        &item.list_id,
        &item.email_address,
    );
    if let Some(reason) = text(&item.reason) {
        record.custom_fields.insert("reason".into(), CustomValue::Text(reason));
    }
    record
}

/// A member to write with the batch subscribe call, and what it would
/// change, computed from a [`Membership`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MemberWrite {
    pub(crate) email: String,
    pub(crate) hash: String,
    /// The status a new member gets.
    pub(crate) status_if_new: MemberStatus,
    /// Merge fields by tag.
    pub(crate) merge_fields: Map<String, Value>,
    pub(crate) tags: Vec<String>,
    /// Permissions by their text; ids are looked up on the target audience.
    pub(crate) permissions: BTreeMap<String, bool>,
    pub(crate) timestamp_signup: Option<DateTime<Utc>>,
    pub(crate) timestamp_opt: Option<DateTime<Utc>>,
    pub(crate) ip_opt: Option<IpAddr>,
}

/// Why a record cannot be written as a member.
pub(crate) fn member_write(record: &Record, types: &MergeTypes) -> Result<MemberWrite, RejectReason> {
    let Entity::Membership(membership) = &record.entity else {
        return Err(RejectReason::new(
            "wrong_entity",
            format!("a {} cannot be written as a Mailchimp member", record.entity.kind().as_str()),
        ));
    };
    let Some(email) = membership.email.as_deref() else {
        return Err(RejectReason::new("missing_email", "a membership without an email address cannot be written"));
    };
    let normalized = normalize::email(email)
        .map_err(|invalid| RejectReason::new(invalid.reason().as_str(), invalid.message().to_owned()))?;
    let consent = membership.consent.email.as_ref();
    let status_if_new = write_status(consent.map(|state| state.status));
    let mut merge_fields = Map::new();
    for (name, value) in &record.custom_fields {
        let (tag, part) = match name.split_once('.') {
            Some((tag, part)) => (tag, Some(part)),
            None => (name.as_str(), None),
        };
        if !types.contains_key(tag) {
            continue;
        }
        let Some(json_value) = merge_json(value) else {
            continue;
        };
        match part {
            Some(part) => {
                let entry = merge_fields.entry(tag.to_owned()).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(parts) = entry {
                    parts.insert(part.to_owned(), json_value);
                }
            }
            None => {
                merge_fields.insert(tag.to_owned(), json_value);
            }
        }
    }
    let permissions = record
        .custom_fields
        .iter()
        .filter_map(|(name, value)| match (name.strip_prefix(PERMISSION_PREFIX), value) {
            (Some(text), CustomValue::Boolean(enabled)) => Some((text.to_owned(), *enabled)),
            _ => None,
        })
        .collect();
    let subscribed = status_if_new == MemberStatus::Subscribed;
    Ok(MemberWrite {
        email: normalized.address.trim().to_owned(),
        hash: crate::client::subscriber_hash(&normalized.address),
        status_if_new,
        merge_fields,
        tags: membership.tags.iter().map(ToString::to_string).collect(),
        permissions,
        timestamp_signup: membership.joined_at,
        timestamp_opt: consent.filter(|_| subscribed).and_then(|state| state.changed_at),
        ip_opt: consent.filter(|_| subscribed).and_then(|state| state.ip),
    })
}

/// A custom value as a merge field value.
fn merge_json(value: &CustomValue) -> Option<Value> {
    Some(match value {
        CustomValue::Text(text) => Value::from(text.as_str()),
        CustomValue::Integer(integer) => Value::from(*integer),
        CustomValue::Decimal(decimal) => Value::from(decimal.to_string()),
        CustomValue::Boolean(flag) => Value::from(flag.to_string()),
        CustomValue::Date(date) => Value::from(date.format("%Y-%m-%d").to_string()),
        CustomValue::DateTime(moment) => Value::from(mailchimp_time(moment)),
        CustomValue::List(_) => return None,
    })
}

/// A member as the target audience holds it: what a write is compared with.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Existing {
    pub(crate) status: Option<MemberStatus>,
    pub(crate) merge_fields: Map<String, Value>,
    pub(crate) tags: Vec<String>,
    /// Text → (id, enabled).
    pub(crate) permissions: BTreeMap<String, (String, bool)>,
    pub(crate) timestamp_signup: Option<DateTime<Utc>>,
    pub(crate) timestamp_opt: Option<DateTime<Utc>>,
    pub(crate) ip_opt: Option<IpAddr>,
}

impl Existing {
    pub(crate) fn of(member: &ApiMember) -> Existing {
        Existing {
            status: MemberStatus::parse(&member.status),
            merge_fields: member.merge_fields.clone(),
            tags: member.tags.iter().map(|tag| tag.name.clone()).collect(),
            permissions: member
                .marketing_permissions
                .iter()
                .map(|permission| {
                    (permission.text.clone(), (permission.marketing_permission_id.clone(), permission.enabled))
                })
                .collect(),
            timestamp_signup: instant(&member.timestamp_signup),
            timestamp_opt: instant(&member.timestamp_opt),
            ip_opt: ip(&member.ip_opt),
        }
    }
}

/// The status to send as `status`, which also changes an existing member,
/// or `None` to send only `status_if_new`.
///
/// The consent rule: an existing member only ever moves towards a
/// suppression (unsubscribed, cleaned). A subscription, a pending opt-in or
/// a transactional status is given to new members only, so an unsubscribed
/// or cleaned member is never made subscribed (Mailchimp would also refuse
/// it: "Member In Compliance State").
pub(crate) fn forced_status(write: &MemberWrite, existing: Option<&Existing>) -> Option<MemberStatus> {
    let suppression = matches!(write.status_if_new, MemberStatus::Unsubscribed | MemberStatus::Cleaned);
    match existing {
        None => Some(write.status_if_new),
        Some(_) if suppression => Some(write.status_if_new),
        Some(_) => None,
    }
}

/// Two merge values the same once written (Mailchimp gives numbers back as
/// numbers or strings, and empty parts of an address as "").
fn same_merge_value(wanted: &Value, stored: Option<&Value>) -> bool {
    let as_text = |value: &Value| match value {
        Value::String(text) => text.trim().to_owned(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    match (wanted, stored) {
        (Value::Object(parts), Some(Value::Object(stored_parts))) => {
            parts.iter().all(|(part, value)| same_merge_value(value, stored_parts.get(part)))
        }
        (Value::Object(parts), _) => parts.values().all(|value| as_text(value).is_empty()),
        (wanted, Some(stored)) => as_text(wanted) == as_text(stored),
        (wanted, None) => as_text(wanted).is_empty(),
    }
}

/// Whether writing `write` over `existing` would change anything.
pub(crate) fn changes(write: &MemberWrite, existing: &Existing) -> bool {
    // An archived member is written back onto the audience.
    if existing.status == Some(MemberStatus::Archived) {
        return true;
    }
    if let Some(status) = forced_status(write, Some(existing))
        && existing.status != Some(status)
    {
        return true;
    }
    if write.merge_fields.iter().any(|(tag, value)| !same_merge_value(value, existing.merge_fields.get(tag))) {
        return true;
    }
    if write.tags.iter().any(|tag| !existing.tags.contains(tag)) {
        return true;
    }
    let permission_changes = write
        .permissions
        .iter()
        .any(|(text, enabled)| existing.permissions.get(text).is_some_and(|(_, stored)| stored != enabled));
    // Mailchimp keeps whole seconds.
    let differs = |wanted: Option<DateTime<Utc>>, stored: Option<DateTime<Utc>>| {
        wanted.is_some_and(|wanted| Some(wanted.trunc_subsecs(0)) != stored.map(|stored| stored.trunc_subsecs(0)))
    };
    permission_changes
        || differs(write.timestamp_signup, existing.timestamp_signup)
        || differs(write.timestamp_opt, existing.timestamp_opt)
        || write.ip_opt.is_some_and(|address| Some(address) != existing.ip_opt)
}

/// The batch item for `write`: `status_if_new` always, `status` only as
/// [`forced_status`] allows, permissions by the target audience's ids.
pub(crate) fn batch_item(
    write: &MemberWrite,
    existing: Option<&Existing>,
    permission_ids: &BTreeMap<String, String>,
) -> Value {
    let mut item = json!({
        "email_address": write.email,
        "status_if_new": write.status_if_new.as_str(),
    });
    let Value::Object(fields) = &mut item else {
        return item;
    };
    if let Some(status) = forced_status(write, existing) {
        fields.insert("status".into(), Value::from(status.as_str()));
    }
    if !write.merge_fields.is_empty() {
        fields.insert("merge_fields".into(), Value::Object(write.merge_fields.clone()));
    }
    if !write.tags.is_empty() {
        fields.insert("tags".into(), Value::from(write.tags.clone()));
    }
    let permissions: Vec<Value> = write
        .permissions
        .iter()
        .filter_map(|(text, enabled)| {
            permission_ids.get(text).map(|id| json!({"marketing_permission_id": id, "enabled": enabled}))
        })
        .collect();
    if !permissions.is_empty() {
        fields.insert("marketing_permissions".into(), Value::from(permissions));
    }
    if let Some(moment) = write.timestamp_signup {
        fields.insert("timestamp_signup".into(), Value::from(mailchimp_time(&moment)));
    }
    if let Some(moment) = write.timestamp_opt {
        fields.insert("timestamp_opt".into(), Value::from(mailchimp_time(&moment)));
    }
    if let Some(address) = write.ip_opt {
        fields.insert("ip_opt".into(), Value::from(address.to_string()));
    }
    item
}

#[cfg(test)]
mod tests;
