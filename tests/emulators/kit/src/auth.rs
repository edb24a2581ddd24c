//! Auth schemes: how a request presents the API key in its `Authorization`
//! header, and the layer that refuses a request without the right one.
//!
//! A vendor lists the [`Scheme`]s it accepts, in order, in an [`ApiKey`]
//! and puts [`require_key`] in front of its API routes:
//!
//! ```
//! # use axum::{Router, middleware, routing::get};
//! # use cutover_emulator_kit::auth::{ApiKey, Scheme, require_key};
//! # use cutover_emulator_kit::{AuthFailure, ErrorBody};
//! # use axum::response::{IntoResponse, Response};
//! # struct Acme;
//! # impl ErrorBody for Acme {
//! #     fn unauthorized(_: AuthFailure) -> Response { axum::http::StatusCode::UNAUTHORIZED.into_response() }
//! #     fn too_many_requests(_: Option<u64>) -> Response { axum::http::StatusCode::TOO_MANY_REQUESTS.into_response() }
//! #     fn server_error(_: u16) -> Response { axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response() }
//! # }
//! let key = ApiKey::new("secret", [Scheme::Basic, Scheme::Token("Bearer")]);
//! let api: Router = Router::new()
//!     .route("/v1/ping", get(|| async { "pong" }))
//!     .layer(middleware::from_fn_with_state(key, require_key::<Acme>));
//! ```

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error_body::{AuthFailure, ErrorBody};

/// One way of presenting the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Basic base64(user:key)`: any user name, the key as the password
    /// (Mailchimp's `anystring:<key>`).
    Basic,
    /// `<prefix> <key>`, the key trimmed: `Bearer`, `OAuth`, or a vendor's
    /// own prefix such as `Klaviyo-API-Key`. The prefix is case-sensitive.
    Token(&'static str),
}

/// The key an emulator accepts and the schemes it may come in.
#[derive(Debug, Clone)]
pub struct ApiKey {
    key: Arc<str>,
    schemes: Arc<[Scheme]>,
}

impl ApiKey {
    /// `key`, accepted in any of `schemes`; the first scheme whose prefix the
    /// header carries decides how it is read.
    pub fn new(key: impl Into<Arc<str>>, schemes: impl Into<Vec<Scheme>>) -> Self {
        ApiKey { key: key.into(), schemes: schemes.into().into() }
    }

    /// The key the request presents, if it presents one in an accepted
    /// scheme (empty keys included).
    pub fn presented(&self, headers: &HeaderMap) -> Option<String> {
        let value = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok())?;
        self.schemes.iter().find_map(|scheme| match scheme {
            Scheme::Basic => value.strip_prefix("Basic ").map(|encoded| {
                decode_base64(encoded.trim())
                    .and_then(|decoded| String::from_utf8(decoded).ok())
                    .and_then(|credentials| credentials.split_once(':').map(|(_, key)| key.to_owned()))
            }),
            Scheme::Token(prefix) => value
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix(' '))
                .map(|token| Some(token.trim().to_owned())),
        })?
    }

    /// Whether the request presents this key.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), AuthFailure> {
        match self.presented(headers) {
            None => Err(AuthFailure::Missing),
            Some(key) if key.is_empty() => Err(AuthFailure::Missing),
            Some(key) if *key == *self.key => Ok(()),
            Some(_) => Err(AuthFailure::Invalid),
        }
    }
}

/// Middleware: runs the request when it presents the key, else answers the
/// vendor's [`ErrorBody::unauthorized`]. Use with
/// `axum::middleware::from_fn_with_state(api_key, require_key::<Vendor>)`.
pub async fn require_key<E: ErrorBody>(State(key): State<ApiKey>, request: Request, next: Next) -> Response {
    match key.check(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(failure) => E::unauthorized(failure),
    }
}

/// The user name and password of an HTTP Basic `Authorization` header,
/// for a vendor that checks both (Partnerize: the user application key as
/// the user name, the user API key as the password); `None` when the
/// request sends no Basic credentials that decode.
pub fn basic_user_and_password(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(decode_base64(encoded.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The `Authorization` value for HTTP Basic with `user` and `key`, for a
/// vendor that calls its own routes (Mailchimp's batch operations).
pub fn basic_credentials(user: &str, key: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let plain = format!("{user}:{key}");
    let mut encoded = String::from("Basic ");
    for chunk in plain.as_bytes().chunks(3) {
        let bits = chunk
            .iter()
            .enumerate()
            .fold(0u32, |bits, (position, &byte)| bits | u32::from(byte) << (16 - 8 * position));
        for position in 0..4 {
            if position <= chunk.len() {
                encoded.push(char::from(ALPHABET[((bits >> (18 - 6 * position)) & 63) as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}

/// A key presented in a query parameter of every request (Scaleo's
/// `?api-key=<key>`, on POST and PUT too), not in a header.
#[derive(Debug, Clone)]
pub struct QueryKey {
    parameter: Arc<str>,
    key: Arc<str>,
}

impl QueryKey {
    /// `key`, accepted in the query parameter `parameter`.
    pub fn new(parameter: impl Into<Arc<str>>, key: impl Into<Arc<str>>) -> Self {
        QueryKey { parameter: parameter.into(), key: key.into() }
    }

    /// The parameter's name.
    pub fn parameter(&self) -> &str {
        &self.parameter
    }

    /// The key the request's query presents in the parameter (decoded, the
    /// first one when it is given twice), if it presents one.
    pub fn presented(&self, uri: &axum::http::Uri) -> Option<String> {
        crate::query::Params::from_uri(uri).get(&self.parameter).map(str::to_owned)
    }

    /// Whether the request presents this key.
    pub fn check(&self, uri: &axum::http::Uri) -> Result<(), AuthFailure> {
        match self.presented(uri) {
            None => Err(AuthFailure::Missing),
            Some(key) if key.is_empty() => Err(AuthFailure::Missing),
            Some(key) if *key == *self.key => Ok(()),
            Some(_) => Err(AuthFailure::Invalid),
        }
    }
}

/// Middleware: runs the request when its query presents the key, else
/// answers the vendor's [`ErrorBody::unauthorized`]. Use with
/// `axum::middleware::from_fn_with_state(query_key, require_query_key::<Vendor>)`.
pub async fn require_query_key<E: ErrorBody>(State(key): State<QueryKey>, request: Request, next: Next) -> Response {
    match key.check(request.uri()) {
        Ok(()) => next.run(request).await,
        Err(failure) => E::unauthorized(failure),
    }
}

/// Standard base64, padding optional; `None` for any other character.
fn decode_base64(encoded: &str) -> Option<Vec<u8>> {
    let value = |byte: u8| -> Option<u32> {
        match byte {
            b'A'..=b'Z' => Some(u32::from(byte - b'A')),
            b'a'..=b'z' => Some(u32::from(byte - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(byte - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let digits = encoded.trim_end_matches('=').as_bytes();
    let mut decoded = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut bits = 0u32;
        for (position, &byte) in chunk.iter().enumerate() {
            bits |= value(byte)? << (18 - 6 * position);
        }
        let bytes = bits.to_be_bytes();
        decoded.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(decoded)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn check(encoded: &str, expected: &str) {
        assert_eq!(decode_base64(encoded).as_deref(), Some(expected.as_bytes()), "{encoded}");
    }

    #[test]
    fn basic_credentials_decode() {
        check("YW55c3RyaW5nOmtleS11czIx", "anystring:key-us21");
        check("YTpi", "a:b");
        check("YTpiYw==", "a:bc");
        assert_eq!(decode_base64("a$b"), None);
    }

    #[test]
    fn basic_user_and_password_are_both_read() {
        let read = |value: &str| basic_user_and_password(&headers(value));
        assert_eq!(read(&basic_credentials("app-key", "api:key")), Some(("app-key".into(), "api:key".into())));
        assert_eq!(read(&basic_credentials("", "k")), Some((String::new(), "k".into())));
        assert_eq!(read("Bearer k"), None);
        assert_eq!(read("Basic !!!"), None);
        assert_eq!(read("Basic YWJj"), None, "no colon");
        assert_eq!(basic_user_and_password(&HeaderMap::new()), None);
    }

    #[test]
    fn a_query_key_is_read_from_the_query_only() {
        let key = QueryKey::new("api-key", "0123abcd");
        let uri = |text: &str| text.parse::<axum::http::Uri>().expect("a URI");
        assert_eq!(key.check(&uri("/api/v2/network/affiliates?page=2&api-key=0123abcd")), Ok(()));
        assert_eq!(key.check(&uri("/x?api-key=0123abcd&api-key=other")), Ok(()), "the first one counts");
        assert_eq!(key.check(&uri("/x?api-key=nope")), Err(AuthFailure::Invalid));
        assert_eq!(key.check(&uri("/x?api-key=")), Err(AuthFailure::Missing));
        assert_eq!(key.check(&uri("/x?api_key=0123abcd")), Err(AuthFailure::Missing), "the name is exact");
        assert_eq!(key.check(&uri("/x")), Err(AuthFailure::Missing));
        assert_eq!(key.presented(&uri("/x?api-key=a%2Bb")), Some("a+b".to_owned()));
        assert_eq!(key.parameter(), "api-key");
    }

    #[test]
    fn basic_credentials_encode() {
        assert_eq!(basic_credentials("batch", "k"), "Basic YmF0Y2g6aw==");
        assert_eq!(basic_credentials("batch", "ke"), "Basic YmF0Y2g6a2U=");
        assert_eq!(basic_credentials("batch", "key"), "Basic YmF0Y2g6a2V5");
    }

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).expect("a header value"));
        headers
    }

    #[test]
    fn each_scheme_reads_its_own_header() {
        let key = ApiKey::new("k-1", [Scheme::Basic, Scheme::Token("Bearer"), Scheme::Token("OAuth")]);
        assert_eq!(key.check(&headers(&basic_credentials("anyone", "k-1"))), Ok(()));
        assert_eq!(key.check(&headers("Bearer  k-1 ")), Ok(()));
        assert_eq!(key.check(&headers("OAuth k-1")), Ok(()));
        assert_eq!(key.check(&headers("Bearer k-2")), Err(AuthFailure::Invalid));
        assert_eq!(key.check(&headers("bearer k-1")), Err(AuthFailure::Missing), "prefixes are case-sensitive");
        assert_eq!(key.check(&headers("Basic !!!")), Err(AuthFailure::Missing));
        assert_eq!(key.check(&headers(&basic_credentials("anyone", ""))), Err(AuthFailure::Missing));
        assert_eq!(key.check(&HeaderMap::new()), Err(AuthFailure::Missing));
        let vendor = ApiKey::new("pk_1", [Scheme::Token("Klaviyo-API-Key")]);
        assert_eq!(vendor.check(&headers("Klaviyo-API-Key pk_1")), Ok(()));
        assert_eq!(vendor.check(&headers("Bearer pk_1")), Err(AuthFailure::Missing));
    }
}
