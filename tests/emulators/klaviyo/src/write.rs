//! Profile writes shared by create, update, import, bulk import and the
//! subscription jobs: attribute checks, identifier conflicts, upserts.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use cutover_emulator_kit::people::is_valid_email;

use crate::errors::KlError;
use crate::model::{Consent, Profile, STANDARD_ATTRIBUTES, Store};

const IDENTIFIERS: [&str; 3] = ["email", "phone_number", "external_id"];
const WRITABLE: &[&str] = &[
    "email",
    "phone_number",
    "external_id",
    "anonymous_id",
    "_kx",
    "first_name",
    "last_name",
    "organization",
    "locale",
    "title",
    "image",
    "location",
    "properties",
];

/// Checks a profile's `attributes` object; `pointer` is where it sits.
pub(crate) fn check_attributes(attributes: &Map<String, Value>, pointer: &str) -> Result<(), KlError> {
    for (name, value) in attributes {
        if !WRITABLE.contains(&name.as_str()) {
            return Err(KlError::invalid(
                format!("'{name}' is not a valid field for the resource 'profile'."),
                format!("{pointer}/{name}"),
            ));
        }
        let shape_ok = match name.as_str() {
            "location" | "properties" => value.is_object() || value.is_null(),
            _ => value.is_string() || value.is_null(),
        };
        if !shape_ok {
            return Err(KlError::invalid(format!("'{name}' has the wrong type."), format!("{pointer}/{name}")));
        }
    }
    if let Some(email) = attributes.get("email").and_then(Value::as_str)
        && !is_valid_email(email)
    {
        return Err(KlError::invalid("Invalid email address", format!("{pointer}/email")));
    }
    if let Some(phone) = attributes.get("phone_number").and_then(Value::as_str)
        && !(phone.starts_with('+') && phone.len() > 7 && phone[1..].chars().all(|c| c.is_ascii_digit()))
    {
        return Err(KlError::invalid(
            "Invalid phone number format (Example of a valid format: +12345678901)",
            format!("{pointer}/phone_number"),
        ));
    }
    Ok(())
}

/// The profile another identifier in `attributes` already belongs to,
/// other than `except`.
pub(crate) fn conflicting_profile(
    store: &Store,
    attributes: &Map<String, Value>,
    except: Option<&str>,
) -> Option<String> {
    IDENTIFIERS.iter().find_map(|name| {
        let value = attributes.get(*name)?.as_str()?;
        let owner = match *name {
            "email" => store.emails.get(&value.to_lowercase()),
            "phone_number" => store.phones.get(value),
            _ => store.external_ids.get(value),
        }?;
        (Some(owner.as_str()) != except).then(|| owner.clone())
    })
}

/// The profile the identifiers in `attributes` name, email first.
pub(crate) fn find_profile(store: &Store, attributes: &Map<String, Value>) -> Option<String> {
    conflicting_profile(store, attributes, None)
}

pub(crate) fn has_identifier(attributes: &Map<String, Value>) -> bool {
    IDENTIFIERS
        .iter()
        .chain(["anonymous_id", "_kx"].iter())
        .any(|name| attributes.get(*name).is_some_and(|value| !value.is_null()))
}

pub(crate) fn new_profile(id: String, now: DateTime<Utc>) -> Profile {
    Profile {
        id,
        email: None,
        phone_number: None,
        external_id: None,
        standard: Default::default(),
        location: Map::new(),
        properties: Map::new(),
        created: now,
        updated: now,
        last_event_date: None,
        email_consent: Consent::never(),
        sms_consent: "NEVER_SUBSCRIBED".to_owned(),
    }
}

/// Applies checked attributes (`null` clears) and `meta.patch_properties`.
pub(crate) fn apply(profile: &mut Profile, attributes: &Map<String, Value>, meta: Option<&Value>, now: DateTime<Utc>) {
    let text = |value: &Value| value.as_str().map(str::to_owned);
    for (name, value) in attributes {
        match name.as_str() {
            "email" => profile.email = text(value),
            "phone_number" => profile.phone_number = text(value),
            "external_id" => profile.external_id = text(value),
            "location" => match value.as_object() {
                Some(location) => {
                    for (key, item) in location {
                        profile.location.insert(key.clone(), item.clone());
                    }
                }
                None => profile.location.clear(),
            },
            "properties" => match value.as_object() {
                Some(properties) => {
                    for (key, item) in properties {
                        profile.properties.insert(key.clone(), item.clone());
                    }
                }
                None => profile.properties.clear(),
            },
            name if STANDARD_ATTRIBUTES.contains(&name) => {
                if value.is_null() {
                    profile.standard.remove(name);
                } else {
                    profile.standard.insert(name.to_owned(), value.clone());
                }
            }
            _ => {}
        }
    }
    if let Some(patch) = meta.and_then(|meta| meta.get("patch_properties")) {
        patch_properties(&mut profile.properties, patch);
    }
    profile.updated = now;
}

/// `append`, `unappend` and `unset` on array-valued custom properties.
fn patch_properties(properties: &mut Map<String, Value>, patch: &Value) {
    if let Some(append) = patch.get("append").and_then(Value::as_object) {
        for (key, value) in append {
            let entry = properties.entry(key.clone()).or_insert_with(|| Value::Array(Vec::new()));
            if !entry.is_array() {
                *entry = Value::Array(vec![entry.clone()]);
            }
            if let Value::Array(items) = entry {
                match value {
                    Value::Array(values) => items.extend(values.iter().cloned()),
                    other => items.push(other.clone()),
                }
            }
        }
    }
    if let Some(unappend) = patch.get("unappend").and_then(Value::as_object) {
        for (key, value) in unappend {
            if let Some(Value::Array(items)) = properties.get_mut(key) {
                items.retain(|item| item != value);
            }
        }
    }
    match patch.get("unset") {
        Some(Value::String(key)) => {
            properties.remove(key);
        }
        Some(Value::Array(keys)) => {
            for key in keys.iter().filter_map(Value::as_str) {
                properties.remove(key);
            }
        }
        _ => {}
    }
}

/// Creates or updates the profile `id` or the identifiers name. Returns the
/// id and whether it was created.
pub(crate) fn upsert(
    store: &mut Store,
    id: Option<&str>,
    attributes: &Map<String, Value>,
    meta: Option<&Value>,
    now: DateTime<Utc>,
) -> Result<(String, bool), KlError> {
    let existing = match id {
        Some(id) => Some(
            store
                .profiles
                .contains_key(id)
                .then(|| id.to_owned())
                .ok_or_else(|| KlError::not_found(format!("A profile with id {id} does not exist.")))?,
        ),
        None => find_profile(store, attributes),
    };
    match existing {
        Some(profile_id) => {
            if let Some(other) = conflicting_profile(store, attributes, Some(&profile_id)) {
                return Err(KlError::duplicate_profile(&other));
            }
            update(store, &profile_id, attributes, meta, now)?;
            Ok((profile_id, false))
        }
        None => {
            if !has_identifier(attributes) {
                return Err(KlError::invalid(
                    "One of email, phone_number, external_id or anonymous_id is required to identify a profile.",
                    "/data/attributes",
                ));
            }
            let profile_id = store.new_profile_id(now);
            let mut profile = new_profile(profile_id.clone(), now);
            apply(&mut profile, attributes, meta, now);
            store.insert_profile(profile);
            Ok((profile_id, true))
        }
    }
}

/// Updates a stored profile, keeping the identifier indexes right.
pub(crate) fn update(
    store: &mut Store,
    profile_id: &str,
    attributes: &Map<String, Value>,
    meta: Option<&Value>,
    now: DateTime<Utc>,
) -> Result<(), KlError> {
    let Some(mut profile) = store.profiles.remove(profile_id) else {
        return Err(KlError::not_found(format!("A profile with id {profile_id} does not exist.")));
    };
    store.unindex_profile(&profile);
    apply(&mut profile, attributes, meta, now);
    store.index_profile(&profile);
    store.profiles.insert(profile_id.to_owned(), profile);
    Ok(())
}
