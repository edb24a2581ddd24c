//! The `events` stream: `GET /api/events` in time order as engagement
//! events, their metric named through `GET /api/metrics`; written one by one
//! through `POST /api/events`, each with `unique_id` `<platform>:<source id>`
//! so Klaviyo keeps a repeated event once.
//!
//! `POST /api/events` answers 202 with no body, so before writing, the
//! events Klaviyo already holds for each profile of the batch, between the
//! batch's first and last time, are read (one request per profile), and an
//! event with the same metric at the same second is `unchanged`: that is the
//! key Klaviyo itself dedupes on when no `unique_id` is given.

use super::{PagePosition, map_items, outcome, parse_cursor, read_page, rejected, render_cursor};
use crate::client::{Api, Endpoint, is_record_error, reject_reason, resource_id};
use crate::mapping::{event_body, event_metric, event_record, event_unique_id, render_instant};
use chrono::{DateTime, Utc};
use cutover_http::{PageStyle, Paginator, Request};
use cutover_sdk::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The first revision whose `GET /api/events` takes `page[size]` (up to
/// 1000); older ones give a fixed 200.
const SIZED_PAGES_FROM: &str = "2026-07-15";
/// Most events a page holds.
const MAX_PAGE: usize = 1000;
/// Pages of a profile's events read to find what it already holds.
const MAX_LOOKUP_PAGES: usize = 20;

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

/// Writes engagement events.
pub(crate) async fn write(
    api: &Api,
    revision: &str,
    metrics: &mut Metrics,
    records: Vec<Record>,
) -> Result<Vec<WriteOutcome>, PluginError> {
    let planned: Vec<Result<Planned, RejectReason>> = records.iter().map(plan).collect();
    // Who each event happened to, as a profile id when one can be found.
    let emails: Vec<String> = records
        .iter()
        .zip(&planned)
        .filter_map(|(record, plan)| match (plan, &record.entity) {
            (Ok((_, None, _, _)), Entity::EngagementEvent(event)) => {
                event.email.as_ref().map(|email| email.to_string())
            }
            _ => None,
        })
        .collect();
    let by_email = api.profiles_by_email(&emails, false).await?;
    let profile_of = |record: &Record, plan_profile: &Option<String>| -> Option<String> {
        plan_profile.clone().or_else(|| match &record.entity {
            Entity::EngagementEvent(event) => event
                .email
                .as_ref()
                .and_then(|email| by_email.get(&email.trim().to_lowercase()))
                .and_then(|profile| resource_id(profile).map(str::to_owned)),
            _ => None,
        })
    };
    // The span of the batch per profile.
    let mut spans: HashMap<String, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
    for (record, plan) in records.iter().zip(&planned) {
        if let Ok((_, profile, _, at)) = plan
            && let Some(profile_id) = profile_of(record, profile)
        {
            let span = spans.entry(profile_id).or_insert((*at, *at));
            span.0 = span.0.min(*at);
            span.1 = span.1.max(*at);
        }
    }
    let mut held: HashMap<(String, String, i64), String> = HashMap::new();
    for (profile_id, (from, until)) in &spans {
        for (metric, second, event_id) in held_events(api, revision, metrics, profile_id, *from, *until).await? {
            held.insert((profile_id.clone(), metric, second), event_id);
        }
    }
    let mut written: HashSet<(String, String, i64)> = HashSet::new();
    let mut outcomes = Vec::with_capacity(records.len());
    for (record, plan) in records.iter().zip(planned) {
        let (body, profile, metric, at) = match plan {
            Ok(plan) => plan,
            Err(reason) => {
                outcomes.push(rejected(&record.source_id, reason));
                continue;
            }
        };
        let key = profile_of(record, &profile).map(|profile_id| (profile_id, metric.clone(), at.timestamp()));
        if let Some(key) = &key
            && let Some(event_id) = held.get(key)
        {
            outcomes.push(outcome(&record.source_id, WriteResult::Unchanged { target_id: event_id.as_str().into() }));
            continue;
        }
        let target_id: CompactString = event_unique_id(record).into();
        if let Some(key) = &key
            && written.contains(key)
        {
            // The same metric at the same second for the same profile in
            // this batch: Klaviyo keeps the first.
            outcomes.push(outcome(&record.source_id, WriteResult::Unchanged { target_id }));
            continue;
        }
        // Klaviyo drops an event whose `unique_id` it has: safe to send again.
        match api.write(Endpoint::CreateEvent, Request::post("api/events").retry_safe(), &body).await {
            Ok(_) => {
                if let Some(key) = key {
                    written.insert(key);
                }
                outcomes.push(outcome(&record.source_id, WriteResult::Created { target_id }));
            }
            Err(error) if is_record_error(&error) => outcomes.push(rejected(&record.source_id, reject_reason(&error))),
            Err(error) => return Err(PluginError::from(error).for_record(record.source_id.as_str())),
        }
    }
    Ok(outcomes)
}

/// The body of an event, its profile id (when the record names one), its
/// metric name and its time to the second.
type Planned = (Value, Option<String>, String, DateTime<Utc>);

/// What writing `record` takes; see [`Planned`].
fn plan(record: &Record) -> Result<Planned, RejectReason> {
    let (body, profile) = event_body(record)?;
    let metric = event_metric(record)?;
    let at = match &record.entity {
        Entity::EngagementEvent(event) => event.occurred_at,
        _ => None,
    }
    .and_then(|at| DateTime::from_timestamp(at.timestamp(), 0))
    .ok_or_else(|| RejectReason::new("no_time", "the event has no time"))?;
    Ok((body, profile.id, metric, at))
}

/// The events Klaviyo holds for `profile_id` between `from` and `until`
/// (whole seconds): metric name, second and event id.
async fn held_events(
    api: &Api,
    revision: &str,
    metrics: &mut Metrics,
    profile_id: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<(String, i64, String)>, PluginError> {
    if profile_id.contains(['"', '\'', '\\']) {
        return Ok(Vec::new());
    }
    let filter = format!(
        "and(equals(profile_id,\"{profile_id}\"),greater-or-equal(datetime,{}),less-or-equal(datetime,{}))",
        render_instant(&from),
        render_instant(&until)
    );
    let mut pages = paginator(Request::get("api/events").query("filter", filter), revision, MAX_PAGE);
    let client = api.client(Endpoint::ReadEvents)?;
    let mut items = Vec::new();
    for _ in 0..MAX_LOOKUP_PAGES {
        match pages.next_page(client).await? {
            Some(page) => items.extend(page.items),
            None => break,
        }
    }
    metrics.cover(api, metric_ids(&items)).await?;
    Ok(items
        .iter()
        .filter_map(|event| {
            let metric_id = event.pointer("/relationships/metric/data/id").and_then(Value::as_str)?;
            let name = metrics.names.get(metric_id)?;
            let second = event.pointer("/attributes/timestamp").and_then(Value::as_i64)?;
            Some((name.clone(), second, resource_id(event)?.to_owned()))
        })
        .collect())
}
