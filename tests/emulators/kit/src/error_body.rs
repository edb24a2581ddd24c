//! Error bodies: the [`ErrorBody`] trait a vendor implements so the kit can
//! answer in the vendor's shape before its routes run (auth failures,
//! throttling, injected server errors), and the two common shapes ready to
//! render: RFC 7807 problem details ([`problem`], Mailchimp's
//! `{type,title,status,detail,instance}`) and JSON:API `errors[]`
//! ([`jsonapi`], Klaviyo's `{errors:[{id,status,code,title,detail,source}]}`).
//! Error ids come from [`RequestIds`]: UUID-shaped, unique per process and
//! reproducible, so answers stay comparable between runs.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::response::Response;

use crate::seed::mix;

/// Why a request was refused by [`crate::auth::require_key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header, a scheme not accepted, undecodable
    /// credentials, or an empty key.
    Missing,
    /// A key, but not the emulator's.
    Invalid,
}

/// The answers a vendor gives that the kit sends on its behalf. Each is a
/// complete response: status, headers and body in the vendor's shape.
pub trait ErrorBody: Send + Sync + 'static {
    /// No usable key ([`AuthFailure::Missing`]) or the wrong one
    /// ([`AuthFailure::Invalid`]); sent by [`crate::auth::require_key`].
    fn unauthorized(failure: AuthFailure) -> Response;

    /// A 429. `retry_after` is the wait to announce (`Retry-After`) when
    /// there is one: a rate-limit window's rest
    /// ([`crate::ratelimit::limit_windows`]) or
    /// [`crate::FaultConfig::retry_after_secs`]; `None` for the concurrency
    /// cap and injected 429s, where the vendor says what it says.
    fn too_many_requests(retry_after: Option<u64>) -> Response;

    /// An injected server error: `status` is 500 or 503.
    fn server_error(status: u16) -> Response;

    /// [`ErrorBody::too_many_requests`] for a request to `path`, for a
    /// vendor whose error shape depends on where the request went
    /// (Partnerize's v1, v2 and v3 each have their own 429 body). The kit
    /// calls this one for the answers it gives before the vendor's routes
    /// (injected 429s, the concurrency cap, the absurd `Retry-After`); the
    /// default is the path-blind answer.
    fn too_many_requests_at(path: &str, retry_after: Option<u64>) -> Response {
        let _ = path;
        Self::too_many_requests(retry_after)
    }

    /// [`ErrorBody::server_error`] for a request to `path`; see
    /// [`ErrorBody::too_many_requests_at`].
    fn server_error_at(path: &str, status: u16) -> Response {
        let _ = path;
        Self::server_error(status)
    }
}

/// UUID-shaped ids (`xxxxxxxx-xxxx-4xxx-axxx-xxxxxxxxxxxx`) from a counter
/// mixed with a vendor's salt: unique per process, not random. Keep one in
/// a `static` per vendor.
#[derive(Debug)]
pub struct RequestIds {
    next: AtomicU64,
    salt: u64,
}

impl RequestIds {
    /// A sequence starting at 1, mixed with `salt`.
    pub const fn new(salt: u64) -> Self {
        RequestIds { next: AtomicU64::new(1), salt }
    }

    /// The next id.
    pub fn next_id(&self) -> String {
        let sequence = self.next.fetch_add(1, Ordering::Relaxed);
        let mixed = mix(sequence, self.salt);
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            mixed >> 32,
            (mixed >> 16) & 0xffff,
            mixed & 0xfff,
            (sequence >> 12) & 0xfff,
            sequence & 0xffff_ffff_ffff
        )
    }
}

/// RFC 7807 problem details (`application/problem+json`).
pub mod problem {
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use serde_json::{Value, json};

    /// The content type of a problem document.
    pub const CONTENT_TYPE: &str = "application/problem+json; charset=utf-8";

    /// One problem document.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Problem<'a> {
        /// `type`: a URI naming the kind of problem (a docs page).
        pub kind: &'a str,
        /// `title`: short, the same for every problem of the kind.
        pub title: &'a str,
        /// `status`: the HTTP status.
        pub status: StatusCode,
        /// `detail`: this occurrence, for people.
        pub detail: &'a str,
        /// `instance`: this occurrence's id (also sent as `X-Request-Id`).
        pub instance: &'a str,
    }

    impl Problem<'_> {
        /// `{type, title, status, detail, instance}`; a vendor may add members.
        pub fn to_json(&self) -> Value {
            json!({
                "type": self.kind,
                "title": self.title,
                "status": self.status.as_u16(),
                "detail": self.detail,
                "instance": self.instance,
            })
        }
    }

    /// `body` with `status`, the problem content type and `X-Request-Id` set
    /// to its `instance`.
    pub fn response(status: StatusCode, body: &Value) -> Response {
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(instance) = body.get("instance").and_then(Value::as_str)
            && let Ok(value) = HeaderValue::from_str(instance)
        {
            headers.insert("x-request-id", value);
        }
        response
    }
}

/// JSON:API documents and their `errors[]`.
pub mod jsonapi {
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use serde_json::{Value, json};

    /// The JSON:API media type.
    pub const CONTENT_TYPE: &str = "application/vnd.api+json";

    /// Where an error points: a body member or a query parameter (or header).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Source {
        /// `source.pointer`: a JSON pointer into the request body.
        Pointer(String),
        /// `source.parameter`: a query parameter or header name.
        Parameter(String),
    }

    impl Source {
        /// `{"pointer": …}` or `{"parameter": …}`.
        pub fn to_json(&self) -> Value {
            match self {
                Source::Pointer(pointer) => json!({"pointer": pointer}),
                Source::Parameter(parameter) => json!({"parameter": parameter}),
            }
        }
    }

    /// One item of `errors[]`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ErrorObject<'a> {
        /// `id`, from a [`super::RequestIds`].
        pub id: &'a str,
        /// `status`, as a number.
        pub status: u16,
        /// `code`: machine-readable.
        pub code: &'a str,
        /// `title`: the same for every error of the code.
        pub title: &'a str,
        /// `detail`: this occurrence.
        pub detail: &'a str,
        /// `source`, left out when `None`.
        pub source: Option<&'a Source>,
        /// `links`; `{}` when `None`.
        pub links: Option<&'a Value>,
        /// `meta`; `{}` when `None`.
        pub meta: Option<&'a Value>,
    }

    impl ErrorObject<'_> {
        /// The item as JSON.
        pub fn to_json(&self) -> Value {
            let mut item = json!({
                "id": self.id,
                "status": self.status,
                "code": self.code,
                "title": self.title,
                "detail": self.detail,
                "links": self.links.cloned().unwrap_or_else(|| json!({})),
                "meta": self.meta.cloned().unwrap_or_else(|| json!({})),
            });
            if let (Some(source), Some(object)) = (self.source, item.as_object_mut()) {
                object.insert("source".to_owned(), source.to_json());
            }
            item
        }
    }

    /// A document answer: `body` with `status` and the JSON:API content type.
    pub fn document(status: StatusCode, body: &Value) -> Response {
        let mut response = (status, body.to_string()).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        response
    }

    /// `{"errors": [items]}` with `status`.
    pub fn errors(status: StatusCode, items: Vec<Value>) -> Response {
        document(status, &json!({"errors": items}))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::jsonapi::{ErrorObject, Source};
    use super::*;

    #[test]
    fn request_ids_are_uuid_shaped_and_unique() {
        let ids = RequestIds::new(7);
        let first = ids.next_id();
        let second = ids.next_id();
        assert_ne!(first, second);
        assert_eq!(first.len(), 36);
        assert_eq!(first.as_bytes()[14], b'4');
        assert_eq!(first.as_bytes()[19], b'a');
        assert_eq!(RequestIds::new(7).next_id(), first, "the same salt gives the same sequence");
    }

    #[test]
    fn an_error_object_has_every_member() {
        let source = Source::Parameter("page[size]".to_owned());
        let item = ErrorObject {
            id: "i",
            status: 400,
            code: "invalid",
            title: "Invalid input.",
            detail: "d",
            source: Some(&source),
            links: None,
            meta: None,
        };
        assert_eq!(
            item.to_json(),
            json!({"id": "i", "status": 400, "code": "invalid", "title": "Invalid input.", "detail": "d",
                   "links": {}, "meta": {}, "source": {"parameter": "page[size]"}})
        );
    }
}
