//! The `/3.0/` routes: the router, basic auth, and the handlers of
//! audiences, members, tags, merge fields, campaigns and reports. Batches
//! are in [`crate::batches`].

use std::cmp::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use cutover_emulator_kit::auth::{ApiKey, Scheme, require_key};
use cutover_emulator_kit::paging::endless_offset_pages;
use cutover_emulator_kit::query::Params;
use cutover_emulator_kit::seed::hex;
use cutover_emulator_kit::store::{read, write};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::app::{App, AppState, collection_links, page, paging, respond};
use crate::batches;
use crate::errors::{FieldError, McError};
use crate::model::{
    Campaign, List, Member, MergeField, Status, Store, link, list_json, member_json, merge_field_json, subscriber_hash,
    timestamp,
};
use crate::reports::{Outcome, activity_json, campaign_json, outcome, report_json};
use crate::seed::default_merge_fields;
use crate::state::MailchimpState;
use crate::vendor::Mailchimp;
use crate::write::{MemberWrite, Mode, check_address, error_field, parse_body, path_hash, write_member};

/// Members per batch subscribe call.
const MAX_BATCH_MEMBERS: usize = 500;

/// The API routes with the [`paging_loop`](cutover_emulator_kit::FaultConfig::paging_loop)
/// fault's layer, and the control routes (under `/__emulator/mailchimp`).
pub(crate) fn router(state: MailchimpState, base: String) -> (Router, Router) {
    let app = Arc::new(App { state, base, api });
    let control = Router::new()
        .route("/seeded", get(seeded))
        .route("/batch-results/{batch_id}", get(batches::archive))
        .with_state(Arc::clone(&app));
    (api(app).layer(middleware::from_fn(endless_offset_pages::<Mailchimp>)), control)
}

/// `GET /__emulator/mailchimp/seeded`: read-only counts of what the store
/// holds now (the seed plus whatever was written), for harnesses that drive
/// the emulator from outside (the fidelity suite) and must know what a full
/// read returns. Per audience: members by status and in the default listing
/// (archived left out), merge fields and tags; campaigns; per campaign and
/// in total: recipients, email-activity items with at least one action,
/// actions, and unsubscribes. Unauthenticated, like the batch results.
async fn seeded(State(app): AppState) -> Json<Value> {
    let store = read(app.state.store());
    let lists: Vec<Value> = store
        .lists
        .iter()
        .map(|list| {
            let mut by_status = Map::new();
            for status in Status::ALL {
                let count = list.members.iter().filter(|member| member.status == status).count();
                by_status.insert(status.as_str().to_owned(), Value::from(count));
            }
            json!({
                "id": list.id,
                "name": list.name,
                "members": list.members.len(),
                "members_listed": list.members.iter().filter(|member| member.status != Status::Archived).count(),
                "members_by_status": by_status,
                "merge_fields": list.merge_fields.len(),
                "tags": list.tags.len(),
            })
        })
        .collect();
    let mut campaigns = Vec::new();
    let (mut recipients_total, mut with_activity_total, mut actions_total, mut unsubscribes_total) = (0, 0, 0, 0);
    for campaign in &store.campaigns {
        let Some(list) = store.lists.get(campaign.list) else { continue };
        let (mut recipients, mut with_activity, mut actions, mut unsubscribes) = (0, 0, 0, 0);
        for member in &list.members {
            let Some(outcome) = outcome(store.seed, campaign, member) else { continue };
            let done = usize::from(outcome.bounce.is_some())
                + usize::from(outcome.open.is_some())
                + usize::from(outcome.click.is_some());
            recipients += 1;
            with_activity += usize::from(done > 0);
            actions += done;
            unsubscribes += usize::from(outcome.unsubscribed.is_some());
        }
        recipients_total += recipients;
        with_activity_total += with_activity;
        actions_total += actions;
        unsubscribes_total += unsubscribes;
        campaigns.push(json!({
            "id": campaign.id,
            "list_id": list.id,
            "recipients": recipients,
            "email_activity_with_actions": with_activity,
            "email_activity_actions": actions,
            "unsubscribes": unsubscribes,
        }));
    }
    Json(json!({
        "lists": lists,
        "members": store.lists.iter().map(|list| list.members.len()).sum::<usize>(),
        "campaigns": campaigns,
        "totals": {
            "lists": store.lists.len(),
            "campaigns": store.campaigns.len(),
            "recipients": recipients_total,
            "email_activity_with_actions": with_activity_total,
            "email_activity_actions": actions_total,
            "unsubscribes": unsubscribes_total,
        },
    }))
}

/// The authenticated `/3.0/` routes; `POST /batches` runs its operations
/// through a fresh copy of them.
pub(crate) fn api(app: Arc<App>) -> Router {
    Router::new()
        .route("/3.0/", get(root))
        .route("/3.0/ping", get(ping))
        .route("/3.0/lists", get(get_lists).post(create_list))
        .route("/3.0/lists/{list_id}", get(get_list).post(batch_members))
        .route("/3.0/lists/{list_id}/members", get(get_members).post(add_member))
        .route(
            "/3.0/lists/{list_id}/members/{hash}",
            get(get_member).put(put_member).patch(patch_member).delete(archive_member),
        )
        .route("/3.0/lists/{list_id}/members/{hash}/actions/delete-permanent", post(delete_member_permanently))
        .route("/3.0/lists/{list_id}/members/{hash}/tags", get(get_member_tags).post(set_member_tags))
        .route("/3.0/lists/{list_id}/merge-fields", get(get_merge_fields).post(create_merge_field))
        .route("/3.0/lists/{list_id}/merge-fields/{merge_id}", get(get_merge_field))
        .route("/3.0/lists/{list_id}/tag-search", get(tag_search))
        .route("/3.0/campaigns", get(get_campaigns))
        .route("/3.0/campaigns/{campaign_id}", get(get_campaign))
        .route("/3.0/reports", get(get_reports))
        .route("/3.0/reports/{campaign_id}", get(get_report))
        .route("/3.0/reports/{campaign_id}/email-activity", get(get_email_activity))
        .route("/3.0/reports/{campaign_id}/email-activity/{hash}", get(get_member_activity))
        .route("/3.0/reports/{campaign_id}/sent-to", get(get_sent_to))
        .route("/3.0/reports/{campaign_id}/unsubscribed", get(get_unsubscribed))
        .route("/3.0/batches", get(batches::list_batches).post(batches::create_batch))
        .route("/3.0/batches/{batch_id}", get(batches::get_batch).delete(batches::delete_batch))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(api_key(&app), require_key::<Mailchimp>))
        .with_state(app)
}

async fn not_found() -> McError {
    McError::ResourceNotFound
}

async fn method_not_allowed() -> McError {
    McError::MethodNotAllowed
}

/// Basic auth with the API key as password (user name ignored), or the key
/// as an OAuth token: `Bearer <token>` (the official SDKs) or
/// `OAuth <token>` (Mailchimp's OAuth guide, mailchimp3, tap-mailchimp).
fn api_key(app: &App) -> ApiKey {
    ApiKey::new(app.state.api_key(), [Scheme::Basic, Scheme::Token("Bearer"), Scheme::Token("OAuth")])
}

fn parse_moment(name: &str, value: &str) -> Result<DateTime<Utc>, McError> {
    // An unencoded `+00:00` arrives as ` 00:00`.
    let repaired = value.replace(' ', "+");
    if let Ok(moment) = DateTime::parse_from_rfc3339(value).or_else(|_| DateTime::parse_from_rfc3339(&repaired)) {
        return Ok(moment.with_timezone(&Utc));
    }
    if let Ok(moment) = NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S") {
        return Ok(moment.and_utc());
    }
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err(McError::BadRequest(format!("The parameter {name} must be an ISO 8601 time, e.g. 2015-10-21T15:41:36+00:00.")))
}

fn moment_param(params: &Params, name: &str) -> Result<Option<DateTime<Utc>>, McError> {
    params.get(name).map(|value| parse_moment(name, value)).transpose()
}

/// The `_links` of one item of a report collection (`self` and `parent`),
/// which the vendor's clients index into (tap-mailchimp deletes
/// `item["_links"]` from every item it reads and fails when it is missing).
fn item_links(base: &str, collection: &str, id: &str, schema: &str) -> Value {
    json!([
        link("self", &format!("{base}/3.0/{collection}/{id}"), "GET", &format!("{schema}/Instance")),
        link("parent", &format!("{base}/3.0/{collection}"), "GET", &format!("{schema}/CollectionResponse")),
    ])
}

async fn ping() -> Json<Value> {
    Json(json!({"health_status": "Everything's Chimpy!"}))
}

async fn root(State(app): AppState) -> Json<Value> {
    let store = read(app.state.store());
    let total: usize = store.lists.iter().map(|list| list.members.len()).sum();
    Json(json!({
        "account_id": hex(&mut rand_pcg::Pcg64::new(u128::from(store.seed), 1), 25),
        "login_id": "1",
        "account_name": "Cutover Test Co",
        "email": "owner@cutover-test.io",
        "first_name": "Test",
        "last_name": "Owner",
        "username": "cutover-test",
        "role": "owner",
        "pro_enabled": false,
        "account_timezone": "UTC",
        "account_industry": "Software",
        "total_subscribers": total,
        "_links": [link("self", &format!("{}/3.0/", app.base), "GET", "Root")],
    }))
}

fn campaign_count(store: &Store, list_position: usize) -> usize {
    store.campaigns.iter().filter(|campaign| campaign.list == list_position).count()
}

async fn get_lists(State(app): AppState, uri: Uri) -> Result<Response, McError> {
    let params = Params::from_uri(&uri);
    let (offset, count) = paging(&params)?;
    let sort_field = params.get("sort_field");
    if let Some(field) = sort_field
        && field != "date_created"
    {
        return Err(McError::BadRequest(format!("The parameter sort_field must be date_created; {field} was given.")));
    }
    let descending = params.get("sort_dir").is_some_and(|dir| dir.eq_ignore_ascii_case("DESC"));
    let store = read(app.state.store());
    let mut ordered: Vec<(usize, &List)> = store.lists.iter().enumerate().collect();
    if sort_field.is_some() {
        ordered.sort_by(|(_, left), (_, right)| {
            let order = left.date_created.cmp(&right.date_created);
            if descending { order.reverse() } else { order }
        });
    }
    let (lists, total) = page(ordered.into_iter(), offset, count);
    let lists: Vec<Value> = lists
        .into_iter()
        .map(|(position, list)| list_json(list, campaign_count(&store, position), &app.base))
        .collect();
    Ok(respond(
        &uri,
        json!({
            "lists": lists,
            "total_items": total,
            "constraints": {"may_create": true, "max_instances": 0, "current_total_instances": store.lists.len()},
            "_links": collection_links(&app.base, "lists", "Lists/CollectionResponse"),
        }),
    ))
}

async fn get_list(State(app): AppState, Path(list_id): Path<String>, uri: Uri) -> Result<Response, McError> {
    let store = read(app.state.store());
    let position = store.lists.iter().position(|list| list.id == list_id).ok_or(McError::ResourceNotFound)?;
    let list = &store.lists[position];
    Ok(respond(&uri, list_json(list, campaign_count(&store, position), &app.base)))
}

#[derive(Debug, Deserialize)]
struct NewList {
    name: Option<String>,
    contact: Option<Value>,
    permission_reminder: Option<String>,
    campaign_defaults: Option<Value>,
    email_type_option: Option<bool>,
    #[serde(default)]
    double_optin: bool,
    #[serde(default)]
    marketing_permissions: bool,
}

async fn create_list(State(app): AppState, uri: Uri, body: Bytes) -> Result<Response, McError> {
    let new_list: NewList = parse_body(&body)?;
    let mut missing = Vec::new();
    let required = [
        ("name", new_list.name.is_none()),
        ("contact", new_list.contact.is_none()),
        ("permission_reminder", new_list.permission_reminder.is_none()),
        ("campaign_defaults", new_list.campaign_defaults.is_none()),
        ("email_type_option", new_list.email_type_option.is_none()),
    ];
    for (field, absent) in required {
        if absent {
            missing.push(FieldError { field: field.to_owned(), message: "This value should not be blank.".to_owned() });
        }
    }
    if !missing.is_empty() {
        return Err(McError::invalid_fields(missing));
    }
    let mut store = write(app.state.store());
    let id = hex(&mut store.rng, 10);
    store.next_web_id += 1;
    let web_id = store.next_web_id;
    let permissions =
        if new_list.marketing_permissions { vec![(hex(&mut store.rng, 10), "Email".to_owned())] } else { Vec::new() };
    let list = List {
        id,
        web_id,
        name: new_list.name.unwrap_or_default(),
        contact: new_list.contact.unwrap_or_default(),
        permission_reminder: new_list.permission_reminder.unwrap_or_default(),
        campaign_defaults: new_list.campaign_defaults.unwrap_or_default(),
        email_type_option: new_list.email_type_option.unwrap_or_default(),
        double_optin: new_list.double_optin,
        marketing_permissions: new_list.marketing_permissions,
        date_created: Utc::now(),
        members: Vec::new(),
        index: Default::default(),
        merge_fields: default_merge_fields().into_iter().take(5).collect(),
        tags: Vec::new(),
        permissions,
        forgotten: Default::default(),
    };
    let body = list_json(&list, 0, &app.base);
    store.lists.push(list);
    Ok(respond(&uri, body))
}

fn sort_key(member: &Member, field: &str) -> Option<DateTime<Utc>> {
    match field {
        "timestamp_opt" => member.timestamp_opt,
        "timestamp_signup" => member.timestamp_signup,
        _ => Some(member.last_changed),
    }
}

async fn get_members(State(app): AppState, Path(list_id): Path<String>, uri: Uri) -> Result<Response, McError> {
    let params = Params::from_uri(&uri);
    let (offset, count) = paging(&params)?;
    let status = match params.get("status") {
        None => None,
        Some(name) => Some(Status::parse(name).ok_or_else(|| {
            McError::BadRequest(format!(
                "The parameter status must be one of subscribed, unsubscribed, cleaned, pending, transactional, archived; {name} was given."
            ))
        })?),
    };
    let since_changed = moment_param(&params, "since_last_changed")?;
    let before_changed = moment_param(&params, "before_last_changed")?;
    let since_opt = moment_param(&params, "since_timestamp_opt")?;
    let before_opt = moment_param(&params, "before_timestamp_opt")?;
    let unsubscribed_since = moment_param(&params, "unsubscribed_since")?;
    if unsubscribed_since.is_some() && status != Some(Status::Unsubscribed) {
        return Err(McError::BadRequest("The parameter unsubscribed_since requires status=unsubscribed.".to_owned()));
    }
    let sort_field = params.get("sort_field");
    if let Some(field) = sort_field
        && !["timestamp_opt", "timestamp_signup", "last_changed"].contains(&field)
    {
        return Err(McError::BadRequest(format!(
            "The parameter sort_field must be one of timestamp_opt, timestamp_signup, last_changed; {field} was given."
        )));
    }
    let descending = params.get("sort_dir").is_some_and(|dir| dir.eq_ignore_ascii_case("DESC"));

    let store = read(app.state.store());
    let list = store.list(&list_id).ok_or(McError::ResourceNotFound)?;
    let mut matching: Vec<&Member> = list
        .members
        .iter()
        .filter(|member| match status {
            Some(status) => member.status == status,
            None => member.status != Status::Archived,
        })
        .filter(|member| since_changed.is_none_or(|since| member.last_changed >= since))
        .filter(|member| before_changed.is_none_or(|before| member.last_changed < before))
        .filter(|member| since_opt.is_none_or(|since| member.timestamp_opt.is_some_and(|opt| opt >= since)))
        .filter(|member| before_opt.is_none_or(|before| member.timestamp_opt.is_some_and(|opt| opt < before)))
        .filter(|member| unsubscribed_since.is_none_or(|since| member.last_changed >= since))
        .collect();
    if let Some(field) = sort_field {
        matching.sort_by(|left, right| {
            let order = sort_key(left, field).cmp(&sort_key(right, field));
            if descending { order.reverse() } else { order }
        });
    }
    let (members, total) = page(matching.into_iter(), offset, count);
    let members: Vec<Value> = members.into_iter().map(|member| member_json(list, member, &app.base)).collect();
    Ok(respond(
        &uri,
        json!({
            "members": members,
            "list_id": list.id,
            "total_items": total,
            "_links": collection_links(&app.base, &format!("lists/{}/members", list.id), "Lists/Members/CollectionResponse"),
        }),
    ))
}

async fn get_member(
    State(app): AppState,
    Path((list_id, hash)): Path<(String, String)>,
    uri: Uri,
) -> Result<Response, McError> {
    let store = read(app.state.store());
    let list = store.list(&list_id).ok_or(McError::ResourceNotFound)?;
    let member = list.member(&path_hash(&hash)).ok_or(McError::ResourceNotFound)?;
    Ok(respond(&uri, member_json(list, member, &app.base)))
}

fn write_and_render(
    app: &App,
    list_id: &str,
    path_segment: Option<&str>,
    body: &[u8],
    mode: Mode,
) -> Result<Value, McError> {
    let member_write: MemberWrite = parse_body(body)?;
    let mut store = write(app.state.store());
    let (member, _) = write_member(&mut store, list_id, path_segment, member_write, mode, Utc::now())?;
    let list = store.list(list_id).ok_or(McError::ResourceNotFound)?;
    Ok(member_json(list, &member, &app.base))
}

async fn add_member(
    State(app): AppState,
    Path(list_id): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Result<Response, McError> {
    let member = write_and_render(&app, &list_id, None, &body, Mode::Create)?;
    Ok(respond(&uri, member))
}

async fn put_member(
    State(app): AppState,
    Path((list_id, hash)): Path<(String, String)>,
    uri: Uri,
    body: Bytes,
) -> Result<Response, McError> {
    let member = write_and_render(&app, &list_id, Some(&hash), &body, Mode::Upsert)?;
    Ok(respond(&uri, member))
}

async fn patch_member(
    State(app): AppState,
    Path((list_id, hash)): Path<(String, String)>,
    uri: Uri,
    body: Bytes,
) -> Result<Response, McError> {
    let member = write_and_render(&app, &list_id, Some(&hash), &body, Mode::Update)?;
    Ok(respond(&uri, member))
}

/// `DELETE` archives: the member stays, with status `archived`.
async fn archive_member(
    State(app): AppState,
    Path((list_id, hash)): Path<(String, String)>,
) -> Result<StatusCode, McError> {
    let mut store = write(app.state.store());
    let list = store.list_mut(&list_id).ok_or(McError::ResourceNotFound)?;
    let at = *list.index.get(&path_hash(&hash)).ok_or(McError::ResourceNotFound)?;
    let member = list.members.get_mut(at).ok_or(McError::ResourceNotFound)?;
    member.status = Status::Archived;
    member.last_changed = Utc::now();
    Ok(StatusCode::NO_CONTENT)
}

/// Erases the member and remembers the address so it cannot be re-imported.
async fn delete_member_permanently(
    State(app): AppState,
    Path((list_id, hash)): Path<(String, String)>,
) -> Result<StatusCode, McError> {
    let mut store = write(app.state.store());
    let list = store.list_mut(&list_id).ok_or(McError::ResourceNotFound)?;
    let hash = path_hash(&hash);
    list.remove(&hash).ok_or(McError::ResourceNotFound)?;
    list.forgotten.insert(hash);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct BatchBody {
    members: Vec<Value>,
    #[serde(default)]
    update_existing: bool,
    #[serde(default)]
    sync_tags: bool,
}

/// `POST /lists/{list_id}`: batch subscribe or unsubscribe, up to 500.
async fn batch_members(
    State(app): AppState,
    Path(list_id): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Result<Response, McError> {
    let batch: BatchBody = parse_body(&body)?;
    if batch.members.len() > MAX_BATCH_MEMBERS {
        return Err(McError::invalid_field(
            "members",
            format!(
                "Schema describes array with at most {MAX_BATCH_MEMBERS} items, {} found instead",
                batch.members.len()
            ),
        ));
    }
    let params = Params::from_uri(&uri);
    let skip_duplicates = params.get("skip_duplicate_check") == Some("true");
    let mut store = write(app.state.store());
    if store.list(&list_id).is_none() {
        return Err(McError::ResourceNotFound);
    }
    let now = Utc::now();
    let mut seen = std::collections::HashSet::new();
    let mut created = Vec::new();
    let mut updated = Vec::new();
    let mut errors = Vec::new();
    for item in batch.members {
        let email_hint = item.get("email_address").and_then(Value::as_str).unwrap_or_default().to_owned();
        let mut error = |message: String, code: &str, field: &str, field_message: &str| {
            errors.push(json!({
                "email_address": email_hint,
                "error": message,
                "error_code": code,
                "field": field,
                "field_message": field_message,
            }));
        };
        let member_write: MemberWrite = match serde_json::from_value(item.clone()) {
            Ok(member_write) => member_write,
            Err(parse_error) => {
                error(parse_error.to_string(), "ERROR_GENERIC", "", "");
                continue;
            }
        };
        let Some(email) = member_write.email_address.clone() else {
            error("An email address is required.".to_owned(), "ERROR_GENERIC", "email_address", "");
            continue;
        };
        let hash = subscriber_hash(&email);
        if !seen.insert(hash.clone()) {
            if !skip_duplicates {
                error(format!("{email} is a duplicate in this request."), "ERROR_GENERIC", "email_address", "");
            }
            continue;
        }
        if let Err(invalid) = check_address(&email) {
            let (_, _, detail) = invalid.parts();
            error(detail, "ERROR_GENERIC", "email_address", "");
            continue;
        }
        let exists = store
            .list(&list_id)
            .and_then(|list| list.member(&hash))
            .is_some_and(|member| member.status != Status::Archived);
        if exists && !batch.update_existing {
            error(
                format!(
                    "{email} is already a list member, do you want to update? please provide update_existing:'true' in the request body"
                ),
                "ERROR_CONTACT_EXISTS",
                "email_address",
                "",
            );
            continue;
        }
        let tags = member_write.tags.clone();
        match write_member(&mut store, &list_id, None, member_write, Mode::Upsert, now) {
            Ok((member, was_created)) => {
                let Some(list) = store.list_mut(&list_id) else {
                    return Err(McError::ResourceNotFound);
                };
                if batch.sync_tags
                    && let (Some(tags), Some(&at)) = (tags, list.index.get(&member.id))
                    && let Some(stored) = list.members.get_mut(at)
                {
                    stored.tags.retain(|(name, _)| tags.contains(name));
                }
                let member = list.member(&member.id).cloned().unwrap_or(member);
                let rendered = member_json(list, &member, &app.base);
                if was_created { created.push(rendered) } else { updated.push(rendered) }
            }
            Err(write_error) => {
                let (_, _, detail) = write_error.parts();
                let (field, field_message) = error_field(&write_error);
                error(detail, "ERROR_GENERIC", &field, &field_message);
            }
        }
    }
    let body = json!({
        "total_created": created.len(),
        "total_updated": updated.len(),
        "error_count": errors.len(),
        "new_members": created,
        "updated_members": updated,
        "errors": errors,
        "_links": collection_links(&app.base, &format!("lists/{list_id}"), "Lists/BatchPOST/Response"),
    });
    Ok(respond(&uri, body))
}

async fn get_member_tags(
    State(app): AppState,
    Path((list_id, hash)): Path<(String, String)>,
    uri: Uri,
) -> Result<Response, McError> {
    let params = Params::from_uri(&uri);
    let (offset, count) = paging(&params)?;
    let store = read(app.state.store());
    let list = store.list(&list_id).ok_or(McError::ResourceNotFound)?;
    let member = list.member(&path_hash(&hash)).ok_or(McError::ResourceNotFound)?;
    let (tags, total) = page(member.tags.iter(), offset, count);
    let tags: Vec<Value> = tags
        .into_iter()
        .filter_map(|(name, added)| {
            list.existing_tag_id(name).map(|id| json!({"id": id, "name": name, "date_added": timestamp(added)}))
        })
        .collect();
    Ok(respond(
        &uri,
        json!({
            "tags": tags,
            "total_items": total,
            "_links": collection_links(&app.base, &format!("lists/{list_id}/members/{}/tags", member.id), "Lists/Members/Tags/CollectionResponse"),
        }),
    ))
}

#[derive(Debug, Deserialize)]
struct TagsBody {
    tags: Vec<TagChange>,
    #[serde(default)]
    #[expect(dead_code, reason = "accepted as the API does; the emulator runs no automations to silence")]
    is_syncing: bool,
}

#[derive(Debug, Deserialize)]
struct TagChange {
    name: String,
    status: String,
}

/// Sets and unsets tags; an unknown tag marked active is created. 204.
async fn set_member_tags(
    State(app): AppState,
    Path((list_id, hash)): Path<(String, String)>,
    body: Bytes,
) -> Result<StatusCode, McError> {
    let changes: TagsBody = parse_body(&body)?;
    if let Some(bad) = changes.tags.iter().find(|change| change.status != "active" && change.status != "inactive") {
        return Err(McError::invalid_field("tags.status", format!("{} is not one of active, inactive", bad.status)));
    }
    let mut store = write(app.state.store());
    let list = store.list_mut(&list_id).ok_or(McError::ResourceNotFound)?;
    let at = *list.index.get(&path_hash(&hash)).ok_or(McError::ResourceNotFound)?;
    let now = Utc::now();
    for change in &changes.tags {
        if change.status == "active" {
            list.tag_id(&change.name);
        }
    }
    let member = list.members.get_mut(at).ok_or(McError::ResourceNotFound)?;
    for change in changes.tags {
        let present = member.tags.iter().any(|(name, _)| *name == change.name);
        match (change.status.as_str(), present) {
            ("active", false) => member.tags.push((change.name, now)),
            ("inactive", true) => member.tags.retain(|(name, _)| *name != change.name),
            _ => {}
        }
    }
    member.last_changed = now;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_merge_fields(State(app): AppState, Path(list_id): Path<String>, uri: Uri) -> Result<Response, McError> {
    let params = Params::from_uri(&uri);
    let (offset, count) = paging(&params)?;
    let store = read(app.state.store());
    let list = store.list(&list_id).ok_or(McError::ResourceNotFound)?;
    let kind = params.get("type");
    let required = match params.get("required").map(str::to_ascii_lowercase).as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(McError::BadRequest(format!(
                "The parameter required must be true or false; {other} was given."
            )));
        }
    };
    let matching = list
        .merge_fields
        .iter()
        .enumerate()
        .filter(|(_, field)| kind.is_none_or(|kind| field.kind == kind))
        .filter(|(_, field)| required.is_none_or(|required| field.required == required));
    let (fields, total) = page(matching, offset, count);
    let fields: Vec<Value> =
        fields.into_iter().map(|(position, field)| merge_field_json(list, field, position, &app.base)).collect();
    Ok(respond(
        &uri,
        json!({
            "merge_fields": fields,
            "list_id": list.id,
            "total_items": total,
            "_links": collection_links(&app.base, &format!("lists/{list_id}/merge-fields"), "Lists/MergeFields/CollectionResponse"),
        }),
    ))
}

async fn get_merge_field(
    State(app): AppState,
    Path((list_id, merge_id)): Path<(String, String)>,
    uri: Uri,
) -> Result<Response, McError> {
    let store = read(app.state.store());
    let list = store.list(&list_id).ok_or(McError::ResourceNotFound)?;
    let (position, field) = list
        .merge_fields
        .iter()
        .enumerate()
        .find(|(_, field)| field.merge_id.to_string() == merge_id)
        .ok_or(McError::ResourceNotFound)?;
    Ok(respond(&uri, merge_field_json(list, field, position, &app.base)))
}

#[derive(Debug, Deserialize)]
struct NewMergeField {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    tag: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    default_value: String,
    #[serde(default)]
    options: Map<String, Value>,
    #[serde(default)]
    help_text: String,
}

const MERGE_TYPES: &[&str] =
    &["text", "number", "address", "phone", "date", "url", "imageurl", "radio", "dropdown", "birthday", "zip"];

async fn create_merge_field(
    State(app): AppState,
    Path(list_id): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Result<Response, McError> {
    let new_field: NewMergeField = parse_body(&body)?;
    if !MERGE_TYPES.contains(&new_field.kind.as_str()) {
        return Err(McError::invalid_field("type", format!("{} is not a valid merge field type", new_field.kind)));
    }
    let mut store = write(app.state.store());
    let list = store.list_mut(&list_id).ok_or(McError::ResourceNotFound)?;
    let tag = new_field.tag.unwrap_or_else(|| {
        new_field.name.chars().filter(char::is_ascii_alphanumeric).take(10).collect::<String>().to_ascii_uppercase()
    });
    if list.merge_fields.iter().any(|field| field.tag == tag) {
        return Err(McError::BadRequest(format!("A Merge Field with the tag \"{tag}\" already exists for this list.")));
    }
    let merge_id = list.merge_fields.iter().map(|field| field.merge_id).max().unwrap_or(0) + 1;
    let field = MergeField {
        merge_id,
        tag: tag.clone(),
        name: new_field.name,
        kind: new_field.kind,
        required: new_field.required,
        default_value: new_field.default_value,
        public: true,
        options: Value::Object(new_field.options),
        help_text: new_field.help_text,
    };
    for member in &mut list.members {
        member.merge_fields.entry(tag.clone()).or_insert_with(|| Value::from(""));
    }
    list.merge_fields.push(field);
    let position = list.merge_fields.len() - 1;
    Ok(respond(&uri, merge_field_json(list, &list.merge_fields[position], position, &app.base)))
}

async fn tag_search(State(app): AppState, Path(list_id): Path<String>, uri: Uri) -> Result<Response, McError> {
    let params = Params::from_uri(&uri);
    let store = read(app.state.store());
    let list = store.list(&list_id).ok_or(McError::ResourceNotFound)?;
    let prefix = params.get("name").unwrap_or("").to_lowercase();
    let tags: Vec<Value> = list
        .tags
        .iter()
        .filter(|tag| tag.name.to_lowercase().starts_with(&prefix))
        .map(|tag| json!({"id": tag.id, "name": tag.name}))
        .collect();
    Ok(respond(&uri, json!({"total_items": tags.len(), "tags": tags})))
}

fn campaign_filter<'a>(store: &'a Store, params: &Params) -> Result<Vec<&'a Campaign>, McError> {
    let list_id = params.get("list_id");
    let since = moment_param(params, "since_send_time")?;
    let before = moment_param(params, "before_send_time")?;
    let status_ok = params.get("status").is_none_or(|status| status == "sent");
    Ok(store
        .campaigns
        .iter()
        .filter(|_| status_ok)
        .filter(|campaign| list_id.is_none_or(|id| store.lists.get(campaign.list).is_some_and(|list| list.id == id)))
        .filter(|campaign| since.is_none_or(|since| campaign.send_time >= since))
        .filter(|campaign| before.is_none_or(|before| campaign.send_time < before))
        .collect())
}

async fn get_campaigns(State(app): AppState, uri: Uri) -> Result<Response, McError> {
    let params = Params::from_uri(&uri);
    let (offset, count) = paging(&params)?;
    let store = read(app.state.store());
    let mut campaigns = campaign_filter(&store, &params)?;
    if params.get("sort_dir").is_some_and(|dir| dir.eq_ignore_ascii_case("DESC")) {
        campaigns.sort_by(|left, right| right.send_time.cmp(&left.send_time).then(Ordering::Equal));
    }
    let (campaigns, total) = page(campaigns.into_iter(), offset, count);
    let campaigns: Vec<Value> =
        campaigns.into_iter().map(|campaign| campaign_json(&store, campaign, &app.base)).collect();
    Ok(respond(
        &uri,
        json!({"campaigns": campaigns, "total_items": total, "_links": collection_links(&app.base, "campaigns", "Campaigns/CollectionResponse")}),
    ))
}

async fn get_campaign(State(app): AppState, Path(campaign_id): Path<String>, uri: Uri) -> Result<Response, McError> {
    let store = read(app.state.store());
    let campaign = store.campaign(&campaign_id).ok_or(McError::ResourceNotFound)?;
    Ok(respond(&uri, campaign_json(&store, campaign, &app.base)))
}

async fn get_reports(State(app): AppState, uri: Uri) -> Result<Response, McError> {
    let params = Params::from_uri(&uri);
    let (offset, count) = paging(&params)?;
    let store = read(app.state.store());
    let campaigns = campaign_filter(&store, &params)?;
    let (campaigns, total) = page(campaigns.into_iter(), offset, count);
    let reports: Vec<Value> = campaigns.into_iter().map(|campaign| report_json(&store, campaign, &app.base)).collect();
    Ok(respond(
        &uri,
        json!({"reports": reports, "total_items": total, "_links": collection_links(&app.base, "reports", "Reports/CollectionResponse")}),
    ))
}

async fn get_report(State(app): AppState, Path(campaign_id): Path<String>, uri: Uri) -> Result<Response, McError> {
    let store = read(app.state.store());
    let campaign = store.campaign(&campaign_id).ok_or(McError::ResourceNotFound)?;
    Ok(respond(&uri, report_json(&store, campaign, &app.base)))
}

/// Recipients of a campaign with their outcome, in audience order.
fn recipients<'a>(
    store: &'a Store,
    campaign: &'a Campaign,
) -> Result<(&'a List, impl Iterator<Item = (&'a Member, Outcome)>), McError> {
    let list = store.lists.get(campaign.list).ok_or(McError::ResourceNotFound)?;
    let seed = store.seed;
    let iterator =
        list.members.iter().filter_map(move |member| outcome(seed, campaign, member).map(|outcome| (member, outcome)));
    Ok((list, iterator))
}

async fn get_email_activity(
    State(app): AppState,
    Path(campaign_id): Path<String>,
    uri: Uri,
) -> Result<Response, McError> {
    let params = Params::from_uri(&uri);
    let (offset, count) = paging(&params)?;
    let since = moment_param(&params, "since")?;
    let store = read(app.state.store());
    let campaign = store.campaign(&campaign_id).ok_or(McError::ResourceNotFound)?;
    let (list, recipients) = recipients(&store, campaign)?;
    let items =
        recipients.map(|(member, outcome)| activity_json(campaign, list, member, &outcome, since, &app.base)).filter(
            |item| since.is_none() || item.get("activity").and_then(Value::as_array).is_some_and(|a| !a.is_empty()),
        );
    let (emails, total) = page(items, offset, count);
    Ok(respond(
        &uri,
        json!({
            "emails": emails,
            "campaign_id": campaign.id,
            "total_items": total,
            "_links": collection_links(&app.base, &format!("reports/{}/email-activity", campaign.id), "Reports/EmailActivity/CollectionResponse"),
        }),
    ))
}

async fn get_member_activity(
    State(app): AppState,
    Path((campaign_id, hash)): Path<(String, String)>,
    uri: Uri,
) -> Result<Response, McError> {
    let store = read(app.state.store());
    let campaign = store.campaign(&campaign_id).ok_or(McError::ResourceNotFound)?;
    let list = store.lists.get(campaign.list).ok_or(McError::ResourceNotFound)?;
    let member = list.member(&path_hash(&hash)).ok_or(McError::ResourceNotFound)?;
    let outcome = outcome(store.seed, campaign, member).ok_or(McError::ResourceNotFound)?;
    Ok(respond(&uri, activity_json(campaign, list, member, &outcome, None, &app.base)))
}

async fn get_sent_to(State(app): AppState, Path(campaign_id): Path<String>, uri: Uri) -> Result<Response, McError> {
    let params = Params::from_uri(&uri);
    let (offset, count) = paging(&params)?;
    let store = read(app.state.store());
    let campaign = store.campaign(&campaign_id).ok_or(McError::ResourceNotFound)?;
    let (list, recipients) = recipients(&store, campaign)?;
    let items = recipients.map(|(member, outcome)| {
        json!({
            "email_id": member.id,
            "email_address": member.email_address,
            "merge_fields": member.merge_fields,
            "vip": member.vip,
            "status": outcome.bounce.unwrap_or("sent"),
            "open_count": usize::from(outcome.open.is_some()),
            "last_open": outcome.open.map(|open| timestamp(&open)).unwrap_or_default(),
            "absplit_group": "",
            "gmt_offset": 0,
            "campaign_id": campaign.id,
            "list_id": list.id,
            "list_is_active": true,
            "_links": item_links(&app.base, &format!("reports/{}/sent-to", campaign.id), &member.id, "Reports/SentTo"),
        })
    });
    let (sent_to, total) = page(items, offset, count);
    Ok(respond(
        &uri,
        json!({
            "sent_to": sent_to,
            "campaign_id": campaign.id,
            "total_items": total,
            "_links": collection_links(&app.base, &format!("reports/{}/sent-to", campaign.id), "Reports/SentTo/CollectionResponse"),
        }),
    ))
}

async fn get_unsubscribed(
    State(app): AppState,
    Path(campaign_id): Path<String>,
    uri: Uri,
) -> Result<Response, McError> {
    let params = Params::from_uri(&uri);
    let (offset, count) = paging(&params)?;
    let store = read(app.state.store());
    let campaign = store.campaign(&campaign_id).ok_or(McError::ResourceNotFound)?;
    let (list, recipients) = recipients(&store, campaign)?;
    let items = recipients.filter_map(|(member, outcome)| {
        outcome.unsubscribed.map(|moment| {
            json!({
                "email_id": member.id,
                "email_address": member.email_address,
                "merge_fields": member.merge_fields,
                "vip": member.vip,
                "timestamp": timestamp(&moment),
                "reason": member.unsubscribe_reason.clone().unwrap_or_default(),
                "campaign_id": campaign.id,
                "list_id": list.id,
                "list_is_active": true,
                "_links": item_links(&app.base, &format!("reports/{}/unsubscribed", campaign.id), &member.id, "Reports/Unsubs"),
            })
        })
    });
    let (unsubscribes, total) = page(items, offset, count);
    Ok(respond(
        &uri,
        json!({
            "unsubscribes": unsubscribes,
            "campaign_id": campaign.id,
            "total_items": total,
            "_links": collection_links(&app.base, &format!("reports/{}/unsubscribed", campaign.id), "Reports/Unsubs/CollectionResponse"),
        }),
    ))
}
