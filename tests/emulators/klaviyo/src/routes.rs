//! The `/api/` routes: the router (key, revision, rate-limit tiers), and
//! the account, profile, list, campaign and metric resources. Events are in
//! [`crate::events`], jobs in [`crate::jobs`], the event bulk create job in
//! [`crate::events_bulk`].

use std::ops::Bound;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, Utc};
use cutover_emulator_kit::auth::{ApiKey, Scheme, require_key};
use cutover_emulator_kit::error_body::jsonapi::document;
use cutover_emulator_kit::paging::circular_cursor_links;
use cutover_emulator_kit::query::Params;
use cutover_emulator_kit::ratelimit::{Tier, WindowLimit, limit_windows};
use cutover_emulator_kit::store::{read, write};
use serde_json::{Map, Value, json};

use crate::KlaviyoRateLimit;
use crate::app::{
    App, AppState, MAX_IMPORT_BYTES, Revision, attributes_of, collection, conditions, cursor, expect_type, page_size,
    parse_document, single, sparse, wants_subscriptions,
};
use crate::errors::{KlError, Source};
use crate::events::{create_event, get_events};
use crate::filter::Condition;
use crate::model::{List, Profile, Store, datetime, list_json, metric_json, profile_json, short_id};
use crate::state::KlaviyoState;
use crate::vendor::Klaviyo;
use crate::write::{apply, check_attributes, conflicting_profile, has_identifier, new_profile, update, upsert};
use crate::{events_bulk, jobs};

/// The oldest revision the emulator serves.
const OLDEST_REVISION: (i32, u32, u32) = (2023, 1, 24);
/// From this revision on, the L tier allows 750 requests a minute.
const L_TIER_750: (i32, u32, u32) = (2026, 1, 15);

/// The API routes, and the control routes (under `/__emulator/klaviyo`).
pub(crate) fn router(state: KlaviyoState, rate_limit: Option<KlaviyoRateLimit>, base: String) -> (Router, Router) {
    let key = ApiKey::new(state.api_key(), [Scheme::Token("Klaviyo-API-Key")]);
    let base_url: Arc<str> = Arc::from(base.as_str());
    let app = Arc::new(App { state, base });
    let api = Router::new()
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
        .route_layer(middleware::from_fn_with_state(windows(rate_limit), limit_windows::<Klaviyo>))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(check_revision))
        .layer(middleware::from_fn_with_state(key, require_key::<Klaviyo>))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES * 2))
        .layer(middleware::from_fn_with_state(base_url, circular_cursor_links::<Klaviyo>))
        .with_state(Arc::clone(&app));
    let control = Router::new().route("/seeded", get(get_seeded)).with_state(app);
    (api, control)
}

/// The burst and steady windows of each endpoint: its documented tier for
/// the request's revision, or one rate for all.
fn windows(rate_limit: Option<KlaviyoRateLimit>) -> WindowLimit {
    WindowLimit::new(move |request: &Request, path: &str| match rate_limit {
        Some(limit) => Tier { burst: limit.burst_per_second, steady: limit.steady_per_minute },
        None => {
            let revision = request.extensions().get::<Revision>().copied().unwrap_or(Revision(NaiveDate::MIN));
            tier(request.method(), path, revision)
        }
    })
}

async fn not_found(uri: Uri) -> KlError {
    KlError::not_found(format!("The path {} was not found.", uri.path()))
}

async fn method_not_allowed() -> KlError {
    KlError::method_not_allowed()
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
    let cursor = cursor(&params)?;
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
    apply(&mut profile, attributes, data.get("meta"), now);
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

fn list_matches(condition: &Condition, list: &List) -> Result<bool, KlError> {
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
    let cursor = cursor(&params)?;
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
    let (page, next) = cursor.take_page(matching.into_iter(), size);
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
    let list = List {
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
    let cursor = cursor(&params)?;
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
                attributes.insert("joined_group_at".into(), Value::from(datetime(&joined)));
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
                source: Some(Box::new(Source::Pointer(format!("{pointer}/type")))),
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

async fn get_metrics(State(app): AppState, uri: Uri) -> Result<Response, KlError> {
    let params = Params::from_uri(&uri);
    let cursor = cursor(&params)?;
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
    let (page, next) = cursor.take_page(matching.into_iter(), size);
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
    use crate::filter;

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
