//! Partnerize as the kit sees it: its name, its paging (`offset` +
//! `limit`), and its error bodies, which differ by URL generation:
//!
//! - v1 `{"error": {"message", "type"}}` (a validation failure adds
//!   `fields`: property → message);
//! - v2 `{"error": {"errors": [{property, type, code, message}], "code": "400", "message": "Bad Request"}}`
//!   with codes such as `invalid_property`, `required_property`,
//!   `entity_not_found`, `unauthorized`;
//! - v3 the v2 shape with UUID codes (`2572f7f9-…` missing value,
//!   `39b4b7c2-…` bad credentials, `3b22ff00-…` too many requests).

use axum::Json;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cutover_emulator_kit::paging::OffsetCount;
use cutover_emulator_kit::{AuthFailure, ErrorBody, Vendor};
use serde_json::{Value, json};

/// The vendor.
pub struct PartnerizeApi;

/// Collections: `offset` + `limit` (default 100, at most 500) [NC: the
/// reference says the maximum is "defined in result set headers"].
pub const PAGING: OffsetCount = OffsetCount { default_count: 100, max_count: 500 };

/// Reports: 300 rows a page by default, and at most (cursor mode says so).
pub const REPORT_PAGING: OffsetCount = OffsetCount { default_count: 300, max_count: 300 };

impl Vendor for PartnerizeApi {
    const NAME: &'static str = "partnerize";

    fn page_index(uri: &Uri) -> Option<u64> {
        let paging = if uri.path().starts_with("/reporting/") { REPORT_PAGING } else { PAGING };
        paging.page_index_with(uri, "limit")
    }
}

/// Which URL generation a path belongs to: each has its own error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// No version segment (`/network/...`, `/campaign/...`).
    V1,
    /// `/v2/...`.
    V2,
    /// `/v3/...`.
    V3,
}

impl Generation {
    /// The generation of `path`.
    pub fn of(path: &str) -> Generation {
        if path.starts_with("/v3/") {
            Generation::V3
        } else if path.starts_with("/v2/") {
            Generation::V2
        } else {
            Generation::V1
        }
    }
}

/// One thing wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The body property or parameter concerned (`""` for none).
    pub property: String,
    /// The v2 type (`invalid_property`, `required_property`, …).
    pub kind: &'static str,
    /// For people.
    pub message: String,
}

impl Problem {
    /// A problem with `property`.
    pub fn new(property: impl Into<String>, kind: &'static str, message: impl Into<String>) -> Problem {
        Problem { property: property.into(), kind, message: message.into() }
    }
}

/// The v3 UUID code of a kind of problem. The reference gives the first
/// four; the others are this emulator's \[NC\].
fn v3_code(kind: &str) -> &'static str {
    match kind {
        "required_property" => "2572f7f9-e87e-4aa7-98cf-6f53c9ed5584",
        "unauthorised" | "unauthorized" => "39b4b7c2-e5b9-41b1-83d4-db3b23b5ebfa",
        "terms_not_acknowledged" => "f0b71be3-c8be-4ff2-893e-2bc7f7a18156",
        "too_many_requests" => "3b22ff00-96a5-4fa4-96cc-f36e68dbd2e2",
        "entity_not_found" | "routing_error" => "0d528fb3-5a0c-4e4b-8d2b-6a3f0e9d1c42",
        "method_not_allowed" => "5fe5c44b-1d6e-4b8f-a9a4-2c3d4e5f6a7b",
        "server_error" => "a72717b1-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        "invalid_property" => "8e1b5c0a-7f2d-4c3e-9a6b-1d0e2f3a4b5c",
        _ => "c1a0e6d2-4b3f-4e8a-9d7c-6b5a4f3e2d1c",
    }
}

fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

/// The error answer of `generation` with `status` and `problems`.
pub fn error(generation: Generation, status: StatusCode, problems: Vec<Problem>) -> Response {
    let body = match generation {
        Generation::V1 => {
            let message = problems.first().map_or_else(|| reason(status).to_owned(), |problem| problem.message.clone());
            let mut error = json!({"message": message, "type": status.as_u16().to_string()});
            if status == StatusCode::BAD_REQUEST {
                let fields: serde_json::Map<String, Value> = problems
                    .iter()
                    .filter(|problem| !problem.property.is_empty())
                    .map(|problem| (problem.property.clone(), Value::from(problem.message.clone())))
                    .collect();
                error["fields"] = Value::Object(fields);
                error["type"] = Value::from("Validation Fail");
            }
            json!({"error": error})
        }
        Generation::V2 | Generation::V3 => {
            let errors: Vec<Value> = problems
                .iter()
                .map(|problem| {
                    let code = if generation == Generation::V3 { v3_code(problem.kind) } else { problem.kind };
                    json!({"property": problem.property, "type": problem.kind, "code": code, "message": problem.message})
                })
                .collect();
            json!({"error": {"errors": errors, "code": status.as_u16().to_string(), "message": reason(status)}})
        }
    };
    (status, Json(body)).into_response()
}

/// `400` with one problem.
pub fn bad_request(path: &str, property: &str, kind: &'static str, message: impl Into<String>) -> Response {
    error(Generation::of(path), StatusCode::BAD_REQUEST, vec![Problem::new(property, kind, message)])
}

/// `404` for a resource the caller may not know exists.
pub fn not_found(path: &str, what: &str) -> Response {
    let message = format!("{what} could not be found; possibly because it does not exist");
    let kind = if Generation::of(path) == Generation::V1 { "404" } else { "entity_not_found" };
    error(Generation::of(path), StatusCode::NOT_FOUND, vec![Problem::new("", kind, message)])
}

/// `405` for a state that allows no such change.
pub fn not_allowed(path: &str, message: impl Into<String>) -> Response {
    error(Generation::of(path), StatusCode::METHOD_NOT_ALLOWED, vec![Problem::new("", "method_not_allowed", message)])
}

/// The 401 of `path`'s generation.
pub fn unauthorized_at(path: &str, failure: AuthFailure) -> Response {
    let message = match failure {
        AuthFailure::Missing => {
            "Authentication required: send the user application key and the user API key as HTTP Basic credentials"
        }
        AuthFailure::Invalid => "Invalid credentials",
    };
    let kind = match Generation::of(path) {
        Generation::V1 => "401",
        Generation::V2 => "unauthorized",
        Generation::V3 => "unauthorised",
    };
    error(Generation::of(path), StatusCode::UNAUTHORIZED, vec![Problem::new("", kind, message)])
}

/// The 429 of `path`'s generation, with `X-RateLimit-Retry-After` when a wait is known.
pub fn too_many_requests_at(path: &str, retry_after: Option<u64>) -> Response {
    let body = match Generation::of(path) {
        Generation::V1 => json!({"error": {"message": "Too Many Requests", "type": "429"}}),
        Generation::V2 => json!({"error": {"errors": [], "code": "429", "message": "Too Many Requests"}}),
        Generation::V3 => json!({"error": {"errors": [{
            "property": "", "message": "The rate limit for this application key was exceeded",
            "code": v3_code("too_many_requests"), "type": "too_many_requests"}],
            "message": "Too Many Requests", "code": "429"}}),
    };
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    if let Some(seconds) = retry_after
        && let Ok(value) = seconds.to_string().parse()
    {
        response.headers_mut().insert("x-ratelimit-retry-after", value);
    }
    response
}

/// A 500 or 503 of `path`'s generation.
pub fn server_error_at(path: &str, status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = "An unexpected error occurred, please try again";
    let kind = if Generation::of(path) == Generation::V1 { "500" } else { "server_error" };
    error(Generation::of(path), status, vec![Problem::new("", kind, message)])
}

impl ErrorBody for PartnerizeApi {
    fn unauthorized(failure: AuthFailure) -> Response {
        unauthorized_at("/", failure)
    }

    fn too_many_requests(retry_after: Option<u64>) -> Response {
        too_many_requests_at("/", retry_after)
    }

    fn server_error(status: u16) -> Response {
        server_error_at("/", status)
    }

    fn too_many_requests_at(path: &str, retry_after: Option<u64>) -> Response {
        too_many_requests_at(path, retry_after)
    }

    fn server_error_at(path: &str, status: u16) -> Response {
        server_error_at(path, status)
    }
}
