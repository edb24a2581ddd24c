//! Member writes: POST (add), PUT (upsert) and PATCH (update) share one
//! path, so the batch subscribe endpoint applies exactly the same rules.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::errors::{FieldError, McError};
use crate::model::{Member, Status, Store, subscriber_hash};
use cutover_emulator_kit::people::is_valid_email;
use cutover_emulator_kit::seed::hex;

/// The writable member fields (`POST`/`PUT`/`PATCH` bodies and batch items).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct MemberWrite {
    pub(crate) email_address: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) status_if_new: Option<String>,
    pub(crate) email_type: Option<String>,
    pub(crate) merge_fields: Option<Map<String, Value>>,
    pub(crate) interests: Option<Map<String, Value>>,
    pub(crate) language: Option<String>,
    pub(crate) vip: Option<bool>,
    pub(crate) location: Option<Value>,
    pub(crate) marketing_permissions: Option<Vec<PermissionWrite>>,
    pub(crate) ip_signup: Option<String>,
    pub(crate) timestamp_signup: Option<String>,
    pub(crate) ip_opt: Option<String>,
    pub(crate) timestamp_opt: Option<String>,
    pub(crate) tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PermissionWrite {
    pub(crate) marketing_permission_id: String,
    pub(crate) enabled: bool,
}

/// Which verb is writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `POST …/members`: fails if the address is an active member.
    Create,
    /// `PUT …/members/{hash}`: creates or updates.
    Upsert,
    /// `PATCH …/members/{hash}`: the member must exist.
    Update,
}

/// A JSON body: unparsable JSON is `JSONParseError`, a wrong shape is
/// `Invalid Resource` naming the field.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, McError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| McError::JsonParse)?;
    serde_path_to_error::deserialize(value).map_err(|error| {
        let field = error.path().to_string();
        McError::invalid_field(&field, error.inner().to_string())
    })
}

/// The subscriber hash a path segment names: the reference accepts the
/// hash itself or the address.
pub(crate) fn path_hash(segment: &str) -> String {
    if segment.contains('@') { subscriber_hash(segment) } else { segment.to_ascii_lowercase() }
}

fn writable_status(field: &str, value: Option<&str>) -> Result<Option<Status>, McError> {
    let Some(value) = value else {
        return Ok(None);
    };
    match Status::parse(value) {
        Some(Status::Archived) | None => Err(McError::invalid_field(
            field,
            format!(
                "Data did not match any of the schemas described in anyOf: {value} is not one of subscribed, unsubscribed, cleaned, pending, transactional"
            ),
        )),
        Some(status) => Ok(Some(status)),
    }
}

fn parse_time(field: &str, value: &str) -> Result<Option<DateTime<Utc>>, McError> {
    if value.is_empty() {
        return Ok(None);
    }
    if let Ok(moment) = DateTime::parse_from_rfc3339(value) {
        return Ok(Some(moment.with_timezone(&Utc)));
    }
    if let Ok(moment) = NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S") {
        return Ok(Some(moment.and_utc()));
    }
    Err(McError::invalid_field(field, format!("{value} is not a valid date-time")))
}

/// Domains Mailchimp refuses as fake even though they are well formed.
const FAKE_DOMAINS: &[&str] = &["example.com", "example.org", "example.net", "test.com"];

/// Whether Mailchimp would call this well-formed address fake.
fn looks_fake(address: &str) -> bool {
    address.rsplit_once('@').is_some_and(|(_, domain)| FAKE_DOMAINS.contains(&domain.to_ascii_lowercase().as_str()))
}

/// Checks an address Mailchimp would store: well formed
/// ([`is_valid_email`]) and not on a domain it calls fake.
pub(crate) fn check_address(email: &str) -> Result<(), McError> {
    if is_valid_email(email) && !looks_fake(email) { Ok(()) } else { Err(McError::fake_email(email)) }
}

/// Applies one write to audience `list_id`. Returns the member as stored and
/// whether it was created.
pub(crate) fn write_member(
    store: &mut Store,
    list_id: &str,
    path_segment: Option<&str>,
    write: MemberWrite,
    mode: Mode,
    now: DateTime<Utc>,
) -> Result<(Member, bool), McError> {
    let contact_id = hex(&mut store.rng, 32);
    let unique_email_id = hex(&mut store.rng, 10);
    store.next_web_id += 1;
    let web_id = store.next_web_id;
    let list = store.list_mut(list_id).ok_or(McError::ResourceNotFound)?;

    let body_email = write.email_address.as_deref().map(str::trim);
    let hash = match (path_segment, body_email) {
        (Some(segment), _) => path_hash(segment),
        (None, Some(email)) => subscriber_hash(email),
        (None, None) => {
            return Err(McError::invalid_field("email_address", "Schema describes string, NULL found instead"));
        }
    };
    if mode == Mode::Upsert
        && let Some(email) = body_email
        && subscriber_hash(email) != hash
    {
        return Err(McError::invalid_field(
            "email_address",
            "The email address does not match the subscriber hash in the path",
        ));
    }
    let status = writable_status("status", write.status.as_deref())?;
    let status_if_new = writable_status("status_if_new", write.status_if_new.as_deref())?;

    let existing = list.index.get(&hash).copied();
    let active = existing.and_then(|at| list.members.get(at)).is_some_and(|member| member.status != Status::Archived);
    let (at, created) = match (existing, mode) {
        (None, Mode::Update) => return Err(McError::ResourceNotFound),
        (Some(_), Mode::Create) if active => {
            let email = body_email.unwrap_or_default().to_owned();
            return Err(McError::MemberExists(email));
        }
        (Some(at), _) => (at, false),
        (None, Mode::Create | Mode::Upsert) => {
            let Some(email) = body_email else {
                return Err(McError::invalid_field("email_address", "Schema describes string, NULL found instead"));
            };
            check_address(email)?;
            if list.forgotten.contains(&hash) {
                return Err(McError::ForgottenEmail(email.to_owned()));
            }
            let first_status = match mode {
                Mode::Create => status,
                _ => status_if_new.or(status),
            };
            let Some(first_status) = first_status else {
                let field = if mode == Mode::Create { "status" } else { "status_if_new" };
                return Err(McError::invalid_field(field, "Schema describes string, NULL found instead"));
            };
            let permissions = list
                .permissions
                .iter()
                .map(|(id, text)| crate::model::MarketingPermission {
                    marketing_permission_id: id.clone(),
                    text: text.clone(),
                    enabled: false,
                })
                .collect();
            list.insert(Member {
                email_address: email.to_owned(),
                id: hash.clone(),
                unique_email_id,
                contact_id,
                web_id,
                email_type: "html".to_owned(),
                status: first_status,
                unsubscribe_reason: None,
                merge_fields: list
                    .merge_fields
                    .iter()
                    .map(|field| (field.tag.clone(), Value::from(field.default_value.clone())))
                    .collect(),
                interests: Map::new(),
                ip_signup: String::new(),
                timestamp_signup: None,
                ip_opt: String::new(),
                timestamp_opt: (first_status == Status::Subscribed).then_some(now),
                member_rating: 2,
                last_changed: now,
                language: String::new(),
                vip: false,
                location: serde_json::json!({"latitude": 0, "longitude": 0, "gmtoff": 0, "dstoff": 0, "country_code": "", "timezone": "", "region": ""}),
                marketing_permissions: permissions,
                source: "API - Generic".to_owned(),
                tags: Vec::new(),
                seeded_position: None,
            });
            (list.members.len() - 1, true)
        }
    };

    // Checks that need the stored member, before anything changes.
    let new_status = if created {
        None
    } else {
        match mode {
            Mode::Create => status,
            _ => status.or_else(|| {
                let archived = list.members.get(at).is_some_and(|m| m.status == Status::Archived);
                if archived { status_if_new } else { None }
            }),
        }
    };
    if let (Some(target), Some(member)) = (new_status, list.members.get(at))
        && target == Status::Subscribed
        && matches!(member.status, Status::Unsubscribed | Status::Cleaned)
    {
        return Err(McError::ComplianceState(member.email_address.clone()));
    }
    let new_email = match (mode, body_email) {
        (Mode::Update, Some(email)) if subscriber_hash(email) != hash => {
            check_address(email)?;
            let new_hash = subscriber_hash(email);
            if list.index.contains_key(&new_hash) {
                return Err(McError::MemberExists(email.to_owned()));
            }
            Some((email.to_owned(), new_hash))
        }
        _ => None,
    };
    let timestamp_signup =
        write.timestamp_signup.as_deref().map(|value| parse_time("timestamp_signup", value)).transpose()?;
    let timestamp_opt = write.timestamp_opt.as_deref().map(|value| parse_time("timestamp_opt", value)).transpose()?;
    if let Some(email_type) = write.email_type.as_deref()
        && email_type != "html"
        && email_type != "text"
    {
        return Err(McError::invalid_field("email_type", format!("{email_type} is not one of html, text")));
    }

    let known_tags: Vec<String> = list.merge_fields.iter().map(|field| field.tag.clone()).collect();
    let mut new_tags = Vec::new();
    if let Some(tags) = &write.tags {
        for name in tags {
            list.tag_id(name);
            new_tags.push(name.clone());
        }
    }
    if let Some((_, new_hash)) = &new_email {
        list.index.remove(&hash);
        list.index.insert(new_hash.clone(), at);
    }
    let Some(member) = list.members.get_mut(at) else {
        return Err(McError::ResourceNotFound);
    };
    if let Some((email, new_hash)) = new_email {
        member.email_address = email;
        member.id = new_hash;
    }
    if let Some(target) = new_status
        && target != member.status
    {
        match target {
            Status::Subscribed => member.timestamp_opt = Some(now),
            Status::Unsubscribed => {
                member.unsubscribe_reason = Some("N/A (Unsubscribed by an admin)".to_owned());
            }
            _ => {}
        }
        member.status = target;
    }
    if let Some(email_type) = write.email_type {
        member.email_type = email_type;
    }
    if let Some(merge_fields) = write.merge_fields {
        // Tags the audience does not define are ignored, as the API does.
        for (tag, value) in merge_fields {
            let tag = tag.to_ascii_uppercase();
            if known_tags.contains(&tag) {
                member.merge_fields.insert(tag, value);
            }
        }
    }
    if let Some(interests) = write.interests {
        member.interests.extend(interests);
    }
    if let Some(language) = write.language {
        member.language = language;
    }
    if let Some(vip) = write.vip {
        member.vip = vip;
    }
    if let Some(location) = write.location
        && let (Some(stored), Some(given)) = (member.location.as_object_mut(), location.as_object())
    {
        for (key, value) in given {
            stored.insert(key.clone(), value.clone());
        }
    }
    if let Some(permissions) = write.marketing_permissions {
        for permission in permissions {
            if let Some(stored) = member
                .marketing_permissions
                .iter_mut()
                .find(|stored| stored.marketing_permission_id == permission.marketing_permission_id)
            {
                stored.enabled = permission.enabled;
            }
        }
    }
    if let Some(ip) = write.ip_signup {
        member.ip_signup = ip;
    }
    if let Some(moment) = timestamp_signup {
        member.timestamp_signup = moment;
    }
    if let Some(ip) = write.ip_opt {
        member.ip_opt = ip;
    }
    if let Some(moment) = timestamp_opt {
        member.timestamp_opt = moment;
    }
    for name in new_tags {
        if !member.tags.iter().any(|(existing, _)| *existing == name) {
            member.tags.push((name, now));
        }
    }
    member.last_changed = now;
    Ok((member.clone(), created))
}

/// The field a validation error names, for batch error items.
pub(crate) fn error_field(error: &McError) -> (String, String) {
    match error {
        McError::InvalidResource { errors, .. } => errors
            .first()
            .map(|FieldError { field, message }| (field.clone(), message.clone()))
            .unwrap_or_else(|| ("email_address".to_owned(), String::new())),
        _ => (String::new(), String::new()),
    }
}
