//! The `/api/` routes: key and revision checks, rate limits, paging, and the
//! profile, list, event and metric resources. Jobs are in [`super::jobs`],
//! the event bulk create job in [`super::events_bulk`].

use std::ops::Bound;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, MatchedPath, Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::errors::{KlError, document, server_error, throttled};
use super::filter::{self, Condition};
use super::model::{Event, Profile, Store, event_json, list_json, metric_json, profile_json, short_id};
use super::state::KlaviyoState;
use super::write::{check_attributes, conflicting_profile, has_identifier, new_profile, update, upsert};
use super::{events_bulk, jobs};
use crate::faults::PagingLoop;
use crate::query::Params;
use crate::ratelimit::{Tier, Verdict, WindowLimiter};
use crate::sync::{read, write};
use crate::{EmulatorConfig, KlaviyoRateLimit};

/// The oldest revision the emulator serves.
const OLDEST_REVISION: (i32, u32, u32) = (2023, 1, 24);
/// From this revision on, the L tier allows 750 requests a minute.
const L_TIER_750: (i32, u32, u32) = (2026, 1, 15);
/// The 2026 snapshot the notes compare with 2024-10-15: from this revision
/// on, events accept `page[size]` up to 1000, 400 property keys and times
/// after 1990. When these changed between the two snapshots is unknown.
const SNAPSHOT_2026: (i32, u32, u32) = (2026, 7, 15);
/// Bulk import payload cap.
pub(crate) const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug)]
pub(crate) struct App {
    pub(crate) state: KlaviyoState,
    pub(crate) base: String,
    limit_override: Option<KlaviyoRateLimit>,
    limiter: WindowLimiter,
}

pub(crate) type AppState = State<Arc<App>>;

/// The request's `revision` date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Revision(pub(crate) NaiveDate);

impl Revision {
    pub(crate) fn at_least(self, (year, month, day): (i32, u32, u32)) -> bool {
        NaiveDate::from_ymd_opt(year, month, day).is_some_and(|date| self.0 >= date)
    }
}

pub(crate) fn router(state: KlaviyoState, config: &EmulatorConfig, base: String) -> Router {
    let app =
        Arc::new(App { state, base, limit_override: config.klaviyo_rate_limit, limiter: WindowLimiter::default() });
    Router::new()
        .route("/api/accounts", get(get_accounts))
        .route("/api/profiles", get(get_profiles).post(create_profile))
        .route("/api/profiles/{id}", get(get_profile).patch(patch_profile))
        .route("/api/profiles/{id}/lists", get(get_profile_lists))
        .route("/api/profile-import", post(import_profile))
        .route("/api/lists", get(get_lists).post(create_list))
        .route("/api/lists/{id}", get(get_list).patch(patch_list))
        .route("/api/lists/{id}/profiles", get(get_list_profiles))
        .route("/api/lists/{id}/relationships/profiles", post(add_list_profiles).delete(remove_list_profiles))
        .route("/api/events", get(get_events).post(create_event))
        .route("/api/campaigns", get(get_campaigns))
        .route("/api/metrics", get(get_metrics))
        .route("/api/metrics/{id}", get(get_metric))
        .merge(jobs::routes())
        .merge(events_bulk::routes())
        .route_layer(middleware::from_fn_with_state(Arc::clone(&app), rate_limit))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(check_revision))
        .layer(middleware::from_fn_with_state(Arc::clone(&app), authenticate))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES * 2))
        .layer(middleware::from_fn_with_state(Arc::clone(&app), paging_loop))
        .route("/__emulator/klaviyo/seeded", get(get_seeded))
        .with_state(app)
}

/// The [`paging_loop`](crate::FaultConfig::paging_loop) fault: a
/// collection's `links.next` goes round in a circle. The first page (A, no
/// cursor) points at the second (B: its own next link, or one made up when
/// the collection fits on A), and every page with a cursor points back at A.
async fn paging_loop(State(app): AppState, request: Request, next: Next) -> Response {
    if request.extensions().get::<PagingLoop>().is_none() {
        return next.run(request).await;
    }
    let uri = request.uri().clone();
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return server_error(500);
    };
    let Ok(mut document) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    if let Some(next_link) = looped_next(&app, &uri, &document) {
        document["links"]["next"] = Value::String(next_link);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(document.to_string()))
}

/// The next link of a collection page under the paging loop; `None` for an
/// answer that is not a collection.
fn looped_next(app: &App, uri: &Uri, document: &Value) -> Option<String> {
    let data = document.get("data")?.as_array()?;
    document.get("links")?.as_object()?;
    let params = Params::from_uri(uri);
    let link = |query: String| {
        if query.is_empty() {
            format!("{}{}", app.base, uri.path())
        } else {
            format!("{}{}?{query}", app.base, uri.path())
        }
    };
    if params.get("page[cursor]").is_some() {
        return Some(link(params.with("page[cursor]", None)));
    }
    if let Some(next_link) = document.pointer("/links/next").and_then(Value::as_str) {
        return Some(next_link.to_owned());
    }
    let second = Cursor { page: 1, offset: data.len(), key: None };
    Some(link(params.with("page[cursor]", Some(&second.encode()))))
}

async fn not_found(uri: Uri) -> KlError {
    KlError::not_found(format!("The path {} was not found.", uri.path()))
}

async fn method_not_allowed() -> KlError {
    KlError::method_not_allowed()
}

async fn authenticate(State(app): AppState, request: Request, next: Next) -> Response {
    let header = request.headers().get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    let Some(key) = header.and_then(|value| value.strip_prefix("Klaviyo-API-Key ")) else {
        return KlError::not_authenticated().into_response();
    };
    if key.trim() != app.state.api_key() {
        return KlError::authentication_failed().into_response();
    }
    next.run(request).await
}

async fn check_revision(mut request: Request, next: Next) -> Response {
    let Some(value) = request.headers().get("revision").and_then(|value| value.to_str().ok()) else {
        return KlError::invalid_parameter("The 'revision' header is required, e.g. revision: 2024-10-15.", "revision")
            .into_response();
    };
    let date = value.split('.').next().unwrap_or("");
    let Ok(date) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
        return KlError::invalid_parameter(format!("'{value}' is not a valid revision; use YYYY-MM-DD."), "revision")
            .into_response();
    };
    let revision = Revision(date);
    if !revision.at_least(OLDEST_REVISION) || date > Utc::now().date_naive() {
        return KlError::invalid_parameter(format!("The revision {value} is not supported."), "revision")
            .into_response();
    }
    request.extensions_mut().insert(revision);
    next.run(request).await
}

/// The documented tier of an endpoint.
fn tier(method: &Method, path: &str, revision: Revision) -> Tier {
    let l_steady = if revision.at_least(L_TIER_750) { 750 } else { 700 };
    let (xs, s, m, l, xl) = (
        Tier { burst: 1, steady: 15 },
        Tier { burst: 3, steady: 60 },
        Tier { burst: 10, steady: 150 },
        Tier { burst: 75, steady: l_steady },
        Tier { burst: 350, steady: 3500 },
    );
    match path {
        "/api/accounts" => xs,
        "/api/profiles/{id}/lists" => s,
        "/api/events" => xl,
        "/api/metrics" | "/api/metrics/{id}" | "/api/campaigns" => m,
        "/api/lists" | "/api/lists/{id}" if method != Method::GET => m,
        "/api/lists/{id}/relationships/profiles" => m,
        "/api/event-bulk-create-jobs" => m,
        path if path.starts_with("/api/profile-bulk-import-jobs") => m,
        _ => l,
    }
}

async fn rate_limit(State(app): AppState, request: Request, next: Next) -> Response {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| request.uri().path().to_owned(), |matched| matched.as_str().to_owned());
    let revision = request.extensions().get::<Revision>().copied().unwrap_or(Revision(NaiveDate::MIN));
    let tier = match app.limit_override {
        Some(limit) => Tier { burst: limit.burst_per_second, steady: limit.steady_per_minute },
        None => tier(request.method(), &path, revision),
    };
    let key = format!("{} {path}", request.method());
    match app.limiter.check(&key, tier, Instant::now()) {
        Verdict::Throttled { retry_after_seconds } => throttled(retry_after_seconds),
        Verdict::Allowed { limit, remaining, reset_seconds } => {
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            headers.insert("ratelimit-limit", HeaderValue::from(limit));
            headers.insert("ratelimit-remaining", HeaderValue::from(remaining));
            headers.insert("ratelimit-reset", HeaderValue::from(reset_seconds));
            response
        }
    }
}

/// A position in a cursor walk: the page number, the offset, and the last
/// key served (for keyset pages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub(crate) page: u64,
    pub(crate) offset: usize,
    pub(crate) key: Option<String>,
}

impl Cursor {
    /// Opaque on the wire: hex of `page|offset|key`.
    pub(crate) fn encode(&self) -> String {
        let plain = format!("{}|{}|{}", self.page, self.offset, self.key.as_deref().unwrap_or(""));
        plain.bytes().map(|byte| format!("{byte:02x}")).collect()
    }

    pub(crate) fn decode(encoded: &str) -> Option<Cursor> {
        let bytes: Option<Vec<u8>> = (0..encoded.len())
            .step_by(2)
            .map(|at| encoded.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
            .collect();
        let plain = String::from_utf8(bytes?).ok()?;
        let mut parts = plain.splitn(3, '|');
        let page = parts.next()?.parse().ok()?;
        let offset = parts.next()?.parse().ok()?;
        let key = parts.next()?;
        Some(Cursor { page, offset, key: (!key.is_empty()).then(|| key.to_owned()) })
    }

    pub(crate) fn from_params(params: &Params) -> Result<Cursor, KlError> {
        match params.get("page[cursor]") {
            None => Ok(Cursor::default()),
            Some(encoded) => Cursor::decode(encoded)
                .ok_or_else(|| KlError::invalid_parameter("Invalid page cursor.", "page[cursor]")),
        }
    }

    pub(crate) fn next(&self, served: usize, key: Option<String>) -> Cursor {
        Cursor { page: self.page + 1, offset: self.offset + served, key }
    }
}

/// The page a request asks for: the cursor's page number, or 0 for a first
/// page that names a size.
pub(crate) fn page_index(uri: &Uri) -> Option<u64> {
    let params = Params::from_uri(uri);
    match params.get("page[cursor]") {
        Some(encoded) => Cursor::decode(encoded).map(|cursor| cursor.page),
        None => params.get("page[size]").map(|_| 0),
    }
}

pub(crate) fn page_size(params: &Params, default: usize, max: usize) -> Result<usize, KlError> {
    match params.get("page[size]") {
        None => Ok(default),
        Some(value) => match value.parse::<usize>() {
            Ok(size) if (1..=max).contains(&size) => Ok(size),
            _ => Err(KlError::invalid_parameter(
                format!("Page size must be an integer between 1 and {max}."),
                "page[size]",
            )),
        },
    }
}

/// A collection document with absolute `self`/`next`/`prev` links.
pub(crate) fn collection(
    app: &App,
    uri: &Uri,
    data: Vec<Value>,
    next: Option<Cursor>,
    included: Option<Vec<Value>>,
) -> Response {
    let params = Params::from_uri(uri);
    let path = uri.path();
    let link = |query: String| {
        if query.is_empty() { format!("{}{path}", app.base) } else { format!("{}{path}?{query}", app.base) }
    };
    let self_link = link(params.with("__none__", None));
    let next_link = next.map(|cursor| link(params.with("page[cursor]", Some(&cursor.encode()))));
    let mut body = json!({
        "data": data,
        "links": {"self": self_link, "next": next_link, "prev": Value::Null},
    });
    if let (Some(included), Some(object)) = (included, body.as_object_mut()) {
        object.insert("included".into(), Value::Array(included));
    }
    document(StatusCode::OK, &body)
}

pub(crate) fn single(status: StatusCode, data: Value) -> Response {
    let links = json!({"self": data.pointer("/links/self").cloned().unwrap_or(Value::Null)});
    document(status, &json!({"data": data, "links": links}))
}

/// `fields[type]=a,b`: keeps only those attributes.
pub(crate) fn sparse(params: &Params, kind: &str, mut resource: Value) -> Value {
    let wanted = params.list(&format!("fields[{kind}]"));
    if !wanted.is_empty()
        && let Some(attributes) = resource.get_mut("attributes").and_then(Value::as_object_mut)
    {
        attributes.retain(|name, _| wanted.iter().any(|field| field == name || field.starts_with(&format!("{name}."))));
    }
    resource
}

pub(crate) fn wants_subscriptions(params: &Params) -> bool {
    params.list("additional-fields[profile]").iter().any(|field| field == "subscriptions")
}

/// A JSON:API body's `data` member.
pub(crate) fn parse_document(body: &[u8]) -> Result<Value, KlError> {
    let document: Value =
        serde_json::from_slice(body).map_err(|error| KlError::invalid(format!("Malformed JSON: {error}"), "/data"))?;
    match document.get("data") {
        Some(data) => Ok(data.clone()),
        None => Err(KlError::invalid("The request body must have a 'data' member.", "/data")),
    }
}

pub(crate) fn expect_type(data: &Value, expected: &str) -> Result<(), KlError> {
    match data.get("type").and_then(Value::as_str) {
        Some(kind) if kind == expected => Ok(()),
        Some(kind) => Err(KlError::invalid(
            format!("The type '{kind}' does not match the endpoint's type '{expected}'."),
            "/data/type",
        )),
        None => Err(KlError::invalid("'type' is a required field.", "/data/type")),
    }
}

pub(crate) fn attributes_of<'a>(data: &'a Value, pointer: &str) -> Result<&'a Map<String, Value>, KlError> {
    data.get("attributes")
        .and_then(Value::as_object)
        .ok_or_else(|| KlError::invalid("'attributes' is a required object.", format!("{pointer}/attributes")))
}

fn conditions(params: &Params) -> Result<Vec<Condition>, KlError> {
    params.get("filter").map_or(Ok(Vec::new()), filter::parse)
}

async fn get_accounts(State(app): AppState, uri: Uri) -> Response {
    let store = read(app.state.store());
    let id = format!("{:06}", store.seed % 1_000_000);
    let account = json!({
        "type": "account",
        "id": id,
        "attributes": {
            "test_account": false,
            "contact_information": {
                "default_sender_name": "Cutover Test Co",
                "default_sender_email": "news@cutover-test.io",
                "website_url": "https://cutover-test.io",
                "organization_name": "Cutover Test Co",
                "street_address": {"address1": "1 Main Street", "address2": "", "city": "Boston", "region": "MA", "country": "US", "zip": "02108"},
            },
            "industry": "Software",
            "timezone": "UTC",
            "preferred_currency": "USD",
            "public_api_key": "AbC123",
            "locale": "en-US",
        },
        "links": {"self": format!("{}/api/accounts/{id}/", app.base)},
    });
    collection(&app, &uri, vec![account], None, None)
}

/// Profile filter fields and the operators each accepts.
fn profile_matches(condition: &Condition, profile: &Profile) -> Result<bool, KlError> {
    match condition.field.as_str() {
        "id" => condition.compare_text(Some(&profile.id)),
        "email" => condition.compare_text(profile.email.as_deref()),
        "phone_number" => condition.compare_text(profile.phone_number.as_deref()),
        "external_id" => condition.compare_text(profile.external_id.as_deref()),
        "created" => condition.compare_moment(Some(profile.created)),
        "updated" => condition.compare_moment(Some(profile.updated)),
        "subscriptions.email.marketing.suppression.timestamp" => {
            condition.compare_moment(profile.email_consent.suppression.iter().map(|item| item.timestamp).max())
        }
        // `equals` only (the spec's allowed operators): whether any of the
        // profile's suppressions has that reason / list.
        "subscriptions.email.marketing.suppression.reason" => {
            any_text(condition, profile.email_consent.suppression.iter().map(|item| item.reason.as_str()))
        }
        "subscriptions.email.marketing.list_suppressions.reason" => {
            any_text(condition, profile.email_consent.list_suppressions.iter().map(|(_, reason, _)| reason.as_str()))
        }
        "subscriptions.email.marketing.list_suppressions.list_id" => {
            any_text(condition, profile.email_consent.list_suppressions.iter().map(|(list_id, _, _)| list_id.as_str()))
        }
        "subscriptions.email.marketing.list_suppressions.timestamp" => {
            condition.compare_moment(profile.email_consent.list_suppressions.iter().map(|(_, _, moment)| *moment).max())
        }
        _ => Err(KlError::invalid_parameter(
            format!("'{}' is not a valid filter field for profiles.", condition.field),
            "filter",
        )),
    }
}

/// An `equals` condition on a field that holds several values: true when
/// one of them is equal.
fn any_text<'a>(condition: &Condition, values: impl Iterator<Item = &'a str>) -> Result<bool, KlError> {
    if condition.operator != "equals" {
        return Err(KlError::invalid_parameter(
            format!("'{}' is not a valid operator for {}.", condition.operator, condition.field),
            "filter",
        ));
    }
    let mut matched = false;
    for value in values {
        matched |= condition.compare_text(Some(value))?;
    }
    Ok(matched)
}

fn all_match(conditions: &[Condition], profile: &Profile) -> Result<bool, KlError> {
    for condition in conditions {
        if !profile_matches(condition, profile)? {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn get_profiles(State(app): AppState, uri: Uri) -> Result<Response, KlError> {
    let params = Params::from_uri(&uri);
    let size = page_size(&params, 20, 100)?;
    let cursor = Cursor::from_params(&params)?;
    let conditions = conditions(&params)?;
    let subscriptions = wants_subscriptions(&params);
    let sort = params.get("sort").unwrap_or("id");
    let store = read(app.state.store());
    // Validate the filter once, on any profile, so a bad filter is an error
    // even on an empty account.
    if let Some(profile) = store.profiles.values().next() {
        all_match(&conditions, profile)?;
    }
    let mut page: Vec<&Profile> = Vec::with_capacity(size + 1);
    if sort == "id" {
        let start = cursor.key.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        for (_, profile) in store.profiles.range::<str, _>((start, Bound::Unbounded)) {
            if all_match(&conditions, profile)? {
                page.push(profile);
                if page.len() > size {
                    break;
                }
            }
        }
    } else {
        let (field, descending) = match sort.strip_prefix('-') {
            Some(field) => (field, true),
            None => (sort, false),
        };
        if !["id", "created", "updated", "email"].contains(&field) {
            return Err(KlError::invalid_parameter(format!("'{sort}' is not a valid sort for profiles."), "sort"));
        }
        let mut matching = Vec::new();
        for profile in store.profiles.values() {
            if all_match(&conditions, profile)? {
                matching.push(profile);
            }
        }
        matching.sort_by(|left, right| {
            let order = match field {
                "created" => left.created.cmp(&right.created),
                "updated" => left.updated.cmp(&right.updated),
                "email" => left.email.cmp(&right.email),
                _ => std::cmp::Ordering::Equal,
            }
            .then_with(|| left.id.cmp(&right.id));
            if descending { order.reverse() } else { order }
        });
        page.extend(matching.into_iter().skip(cursor.offset).take(size + 1));
    }
    let next = (page.len() > size).then(|| {
        page.truncate(size);
        cursor.next(size, page.last().map(|profile| profile.id.clone()))
    });
    let data = page
        .into_iter()
        .map(|profile| sparse(&params, "profile", profile_json(profile, subscriptions, &app.base)))
        .collect();
    Ok(collection(&app, &uri, data, next, None))
}

async fn get_profile(State(app): AppState, Path(id): Path<String>, uri: Uri) -> Result<Response, KlError> {
    let params = Params::from_uri(&uri);
    let store = read(app.state.store());
    let profile =
        store.profiles.get(&id).ok_or_else(|| KlError::not_found(format!("A profile with id {id} does not exist.")))?;
    let data = sparse(&params, "profile", profile_json(profile, wants_subscriptions(&params), &app.base));
    let mut body = json!({"data": data, "links": {"self": format!("{}/api/profiles/{id}/", app.base)}});
    if params.list("include").iter().any(|name| name == "lists")
        && let Some(object) = body.as_object_mut()
    {
        let lists: Vec<Value> = store
            .lists
            .iter()
            .filter(|list| list.members.contains_key(&id))
            .map(|list| list_json(list, false, &app.base))
            .collect();
        object.insert("included".into(), Value::Array(lists));
    }
    Ok(document(StatusCode::OK, &body))
}

async fn get_profile_lists(State(app): AppState, Path(id): Path<String>, uri: Uri) -> Result<Response, KlError> {
    let store = read(app.state.store());
    if !store.profiles.contains_key(&id) {
        return Err(KlError::not_found(format!("A profile with id {id} does not exist.")));
    }
    let data = store
        .lists
        .iter()
        .filter(|list| list.members.contains_key(&id))
        .map(|list| list_json(list, false, &app.base))
        .collect();
    Ok(collection(&app, &uri, data, None, None))
}

async fn create_profile(State(app): AppState, body: Bytes) -> Result<Response, KlError> {
    let data = parse_document(&body)?;
    expect_type(&data, "profile")?;
    let attributes = attributes_of(&data, "/data")?;
    check_attributes(attributes, "/data/attributes")?;
    if !has_identifier(attributes) {
        return Err(KlError::invalid(
            "One of email, phone_number, external_id or anonymous_id is required to identify a profile.",
            "/data/attributes",
        ));
    }
    let mut store = write(app.state.store());
    if let Some(existing) = conflicting_profile(&store, attributes, None) {
        return Err(KlError::duplicate_profile(&existing));
    }
    let now = Utc::now();
    let id = store.new_profile_id(now);
    let mut profile = new_profile(id, now);
    super::write::apply(&mut profile, attributes, data.get("meta"), now);
    let rendered = profile_json(&profile, false, &app.base);
    store.insert_profile(profile);
    Ok(single(StatusCode::CREATED, rendered))
}

async fn patch_profile(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Result<Response, KlError> {
    let data = parse_document(&body)?;
    expect_type(&data, "profile")?;
    if data.get("id").and_then(Value::as_str) != Some(id.as_str()) {
        return Err(KlError::invalid("The id in the body must match the id in the path.", "/data/id"));
    }
    let empty = Map::new();
    let attributes = data.get("attributes").and_then(Value::as_object).unwrap_or(&empty);
    check_attributes(attributes, "/data/attributes")?;
    let mut store = write(app.state.store());
    if !store.profiles.contains_key(&id) {
        return Err(KlError::not_found(format!("A profile with id {id} does not exist.")));
    }
    if let Some(existing) = conflicting_profile(&store, attributes, Some(&id)) {
        return Err(KlError::duplicate_profile(&existing));
    }
    update(&mut store, &id, attributes, data.get("meta"), Utc::now())?;
    let profile =
        store.profiles.get(&id).ok_or_else(|| KlError::not_found(format!("A profile with id {id} does not exist.")))?;
    Ok(single(StatusCode::OK, profile_json(profile, false, &app.base)))
}

/// `POST /api/profile-import`: 201 when created, 200 when updated.
async fn import_profile(State(app): AppState, body: Bytes) -> Result<Response, KlError> {
    let data = parse_document(&body)?;
    expect_type(&data, "profile")?;
    let attributes = attributes_of(&data, "/data")?;
    check_attributes(attributes, "/data/attributes")?;
    let mut store = write(app.state.store());
    let id = data.get("id").and_then(Value::as_str);
    let (id, created) = upsert(&mut store, id, attributes, data.get("meta"), Utc::now())?;
    let profile =
        store.profiles.get(&id).ok_or_else(|| KlError::not_found(format!("A profile with id {id} does not exist.")))?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(single(status, profile_json(profile, false, &app.base)))
}

fn list_matches(condition: &Condition, list: &super::model::List) -> Result<bool, KlError> {
    match condition.field.as_str() {
        "id" => condition.compare_text(Some(&list.id)),
        "name" => condition.compare_text(Some(&list.name)),
        "created" => condition.compare_moment(Some(list.created)),
        "updated" => condition.compare_moment(Some(list.updated)),
        _ => Err(KlError::invalid_parameter(
            format!("'{}' is not a valid filter field for lists.", condition.field),
            "filter",
        )),
    }
}

async fn get_lists(State(app): AppState, uri: Uri) -> Result<Response, KlError> {
    let params = Params::from_uri(&uri);
    let size = page_size(&params, 10, 10)?;
    let cursor = Cursor::from_params(&params)?;
    let conditions = conditions(&params)?;
    let profile_count = params.list("additional-fields[list]").iter().any(|field| field == "profile_count");
    let store = read(app.state.store());
    let mut matching = Vec::new();
    for list in &store.lists {
        let mut keep = true;
        for condition in &conditions {
            keep &= list_matches(condition, list)?;
        }
        if keep {
            matching.push(list);
        }
    }
    let mut page: Vec<_> = matching.into_iter().skip(cursor.offset).take(size + 1).collect();
    let next = (page.len() > size).then(|| {
        page.truncate(size);
        cursor.next(size, None)
    });
    let data =
        page.into_iter().map(|list| sparse(&params, "list", list_json(list, profile_count, &app.base))).collect();
    Ok(collection(&app, &uri, data, next, None))
}

async fn get_list(State(app): AppState, Path(id): Path<String>, uri: Uri) -> Result<Response, KlError> {
    let params = Params::from_uri(&uri);
    let profile_count = params.list("additional-fields[list]").iter().any(|field| field == "profile_count");
    let store = read(app.state.store());
    let list = store.list(&id).ok_or_else(|| KlError::not_found(format!("A list with id {id} does not exist.")))?;
    Ok(single(StatusCode::OK, sparse(&params, "list", list_json(list, profile_count, &app.base))))
}

async fn create_list(State(app): AppState, body: Bytes) -> Result<Response, KlError> {
    let data = parse_document(&body)?;
    expect_type(&data, "list")?;
    let attributes = attributes_of(&data, "/data")?;
    let Some(name) = attributes.get("name").and_then(Value::as_str) else {
        return Err(KlError::invalid("'name' is a required field.", "/data/attributes/name"));
    };
    let opt_in_process = attributes.get("opt_in_process").and_then(Value::as_str).unwrap_or("single_opt_in");
    if !["single_opt_in", "double_opt_in"].contains(&opt_in_process) {
        return Err(KlError::invalid(
            format!("'{opt_in_process}' is not one of single_opt_in, double_opt_in."),
            "/data/attributes/opt_in_process",
        ));
    }
    let mut store = write(app.state.store());
    let now = Utc::now();
    let list = super::model::List {
        id: short_id(&mut store.rng),
        name: name.to_owned(),
        created: now,
        updated: now,
        opt_in_process: opt_in_process.to_owned(),
        members: Default::default(),
    };
    let rendered = list_json(&list, false, &app.base);
    store.lists.push(list);
    Ok(single(StatusCode::CREATED, rendered))
}

/// `PATCH /api/lists/{id}`: renames a list or changes its opt-in process;
/// the body's `data.id` must match the path.
async fn patch_list(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Result<Response, KlError> {
    let data = parse_document(&body)?;
    expect_type(&data, "list")?;
    if let Some(body_id) = data.get("id").and_then(Value::as_str)
        && body_id != id
    {
        return Err(KlError::invalid(format!("The id '{body_id}' does not match the path's id '{id}'."), "/data/id"));
    }
    let attributes = attributes_of(&data, "/data")?;
    let name = match attributes.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) if !name.trim().is_empty() => Some(name.clone()),
        Some(_) => return Err(KlError::invalid("'name' must be a non-empty string.", "/data/attributes/name")),
    };
    let opt_in_process = match attributes.get("opt_in_process") {
        None | Some(Value::Null) => None,
        Some(Value::String(value)) if ["single_opt_in", "double_opt_in"].contains(&value.as_str()) => {
            Some(value.clone())
        }
        Some(other) => {
            return Err(KlError::invalid(
                format!("'{other}' is not one of single_opt_in, double_opt_in."),
                "/data/attributes/opt_in_process",
            ));
        }
    };
    let mut store = write(app.state.store());
    let list = store
        .lists
        .iter_mut()
        .find(|list| list.id == id)
        .ok_or_else(|| KlError::not_found(format!("A list with id {id} does not exist.")))?;
    if let Some(name) = name {
        list.name = name;
    }
    if let Some(opt_in_process) = opt_in_process {
        list.opt_in_process = opt_in_process;
    }
    list.updated = Utc::now();
    Ok(single(StatusCode::OK, list_json(list, false, &app.base)))
}

/// `GET /api/campaigns`: the account has no campaigns (cutover does not
/// migrate them), so every page is empty; the channel filter Klaviyo
/// requires (`equals(messages.channel,'email')`, `'sms'` or `'mobile_push'`)
/// is still checked.
async fn get_campaigns(State(app): AppState, uri: Uri) -> Result<Response, KlError> {
    let params = Params::from_uri(&uri);
    let conditions = conditions(&params)?;
    let channel = conditions.iter().find(|condition| condition.field == "messages.channel");
    let valid = channel.is_some_and(|condition| {
        condition.operator == "equals"
            && condition.value.text().is_some_and(|text| ["email", "sms", "mobile_push"].contains(&text))
    });
    if !valid {
        return Err(KlError::invalid_parameter(
            "A channel filter is required: filter=equals(messages.channel,'email'), 'sms' or 'mobile_push'.",
            "filter",
        ));
    }
    let included = (!params.list("include").is_empty()).then(Vec::new);
    Ok(collection(&app, &uri, Vec::new(), None, included))
}

/// `GET /__emulator/klaviyo/seeded` (no key, no revision): how many of each
/// resource the store holds, for suites that check a client's counts.
async fn get_seeded(State(app): AppState) -> Response {
    let store = read(app.state.store());
    let mut events_by_metric = Map::new();
    for (index, metric) in store.metrics.iter().enumerate() {
        let count = store.events.iter().filter(|event| usize::from(event.metric) == index).count();
        events_by_metric.insert(metric.name.clone(), Value::from(count));
    }
    let list_members: Map<String, Value> =
        store.lists.iter().map(|list| (list.id.clone(), Value::from(list.members.len()))).collect();
    // Profiles having at least one suppression of each reason.
    let mut suppressed_by_reason = Map::new();
    for reason in ["HARD_BOUNCE", "INVALID_EMAIL", "SPAM_COMPLAINT", "UNSUBSCRIBE", "USER_SUPPRESSED"] {
        let count = store
            .profiles
            .values()
            .filter(|profile| profile.email_consent.suppression.iter().any(|item| item.reason == reason))
            .count();
        suppressed_by_reason.insert(reason.into(), Value::from(count));
    }
    let consent =
        |wanted: &str| store.profiles.values().filter(|profile| profile.email_consent.consent == wanted).count();
    let body = json!({
        "profiles": store.profiles.len(),
        "lists": store.lists.len(),
        "list_members": list_members,
        "metrics": store.metrics.len(),
        "events": store.events.len(),
        "events_by_metric": events_by_metric,
        "subscribed": consent("SUBSCRIBED"),
        "unsubscribed": consent("UNSUBSCRIBED"),
        "never_subscribed": consent("NEVER_SUBSCRIBED"),
        "suppressed": store.profiles.values().filter(|profile| !profile.email_consent.suppression.is_empty()).count(),
        "suppressed_by_reason": suppressed_by_reason,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

async fn get_list_profiles(State(app): AppState, Path(id): Path<String>, uri: Uri) -> Result<Response, KlError> {
    let params = Params::from_uri(&uri);
    let size = page_size(&params, 20, 100)?;
    let cursor = Cursor::from_params(&params)?;
    let conditions = conditions(&params)?;
    let subscriptions = wants_subscriptions(&params);
    let store = read(app.state.store());
    let list = store.list(&id).ok_or_else(|| KlError::not_found(format!("A list with id {id} does not exist.")))?;
    let start = cursor.key.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let mut page = Vec::with_capacity(size + 1);
    for (profile_id, joined) in list.members.range::<str, _>((start, Bound::Unbounded)) {
        let Some(profile) = store.profiles.get(profile_id) else {
            continue;
        };
        let mut keep = true;
        for condition in &conditions {
            keep &= match condition.field.as_str() {
                "joined_group_at" => condition.compare_moment(Some(*joined))?,
                _ => profile_matches(condition, profile)?,
            };
        }
        if keep {
            page.push((profile, *joined));
            if page.len() > size {
                break;
            }
        }
    }
    let next = (page.len() > size).then(|| {
        page.truncate(size);
        cursor.next(size, page.last().map(|(profile, _)| profile.id.clone()))
    });
    let data = page
        .into_iter()
        .map(|(profile, joined)| {
            let mut rendered = profile_json(profile, subscriptions, &app.base);
            if let Some(attributes) = rendered.get_mut("attributes").and_then(Value::as_object_mut) {
                attributes.insert("joined_group_at".into(), Value::from(super::model::datetime(&joined)));
            }
            sparse(&params, "profile", rendered)
        })
        .collect();
    Ok(collection(&app, &uri, data, next, None))
}

/// Profile ids of a relationship body, at most 1000.
fn relationship_ids(body: &[u8], store: &Store) -> Result<Vec<String>, KlError> {
    let data = parse_document(body)?;
    let Some(items) = data.as_array() else {
        return Err(KlError::invalid("'data' must be an array of profile identifiers.", "/data"));
    };
    if items.len() > 1000 {
        return Err(KlError::invalid("At most 1000 profiles may be given per request.", "/data"));
    }
    items
        .iter()
        .enumerate()
        .map(|(position, item)| {
            let pointer = format!("/data/{position}");
            expect_type(item, "profile").map_err(|error| KlError {
                source: Some(Box::new(super::errors::Source::Pointer(format!("{pointer}/type")))),
                ..error
            })?;
            let id = item.get("id").and_then(Value::as_str).unwrap_or_default();
            if store.profiles.contains_key(id) {
                Ok(id.to_owned())
            } else {
                Err(KlError::invalid(format!("A profile with id {id} does not exist."), format!("{pointer}/id")))
            }
        })
        .collect()
}

/// Adds members; consent does not change.
async fn add_list_profiles(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Result<StatusCode, KlError> {
    let mut store = write(app.state.store());
    let ids = relationship_ids(&body, &store)?;
    let now = Utc::now();
    let list = store
        .lists
        .iter_mut()
        .find(|list| list.id == id)
        .ok_or_else(|| KlError::not_found(format!("A list with id {id} does not exist.")))?;
    for profile_id in ids {
        list.members.entry(profile_id).or_insert(now);
    }
    list.updated = now;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes members; consent does not change.
async fn remove_list_profiles(
    State(app): AppState,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, KlError> {
    let mut store = write(app.state.store());
    let ids = relationship_ids(&body, &store)?;
    let list = store
        .lists
        .iter_mut()
        .find(|list| list.id == id)
        .ok_or_else(|| KlError::not_found(format!("A list with id {id} does not exist.")))?;
    for profile_id in ids {
        list.members.remove(&profile_id);
    }
    list.updated = Utc::now();
    Ok(StatusCode::NO_CONTENT)
}

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
        condition.value = filter::FilterValue::Bare(super::model::datetime(&moment));
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

async fn get_events(
    State(app): AppState,
    Extension(revision): Extension<Revision>,
    uri: Uri,
) -> Result<Response, KlError> {
    let params = Params::from_uri(&uri);
    let size = if revision.at_least(SNAPSHOT_2026) { page_size(&params, 200, 1000)? } else { 200 };
    let cursor = Cursor::from_params(&params)?;
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
async fn create_event(
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

async fn get_metrics(State(app): AppState, uri: Uri) -> Result<Response, KlError> {
    let params = Params::from_uri(&uri);
    let cursor = Cursor::from_params(&params)?;
    let conditions = conditions(&params)?;
    let store = read(app.state.store());
    let mut matching = Vec::new();
    for metric in &store.metrics {
        let mut keep = true;
        for condition in &conditions {
            let (_, name, category) = metric.integration;
            keep &= match condition.field.as_str() {
                "integration.name" => condition.compare_text(Some(name))?,
                "integration.category" => condition.compare_text(Some(category))?,
                _ => {
                    return Err(KlError::invalid_parameter(
                        format!("'{}' is not a valid filter field for metrics.", condition.field),
                        "filter",
                    ));
                }
            };
        }
        if keep {
            matching.push(metric);
        }
    }
    let size = 200;
    let mut page: Vec<_> = matching.into_iter().skip(cursor.offset).take(size + 1).collect();
    let next = (page.len() > size).then(|| {
        page.truncate(size);
        cursor.next(size, None)
    });
    let data = page.into_iter().map(|metric| sparse(&params, "metric", metric_json(metric, &app.base))).collect();
    Ok(collection(&app, &uri, data, next, None))
}

async fn get_metric(State(app): AppState, Path(id): Path<String>) -> Result<Response, KlError> {
    let store = read(app.state.store());
    let metric = store
        .metrics
        .iter()
        .find(|metric| metric.id == id)
        .ok_or_else(|| KlError::not_found(format!("A metric with id {id} does not exist.")))?;
    Ok(single(StatusCode::OK, metric_json(metric, &app.base)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let cursor = Cursor { page: 3, offset: 60, key: Some("01GDDKASAP8TKDDA2GRZDSVP4H".to_owned()) };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("zz"), None);
    }

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

    #[test]
    fn suppression_reasons_match_any_suppression() {
        let conditions =
            filter::parse("equals(subscriptions.email.marketing.suppression.reason,'HARD_BOUNCE')").unwrap_or_default();
        let reasons = ["UNSUBSCRIBE", "HARD_BOUNCE"];
        assert_eq!(any_text(&conditions[0], reasons.into_iter()).ok(), Some(true));
        assert_eq!(any_text(&conditions[0], ["UNSUBSCRIBE"].into_iter()).ok(), Some(false));
        let greater =
            filter::parse("greater-than(subscriptions.email.marketing.suppression.reason,'A')").unwrap_or_default();
        assert!(any_text(&greater[0], reasons.into_iter()).is_err());
    }
}
