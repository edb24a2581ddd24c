//! The client: a request goes through auth, the account's limiter, retries
//! and tracing, and comes back with its body read.

use crate::config::{Auth, HttpConfig};
use crate::error::{HttpError, TransportKind, VendorError};
use crate::events;
use crate::limiter::RateLimiter;
use crate::retry::{Retry, RetryPolicy, retry_after};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::SystemTime;
use tokio::time::Instant;

/// The HTTP client of one account. Cheap to clone; clones share the
/// connection pool and the [`RateLimiter`], so give every stream a clone.
#[derive(Clone)]
pub struct HttpClient {
    shared: Arc<Shared>,
}

struct Shared {
    http: reqwest::Client,
    base_url: Url,
    auth_kind: &'static str,
    /// Marked sensitive: never printed by reqwest, hyper or this crate.
    auth_header: Option<(HeaderName, HeaderValue)>,
    /// A key sent as a query parameter ([`Auth::QueryParam`]): added to the
    /// URL of each attempt only, never to a URL this crate keeps.
    auth_query: Option<(String, secrecy::SecretString)>,
    limiter: RateLimiter,
    retry: RetryPolicy,
    timeouts: crate::Timeouts,
    max_body_bytes: u64,
}

/// What one send got back: the answer with its body, or an answer whose body
/// is over the limit (left unread).
enum Answer {
    Read(StatusCode, HeaderMap, Vec<u8>),
    TooLarge,
}

impl HttpClient {
    /// A client for `config`, with a limiter of its own.
    pub fn new(config: HttpConfig) -> Result<HttpClient, HttpError> {
        let limiter = RateLimiter::new(config.limits.clone());
        HttpClient::with_limiter(config, limiter)
    }

    /// A client for `config` that shares `limiter` (another client of the
    /// same account, e.g. one with other default headers). `config.limits`
    /// is ignored: the limiter has its own.
    pub fn with_limiter(config: HttpConfig, limiter: RateLimiter) -> Result<HttpClient, HttpError> {
        let base_url = parse_base_url(&config.base_url, config.allow_plain_http)?;
        let auth_header = config.auth.header()?;
        let mut default_headers = HeaderMap::new();
        default_headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in &config.headers {
            let invalid = |reason| HttpError::InvalidHeader { name: name.clone(), reason };
            let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid("not a header name"))?;
            let header_value = HeaderValue::from_str(value).map_err(|_| invalid("not a header value"))?;
            default_headers.insert(header_name, header_value);
        }
        let origin = base_url.origin();
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .default_headers(default_headers)
            .connect_timeout(config.timeouts.connect)
            .timeout(config.timeouts.request)
            // A redirect to another origin would carry the credentials there
            // (reqwest only strips the standard auth headers): stop instead.
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 5 || attempt.url().origin() != origin {
                    attempt.stop()
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(|error| HttpError::Build(error.without_url()))?;
        Ok(HttpClient {
            shared: Arc::new(Shared {
                http,
                base_url,
                auth_kind: auth_kind(&config.auth),
                auth_header,
                auth_query: config.auth.query(),
                limiter,
                retry: config.retry,
                timeouts: config.timeouts,
                max_body_bytes: config.max_body_bytes,
            }),
        })
    }

    /// The account's limiter, to share with another client.
    pub fn limiter(&self) -> &RateLimiter {
        &self.shared.limiter
    }

    /// The base URL every path is relative to.
    pub fn base_url(&self) -> &Url {
        &self.shared.base_url
    }

    /// `GET path` and decodes the JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, HttpError> {
        self.send(Request::get(path)).await?.json()
    }

    /// `POST path` with a JSON body and decodes the JSON answer (an empty
    /// answer decodes as `null`, so `()` and `Option<_>` fit a 204). A POST is
    /// only retried on failures where it cannot have been processed; use
    /// [`HttpClient::send`] with [`Request::retry_safe`] for idempotent ones.
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, HttpError> {
        self.send(Request::post(path).json(body)).await?.json()
    }

    /// `PUT path` with a JSON body and decodes the JSON answer.
    pub async fn put_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, HttpError> {
        self.send(Request::put(path).json(body)).await?.json()
    }

    /// `PATCH path` with a JSON body and decodes the JSON answer.
    pub async fn patch_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, HttpError> {
        self.send(Request::patch(path).json(body)).await?.json()
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<Response, HttpError> {
        self.send(Request::delete(path)).await
    }

    /// Sends `request`: waits for the account's limiter, adds the auth,
    /// retries what may be retried (see [`RetryPolicy`]), and returns the
    /// answer with its body read. Any status other than 2xx is an
    /// [`HttpError::Status`] carrying the vendor's error body.
    pub async fn send(&self, request: Request) -> Result<Response, HttpError> {
        let mut url = self.url_for(&request.target)?;
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&request.query);
        }
        let method = request.method.as_str().to_owned();
        let path = url.path().to_owned();
        if let Some(reason) = request.invalid {
            return Err(HttpError::InvalidRequest { method, path, reason });
        }
        let idempotent = request.retry_safe || is_idempotent(&request.method);
        let policy = &self.shared.retry;
        let started = Instant::now();
        let mut attempt = 0;
        // Attempts that failed other than by a 429: a 429 is the platform
        // asking to slow down, which `max_elapsed` alone bounds.
        let mut failures = 0;
        loop {
            attempt += 1;
            let permit = self.shared.limiter.acquire().await;
            let sent_at = Instant::now();
            let outcome = self.attempt(&request.method, &url, &request.headers, request.body.as_ref()).await;
            let latency = sent_at.elapsed();
            drop(permit);
            match outcome {
                Ok(Answer::TooLarge) => {
                    events::answered(&method, &path, 0, latency, attempt);
                    return Err(HttpError::BodyTooLarge { method, path, limit: self.shared.max_body_bytes });
                }
                Ok(Answer::Read(status, headers, bytes)) => {
                    events::answered(&method, &path, status.as_u16(), latency, attempt);
                    self.shared.limiter.observe(&headers);
                    if status != StatusCode::TOO_MANY_REQUESTS {
                        self.shared.limiter.answered();
                    }
                    if status.is_success() {
                        return Ok(Response { method, path, url, status, headers, body: bytes });
                    }
                    let retry = Retry::for_status(status);
                    let may_retry = retry == Retry::Refused || (retry == Retry::IfIdempotent && idempotent);
                    let hint = retry_after(&headers, SystemTime::now());
                    let left = policy.max_elapsed.saturating_sub(started.elapsed());
                    if let Some(asked) = hint.filter(|asked| may_retry && *asked > left) {
                        // Waiting would outlast the budget: say so now rather
                        // than sleep and fail (or hang on an absurd hint).
                        return Err(HttpError::WaitTooLong {
                            method,
                            path,
                            status: status.as_u16(),
                            asked_secs: asked.as_secs(),
                            budget_secs: left.as_secs(),
                        });
                    }
                    let delay = may_retry.then(|| policy.delay(attempt, hint));
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        // 429s in a row are the account's: then every stream
                        // is held back, not only this request.
                        let pause = delay.unwrap_or_else(|| policy.delay(attempt, None));
                        let retry_at = Instant::now().checked_add(pause.min(left)).unwrap_or_else(Instant::now);
                        if self.shared.limiter.throttled(retry_at) {
                            events::account_paused(&method, &path, pause);
                        }
                    }
                    if status != StatusCode::TOO_MANY_REQUESTS {
                        failures += 1;
                    }
                    match delay {
                        Some(delay) if self.may_retry(failures, started, delay) => {
                            events::retry_scheduled(&method, &path, attempt, status.as_str(), delay);
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                        _ => {}
                    }
                    let vendor = VendorError::from_body(&bytes);
                    return Err(HttpError::Status { method, path, status: status.as_u16(), vendor, attempts: attempt });
                }
                Err(error) => {
                    let error = error.without_url();
                    events::failed(&method, &path, &error, latency, attempt);
                    let kind = TransportKind::of(&error);
                    // A failed connection never sent the request; anything
                    // later may have been processed.
                    let may_retry = kind == TransportKind::Connect || (idempotent && kind != TransportKind::Other);
                    failures += 1;
                    if may_retry {
                        let delay = policy.delay(attempt, None);
                        if self.may_retry(failures, started, delay) {
                            events::retry_scheduled(&method, &path, attempt, transport_reason(kind), delay);
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                    }
                    return Err(HttpError::Transport { method, path, kind, attempts: attempt, source: error });
                }
            }
        }
    }

    /// Whether a retry may start after `failures` failed attempts (429s not
    /// counted) and a wait of `delay`.
    fn may_retry(&self, failures: u32, started: Instant, delay: std::time::Duration) -> bool {
        let policy = &self.shared.retry;
        failures < policy.max_attempts
            && started.elapsed().checked_add(delay).is_some_and(|waited| waited <= policy.max_elapsed)
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<&(Vec<u8>, HeaderValue)>,
    ) -> Result<Answer, reqwest::Error> {
        let mut builder = match &self.shared.auth_query {
            None => self.shared.http.request(method.clone(), url.clone()),
            Some((name, key)) => {
                let mut signed = url.clone();
                with_query_key(&mut signed, name, key.expose_secret());
                self.shared.http.request(method.clone(), signed)
            }
        };
        if let Some((name, value)) = &self.shared.auth_header {
            builder = builder.header(name, value.clone());
        }
        for (name, value) in headers {
            builder = builder.header(name, value.clone());
        }
        if let Some((bytes, content_type)) = body {
            builder = builder.header(CONTENT_TYPE, content_type.clone()).body(bytes.clone());
        }
        let mut response = builder.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let limit = self.shared.max_body_bytes;
        if response.content_length().is_some_and(|length| length > limit) {
            return Ok(Answer::TooLarge);
        }
        // Chunk by chunk, so a body with no (or a false) length cannot grow
        // past the limit either; joined once at the end, so memory peaks at
        // about twice the body rather than the three times a doubling
        // buffer reaches.
        let mut chunks = Vec::new();
        let mut length: u64 = 0;
        while let Some(chunk) = response.chunk().await? {
            length = length.saturating_add(chunk.len() as u64);
            if length > limit {
                return Ok(Answer::TooLarge);
            }
            chunks.push(chunk);
        }
        Ok(Answer::Read(status, headers, chunks.concat()))
    }

    /// `link` without the query parameter the auth adds ([`Auth::QueryParam`]),
    /// for a next-page link a cursor keeps: a platform that echoes the key
    /// in its links must not put it in a checkpoint. The key is added back
    /// when the link is followed.
    pub(crate) fn without_auth_query(&self, link: &str) -> String {
        let Some((name, _)) = &self.shared.auth_query else { return link.to_owned() };
        let Ok(mut url) = Url::parse(link) else { return link.to_owned() };
        if !url.query_pairs().any(|(candidate, _)| candidate == name.as_str()) {
            return link.to_owned();
        }
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(candidate, _)| candidate != name.as_str())
            .map(|(candidate, value)| (candidate.into_owned(), value.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
        url.into()
    }

    /// `target` as a URL: a path is joined to the base URL; a full URL (a
    /// link the platform handed out) must have the base URL's origin, so the
    /// credentials never leave it.
    pub(crate) fn url_for(&self, target: &Target) -> Result<Url, HttpError> {
        let base = &self.shared.base_url;
        match target {
            Target::Path(path) => base.join(path.trim_start_matches('/')).map_err(|error| HttpError::InvalidUrl {
                url_or_path: strip_query(path).to_owned(),
                reason: error.to_string(),
            }),
            Target::Url(link) => {
                let url = Url::parse(link).map_err(|error| HttpError::InvalidUrl {
                    url_or_path: strip_query(link).to_owned(),
                    reason: error.to_string(),
                })?;
                if url.origin() != base.origin() {
                    return Err(HttpError::ForeignUrl {
                        host: url.host_str().unwrap_or_default().to_owned(),
                        expected: base.host_str().unwrap_or_default().to_owned(),
                    });
                }
                Ok(url)
            }
        }
    }
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HttpClient")
            .field("base_url", &self.shared.base_url.as_str())
            .field("auth", &self.shared.auth_kind)
            .field("limiter", &self.shared.limiter)
            .field("retry", &self.shared.retry)
            .field("timeouts", &self.shared.timeouts)
            .finish()
    }
}

fn auth_kind(auth: &Auth) -> &'static str {
    match auth {
        Auth::None => "none",
        Auth::Basic { .. } => "basic",
        Auth::Bearer { .. } => "bearer",
        Auth::ApiKeyHeader { .. } => "api key header",
        Auth::QueryParam { .. } => "query parameter",
    }
}

/// Sets the query parameter `name` of `url` to `key`, replacing any value
/// it had (a link the platform handed out may carry one already).
fn with_query_key(url: &mut Url, name: &str, key: &str) {
    if !url.query_pairs().any(|(candidate, _)| candidate == name) {
        url.query_pairs_mut().append_pair(name, key);
        return;
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(candidate, _)| candidate != name)
        .map(|(candidate, value)| (candidate.into_owned(), value.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(kept).append_pair(name, key);
}

fn transport_reason(kind: TransportKind) -> &'static str {
    match kind {
        TransportKind::Connect => "connect",
        TransportKind::Timeout => "timeout",
        TransportKind::Dropped => "dropped",
        TransportKind::Other => "other",
    }
}

fn is_idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE)
}

fn strip_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or_default()
}

/// `url` for a message: no query string, no fragment and no user or
/// password, even when it does not parse.
fn printable_url(url: &str) -> String {
    let url = strip_query(url);
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Whether `url`'s host is this machine.
fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The base URL, ending in `/` so that paths join under it rather than
/// replacing its last segment. Plain `http://` is refused unless the host is
/// loopback or `allow_plain_http` is set.
fn parse_base_url(base_url: &str, allow_plain_http: bool) -> Result<Url, HttpError> {
    let invalid = |reason: String| HttpError::InvalidUrl { url_or_path: printable_url(base_url), reason };
    let mut url = Url::parse(base_url).map_err(|error| invalid(error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!("the scheme is {:?}, not http or https", url.scheme())));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("a base URL carries no user or password: put credentials in the auth".to_owned()));
    }
    if url.query().is_some() {
        return Err(invalid("a base URL carries no query: put credentials in the auth".to_owned()));
    }
    if url.scheme() == "http" && !allow_plain_http && !is_loopback(&url) {
        return Err(invalid(
            "plain http:// would send the credentials and the data unencrypted: use https://, or set \
             `allow_plain_http = true` in the plugin config for a trusted network"
                .to_owned(),
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Where a request goes: a path under the base URL, or a full URL the
/// platform handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Path(String),
    Url(String),
}

/// One request, before it is sent: method, path, query, headers, body.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    target: Target,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<(Vec<u8>, HeaderValue)>,
    retry_safe: bool,
    query: Vec<(String, String)>,
    /// Why the request cannot be sent (a bad header, a body that cannot be
    /// written), reported by [`HttpClient::send`].
    invalid: Option<String>,
}

impl Request {
    /// A request for `path`, relative to the base URL (a leading `/` is
    /// ignored). The path may carry a query string; add parameters with
    /// [`Request::query`].
    pub fn new(method: Method, path: impl Into<String>) -> Request {
        Request {
            method,
            target: Target::Path(path.into()),
            headers: Vec::new(),
            body: None,
            retry_safe: false,
            query: Vec::new(),
            invalid: None,
        }
    }

    /// A `GET` of a full URL the platform handed out (Klaviyo's
    /// `links.next`), followed verbatim. It must be on the base URL's origin.
    pub fn get_url(url: impl Into<String>) -> Request {
        Request::get("").follow(&url.into())
    }

    /// This request sent to `url` instead, without its query parameters
    /// (a link carries its own).
    pub(crate) fn follow(mut self, url: &str) -> Request {
        self.target = Target::Url(url.to_owned());
        self.query.clear();
        self
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Request {
        Request::new(Method::GET, path)
    }

    /// `POST path`.
    pub fn post(path: impl Into<String>) -> Request {
        Request::new(Method::POST, path)
    }

    /// `PUT path`.
    pub fn put(path: impl Into<String>) -> Request {
        Request::new(Method::PUT, path)
    }

    /// `PATCH path`.
    pub fn patch(path: impl Into<String>) -> Request {
        Request::new(Method::PATCH, path)
    }

    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> Request {
        Request::new(Method::DELETE, path)
    }

    /// Adds a query parameter (encoded).
    pub fn query(mut self, name: impl Into<String>, value: impl ToString) -> Request {
        self.query.push((name.into(), value.to_string()));
        self
    }

    /// Adds a header to this request. A name or value that is not valid HTTP
    /// makes [`HttpClient::send`] fail with [`HttpError::InvalidRequest`].
    pub fn header(mut self, name: &str, value: &str) -> Request {
        match (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            (Ok(name), Ok(value)) => self.headers.push((name, value)),
            _ => self.invalid = Some(format!("header {name:?} is not a valid HTTP header")),
        }
        self
    }

    /// Sets a JSON body (`application/json`).
    pub fn json<B: Serialize + ?Sized>(self, body: &B) -> Request {
        self.json_as(body, "application/json")
    }

    /// Sets a JSON body with another content type, e.g. Klaviyo's
    /// `application/vnd.api+json`.
    pub fn json_as<B: Serialize + ?Sized>(mut self, body: &B, content_type: &'static str) -> Request {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.body = Some((bytes, HeaderValue::from_static(content_type))),
            Err(error) => self.invalid = Some(format!("the JSON body cannot be written: {error}")),
        }
        self
    }

    /// Sets a form body (`application/x-www-form-urlencoded`): each pair
    /// percent-encoded, in order, e.g. impact.com's writes.
    pub fn form<N: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(N, V)]) -> Request {
        self.body =
            Some((form_body(pairs).into_bytes(), HeaderValue::from_static("application/x-www-form-urlencoded")));
        self
    }

    /// Marks a non-idempotent request (a POST) as safe to send twice, e.g.
    /// a batch upsert: it is then retried like a GET.
    pub fn retry_safe(mut self) -> Request {
        self.retry_safe = true;
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// What names the collection this request reads: method, target and
    /// query. Kept in memory only, to know a cached page is this request's.
    pub(crate) fn scope(&self) -> String {
        let target = match &self.target {
            Target::Path(path) => path.as_str(),
            Target::Url(link) => link.as_str(),
        };
        let query: Vec<String> = self.query.iter().map(|(name, value)| format!("{name}={value}")).collect();
        // A report read with its filters in the body is another collection
        // for each body.
        let body = self.body.as_ref().map_or(0, |(bytes, _)| {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::hash::DefaultHasher::new();
            bytes.hash(&mut hasher);
            hasher.finish()
        });
        format!("{} {target}?{} body {body:016x}", self.method, query.join("&"))
    }

    /// Where the request goes, for messages: its path, or a link's path,
    /// never a query string.
    pub(crate) fn target_path(&self) -> String {
        match &self.target {
            Target::Path(path) => strip_query(path).to_owned(),
            Target::Url(link) => Url::parse(link).map_or_else(|_| printable_url(link), |url| url.path().to_owned()),
        }
    }
}

/// `name=value&…`, each side percent-encoded as a form encodes it
/// (everything but ASCII letters, digits and `-._~`).
fn form_body<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> String {
    const FORM: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    pairs
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                percent_encoding::utf8_percent_encode(name.as_ref(), FORM),
                percent_encoding::utf8_percent_encode(value.as_ref(), FORM)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// An answer with a 2xx status and its body read.
#[derive(Debug, Clone)]
pub struct Response {
    method: String,
    path: String,
    url: Url,
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Response {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The URL path that answered, without the query string.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The URL that answered, to resolve relative links against.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// The body as JSON. An empty body reads as `null`, so `()` and
    /// `Option<_>` fit a 204.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        let body: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) { b"null" } else { &self.body };
        serde_json::from_slice(body).map_err(|source| HttpError::Decode {
            method: self.method.clone(),
            path: self.path.clone(),
            status: self.status.as_u16(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_base(base_url: &str, expected: Result<&str, &str>) {
        match (parse_base_url(base_url, false), expected) {
            (Ok(url), Ok(expected)) => assert_eq!(url.as_str(), expected),
            (Err(error), Err(expected)) => assert_eq!(error.to_string(), expected),
            (got, _) => panic!("{base_url}: {got:?}"),
        }
    }

    #[test]
    fn base_urls() {
        check_base("https://us21.api.mailchimp.com/3.0", Ok("https://us21.api.mailchimp.com/3.0/"));
        check_base("https://a.klaviyo.com", Ok("https://a.klaviyo.com/"));
        check_base(
            "https://x.test/api?key=hunter2",
            Err(
                r#"cannot use "https://x.test/api" as a URL: a base URL carries no query: put credentials in the auth"#,
            ),
        );
        check_base(
            "https://user:pw@x.test/",
            Err(
                r#"cannot use "https://x.test/" as a URL: a base URL carries no user or password: put credentials in the auth"#,
            ),
        );
        check_base("http://127.0.0.1:8001/3.0", Ok("http://127.0.0.1:8001/3.0/"));
        check_base("http://localhost:8001/", Ok("http://localhost:8001/"));
        check_base("http://[::1]:8001/", Ok("http://[::1]:8001/"));
        check_base(
            "http://mailman.internal:8001/3.1",
            Err(
                "cannot use \"http://mailman.internal:8001/3.1\" as a URL: plain http:// would send the credentials and \
                 the data unencrypted: use https://, or set `allow_plain_http = true` in the plugin config for a \
                 trusted network",
            ),
        );
        assert!(parse_base_url("http://mailman.internal:8001/3.1", true).is_ok());
        check_base(
            "ftp://x.test/",
            Err(r#"cannot use "ftp://x.test/" as a URL: the scheme is "ftp", not http or https"#),
        );
    }

    #[test]
    fn credentials_in_an_unparsable_url_are_not_printed() {
        assert_eq!(printable_url("https://user:s3cret@x.test:99999/a?key=1"), "https://x.test:99999/a");
        assert_eq!(printable_url("https://x.test/a@b"), "https://x.test/a@b");
        let error = parse_base_url("https://user:s3cret@x.test:99999/", false).unwrap_err().to_string();
        assert!(!error.contains("s3cret") && !error.contains("user"), "{error}");
    }

    #[test]
    fn paths_join_under_the_base_and_links_stay_on_its_origin() {
        let client = HttpClient::new(HttpConfig::new("https://us21.api.mailchimp.com/3.0")).unwrap();
        let url = client.url_for(&Target::Path("/lists/abc/members".into())).unwrap();
        assert_eq!(url.as_str(), "https://us21.api.mailchimp.com/3.0/lists/abc/members");
        let link = client.url_for(&Target::Url("https://us21.api.mailchimp.com/3.0/lists?offset=10".into())).unwrap();
        assert_eq!(link.query(), Some("offset=10"));
        for foreign in ["http://us21.api.mailchimp.com/3.0/lists", "https://us22.api.mailchimp.com/3.0/lists"] {
            let error = client.url_for(&Target::Url(foreign.into())).unwrap_err();
            assert!(matches!(error, HttpError::ForeignUrl { .. }), "{foreign}: {error}");
        }
    }

    #[tokio::test]
    async fn a_request_with_a_bad_header_is_refused_before_sending() {
        let client = HttpClient::new(HttpConfig::new("http://127.0.0.1:9/")).unwrap();
        let error = client.send(Request::get("lists?key=x").header("bad header", "v")).await.unwrap_err();
        assert_eq!(error.to_string(), r#"GET /lists cannot be sent: header "bad header" is not a valid HTTP header"#);
        assert_eq!(cutover_contract::PluginError::from(error).code, cutover_contract::ErrorCode::Internal);
    }

    #[test]
    fn a_bad_default_header_is_refused_when_the_client_is_built() {
        let error =
            HttpClient::new(HttpConfig::new("http://127.0.0.1:9/").header("revision", "2024-10-15\n")).unwrap_err();
        assert_eq!(error.to_string(), r#"invalid HTTP header "revision" in the client config: not a header value"#);
    }

    #[test]
    fn form_bodies_are_percent_encoded_pairs_in_order() {
        assert_eq!(
            form_body(&[("Name", "Zoë & Co"), ("Empty", ""), ("a=b", "1+1")]),
            "Name=Zo%C3%AB%20%26%20Co&Empty=&a%3Db=1%2B1"
        );
        let request = Request::post("Conversions").form(&[("OrderId", "A-1")]);
        let (body, content_type) = request.body.clone().unwrap();
        assert_eq!(
            (body.as_slice(), content_type.to_str().unwrap()),
            (b"OrderId=A-1".as_slice(), "application/x-www-form-urlencoded")
        );
    }

    #[test]
    fn a_query_key_replaces_one_a_link_carries_and_is_stripped_from_links() {
        let mut url = Url::parse("https://x.test/api?page=2&api-key=old&b=1").unwrap();
        with_query_key(&mut url, "api-key", "new");
        assert_eq!(url.query(), Some("page=2&b=1&api-key=new"));
        let config =
            HttpConfig::new("https://x.test/").auth(Auth::query_param("api-key", secrecy::SecretString::from("k3y")));
        let client = HttpClient::new(config).unwrap();
        assert_eq!(client.without_auth_query("https://x.test/a?api-key=k3y&page=2"), "https://x.test/a?page=2");
        assert_eq!(client.without_auth_query("https://x.test/a?api-key=k3y"), "https://x.test/a");
        assert_eq!(client.without_auth_query("https://x.test/a?page=2"), "https://x.test/a?page=2");
        let debug = format!("{client:?}");
        assert!(debug.contains(r#"auth: "query parameter""#) && !debug.contains("k3y"), "{debug}");
    }

    #[test]
    fn debug_shows_the_kind_of_auth_only() {
        let config = HttpConfig::new("https://a.klaviyo.com/").auth(Auth::api_key_header(
            "Authorization",
            "Klaviyo-API-Key ",
            secrecy::SecretString::from("pk_live"),
        ));
        let client = HttpClient::new(config).unwrap();
        let debug = format!("{client:?}");
        assert!(debug.contains(r#"auth: "api key header""#) && !debug.contains("pk_live"), "{debug}");
    }
}
