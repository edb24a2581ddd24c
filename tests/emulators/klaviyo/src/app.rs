//! What every handler shares: the [`App`] state, the request's
//! [`Revision`], and JSON:API documents in and out (cursor pages, sparse
//! fieldsets, `data` checks).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use chrono::NaiveDate;
use cutover_emulator_kit::error_body::jsonapi::document;
use cutover_emulator_kit::paging::{self, Cursor, cursor_links};
use cutover_emulator_kit::query::Params;
use serde_json::{Map, Value, json};

use crate::errors::KlError;
use crate::filter::{self, Condition};
use crate::state::KlaviyoState;

/// Bulk import payload cap.
pub(crate) const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;

/// The handlers' state.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) state: KlaviyoState,
    /// The base URL links start with.
    pub(crate) base: String,
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

/// The request's cursor (`page[cursor]`), or the start.
pub(crate) fn cursor(params: &Params) -> Result<Cursor, KlError> {
    Cursor::from_params(params).map_err(|_| KlError::invalid_parameter("Invalid page cursor.", "page[cursor]"))
}

/// The request's `page[size]`, from 1 to `max`.
pub(crate) fn page_size(params: &Params, default: usize, max: usize) -> Result<usize, KlError> {
    paging::page_size(params, default, max).ok_or_else(|| {
        KlError::invalid_parameter(format!("Page size must be an integer between 1 and {max}."), "page[size]")
    })
}

/// A collection document with absolute `self`/`next`/`prev` links.
pub(crate) fn collection(
    app: &App,
    uri: &Uri,
    data: Vec<Value>,
    next: Option<Cursor>,
    included: Option<Vec<Value>>,
) -> Response {
    let mut body = json!({"data": data, "links": cursor_links(&app.base, uri, next.as_ref())});
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

/// The request's `filter`, parsed.
pub(crate) fn conditions(params: &Params) -> Result<Vec<Condition>, KlError> {
    params.get("filter").map_or(Ok(Vec::new()), filter::parse)
}
