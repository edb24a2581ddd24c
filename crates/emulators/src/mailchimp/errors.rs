//! Problem-details errors (`application/problem+json`) in Mailchimp's shape.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const ERROR_DOCS: &str = "https://mailchimp.com/developer/marketing/docs/errors/";
const DESCRIBED_BY: &str =
    "<https://us21.api.mailchimp.com/schema/3.0/ProblemDetailDocument.json>; rel=\"describedBy\"";

/// One field-level validation failure in `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) field: String,
    pub(crate) message: String,
}

/// An error answer, named after Mailchimp's error glossary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum McError {
    ApiKeyMissing,
    ApiKeyInvalid,
    ResourceNotFound,
    BadRequest(String),
    JsonParse,
    InvalidResource { detail: String, errors: Vec<FieldError> },
    MemberExists(String),
    ComplianceState(String),
    ForgottenEmail(String),
    MethodNotAllowed,
}

pub(crate) const VALIDATION_DETAIL: &str =
    "The resource submitted could not be validated. For field-specific details, see the 'errors' array.";

impl McError {
    pub(crate) fn invalid_fields(errors: Vec<FieldError>) -> Self {
        McError::InvalidResource { detail: VALIDATION_DETAIL.to_owned(), errors }
    }

    pub(crate) fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        McError::invalid_fields(vec![FieldError { field: field.to_owned(), message: message.into() }])
    }

    pub(crate) fn fake_email(email: &str) -> Self {
        McError::InvalidResource { detail: fake_email_detail(email), errors: Vec::new() }
    }

    /// Status, glossary title and detail.
    pub(crate) fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            McError::ApiKeyMissing => (
                StatusCode::UNAUTHORIZED,
                "API Key Missing",
                "Your request did not include an API key.".to_owned(),
            ),
            McError::ApiKeyInvalid => (
                StatusCode::UNAUTHORIZED,
                "API Key Invalid",
                "Your API key may be invalid, or you've attempted to access the wrong datacenter."
                    .to_owned(),
            ),
            McError::ResourceNotFound => (
                StatusCode::NOT_FOUND,
                "Resource Not Found",
                "The requested resource could not be found.".to_owned(),
            ),
            McError::BadRequest(detail) => (StatusCode::BAD_REQUEST, "Bad Request", detail.clone()),
            McError::JsonParse => (
                StatusCode::BAD_REQUEST,
                "JSON Parse Error",
                "We encountered an unspecified JSON parsing error.".to_owned(),
            ),
            McError::InvalidResource { detail, .. } => {
                (StatusCode::BAD_REQUEST, "Invalid Resource", detail.clone())
            }
            McError::MemberExists(email) => (
                StatusCode::BAD_REQUEST,
                "Member Exists",
                format!(
                    "{email} is already a list member. Use PUT to insert or update list members."
                ),
            ),
            McError::ComplianceState(email) => (
                StatusCode::BAD_REQUEST,
                "Member In Compliance State",
                compliance_detail(email),
            ),
            McError::ForgottenEmail(email) => (
                StatusCode::BAD_REQUEST,
                "Forgotten Email Not Subscribed",
                forgotten_detail(email),
            ),
            McError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "Method Not Allowed",
                "The requested method and resource are not compatible. See the Allow header for this resource's available methods."
                    .to_owned(),
            ),
        }
    }
}

pub(crate) fn fake_email_detail(email: &str) -> String {
    format!("{email} looks fake or invalid, please enter a real email address.")
}

pub(crate) fn compliance_detail(email: &str) -> String {
    format!(
        "{email} is in a compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed."
    )
}

pub(crate) fn forgotten_detail(email: &str) -> String {
    format!(
        "{email} was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list."
    )
}

impl IntoResponse for McError {
    fn into_response(self) -> Response {
        let (status, title, detail) = self.parts();
        let errors = match &self {
            McError::InvalidResource { errors, .. } if !errors.is_empty() => Some(errors),
            _ => None,
        };
        let mut body = json!({
            "type": ERROR_DOCS,
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
            "instance": request_id(),
        });
        if let (Some(errors), Some(object)) = (errors, body.as_object_mut()) {
            let errors: Vec<Value> =
                errors.iter().map(|error| json!({"field": error.field, "message": error.message})).collect();
            object.insert("errors".to_owned(), Value::Array(errors));
        }
        problem(status, &body)
    }
}

fn problem(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json; charset=utf-8"));
    headers.insert(header::LINK, HeaderValue::from_static(DESCRIBED_BY));
    if let Some(instance) = body.get("instance").and_then(Value::as_str)
        && let Ok(value) = HeaderValue::from_str(instance)
    {
        headers.insert("x-request-id", value);
    }
    response
}

/// A UUID-shaped request id; unique per process, not random, so answers stay
/// reproducible.
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let sequence = NEXT.fetch_add(1, Ordering::Relaxed);
    let mixed = crate::emails::mix(sequence, 0x9e37_79b9_7f4a_7c15);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        mixed >> 32,
        (mixed >> 16) & 0xffff,
        mixed & 0xfff,
        (sequence >> 12) & 0xfff,
        sequence & 0xffff_ffff_ffff
    )
}

/// The answer to a request over the connection cap (`TooManyRequests`).
pub(crate) fn too_many_connections() -> Response {
    let body = json!({
        "type": ERROR_DOCS,
        "title": "Too Many Requests",
        "status": 429,
        "detail": "You have exceeded the limit of 10 simultaneous connections.",
        "instance": request_id(),
    });
    problem(StatusCode::TOO_MANY_REQUESTS, &body)
}

/// An injected server error (500 `InternalServerError`, or a 503).
pub(crate) fn server_error(status: u16) -> Response {
    let (status, title) = match status {
        503 => (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    };
    let body = json!({
        "type": ERROR_DOCS,
        "title": title,
        "status": status.as_u16(),
        "detail": "An unexpected internal error has occurred. Please contact Support for more information.",
        "instance": request_id(),
    });
    problem(status, &body)
}
