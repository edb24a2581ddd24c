//! The one error type of the crate, and what a vendor's error body says.
//!
//! Every message names the request as method and URL path, never the query
//! string (a query can carry a key), and never a credential.

use cutover_contract::{ErrorCode, PluginError};

/// Everything that can go wrong in `cutover-http`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The platform answered with a status that is not a success, and
    /// retrying did not help or was not allowed.
    #[error("{method} {path} answered HTTP {status}{tries}{vendor}", tries = after_attempts(*.attempts), vendor = vendor_suffix(.vendor))]
    Status {
        /// Request method.
        method: String,
        /// URL path, without the query string.
        path: String,
        /// The HTTP status code.
        status: u16,
        /// What the vendor's error body says.
        vendor: VendorError,
        /// How many times the request was sent.
        attempts: u32,
    },
    /// The request did not get an answer: connection refused or dropped,
    /// timeout, TLS failure.
    #[error("{method} {path} got no answer{tries}: {kind}", tries = after_attempts(*.attempts))]
    Transport {
        /// Request method.
        method: String,
        /// URL path, without the query string.
        path: String,
        /// What kind of failure it was.
        kind: TransportKind,
        /// How many times the request was sent.
        attempts: u32,
        /// The underlying error, its URL removed.
        #[source]
        source: reqwest::Error,
    },
    /// The answer was a success but its body is not the JSON expected.
    #[error("{method} {path} answered HTTP {status} with a body that is not the expected JSON")]
    Decode {
        /// Request method.
        method: String,
        /// URL path, without the query string.
        path: String,
        /// The HTTP status code.
        status: u16,
        /// Why the body did not decode.
        #[source]
        source: serde_json::Error,
    },
    /// The request cannot be sent as built: a header that is not valid
    /// HTTP, a body that cannot be written as JSON. A plugin bug.
    #[error("{method} {path} cannot be sent: {reason}")]
    InvalidRequest {
        /// Request method.
        method: String,
        /// URL path, without the query string.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A URL could not be built: a bad base URL, or a path or link that is
    /// not a URL.
    #[error("cannot use {url_or_path:?} as a URL: {reason}")]
    InvalidUrl {
        /// The base URL or path given (never with a query string).
        url_or_path: String,
        /// Why it was refused.
        reason: String,
    },
    /// A link (a next page, a redirect) points at another host: the
    /// credentials are never sent there.
    #[error("refusing to follow a link to {host}: the client only sends credentials to {expected}")]
    ForeignUrl {
        /// The host the link points at.
        host: String,
        /// The host of the configured base URL.
        expected: String,
    },
    /// A header in the config (auth or default header) is not a valid HTTP
    /// header. The value is never shown, it may be a secret.
    #[error("invalid HTTP header {name:?} in the client config: {reason}")]
    InvalidHeader {
        /// The header name.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The underlying HTTP client could not be built (TLS backend).
    #[error("cannot build the HTTP client")]
    Build(#[source] reqwest::Error),
    /// A saved pagination cursor could not be read back.
    #[error("cannot resume pagination from cursor {cursor:?}: {reason}")]
    InvalidCursor {
        /// The cursor as given (it holds no credentials: links only).
        cursor: String,
        /// Why it was refused.
        reason: String,
    },
    /// The answer's body is larger than [`crate::HttpConfig::max_body_bytes`];
    /// it was not read.
    #[error("{method} {path} answered with a body of more than {limit} bytes, the most this client reads")]
    BodyTooLarge {
        /// Request method.
        method: String,
        /// URL path, without the query string.
        path: String,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The platform asked to wait (`Retry-After`) longer than what is left
    /// of the request's time budget ([`crate::RetryPolicy::max_elapsed`]).
    #[error(
        "{method} {path} answered HTTP {status} asking to wait {asked_secs} s before retrying, longer than the \
         {budget_secs} s left of the retry budget"
    )]
    WaitTooLong {
        /// Request method.
        method: String,
        /// URL path, without the query string.
        path: String,
        /// The HTTP status code.
        status: u16,
        /// The wait the platform asked for, in whole seconds.
        asked_secs: u64,
        /// What was left of the budget, in whole seconds.
        budget_secs: u64,
    },
    /// Pagination went in a circle (a next-page link or cursor already
    /// followed came again) or past its page limit.
    #[error("{method} {path}: {reason} after {pages} pages; the platform's paging does not end")]
    EndlessPaging {
        /// Request method.
        method: String,
        /// URL path, without the query string.
        path: String,
        /// Pages read when it was noticed.
        pages: u64,
        /// What was seen.
        reason: &'static str,
    },
    /// A path segment (an id from a record or a config) cannot go into a
    /// URL path: it is empty, `.` or `..`.
    #[error("cannot put {segment:?} in a request path: {reason}")]
    InvalidPathSegment {
        /// The segment, escaped for printing.
        segment: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A page's body has no list of items where the paginator was told to
    /// look.
    #[error("{method} {path}: the page has no item array at {pointer:?}")]
    MissingItems {
        /// Request method.
        method: String,
        /// URL path, without the query string.
        path: String,
        /// The JSON pointer that was expected to hold an array.
        pointer: String,
    },
}

/// A closed list of error kinds, for callers that branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpErrorKind {
    /// 401: credentials refused.
    Unauthorized,
    /// 403: credentials lack a permission, or point at the wrong account.
    Forbidden,
    /// 404.
    NotFound,
    /// 409: the resource exists or changed.
    Conflict,
    /// 429 after the retry budget.
    RateLimited,
    /// Another 4xx: the platform refused the request itself.
    Rejected,
    /// 5xx after the retry budget.
    ServerError,
    /// No answer (connection, timeout, TLS).
    Transport,
    /// A success whose body was not the expected JSON.
    Decode,
    /// The config (URL, headers) is unusable.
    Config,
    /// A saved cursor is unusable.
    Cursor,
    /// The plugin built a request that cannot be sent.
    InvalidRequest,
}

impl HttpError {
    /// What kind of failure this is.
    pub fn kind(&self) -> HttpErrorKind {
        match self {
            HttpError::Status { status, .. } => match status {
                401 => HttpErrorKind::Unauthorized,
                403 => HttpErrorKind::Forbidden,
                404 => HttpErrorKind::NotFound,
                409 => HttpErrorKind::Conflict,
                429 => HttpErrorKind::RateLimited,
                500..=599 => HttpErrorKind::ServerError,
                _ => HttpErrorKind::Rejected,
            },
            HttpError::Transport { .. } => HttpErrorKind::Transport,
            HttpError::WaitTooLong { status: 429, .. } => HttpErrorKind::RateLimited,
            HttpError::WaitTooLong { .. } => HttpErrorKind::ServerError,
            HttpError::Decode { .. }
            | HttpError::MissingItems { .. }
            | HttpError::BodyTooLarge { .. }
            | HttpError::EndlessPaging { .. } => HttpErrorKind::Decode,
            HttpError::InvalidUrl { .. }
            | HttpError::ForeignUrl { .. }
            | HttpError::InvalidHeader { .. }
            | HttpError::Build(_) => HttpErrorKind::Config,
            HttpError::InvalidCursor { .. } => HttpErrorKind::Cursor,
            HttpError::InvalidRequest { .. } | HttpError::InvalidPathSegment { .. } => HttpErrorKind::InvalidRequest,
        }
    }

    /// The HTTP status, when the platform answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. }
            | HttpError::Decode { status, .. }
            | HttpError::WaitTooLong { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The vendor's error body, when the platform answered with an error.
    pub fn vendor(&self) -> Option<&VendorError> {
        match self {
            HttpError::Status { vendor, .. } => Some(vendor),
            _ => None,
        }
    }

    /// What the user can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            HttpError::BodyTooLarge { .. } => {
                return "the platform sent far more than a page of data: check the base URL; if the answer is \
                        genuine, raise `max_body_bytes` in the plugin config";
            }
            HttpError::EndlessPaging { .. } => {
                return "the platform's next-page links go in a circle or never end: report it to the platform, or \
                        resume the run later";
            }
            HttpError::InvalidPathSegment { .. } => {
                return "an id in the data or the plugin config cannot be part of a URL: fix or reject that record";
            }
            _ => {}
        }
        match self.kind() {
            HttpErrorKind::Unauthorized => {
                "check the credentials in the plugin config (key, user and password) and, where the platform has \
                 several data centers or hosts, that the base URL belongs to the key"
            }
            HttpErrorKind::Forbidden => {
                "the credentials were accepted but lack a permission or scope for this request: grant it on the \
                 platform or use another key"
            }
            HttpErrorKind::NotFound => "check the ids in the plugin config (list, audience, account)",
            HttpErrorKind::Conflict => "the record exists or changed on the platform: the vendor message says which",
            HttpErrorKind::RateLimited => {
                "the platform kept refusing for its rate limit: lower the plugin's rate or concurrency, or resume the \
                 run later"
            }
            HttpErrorKind::Rejected => "the platform refused the request: the vendor message says why",
            HttpErrorKind::ServerError => "the platform failed; resume the run later",
            HttpErrorKind::Transport => {
                "check the network and the base URL; raise the timeouts in the plugin config if the platform is slow"
            }
            HttpErrorKind::Decode => "the platform answered in an unexpected shape; the plugin may need an update",
            HttpErrorKind::Config => "fix the URL or header in the plugin config",
            HttpErrorKind::Cursor => "start the stream again from the beginning",
            HttpErrorKind::InvalidRequest => "this is a bug in the plugin: report it with this message",
        }
    }

    /// The plugin-boundary code for this error.
    pub fn code(&self) -> ErrorCode {
        match self.kind() {
            HttpErrorKind::Unauthorized => ErrorCode::Auth,
            HttpErrorKind::Forbidden => ErrorCode::Permission,
            HttpErrorKind::RateLimited => ErrorCode::RateLimited,
            HttpErrorKind::Config => ErrorCode::Config,
            HttpErrorKind::Cursor => ErrorCode::InvalidCursor,
            HttpErrorKind::InvalidRequest => ErrorCode::Internal,
            HttpErrorKind::NotFound
            | HttpErrorKind::Conflict
            | HttpErrorKind::Rejected
            | HttpErrorKind::ServerError
            | HttpErrorKind::Transport
            | HttpErrorKind::Decode => ErrorCode::Network,
        }
    }
}

impl From<HttpError> for PluginError {
    /// The message is the error with its causes; the help is
    /// [`HttpError::help`].
    fn from(error: HttpError) -> PluginError {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        PluginError::new(error.code(), message).with_help(error.help())
    }
}

/// How a request failed to get an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection was made: the request was never sent.
    Connect,
    /// No answer within the configured timeout.
    Timeout,
    /// The connection broke after the request was (maybe) sent.
    Dropped,
    /// Anything else (TLS, protocol, redirect loop).
    Other,
}

impl TransportKind {
    pub(crate) fn of(error: &reqwest::Error) -> TransportKind {
        if error.is_timeout() {
            TransportKind::Timeout
        } else if error.is_connect() {
            TransportKind::Connect
        } else if error.is_request() || error.is_body() {
            TransportKind::Dropped
        } else {
            TransportKind::Other
        }
    }
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            TransportKind::Connect => "cannot connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Dropped => "the connection was dropped",
            TransportKind::Other => "the request failed",
        })
    }
}

/// What a vendor's error body says: a one-line summary for messages, and
/// the body itself for plugins that need a field from it (Klaviyo's
/// `meta.duplicate_profile_id`, Mailchimp's `errors[].field`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VendorError {
    /// One line: the vendor's code, title and detail, or the start of a body
    /// that is not JSON. Empty when the body was empty.
    pub summary: String,
    /// The body as text, at most [`VendorError::MAX_BODY`] bytes.
    pub body: String,
}

impl VendorError {
    /// Bytes of an error body kept.
    pub const MAX_BODY: usize = 16 * 1024;
    const MAX_SUMMARY: usize = 300;

    /// Reads an error body. Understands RFC 7807 problem documents
    /// (Mailchimp: `title`, `detail`, `errors[]`), JSON:API `errors[]`
    /// (Klaviyo: `code`, `title`, `detail`, `source.pointer`), Mailman's
    /// `title`/`description`, and `message`/`error` fields; anything else is
    /// summarised by its first characters.
    pub fn from_body(body: &[u8]) -> VendorError {
        let text = String::from_utf8_lossy(body);
        let kept = truncate(text.trim(), VendorError::MAX_BODY);
        let summary = match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(json) => summarise_json(&json).unwrap_or_else(|| first_line(kept)),
            Err(_) => first_line(kept),
        };
        VendorError { summary: truncate(&summary, VendorError::MAX_SUMMARY).to_owned(), body: kept.to_owned() }
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

fn after_attempts(attempts: u32) -> String {
    if attempts > 1 { format!(" after {attempts} attempts") } else { String::new() }
}

fn vendor_suffix(vendor: &VendorError) -> String {
    if vendor.summary.is_empty() { String::new() } else { format!(": {}", vendor.summary) }
}

fn summarise_json(json: &serde_json::Value) -> Option<String> {
    fn text<'json>(value: &'json serde_json::Value, key: &str) -> Option<&'json str> {
        value.get(key).and_then(|field| field.as_str()).map(str::trim)
    }
    // JSON:API (Klaviyo): errors[] of {code, title, detail, source.pointer}.
    if let Some(errors) = json.get("errors").and_then(|errors| errors.as_array())
        && let Some(first) = errors.first()
        && (first.get("detail").is_some() || first.get("code").is_some())
        && json.get("title").is_none()
    {
        let mut parts: Vec<String> = Vec::new();
        if let Some(code) = text(first, "code") {
            parts.push(code.to_owned());
        }
        match (text(first, "title"), text(first, "detail")) {
            (Some(title), Some(detail)) if detail.starts_with(title) => parts.push(detail.to_owned()),
            (title, detail) => parts.extend(title.into_iter().chain(detail).map(str::to_owned)),
        }
        if let Some(pointer) = first.pointer("/source/pointer").and_then(|pointer| pointer.as_str()) {
            parts.push(format!("at {pointer}"));
        }
        if errors.len() > 1 {
            parts.push(format!("(and {} more)", errors.len() - 1));
        }
        return Some(parts.join(": "));
    }
    // Problem documents (Mailchimp), Mailman, and the common `message`/`error`.
    let mut parts: Vec<String> = ["title", "detail", "description", "message", "error", "error_description"]
        .iter()
        .filter_map(|key| text(json, key))
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect();
    parts.dedup();
    // Mailman repeats its title as the description ("404 Not Found").
    if parts.len() == 2 && parts[0] == parts[1] {
        parts.pop();
    }
    if let Some(errors) = json.get("errors").and_then(|errors| errors.as_array()) {
        for error in errors.iter().take(3) {
            match (text(error, "field"), text(error, "message")) {
                (Some(field), Some(message)) => parts.push(format!("{field}: {message}")),
                (None, Some(message)) => parts.push(message.to_owned()),
                _ => {}
            }
        }
    }
    if parts.is_empty() { None } else { Some(parts.join(": ")) }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.starts_with('<') {
        // An HTML page from a proxy or CDN: its markup says nothing useful.
        return "a non-JSON (HTML) body".to_owned();
    }
    line.to_owned()
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str, expected: &str) {
        assert_eq!(VendorError::from_body(body.as_bytes()).summary, expected);
    }

    #[test]
    fn mailchimp_problem_document() {
        check(
            r#"{"type":"https://mailchimp.com/developer/marketing/docs/errors/","title":"Invalid Resource","status":400,
               "detail":"The resource submitted could not be validated.","instance":"",
               "errors":[{"field":"email_address","message":"Schema describes string, NULL found instead"}]}"#,
            "Invalid Resource: The resource submitted could not be validated.: email_address: Schema describes \
             string, NULL found instead",
        );
    }

    #[test]
    fn klaviyo_json_api_errors() {
        check(
            r#"{"errors":[{"id":"8c8f","status":429,"code":"throttled","title":"Request was throttled.",
               "detail":"Request was throttled. Expected available in 1 second.","source":{"pointer":"/data"}}]}"#,
            "throttled: Request was throttled. Expected available in 1 second.: at /data",
        );
        check(
            r#"{"errors":[{"code":"duplicate_profile","title":"Conflict.","detail":"A profile already exists."},
               {"code":"invalid","title":"Invalid input.","detail":"x"}]}"#,
            "duplicate_profile: Conflict.: A profile already exists.: (and 1 more)",
        );
    }

    #[test]
    fn mailman_title_and_description() {
        check(
            r#"{"title": "409 Conflict", "description": "Member already subscribed"}"#,
            "409 Conflict: Member already subscribed",
        );
        check(r#"{"title": "404 Not Found", "description": "404 Not Found"}"#, "404 Not Found");
    }

    #[test]
    fn bodies_that_are_not_json() {
        check("", "");
        check("<html><body>403 Forbidden</body></html>", "a non-JSON (HTML) body");
        check("upstream connect error\nmore", "upstream connect error");
        check("{\"unexpected\": 1}", "{\"unexpected\": 1}");
    }

    #[test]
    fn long_bodies_are_cut_on_a_character_boundary() {
        let body = "é".repeat(VendorError::MAX_BODY);
        let vendor = VendorError::from_body(body.as_bytes());
        assert!(vendor.body.len() <= VendorError::MAX_BODY);
        assert!(vendor.summary.len() <= 300);
    }

    #[test]
    fn errors_map_to_plugin_codes_with_help() {
        let error = HttpError::Status {
            method: "GET".into(),
            path: "/3.0/lists".into(),
            status: 401,
            vendor: VendorError::from_body(br#"{"title":"API Key Invalid","detail":"Your API key may be invalid."}"#),
            attempts: 1,
        };
        assert_eq!(
            error.to_string(),
            "GET /3.0/lists answered HTTP 401: API Key Invalid: Your API key may be invalid."
        );
        let plugin_error = PluginError::from(error);
        assert_eq!(plugin_error.code, ErrorCode::Auth);
        assert!(plugin_error.help.is_some_and(|help| help.contains("credentials")));
    }
}
