//! Campaigns (v1 create, get, update and retire; v3 list, get and PATCH,
//! which refuses properties it does not define), participations (who is on
//! a campaign, with their camref) and commission groups (v1 create and
//! update, per campaign, and the v3 network list).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cutover_emulator_kit::query::Params;
use serde_json::{Map, Value, json};

use crate::Account;
use crate::envelope::{self, object, text};
use crate::model::{Campaign, CommissionGroup, Participation};
use crate::vendor::{self, Generation, PAGING, Problem};

/// `GET /campaign` and `GET /user/advertiser/{id}/campaign`: the brand's
/// campaigns, v1.
pub async fn list_v1(State(account): State<Account>, uri: Uri) -> Response {
    let page = match envelope::page(&uri, PAGING) {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    let store = account.settled();
    let (items, total) = envelope::slice(&store.campaigns, page);
    let items = items.iter().map(|campaign| campaign.to_v1(&store.advertiser_id)).collect();
    envelope::v1_list(&uri, page, total, "campaigns", "campaign", items)
}

/// `GET /user/advertiser/{advertiser_id}/campaign`.
pub async fn list_of_advertiser(
    State(account): State<Account>,
    Path(advertiser_id): Path<String>,
    uri: Uri,
) -> Response {
    if account.settled().advertiser_id != advertiser_id {
        return vendor::not_found(uri.path(), "The brand");
    }
    list_v1(State(account), uri).await
}

/// `GET /v3/brand/campaigns`, filtered by `status` when given.
pub async fn list_v3(State(account): State<Account>, uri: Uri) -> Response {
    let page = match envelope::page(&uri, PAGING) {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    let params = Params::from_uri(&uri);
    let store = account.settled();
    let matching: Vec<&Campaign> = store
        .campaigns
        .iter()
        .filter(|campaign| params.get("status").is_none_or(|status| campaign.status == status))
        .collect();
    let (items, total) = envelope::slice(&matching, page);
    let items = items.into_iter().map(|campaign| campaign.to_v3(&store.advertiser_id)).collect();
    envelope::v3_list(&uri, page, total, items)
}

/// `GET /v3/brand/campaigns/{campaign_id}`.
pub async fn get_v3(State(account): State<Account>, Path(campaign_id): Path<String>, uri: Uri) -> Response {
    let store = account.settled();
    match store.campaign(&campaign_id) {
        Some(campaign) => envelope::v3_one(StatusCode::OK, campaign.to_v3(&store.advertiser_id)),
        None => vendor::not_found(uri.path(), "The campaign"),
    }
}

/// `GET /campaign/{campaign_id}`.
pub async fn get_v1(State(account): State<Account>, Path(campaign_id): Path<String>, uri: Uri) -> Response {
    let store = account.settled();
    match store.campaign(&campaign_id) {
        Some(campaign) => envelope::v1_one(StatusCode::OK, "campaign", campaign.to_v1(&store.advertiser_id)),
        None => vendor::not_found(uri.path(), "The campaign"),
    }
}

/// What v3's campaign PATCH defines; anything else is a 400.
const V3_WRITABLE: &[&str] = &[
    "title",
    "status",
    "default_currency",
    "cookie_period",
    "default_commission_rate",
    "default_commission_value",
    "destination_url",
    "description",
    "reporting_timezone",
];

/// What v1's campaign create and update take (others are ignored).
const V1_WRITABLE: &[&str] = &[
    "advertiser_id",
    "title",
    "status",
    "default_currency",
    "cookie_period",
    "default_commission_rate",
    "default_commission_value",
    "destination_url",
    "description",
    "reporting_timezone",
];

/// Sets `body`'s fields on `campaign`; `Ok(changed)`.
fn apply(path: &str, campaign: &mut Campaign, body: &Map<String, Value>, allowed: &[&str]) -> Result<bool, Response> {
    let before = campaign.clone();
    for (name, value) in body {
        if !allowed.contains(&name.as_str()) {
            continue;
        }
        let value_text = text(body, name).filter(|value| !value.is_empty());
        match name.as_str() {
            "title" => match value_text {
                Some(title) => campaign.title = title,
                None => return Err(vendor::bad_request(path, name, "invalid_value", "title cannot be empty")),
            },
            "status" => match value_text.filter(|status| matches!(status.as_str(), "a" | "r")) {
                Some(status) => campaign.status = status,
                None => return Err(vendor::bad_request(path, name, "invalid_enum_value", "status must be a or r")),
            },
            "default_currency" => {
                match value_text.filter(|code| matches!(code.as_str(), "GBP" | "USD" | "EUR" | "JPY")) {
                    Some(code) => campaign.default_currency = code,
                    None => {
                        return Err(vendor::bad_request(
                            path,
                            name,
                            "invalid_enum_value",
                            "default_currency must be GBP, USD, EUR or JPY",
                        ));
                    }
                }
            }
            "cookie_period" => match value.as_u64().and_then(|days| u32::try_from(days).ok()) {
                Some(days) => campaign.cookie_period = days,
                None => {
                    return Err(vendor::bad_request(
                        path,
                        name,
                        "invalid_type",
                        "cookie_period must be a whole number of days",
                    ));
                }
            },
            "default_commission_rate" => {
                if value_text.as_deref().is_some_and(|rate| rate.parse::<f64>().is_err()) {
                    return Err(vendor::bad_request(
                        path,
                        name,
                        "invalid_type",
                        "default_commission_rate must be a number",
                    ));
                }
                campaign.default_commission_rate = value_text;
            }
            "default_commission_value" => campaign.default_commission_value = value_text,
            "destination_url" => campaign.destination_url = value_text,
            "reporting_timezone" => {
                if let Some(zone) = value_text {
                    campaign.reporting_timezone = zone;
                }
            }
            "description" => {
                campaign.description = match value {
                    Value::Object(locales) => locales.get("en").and_then(Value::as_str).map(str::to_owned),
                    Value::String(text) => Some(text.clone()),
                    _ => None,
                }
                .filter(|text| !text.is_empty());
            }
            _ => {}
        }
    }
    Ok(*campaign != before)
}

/// `POST /campaign`: a new campaign of `advertiser_id`.
pub async fn create(State(account): State<Account>, uri: Uri, body: Bytes) -> Response {
    let path = uri.path();
    let body = match object(path, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let mut missing = Vec::new();
    for name in ["advertiser_id", "title"] {
        if text(&body, name).is_none_or(|value| value.is_empty()) {
            missing.push(Problem::new(name, "required_property", format!("{name} is required")));
        }
    }
    if !missing.is_empty() {
        return vendor::error(Generation::V1, StatusCode::BAD_REQUEST, missing);
    }
    let mut store = account.settled();
    if text(&body, "advertiser_id").as_deref() != Some(store.advertiser_id.as_str()) {
        return vendor::not_found(path, "The brand");
    }
    let now = chrono::Utc::now();
    let mut campaign = Campaign {
        campaign_id: String::new(),
        title: String::new(),
        status: "a".into(),
        default_currency: "GBP".into(),
        cookie_period: 30,
        default_commission_rate: None,
        default_commission_value: None,
        destination_url: None,
        description: None,
        reporting_timezone: "Europe/London".into(),
        created: now,
        last_modified: now,
    };
    if let Err(refused) = apply(path, &mut campaign, &body, V1_WRITABLE) {
        return refused;
    }
    campaign.campaign_id = store.next_id("campaign", "10", 176);
    let json = campaign.to_v1(&store.advertiser_id);
    store.campaigns.push(campaign);
    envelope::v1_one(StatusCode::CREATED, "campaign", json)
}

/// `PUT /campaign/{campaign_id}` (v1, unknown properties ignored) and
/// `PATCH /v3/brand/campaigns/{campaign_id}` (v3, refused).
async fn change(account: &Account, campaign_id: &str, path: &str, body: &Bytes) -> Response {
    let generation = Generation::of(path);
    let body = match object(path, body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    if generation == Generation::V3
        && let Err(refused) = envelope::refuse(envelope::unknown_properties(&body, V3_WRITABLE, ""))
    {
        return refused;
    }
    let mut store = account.settled();
    let advertiser_id = store.advertiser_id.clone();
    let Some(campaign) = store.campaigns.iter_mut().find(|campaign| campaign.campaign_id == campaign_id) else {
        return vendor::not_found(path, "The campaign");
    };
    let mut changed = campaign.clone();
    let allowed = if generation == Generation::V3 { V3_WRITABLE } else { V1_WRITABLE };
    match apply(path, &mut changed, &body, allowed) {
        Err(refused) => return refused,
        Ok(true) => {
            changed.last_modified = chrono::Utc::now();
            *campaign = changed;
        }
        Ok(false) => {}
    }
    match generation {
        Generation::V3 => envelope::v3_one(StatusCode::OK, campaign.to_v3(&advertiser_id)),
        _ => envelope::v1_one(StatusCode::OK, "campaign", campaign.to_v1(&advertiser_id)),
    }
}

/// `PUT /campaign/{campaign_id}`.
pub async fn update_v1(
    State(account): State<Account>,
    Path(campaign_id): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    change(&account, &campaign_id, uri.path(), &body).await
}

/// `PATCH /v3/brand/campaigns/{campaign_id}`.
pub async fn patch_v3(
    State(account): State<Account>,
    Path(campaign_id): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    change(&account, &campaign_id, uri.path(), &body).await
}

/// `POST /campaign/{campaign_id}` with `action=delete`: retires it.
pub async fn retire(
    State(account): State<Account>,
    Path(campaign_id): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let body = match object(path, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    if text(&body, "action").as_deref() != Some("delete") {
        return vendor::bad_request(path, "action", "invalid_value", "action must be delete");
    }
    let mut store = account.settled();
    let advertiser_id = store.advertiser_id.clone();
    let Some(campaign) = store.campaigns.iter_mut().find(|campaign| campaign.campaign_id == campaign_id) else {
        return vendor::not_found(path, "The campaign");
    };
    if campaign.status != "r" {
        campaign.status = "r".into();
        campaign.last_modified = chrono::Utc::now();
    }
    envelope::v1_one(StatusCode::OK, "campaign", campaign.to_v1(&advertiser_id))
}

fn participation_json(store: &crate::model::Store, part: &Participation) -> Value {
    let mut publisher = store
        .publisher(&part.publisher_id)
        .map(|publisher| publisher.to_v1(&store.network_id))
        .unwrap_or_else(|| json!({"publisher_id": part.publisher_id}));
    if let Some(object) = publisher.as_object_mut() {
        object.insert("campaign_id".into(), Value::from(part.campaign_id.clone()));
        object.insert("campaign_status".into(), Value::from(part.campaign_status.clone()));
        object.insert("camref".into(), Value::from(part.camref.clone()));
        object.insert("tracking_link".into(), Value::from(format!("https://prf.hn/click/camref:{}", part.camref)));
    }
    publisher
}

/// `GET /campaign/{campaign_id}/publisher`: every participation, paged,
/// filtered by `campaign_status` when given.
pub async fn participations(State(account): State<Account>, Path(campaign_id): Path<String>, uri: Uri) -> Response {
    let page = match envelope::page(&uri, PAGING) {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    let params = Params::from_uri(&uri);
    let store = account.settled();
    if store.campaign(&campaign_id).is_none() {
        return vendor::not_found(uri.path(), "The campaign");
    }
    let matching: Vec<&Participation> = store
        .participations
        .iter()
        .filter(|part| part.campaign_id == campaign_id)
        .filter(|part| params.get("campaign_status").is_none_or(|status| part.campaign_status == status))
        .collect();
    let (items, total) = envelope::slice(&matching, page);
    let items = items.into_iter().map(|part| participation_json(&store, part)).collect();
    envelope::v1_list(&uri, page, total, "publishers", "publisher", items)
}

/// `GET /campaign/{campaign_id}/publisher/{publisher_id}`.
pub async fn participation(
    State(account): State<Account>,
    Path((campaign_id, publisher_id)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    let store = account.settled();
    match store.participation(&campaign_id, &publisher_id) {
        Some(part) => envelope::v1_one(StatusCode::OK, "publisher", participation_json(&store, part)),
        None => vendor::not_found(uri.path(), "The participation"),
    }
}

/// `POST /campaign/{campaign_id}/publisher`: creates or changes
/// participations (`a`, `p`, `r`, `t`); a new one gets its camref.
pub async fn set_participations(
    State(account): State<Account>,
    Path(campaign_id): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let body = match object(path, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let Some(entries) = body.get("publishers").and_then(Value::as_array) else {
        return vendor::bad_request(path, "publishers", "required_property", "publishers is required");
    };
    let mut store = account.settled();
    if store.campaign(&campaign_id).is_none() {
        return vendor::not_found(path, "The campaign");
    }
    let now = chrono::Utc::now();
    let mut answered = Vec::new();
    for entry in entries {
        let (Some(publisher_id), Some(status)) = (
            entry["publisher_id"].as_str(),
            entry["campaign_status"].as_str().filter(|status| matches!(*status, "a" | "p" | "r" | "t")),
        ) else {
            return vendor::bad_request(
                path,
                "publishers",
                "invalid_value",
                "each entry needs publisher_id and a campaign_status of a, p, r or t",
            );
        };
        if store.publisher(publisher_id).is_none() {
            return vendor::not_found(path, "The partner");
        }
        let index = match store
            .participations
            .iter()
            .position(|part| part.campaign_id == campaign_id && part.publisher_id == publisher_id)
        {
            Some(index) => index,
            None => {
                let camref = store.new_camref();
                store.participations.push(Participation {
                    campaign_id: campaign_id.clone(),
                    publisher_id: publisher_id.to_owned(),
                    campaign_status: status.to_owned(),
                    camref,
                    updated: now,
                });
                store.participations.len() - 1
            }
        };
        if store.participations[index].campaign_status != status {
            store.participations[index].campaign_status = status.to_owned();
            store.participations[index].updated = now;
        }
        answered.push(json!({"publisher": participation_json(&store, &store.participations[index])}));
    }
    Json(json!({"execution_time": envelope::EXECUTION_TIME, "publishers": answered})).into_response()
}

/// `GET /campaign/{campaign_id}/commission_group`.
pub async fn groups_of_campaign(State(account): State<Account>, Path(campaign_id): Path<String>, uri: Uri) -> Response {
    let store = account.settled();
    if store.campaign(&campaign_id).is_none() {
        return vendor::not_found(uri.path(), "The campaign");
    }
    let groups: Vec<Value> = store
        .commission_groups
        .iter()
        .filter(|group| group.campaign_id == campaign_id)
        .map(|group| json!({"commission_group": group.to_json()}))
        .collect();
    Json(json!({"execution_time": envelope::EXECUTION_TIME, "commission_groups": groups})).into_response()
}

/// `GET /v3/network/{network_id}/commission-groups`, paged.
pub async fn groups_of_network(State(account): State<Account>, Path(network_id): Path<String>, uri: Uri) -> Response {
    let page = match envelope::page(&uri, PAGING) {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    let store = account.settled();
    if store.network_id != network_id {
        return vendor::not_found(uri.path(), "The network");
    }
    let (items, total) = envelope::slice(&store.commission_groups, page);
    envelope::v3_list(&uri, page, total, items.iter().map(CommissionGroup::to_json).collect())
}

/// `POST /commission_group` (new groups) and `PUT /commission_group`
/// (changed ones, by `commission_group_id`; `publishers` replaces the
/// members).
pub async fn write_groups(
    State(account): State<Account>,
    method: axum::http::Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let body = match object(path, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let Some(entries) = body.get("commission_groups").and_then(Value::as_array) else {
        return vendor::bad_request(path, "commission_groups", "required_property", "commission_groups is required");
    };
    let creating = method == axum::http::Method::POST;
    let mut store = account.settled();
    let mut answered = Vec::new();
    for entry in entries {
        let Some(entry) = entry.as_object() else {
            return vendor::bad_request(path, "commission_groups", "invalid_type", "each group must be an object");
        };
        let publishers: Option<Vec<String>> = entry
            .get("publishers")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_str).map(str::to_owned).collect());
        if let Some(unknown) = publishers.iter().flatten().find(|id| store.publisher(id).is_none()) {
            return vendor::bad_request(
                path,
                "publishers",
                "invalid_value",
                format!("partner {unknown} does not exist"),
            );
        }
        let group = if creating {
            let (Some(campaign_id), Some(name)) =
                (text(entry, "campaign_id"), text(entry, "name").filter(|name| !name.is_empty()))
            else {
                return vendor::bad_request(
                    path,
                    "commission_groups",
                    "required_property",
                    "campaign_id and name are required",
                );
            };
            if store.campaign(&campaign_id).is_none() {
                return vendor::not_found(path, "The campaign");
            }
            let commission_group_id = store.next_id("commission_group", "1", 1_000_040);
            store.commission_groups.push(CommissionGroup {
                commission_group_id,
                campaign_id,
                name,
                description: text(entry, "description"),
                publishers: publishers.unwrap_or_default(),
            });
            store.commission_groups.len() - 1
        } else {
            let Some(id) = text(entry, "commission_group_id") else {
                return vendor::bad_request(
                    path,
                    "commission_group_id",
                    "required_property",
                    "commission_group_id is required",
                );
            };
            let Some(index) = store.commission_groups.iter().position(|group| group.commission_group_id == id) else {
                return vendor::not_found(path, "The commission group");
            };
            let group = &mut store.commission_groups[index];
            if let Some(name) = text(entry, "name").filter(|name| !name.is_empty()) {
                group.name = name;
            }
            if entry.contains_key("description") {
                group.description = text(entry, "description");
            }
            if let Some(publishers) = publishers {
                group.publishers = publishers;
            }
            index
        };
        answered.push(json!({"commission_group": store.commission_groups[group].to_json()}));
    }
    let status = if creating { StatusCode::CREATED } else { StatusCode::OK };
    (status, Json(json!({"execution_time": envelope::EXECUTION_TIME, "commission_groups": answered}))).into_response()
}
