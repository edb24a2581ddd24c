//! The `events` stream: `GET /api/events` in time order as engagement
//! events, their metric named through `GET /api/metrics`; written through
//! bulk create jobs (`POST /api/event-bulk-create-jobs`, up to 1,000 events
//! and 5 MB a job, grouped per profile), each event with `unique_id`
//! `<platform>:<source id>` so Klaviyo keeps a repeated event once, and with
//! that id in its `cutover_id` property too.
//!
//! A batch's jobs are sent together (at most four in flight), paced by
//! the endpoint's limiter, so a job waiting out a 429 or a 5xx leaves the
//! rate limit to the others.
//!
//! A job names each profile by id when the record has a contact reference,
//! else by email, which Klaviyo upserts: no profile is looked up first.
//! A job answers 202 with no per-event outcome, so where Klaviyo may hold
//! events of a batch already (an instance's first batch, which a resumed run
//! sends again, and the batch after a failed write), the events Klaviyo
//! holds between the batch's first and last time are read first (`GET
//! /api/events` filtered on that span, one page whatever the number of
//! profiles), and an event whose `cutover_id` is among them is `unchanged`
//! and not sent. Within a batch, a second event
//! with the same profile, metric and second, or the same `unique_id`, is
//! `unchanged` too.
//!
//! Events this plugin can judge invalid (no time, no metric, a metric name
//! over 127 characters, too many properties, a time out of the revision's
//! range, too large for a job) are rejected before any job is sent. Klaviyo
//! refuses a job with any invalid event whole (400): such a job is halved
//! until the events it refuses are alone, and only those are rejected.

use super::{PagePosition, map_items, outcome, parse_cursor, read_page, rejected, render_cursor};
use crate::client::{Api, Endpoint, is_record_error, reject_reason, resource_id};
use crate::mapping::{EVENT_ID_FIELD, event_body, event_profile_data, event_record, render_instant};
use chrono::{DateTime, Datelike, Duration, Utc};
use cutover_http::{PageStyle, Paginator, Request};
use cutover_sdk::prelude::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The first revision whose `GET /api/events` takes `page[size]` (up to
/// 1000); older ones give a fixed 200.
const SIZED_PAGES_FROM: &str = "2026-07-15";
/// Most events a page holds.
const MAX_PAGE: usize = 1000;
/// Pages of the batch's time span read to find what Klaviyo already holds:
/// one, so a job costs one read whatever the target holds. A page finds
/// every held event of a batch that was sent before and not committed (the
/// resume case) unless its span is crowded by other events, such as a
/// campaign's sends at one second.
const MAX_SPAN_PAGES: usize = 1;
/// The attributes read of those events: their properties hold `cutover_id`.
const EVENT_FIELDS: &str = "event_properties";
/// Events one bulk create job may hold.
const MAX_JOB_EVENTS: usize = 1000;
/// What a job's body may weigh: Klaviyo's 5 MB less room for its envelope.
const MAX_JOB_BYTES: usize = 5 * 1024 * 1024 - 64 * 1024;
/// What a job's body spends per event besides the event and its profile.
const EVENT_OVERHEAD: usize = 128;
/// Times a refused job is halved before its events are all rejected: ten
/// halvings take 1,000 events down to one.
const MAX_SPLITS: u32 = 11;
/// Jobs of one batch in flight at once: enough that a job waiting out a
/// 429 or a 5xx leaves the rate limit to the others.
const JOBS_IN_FLIGHT: usize = 4;
/// The longest metric name Klaviyo takes, in characters.
const MAX_METRIC_NAME: usize = 127;

/// Metric names by id, loaded once and reloaded when an unknown id shows up.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    names: BTreeMap<String, String>,
    loaded: bool,
}

impl Metrics {
    /// Makes sure every id in `wanted` has a name, if Klaviyo knows it.
    async fn cover(&mut self, api: &Api, wanted: impl IntoIterator<Item = &str>) -> Result<(), PluginError> {
        let missing = wanted.into_iter().any(|id| !self.names.contains_key(id));
        if self.loaded && !missing {
            return Ok(());
        }
        let mut names = BTreeMap::new();
        let mut pages = Paginator::new(
            Request::get("api/metrics"),
            PageStyle::NextLink { next_pointer: "/links/next".into(), size_param: None },
            "/data",
            200,
        );
        let client = api.client(Endpoint::Metrics)?;
        while let Some(page) = pages.next_page(client).await? {
            for metric in &page.items {
                if let (Some(id), Some(name)) =
                    (resource_id(metric), metric.pointer("/attributes/name").and_then(Value::as_str))
                {
                    names.insert(id.to_owned(), name.to_owned());
                }
            }
        }
        self.names = names;
        self.loaded = true;
        Ok(())
    }
}

fn metric_ids(items: &[Value]) -> Vec<&str> {
    items.iter().filter_map(|item| item.pointer("/relationships/metric/data/id").and_then(Value::as_str)).collect()
}

/// The events paginator for `revision`, `size` a page where it can choose.
fn paginator(request: Request, revision: &str, size: usize) -> Paginator {
    if revision >= SIZED_PAGES_FROM {
        Paginator::json_api(request, size.clamp(1, MAX_PAGE) as u32)
    } else {
        let style = PageStyle::NextLink { next_pointer: "/links/next".into(), size_param: None };
        Paginator::new(request, style, "/data", 200)
    }
}

/// Reads events after `cursor`, oldest first.
pub(crate) async fn read(
    api: &Api,
    revision: &str,
    metrics: &mut Metrics,
    cursor: Option<&str>,
    max: usize,
) -> Result<ReadBatch, PluginError> {
    let position: PagePosition = parse_cursor(cursor)?;
    let pages = paginator(Request::get("api/events").query("sort", "datetime"), revision, max);
    let page = read_page(api, Endpoint::ReadEvents, &pages, position, max).await?;
    metrics.cover(api, metric_ids(&page.items)).await?;
    let mut batch = ReadBatch::default();
    map_items(&mut batch, "event", &page.items, |event| event_record(event, &metrics.names));
    batch.next_cursor = Some(render_cursor(&page.next)?);
    batch.done = page.done;
    Ok(batch)
}

/// What an instance knows of the events it wrote.
#[derive(Debug)]
pub(crate) struct Written {
    /// Whether Klaviyo may hold events of the next batch that this
    /// instance has not seen go through: before its first batch (a resumed
    /// run sends again the batch it had not committed) and after a write
    /// that failed part way. Only then is a batch's span read.
    may_hold: bool,
    /// The unique ids of the last batch written, which a batch sent twice
    /// in a row holds again.
    last_batch: HashSet<String>,
}

impl Default for Written {
    fn default() -> Written {
        Written { may_hold: true, last_batch: HashSet::new() }
    }
}

/// Writes engagement events through bulk create jobs.
pub(crate) async fn write(
    api: &Api,
    revision: &str,
    written: &mut Written,
    records: Vec<Record>,
) -> Result<Vec<WriteOutcome>, PluginError> {
    let now = Utc::now();
    let planned: Vec<Result<Planned, RejectReason>> =
        records.iter().map(|record| plan(record, revision, now)).collect();
    let mut held = if written.may_hold { held_events(api, revision, &planned).await? } else { HashMap::new() };
    for unique_id in written.last_batch.drain() {
        held.entry(unique_id.clone()).or_insert(unique_id);
    }
    // Until this write succeeds, a job of it may have gone through.
    written.may_hold = true;
    let mut outcomes: Vec<Option<WriteOutcome>> = records.iter().map(|_| None).collect();
    let mut seen_keys: HashSet<(&ProfileKey, &str, i64)> = HashSet::new();
    let mut seen_ids: HashSet<&str> = HashSet::new();
    let mut queued = Vec::new();
    for (index, (record, plan)) in records.iter().zip(&planned).enumerate() {
        let plan = match plan {
            Ok(plan) => plan,
            Err(reason) => {
                outcomes[index] = Some(rejected(&record.source_id, reason.clone()));
                continue;
            }
        };
        let fresh_key = seen_keys.insert((&plan.profile, plan.metric.as_str(), plan.at.timestamp()));
        let fresh_id = seen_ids.insert(plan.unique_id.as_str());
        let result = if let Some(event_id) = held.get(&plan.unique_id) {
            WriteResult::Unchanged { target_id: event_id.as_str().into() }
        } else if !(fresh_key && fresh_id) {
            // The same metric at the same second for the same profile, or the
            // same event, earlier in this batch: Klaviyo keeps the first.
            WriteResult::Unchanged { target_id: plan.unique_id.as_str().into() }
        } else {
            queued.push(index);
            continue;
        };
        outcomes[index] = Some(outcome(&record.source_id, result));
    }
    // The jobs go out together, paced by the endpoint's limiter, so one
    // waiting out a retry does not hold up the others.
    let sends = pack(&planned, queued).into_iter().map(|job| send_job(api, &records, &planned, job));
    let mut sent = futures_util::stream::iter(sends).buffer_unordered(JOBS_IN_FLIGHT);
    while let Some(job) = sent.next().await {
        for (index, outcome) in job? {
            outcomes[index] = Some(outcome);
        }
    }
    written.may_hold = false;
    written.last_batch = planned
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| {
            outcome.as_ref().is_some_and(|outcome| !matches!(outcome.result, WriteResult::Rejected { .. }))
        })
        .filter_map(|(plan, _)| Some(plan.as_ref().ok()?.unique_id.clone()))
        .collect();
    Ok(outcomes
        .into_iter()
        .zip(&records)
        .map(|(outcome, record)| {
            outcome.unwrap_or_else(|| {
                rejected(&record.source_id, RejectReason::new("not_written", "the event was not sent to klaviyo"))
            })
        })
        .collect())
}

/// Who an event happened to, as its job names the profile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ProfileKey {
    /// A Klaviyo profile id, from the contact reference.
    Id(String),
    /// A lowercased email address.
    Email(String),
}

/// An event ready for a job.
#[derive(Debug)]
struct Planned {
    /// The job entry's event (`{"type": "event", ...}`).
    event: Value,
    profile: ProfileKey,
    /// The job entry's `profile.data`.
    profile_data: Value,
    metric: String,
    /// To the second.
    at: DateTime<Utc>,
    unique_id: String,
    /// An upper bound of what the event adds to a job's body.
    bytes: usize,
}

/// The property keys and the earliest year an event may have under
/// `revision` (`shared/platforms/klaviyo.md` §2).
fn event_limits(revision: &str) -> (usize, i32) {
    if revision >= SIZED_PAGES_FROM { (400, 1990) } else { (300, 2000) }
}

/// What writing `record` takes, or why Klaviyo would refuse it.
fn plan(record: &Record, revision: &str, now: DateTime<Utc>) -> Result<Planned, RejectReason> {
    let (event, profile) = event_body(record)?;
    let metric =
        event.pointer("/attributes/metric/data/attributes/name").and_then(Value::as_str).unwrap_or_default().to_owned();
    let metric_length = metric.chars().count();
    if metric_length == 0 || metric_length > MAX_METRIC_NAME {
        return Err(RejectReason::new(
            "invalid_metric",
            format!("klaviyo takes metric names of 1 to {MAX_METRIC_NAME} characters; this one has {metric_length}"),
        ));
    }
    let at = match &record.entity {
        Entity::EngagementEvent(event) => event.occurred_at,
        _ => None,
    }
    .and_then(|at| DateTime::from_timestamp(at.timestamp(), 0))
    .ok_or_else(|| RejectReason::new("no_time", "the event has no time"))?;
    let (max_keys, earliest_year) = event_limits(revision);
    if at.year() < earliest_year || at > now + Duration::days(365) {
        return Err(RejectReason::new(
            "time_out_of_range",
            format!("klaviyo takes event times after {earliest_year} and at most a year ahead; this one is {at}"),
        ));
    }
    let keys = event.pointer("/attributes/properties").and_then(Value::as_object).map_or(0, serde_json::Map::len);
    if keys > max_keys {
        return Err(RejectReason::new(
            "too_many_properties",
            format!("klaviyo takes at most {max_keys} event properties on revision {revision}; this event has {keys}"),
        ));
    }
    let profile_data = event_profile_data(&profile);
    let bytes = serde_json::to_string(&event).map_or(usize::MAX, |text| text.len())
        + serde_json::to_string(&profile_data).map_or(usize::MAX, |text| text.len())
        + EVENT_OVERHEAD;
    if bytes > MAX_JOB_BYTES {
        return Err(RejectReason::new("too_large", format!("the event takes {bytes} bytes; a klaviyo job takes 5 MB")));
    }
    let key = match (profile.id, profile.email) {
        (Some(id), _) => ProfileKey::Id(id),
        (None, email) => ProfileKey::Email(email.unwrap_or_default().trim().to_lowercase()),
    };
    let unique_id = event.pointer("/attributes/unique_id").and_then(Value::as_str).unwrap_or_default().to_owned();
    Ok(Planned { event, profile: key, profile_data, metric, at, unique_id, bytes })
}

/// The events of the batch Klaviyo already holds, as unique id (their
/// `cutover_id` property) to event id: every event between the batch's
/// first and last time, read in at most [`MAX_SPAN_PAGES`] pages.
async fn held_events(
    api: &Api,
    revision: &str,
    planned: &[Result<Planned, RejectReason>],
) -> Result<HashMap<String, String>, PluginError> {
    let times = planned.iter().filter_map(|plan| plan.as_ref().ok()).map(|plan| plan.at);
    let (Some(from), Some(until)) = (times.clone().min(), times.max()) else {
        return Ok(HashMap::new());
    };
    let filter = format!(
        "and(greater-or-equal(datetime,{}),less-or-equal(datetime,{}))",
        render_instant(&from),
        render_instant(&until)
    );
    let request = Request::get("api/events").query("filter", filter).query("fields[event]", EVENT_FIELDS);
    let mut pages = paginator(request, revision, MAX_PAGE);
    let client = api.client(Endpoint::ReadEvents)?;
    let mut held = HashMap::new();
    for _ in 0..MAX_SPAN_PAGES {
        let Some(page) = pages.next_page(client).await? else {
            return Ok(held);
        };
        for event in &page.items {
            let unique_id =
                event.pointer(&format!("/attributes/event_properties/{EVENT_ID_FIELD}")).and_then(Value::as_str);
            if let (Some(unique_id), Some(event_id)) = (unique_id, resource_id(event)) {
                held.insert(unique_id.to_owned(), event_id.to_owned());
            }
        }
        if page.done {
            return Ok(held);
        }
    }
    // The span holds more events than the bound reads (a busy account): the
    // events not found yet are treated as new. Klaviyo drops those it holds
    // (same profile, metric and unique id), so nothing is doubled; such an
    // event is only reported `created` where `unchanged` was true.
    Ok(held)
}

/// The queued events (indexes into `planned`) as jobs: grouped by profile in
/// order of first appearance, at most [`MAX_JOB_EVENTS`] events and
/// [`MAX_JOB_BYTES`] a job. A profile's events stay next to each other, so a
/// job (or a half of one) names each profile once or twice at most.
fn pack(planned: &[Result<Planned, RejectReason>], queued: Vec<usize>) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: HashMap<&ProfileKey, usize> = HashMap::new();
    for index in queued {
        let Some(Ok(plan)) = planned.get(index) else {
            continue;
        };
        let group = *group_of.entry(&plan.profile).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[group].push(index);
    }
    let mut jobs = Vec::new();
    let mut job: Vec<usize> = Vec::new();
    let mut bytes = 0;
    for index in groups.into_iter().flatten() {
        let size = planned.get(index).and_then(|plan| plan.as_ref().ok()).map_or(0, |plan| plan.bytes);
        if !job.is_empty() && (job.len() >= MAX_JOB_EVENTS || bytes + size > MAX_JOB_BYTES) {
            jobs.push(std::mem::take(&mut job));
            bytes = 0;
        }
        job.push(index);
        bytes += size;
    }
    if !job.is_empty() {
        jobs.push(job);
    }
    jobs
}

/// The body of a job of these events: one entry per run of events of the
/// same profile.
fn job_body(planned: &[Result<Planned, RejectReason>], job: &[usize]) -> Value {
    let mut entries: Vec<Value> = Vec::new();
    let mut current: Option<(&ProfileKey, &Value, Vec<&Value>)> = None;
    for plan in job.iter().filter_map(|index| planned.get(*index).and_then(|plan| plan.as_ref().ok())) {
        match &mut current {
            Some((profile, _, events)) if *profile == &plan.profile => events.push(&plan.event),
            _ => {
                if let Some((_, profile_data, events)) = current.take() {
                    entries.push(job_entry(profile_data, &events));
                }
                current = Some((&plan.profile, &plan.profile_data, vec![&plan.event]));
            }
        }
    }
    if let Some((_, profile_data, events)) = current {
        entries.push(job_entry(profile_data, &events));
    }
    json!({"data": {"type": "event-bulk-create-job", "attributes": {"events-bulk-create": {"data": entries}}}})
}

fn job_entry(profile_data: &Value, events: &[&Value]) -> Value {
    json!({
        "type": "event-bulk-create",
        "attributes": {"profile": {"data": profile_data}, "events": {"data": events}},
    })
}

/// Sends a job. Klaviyo refuses a job with any invalid event whole, so a
/// refused job is halved, at most [`MAX_SPLITS`] times, until the events it
/// refuses are alone; only those are rejected.
async fn send_job(
    api: &Api,
    records: &[Record],
    planned: &[Result<Planned, RejectReason>],
    job: Vec<usize>,
) -> Result<Vec<(usize, WriteOutcome)>, PluginError> {
    let mut outcomes = Vec::with_capacity(job.len());
    let mut pending = vec![(job, 0)];
    while let Some((mut job, splits)) = pending.pop() {
        let Some(&first) = job.first() else {
            continue;
        };
        let body = job_body(planned, &job);
        // Klaviyo drops an event whose (profile, metric, unique_id) it holds:
        // a job is safe to send again.
        let request = Request::post("api/event-bulk-create-jobs").retry_safe();
        match api.write(Endpoint::BulkEvents, request, &body).await {
            Ok(_) => {
                for index in job {
                    if let (Some(record), Some(Ok(plan))) = (records.get(index), planned.get(index)) {
                        let target_id = plan.unique_id.as_str().into();
                        outcomes.push((index, outcome(&record.source_id, WriteResult::Created { target_id })));
                    }
                }
            }
            Err(error) if is_record_error(&error) && job.len() > 1 && splits < MAX_SPLITS => {
                let back = job.split_off(job.len() / 2);
                pending.push((back, splits + 1));
                pending.push((job, splits + 1));
            }
            Err(error) if is_record_error(&error) => {
                let reason = reject_reason(&error);
                for index in job {
                    if let Some(record) = records.get(index) {
                        outcomes.push((index, rejected(&record.source_id, reason.clone())));
                    }
                }
            }
            Err(error) => {
                let source_id = records.get(first).map_or("?", |record| record.source_id.as_str());
                return Err(PluginError::from(error).for_record(source_id));
            }
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_sdk::schema::{EngagementEvent, EngagementKind, Reference};

    fn event(id: &str, profile: Option<&str>, email: Option<&str>, seconds: i64) -> Record {
        let at = DateTime::from_timestamp(seconds, 0);
        Record::new(
            "mailchimp",
            id,
            at.unwrap_or(DateTime::UNIX_EPOCH),
            Entity::EngagementEvent(EngagementEvent {
                kind: Some(EngagementKind::Open),
                occurred_at: at,
                contact: profile.map(|profile| Reference::new(EntityKind::Contact, profile)),
                email: email.map(Into::into),
                ..EngagementEvent::default()
            }),
        )
    }

    const NOW: i64 = 1_790_000_000;

    fn planned(records: &[Record]) -> Vec<Result<Planned, RejectReason>> {
        let now = DateTime::from_timestamp(NOW, 0).unwrap_or(DateTime::UNIX_EPOCH);
        records.iter().map(|record| plan(record, "2024-10-15", now)).collect()
    }

    #[test]
    fn invalid_events_are_judged_locally() {
        let mut long_metric = event("m", Some("P1"), None, NOW - 10);
        long_metric.custom_fields.insert("metric".into(), CustomValue::Text("x".repeat(128).into()));
        let mut many = event("k", Some("P1"), None, NOW - 10);
        for n in 0..300 {
            many.custom_fields.insert(format!("p{n}").into(), CustomValue::Text("v".into()));
        }
        let records = vec![
            event("ok", Some("P1"), None, NOW - 10),
            event("old", Some("P1"), None, 900_000_000),
            event("ahead", Some("P1"), None, NOW + 400 * 86_400),
            long_metric,
            many,
        ];
        let codes: Vec<String> = planned(&records)
            .into_iter()
            .map(|plan| plan.map_or_else(|reason| reason.code.to_string(), |_| "ok".to_owned()))
            .collect();
        assert_eq!(codes, ["ok", "time_out_of_range", "time_out_of_range", "invalid_metric", "too_many_properties"]);
        // 400 keys are allowed from the 2026 snapshot on (300 plus the
        // dedupe property is over 300 before).
        let now = DateTime::from_timestamp(NOW, 0).unwrap_or(DateTime::UNIX_EPOCH);
        assert!(plan(&records[4], "2026-07-15", now).is_ok());
        assert!(plan(&records[1], "2026-07-15", now).is_ok(), "1998 is after 1990: fine from the 2026 snapshot on");
    }

    #[test]
    fn jobs_group_by_profile_and_respect_the_caps() {
        let mut records = Vec::new();
        for n in 0..2500 {
            let profile = format!("P{}", n % 3);
            records.push(event(&format!("e{n}"), Some(&profile), None, NOW - 1000 + n));
        }
        records.push(event("by-email", None, Some(" Someone@Example.org "), NOW - 5));
        let planned = planned(&records);
        let queued: Vec<usize> = (0..records.len()).collect();
        let jobs = pack(&planned, queued);
        assert_eq!(jobs.iter().map(Vec::len).collect::<Vec<_>>(), [1000, 1000, 501]);
        let body = job_body(&planned, &jobs[0]);
        let entries = body.pointer("/data/attributes/events-bulk-create/data").and_then(Value::as_array).unwrap();
        assert_eq!(entries.len(), 2, "the first job holds P0's 834 events and 166 of P1's");
        assert_eq!(entries[0]["attributes"]["profile"]["data"], json!({"type": "profile", "id": "P0"}));
        assert_eq!(entries[0]["attributes"]["events"]["data"].as_array().map(Vec::len), Some(834));
        let last = job_body(&planned, &jobs[2]);
        let entries = last.pointer("/data/attributes/events-bulk-create/data").and_then(Value::as_array).unwrap();
        let email = entries.last().unwrap()["attributes"]["profile"]["data"].clone();
        assert_eq!(email, json!({"type": "profile", "attributes": {"email": "Someone@Example.org"}}));

        // Heavy events split on bytes before the count.
        let heavy: Vec<Record> = (0..20)
            .map(|n| {
                let mut record = event(&format!("h{n}"), Some("P1"), None, NOW - 100);
                record.custom_fields.insert("blob".into(), CustomValue::Text("x".repeat(600_000).into()));
                record
            })
            .collect();
        let planned = super::tests::planned(&heavy);
        let jobs = pack(&planned, (0..heavy.len()).collect());
        assert!(jobs.len() >= 3);
        for job in &jobs {
            assert!(job_body(&planned, job).to_string().len() < 5 * 1024 * 1024);
        }
    }
}
