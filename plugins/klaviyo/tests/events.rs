//! The `events` destination against the Klaviyo emulator: bulk create jobs
//! grouped per profile, profiles named by id or by email, truthful outcomes
//! on a re-run, and a refused job halved until only its bad events are
//! rejected.

use chrono::{TimeZone, Utc};
use cutover_emulators::{Emulator, EmulatorConfig, Platform, RunningEmulator};
use cutover_plugin_klaviyo::Klaviyo;
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{EngagementEvent, EngagementKind, Reference};

struct Harness {
    emulator: RunningEmulator,
    // Declared last: dropped after the emulator it serves.
    _runtime: tokio::runtime::Runtime,
}

impl Harness {
    fn start(profiles: usize) -> Harness {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a test runtime");
        let emulator = runtime
            .block_on(Emulator::start(Platform::Klaviyo, EmulatorConfig::new(11, profiles)))
            .expect("the emulator starts");
        Harness { emulator, _runtime: runtime }
    }

    fn open(&self) -> Klaviyo {
        let config =
            serde_json::json!({"api_key": self.emulator.api_key, "base_url": self.emulator.base_url}).to_string();
        Klaviyo::open(serde_json::from_str(&config).expect("a valid config"), &Context::new(std::path::PathBuf::new()))
            .expect("the plugin opens")
    }
}

fn event(id: &str, profile_id: Option<&str>, email: Option<&str>, kind: EngagementKind, seconds: i64) -> Record {
    let at = Utc.timestamp_opt(seconds, 0).single().expect("a valid time");
    Record::new(
        "mailchimp",
        id,
        at,
        Entity::EngagementEvent(EngagementEvent {
            kind: Some(kind),
            occurred_at: Some(at),
            contact: profile_id.map(|id| Reference::new(EntityKind::Contact, id)),
            email: email.map(Into::into),
            ..EngagementEvent::default()
        }),
    )
}

fn results(outcomes: &[WriteOutcome]) -> Vec<&'static str> {
    outcomes.iter().map(|outcome| outcome.result.as_str()).collect()
}

#[test]
fn many_events_go_through_jobs_and_a_rerun_is_unchanged() {
    let harness = Harness::start(5);
    let state = harness.emulator.klaviyo().expect("klaviyo");
    let profile_id = state.profiles()[0].id.clone();
    let start = Utc::now().timestamp() - 200 * 24 * 3600;
    let before = state.event_count();
    // 2,400 events of 240 people named by email, and 100 of a known profile
    // by id: more than two jobs' worth.
    let mut batch = Vec::new();
    for person in 0..240 {
        for n in 0..10 {
            let email = format!("reader{person}@example.org");
            let id = format!("e{person}-{n}");
            batch.push(event(&id, None, Some(&email), EngagementKind::Open, start + person * 60 + n));
        }
    }
    for n in 0..100 {
        batch.push(event(&format!("k{n}"), Some(&profile_id), None, EngagementKind::Click, start + n * 7));
    }
    let mut plugin = harness.open();
    let outcomes = plugin.write("events", batch.clone()).expect("a write");
    assert!(results(&outcomes).iter().all(|result| *result == "created"), "{:?}", results(&outcomes));
    assert_eq!(state.event_count(), before + 2500);
    let reader = state.profile_by_email("reader7@example.org").expect("the profile is upserted by email");
    assert_eq!(state.events_of(&reader.id).len(), 10);
    // A fresh instance sent a batch again (a resume) finds what Klaviyo
    // holds through the events' `cutover_id`: people 100 to 199, alone in
    // their time span.
    let again = harness.open().write("events", batch[1000..2000].to_vec()).expect("a write");
    assert!(results(&again).iter().all(|result| *result == "unchanged"), "{:?}", results(&again));
    // The whole set again: one page of the span is read, so some events are
    // not found and are sent again, and Klaviyo keeps each once.
    let all_again = harness.open().write("events", batch).expect("a write");
    assert!(results(&all_again).iter().all(|result| matches!(*result, "unchanged" | "created")));
    assert!(results(&all_again).contains(&"unchanged"));
    assert_eq!(state.event_count(), before + 2500);
}

#[test]
fn a_refused_job_is_halved_until_only_the_bad_events_are_rejected() {
    let harness = Harness::start(4);
    let state = harness.emulator.klaviyo().expect("klaviyo");
    let profile_id = state.profiles()[1].id.clone();
    let start = Utc::now().timestamp() - 30 * 24 * 3600;
    let before = state.event_count();
    let mut batch: Vec<Record> = (0..12)
        .map(|n| event(&format!("g{n}"), Some(&profile_id), None, EngagementKind::Open, start + n * 60))
        .collect();
    // Klaviyo refuses these, so the whole job: an unknown profile id and an
    // address it does not take.
    batch.insert(3, event("no-such", Some("01NOSUCHPROFILE00000000000"), None, EngagementKind::Open, start));
    batch.insert(9, event("bad-email", None, Some("not an address"), EngagementKind::Open, start + 5));
    // And these the plugin rejects before sending: no metric, a time before 1990 (the default revision takes 1990 on).
    let mut no_metric = event("no-metric", Some(&profile_id), None, EngagementKind::Open, start);
    if let Entity::EngagementEvent(event) = &mut no_metric.entity {
        event.kind = None;
    }
    batch.push(no_metric);
    batch.push(event("ancient", Some(&profile_id), None, EngagementKind::Open, 500_000_000));
    let outcomes = harness.open().write("events", batch).expect("a write");
    let rejected: Vec<(&str, String)> = outcomes
        .iter()
        .filter_map(|outcome| match &outcome.result {
            WriteResult::Rejected { reason } => Some((outcome.source_id.as_str(), reason.code.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        rejected,
        [
            ("no-such", "invalid".to_owned()),
            ("bad-email", "invalid".to_owned()),
            ("no-metric", "no_metric".to_owned()),
            ("ancient", "time_out_of_range".to_owned()),
        ]
    );
    assert_eq!(results(&outcomes).iter().filter(|result| **result == "created").count(), 12);
    assert_eq!(state.event_count(), before + 12);
}
