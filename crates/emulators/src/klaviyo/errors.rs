//! JSON:API `errors[]` answers in Klaviyo's shape.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::emails::mix;

pub(crate) const CONTENT_TYPE: &str = "application/vnd.api+json";
const RATE_LIMIT_DOCS: &str = "https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling#rate-limits";

/// Where an error points: a body member or a query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Pointer(String),
    Parameter(String),
}

/// One error answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KlError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) title: &'static str,
    pub(crate) detail: String,
    /// Boxed to keep `Result<_, KlError>` small.
    pub(crate) source: Option<Box<Source>>,
    pub(crate) meta: Value,
}

impl KlError {
    fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        KlError { status, code, title, detail: detail.into(), source: None, meta: json!({}) }
    }

    /// 400 `invalid` pointing at a body member.
    pub(crate) fn invalid(detail: impl Into<String>, pointer: impl Into<String>) -> Self {
        KlError {
            source: Some(Box::new(Source::Pointer(pointer.into()))),
            ..KlError::new(StatusCode::BAD_REQUEST, "invalid", "Invalid input.", detail)
        }
    }

    /// 400 `invalid` naming a query parameter (or header).
    pub(crate) fn invalid_parameter(detail: impl Into<String>, parameter: impl Into<String>) -> Self {
        KlError {
            source: Some(Box::new(Source::Parameter(parameter.into()))),
            ..KlError::new(StatusCode::BAD_REQUEST, "invalid", "Invalid input.", detail)
        }
    }

    pub(crate) fn not_authenticated() -> Self {
        KlError::new(
            StatusCode::UNAUTHORIZED,
            "not_authenticated",
            "Authentication credentials were not provided.",
            "Missing or invalid authorization scheme. Please use Klaviyo-API-Key.",
        )
    }

    pub(crate) fn authentication_failed() -> Self {
        KlError::new(
            StatusCode::UNAUTHORIZED,
            "authentication_failed",
            "Incorrect authentication credentials.",
            "Incorrect authentication credentials.",
        )
    }

    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        KlError::new(StatusCode::NOT_FOUND, "not_found", "Not found.", detail)
    }

    pub(crate) fn method_not_allowed() -> Self {
        KlError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed.",
            "The method is not allowed on this resource.",
        )
    }

    pub(crate) fn duplicate_profile(existing_id: &str) -> Self {
        KlError {
            source: Some(Box::new(Source::Pointer("/data/attributes".to_owned()))),
            meta: json!({"duplicate_profile_id": existing_id}),
            ..KlError::new(
                StatusCode::CONFLICT,
                "duplicate_profile",
                "Conflict.",
                "A profile already exists with one of these identifiers.",
            )
        }
    }

    pub(crate) fn payload_too_large(detail: impl Into<String>) -> Self {
        KlError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Payload too large.", detail)
    }

    /// The item for `errors[]`.
    pub(crate) fn to_json(&self) -> Value {
        let mut item = json!({
            "id": error_id(),
            "status": self.status.as_u16(),
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
            "links": {},
            "meta": self.meta,
        });
        if let (Some(source), Some(object)) = (&self.source, item.as_object_mut()) {
            let source = match &**source {
                Source::Pointer(pointer) => json!({"pointer": pointer}),
                Source::Parameter(parameter) => json!({"parameter": parameter}),
            };
            object.insert("source".to_owned(), source);
        }
        item
    }
}

impl IntoResponse for KlError {
    fn into_response(self) -> Response {
        let body = json!({"errors": [self.to_json()]});
        document(self.status, &body)
    }
}

/// A JSON:API document answer.
pub(crate) fn document(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// A UUID-shaped error id, unique per process and reproducible.
fn error_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let sequence = NEXT.fetch_add(1, Ordering::Relaxed);
    let mixed = mix(sequence, 0x6b6c_6176_6979_6f00);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        mixed >> 32,
        (mixed >> 16) & 0xffff,
        mixed & 0xfff,
        (sequence >> 12) & 0xfff,
        sequence & 0xffff_ffff_ffff
    )
}

/// The 429 answer: the captured body, `Retry-After`, no `RateLimit-*`.
pub(crate) fn throttled(retry_after_seconds: u64) -> Response {
    let unit = if retry_after_seconds == 1 { "second" } else { "seconds" };
    let body = json!({"errors": [{
        "id": error_id(),
        "status": 429,
        "code": "throttled",
        "title": "Request was throttled.",
        "detail": format!("Request was throttled. Expected available in {retry_after_seconds} {unit}."),
        "source": {"pointer": "/data"},
        "links": {"type": RATE_LIMIT_DOCS},
        "meta": {},
    }]});
    let mut response = document(StatusCode::TOO_MANY_REQUESTS, &body);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
    response
}

/// An injected server error.
pub(crate) fn server_error(status: u16) -> Response {
    let error = match status {
        503 => KlError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "Service unavailable.",
            "The service is temporarily unavailable. Please try again later.",
        ),
        _ => KlError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error",
            "A server error occurred.",
            "A server error occurred.",
        ),
    };
    error.into_response()
}
