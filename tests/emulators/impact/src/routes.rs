//! The routes: one dispatcher for `/Advertisers/{AccountSID}/…` that checks
//! the credentials, counts the request on the hourly window, strips a
//! `.json` suffix and answers by method and path.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use cutover_emulator_kit::auth::basic_user_and_password;
use cutover_emulator_kit::query::Params;
use cutover_emulator_kit::{AuthFailure, ErrorBody, PagingLoop, store};
use serde_json::{Value, json};

use crate::envelope::{self, ACTION_SIZING, DEFAULT_SIZING, PageOf, invalid, not_found};
use crate::model::{Job, Store, text};
use crate::seed::{ACCOUNT_ID, local, minor_units, tracker_of};
use crate::{ImpactApi, ImpactState};

const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

/// The largest form or JSON body accepted.
const MAX_BODY: usize = 1 << 20;

/// `/Advertisers/{sid}` alone: nothing is served there.
pub(crate) async fn root(State(state): State<ImpactState>, request: Request) -> Response {
    if let Err(response) = authenticate(&state, &request) {
        return response;
    }
    not_found()
}

/// Who is calling: the full token, or the read-only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Full,
    ReadOnly,
}

fn authenticate(state: &ImpactState, request: &Request) -> Result<Access, Response> {
    let Some((user, password)) = basic_user_and_password(request.headers()) else {
        return Err(ImpactApi::unauthorized(AuthFailure::Missing));
    };
    if user != state.account_sid || password.is_empty() {
        return Err(ImpactApi::unauthorized(AuthFailure::Invalid));
    }
    if password == state.auth_token {
        Ok(Access::Full)
    } else if password == state.read_only_token {
        Ok(Access::ReadOnly)
    } else {
        Err(ImpactApi::unauthorized(AuthFailure::Invalid))
    }
}

/// Counts a request on the hourly window: `(limit, remaining, reset)` or
/// the seconds to wait.
fn count_request(state: &ImpactState) -> Result<(u32, u32, u64), u64> {
    let limit = state.config.requests_per_hour;
    let mut window = store::lock(&state.window);
    let now = std::time::Instant::now();
    if now.duration_since(window.started) >= HOUR {
        window.started = now;
        window.count = 0;
    }
    let reset = HOUR.saturating_sub(now.duration_since(window.started)).as_secs().max(1);
    if window.count >= limit {
        return Err(reset);
    }
    window.count += 1;
    Ok((limit, limit - window.count, reset))
}

fn with_limit_headers(mut response: Response, (limit, remaining, reset): (u32, u32, u64)) -> Response {
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
    response
}

/// One request, as the handlers need it.
struct Call<'a> {
    state: &'a ImpactState,
    method: Method,
    /// The path as requested, for the envelope's links.
    path: String,
    /// The path's segments after the SID, `.json` stripped.
    segments: Vec<String>,
    params: Params,
    body: Params,
    paging_loop: bool,
    access: Access,
}

impl Call<'_> {
    fn page(&self, sizing: envelope::Sizing, key: &str, items: Vec<Value>) -> Response {
        envelope::page(
            &PageOf {
                path: &self.path,
                params: &self.params,
                sizing,
                cap: self.state.config.page_size_cap,
                paging_loop: self.paging_loop,
            },
            key,
            items,
        )
    }

    fn sid(&self) -> &str {
        &self.state.account_sid
    }
}

/// Every route under `/Advertisers/{sid}/`.
pub(crate) async fn dispatch(
    State(state): State<ImpactState>,
    Path((sid, rest)): Path<(String, String)>,
    request: Request,
) -> Response {
    let access = match authenticate(&state, &request) {
        Ok(access) => access,
        Err(response) => return response,
    };
    if sid != state.account_sid {
        return envelope::error(StatusCode::FORBIDDEN, "Forbidden: the path names another account", &[]);
    }
    let mut segments: Vec<String> = rest.split('/').filter(|segment| !segment.is_empty()).map(str::to_owned).collect();
    if let Some(last) = segments.last_mut() {
        if let Some(stripped) = last.strip_suffix(".json") {
            *last = stripped.to_owned();
        } else if last.ends_with(".xml") {
            return envelope::error(StatusCode::NOT_ACCEPTABLE, "This emulator answers JSON only", &[]);
        }
    }
    let counted = segments.first().map(String::as_str) != Some("Conversions");
    let limits = if counted {
        match count_request(&state) {
            Ok(limits) => Some(limits),
            Err(wait) => {
                let mut response = ImpactApi::too_many_requests(None);
                let limit = state.config.requests_per_hour;
                return with_limit_headers(
                    {
                        response.headers_mut().insert("x-ratelimit-reset", HeaderValue::from(wait));
                        response
                    },
                    (limit, 0, wait),
                );
            }
        }
    } else {
        None
    };
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let params = Params::from_uri(request.uri());
    let paging_loop = request.extensions().get::<PagingLoop>().is_some();
    let body = match axum::body::to_bytes(request.into_body(), MAX_BODY).await {
        Ok(bytes) => form_or_json(&bytes),
        Err(_) => return invalid(&[("body", "The body is too large or unreadable")]),
    };
    let call = Call { state: &state, method, path, segments, params, body, paging_loop, access };
    let response = answer(&call);
    match limits {
        Some(limits) => with_limit_headers(response, limits),
        None => response,
    }
}

/// A write body: form fields, or a flat JSON object's fields as text.
fn form_or_json(bytes: &Bytes) -> Params {
    if let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(bytes) {
        let mut serializer = form_urlencoded_pairs();
        for (name, value) in fields {
            let value = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            serializer.push((name, value));
        }
        let query: String = serializer
            .iter()
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        return Params::parse(&query);
    }
    Params::parse(&String::from_utf8_lossy(bytes))
}

fn form_urlencoded_pairs() -> Vec<(String, String)> {
    Vec::new()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(byte).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn answer(call: &Call<'_>) -> Response {
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let writes = call.method != Method::GET;
    if writes && call.access == Access::ReadOnly {
        return envelope::error(StatusCode::FORBIDDEN, "Forbidden: this token is read-only", &[]);
    }
    let store = &call.state.store;
    match (call.method.clone(), segments.as_slice()) {
        (Method::GET, ["CompanyInformation"]) => Json(store::read(store).company.clone()).into_response(),
        (Method::GET, ["Campaigns"]) => {
            let items = store::read(store)
                .campaigns
                .iter()
                .filter(|campaign| equals(&call.params, "State", &campaign.json, "State"))
                .filter(|campaign| equals(&call.params, "Name", &campaign.json, "Name"))
                .map(|campaign| campaign.json.clone())
                .collect();
            call.page(DEFAULT_SIZING, "Campaigns", items)
        }
        (Method::GET, ["Campaigns", id]) => {
            one(store::read(store).campaigns.iter().find(|campaign| campaign.id.to_string() == *id).map(|c| &c.json))
        }
        (Method::GET, ["Campaigns", id, "Contacts"]) => {
            call.page(DEFAULT_SIZING, "Contacts", of_campaign(&store::read(store).contacts, id))
        }
        (Method::GET, ["Campaigns", id, "Notes"]) => {
            call.page(DEFAULT_SIZING, "Notes", of_campaign(&store::read(store).notes, id))
        }
        (Method::GET, ["Campaigns", id, "MediaPartnerGroups"]) => {
            call.page(DEFAULT_SIZING, "Groups", of_campaign(&store::read(store).groups, id))
        }
        (Method::GET, ["Campaigns", id, "MediaPartnerGroups", group]) => one(store::read(store)
            .groups
            .iter()
            .find(|item| text(item, "CampaignId") == *id && text(item, "Id") == *group)),
        (Method::GET, ["Campaigns", id, "Clicks", click]) => one(store::read(store)
            .clicks
            .iter()
            .find(|item| text(item, "CampaignId") == *id && text(item, "Id") == *click)),
        (Method::GET, ["MediaPartners"]) => {
            let store = store::read(store);
            match media_partners(call, &store) {
                Ok(items) => call.page(DEFAULT_SIZING, "MediaPartners", items),
                Err(response) => response,
            }
        }
        (Method::GET, ["MediaPartners", id]) => {
            one(store::read(store).partners.iter().find(|item| text(item, "Id") == *id))
        }
        (Method::POST, ["MediaPartners"]) => create_partner(call),
        (Method::PUT, ["MediaPartners", id]) => update_partner(call, id),
        (Method::GET, ["Ads"]) => {
            call.page(DEFAULT_SIZING, "Ads", filtered(&store::read(store).ads, &call.params, &["CampaignId"]))
        }
        (Method::GET, ["Ads", id]) => one(store::read(store).ads.iter().find(|item| text(item, "Id") == *id)),
        (Method::GET, ["Deals"]) => {
            call.page(DEFAULT_SIZING, "Deals", filtered(&store::read(store).deals, &call.params, &["CampaignId"]))
        }
        (Method::GET, ["PromoCodes"]) => call.page(
            DEFAULT_SIZING,
            "PromoCodes",
            filtered(&store::read(store).promo_codes, &call.params, &["CampaignId", "Code", "State"]),
        ),
        (Method::GET, ["PromoCodes", id]) => {
            one(store::read(store).promo_codes.iter().find(|item| text(item, "Id") == *id))
        }
        (Method::POST, ["PromoCodes"]) => create_promo_code(call),
        (Method::DELETE, ["PromoCodes", id]) => expire_promo_code(call, id),
        (Method::GET, ["UniqueUrls"]) => call.page(
            DEFAULT_SIZING,
            "UniqueUrls",
            filtered(&store::read(store).unique_urls, &call.params, &["CampaignId", "MediaPartnerId", "State"]),
        ),
        (Method::POST, ["Programs", program, "TrackingLinks"]) => tracking_link(call, program),
        (Method::GET, ["Programs", program, "ClickExport"]) => click_export(call, program),
        (Method::GET, ["Jobs", id]) => job_status(call, id),
        (Method::GET, ["Jobs", id, "Download"]) => job_download(call, id),
        (Method::GET, ["Actions"]) => actions(call),
        (Method::GET, ["Actions", id]) => one(store::read(store).actions.iter().find(|item| text(item, "Id") == *id)),
        (Method::GET, ["Actions", id, "Items"]) => {
            let store = store::read(store);
            match store.action_items.iter().find(|(action, _)| action == id) {
                Some((_, items)) => {
                    call.page(DEFAULT_SIZING, "ActionItems", items.as_array().cloned().unwrap_or_default())
                }
                None => not_found(),
            }
        }
        (Method::GET, ["ActionUpdates"]) => action_updates(call),
        (Method::GET, ["ActionInquiries"]) => {
            let store = store::read(store);
            match dated(&call.params, "StartDate", "EndDate", None) {
                Ok(window) => call.page(
                    DEFAULT_SIZING,
                    "ActionInquiries",
                    filtered(&store.action_inquiries, &call.params, &["CampaignId"])
                        .into_iter()
                        .filter(|item| in_window(item, "CreationDate", window))
                        .collect(),
                ),
                Err(response) => response,
            }
        }
        (Method::GET, ["Invoices"]) => {
            let store = store::read(store);
            match dated(&call.params, "StartDate", "EndDate", None) {
                Ok(window) => call.page(
                    DEFAULT_SIZING,
                    "Invoices",
                    store.invoices.iter().filter(|item| in_window(item, "CreatedDate", window)).cloned().collect(),
                ),
                Err(response) => response,
            }
        }
        (Method::GET, ["Invoices", id]) => one(store::read(store).invoices.iter().find(|item| text(item, "Id") == *id)),
        (Method::POST, ["Conversions"]) => conversion(call),
        (Method::GET, ["APISubmissions"]) => {
            call.page(DEFAULT_SIZING, "APISubmission", store::read(store).api_submissions.clone())
        }
        (Method::GET, ["APISubmissions", id]) => {
            one(store::read(store).api_submissions.iter().find(|item| text(item, "BatchId") == *id))
        }
        (Method::GET, ["FTPFileSubmissions"]) => {
            call.page(DEFAULT_SIZING, "FTPFileSubmissions", store::read(store).ftp_file_submissions.clone())
        }
        (Method::GET, ["Catalogs"]) => call.page(DEFAULT_SIZING, "Catalogs", store::read(store).catalogs.clone()),
        (Method::GET, ["Catalogs", id, "Items"]) => {
            let store = store::read(store);
            if !store.catalogs.iter().any(|item| text(item, "Id") == *id) {
                return not_found();
            }
            call.page(DEFAULT_SIZING, "Items", matching(&store.catalog_items, "CatalogId", id))
        }
        (Method::GET, ["ExceptionLists"]) => {
            call.page(DEFAULT_SIZING, "ExceptionLists", store::read(store).exception_lists.clone())
        }
        (Method::GET, ["ExceptionLists", id, "Items"]) => {
            let store = store::read(store);
            if !store.exception_lists.iter().any(|item| text(item, "Id") == *id) {
                return not_found();
            }
            call.page(DEFAULT_SIZING, "ExceptionListItems", matching(&store.exception_list_items, "ListId", id))
        }
        (Method::GET, ["PhoneNumbers"]) => {
            call.page(DEFAULT_SIZING, "PhoneNumbers", store::read(store).phone_numbers.clone())
        }
        (Method::GET, ["Reports"]) => call.page(DEFAULT_SIZING, "Reports", store::read(store).reports.clone()),
        (Method::GET, ["Reports", id, "MetaData"]) => {
            let store = store::read(store);
            match store.reports.iter().find(|item| text(item, "Id") == *id) {
                Some(report) => Json(json!({
                    "Id": report["Id"], "Name": report["Name"], "Description": report["Description"],
                    "Filters": [{"Name": "START_DATE", "Type": "DATE"}, {"Name": "END_DATE", "Type": "DATE"}],
                    "Attributes": [{"Name": "Date", "Type": "DATE"}, {"Name": "Actions", "Type": "INTEGER"}],
                    "RunUri": report["RunUri"], "Uri": report["MetaDataUri"],
                }))
                .into_response(),
                None => not_found(),
            }
        }
        (Method::GET, ["TrackingValueRequests"]) => {
            call.page(DEFAULT_SIZING, "TrackingValueRequests", store::read(store).tracking_value_requests.clone())
        }
        (_, [name, ..]) if is_known_collection(name) => {
            envelope::error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed", &[])
        }
        _ => not_found(),
    }
}

fn is_known_collection(name: &str) -> bool {
    matches!(
        name,
        "CompanyInformation"
            | "Campaigns"
            | "MediaPartners"
            | "Ads"
            | "Deals"
            | "PromoCodes"
            | "UniqueUrls"
            | "Actions"
            | "ActionUpdates"
            | "ActionInquiries"
            | "Invoices"
            | "Conversions"
            | "APISubmissions"
            | "FTPFileSubmissions"
            | "Catalogs"
            | "ExceptionLists"
            | "PhoneNumbers"
            | "Reports"
            | "TrackingValueRequests"
            | "Programs"
            | "Jobs"
    )
}

fn one(item: Option<&Value>) -> Response {
    match item {
        Some(item) => Json(item.clone()).into_response(),
        None => not_found(),
    }
}

fn equals(params: &Params, name: &str, item: &Value, field: &str) -> bool {
    params.get(name).is_none_or(|wanted| wanted.is_empty() || text(item, field).eq_ignore_ascii_case(wanted))
}

fn filtered(items: &[Value], params: &Params, fields: &[&str]) -> Vec<Value> {
    items.iter().filter(|item| fields.iter().all(|field| equals(params, field, item, field))).cloned().collect()
}

fn matching(items: &[Value], field: &str, value: &str) -> Vec<Value> {
    items.iter().filter(|item| text(item, field) == value).cloned().collect()
}

fn of_campaign(items: &[Value], id: &str) -> Vec<Value> {
    matching(items, "CampaignId", id)
}

/// A date-time as a client sends it: ISO 8601 with an offset or `Z`, or
/// without one (read as UTC), or a bare date (midnight UTC).
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    if let Ok(at) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S") {
        return Some(at.and_utc());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|day| day.and_hms_opt(0, 0, 0)).map(|at| at.and_utc())
}

type Window = Option<(Option<DateTime<Utc>>, Option<DateTime<Utc>>)>;

/// The `start`/`end` filter pair of a request. With `rules` (Actions and
/// their updates): both or neither, at most 45 days apart, the start at
/// most 3 years back.
fn dated(params: &Params, start: &'static str, end: &'static str, rules: Option<()>) -> Result<Window, Response> {
    let read = |name: &'static str| -> Result<Option<DateTime<Utc>>, Response> {
        match params.get(name) {
            None | Some("") => Ok(None),
            Some(value) => parse_time(value).map(Some).ok_or_else(|| invalid(&[(name, "Not a valid ISO 8601 date")])),
        }
    };
    let (from, to) = (read(start)?, read(end)?);
    if from.is_none() && to.is_none() {
        return Ok(None);
    }
    if rules.is_some() {
        let (Some(from), Some(to)) = (from, to) else {
            let missing = if from.is_none() { start } else { end };
            return Err(invalid(&[(missing, &format!("{start} and {end} must be given together"))]));
        };
        if to < from {
            return Err(invalid(&[(end, &format!("{end} is before {start}"))]));
        }
        if to - from > Duration::days(45) {
            return Err(invalid(&[(end, &format!("The range between {start} and {end} cannot exceed 45 days"))]));
        }
        let today = Utc::now().date_naive();
        let limit = today.with_year(today.year() - 3).unwrap_or(today - Duration::days(3 * 365));
        if from.date_naive() < limit {
            return Err(invalid(&[(start, &format!("{start} cannot be more than 3 years in the past"))]));
        }
    }
    Ok(Some((from, to)))
}

fn in_window(item: &Value, field: &str, window: Window) -> bool {
    let Some((from, to)) = window else { return true };
    let Some(at) = parse_time(&text(item, field)) else { return false };
    from.is_none_or(|from| at >= from) && to.is_none_or(|to| at <= to)
}

/// When each action was last updated: its newest update, else its creation.
fn last_updated(store: &Store) -> BTreeMap<String, DateTime<Utc>> {
    let mut updated = BTreeMap::new();
    for update in &store.action_updates {
        if let Some(at) = parse_time(&text(update, "UpdateDate")) {
            let entry = updated.entry(text(update, "ActionId").into_owned()).or_insert(at);
            if at > *entry {
                *entry = at;
            }
        }
    }
    updated
}

/// The date windows of an Actions or ActionUpdates request, or its 400.
struct ActionWindows {
    updated: Window,
    event: Window,
    locking: Window,
}

fn action_windows(params: &Params, event_field: &'static str) -> Result<ActionWindows, Response> {
    let _ = event_field;
    let updated = dated(params, "StartDate", "EndDate", Some(()))?;
    let event = dated(params, "ActionDateStart", "ActionDateEnd", Some(()))?;
    let locking = dated(params, "LockingDateStart", "LockingDateEnd", Some(()))?;
    let updated = match (updated, event, locking) {
        // No dates at all: the last 7 days, by last update.
        (None, None, None) => Some((Some(Utc::now() - Duration::days(7)), Some(Utc::now()))),
        (updated, _, _) => updated,
    };
    Ok(ActionWindows { updated, event, locking })
}

fn check_campaign(call: &Call<'_>, store: &Store) -> Result<(), Response> {
    match call.params.get("CampaignId") {
        None | Some("") => Err(invalid(&[("CampaignId", "Required")])),
        Some(id) if store.campaign(id).is_none() => Err(invalid(&[("CampaignId", "Unknown campaign")])),
        Some(_) => Ok(()),
    }
}

/// Too many for the page size asked: the API refuses past 10×.
fn too_many(call: &Call<'_>, total: usize) -> Option<Response> {
    let asked =
        envelope::page_request(&call.params, ACTION_SIZING).map(|(_, size)| size).unwrap_or(ACTION_SIZING.default);
    let size = asked.clamp(ACTION_SIZING.min, ACTION_SIZING.max);
    (total > size * 10).then(|| {
        invalid(&[(
            "PageSize",
            "The result exceeds 10 times the page size: reduce the date range or increase PageSize",
        )])
    })
}

fn actions(call: &Call<'_>) -> Response {
    let store = store::read(&call.state.store);
    if let Err(response) = check_campaign(call, &store) {
        return response;
    }
    let windows = match action_windows(&call.params, "EventDate") {
        Ok(windows) => windows,
        Err(response) => return response,
    };
    let updated = last_updated(&store);
    let mut items: Vec<&Value> = store
        .actions
        .iter()
        .filter(|item| equals(&call.params, "CampaignId", item, "CampaignId"))
        .filter(|item| equals(&call.params, "State", item, "State"))
        .filter(|item| in_window(item, "EventDate", windows.event))
        .filter(|item| in_window(item, "LockingDate", windows.locking))
        .filter(|item| match windows.updated {
            None => true,
            Some((from, to)) => {
                let at =
                    updated.get(text(item, "Id").as_ref()).copied().or_else(|| parse_time(&text(item, "CreationDate")));
                at.is_some_and(|at| from.is_none_or(|from| at >= from) && to.is_none_or(|to| at <= to))
            }
        })
        .collect();
    if let Some(response) = too_many(call, items.len()) {
        return response;
    }
    // Most recently created first.
    items.sort_by_key(|item| std::cmp::Reverse(parse_time(&text(item, "CreationDate"))));
    call.page(ACTION_SIZING, "Actions", items.into_iter().cloned().collect())
}

fn action_updates(call: &Call<'_>) -> Response {
    let store = store::read(&call.state.store);
    if let Err(response) = check_campaign(call, &store) {
        return response;
    }
    let windows = match action_windows(&call.params, "ActionDate") {
        Ok(windows) => windows,
        Err(response) => return response,
    };
    let items: Vec<Value> = store
        .action_updates
        .iter()
        .filter(|item| equals(&call.params, "CampaignId", item, "CampaignId"))
        .filter(|item| equals(&call.params, "State", item, "State"))
        .filter(|item| in_window(item, "UpdateDate", windows.updated))
        .filter(|item| in_window(item, "ActionDate", windows.event))
        .filter(|item| in_window(item, "LockingDate", windows.locking))
        .cloned()
        .collect();
    if let Some(response) = too_many(call, items.len()) {
        return response;
    }
    call.page(ACTION_SIZING, "ActionUpdates", items)
}

fn media_partners(call: &Call<'_>, store: &Store) -> Result<Vec<Value>, Response> {
    let params = &call.params;
    let ids = params.list("Id");
    let window = dated(params, "startDate", "endDate", None)?;
    let in_group = |partner: &Value| match params.get("GroupId") {
        None | Some("") => true,
        Some(group) => store.groups.iter().any(|item| {
            text(item, "Id") == group
                && item["MediaPartners"]
                    .as_array()
                    .is_some_and(|members| members.iter().any(|member| member["Id"] == partner["Id"]))
        }),
    };
    let in_campaign = |partner: &Value| match params.get("CampaignId") {
        None | Some("") => true,
        Some(campaign) => partner["Programs"]
            .as_array()
            .is_some_and(|programs| programs.iter().any(|program| text(program, "Id") == campaign)),
    };
    Ok(store
        .partners
        .iter()
        .filter(|partner| ids.is_empty() || ids.iter().any(|id| *id == text(partner, "Id")))
        .filter(|partner| equals(params, "State", partner, "State"))
        .filter(|partner| equals(params, "RelationshipState", partner, "RelationshipState"))
        .filter(|partner| {
            params
                .get("Country")
                .is_none_or(|country| text(&partner["Address"], "Country").eq_ignore_ascii_case(country))
        })
        .filter(|partner| in_window(partner, "DateLastUpdated", window))
        .filter(|partner| in_group(partner))
        .filter(|partner| in_campaign(partner))
        .cloned()
        .collect())
}

const PROMOTIONAL_METHODS: [&str; 16] = [
    "EMAIL",
    "SEARCH",
    "LOYALTY",
    "COUPON",
    "SYNDICATION_BLOG_NETWORKS",
    "CPA_NETWORK",
    "MOBILE",
    "CONTENT",
    "SHOPPING",
    "SOCIAL_MEDIA_INFLUENCER",
    "SERVICE_PROVIDER",
    "CONSUMER_SOFTWARE",
    "INCENTIVIZED",
    "OFFLINE",
    "OTHER",
    "CASHBACK",
];
const ORGANIZATION_TYPES: [&str; 12] = [
    "NONP_GOV",
    "CORP",
    "SOLE_IND",
    "LLC_LLP_LLS",
    "TRUST",
    "SOLE_TRD",
    "PARTNERS",
    "LLC",
    "LLP",
    "COMPANY",
    "GOVERNMENT",
    "OTHER",
];

fn required<'a>(body: &'a Params, names: &[&'static str]) -> Result<BTreeMap<&'static str, &'a str>, Response> {
    let mut found = BTreeMap::new();
    let mut missing = Vec::new();
    for name in names {
        match body.get(name).map(str::trim) {
            Some(value) if !value.is_empty() => {
                found.insert(*name, value);
            }
            _ => missing.push((*name, "Required")),
        }
    }
    if missing.is_empty() { Ok(found) } else { Err(invalid(&missing)) }
}

/// `POST /MediaPartners`: a direct partner, joined to the program the
/// template terms belong to, on an active contract.
fn create_partner(call: &Call<'_>) -> Response {
    let body = &call.body;
    let fields = match required(
        body,
        &[
            "AccountName",
            "Website",
            "AddressLine1",
            "City",
            "PostalCode",
            "Country",
            "PhoneCountry",
            "PhoneNumber",
            "PrimaryPromotionalMethod",
            "Username",
            "FirstName",
            "LastName",
            "Password",
            "EmailAddress",
            "TemplateTermsId",
            "Currency",
        ],
    ) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let method = fields["PrimaryPromotionalMethod"];
    if !PROMOTIONAL_METHODS.contains(&method) {
        return invalid(&[("PrimaryPromotionalMethod", "Not one of the allowed values")]);
    }
    if let Some(kind) = body.get("OrganizationType").filter(|kind| !kind.is_empty())
        && !ORGANIZATION_TYPES.contains(&kind)
    {
        return invalid(&[("OrganizationType", "Not one of the allowed values")]);
    }
    let currency = fields["Currency"];
    if currency.len() != 3 || !currency.bytes().all(|byte| byte.is_ascii_uppercase()) {
        return invalid(&[("Currency", "Not an ISO 4217 currency code")]);
    }
    if !fields["EmailAddress"].contains('@') {
        return invalid(&[("EmailAddress", "Not a valid email address")]);
    }
    let mut store = store::write(&call.state.store);
    let Some(program) = store.campaign(fields["TemplateTermsId"]).map(|campaign| (campaign.id, campaign.name)) else {
        return invalid(&[("TemplateTermsId", "Unknown template terms")]);
    };
    let username = fields["Username"];
    if store
        .partners
        .iter()
        .any(|partner| partner["Username"].as_str().is_some_and(|taken| taken.eq_ignore_ascii_case(username)))
    {
        return invalid(&[("Username", "Username is already taken")]);
    }
    let id = store.partner_ids.iter().max().copied().unwrap_or(2_400_000) + 13;
    let now = local(Utc::now());
    let value = |name: &str| body.get(name).unwrap_or("").to_owned();
    let sid = store.sid.clone();
    let partner = json!({
        "Id": id.to_string(),
        "Name": fields["AccountName"],
        "Description": value("Description"),
        "Website": fields["Website"],
        "State": "ACTIVE",
        "RelationshipState": "ACTIVE",
        "PartnerType": "DIRECT",
        "Address": {"AddressLine1": fields["AddressLine1"], "AddressLine2": value("AddressLine2"), "City": fields["City"],
            "State": value("CountryState"), "PostalCode": fields["PostalCode"], "Country": fields["Country"]},
        "Phone": {"Country": fields["PhoneCountry"], "Number": fields["PhoneNumber"]},
        "Currency": currency,
        "Timezone": value("Timezone"),
        "IndirectTax": "",
        "PromotionalMethods": [method],
        "PromotionalCountries": body.list("PromotingCountries"),
        "PromotionalCategories": [],
        "Properties": [],
        "Programs": [{"Id": program.0.to_string(), "Name": program.1}],
        "Contacts": [{"FirstName": fields["FirstName"], "LastName": fields["LastName"], "EmailAddress": fields["EmailAddress"]}],
        "LinkedAccounts": [],
        "PartnerValues": {"MPValue1": value("MPValue1"), "MPValue2": value("MPValue2"), "MPValue3": value("MPValue3")},
        "MPValue1": value("MPValue1"),
        "MPValue2": value("MPValue2"),
        "MPValue3": value("MPValue3"),
        "Username": username,
        "AccountManager": "",
        "DateCreated": now,
        "DateLastUpdated": now,
        "CreatedBy": "API",
        "LastUpdatedBy": "API",
        "Uri": format!("/Advertisers/{sid}/MediaPartners/{id}"),
    });
    if let Some(groups) = body.get("MPGroupIDs") {
        for group in groups.split(',').map(str::trim) {
            if let Some(group) = store.groups.iter_mut().find(|item| text(item, "Id") == group)
                && let Some(members) = group["MediaPartners"].as_array_mut()
            {
                members.push(json!({"Id": id.to_string()}));
            }
        }
    }
    store.partner_ids.push(id);
    store.partners.push(partner);
    Json(json!({"Status": "OK", "Id": id.to_string(), "Uri": format!("/Advertisers/{sid}/MediaPartners/{id}")}))
        .into_response()
}

/// `PUT /MediaPartners/{id}`: sets `MPValue1..3`, and nothing else.
fn update_partner(call: &Call<'_>, id: &str) -> Response {
    let mut store = store::write(&call.state.store);
    let Some(partner) = store.partners.iter_mut().find(|item| text(item, "Id") == id) else {
        return not_found();
    };
    let mut changed = false;
    for name in ["MPValue1", "MPValue2", "MPValue3"] {
        if let Some(value) = call.body.get(name) {
            partner[name] = json!(value);
            partner["PartnerValues"][name] = json!(value);
            changed = true;
        }
    }
    if changed {
        partner["DateLastUpdated"] = json!(local(Utc::now()));
    }
    Json(partner.clone()).into_response()
}

/// `POST /PromoCodes`.
fn create_promo_code(call: &Call<'_>) -> Response {
    let body = &call.body;
    let fields = match required(body, &["AssignedPartnerId", "CampaignId", "CreditPolicy", "Code", "Type"]) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    if !["ALWAYS", "INVOLVED", "WINNER"].contains(&fields["CreditPolicy"]) {
        return invalid(&[("CreditPolicy", "Not one of the allowed values")]);
    }
    if !["LI", "RE"].contains(&fields["Type"]) {
        return invalid(&[("Type", "Not one of the allowed values")]);
    }
    let start = match body.get("StartDate").filter(|value| !value.is_empty()).map(parse_time) {
        Some(None) => return invalid(&[("StartDate", "Not a valid ISO 8601 date")]),
        Some(Some(at)) => Some(at),
        None => None,
    };
    let mut store = store::write(&call.state.store);
    let Some(campaign) = store.campaign(fields["CampaignId"]).map(|campaign| (campaign.id, campaign.name)) else {
        return invalid(&[("CampaignId", "Unknown campaign")]);
    };
    let Some(partner) = store.partners.iter().find(|item| text(item, "Id") == fields["AssignedPartnerId"]).cloned()
    else {
        return invalid(&[("AssignedPartnerId", "Unknown partner")]);
    };
    let code = fields["Code"];
    if store
        .promo_codes
        .iter()
        .any(|item| text(item, "CampaignId") == fields["CampaignId"] && text(item, "Code").eq_ignore_ascii_case(code))
    {
        return invalid(&[("Code", "The code already exists in this program")]);
    }
    let id =
        store.promo_codes.iter().filter_map(|item| text(item, "Id").parse::<u64>().ok()).max().unwrap_or(879_999) + 1;
    let sid = store.sid.clone();
    let now = Utc::now();
    let item = json!({
        "Id": id.to_string(),
        "Code": code,
        "CampaignId": campaign.0.to_string(),
        "CampaignName": campaign.1,
        "AssignedPartnerId": partner["Id"],
        "AssignedPartnerName": partner["Name"],
        "CreditPolicy": fields["CreditPolicy"],
        "Type": fields["Type"],
        "State": "ACTIVE",
        "CreatedDate": local(now),
        "StartDate": local(start.unwrap_or(now)),
        "EndDate": body.get("EndDate").unwrap_or(""),
        "DealId": body.get("DealId").unwrap_or(""),
        "DealName": body.get("DealName").unwrap_or(""),
        "DiscountType": "", "DiscountPercent": "", "DiscountAmount": "", "DiscountCurrency": "",
        "Uri": format!("/Advertisers/{sid}/PromoCodes/{id}"),
    });
    store.promo_codes.push(item.clone());
    Json(item).into_response()
}

/// `DELETE /PromoCodes/{id}`: expires the code; it stays listed, inactive.
fn expire_promo_code(call: &Call<'_>, id: &str) -> Response {
    let mut store = store::write(&call.state.store);
    let Some(item) = store.promo_codes.iter_mut().find(|item| text(item, "Id") == id) else {
        return not_found();
    };
    item["State"] = json!("INACTIVE");
    item["EndDate"] = json!(local(Utc::now()));
    Json(item.clone()).into_response()
}

/// `POST /Programs/{id}/TrackingLinks?MediaPartnerId=`.
fn tracking_link(call: &Call<'_>, program: &str) -> Response {
    let mut store = store::write(&call.state.store);
    let Some((campaign_id, domain)) = store.campaign(program).map(|campaign| (campaign.id, campaign.domain)) else {
        return not_found();
    };
    let Some(partner) =
        call.params.get("MediaPartnerId").or_else(|| call.body.get("MediaPartnerId")).map(str::to_owned)
    else {
        return invalid(&[("MediaPartnerId", "Required")]);
    };
    if !store.partners.iter().any(|item| text(item, "Id") == partner.as_str()) {
        return invalid(&[("MediaPartnerId", "Unknown partner")]);
    }
    let kind = call.body.get("Type").unwrap_or("Regular").to_owned();
    let ad = call
        .body
        .get("AdId")
        .filter(|ad| !ad.is_empty())
        .unwrap_or(if campaign_id == 11842 { "506700" } else { "0" })
        .to_owned();
    let url = match kind.as_str() {
        "Regular" => format!("https://{domain}/c/{partner}/{ad}/{campaign_id}"),
        "Vanity" => {
            let Some(custom) = call.body.get("CustomPath").filter(|path| !path.is_empty()) else {
                return invalid(&[("CustomPath", "Required for a vanity link")]);
            };
            if let Some(taken) = store.tracking_links.iter().find(|link| link.0 == campaign_id && link.4 == custom)
                && taken.1 != partner
            {
                return invalid(&[("CustomPath", "The path is taken by another partner")]);
            }
            format!("https://{domain}/{custom}")
        }
        _ => return invalid(&[("Type", "Not one of the allowed values")]),
    };
    let url = match call.body.get("DeepLink").filter(|link| !link.is_empty()) {
        Some(link) => format!("{url}?u={}", encode(link)),
        None => url,
    };
    let custom = call.body.get("CustomPath").unwrap_or("").to_owned();
    if !store.tracking_links.iter().any(|link| link.5 == url) {
        store.tracking_links.push((campaign_id, partner, ad, kind, custom, url.clone()));
    }
    Json(json!({"TrackingURL": url})).into_response()
}

/// `GET /Programs/{id}/ClickExport?Date=yyyy-MM-dd`: a job, done at once.
fn click_export(call: &Call<'_>, program: &str) -> Response {
    let mut store = store::write(&call.state.store);
    let Some(program) = store.campaign(program).map(|campaign| campaign.id) else {
        return not_found();
    };
    let Some(date) = call.params.get("Date").and_then(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()) else {
        return invalid(&[("Date", "Required, as yyyy-MM-dd")]);
    };
    let first = NaiveDate::from_ymd_opt(2024, 4, 10).unwrap_or(date);
    if date < first {
        return invalid(&[("Date", "Click exports are available for dates after 2024-04-09")]);
    }
    let format = call.params.get("ResultFormat").unwrap_or("CSV").to_ascii_uppercase();
    if !["CSV", "JSON", "XML"].contains(&format.as_str()) {
        return invalid(&[("ResultFormat", "Not one of the allowed values")]);
    }
    let today = Utc::now().date_naive();
    if store.click_exports_today.0 != today {
        store.click_exports_today = (today, 0);
    }
    if store.click_exports_today.1 >= call.state.config.click_exports_per_day {
        return ImpactApi::too_many_requests(None);
    }
    store.click_exports_today.1 += 1;
    let sequence = store.jobs.len() as u64;
    let id = job_id(call.state, sequence);
    store.jobs.push(Job {
        id: id.clone(),
        program,
        date,
        format,
        ad_id: call.params.get("AdId").map(str::to_owned),
        media_ids: call.params.list("MediaId"),
        unique_only: call.params.get("UniqueClick").is_some_and(|flag| flag.eq_ignore_ascii_case("true")),
    });
    let sid = call.sid();
    Json(json!({
        "Status": "QUEUED",
        "QueuedUri": format!("/Advertisers/{sid}/Jobs/{id}"),
        "ResultUri": format!("/Advertisers/{sid}/Jobs/{id}/Download"),
        "ReplayUri": format!("/Advertisers/{sid}/Jobs/{id}/Replay"),
    }))
    .into_response()
}

fn job_id(state: &ImpactState, sequence: u64) -> String {
    let bits = cutover_emulator_kit::seed::mix(state.config.settings.seed, sequence);
    let more = cutover_emulator_kit::seed::mix(bits, sequence);
    let hex = format!("{bits:016x}{more:016x}");
    format!("{}-{}-4{}-a{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

fn job_status(call: &Call<'_>, id: &str) -> Response {
    let store = store::read(&call.state.store);
    let Some(job) = store.jobs.iter().find(|job| job.id == id) else { return not_found() };
    let sid = call.sid();
    Json(json!({
        "Id": job.id, "Status": "COMPLETED", "Type": "CLICK_EXPORT", "ResultFormat": job.format,
        "RecordsProcessed": job_clicks(&store, job).len().to_string(),
        "ResultUri": format!("/Advertisers/{sid}/Jobs/{id}/Download"),
        "Uri": format!("/Advertisers/{sid}/Jobs/{id}"),
    }))
    .into_response()
}

fn job_clicks<'a>(store: &'a Store, job: &Job) -> Vec<&'a Value> {
    store
        .clicks
        .iter()
        .filter(|click| text(click, "CampaignId") == job.program.to_string())
        .filter(|click| {
            // The day is the account's day.
            text(click, "EventDate").get(..10).and_then(|day| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok())
                == Some(job.date)
        })
        .filter(|click| job.ad_id.as_deref().is_none_or(|ad| text(click, "AdId") == ad))
        .filter(|click| job.media_ids.is_empty() || job.media_ids.iter().any(|id| *id == text(click, "MediaId")))
        .filter(|click| !job.unique_only || text(click, "UniqueClick") == "true")
        .collect()
}

const CLICK_COLUMNS: [&str; 26] = [
    "Id",
    "CampaignId",
    "ProfileId",
    "IpAddress",
    "EventDate",
    "MediaId",
    "AdId",
    "AdName",
    "AdType",
    "SharedId",
    "SubId1",
    "SubId2",
    "SubId3",
    "ReferringUrl",
    "ReferringDomain",
    "LandingPageUrl",
    "UniqueClick",
    "DeviceType",
    "Browser",
    "Os",
    "CustomerCountry",
    "CustomerRegion",
    "CustomerCity",
    "Payout",
    "CpcBid",
    "TrafficCategory",
];

fn job_download(call: &Call<'_>, id: &str) -> Response {
    let store = store::read(&call.state.store);
    let Some(job) = store.jobs.iter().find(|job| job.id == id) else { return not_found() };
    let clicks = job_clicks(&store, job);
    match job.format.as_str() {
        "JSON" => Json(json!({"Clicks": clicks})).into_response(),
        "CSV" => {
            let quote = |value: &str| {
                if value.contains([',', '"', '\n']) {
                    format!("\"{}\"", value.replace('"', "\"\""))
                } else {
                    value.to_owned()
                }
            };
            let mut csv = CLICK_COLUMNS.join(",");
            csv.push('\n');
            for click in clicks {
                let row: Vec<String> = CLICK_COLUMNS.iter().map(|column| quote(&text(click, column))).collect();
                csv.push_str(&row.join(","));
                csv.push('\n');
            }
            ([("content-type", "text/csv; charset=utf-8")], csv).into_response()
        }
        _ => envelope::error(StatusCode::NOT_ACCEPTABLE, "This emulator answers JSON and CSV only", &[]),
    }
}

/// The Conversions API's 400: lower-case `errors[{field, level, message}]`.
fn conversion_error(problems: &[(&str, &str)]) -> Response {
    let errors: Vec<Value> =
        problems.iter().map(|(field, message)| json!({"field": field, "level": "ERROR", "message": message})).collect();
    (StatusCode::BAD_REQUEST, Json(json!({"status": "ERROR", "errors": errors}))).into_response()
}

const ATTRIBUTION_KEYS: [&str; 15] = [
    "ClickId",
    "CustomerId",
    "CustomProfileId",
    "CustomClickId",
    "PromoCode",
    "OrderPromoCode",
    "MediaId",
    "MediaPartnerId",
    "UniqueUrl",
    "CallerId",
    "GoogAId",
    "AndroidId",
    "AppleIfa",
    "AppleIfv",
    "SharedId",
];

/// `POST /Conversions`: validated, queued, and processed at once.
fn conversion(call: &Call<'_>) -> Response {
    let body = &call.body;
    let present = |name: &str| body.get(name).is_some_and(|value| !value.trim().is_empty());
    let mut problems: Vec<(&str, &str)> = Vec::new();
    for name in ["CampaignId", "EventDate", "OrderId"] {
        if !present(name) {
            problems.push((name, "Required"));
        }
    }
    if !["ActionTrackerId", "EventTypeId", "EventTypeCode"].iter().any(|name| present(name)) {
        problems.push(("ActionTrackerId", "One of ActionTrackerId, EventTypeId or EventTypeCode is required"));
    }
    if !ATTRIBUTION_KEYS[..14].iter().any(|name| present(name)) {
        problems.push(("ClickId", "An attribution key is required (ClickId, MediaPartnerId, PromoCode, …)"));
    }
    let amount_given =
        present("Amount") || present("OrderSubTotalPostDiscount") || present("ItemSubTotal1") || present("ItemPrice1");
    if amount_given && !present("CurrencyCode") {
        problems.push(("CurrencyCode", "Required with amounts"));
    }
    let event = body.get("EventDate").and_then(parse_time);
    if present("EventDate") && event.is_none() {
        problems.push(("EventDate", "Not a valid ISO 8601 date"));
    }
    if let Some(at) = event
        && at < Utc::now() - Duration::days(3 * 365 + 1)
    {
        problems.push(("EventDate", "EventDate cannot be more than 3 years in the past"));
    }
    let amount = ["Amount", "OrderSubTotalPostDiscount", "ItemSubTotal1", "ItemPrice1"]
        .iter()
        .find_map(|name| body.get(name).filter(|value| !value.is_empty()))
        .map(|value| value.trim().parse::<f64>());
    if let Some(Err(_)) = amount {
        problems.push(("Amount", "Not a numeric value"));
    }
    let mut store = store::write(&call.state.store);
    let campaign = body.get("CampaignId").and_then(|id| store.campaign(id)).cloned();
    if present("CampaignId") && campaign.is_none() {
        problems.push(("CampaignId", "Unknown campaign"));
    }
    if !problems.is_empty() {
        return conversion_error(&problems);
    }
    let (Some(campaign), Some(event)) = (campaign, event) else {
        return conversion_error(&[("CampaignId", "Required")]);
    };
    let tracker = tracker_of(campaign.id);
    let order = body.get("OrderId").unwrap_or("").to_owned();
    let partner_id = body.get("MediaPartnerId").or_else(|| body.get("MediaId")).unwrap_or("").to_owned();
    let partner_name = store
        .partners
        .iter()
        .find(|item| text(item, "Id") == partner_id.as_str())
        .map(|item| text(item, "Name").into_owned())
        .unwrap_or_default();
    let sequence = store.api_submissions.len() as u64 + 1000;
    let batch = job_id(call.state, sequence);
    let duplicate = store
        .actions
        .iter()
        .any(|item| text(item, "CampaignId") == campaign.id.to_string() && text(item, "Oid") == order);
    let now = Utc::now();
    let sid = store.sid.clone();
    store.api_submissions.push(json!({
        "BatchId": batch, "AccountId": ACCOUNT_ID, "CampaignId": campaign.id.to_string(), "ActionTrackerId": tracker.to_string(),
        "EventCode": body.get("EventTypeCode").unwrap_or(""), "MediaPartnerId": partner_id, "OrderId": order, "Type": "CONVERSION",
        "Status": if duplicate { "FAILED" } else { "COMPLETED" },
        "ErrorType": if duplicate { "DUPLICATE" } else { "" },
        "ErrorReason": if duplicate { "An action with this OrderId already exists for the event type" } else { "" },
        "SubmissionDate": local(now), "CompletionDate": local(now), "Payload": "",
        "Uri": format!("/Advertisers/{sid}/APISubmissions/{batch}"),
    }));
    if !duplicate {
        let currency = body.get("CurrencyCode").unwrap_or(campaign.currency).to_ascii_uppercase();
        let amount = amount.and_then(Result::ok).unwrap_or(0.0);
        let rate = if campaign.id == 11843 { 0.08 } else { 0.1 };
        let index = store.actions.len() + 500_000;
        let id = format!("{}.{tracker}.{}", campaign.id, 158_000 + index);
        let write = |value: f64| {
            let units = minor_units(&currency);
            if units == 0 { format!("{:.0}", value.round()) } else { format!("{value:.2}") }
        };
        store.action_updates.push(json!({
            "Id": format!("{id}.1"), "ActionId": id, "CampaignId": campaign.id.to_string(), "ActionTrackerId": tracker.to_string(),
            "MediaPartnerId": partner_id, "State": "PENDING", "StateDetail": "", "Disposition": "IR_BLANK",
            "DeltaPayout": write(amount * rate), "DeltaAmount": write(amount), "Currency": currency,
            "UpdateDate": local(now), "LockingDate": local(event + Duration::days(30)), "ClearingDate": "",
            "ActionDate": local(event), "Oid": order, "ActionUri": format!("/Advertisers/{sid}/Actions/{id}"),
            "Uri": format!("/Advertisers/{sid}/ActionUpdates/{id}.1"),
        }));
        store.actions.push(json!({
            "Id": id, "CampaignId": campaign.id.to_string(), "CampaignName": campaign.name,
            "ActionTrackerId": tracker.to_string(), "ActionTrackerName": "Online Sale", "EventCode": body.get("EventTypeCode").unwrap_or(""),
            "MediaPartnerId": partner_id, "MediaPartnerName": partner_name, "State": "PENDING",
            "AdId": "", "ClientCost": write(amount * rate * 1.2), "Payout": write(amount * rate), "DeltaPayout": write(amount * rate),
            "IntendedPayout": write(amount * rate), "Amount": write(amount), "DeltaAmount": write(amount), "IntendedAmount": write(amount),
            "Currency": currency, "ReferringDate": "", "EventDate": local(event), "CreationDate": local(now),
            "LockingDate": local(event + Duration::days(30)), "ClearedDate": "", "ReferringType": "FORCED",
            "ReferringDomain": "", "PromoCode": body.get("OrderPromoCode").or_else(|| body.get("PromoCode")).unwrap_or(""),
            "Oid": order, "CustomerId": body.get("CustomerId").unwrap_or(""), "CustomerStatus": body.get("CustomerStatus").unwrap_or(""),
            "CustomerPostCode": "", "CustomerCity": "", "CustomerRegion": "", "CustomerCountry": "", "IpAddress": "",
            "SharedId": body.get("SharedId").unwrap_or(""), "CallerId": "", "Note": body.get("Note").unwrap_or(""),
            "Uri": format!("/Advertisers/{sid}/Actions/{id}"),
        }));
    }
    Json(json!({"Status": "QUEUED", "QueuedUri": format!("/Advertisers/{sid}/APISubmissions/{batch}")})).into_response()
}

/// The `seeded` control route: counts per collection and per program, and
/// the dates an incremental client's bookmark is compared with.
pub(crate) fn seeded(store: &Store) -> Value {
    let dates = |items: &[Value], campaign: &str, field: &str| -> Vec<String> {
        let mut dates: Vec<String> = items
            .iter()
            .filter(|item| text(item, "CampaignId") == campaign)
            .filter_map(|item| parse_time(&text(item, field)))
            .map(|at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .collect();
        dates.sort();
        dates
    };
    let campaigns: Vec<Value> = store
        .campaigns
        .iter()
        .map(|campaign| {
            let id = campaign.id.to_string();
            let of = |items: &[Value]| items.iter().filter(|item| text(item, "CampaignId") == id).count();
            json!({
                "id": campaign.id,
                "name": campaign.name,
                "currency": campaign.currency,
                "actions": of(&store.actions),
                "action_updates": of(&store.action_updates),
                "action_inquiries": of(&store.action_inquiries),
                "contacts": of(&store.contacts),
                "notes": of(&store.notes),
                "groups": of(&store.groups),
                "clicks": of(&store.clicks),
                "action_event_dates": dates(&store.actions, &id, "EventDate"),
                "action_update_dates": dates(&store.action_updates, &id, "UpdateDate"),
                "action_inquiry_dates": dates(&store.action_inquiries, &id, "CreationDate"),
                "note_dates": dates(&store.notes, &id, "ModificationDate"),
            })
        })
        .collect();
    let by = |items: &[Value], field: &str| -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for item in items {
            *counts.entry(text(item, field).into_owned()).or_insert(0) += 1;
        }
        counts
    };
    let click_days: Vec<String> = {
        let mut days: Vec<String> =
            store.clicks.iter().filter_map(|click| text(click, "EventDate").get(..10).map(str::to_owned)).collect();
        days.sort();
        days.dedup();
        days
    };
    json!({
        "account_sid": store.sid,
        "campaigns": campaigns,
        "totals": {
            "campaigns": store.campaigns.len(),
            "media_partners": store.partners.len(),
            "media_partner_groups": store.groups.len(),
            "ads": store.ads.len(),
            "deals": store.deals.len(),
            "promo_codes": store.promo_codes.len(),
            "unique_urls": store.unique_urls.len(),
            "tracking_links": store.tracking_links.len(),
            "clicks": store.clicks.len(),
            "actions": store.actions.len(),
            "action_updates": store.action_updates.len(),
            "action_inquiries": store.action_inquiries.len(),
            "invoices": store.invoices.len(),
            "contacts": store.contacts.len(),
            "notes": store.notes.len(),
            "catalogs": store.catalogs.len(),
            "catalog_items": store.catalog_items.len(),
            "exception_lists": store.exception_lists.len(),
            "exception_list_items": store.exception_list_items.len(),
            "phone_numbers": store.phone_numbers.len(),
            "reports": store.reports.len(),
            "api_submissions": store.api_submissions.len(),
            "ftp_file_submissions": store.ftp_file_submissions.len(),
            "tracking_value_requests": store.tracking_value_requests.len(),
            "company_information": 1,
        },
        "actions_by_state": by(&store.actions, "State"),
        "actions_by_currency": by(&store.actions, "Currency"),
        "partners_by_state": by(&store.partners, "State"),
        "invoices_by_currency": by(&store.invoices, "Currency"),
        "click_days": click_days,
        "partner_ids": store.partners.iter().map(|partner| text(partner, "Id").into_owned()).collect::<Vec<_>>(),
    })
}
