//! The `events` stream: `GET /api/events` in time order as engagement
//! events, their metric named through `GET /api/metrics`; written through
//! bulk create jobs (`POST /api/event-bulk-create-jobs`, up to 1,000 events
//! and 5 MB a job, grouped per profile), each event with `unique_id`
//! `<platform>:<source id>` so Klaviyo keeps a repeated event once, and with
//! that id in its `cutover_id` property too. A job names no event ids, so
//! that unique id is an event's target id, whether the write sent it or
//! found it held; the event reads back under it (see `mapping::event_record`).
//!
//! A batch's jobs are sent together (at most four in flight), paced by
//! the endpoint's limiter, so a job waiting out a 429 or a 5xx leaves the
//! rate limit to the others.
//!
//! A job names each profile by id when the record has a contact reference,
//! else by email, which Klaviyo upserts: no profile is looked up to send it.
//! A job answers 202 with no per-event outcome, so where Klaviyo may hold
//! events of a batch already (an instance's first batch, which a resumed run
//! sends again, and the batch after a failed write), what Klaviyo holds at
//! the batch's times is read first, and an event it holds under Klaviyo's
//! own dedupe key (the same `unique_id`, read from the `cutover_id`
//! property, the same metric and the same profile) is `unchanged` and not
//! sent. An event held under that unique id for another metric or profile
//! is not the batch's: Klaviyo stores the batch's as new.
//!
//! That read costs one request (`GET /api/events` filtered on the batch's
//! first and last second, at the revision's largest page) where the span
//! holds no more than a page: a first write, a resumed batch alone in its
//! span. Otherwise the rest is read per metric of the batch (filtered on
//! its `metric_id`; a metric Klaviyo does not know holds nothing), from
//! where that page stopped, and a page that ends between two of the batch's
//! times starts a new read at the next one. So every held event is found
//! whatever the batch size, at a cost the batch sets, not what the span
//! holds between its times: per metric, at most two pages per distinct
//! second of the batch besides the full pages of events at those seconds.
//! The metrics are listed (`GET /api/metrics`) only when the span holds more
//! than a page or events under the batch's unique ids were found, and the
//! profiles of those the batch names by email are read (100 a request) to
//! compare addresses. Within a batch, a second event
//! with the same profile, metric and second, or the same `unique_id`, is
//! `unchanged` too.
//!
//! Events this plugin can judge invalid (no time, no metric, a metric name
//! over 127 characters, too many properties, a time out of the revision's
//! range, too large for a job) are rejected before any job is sent. Klaviyo
//! refuses a job with any invalid event whole (400): such a job is halved
//! until the events it refuses are alone, and only those are rejected.

use crate::Klaviyo;
use crate::client::{Api, Endpoint, is_record_error, profile_email, reject_reason, resource_id};
use crate::mapping::{EVENT_ID_FIELD, event_body, event_profile_data, event_record, render_instant};
use chrono::{DateTime, Datelike, Duration, Utc};
use cutover_http::{HttpClient, PageCursor, PageStyle, Paginator, Request};
use cutover_sdk::prelude::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The first revision whose `GET /api/events` takes `page[size]` (up to
/// 1000); older ones give a fixed 200.
const SIZED_PAGES_FROM: &str = "2026-07-15";
/// Most events a page holds.
const MAX_PAGE: usize = 1000;
/// The attributes read of the events Klaviyo holds at a batch's times:
/// their properties hold `cutover_id`, and their time says how far a page
/// reached.
const EVENT_FIELDS: &str = "event_properties,timestamp";
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

    /// The ids of the metrics named `name`: an account may hold several of
    /// one name (from different integrations).
    fn ids_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.names.iter().filter(move |(_, known)| *known == name).map(|(id, _)| id.as_str())
    }
}

fn metric_ids<'a>(items: impl Iterator<Item = &'a Value>) -> Vec<&'a str> {
    items.filter_map(|item| item.pointer("/relationships/metric/data/id").and_then(Value::as_str)).collect()
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

/// The `events` stream.
pub(crate) struct Events;

impl Stream<Klaviyo> for Events {
    const NAME: &'static str = "events";
    const ENTITY: EntityKind = EntityKind::EngagementEvent;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    /// Reads events oldest first, their metrics named before they are
    /// mapped.
    async fn read(
        plugin: &mut Klaviyo,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let Klaviyo { api, revision, pages, metrics, .. } = plugin;
        let paginator = paginator(Request::get("api/events").query("sort", "datetime"), revision, max_records);
        let client = api.client(Endpoint::ReadEvents)?;
        let taken = pages.take(client, paginator, "events", cursor, max_records).await?;
        metrics.cover(api, metric_ids(taken.items())).await?;
        Ok(taken.map(|event| event_record(event, &metrics.names)))
    }

    /// Writes engagement events through bulk create jobs.
    async fn write(plugin: &mut Klaviyo, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let Klaviyo { api, revision, events_written: written, .. } = plugin;
        let now = Utc::now();
        let planned: Vec<Result<Planned, RejectReason>> =
            records.iter().map(|record| plan(record, revision, now)).collect();
        let mut held = if written.may_hold { held_events(api, revision, &planned).await? } else { Held::default() };
        held.absorb(std::mem::take(&mut written.last_batch));
        // Until this write succeeds, a job of it may have gone through.
        written.may_hold = true;
        let mut results: Vec<Option<Result<WriteResult, RejectReason>>> = records.iter().map(|_| None).collect();
        let mut seen_keys: HashSet<(&ProfileKey, &str, i64)> = HashSet::new();
        let mut seen_ids: HashSet<&str> = HashSet::new();
        let mut queued = Vec::new();
        for (index, plan) in planned.iter().enumerate() {
            let plan = match plan {
                Ok(plan) => plan,
                Err(reason) => {
                    results[index] = Some(Err(reason.clone()));
                    continue;
                }
            };
            let fresh_key = seen_keys.insert((&plan.profile, plan.metric.as_str(), plan.at.timestamp()));
            let fresh_id = seen_ids.insert(plan.unique_id.as_str());
            if held.holds(plan) {
                // The id a created event is answered with, so every instance
                // answers an event with the same target id.
                results[index] = Some(Ok(WriteResult::unchanged(plan.unique_id.as_str())));
            } else if !(fresh_key && fresh_id) {
                // The same metric at the same second for the same profile, or the
                // same event, earlier in this batch: Klaviyo keeps the first.
                results[index] = Some(Ok(WriteResult::unchanged(plan.unique_id.as_str())));
            } else {
                queued.push(index);
            }
        }
        // The jobs go out together, paced by the endpoint's limiter, so one
        // waiting out a retry does not hold up the others.
        {
            let sends = pack(&planned, queued).into_iter().map(|job| send_job(api, &records, &planned, job));
            let mut sent = futures_util::stream::iter(sends).buffer_unordered(JOBS_IN_FLIGHT);
            while let Some(job) = sent.next().await {
                for (index, result) in job? {
                    results[index] = Some(result);
                }
            }
        }
        written.may_hold = false;
        for (plan, result) in planned.iter().zip(&results) {
            if let (Ok(plan), Some(Ok(_))) = (plan, result) {
                written.last_batch.insert(plan.unique_id.clone(), plan.metric.clone(), plan.profile.clone());
            }
        }
        Ok(records
            .into_iter()
            .zip(results)
            .map(|(record, result)| {
                let not_sent = || Err(RejectReason::new("not_written", "the event was not sent to klaviyo"));
                WriteOutcome::of(record.source_id, result.unwrap_or_else(not_sent))
            })
            .collect())
    }
}

/// What an instance knows of the events it wrote.
#[derive(Debug)]
pub(crate) struct Written {
    /// Whether Klaviyo may hold events of the next batch that this
    /// instance has not seen go through: before its first batch (a resumed
    /// run sends again the batch it had not committed) and after a write
    /// that failed part way. Only then is a batch's span read.
    may_hold: bool,
    /// The events of the last batch written, which a batch sent twice in a
    /// row holds again.
    last_batch: Held,
}

impl Default for Written {
    fn default() -> Written {
        Written { may_hold: true, last_batch: Held::default() }
    }
}

/// Events Klaviyo holds, by the key it keeps an event once under: the
/// unique id, then the metric name and the profile.
#[derive(Debug, Default)]
struct Held(HashMap<String, Vec<(String, ProfileKey)>>);

impl Held {
    fn insert(&mut self, unique_id: String, metric: String, profile: ProfileKey) {
        let keys = self.0.entry(unique_id).or_default();
        if !keys.iter().any(|(known_metric, known_profile)| *known_metric == metric && *known_profile == profile) {
            keys.push((metric, profile));
        }
    }

    /// Whether Klaviyo holds `plan`'s event: its unique id for its metric
    /// and profile.
    fn holds(&self, plan: &Planned) -> bool {
        self.0
            .get(&plan.unique_id)
            .is_some_and(|keys| keys.iter().any(|(metric, profile)| *metric == plan.metric && *profile == plan.profile))
    }

    fn absorb(&mut self, other: Held) {
        for (unique_id, keys) in other.0 {
            for (metric, profile) in keys {
                self.insert(unique_id.clone(), metric, profile);
            }
        }
    }
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

/// The events of the batch Klaviyo already holds (see the module docs):
/// one page of the batch's span, every metric; where the span holds more,
/// the rest of each of the batch's metrics from where that page stopped.
async fn held_events(
    api: &Api,
    revision: &str,
    planned: &[Result<Planned, RejectReason>],
) -> Result<Held, PluginError> {
    let plans: Vec<&Planned> = planned.iter().filter_map(|plan| plan.as_ref().ok()).collect();
    let wanted: HashSet<&str> = plans.iter().map(|plan| plan.unique_id.as_str()).collect();
    let mut times_of: BTreeMap<&str, Vec<DateTime<Utc>>> = BTreeMap::new();
    for plan in &plans {
        times_of.entry(plan.metric.as_str()).or_default().push(plan.at);
    }
    for times in times_of.values_mut() {
        times.sort_unstable();
        times.dedup();
    }
    let (Some(from), Some(until)) = (
        times_of.values().filter_map(|times| times.first()).min(),
        times_of.values().filter_map(|times| times.last()).max(),
    ) else {
        return Ok(Held::default());
    };
    let client = api.client(Endpoint::ReadEvents)?;
    let mut found = Vec::new();
    let mut metrics = Metrics::default();
    let mut pages = paginator(span_request(*from, *until, None), revision, MAX_PAGE);
    if let Some(page) = pages.next_page(client).await? {
        collect(&page.items, &wanted, &mut found);
        if !page.done {
            // The span holds more than a page: the rest of the batch's
            // metrics, each from where the page stopped (events at that
            // second may be on the next page).
            let reached = page.items.last().and_then(event_time).unwrap_or(*from);
            metrics.cover(api, std::iter::empty()).await?;
            for (name, times) in &times_of {
                let rest = &times[times.partition_point(|at| *at < reached)..];
                let ids: Vec<String> = metrics.ids_named(name).map(str::to_owned).collect();
                for id in &ids {
                    // An id a filter cannot quote is read unfiltered: costlier,
                    // as true.
                    let metric_id = is_filter_safe(id).then_some(id.as_str());
                    scan(client, revision, metric_id, rest, &wanted, &mut found).await?;
                }
            }
        }
    }
    resolve(api, &mut metrics, found, &plans).await
}

/// An event Klaviyo holds under a unique id of the batch.
#[derive(Debug)]
struct Found {
    unique_id: String,
    metric_id: String,
    profile_id: String,
}

/// `GET /api/events` of the events from `from` to `until` (to the second,
/// both included), oldest first, of metric `metric_id` if one is given.
fn span_request(from: DateTime<Utc>, until: DateTime<Utc>, metric_id: Option<&str>) -> Request {
    let mut conditions = Vec::with_capacity(3);
    if let Some(metric_id) = metric_id {
        conditions.push(format!("equals(metric_id,\"{metric_id}\")"));
    }
    conditions.push(format!("greater-or-equal(datetime,{})", render_instant(&from)));
    conditions.push(format!("less-or-equal(datetime,{})", render_instant(&until)));
    Request::get("api/events")
        .query("filter", format!("and({})", conditions.join(",")))
        .query("fields[event]", EVENT_FIELDS)
        .query("sort", "datetime")
}

/// Whether a value can go in a quoted filter string.
fn is_filter_safe(value: &str) -> bool {
    !value.is_empty() && !value.contains(['"', '\'', '\\'])
}

/// The events among `items` whose `cutover_id` is `wanted`.
fn collect(items: &[Value], wanted: &HashSet<&str>, found: &mut Vec<Found>) {
    let pointer = format!("/attributes/event_properties/{EVENT_ID_FIELD}");
    for event in items {
        let Some(unique_id) = event.pointer(&pointer).and_then(Value::as_str).filter(|id| wanted.contains(id)) else {
            continue;
        };
        let metric_id = event.pointer("/relationships/metric/data/id").and_then(Value::as_str);
        let profile_id = event.pointer("/relationships/profile/data/id").and_then(Value::as_str);
        if let (Some(metric_id), Some(profile_id)) = (metric_id, profile_id) {
            found.push(Found {
                unique_id: unique_id.to_owned(),
                metric_id: metric_id.to_owned(),
                profile_id: profile_id.to_owned(),
            });
        }
    }
}

/// When an event read happened, to the second.
fn event_time(event: &Value) -> Option<DateTime<Utc>> {
    event
        .pointer("/attributes/timestamp")
        .and_then(Value::as_i64)
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
}

/// What to read after a page of a metric's events that ended at `last`.
#[derive(Debug, PartialEq, Eq)]
enum NextRead {
    /// The next page: `last` is one of the batch's times, and more events
    /// at it may follow.
    Page,
    /// A new read from the batch's time at this index: none of its times
    /// lies between `last` and that one, so what the span holds there is
    /// skipped.
    From(usize),
    /// Nothing: none of the batch's times is after `last`.
    Done,
}

/// What follows a page that ended at `last`, `times` being the batch's
/// times still to read (in order, distinct).
fn next_read(times: &[DateTime<Utc>], last: Option<DateTime<Utc>>) -> NextRead {
    let Some(last) = last else {
        return NextRead::Page;
    };
    let index = times.partition_point(|at| *at < last);
    match times.get(index) {
        None => NextRead::Done,
        Some(at) if *at == last => NextRead::Page,
        Some(_) => NextRead::From(index),
    }
}

/// Reads the events Klaviyo holds at `times` (the batch's times of one
/// metric, in order, distinct), of `metric_id` if given, into `found`. Each
/// new read starts at a later time of the batch, so the reads end.
async fn scan(
    client: &HttpClient,
    revision: &str,
    metric_id: Option<&str>,
    times: &[DateTime<Utc>],
    wanted: &HashSet<&str>,
    found: &mut Vec<Found>,
) -> Result<(), PluginError> {
    let Some(&until) = times.last() else {
        return Ok(());
    };
    let mut start = 0;
    while let Some(&from) = times.get(start) {
        let mut pages = paginator(span_request(from, until, metric_id), revision, MAX_PAGE);
        loop {
            let Some(page) = pages.next_page(client).await? else {
                return Ok(());
            };
            collect(&page.items, wanted, found);
            if page.done {
                return Ok(());
            }
            match next_read(times, page.items.last().and_then(event_time)) {
                NextRead::From(index) if index > start => {
                    start = index;
                    break;
                }
                // A page that ended before `from` (a platform ignoring the
                // filter): the link goes on, so the reads still end.
                NextRead::Page | NextRead::From(_) => {}
                NextRead::Done => return Ok(()),
            }
        }
    }
    Ok(())
}

/// The events found as Klaviyo's dedupe keys: their metrics named (`GET
/// /api/metrics`, only if some were found), and, for the events the batch
/// names by email, the addresses of their profiles (`GET /api/profiles`,
/// 100 a request).
async fn resolve(api: &Api, metrics: &mut Metrics, found: Vec<Found>, plans: &[&Planned]) -> Result<Held, PluginError> {
    let mut held = Held::default();
    if found.is_empty() {
        return Ok(held);
    }
    metrics.cover(api, found.iter().map(|event| event.metric_id.as_str())).await?;
    let by_email: HashSet<(&str, &str)> = plans
        .iter()
        .filter(|plan| matches!(plan.profile, ProfileKey::Email(_)))
        .map(|plan| (plan.unique_id.as_str(), plan.metric.as_str()))
        .collect();
    let profile_ids: Vec<String> = found
        .iter()
        .filter(|event| {
            metrics
                .names
                .get(&event.metric_id)
                .is_some_and(|metric| by_email.contains(&(event.unique_id.as_str(), metric.as_str())))
        })
        .map(|event| event.profile_id.clone())
        .collect();
    let profiles =
        if profile_ids.is_empty() { HashMap::new() } else { api.profiles_by_id(&profile_ids, false).await? };
    for event in found {
        let Some(metric) = metrics.names.get(&event.metric_id) else {
            continue;
        };
        if let Some(email) = profiles.get(&event.profile_id).and_then(profile_email) {
            held.insert(event.unique_id.clone(), metric.clone(), ProfileKey::Email(email));
        }
        held.insert(event.unique_id, metric.clone(), ProfileKey::Id(event.profile_id));
    }
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

/// Sends a job, and answers each of its events' result by its index in
/// the batch. Klaviyo refuses a job with any invalid event whole, so a
/// refused job is halved, at most [`MAX_SPLITS`] times, until the events it
/// refuses are alone; only those are rejected.
async fn send_job(
    api: &Api,
    records: &[Record],
    planned: &[Result<Planned, RejectReason>],
    job: Vec<usize>,
) -> Result<Vec<(usize, Result<WriteResult, RejectReason>)>, PluginError> {
    let mut results = Vec::with_capacity(job.len());
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
                    if let Some(Ok(plan)) = planned.get(index) {
                        results.push((index, Ok(WriteResult::created(plan.unique_id.as_str()))));
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
                results.extend(job.into_iter().map(|index| (index, Err(reason.clone()))));
            }
            Err(error) => {
                let source_id = records.get(first).map_or("?", |record| record.source_id.as_str());
                return Err(PluginError::from(error).for_record(source_id));
            }
        }
    }
    Ok(results)
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
    fn a_read_goes_on_at_the_batchs_times_and_skips_what_lies_between() {
        let at = |seconds: i64| DateTime::from_timestamp(seconds, 0);
        let times: Vec<DateTime<Utc>> = [10, 20, 30].into_iter().filter_map(at).collect();
        // A page that ends at one of the batch's times: more may follow there.
        assert_eq!(next_read(&times, at(10)), NextRead::Page);
        assert_eq!(next_read(&times, at(30)), NextRead::Page);
        // Between two of them: a new read from the next one.
        assert_eq!(next_read(&times, at(11)), NextRead::From(1));
        assert_eq!(next_read(&times, at(5)), NextRead::From(0));
        // After the last: nothing more to read.
        assert_eq!(next_read(&times, at(31)), NextRead::Done);
        assert_eq!(next_read(&times, None), NextRead::Page, "a page without a time says nothing of where it ended");
    }

    #[test]
    fn an_event_is_held_only_under_its_unique_id_metric_and_profile() {
        let records = [event("a", Some("P1"), None, NOW - 10), event("b", None, Some(" Ada@Example.org"), NOW - 10)];
        let planned = planned(&records);
        let [Ok(by_id), Ok(by_email)] = &planned[..] else { panic!("{planned:?}") };
        let mut held = Held::default();
        held.insert(by_id.unique_id.clone(), "Viewed Page".into(), by_id.profile.clone());
        held.insert(by_id.unique_id.clone(), by_id.metric.clone(), ProfileKey::Id("P2".into()));
        held.insert(by_email.unique_id.clone(), by_email.metric.clone(), ProfileKey::Email("bob@example.org".into()));
        held.insert("mailchimp:c".into(), by_email.metric.clone(), by_email.profile.clone());
        assert!(!held.holds(by_id), "another metric's and another profile's are not this event");
        assert!(!held.holds(by_email), "another address's is not this event");
        held.insert(by_id.unique_id.clone(), by_id.metric.clone(), ProfileKey::Id("P1".into()));
        held.insert(by_email.unique_id.clone(), by_email.metric.clone(), ProfileKey::Email("ada@example.org".into()));
        assert!(held.holds(by_id) && held.holds(by_email));
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
