//! `POST /api/event-bulk-create-jobs`: up to 1,000 events in one request of
//! at most 5 MB, grouped per profile: `data.attributes.events-bulk-create.data[]`
//! holds `event-bulk-create` entries, each a `profile` (by id, or by
//! identifiers Klaviyo upserts) and its `events.data[]`.
//!
//! Klaviyo validates a job's body synchronously and answers 400 for the
//! whole job when any part of it is invalid, so nothing of it is stored;
//! a valid job answers 202 with no body and no per-event outcome. Each event
//! is checked as `POST /api/events` checks one ([`check_event`]) and kept
//! once per (profile, metric, unique id).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use serde_json::{Map, Value};

use cutover_emulator_kit::store::write;

use crate::app::{App, AppState, Revision, attributes_of, expect_type, parse_document};
use crate::errors::{KlError, Source};
use crate::events::{CheckedEvent, check_event, check_event_profile, new_event};
use crate::write::{conflicting_profile, find_profile, has_identifier, upsert};

/// Events one job may create.
pub(crate) const MAX_BULK_EVENTS: usize = 1000;
/// A job's payload cap.
pub(crate) const MAX_BULK_BYTES: usize = 5 * 1024 * 1024;

const ENTRIES: &str = "/data/attributes/events-bulk-create/data";

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new().route("/api/event-bulk-create-jobs", post(bulk_create_events))
}

/// One checked `event-bulk-create` entry.
struct Entry {
    pointer: String,
    profile_id: Option<String>,
    profile_attributes: Map<String, Value>,
    events: Vec<CheckedEvent>,
}

/// `expect_type`, pointing at `pointer`'s `type`.
fn expect_type_at(item: &Value, expected: &str, pointer: &str) -> Result<(), KlError> {
    expect_type(item, expected)
        .map_err(|error| KlError { source: Some(Box::new(Source::Pointer(format!("{pointer}/type")))), ..error })
}

fn array_at<'a>(attributes: &'a Map<String, Value>, name: &str, pointer: &str) -> Result<&'a Vec<Value>, KlError> {
    attributes.get(name).and_then(|member| member.get("data")).and_then(Value::as_array).ok_or_else(|| {
        KlError::invalid(format!("'{name}' with a 'data' array is required."), format!("{pointer}/{name}"))
    })
}

/// Parses and checks a whole job body; any error is the job's.
fn check_job(body: &[u8], revision: Revision) -> Result<Vec<Entry>, KlError> {
    if body.len() > MAX_BULK_BYTES {
        return Err(KlError::invalid(
            format!("The payload is {} bytes; a bulk create events job accepts at most 5 MB.", body.len()),
            "/data",
        ));
    }
    let data = parse_document(body)?;
    expect_type(&data, "event-bulk-create-job")?;
    let attributes = attributes_of(&data, "/data")?;
    let items = array_at(attributes, "events-bulk-create", "/data/attributes")?;
    let total: usize = items
        .iter()
        .map(|item| item.pointer("/attributes/events/data").and_then(Value::as_array).map_or(0, Vec::len))
        .sum();
    if total > MAX_BULK_EVENTS {
        return Err(KlError::invalid(
            format!("A bulk create events job may hold at most {MAX_BULK_EVENTS} events; this one has {total}."),
            ENTRIES,
        ));
    }
    let now = Utc::now();
    let mut entries = Vec::with_capacity(items.len());
    for (position, item) in items.iter().enumerate() {
        let pointer = format!("{ENTRIES}/{position}");
        expect_type_at(item, "event-bulk-create", &pointer)?;
        let item_attributes = attributes_of(item, &pointer)?;
        let (profile_id, profile_attributes) = check_event_profile(item_attributes, &format!("{pointer}/attributes"))?;
        let events = array_at(item_attributes, "events", &format!("{pointer}/attributes"))?;
        let mut checked = Vec::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            let event_pointer = format!("{pointer}/attributes/events/data/{index}");
            expect_type_at(event, "event", &event_pointer)?;
            let event_attributes = attributes_of(event, &event_pointer)?;
            checked.push(check_event(event_attributes, &format!("{event_pointer}/attributes"), revision, now)?);
        }
        entries.push(Entry { pointer, profile_id: profile_id.map(str::to_owned), profile_attributes, events: checked });
    }
    Ok(entries)
}

/// `POST /api/event-bulk-create-jobs`: 202 with no body, or 400 for the
/// whole job (see the module doc).
async fn bulk_create_events(
    State(app): AppState,
    Extension(revision): Extension<Revision>,
    body: Bytes,
) -> Result<Response, KlError> {
    let entries = check_job(&body, revision)?;
    let now = Utc::now();
    let mut store = write(app.state.store());
    // Who each entry names, checked against the store before anything of the
    // job changes it.
    for entry in &entries {
        let profile_pointer = format!("{}/attributes/profile/data", entry.pointer);
        let attributes = &entry.profile_attributes;
        let existing = match entry.profile_id.as_deref() {
            Some(id) if !store.profiles.contains_key(id) => {
                return Err(KlError::invalid(
                    format!("A profile with id {id} does not exist."),
                    format!("{profile_pointer}/id"),
                ));
            }
            Some(id) => Some(id.to_owned()),
            None => find_profile(&store, attributes),
        };
        let clash = match &existing {
            Some(id) => conflicting_profile(&store, attributes, Some(id)).is_some(),
            None => !has_identifier(attributes),
        };
        if clash {
            let detail = if existing.is_some() {
                "A profile already exists with one of these identifiers."
            } else {
                "One of email, phone_number, external_id or anonymous_id is required to identify a profile."
            };
            return Err(KlError::invalid(detail, format!("{profile_pointer}/attributes")));
        }
    }
    let mut pending = Vec::new();
    for entry in entries {
        // Two entries of one job can still clash with each other (one adds an
        // email another names); Klaviyo finds that while processing the job,
        // after its 202, and drops that entry: so does the emulator.
        let Ok((profile_id, _)) = upsert(&mut store, entry.profile_id.as_deref(), &entry.profile_attributes, None, now)
        else {
            continue;
        };
        let Some(&number) = store.profile_numbers.get(&profile_id) else {
            continue;
        };
        for event in entry.events {
            pending.extend(new_event(&mut store, number, event, now));
        }
    }
    store.insert_events(pending);
    Ok(StatusCode::ACCEPTED.into_response())
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use reqwest::Method;
    use serde_json::{Value, json};

    use crate::testing::{Emulator, start};

    fn request(emulator: &Emulator, revision: Option<&str>, key: Option<&str>) -> reqwest::RequestBuilder {
        let mut builder =
            reqwest::Client::new().request(Method::POST, format!("{}/api/event-bulk-create-jobs", emulator.base_url));
        if let Some(revision) = revision {
            builder = builder.header("revision", revision);
        }
        if let Some(key) = key {
            builder = builder.header("Authorization", format!("Klaviyo-API-Key {key}"));
        }
        builder
    }

    async fn post(emulator: &Emulator, body: &Value) -> (u16, Value) {
        crate::testing::post(emulator, "event-bulk-create-jobs", body).await
    }

    fn event(metric: &str, time: &str, unique_id: &str) -> Value {
        json!({"type": "event", "attributes": {
            "properties": {"cutover_id": unique_id}, "time": time, "unique_id": unique_id,
            "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
        }})
    }

    fn entry(profile: Value, events: Vec<Value>) -> Value {
        json!({"type": "event-bulk-create", "attributes": {"profile": {"data": profile}, "events": {"data": events}}})
    }

    fn job(entries: Vec<Value>) -> Value {
        json!({"data": {"type": "event-bulk-create-job", "attributes": {"events-bulk-create": {"data": entries}}}})
    }

    #[tokio::test]
    async fn an_accepted_job_stores_its_events_once() {
        let emulator = start(21, 4, false).await;
        let state = emulator.state();
        let profile_id = state.profiles()[0].id.clone();
        let before = state.events_of(&profile_id).len();
        let body = job(vec![
            entry(
                json!({"type": "profile", "id": profile_id}),
                vec![
                    event("Opened Email", "2026-02-01T10:00:00Z", "m:1"),
                    event("Clicked Email", "2026-02-01T10:05:00Z", "m:2"),
                    // The same key twice in one job: kept once.
                    event("Clicked Email", "2026-02-01T10:05:00Z", "m:2"),
                ],
            ),
            entry(
                json!({"type": "profile", "attributes": {"email": "bulk.new@example.org"}}),
                vec![event("Opened Email", "2026-02-02T10:00:00Z", "m:3")],
            ),
        ]);
        let total = state.event_count();
        assert_eq!(post(&emulator, &body).await, (202, Value::Null));
        assert_eq!(state.event_count(), total + 3);
        let mine = state.events_of(&profile_id);
        assert_eq!(mine.len(), before + 2);
        assert!(
            mine.iter().any(|(metric, _, properties)| metric == "Clicked Email" && properties["cutover_id"] == "m:2")
        );
        let created = state.profile_by_email("bulk.new@example.org").expect("the profile is upserted");
        assert_eq!(state.events_of(&created.id).len(), 1);
        assert!(created.last_event_date.is_some());
        // Sent again: Klaviyo dedupes on (profile, metric, unique id).
        assert_eq!(post(&emulator, &body).await.0, 202);
        assert_eq!(state.event_count(), total + 3);
        // A single POST /api/events with a held key is kept out too.
        let single = json!({"data": {"type": "event", "attributes": {
            "properties": {}, "time": "2026-02-01T10:00:00Z", "unique_id": "m:1",
            "metric": {"data": {"type": "metric", "attributes": {"name": "Opened Email"}}},
            "profile": {"data": {"type": "profile", "id": profile_id}},
        }}});
        let response = reqwest::Client::new()
            .post(format!("{}/api/events", emulator.base_url))
            .header("revision", "2024-10-15")
            .header("Authorization", format!("Klaviyo-API-Key {}", emulator.api_key))
            .json(&single)
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status().as_u16(), 202);
        assert_eq!(state.event_count(), total + 3);
    }

    #[tokio::test]
    async fn an_invalid_job_is_refused_whole() {
        let emulator = start(21, 3, false).await;
        let state = emulator.state();
        let total = state.event_count();
        let code = |body: &Value| body["errors"][0]["code"].as_str().map(str::to_owned);
        let pointer = |body: &Value| body["errors"][0]["source"]["pointer"].as_str().map(str::to_owned);

        // Over 1,000 events, spread over profiles.
        let many = |count: usize, email: &str| {
            entry(
                json!({"type": "profile", "attributes": {"email": email}}),
                (0..count).map(|n| event("Opened Email", "2026-01-01T00:00:00Z", &format!("x:{n}"))).collect(),
            )
        };
        let (status, body) = post(&emulator, &job(vec![many(600, "a@example.org"), many(401, "b@example.org")])).await;
        assert_eq!((status, code(&body)), (400, Some("invalid".to_owned())));
        assert_eq!(pointer(&body).as_deref(), Some(super::ENTRIES));
        assert_eq!(post(&emulator, &job(vec![many(600, "a@example.org"), many(400, "b@example.org")])).await.0, 202);
        assert_eq!(state.event_count(), total + 1000);
        let total = state.event_count();

        // Over 5 MB.
        let big = "x".repeat(60_000);
        let heavy: Vec<Value> = (0..90)
            .map(|n| {
                let mut one = event("Opened Email", "2026-01-01T00:00:00Z", &format!("big:{n}"));
                one["attributes"]["properties"]["blob"] = Value::from(big.as_str());
                one
            })
            .collect();
        let body = job(vec![entry(json!({"type": "profile", "attributes": {"email": "c@example.org"}}), heavy)]);
        assert!(body.to_string().len() > super::MAX_BULK_BYTES);
        let (status, answer) = post(&emulator, &body).await;
        assert_eq!((status, code(&answer)), (400, Some("invalid".to_owned())));

        // One bad event in the second entry: nothing of the job is stored,
        // not even the first entry's new profile.
        let body = job(vec![
            entry(
                json!({"type": "profile", "attributes": {"email": "first@example.org"}}),
                vec![event("Opened Email", "2026-01-01T00:00:00Z", "ok:1")],
            ),
            entry(
                json!({"type": "profile", "attributes": {"email": "second@example.org"}}),
                vec![event(&"m".repeat(128), "2026-01-01T00:00:00Z", "bad:1")],
            ),
        ]);
        let (status, answer) = post(&emulator, &body).await;
        assert_eq!((status, code(&answer)), (400, Some("invalid".to_owned())));
        assert_eq!(
            pointer(&answer).as_deref(),
            Some(
                "/data/attributes/events-bulk-create/data/1/attributes/events/data/0/attributes/metric/data/attributes/name"
            )
        );
        assert_eq!(state.event_count(), total);
        assert!(state.profile_by_email("first@example.org").is_none());

        // A time before 2000 on the 2024-10-15 revision, an unknown profile
        // id, a wrong type.
        let old = job(vec![entry(
            json!({"type": "profile", "attributes": {"email": "d@example.org"}}),
            vec![event("Opened Email", "1995-01-01T00:00:00Z", "old")],
        )]);
        assert_eq!(post(&emulator, &old).await.0, 400);
        let unknown = job(vec![entry(
            json!({"type": "profile", "id": "01NOSUCHPROFILE0000000000"}),
            vec![event("Opened Email", "2026-01-01T00:00:00Z", "u")],
        )]);
        assert_eq!(post(&emulator, &unknown).await.0, 400);
        let mut wrong = job(Vec::new());
        wrong["data"]["type"] = Value::from("event");
        assert_eq!(post(&emulator, &wrong).await.0, 400);
        assert_eq!(state.event_count(), total);
    }

    #[tokio::test]
    async fn key_revision_and_the_m_tier_apply() {
        let emulator = start(21, 2, false).await;
        let body = job(Vec::new()).to_string();
        let no_key = request(&emulator, Some("2024-10-15"), None).body(body.clone()).send().await.expect("answer");
        assert_eq!(no_key.status().as_u16(), 401);
        let wrong_key = request(&emulator, Some("2024-10-15"), Some("pk_wrong")).body(body.clone()).send().await;
        assert_eq!(wrong_key.expect("answer").status().as_u16(), 401);
        let no_revision = request(&emulator, None, Some(&emulator.api_key)).body(body.clone()).send().await;
        assert_eq!(no_revision.expect("answer").status().as_u16(), 400);
        let ok =
            request(&emulator, Some("2024-10-15"), Some(&emulator.api_key)).body(body).send().await.expect("answer");
        assert_eq!(ok.status().as_u16(), 202);
        assert_eq!(ok.headers()["ratelimit-limit"], "150");
    }

    #[tokio::test]
    async fn a_hundred_thousand_events_are_written_quickly() {
        let emulator = start(21, 50, true).await;
        let state = emulator.state();
        let total = state.event_count();
        let started = Instant::now();
        for round in 0..100 {
            let entries = (0..10)
                .map(|person| {
                    let email = format!("p{person}@example.org");
                    let events = (0..100)
                        .map(|n| {
                            let second = (round * 1000 + person * 100 + n) % 86_400;
                            let time =
                                format!("2025-06-01T{:02}:{:02}:{:02}Z", second / 3600, second / 60 % 60, second % 60);
                            event("Opened Email", &time, &format!("r{round}:{person}:{n}"))
                        })
                        .collect();
                    entry(json!({"type": "profile", "attributes": {"email": email}}), events)
                })
                .collect();
            assert_eq!(post(&emulator, &job(entries)).await.0, 202);
        }
        assert_eq!(state.event_count(), total + 100_000);
        assert!(started.elapsed().as_secs() < 120, "took {:?}", started.elapsed());
    }
}
