//! JSON:API `errors[]` answers in Klaviyo's shape, on the kit's
//! [`jsonapi`] error objects.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cutover_emulator_kit::error_body::RequestIds;
use cutover_emulator_kit::error_body::jsonapi::{self, ErrorObject};
use serde_json::{Value, json};

pub(crate) use cutover_emulator_kit::error_body::jsonapi::Source;

const RATE_LIMIT_DOCS: &str = "https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling#rate-limits";

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
        let id = ERROR_IDS.next_id();
        ErrorObject {
            id: &id,
            status: self.status.as_u16(),
            code: self.code,
            title: self.title,
            detail: &self.detail,
            source: self.source.as_deref(),
            links: None,
            meta: Some(&self.meta),
        }
        .to_json()
    }
}

impl IntoResponse for KlError {
    fn into_response(self) -> Response {
        jsonapi::errors(self.status, vec![self.to_json()])
    }
}

/// UUID-shaped error ids, unique per process and reproducible.
static ERROR_IDS: RequestIds = RequestIds::new(0x6b6c_6176_6979_6f00);

/// The 429 answer: the captured body, `Retry-After`, no `RateLimit-*`.
pub(crate) fn throttled(retry_after_seconds: u64) -> Response {
    let unit = if retry_after_seconds == 1 { "second" } else { "seconds" };
    let id = ERROR_IDS.next_id();
    let detail = format!("Request was throttled. Expected available in {retry_after_seconds} {unit}.");
    let item = ErrorObject {
        id: &id,
        status: 429,
        code: "throttled",
        title: "Request was throttled.",
        detail: &detail,
        source: Some(&Source::Pointer("/data".to_owned())),
        links: Some(&json!({"type": RATE_LIMIT_DOCS})),
        meta: None,
    };
    let mut response = jsonapi::errors(StatusCode::TOO_MANY_REQUESTS, vec![item.to_json()]);
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
