//! Problem-details errors (`application/problem+json`) in Mailchimp's shape,
//! on the kit's [`problem`] document: `{type, title, status, detail,
//! instance}`, `errors[]` for field-level failures, a `Link` to the schema
//! and the instance as `X-Request-Id`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cutover_emulator_kit::error_body::{RequestIds, problem};
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
        let mut body = problem_body(status, title, &detail);
        if let (Some(errors), Some(object)) = (errors, body.as_object_mut()) {
            let errors: Vec<Value> =
                errors.iter().map(|error| json!({"field": error.field, "message": error.message})).collect();
            object.insert("errors".to_owned(), Value::Array(errors));
        }
        problem(status, &body)
    }
}

/// `{type, title, status, detail, instance}` with a fresh instance id.
fn problem_body(status: StatusCode, title: &str, detail: &str) -> Value {
    let instance = REQUEST_IDS.next_id();
    problem::Problem { kind: ERROR_DOCS, title, status, detail, instance: &instance }.to_json()
}

fn problem(status: StatusCode, body: &Value) -> Response {
    let mut response = problem::response(status, body);
    response.headers_mut().insert(header::LINK, HeaderValue::from_static(DESCRIBED_BY));
    response
}

/// UUID-shaped request ids; unique per process, not random, so answers stay
/// reproducible.
static REQUEST_IDS: RequestIds = RequestIds::new(0x9e37_79b9_7f4a_7c15);

/// The answer to a request over the connection cap (`TooManyRequests`).
pub(crate) fn too_many_connections() -> Response {
    let body = problem_body(
        StatusCode::TOO_MANY_REQUESTS,
        "Too Many Requests",
        "You have exceeded the limit of 10 simultaneous connections.",
    );
    problem(StatusCode::TOO_MANY_REQUESTS, &body)
}

/// An injected server error (500 `InternalServerError`, or a 503).
pub(crate) fn server_error(status: u16) -> Response {
    let (status, title) = match status {
        503 => (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    };
    let body = problem_body(
        status,
        title,
        "An unexpected internal error has occurred. Please contact Support for more information.",
    );
    problem(status, &body)
}
