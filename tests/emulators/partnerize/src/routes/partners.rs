//! Partners (publishers): the network's list (v1), the v2 search with its
//! filters, create, get and update (v1, which ignores body properties it
//! does not know), network status, payment details, commission groups of a
//! partner and self-bills.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cutover_emulator_kit::people;
use cutover_emulator_kit::query::Params;
use serde_json::{Map, Value, json};

use crate::Account;
use crate::envelope::{self, object, text};
use crate::model::{PaymentDetail, Publisher};
use crate::vendor::{self, Generation, PAGING, Problem};

fn wrong_network(path: &str, account: &Account, network_id: &str) -> Option<Response> {
    (network_id != account.settled().network_id).then(|| vendor::not_found(path, "The network"))
}

/// `GET /network/{network_id}/publisher`: every partner, with
/// `network_status` (filter with `network_status=a`).
pub async fn list_network(State(account): State<Account>, Path(network_id): Path<String>, uri: Uri) -> Response {
    if let Some(refused) = wrong_network(uri.path(), &account, &network_id) {
        return refused;
    }
    let page = match envelope::page(&uri, PAGING) {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    let params = Params::from_uri(&uri);
    let store = account.settled();
    let statuses = params.list("network_status");
    let matching: Vec<&Publisher> = store
        .publishers
        .iter()
        .filter(|publisher| statuses.is_empty() || statuses.contains(&publisher.network_status))
        .collect();
    let (items, total) = envelope::slice(&matching, page);
    let items = items.into_iter().map(|publisher| publisher.to_v1(&store.network_id)).collect();
    envelope::v1_list(&uri, page, total, "publishers", "publisher", items)
}

/// `POST /network/{network_id}/publisher`: sets network statuses.
pub async fn set_network_status(
    State(account): State<Account>,
    Path(network_id): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if let Some(refused) = wrong_network(path, &account, &network_id) {
        return refused;
    }
    let body = match object(path, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let Some(entries) = body.get("publishers").and_then(Value::as_array) else {
        return vendor::bad_request(path, "publishers", "required_property", "publishers is required");
    };
    let mut store = account.settled();
    let now = chrono::Utc::now();
    let mut changed = Vec::new();
    for entry in entries {
        let (Some(id), Some(status)) =
            (entry["publisher_id"].as_str(), entry["network_status"].as_str().filter(|s| is_status(s)))
        else {
            return vendor::bad_request(
                path,
                "publishers",
                "invalid_value",
                "each entry needs publisher_id and a network_status of a, p, r or n",
            );
        };
        let network_id = store.network_id.clone();
        let Some(publisher) = store.publishers.iter_mut().find(|publisher| publisher.publisher_id == id) else {
            return vendor::not_found(path, "The partner");
        };
        if publisher.network_status != status {
            publisher.network_status = status.to_owned();
            publisher.last_modified = now;
        }
        changed.push(json!({"publisher": publisher.to_v1(&network_id)}));
    }
    Json(json!({"execution_time": envelope::EXECUTION_TIME, "publishers": changed})).into_response()
}

fn is_status(status: &str) -> bool {
    matches!(status, "a" | "p" | "r" | "n")
}

/// `GET /v2/networks/{network_id}/publishers`: the search, with the filters
/// `ids`, `reporting_identifier`, `publisher_email`, `network_statuses`,
/// `publisher_name`, `search` and `fields`.
pub async fn search(State(account): State<Account>, Path(network_id): Path<String>, uri: Uri) -> Response {
    if let Some(refused) = wrong_network(uri.path(), &account, &network_id) {
        return refused;
    }
    let page = match envelope::page(&uri, PAGING) {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    let params = Params::from_uri(&uri);
    let store = account.settled();
    let ids = params.list("ids");
    let statuses = params.list("network_statuses");
    let fields = params.list("fields");
    let equals = |wanted: Option<&str>, value: Option<&String>| {
        wanted.is_none_or(|wanted| value.is_some_and(|value| value.eq_ignore_ascii_case(wanted)))
    };
    let search = params.get("search").map(str::to_lowercase);
    let matching: Vec<&Publisher> = store
        .publishers
        .iter()
        .filter(|publisher| ids.is_empty() || ids.contains(&publisher.publisher_id))
        .filter(|publisher| statuses.is_empty() || statuses.contains(&publisher.network_status))
        .filter(|publisher| equals(params.get("reporting_identifier"), publisher.reporting_identifier.as_ref()))
        .filter(|publisher| equals(params.get("publisher_email"), publisher.contact_email.as_ref()))
        .filter(|publisher| equals(params.get("publisher_name"), Some(&publisher.account_name)))
        .filter(|publisher| {
            search.as_deref().is_none_or(|search| {
                publisher.account_name.to_lowercase().contains(search)
                    || publisher.company_name.as_deref().is_some_and(|company| company.to_lowercase().contains(search))
            })
        })
        .collect();
    let (items, total) = envelope::slice(&matching, page);
    let items = items.into_iter().map(|publisher| publisher.to_v2(&store.network_id, &fields)).collect();
    envelope::v2_list(&uri, page, total, "publishers", items)
}

/// Fields `POST /user/publisher` requires.
const REQUIRED: [&str; 6] =
    ["account_name", "vertical", "promotional_method", "signup_ip", "entity_terms_id", "contact_email"];

/// `POST /user/publisher`: a partner with no login. Properties it does not
/// know are ignored (v1).
pub async fn create(State(account): State<Account>, uri: Uri, body: Bytes) -> Response {
    let path = uri.path();
    let body = match object(path, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let missing: Vec<Problem> = REQUIRED
        .iter()
        .filter(|name| text(&body, name).is_none_or(|value| value.trim().is_empty()))
        .map(|name| Problem::new(*name, "required_property", format!("{name} is required")))
        .collect();
    if !missing.is_empty() {
        return vendor::error(Generation::V1, StatusCode::BAD_REQUEST, missing);
    }
    let mut publisher = Publisher {
        publisher_id: String::new(),
        account_name: String::new(),
        company_name: None,
        contact_name: None,
        contact_email: None,
        contact_locale: None,
        default_currency: None,
        network_status: "a".into(),
        operating_country: None,
        promotional_method: 0,
        vertical: 0,
        reporting_identifier: None,
        foreign_identifier: None,
        reporting_timezone: None,
        signup_ip: String::new(),
        phone: None,
        entity_terms_id: None,
        network_notes: None,
        websites: Vec::new(),
        created: chrono::Utc::now(),
        last_modified: chrono::Utc::now(),
    };
    if let Err(refused) = apply(path, &mut publisher, &body, CREATE_FIELDS) {
        return refused;
    }
    let mut store = account.settled();
    publisher.publisher_id = store.next_id("publisher", "1", 1_007_800);
    let json = publisher.to_v1(&store.network_id);
    store.publishers.push(publisher);
    envelope::v1_one(StatusCode::CREATED, "publisher", json)
}

/// What `POST /user/publisher` takes.
const CREATE_FIELDS: &[&str] = &[
    "account_name",
    "vertical",
    "promotional_method",
    "signup_ip",
    "entity_terms_id",
    "contact_email",
    "network_terms_id",
    "vat_number",
    "description",
    "company_name",
    "operating_country",
    "reporting_timezone",
    "default_currency",
    "phone",
    "contact_name",
    "contact_locale",
];

/// What `POST /user/publisher/{id}` changes.
const UPDATE_FIELDS: &[&str] = &[
    "account_name",
    "company_name",
    "contact_email",
    "contact_locale",
    "contact_name",
    "default_currency",
    "foreign_identifier",
    "network_notes",
    "network_status",
    "operating_country",
    "phone",
    "promotional_method",
    "reporting_identifier",
    "reporting_timezone",
    "vertical",
    "description",
];

/// Sets the fields of `body` that `allowed` names; a malformed value is a
/// 400, an unknown property is ignored.
fn apply(path: &str, publisher: &mut Publisher, body: &Map<String, Value>, allowed: &[&str]) -> Result<bool, Response> {
    let before = publisher.clone();
    for (name, value) in body {
        if !allowed.contains(&name.as_str()) {
            continue;
        }
        let value_text = text(body, name);
        let optional = || value_text.clone().filter(|value| !value.is_empty());
        match name.as_str() {
            "account_name" => match value_text.filter(|value| !value.trim().is_empty()) {
                Some(value) => publisher.account_name = value,
                None => return Err(vendor::bad_request(path, name, "invalid_value", "account_name cannot be empty")),
            },
            "contact_email" => match value_text {
                Some(email) if people::is_valid_email(&email) => publisher.contact_email = Some(email),
                _ => {
                    return Err(vendor::bad_request(
                        path,
                        name,
                        "invalid_property_format",
                        "contact_email is not an email address",
                    ));
                }
            },
            "network_status" => match value_text.filter(|status| is_status(status)) {
                Some(status) => publisher.network_status = status,
                None => {
                    return Err(vendor::bad_request(
                        path,
                        name,
                        "invalid_enum_value",
                        "network_status must be a, p, r or n",
                    ));
                }
            },
            "vertical" | "promotional_method" => match value
                .as_u64()
                .or_else(|| value_text.and_then(|t| t.parse().ok()))
            {
                Some(number) => {
                    let number = u32::try_from(number).unwrap_or(0);
                    if name == "vertical" { publisher.vertical = number } else { publisher.promotional_method = number }
                }
                None => {
                    return Err(vendor::bad_request(path, name, "invalid_type", format!("{name} must be an integer")));
                }
            },
            "default_currency" => {
                match value_text.filter(|code| matches!(code.as_str(), "GBP" | "USD" | "EUR" | "JPY")) {
                    Some(code) => publisher.default_currency = Some(code),
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
            "signup_ip" => publisher.signup_ip = value_text.unwrap_or_default(),
            "entity_terms_id" => publisher.entity_terms_id = optional(),
            "company_name" => publisher.company_name = optional(),
            "contact_name" => publisher.contact_name = optional(),
            "contact_locale" => publisher.contact_locale = optional(),
            "operating_country" => publisher.operating_country = optional(),
            "reporting_timezone" => publisher.reporting_timezone = optional(),
            "phone" => publisher.phone = optional(),
            "reporting_identifier" => publisher.reporting_identifier = optional(),
            "foreign_identifier" => publisher.foreign_identifier = optional(),
            "network_notes" => publisher.network_notes = optional(),
            _ => {}
        }
    }
    Ok(*publisher != before)
}

/// `GET /user/publisher/{publisher_id}`.
pub async fn get_one(State(account): State<Account>, Path(publisher_id): Path<String>, uri: Uri) -> Response {
    let store = account.settled();
    match store.publisher(&publisher_id) {
        Some(publisher) => envelope::v1_one(StatusCode::OK, "publisher", publisher.to_v1(&store.network_id)),
        None => vendor::not_found(uri.path(), "The partner"),
    }
}

/// `POST /user/publisher/{publisher_id}`: changes the fields given; the
/// partner's `last_modified` moves only when something changed.
pub async fn update(
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
    let mut store = account.settled();
    let network_id = store.network_id.clone();
    let Some(publisher) = store.publishers.iter_mut().find(|publisher| publisher.publisher_id == publisher_id) else {
        return vendor::not_found(path, "The partner");
    };
    let mut changed = publisher.clone();
    match apply(path, &mut changed, &body, UPDATE_FIELDS) {
        Err(refused) => refused,
        Ok(true) => {
            changed.last_modified = chrono::Utc::now();
            *publisher = changed;
            updated(publisher.to_v1(&network_id))
        }
        Ok(false) => updated(publisher.to_v1(&network_id)),
    }
}

fn updated(publisher: Value) -> Response {
    Json(json!({
        "execution_time": envelope::EXECUTION_TIME,
        "status": {"status": "Updated", "message": "Publisher successfully updated"},
        "publisher": publisher,
    }))
    .into_response()
}

/// `GET /user/publisher/{publisher_id}/payment_detail`.
pub async fn payment_details(State(account): State<Account>, Path(publisher_id): Path<String>, uri: Uri) -> Response {
    let store = account.settled();
    if store.publisher(&publisher_id).is_none() {
        return vendor::not_found(uri.path(), "The partner");
    }
    let sets: Vec<Value> = store
        .payment_details
        .iter()
        .filter(|set| set.publisher_id == publisher_id)
        .map(|set| json!({"payment_detail": set.to_json()}))
        .collect();
    Json(json!({"execution_time": envelope::EXECUTION_TIME, "count": sets.len(), "payment_details": sets}))
        .into_response()
}

/// `POST /user/publisher/{publisher_id}/payment_detail`: a new set, or the
/// set `publisher_payment_detail_set_id` names changed.
pub async fn set_payment_detail(
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
    let Some(code) = text(&body, "payment_type_code").filter(|code| !code.is_empty()) else {
        return vendor::bad_request(path, "payment_type_code", "required_property", "payment_type_code is required");
    };
    let values: std::collections::BTreeMap<String, String> = match body.get("payment_detail_values") {
        None | Some(Value::Null) => Default::default(),
        Some(Value::Object(values)) => {
            values.iter().filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_owned()))).collect()
        }
        Some(_) => {
            return vendor::bad_request(
                path,
                "payment_detail_values",
                "invalid_type",
                "payment_detail_values must be an object",
            );
        }
    };
    if let Some(currency) = text(&body, "paid_currency")
        && !matches!(currency.as_str(), "GBP" | "USD" | "EUR" | "JPY")
    {
        return vendor::bad_request(
            path,
            "paid_currency",
            "invalid_enum_value",
            "paid_currency must be GBP, USD, EUR or JPY",
        );
    }
    let mut store = account.settled();
    if store.publisher(&publisher_id).is_none() {
        return vendor::not_found(path, "The partner");
    }
    let set_id = match text(&body, "publisher_payment_detail_set_id") {
        Some(set_id) => {
            if !store.payment_details.iter().any(|set| set.set_id == set_id && set.publisher_id == publisher_id) {
                return vendor::not_found(path, "The payment detail set");
            }
            set_id
        }
        None => store.next_id("payment_detail", "111", 500),
    };
    let set = PaymentDetail {
        set_id: set_id.clone(),
        publisher_id: publisher_id.clone(),
        country: text(&body, "country"),
        paid_currency: text(&body, "paid_currency"),
        payment_type_code: code,
        suspended: text(&body, "suspended").unwrap_or_else(|| "n".into()),
        values,
    };
    let json = set.to_json();
    match store.payment_details.iter_mut().find(|existing| existing.set_id == set_id) {
        Some(existing) => *existing = set,
        None => store.payment_details.push(set),
    }
    envelope::v1_one(StatusCode::OK, "payment_detail", json)
}

/// `GET /user/publisher/{publisher_id}/commission_group`.
pub async fn commission_groups(State(account): State<Account>, Path(publisher_id): Path<String>, uri: Uri) -> Response {
    let store = account.settled();
    if store.publisher(&publisher_id).is_none() {
        return vendor::not_found(uri.path(), "The partner");
    }
    let groups: Vec<Value> = store
        .commission_groups
        .iter()
        .filter(|group| group.publishers.contains(&publisher_id))
        .map(|group| json!({"commission_group": group.to_json()}))
        .collect();
    Json(json!({"execution_time": envelope::EXECUTION_TIME, "commission_groups": groups})).into_response()
}

/// `GET /user/publisher/{publisher_id}/selfbill`, paged.
pub async fn selfbills(State(account): State<Account>, Path(publisher_id): Path<String>, uri: Uri) -> Response {
    let page = match envelope::page(&uri, PAGING) {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    let store = account.settled();
    if store.publisher(&publisher_id).is_none() {
        return vendor::not_found(uri.path(), "The partner");
    }
    let params = Params::from_uri(&uri);
    let bills: Vec<Value> = store
        .selfbills
        .iter()
        .filter(|bill| bill.publisher_id == publisher_id)
        .filter(|bill| params.get("status").is_none_or(|status| bill.status == status))
        .map(crate::model::SelfBill::to_json)
        .collect();
    let (items, total) = envelope::slice(&bills, page);
    envelope::v1_list(&uri, page, total, "selfbills", "selfbill", items)
}
