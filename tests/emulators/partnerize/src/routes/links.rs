//! A partner's short links (v2, partner scope: list, create, get, PATCH;
//! a link needs an approved participation, whose camref it carries) and a
//! campaign's voucher codes (v1: list, create and update in batches, get
//! one; a code is unique within its campaign).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::Account;
use crate::envelope::{self, object, text};
use crate::model::{Link, Voucher};
use crate::vendor::{self, PAGING};

/// `GET /v2/publishers/{publisher_id}/links`, paged.
pub async fn list(State(account): State<Account>, Path(publisher_id): Path<String>, uri: Uri) -> Response {
    let page = match envelope::page(&uri, PAGING) {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    let store = account.settled();
    if store.publisher(&publisher_id).is_none() {
        return vendor::not_found(uri.path(), "The partner");
    }
    let links: Vec<&Link> = store.links.iter().filter(|link| link.publisher_id == publisher_id).collect();
    let (items, total) = envelope::slice(&links, page);
    envelope::v2_list(&uri, page, total, "links", items.into_iter().map(Link::to_json).collect())
}

/// `GET /v2/publishers/{publisher_id}/links/{link_id}`.
pub async fn get_one(
    State(account): State<Account>,
    Path((publisher_id, link_id)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    let store = account.settled();
    match store.links.iter().find(|link| link.publisher_id == publisher_id && link.id == link_id) {
        Some(link) => Json(json!({"execution_time": envelope::EXECUTION_TIME, "link": link.to_json()})).into_response(),
        None => vendor::not_found(uri.path(), "The link"),
    }
}

fn params_of(path: &str, body: &Map<String, Value>) -> Result<Option<Vec<(String, String)>>, Response> {
    match body.get("params") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(entries)) => entries
            .iter()
            .map(|entry| match (entry["key"].as_str(), entry["value"].as_str()) {
                (Some(key), Some(value)) => Ok((key.to_owned(), value.to_owned())),
                _ => Err(vendor::bad_request(path, "params", "invalid_type", "each param needs a key and a value")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(vendor::bad_request(path, "params", "invalid_type", "params must be an array")),
    }
}

fn active_of(path: &str, body: &Map<String, Value>) -> Result<Option<bool>, Response> {
    match body.get("active") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(active)) => Ok(Some(*active)),
        Some(Value::String(flag)) if flag == "y" || flag == "n" => Ok(Some(flag == "y")),
        Some(_) => Err(vendor::bad_request(path, "active", "invalid_type", "active must be a boolean")),
    }
}

/// `POST /v2/publishers/{publisher_id}/links`: a new short link on a
/// campaign the partner is approved on.
pub async fn create(
    State(account): State<Account>,
    Path(publisher_id): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let body = match object(path, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let Some(campaign_id) = text(&body, "campaign_id") else {
        return vendor::bad_request(path, "campaign_id", "required_property", "campaign_id is required");
    };
    let (params, active) = match (params_of(path, &body), active_of(path, &body)) {
        (Ok(params), Ok(active)) => (params, active),
        (Err(refused), _) | (_, Err(refused)) => return refused,
    };
    let mut store = account.settled();
    if store.publisher(&publisher_id).is_none() {
        return vendor::not_found(path, "The partner");
    }
    let Some(camref) = store
        .participation(&campaign_id, &publisher_id)
        .filter(|part| part.campaign_status == "a")
        .map(|part| part.camref.clone())
    else {
        return vendor::bad_request(
            path,
            "campaign_id",
            "invalid_value",
            "the partner is not approved on this campaign",
        );
    };
    let id = store.next_id("link", "1011", 10);
    let code = format!("{:x}", crate::seeding::spread(store.links.len() as u64 + 7_000) & 0xff_ffff);
    let link = Link {
        id,
        publisher_id,
        campaign_id,
        description: text(&body, "description").filter(|text| !text.is_empty()),
        destination_url: text(&body, "destination_url").filter(|text| !text.is_empty()),
        params: params.unwrap_or_default(),
        active: active.unwrap_or(true),
        code,
        camref,
    };
    let json = link.to_json();
    store.links.push(link);
    (StatusCode::CREATED, Json(json!({"execution_time": envelope::EXECUTION_TIME, "link": json}))).into_response()
}

/// `PATCH /v2/publishers/{publisher_id}/links/{link_id}`: description,
/// destination, params, active.
pub async fn patch(
    State(account): State<Account>,
    Path((publisher_id, link_id)): Path<(String, String)>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let body = match object(path, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let (params, active) = match (params_of(path, &body), active_of(path, &body)) {
        (Ok(params), Ok(active)) => (params, active),
        (Err(refused), _) | (_, Err(refused)) => return refused,
    };
    let mut store = account.settled();
    let Some(link) = store.links.iter_mut().find(|link| link.publisher_id == publisher_id && link.id == link_id) else {
        return vendor::not_found(path, "The link");
    };
    if body.contains_key("description") {
        link.description = text(&body, "description").filter(|text| !text.is_empty());
    }
    if body.contains_key("destination_url") {
        link.destination_url = text(&body, "destination_url").filter(|text| !text.is_empty());
    }
    if let Some(params) = params {
        link.params = params;
    }
    if let Some(active) = active {
        link.active = active;
    }
    Json(json!({"execution_time": envelope::EXECUTION_TIME, "link": link.to_json()})).into_response()
}

/// `GET /campaign/{campaign_id}/voucher_code`, paged.
pub async fn vouchers(State(account): State<Account>, Path(campaign_id): Path<String>, uri: Uri) -> Response {
    let page = match envelope::page(&uri, PAGING) {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    let store = account.settled();
    if store.campaign(&campaign_id).is_none() {
        return vendor::not_found(uri.path(), "The campaign");
    }
    let codes: Vec<&Voucher> = store.vouchers.iter().filter(|voucher| voucher.campaign_id == campaign_id).collect();
    let (items, total) = envelope::slice(&codes, page);
    envelope::v1_list(
        &uri,
        page,
        total,
        "voucher_codes",
        "voucher_code",
        items.into_iter().map(Voucher::to_json).collect(),
    )
}

/// `GET /campaign/{campaign_id}/voucher_code/{voucher_code_id}`.
pub async fn voucher(
    State(account): State<Account>,
    Path((campaign_id, voucher_code_id)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    let store = account.settled();
    match store
        .vouchers
        .iter()
        .find(|voucher| voucher.campaign_id == campaign_id && voucher.voucher_code_id == voucher_code_id)
    {
        Some(voucher) => envelope::v1_one(StatusCode::OK, "voucher_code", voucher.to_json()),
        None => vendor::not_found(uri.path(), "The voucher code"),
    }
}

/// `POST` (new codes) and `PUT` (changed ones, by `voucher_code_id`)
/// `/campaign/{campaign_id}/voucher_code` with `{"voucher_codes": [...]}`.
/// The batch is checked whole before anything is stored.
pub async fn write_vouchers(
    State(account): State<Account>,
    Path(campaign_id): Path<String>,
    method: axum::http::Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let body = match object(path, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let Some(entries) = body.get("voucher_codes").and_then(Value::as_array) else {
        return vendor::bad_request(path, "voucher_codes", "required_property", "voucher_codes is required");
    };
    let creating = method == axum::http::Method::POST;
    let mut store = account.settled();
    if store.campaign(&campaign_id).is_none() {
        return vendor::not_found(path, "The campaign");
    }
    let now = chrono::Utc::now();
    let mut staged: Vec<Voucher> = Vec::new();
    for entry in entries {
        let Some(entry) = entry.as_object() else {
            return vendor::bad_request(path, "voucher_codes", "invalid_type", "each voucher code must be an object");
        };
        let existing = if creating {
            None
        } else {
            let Some(id) = text(entry, "voucher_code_id") else {
                return vendor::bad_request(
                    path,
                    "voucher_code_id",
                    "required_property",
                    "voucher_code_id is required",
                );
            };
            match store
                .vouchers
                .iter()
                .find(|voucher| voucher.voucher_code_id == id && voucher.campaign_id == campaign_id)
            {
                Some(voucher) => Some(voucher.clone()),
                None => return vendor::not_found(path, "The voucher code"),
            }
        };
        let mut voucher = existing.clone().unwrap_or(Voucher {
            voucher_code_id: String::new(),
            campaign_id: campaign_id.clone(),
            publisher_id: None,
            voucher_code: String::new(),
            description: None,
            active: "y".into(),
            created: now,
            last_modified: now,
        });
        if let Some(code) = text(entry, "voucher_code") {
            voucher.voucher_code = code.trim().to_owned();
        }
        if voucher.voucher_code.is_empty() {
            return vendor::bad_request(path, "voucher_code", "required_property", "voucher_code is required");
        }
        let taken = store.vouchers.iter().chain(&staged).any(|other| {
            other.voucher_code.eq_ignore_ascii_case(&voucher.voucher_code)
                && other.campaign_id == campaign_id
                && other.voucher_code_id != voucher.voucher_code_id
        });
        if taken {
            return vendor::bad_request(
                path,
                "voucher_code",
                "invalid_value",
                format!("voucher code {} already exists on this campaign", voucher.voucher_code),
            );
        }
        if entry.contains_key("publisher_id") {
            voucher.publisher_id = text(entry, "publisher_id").filter(|id| !id.is_empty());
            if let Some(id) = &voucher.publisher_id
                && store.publisher(id).is_none()
            {
                return vendor::bad_request(
                    path,
                    "publisher_id",
                    "invalid_value",
                    format!("partner {id} does not exist"),
                );
            }
        }
        if entry.contains_key("description") {
            voucher.description = text(entry, "description").filter(|text| !text.is_empty());
        }
        if let Some(active) = text(entry, "active") {
            if active != "y" && active != "n" {
                return vendor::bad_request(path, "active", "invalid_enum_value", "active must be y or n");
            }
            voucher.active = active;
        }
        if existing.as_ref() != Some(&voucher) {
            voucher.last_modified = now;
        }
        staged.push(voucher);
    }
    let mut answered = Vec::new();
    for mut voucher in staged {
        if voucher.voucher_code_id.is_empty() {
            voucher.voucher_code_id = store.next_id("voucher", "1101", 1536);
            answered.push(json!({"voucher_code": voucher.to_json()}));
            store.vouchers.push(voucher);
        } else {
            answered.push(json!({"voucher_code": voucher.to_json()}));
            if let Some(slot) = store.vouchers.iter_mut().find(|other| other.voucher_code_id == voucher.voucher_code_id)
            {
                *slot = voucher;
            }
        }
    }
    let status = if creating { StatusCode::CREATED } else { StatusCode::OK };
    (status, Json(json!({"execution_time": envelope::EXECUTION_TIME, "voucher_codes": answered}))).into_response()
}
