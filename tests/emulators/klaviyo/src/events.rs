//! Events: `GET /api/events` (filtered by time, metric and profile, in time
//! order either way, keyset pages) and `POST /api/events`, and the checks an
//! event passes wherever it is written ([`check_event`], shared with the
//! bulk create job in [`crate::events_bulk`]).

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Duration, Utc};
use cutover_emulator_kit::query::Params;
use cutover_emulator_kit::store::{read, write};
use serde_json::{Map, Value};

use crate::app::{
    AppState, Revision, attributes_of, collection, conditions, cursor, expect_type, page_size, parse_document, sparse,
};
use crate::errors::KlError;
use crate::filter::{self, Condition};
use crate::model::{Event, Store, datetime, event_json, metric_json, profile_json};
use crate::write::{check_attributes, upsert};

/// The 2026 snapshot the notes compare with 2024-10-15: from this revision
/// on, events accept `page[size]` up to 1000, 400 property keys and times
/// after 1990. When these changed between the two snapshots is unknown.
const SNAPSHOT_2026: (i32, u32, u32) = (2026, 7, 15);

fn event_matches(store: &Store, condition: &Condition, event: &Event) -> Result<bool, KlError> {
    match condition.field.as_str() {
        "metric_id" => {
            let metric_id = store.metrics.get(usize::from(event.metric)).map(|metric| metric.id.as_str());
            condition.compare_text(metric_id)
        }
        "profile_id" => {
            let profile_id = store.profile_ids.get(event.profile as usize).map(String::as_str);
            condition.compare_text(profile_id)
        }
        // Every event has both relationships.
        "profile" | "metric" if condition.operator == "has" => Ok(true),
        "datetime" => condition.compare_moment(Some(event.datetime)),
        "timestamp" => epoch_condition(condition).compare_moment(Some(event.datetime)),
        _ => Err(KlError::invalid_parameter(
            format!("'{}' is not a valid filter field for events.", condition.field),
            "filter",
        )),
    }
}

/// The earliest and latest time an events filter lets through, where it
/// bounds `datetime` (or `timestamp`); the conditions still decide each event.
fn time_bounds(conditions: &[Condition]) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let mut bounds = (None, None);
    for condition in conditions.iter().filter(|condition| matches!(condition.field.as_str(), "datetime" | "timestamp"))
    {
        let condition = if condition.field == "timestamp" { epoch_condition(condition) } else { condition.clone() };
        let Some(moment) = condition.value.moment() else { continue };
        match condition.operator.as_str() {
            "greater-or-equal" | "greater-than" => bounds.0 = bounds.0.max(Some(moment)),
            "less-or-equal" | "less-than" => {
                bounds.1 = Some(bounds.1.map_or(moment, |until: DateTime<Utc>| until.min(moment)))
            }
            _ => {}
        }
    }
    bounds
}

/// The spec types the events filter's `timestamp` as a number (Unix
/// seconds, as tap-klaviyo sends it: `greater-or-equal(timestamp,1700000000)`);
/// a bare integer becomes the moment it names. ISO datetimes stay accepted.
fn epoch_condition(condition: &Condition) -> Condition {
    let mut condition = condition.clone();
    if let filter::FilterValue::Bare(text) = &condition.value
        && let Ok(seconds) = text.parse::<i64>()
        && let Some(moment) = DateTime::<Utc>::from_timestamp(seconds, 0)
    {
        condition.value = filter::FilterValue::Bare(datetime(&moment));
    }
    condition
}

fn event_key(event: &Event) -> String {
    format!("{}.{}", event.datetime.timestamp(), event.sequence)
}

fn parse_event_key(key: &str) -> Option<(i64, u64)> {
    let (seconds, sequence) = key.split_once('.')?;
    Some((seconds.parse().ok()?, sequence.parse().ok()?))
}

pub(crate) async fn get_events(
    State(app): AppState,
    Extension(revision): Extension<Revision>,
    uri: Uri,
) -> Result<Response, KlError> {
    let params = Params::from_uri(&uri);
    let size = if revision.at_least(SNAPSHOT_2026) { page_size(&params, 200, 1000)? } else { 200 };
    let cursor = cursor(&params)?;
    let conditions = conditions(&params)?;
    let descending = match params.get("sort") {
        None | Some("datetime") | Some("timestamp") => false,
        Some("-datetime") | Some("-timestamp") => true,
        Some(other) => {
            return Err(KlError::invalid_parameter(format!("'{other}' is not a valid sort for events."), "sort"));
        }
    };
    let include = params.list("include");
    let store = read(app.state.store());
    if let Some(event) = store.events.first() {
        for condition in &conditions {
            event_matches(&store, condition, event)?;
        }
    }
    let after = cursor.key.as_deref().and_then(parse_event_key);
    let position = |(seconds, sequence): (i64, u64)| {
        store.events.partition_point(|event| (event.datetime.timestamp(), event.sequence) <= (seconds, sequence))
    };
    // Events are kept in time order: an ascending read starts at the
    // filter's lower time bound and stops past its upper one.
    let (from, until) = time_bounds(&conditions);
    let first = from.map_or(0, |from| store.events.partition_point(|event| event.datetime < from));
    let candidates: Box<dyn Iterator<Item = &Event>> = match (descending, after) {
        (false, None) => Box::new(store.events[first..].iter()),
        (false, Some(key)) => Box::new(store.events[position(key).max(first)..].iter()),
        (true, None) => Box::new(store.events.iter().rev()),
        (true, Some(key)) => {
            let end = store.events.partition_point(|event| (event.datetime.timestamp(), event.sequence) < key);
            Box::new(store.events[..end].iter().rev())
        }
    };
    let mut page = Vec::with_capacity(size + 1);
    for event in candidates {
        if !descending && until.is_some_and(|until| event.datetime > until) {
            break;
        }
        let mut keep = true;
        for condition in &conditions {
            keep &= event_matches(&store, condition, event)?;
        }
        if keep {
            page.push(event);
            if page.len() > size {
                break;
            }
        }
    }
    let next = (page.len() > size).then(|| {
        page.truncate(size);
        cursor.next(size, page.last().map(|event| event_key(event)))
    });
    let included = (!include.is_empty()).then(|| {
        let mut included: Vec<Value> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for event in &page {
            if include.iter().any(|name| name == "metric")
                && let Some(metric) = store.metrics.get(usize::from(event.metric))
                && seen.insert(format!("metric:{}", metric.id))
            {
                included.push(metric_json(metric, &app.base));
            }
            if include.iter().any(|name| name == "profile")
                && let Some(profile) =
                    store.profile_ids.get(event.profile as usize).and_then(|id| store.profiles.get(id))
                && seen.insert(format!("profile:{}", profile.id))
            {
                included.push(profile_json(profile, false, &app.base));
            }
        }
        included
    });
    let data = page.into_iter().map(|event| sparse(&params, "event", event_json(&store, event, &app.base))).collect();
    Ok(collection(&app, &uri, data, next, included))
}

/// An event's attributes, checked as `POST /api/events` checks them.
#[derive(Debug, Clone)]
pub(crate) struct CheckedEvent {
    pub(crate) metric_name: String,
    /// Truncated to the second.
    pub(crate) time: DateTime<Utc>,
    pub(crate) value: Option<f64>,
    /// As given, else the time to the second (Klaviyo's default key).
    pub(crate) unique_id: String,
    pub(crate) properties: Map<String, Value>,
}

/// Checks an event's `attributes` (at `pointer`, e.g. `/data/attributes`)
/// for `revision`: at most 300 property keys (400 from the 2026 snapshot),
/// a metric name of 1 to 127 characters, a time after 2000 (1990) and at
/// most a year ahead. The profile is checked by [`check_event_profile`].
pub(crate) fn check_event(
    attributes: &Map<String, Value>,
    pointer: &str,
    revision: Revision,
    now: DateTime<Utc>,
) -> Result<CheckedEvent, KlError> {
    let properties = attributes.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let max_keys = if revision.at_least(SNAPSHOT_2026) { 400 } else { 300 };
    if properties.len() > max_keys {
        return Err(KlError::invalid(
            format!("Event properties may have at most {max_keys} keys."),
            format!("{pointer}/properties"),
        ));
    }
    let metric_name = attributes
        .get("metric")
        .and_then(|metric| metric.pointer("/data/attributes/name"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            KlError::invalid("'metric' with data.attributes.name is required.", format!("{pointer}/metric"))
        })?;
    if metric_name.is_empty() || metric_name.chars().count() >= 128 {
        return Err(KlError::invalid(
            "The metric name must have 1 to 127 characters.",
            format!("{pointer}/metric/data/attributes/name"),
        ));
    }
    let time = match attributes.get("time").and_then(Value::as_str) {
        None => now,
        Some(text) => DateTime::parse_from_rfc3339(text).map(|moment| moment.with_timezone(&Utc)).map_err(|_| {
            KlError::invalid(format!("'{text}' is not an ISO 8601 datetime."), format!("{pointer}/time"))
        })?,
    };
    let earliest_year = if revision.at_least(SNAPSHOT_2026) { 1990 } else { 2000 };
    if time > now + Duration::days(365) || time.year() < earliest_year {
        return Err(KlError::invalid(
            format!("'time' must be after {earliest_year} and at most one year in the future."),
            format!("{pointer}/time"),
        ));
    }
    let time = DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time);
    let unique_id =
        attributes.get("unique_id").and_then(Value::as_str).map_or_else(|| time.timestamp().to_string(), str::to_owned);
    Ok(CheckedEvent {
        metric_name: metric_name.to_owned(),
        time,
        value: attributes.get("value").and_then(Value::as_f64),
        unique_id,
        properties,
    })
}

/// The `profile` member of an event's (or a bulk entry's) `attributes` at
/// `pointer`: its id, if given, and its checked attributes.
pub(crate) fn check_event_profile<'a>(
    attributes: &'a Map<String, Value>,
    pointer: &str,
) -> Result<(Option<&'a str>, Map<String, Value>), KlError> {
    let profile_data = attributes
        .get("profile")
        .and_then(|profile| profile.get("data"))
        .ok_or_else(|| KlError::invalid("'profile' is required.", format!("{pointer}/profile")))?;
    let profile_attributes = profile_data.get("attributes").and_then(Value::as_object).cloned().unwrap_or_default();
    check_attributes(&profile_attributes, &format!("{pointer}/profile/data/attributes"))?;
    Ok((profile_data.get("id").and_then(Value::as_str), profile_attributes))
}

/// Stores `event` for profile `number` unless Klaviyo already holds its
/// (profile, metric, unique id); returns the event to insert, if any.
pub(crate) fn new_event(store: &mut Store, number: u32, event: CheckedEvent, now: DateTime<Utc>) -> Option<Event> {
    let metric = store.metric_index(&event.metric_name, now);
    if !store.claim_event_key(number, metric, &event.unique_id) {
        return None;
    }
    let sequence = store.next_event;
    store.next_event += 1;
    Some(Event {
        sequence,
        profile: number,
        metric,
        datetime: event.time,
        value: event.value,
        unique_id: Some(event.unique_id),
        properties: Some(Box::new(event.properties)),
    })
}

/// `POST /api/events`: 202 with no body; the profile is created if unknown.
pub(crate) async fn create_event(
    State(app): AppState,
    Extension(revision): Extension<Revision>,
    body: Bytes,
) -> Result<Response, KlError> {
    let data = parse_document(&body)?;
    expect_type(&data, "event")?;
    let attributes = attributes_of(&data, "/data")?;
    let now = Utc::now();
    let event = check_event(attributes, "/data/attributes", revision, now)?;
    let (profile_id, profile_attributes) = check_event_profile(attributes, "/data/attributes")?;

    let mut store = write(app.state.store());
    let (profile_id, _) = upsert(&mut store, profile_id, &profile_attributes, None, now)?;
    let Some(&number) = store.profile_numbers.get(&profile_id) else {
        return Err(KlError::not_found(format!("A profile with id {profile_id} does not exist.")));
    };
    if let Some(event) = new_event(&mut store, number, event, now) {
        store.insert_events(vec![event]);
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_timestamps_filter_on_unix_seconds() {
        let conditions =
            filter::parse("greater-or-equal(timestamp,946684800),less-than(timestamp,2000-01-02)").unwrap_or_default();
        let moment = |text: &str| DateTime::parse_from_rfc3339(text).map(|moment| moment.with_timezone(&Utc)).ok();
        assert_eq!(time_bounds(&conditions), (moment("2000-01-01T00:00:00Z"), moment("2000-01-02T00:00:00Z")));
        let inside = epoch_condition(&conditions[0]).compare_moment(moment("2000-01-01T00:00:00Z"));
        let before = epoch_condition(&conditions[0]).compare_moment(moment("1999-12-31T23:59:59Z"));
        assert_eq!((inside.ok(), before.ok()), (Some(true), Some(false)));
    }
}
