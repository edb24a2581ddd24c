//! What the kit knows of Scaleo: its name, which page a request asks for,
//! and its answers in Scaleo's envelope; and the envelope itself, which
//! every answer, success or error, is wrapped in:
//! `{"status", "code", "name", "message", "info"}`, with `info` left out
//! when there is nothing to carry.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cutover_emulator_kit::query::Params;
use cutover_emulator_kit::{AuthFailure, ErrorBody, Vendor};
use serde_json::{Map, Value, json};

/// The vendor, for the kit.
#[derive(Debug)]
pub struct Scaleo;

impl Vendor for Scaleo {
    const NAME: &'static str = "scaleo";

    /// Yii2's `page` (1-based) as the kit's 0-based page index, on every
    /// request that names one (lists are `GET`s, reports `POST`s).
    fn page_index(uri: &Uri) -> Option<u64> {
        let page = Params::from_uri(uri).get("page")?.parse::<u64>().ok()?;
        Some(page.saturating_sub(1))
    }
}

impl ErrorBody for Scaleo {
    fn unauthorized(failure: AuthFailure) -> Response {
        let message = match failure {
            AuthFailure::Missing => "Your request was made without an api-key.",
            AuthFailure::Invalid => "Your request was made with invalid credentials.",
        };
        ApiError::new(StatusCode::UNAUTHORIZED, message).into_response()
    }

    fn too_many_requests(retry_after: Option<u64>) -> Response {
        let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded.").into_response();
        response.headers_mut().insert("retry-after", HeaderValue::from(retry_after.unwrap_or(1)));
        response
    }

    fn server_error(status: u16) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = if status == StatusCode::SERVICE_UNAVAILABLE {
            "The service is temporarily unavailable."
        } else {
            "An internal server error occurred."
        };
        ApiError::new(status, message).into_response()
    }
}

/// The envelope around `info` with `status`'s code and name.
fn envelope(status: StatusCode, message: &str, info: Option<Value>) -> Value {
    let mut body = json!({
        "status": if status.is_success() { "success" } else { "error" },
        "code": status.as_u16(),
        "name": status.canonical_reason().unwrap_or("Unknown"),
        "message": message,
    });
    if let (Some(info), Some(object)) = (info, body.as_object_mut()) {
        object.insert("info".into(), info);
    }
    body
}

/// A success: `info` with `status`.
pub(crate) fn success(status: StatusCode, message: &str, info: Value) -> Response {
    (status, Json(envelope(status, message, Some(info)))).into_response()
}

/// `{"<key>": value}` as `info`, 200.
pub(crate) fn ok(message: &str, key: &str, value: Value) -> Response {
    let mut info = Map::new();
    info.insert(key.to_owned(), value);
    success(StatusCode::OK, message, Value::Object(info))
}

/// An error answer: status, message, and for a 422 the fields refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    /// `info.errors`: field → messages (422 only).
    pub(crate) errors: BTreeMap<String, Vec<String>>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), errors: BTreeMap::new() }
    }

    /// 400: invalid JSON, an unknown parameter, a malformed request.
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 for a resource not found or not visible.
    pub(crate) fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, format!("{what} not found."))
    }

    /// 422 with the fields refused.
    pub(crate) fn validation(errors: BTreeMap<String, Vec<String>>) -> ApiError {
        ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, message: "Validation error".into(), errors }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let info = (!self.errors.is_empty()).then(|| json!({"errors": self.errors}));
        (self.status, Json(envelope(self.status, &self.message, info))).into_response()
    }
}

/// Fields refused by a write, collected before answering one 422.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors(pub(crate) BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_owned()).or_default().push(message.into());
    }

    pub(crate) fn into_result(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::validation(self.0)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_mirrors_the_status() {
        let body = envelope(StatusCode::OK, "Affiliates List", Some(json!({"affiliates": []})));
        assert_eq!(
            body,
            json!({"status": "success", "code": 200, "name": "OK", "message": "Affiliates List",
                   "info": {"affiliates": []}})
        );
        let body = envelope(StatusCode::UNPROCESSABLE_ENTITY, "Validation error", None);
        assert_eq!(body["status"], "error");
        assert_eq!(body["name"], "Unprocessable Entity");
        assert!(body.get("info").is_none(), "no info without a payload");
    }

    #[test]
    fn pages_are_counted_from_zero_for_the_kit() {
        let uri = |text: &str| text.parse::<Uri>().unwrap_or_default();
        assert_eq!(Scaleo::page_index(&uri("/api/v2/network/affiliates?page=3&perPage=10")), Some(2));
        assert_eq!(Scaleo::page_index(&uri("/api/v2/network/affiliates")), None);
    }
}
