//! The store behind the Klaviyo emulator and how each resource renders.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use rand::Rng;
use rand_pcg::Pcg64;
use serde_json::{Map, Value, json};

use cutover_emulator_kit::seed::mix;

/// A global email suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// `HARD_BOUNCE`, `INVALID_EMAIL`, `SPAM_COMPLAINT`, `UNSUBSCRIBE` or
    /// `USER_SUPPRESSED`.
    pub reason: String,
    /// When it was recorded.
    pub timestamp: DateTime<Utc>,
}

/// Email marketing consent (`subscriptions.email.marketing`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// `SUBSCRIBED`, `UNSUBSCRIBED` or `NEVER_SUBSCRIBED`.
    pub consent: String,
    /// When consent was given or withdrawn.
    pub consent_timestamp: Option<DateTime<Utc>>,
    /// Last change.
    pub last_updated: Option<DateTime<Utc>>,
    /// How consent was collected (`FORM`, `API`, `IMPORT`, ...).
    pub method: String,
    /// Detail of the method (a form id, a custom source).
    pub method_detail: String,
    /// Whether double opt-in was completed.
    pub double_optin: Option<bool>,
    /// Global suppressions.
    pub suppression: Vec<Suppression>,
    /// Per-list suppressions: list id, reason, time.
    pub list_suppressions: Vec<(String, String, DateTime<Utc>)>,
}

impl Consent {
    pub(crate) fn never() -> Self {
        Consent {
            consent: "NEVER_SUBSCRIBED".to_owned(),
            consent_timestamp: None,
            last_updated: None,
            method: String::new(),
            method_detail: String::new(),
            double_optin: None,
            suppression: Vec::new(),
            list_suppressions: Vec::new(),
        }
    }

    /// Only subscribed and unsuppressed profiles may be mailed marketing.
    pub fn can_receive_email_marketing(&self) -> bool {
        self.consent == "SUBSCRIBED" && self.suppression.is_empty()
    }
}

/// A profile as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// 26-character ULID-style id.
    pub id: String,
    /// Email address (seeded profiles may hold invalid ones, suppressed
    /// `INVALID_EMAIL`).
    pub email: Option<String>,
    /// E.164 phone number.
    pub phone_number: Option<String>,
    /// Id in an external system.
    pub external_id: Option<String>,
    /// Standard attributes that are plain strings: `first_name`,
    /// `last_name`, `organization`, `locale`, `title`, `image`.
    pub standard: BTreeMap<String, Value>,
    /// `location{address1, city, country, ...}`.
    pub location: Map<String, Value>,
    /// Custom properties.
    pub properties: Map<String, Value>,
    /// Creation time.
    pub created: DateTime<Utc>,
    /// Last update.
    pub updated: DateTime<Utc>,
    /// Time of the latest event.
    pub last_event_date: Option<DateTime<Utc>>,
    /// Email marketing consent.
    pub email_consent: Consent,
    /// SMS marketing consent (`SUBSCRIBED`, `UNSUBSCRIBED`, `NEVER_SUBSCRIBED`).
    pub sms_consent: String,
}

/// Standard attributes stored in [`Profile::standard`].
pub(crate) const STANDARD_ATTRIBUTES: &[&str] =
    &["first_name", "last_name", "organization", "locale", "title", "image"];

#[derive(Debug, Clone)]
pub(crate) struct List {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) created: DateTime<Utc>,
    pub(crate) updated: DateTime<Utc>,
    pub(crate) opt_in_process: String,
    /// Profile id to the time it joined.
    pub(crate) members: BTreeMap<String, DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Metric {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) created: DateTime<Utc>,
    pub(crate) integration: (&'static str, &'static str, &'static str),
}

/// An event; seeded events have no stored properties, they are recomputed
/// from the event's sequence number.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) sequence: u64,
    pub(crate) profile: u32,
    pub(crate) metric: u16,
    pub(crate) datetime: DateTime<Utc>,
    pub(crate) value: Option<f64>,
    pub(crate) unique_id: Option<String>,
    pub(crate) properties: Option<Box<Map<String, Value>>>,
}

/// Which bulk job a [`Job`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobKind {
    BulkImport,
    SuppressionCreate,
    SuppressionDelete,
}

impl JobKind {
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            JobKind::BulkImport => "profile-bulk-import-job",
            JobKind::SuppressionCreate => "profile-suppression-bulk-create-job",
            JobKind::SuppressionDelete => "profile-suppression-bulk-delete-job",
        }
    }

    pub(crate) fn path(self) -> &'static str {
        match self {
            JobKind::BulkImport => "profile-bulk-import-jobs",
            JobKind::SuppressionCreate => "profile-suppression-bulk-create-jobs",
            JobKind::SuppressionDelete => "profile-suppression-bulk-delete-jobs",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) kind: JobKind,
    pub(crate) reads: u32,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) total_count: usize,
    pub(crate) failed_count: usize,
    pub(crate) skipped_count: usize,
    pub(crate) list_ids: Vec<String>,
    pub(crate) profile_ids: Vec<String>,
    pub(crate) errors: Vec<Value>,
}

#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) api_key: String,
    pub(crate) seed: u64,
    pub(crate) profiles: BTreeMap<String, Profile>,
    /// Profile number (as events refer to profiles) to id.
    pub(crate) profile_ids: Vec<String>,
    pub(crate) profile_numbers: HashMap<String, u32>,
    pub(crate) emails: HashMap<String, String>,
    pub(crate) phones: HashMap<String, String>,
    pub(crate) external_ids: HashMap<String, String>,
    pub(crate) lists: Vec<List>,
    pub(crate) metrics: Vec<Metric>,
    /// Sorted by (datetime, sequence).
    pub(crate) events: Vec<Event>,
    /// The dedupe keys of the stored events that have a `unique_id`:
    /// (profile number, metric index, unique id). Kept in step with
    /// `events` by [`Store::claim_event_key`] and [`Store::reindex_events`].
    pub(crate) event_keys: HashSet<(u32, u16, String)>,
    pub(crate) next_event: u64,
    pub(crate) jobs: Vec<Job>,
    pub(crate) rng: Pcg64,
}

const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID: 48 bits of milliseconds then 80 random bits, Crockford base32.
pub(crate) fn ulid(moment: DateTime<Utc>, random_high: u64, random_low: u64) -> String {
    let millis = u128::from(moment.timestamp_millis().max(0) as u64);
    let value = (millis << 80) | (u128::from(random_high & 0xffff) << 64) | u128::from(random_low);
    (0..26).rev().map(|position| char::from(CROCKFORD[((value >> (position * 5)) & 31) as usize])).collect()
}

/// A short mixed-case id like Klaviyo's list ids (`Y6nRLr`).
pub(crate) fn short_id(rng: &mut Pcg64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    (0..6).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

/// Klaviyo's datetime form, `2023-08-15T12:30:00+00:00`.
pub(crate) fn datetime(moment: &DateTime<Utc>) -> String {
    moment.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

fn optional_datetime(moment: Option<&DateTime<Utc>>) -> Value {
    moment.map_or(Value::Null, |moment| Value::from(datetime(moment)))
}

impl Store {
    pub(crate) fn profile_by_email(&self, email: &str) -> Option<&Profile> {
        self.emails.get(&email.trim().to_lowercase()).and_then(|id| self.profiles.get(id))
    }

    /// Adds a profile and indexes its identifiers.
    pub(crate) fn insert_profile(&mut self, profile: Profile) {
        self.index_profile(&profile);
        let number = self.profile_ids.len() as u32;
        self.profile_numbers.insert(profile.id.clone(), number);
        self.profile_ids.push(profile.id.clone());
        self.profiles.insert(profile.id.clone(), profile);
    }

    pub(crate) fn index_profile(&mut self, profile: &Profile) {
        if let Some(email) = &profile.email {
            self.emails.insert(email.to_lowercase(), profile.id.clone());
        }
        if let Some(phone) = &profile.phone_number {
            self.phones.insert(phone.clone(), profile.id.clone());
        }
        if let Some(external_id) = &profile.external_id {
            self.external_ids.insert(external_id.clone(), profile.id.clone());
        }
    }

    pub(crate) fn unindex_profile(&mut self, profile: &Profile) {
        if let Some(email) = &profile.email {
            self.emails.remove(&email.to_lowercase());
        }
        if let Some(phone) = &profile.phone_number {
            self.phones.remove(phone);
        }
        if let Some(external_id) = &profile.external_id {
            self.external_ids.remove(external_id);
        }
    }

    pub(crate) fn list(&self, list_id: &str) -> Option<&List> {
        self.lists.iter().find(|list| list.id == list_id)
    }

    /// The index of the metric named `name`, created (as an API metric) if
    /// it is new.
    pub(crate) fn metric_index(&mut self, name: &str, now: DateTime<Utc>) -> u16 {
        let position = match self.metrics.iter().position(|metric| metric.name == name) {
            Some(position) => position,
            None => {
                let id = short_id(&mut self.rng);
                self.metrics.push(Metric {
                    id,
                    name: name.to_owned(),
                    created: now,
                    integration: ("api", "API", "API"),
                });
                self.metrics.len() - 1
            }
        };
        position as u16
    }

    /// Records the dedupe key of an event about to be stored: false when
    /// an event with that key is already held (Klaviyo keeps the first).
    pub(crate) fn claim_event_key(&mut self, profile: u32, metric: u16, unique_id: &str) -> bool {
        self.event_keys.insert((profile, metric, unique_id.to_owned()))
    }

    /// Rebuilds [`Store::event_keys`] from `events` (after seeding).
    pub(crate) fn reindex_events(&mut self) {
        self.event_keys = self
            .events
            .iter()
            .filter_map(|event| event.unique_id.as_ref().map(|id| (event.profile, event.metric, id.clone())))
            .collect();
    }

    /// Stores events whose keys were claimed, keeping `events` sorted by
    /// (datetime, sequence) with one merge, and moves each profile's
    /// `last_event_date` on.
    pub(crate) fn insert_events(&mut self, mut new: Vec<Event>) {
        if new.is_empty() {
            return;
        }
        for event in &new {
            if let Some(profile) = self.profile_ids.get(event.profile as usize).and_then(|id| self.profiles.get_mut(id))
            {
                profile.last_event_date = profile.last_event_date.max(Some(event.datetime));
            }
        }
        let order = |event: &Event| (event.datetime, event.sequence);
        new.sort_by_key(order);
        if let [single] = new.as_slice() {
            let at = self.events.partition_point(|existing| order(existing) <= order(single));
            self.events.insert(at, new.remove(0));
            return;
        }
        if self.events.last().is_none_or(|last| order(last) <= order(&new[0])) {
            self.events.append(&mut new);
            return;
        }
        let old = std::mem::take(&mut self.events);
        let mut merged = Vec::with_capacity(old.len() + new.len());
        let mut old = old.into_iter().peekable();
        let mut new = new.into_iter().peekable();
        loop {
            let take_new = match (old.peek(), new.peek()) {
                (Some(left), Some(right)) => order(right) < order(left),
                (None, Some(_)) => true,
                (_, None) => false,
            };
            let next = if take_new { new.next() } else { old.next() };
            match next {
                Some(event) => merged.push(event),
                None => break,
            }
        }
        self.events = merged;
    }

    pub(crate) fn new_profile_id(&mut self, now: DateTime<Utc>) -> String {
        let high = self.rng.random::<u64>();
        let low = self.rng.random::<u64>();
        ulid(now, high, low)
    }
}

pub(crate) fn profile_json(profile: &Profile, subscriptions: bool, base: &str) -> Value {
    let mut attributes = Map::new();
    attributes.insert("email".into(), json!(profile.email));
    attributes.insert("phone_number".into(), json!(profile.phone_number));
    attributes.insert("external_id".into(), json!(profile.external_id));
    attributes.insert("anonymous_id".into(), Value::Null);
    for name in STANDARD_ATTRIBUTES {
        attributes.insert((*name).into(), profile.standard.get(*name).cloned().unwrap_or(Value::Null));
    }
    attributes.insert("created".into(), Value::from(datetime(&profile.created)));
    attributes.insert("updated".into(), Value::from(datetime(&profile.updated)));
    attributes.insert("last_event_date".into(), optional_datetime(profile.last_event_date.as_ref()));
    let mut location = Map::new();
    for key in ["address1", "address2", "city", "country", "latitude", "longitude", "region", "zip", "timezone", "ip"] {
        location.insert(key.into(), profile.location.get(key).cloned().unwrap_or(Value::Null));
    }
    attributes.insert("location".into(), Value::Object(location));
    attributes.insert("properties".into(), Value::Object(profile.properties.clone()));
    if subscriptions {
        attributes.insert("subscriptions".into(), subscriptions_json(profile));
    }
    let href = format!("{base}/api/profiles/{}/", profile.id);
    json!({
        "type": "profile",
        "id": profile.id,
        "attributes": attributes,
        "relationships": {
            "lists": {"links": {"self": format!("{href}relationships/lists/"), "related": format!("{href}lists/")}},
            "segments": {"links": {"self": format!("{href}relationships/segments/"), "related": format!("{href}segments/")}},
        },
        "links": {"self": href},
    })
}

fn subscriptions_json(profile: &Profile) -> Value {
    let consent = &profile.email_consent;
    let suppression: Vec<Value> = consent
        .suppression
        .iter()
        .map(|item| json!({"reason": item.reason, "timestamp": datetime(&item.timestamp)}))
        .collect();
    let list_suppressions: Vec<Value> = consent
        .list_suppressions
        .iter()
        .map(|(list_id, reason, moment)| json!({"list_id": list_id, "reason": reason, "timestamp": datetime(moment)}))
        .collect();
    json!({
        "email": {"marketing": {
            "can_receive_email_marketing": consent.can_receive_email_marketing(),
            "consent": consent.consent,
            "consent_timestamp": optional_datetime(consent.consent_timestamp.as_ref()),
            "last_updated": optional_datetime(consent.last_updated.as_ref()),
            "method": if consent.method.is_empty() { Value::Null } else { Value::from(consent.method.clone()) },
            "method_detail": consent.method_detail,
            "custom_method_detail": Value::Null,
            "double_optin": consent.double_optin,
            "suppression": suppression,
            "list_suppressions": list_suppressions,
        }},
        "sms": {
            "marketing": {
                "can_receive_sms_marketing": profile.sms_consent == "SUBSCRIBED",
                "consent": profile.sms_consent,
                "consent_timestamp": Value::Null,
                "method": Value::Null,
                "method_detail": "",
                "last_updated": Value::Null,
            },
            "transactional": {"can_receive_sms_transactional": false, "consent": "NEVER_SUBSCRIBED", "consent_timestamp": Value::Null, "method": Value::Null, "method_detail": "", "last_updated": Value::Null},
        },
        "mobile_push": {"marketing": {"can_receive_push_marketing": false, "consent": "NEVER_SUBSCRIBED", "consent_timestamp": Value::Null}},
    })
}

pub(crate) fn list_json(list: &List, profile_count: bool, base: &str) -> Value {
    let href = format!("{base}/api/lists/{}/", list.id);
    let mut attributes = json!({
        "name": list.name,
        "created": datetime(&list.created),
        "updated": datetime(&list.updated),
        "opt_in_process": list.opt_in_process,
    });
    if profile_count && let Some(object) = attributes.as_object_mut() {
        object.insert("profile_count".into(), Value::from(list.members.len()));
    }
    json!({
        "type": "list",
        "id": list.id,
        "attributes": attributes,
        "relationships": {
            "profiles": {"links": {"self": format!("{href}relationships/profiles/"), "related": format!("{href}profiles/")}},
        },
        "links": {"self": href},
    })
}

pub(crate) fn metric_json(metric: &Metric, base: &str) -> Value {
    let (key, name, category) = metric.integration;
    json!({
        "type": "metric",
        "id": metric.id,
        "attributes": {
            "name": metric.name,
            "created": datetime(&metric.created),
            "updated": datetime(&metric.created),
            "integration": {"object": "integration", "id": key, "key": key, "name": name, "category": category},
        },
        "links": {"self": format!("{base}/api/metrics/{}/", metric.id)},
    })
}

pub(crate) fn event_id(seed: u64, event: &Event) -> String {
    ulid(event.datetime, mix(seed, event.sequence), mix(event.sequence, seed))
}

pub(crate) fn event_json(store: &Store, event: &Event, base: &str) -> Value {
    let id = event_id(store.seed, event);
    let profile_id = store.profile_ids.get(event.profile as usize).cloned().unwrap_or_default();
    let metric = store.metrics.get(usize::from(event.metric));
    let metric_id = metric.map(|metric| metric.id.clone()).unwrap_or_default();
    let properties = match &event.properties {
        Some(properties) => Value::Object((**properties).clone()),
        None => event_properties(store.seed, event, metric.map_or("", |metric| metric.name.as_str())),
    };
    let uuid_bits = mix(event.sequence, store.seed ^ 0x0e0e);
    json!({
        "type": "event",
        "id": id,
        "attributes": {
            "timestamp": event.datetime.timestamp(),
            "event_properties": properties,
            "datetime": datetime(&event.datetime),
            "uuid": format!("{:08x}-{:04x}-11ee-8000-{:012x}", uuid_bits >> 32, (uuid_bits >> 16) & 0xffff, event.sequence),
        },
        "relationships": {
            "profile": {"data": {"type": "profile", "id": profile_id}, "links": {"self": format!("{base}/api/events/{id}/relationships/profile/"), "related": format!("{base}/api/events/{id}/profile/")}},
            "metric": {"data": {"type": "metric", "id": metric_id}, "links": {"self": format!("{base}/api/events/{id}/relationships/metric/"), "related": format!("{base}/api/events/{id}/metric/")}},
        },
        "links": {"self": format!("{base}/api/events/{id}/")},
    })
}

/// Each read of a job moves it one step: `queued`, `processing`, `complete`.
pub(crate) fn job_json(job: &Job, base: &str) -> Value {
    let status = match job.reads {
        0 => "queued",
        1 => "processing",
        _ => "complete",
    };
    let done = status == "complete";
    let completed = if done { job.total_count - job.failed_count - job.skipped_count } else { 0 };
    let completed_at = if done { Value::from(datetime(&job.created_at)) } else { Value::Null };
    let mut attributes = json!({
        "status": status,
        "created_at": datetime(&job.created_at),
        "total_count": job.total_count,
        "completed_count": completed,
        "completed_at": completed_at,
    });
    if let Some(object) = attributes.as_object_mut() {
        match job.kind {
            JobKind::BulkImport => {
                object.insert("failed_count".into(), Value::from(if done { job.failed_count } else { 0 }));
                object.insert(
                    "started_at".into(),
                    if job.reads > 0 { Value::from(datetime(&job.created_at)) } else { Value::Null },
                );
                object
                    .insert("expires_at".into(), Value::from(datetime(&(job.created_at + chrono::Duration::days(7)))));
            }
            JobKind::SuppressionCreate | JobKind::SuppressionDelete => {
                object.insert("skipped_count".into(), Value::from(if done { job.skipped_count } else { 0 }));
            }
        }
    }
    let href = format!("{base}/api/{}/{}/", job.kind.path(), job.id);
    let lists: Vec<Value> = job.list_ids.iter().map(|id| json!({"type": "list", "id": id})).collect();
    json!({
        "type": job.kind.type_name(),
        "id": job.id,
        "attributes": attributes,
        "relationships": {"lists": {"data": lists, "links": {"self": format!("{href}relationships/lists/"), "related": format!("{href}lists/")}}},
        "links": {"self": href},
    })
}

/// Subjects of seeded email events.
const SUBJECTS: &[&str] = &["Your monthly digest", "New arrivals", "Last chance", "We miss you", "Tips and tricks"];
/// Items of seeded orders.
const ITEM_NAMES: [&str; 2] = ["Widget", "Gadget"];

/// Properties of a seeded event (one whose [`Event::properties`] are not
/// stored), recomputed from its sequence number.
pub(crate) fn event_properties(seed: u64, event: &Event, metric_name: &str) -> Value {
    let bits = mix(seed, event.sequence);
    let subject = SUBJECTS[(bits % SUBJECTS.len() as u64) as usize];
    let campaign = format!("Campaign {}", event.datetime.format("%Y-%m"));
    match metric_name {
        "Placed Order" => json!({
            "$event_id": format!("order-{}", event.sequence),
            "$value": event.value.unwrap_or_default(),
            "OrderId": format!("#{}", 1000 + bits % 90_000),
            "ItemNames": ITEM_NAMES[..1 + (bits % 2) as usize],
            "Currency": "USD",
        }),
        "Clicked Email" => json!({
            "Subject": subject,
            "Campaign Name": campaign,
            "URL": format!("https://cutover-test.io/offer/{}", bits % 10),
            "$message": format!("{:06x}", bits & 0xff_ffff),
        }),
        "Bounced Email" => json!({"Subject": subject, "Campaign Name": campaign, "Bounce Type": "hard"}),
        _ => json!({
            "Subject": subject,
            "Campaign Name": campaign,
            "$message": format!("{:06x}", bits & 0xff_ffff),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulids_are_26_crockford_characters_ordered_by_time() {
        let early = ulid(DateTime::from_timestamp(1_600_000_000, 0).unwrap_or_default(), 7, 7);
        let late = ulid(DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(), 1, 1);
        assert_eq!(early.len(), 26);
        assert!(early.bytes().all(|byte| CROCKFORD.contains(&byte)));
        assert!(early < late);
    }
}
