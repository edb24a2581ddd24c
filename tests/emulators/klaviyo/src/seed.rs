//! Deterministic seeding: `records` profiles over four lists with custom
//! properties, every consent state and suppression reason, and a year of
//! email and order events. Seeded event properties are not stored: the
//! model recomputes them on read ([`crate::model::event_properties`]).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_pcg::Pcg64;
use serde_json::{Map, Value, json};

use cutover_emulator_kit::Settings;
use cutover_emulator_kit::people::{is_valid_email, person};
use cutover_emulator_kit::seed::{hex, record_rng, seed_anchor};

use crate::model::{Consent, Event, List, Metric, Profile, Store, Suppression, short_id, ulid};

const LIST_NAMES: [&str; 4] = ["Newsletter", "VIP customers", "Webinar leads", "Imported 2019"];
/// Metric names, with the integration that reports them.
const METRICS: [(&str, (&str, &str, &str)); 7] = [
    ("Received Email", ("klaviyo", "Klaviyo", "Internal")),
    ("Opened Email", ("klaviyo", "Klaviyo", "Internal")),
    ("Clicked Email", ("klaviyo", "Klaviyo", "Internal")),
    ("Bounced Email", ("klaviyo", "Klaviyo", "Internal")),
    ("Unsubscribed", ("klaviyo", "Klaviyo", "Internal")),
    ("Marked Email as Spam", ("klaviyo", "Klaviyo", "Internal")),
    ("Placed Order", ("shopify", "Shopify", "eCommerce")),
];
const RECEIVED: u16 = 0;
const OPENED: u16 = 1;
const CLICKED: u16 = 2;
const BOUNCED: u16 = 3;
const UNSUBSCRIBED: u16 = 4;
const SPAM: u16 = 5;
const ORDER: u16 = 6;
const CAMPAIGNS: i64 = 12;
const PLANS: &[&str] = &["Free", "Pro", "Business"];
const SOURCE_TAGS: &[&str] = &["vip", "customer", "newsletter", "webinar-2025", "lead", "churned"];

pub(crate) fn store(config: &Settings) -> Store {
    let seed = config.seed;
    let anchor = seed_anchor();
    let mut rng = record_rng(seed, 11, 0);
    let api_key = config.api_key.clone().unwrap_or_else(|| format!("pk_{}", hex(&mut rng, 34)));
    let mut lists: Vec<List> = LIST_NAMES
        .iter()
        .enumerate()
        .map(|(position, name)| {
            let created = anchor - Duration::days(1500 - position as i64 * 200);
            List {
                id: short_id(&mut rng),
                name: (*name).to_owned(),
                created,
                updated: created + Duration::days(30),
                opt_in_process: if position == 0 { "double_opt_in" } else { "single_opt_in" }.to_owned(),
                members: BTreeMap::new(),
            }
        })
        .collect();
    let metrics: Vec<Metric> = METRICS
        .iter()
        .enumerate()
        .map(|(position, (name, integration))| Metric {
            id: short_id(&mut rng),
            name: (*name).to_owned(),
            created: anchor - Duration::days(1500 - position as i64),
            integration: *integration,
        })
        .collect();
    let mut store = Store {
        api_key,
        seed,
        profiles: BTreeMap::new(),
        profile_ids: Vec::with_capacity(config.records),
        profile_numbers: HashMap::with_capacity(config.records),
        emails: HashMap::with_capacity(config.records),
        phones: HashMap::new(),
        external_ids: HashMap::new(),
        lists: Vec::new(),
        metrics,
        events: Vec::new(),
        event_keys: Default::default(),
        next_event: 0,
        jobs: Vec::new(),
        rng: record_rng(seed, 12, 0),
    };
    let mut events = Vec::with_capacity(config.records * 8);
    for index in 0..config.records {
        let mut profile_rng = record_rng(seed, 13, index as u64);
        let mut profile = seeded_profile(&mut profile_rng, index, config.invalid_email_fraction, anchor);
        let number = index as u32;
        for (position, list) in lists.iter_mut().enumerate() {
            let chance = [0.7, 0.15, 0.2, 0.1][position];
            if profile_rng.random_bool(chance) {
                let joined = profile.created + Duration::hours(profile_rng.random_range(0..2000));
                list.members.insert(profile.id.clone(), joined.min(anchor));
            }
        }
        let first_event = events.len();
        seeded_events(&mut profile_rng, &profile, number, anchor, &mut events);
        profile.last_event_date = events[first_event..].iter().map(|event| event.datetime).max();
        store.insert_profile(profile);
    }
    events.sort_by_key(|event: &Event| (event.datetime, event.sequence));
    for (sequence, event) in events.iter_mut().enumerate() {
        event.sequence = sequence as u64;
    }
    store.next_event = events.len() as u64;
    store.events = events;
    store.reindex_events();
    store.lists = lists;
    store
}

fn seeded_profile(rng: &mut Pcg64, index: usize, invalid_fraction: f64, anchor: DateTime<Utc>) -> Profile {
    let who = person(rng, index, invalid_fraction);
    let created = anchor - Duration::minutes(rng.random_range(60 * 24 * 10..60 * 24 * 365 * 3));
    let updated = created + Duration::minutes(rng.random_range(0..(anchor - created).num_minutes().max(1)));
    let id = ulid(created, rng.random(), rng.random());
    let mut standard = BTreeMap::new();
    standard.insert("first_name".to_owned(), Value::from(who.first_name));
    standard.insert("last_name".to_owned(), Value::from(who.last_name));
    if rng.random_bool(0.3) {
        standard.insert("organization".to_owned(), Value::from("Northwind"));
    }
    if rng.random_bool(0.5) {
        standard.insert(
            "locale".to_owned(),
            Value::from(["en-US", "de-DE", "fr-FR", "es-ES"].choose(rng).copied().unwrap_or("en-US")),
        );
    }
    let mut location = Map::new();
    if rng.random_bool(0.4) {
        location.insert(
            "city".into(),
            Value::from(["Boston", "Berlin", "Lyon", "Madrid"].choose(rng).copied().unwrap_or("Boston")),
        );
        location.insert(
            "country".into(),
            Value::from(
                ["United States", "Germany", "France", "Spain"].choose(rng).copied().unwrap_or("United States"),
            ),
        );
        location.insert("timezone".into(), Value::from("Europe/Berlin"));
    }
    let mut properties = Map::new();
    properties.insert("plan".into(), Value::from(PLANS.choose(rng).copied().unwrap_or("Free")));
    if rng.random_bool(0.6) {
        properties.insert("lifetime_value".into(), json!((rng.random_range(0..500_000) as f64) / 100.0));
    }
    let tag_count = rng.random_range(0..3);
    if tag_count > 0 {
        let tags: Vec<&str> = SOURCE_TAGS.choose_multiple(rng, tag_count).copied().collect();
        properties.insert("source_tags".into(), json!(tags));
    }
    if rng.random_bool(0.3) {
        properties.insert(
            "birthday".into(),
            Value::from(format!(
                "19{}-{:02}-{:02}",
                rng.random_range(50..99),
                rng.random_range(1..13),
                rng.random_range(1..29)
            )),
        );
    }
    properties.insert(
        "signup_source".into(),
        Value::from(["form", "import", "checkout", "api"].choose(rng).copied().unwrap_or("form")),
    );

    let mut consent = Consent::never();
    let opted_in = created + Duration::minutes(rng.random_range(1..600));
    let left = opted_in + Duration::minutes(rng.random_range(1..(anchor - opted_in).num_minutes().max(2)));
    match rng.random_range(0..100) {
        0..65 => subscribe(&mut consent, opted_in, rng),
        65..80 => {
            subscribe(&mut consent, opted_in, rng);
            consent.consent = "UNSUBSCRIBED".to_owned();
            consent.consent_timestamp = Some(left);
            consent.last_updated = Some(left);
            consent.suppression.push(Suppression { reason: "UNSUBSCRIBE".to_owned(), timestamp: left });
        }
        80..95 => {}
        95..99 => {
            subscribe(&mut consent, opted_in, rng);
            consent.suppression.push(Suppression { reason: "HARD_BOUNCE".to_owned(), timestamp: left });
        }
        _ => {
            subscribe(&mut consent, opted_in, rng);
            consent.suppression.push(Suppression { reason: "SPAM_COMPLAINT".to_owned(), timestamp: left });
        }
    }
    let email = who.email;
    if !is_valid_email(&email) {
        consent.suppression.retain(|item| item.reason != "INVALID_EMAIL");
        consent.suppression.push(Suppression { reason: "INVALID_EMAIL".to_owned(), timestamp: created });
    }
    let phone_number = rng.random_bool(0.25).then(|| format!("+1555{:07}", index % 10_000_000));
    let external_id = rng.random_bool(0.3).then(|| format!("crm-{index}"));
    Profile {
        id,
        email: Some(email),
        phone_number,
        external_id,
        standard,
        location,
        properties,
        created,
        updated,
        last_event_date: None,
        email_consent: consent,
        sms_consent: "NEVER_SUBSCRIBED".to_owned(),
    }
}

fn subscribe(consent: &mut Consent, at: DateTime<Utc>, rng: &mut Pcg64) {
    consent.consent = "SUBSCRIBED".to_owned();
    consent.consent_timestamp = Some(at);
    consent.last_updated = Some(at);
    consent.method = ["FORM", "API", "IMPORT"].choose(rng).copied().unwrap_or("FORM").to_owned();
    consent.double_optin = Some(rng.random_bool(0.5));
}

fn seeded_events(rng: &mut Pcg64, profile: &Profile, number: u32, anchor: DateTime<Utc>, events: &mut Vec<Event>) {
    let mut push = |metric: u16, datetime: DateTime<Utc>, value: Option<f64>, campaign: u64| {
        events.push(Event {
            sequence: (u64::from(number) << 20) | (campaign << 4) | u64::from(metric),
            profile: number,
            metric,
            datetime,
            value,
            unique_id: None,
            properties: None,
        });
    };
    let consent = &profile.email_consent;
    if let Some(since) = consent.consent_timestamp.filter(|_| consent.consent != "NEVER_SUBSCRIBED") {
        let until = consent.suppression.iter().map(|item| item.timestamp).min().unwrap_or(anchor);
        let mut last_sent = None;
        for campaign in 0..CAMPAIGNS {
            let sent = anchor - Duration::days(30 * (CAMPAIGNS - campaign)) + Duration::hours(10);
            if sent < since || sent > until || !rng.random_bool(0.5) {
                continue;
            }
            last_sent = Some((sent, campaign as u64));
            push(RECEIVED, sent, None, campaign as u64);
            if rng.random_bool(0.35) {
                let opened = sent + Duration::minutes(rng.random_range(1..2000));
                push(OPENED, opened, None, campaign as u64);
                if rng.random_bool(0.25) {
                    push(CLICKED, opened + Duration::minutes(rng.random_range(1..30)), None, campaign as u64);
                }
            }
        }
        if let (Some((sent, campaign)), Some(reason)) = (last_sent, consent.suppression.first()) {
            let at = reason.timestamp.max(sent);
            match reason.reason.as_str() {
                "HARD_BOUNCE" => push(BOUNCED, at, None, campaign),
                "UNSUBSCRIBE" => push(UNSUBSCRIBED, at, None, campaign),
                "SPAM_COMPLAINT" => push(SPAM, at, None, campaign),
                _ => {}
            }
        }
    }
    if rng.random_bool(0.2) {
        for order in 0..rng.random_range(1..4u64) {
            let at = anchor - Duration::minutes(rng.random_range(1..60 * 24 * 365));
            let value = (rng.random_range(500..30_000) as f64) / 100.0;
            push(ORDER, at, Some(value), 100 + order);
        }
    }
}
