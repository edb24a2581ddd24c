//! What a client is built from: where it sends, as whom, how fast and how
//! patiently.

use crate::limiter::RateLimits;
use crate::retry::RetryPolicy;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// The settings of one [`crate::HttpClient`], for one account on one
/// platform. `Debug` never shows a secret.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Every request path is relative to this URL, e.g.
    /// `https://us21.api.mailchimp.com/3.0/`. Links the platform hands out
    /// (a next page) must stay on its scheme, host and port.
    pub base_url: String,
    /// How requests prove who sends them.
    pub auth: Auth,
    /// Headers sent with every request, e.g. Klaviyo's `revision`. Not for
    /// secrets: put those in [`HttpConfig::auth`].
    pub headers: Vec<(String, String)>,
    /// The account's rate limits; see [`RateLimits`].
    pub limits: RateLimits,
    /// Connect and whole-request timeouts.
    pub timeouts: Timeouts,
    /// When and how often a failed request is tried again.
    pub retry: RetryPolicy,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The largest answer body read, in bytes. Default 64 MiB: far more than
    /// any page of JSON, and a hostile or broken server cannot exhaust
    /// memory. A larger body fails its request with
    /// [`crate::HttpError::BodyTooLarge`].
    pub max_body_bytes: u64,
    /// Whether a plain `http://` base URL to a host other than loopback is
    /// accepted. Default `false`: credentials and personal data would cross
    /// the network unencrypted. Loopback (`127.0.0.0/8`, `::1`,
    /// `localhost`) is always accepted.
    pub allow_plain_http: bool,
}

impl HttpConfig {
    /// A config for `base_url` with no auth, no rate limit and the default
    /// timeouts and retry policy.
    pub fn new(base_url: impl Into<String>) -> HttpConfig {
        HttpConfig {
            base_url: base_url.into(),
            auth: Auth::None,
            headers: Vec::new(),
            limits: RateLimits::unlimited(),
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            user_agent: concat!("cutover-http/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_body_bytes: HttpConfig::DEFAULT_MAX_BODY_BYTES,
            allow_plain_http: false,
        }
    }

    /// The default [`HttpConfig::max_body_bytes`]: 64 MiB.
    pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

    /// Sets the largest answer body read, in bytes.
    pub fn max_body_bytes(mut self, bytes: u64) -> HttpConfig {
        self.max_body_bytes = bytes;
        self
    }

    /// Accepts a plain `http://` base URL to a host other than loopback
    /// (an operator's explicit opt-in for a trusted network).
    pub fn allow_plain_http(mut self, allow: bool) -> HttpConfig {
        self.allow_plain_http = allow;
        self
    }

    /// Sets the auth.
    pub fn auth(mut self, auth: Auth) -> HttpConfig {
        self.auth = auth;
        self
    }

    /// Adds a header sent with every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> HttpConfig {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the rate limits.
    pub fn limits(mut self, limits: RateLimits) -> HttpConfig {
        self.limits = limits;
        self
    }

    /// Sets the timeouts.
    pub fn timeouts(mut self, timeouts: Timeouts) -> HttpConfig {
        self.timeouts = timeouts;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> HttpConfig {
        self.retry = retry;
        self
    }
}

/// How requests prove who sends them. Secrets are [`SecretString`]s: `Debug`
/// prints `[REDACTED]`, and the header built from them is marked sensitive.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// HTTP Basic. Mailchimp: any user name, the API key as password.
    /// Mailman: the REST admin user and password.
    Basic {
        /// The user name (not secret).
        username: String,
        /// The password or API key.
        password: SecretString,
    },
    /// `Authorization: Bearer <token>` (OAuth access tokens).
    Bearer {
        /// The token.
        token: SecretString,
    },
    /// A key in a header, after a fixed prefix. Klaviyo:
    /// `Authorization: Klaviyo-API-Key <private key>`.
    ApiKeyHeader {
        /// The header name, e.g. `Authorization`.
        header: String,
        /// Text before the key, e.g. `Klaviyo-API-Key ` (with its space).
        prefix: String,
        /// The key.
        key: SecretString,
    },
    /// A key in a query parameter of every request, whatever its method
    /// (Scaleo: `?api-key=<key>`, on POST and PUT too). The key is added
    /// when each request is sent and nowhere else: it is not in the URL a
    /// [`crate::Response`] keeps, in a next-page link a cursor keeps, in an
    /// error or in a trace (which never show a query string anyway).
    QueryParam {
        /// The parameter name, e.g. `api-key` (not secret).
        name: String,
        /// The key.
        key: SecretString,
    },
}

impl Auth {
    /// HTTP Basic with a user name and a password (or API key).
    pub fn basic(username: impl Into<String>, password: SecretString) -> Auth {
        Auth::Basic { username: username.into(), password }
    }

    /// A bearer token.
    pub fn bearer(token: SecretString) -> Auth {
        Auth::Bearer { token }
    }

    /// A key in `header`, after `prefix`.
    pub fn api_key_header(header: impl Into<String>, prefix: impl Into<String>, key: SecretString) -> Auth {
        Auth::ApiKeyHeader { header: header.into(), prefix: prefix.into(), key }
    }

    /// A key in the query parameter `name` of every request.
    pub fn query_param(name: impl Into<String>, key: SecretString) -> Auth {
        Auth::QueryParam { name: name.into(), key }
    }

    /// The query parameter this auth adds to every request, if any.
    pub(crate) fn query(&self) -> Option<(String, SecretString)> {
        match self {
            Auth::QueryParam { name, key } => Some((name.clone(), key.clone())),
            _ => None,
        }
    }

    /// The header this auth adds, marked sensitive so that neither reqwest
    /// nor hyper print it.
    pub(crate) fn header(
        &self,
    ) -> Result<Option<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>, crate::HttpError> {
        use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
        let invalid = |name: &str, reason| crate::HttpError::InvalidHeader { name: name.to_owned(), reason };
        let (name, value) = match self {
            Auth::None | Auth::QueryParam { .. } => return Ok(None),
            Auth::Basic { username, password } => {
                let pair = format!("{username}:{}", password.expose_secret());
                (AUTHORIZATION, format!("Basic {}", base64(pair.as_bytes())))
            }
            Auth::Bearer { token } => (AUTHORIZATION, format!("Bearer {}", token.expose_secret())),
            Auth::ApiKeyHeader { header, prefix, key } => {
                let name =
                    HeaderName::from_bytes(header.as_bytes()).map_err(|_| invalid(header, "not a header name"))?;
                (name, format!("{prefix}{}", key.expose_secret()))
            }
        };
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| invalid(name.as_str(), "the credential holds characters a header cannot carry"))?;
        value.set_sensitive(true);
        Ok(Some((name, value)))
    }
}

/// Standard base64 with padding, for the Basic header (too small a job for
/// a dependency).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let triple = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let bits = u32::from(triple[0]) << 16 | u32::from(triple[1]) << 8 | u32::from(triple[2]);
        for index in 0..4 {
            if index <= chunk.len() {
                encoded.push(char::from(ALPHABET[(bits >> (18 - 6 * index) & 0x3f) as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}

/// How long to wait for a connection and for a whole request (send, answer
/// and body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connection (TCP and TLS). Default 10 s.
    pub connect: Duration,
    /// The whole request. Default 130 s: Mailchimp ends calls at 120 s.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts { connect: Duration::from_secs(10), request: Duration::from_secs(130) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected, "{input}");
        }
    }

    #[test]
    fn basic_auth_header_is_sensitive_and_encoded() {
        let auth = Auth::basic("anystring", SecretString::from("key-us21"));
        let (name, value) = auth.header().unwrap().unwrap();
        assert_eq!(name, reqwest::header::AUTHORIZATION);
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().unwrap(), format!("Basic {}", base64(b"anystring:key-us21")));
    }

    #[test]
    fn a_query_key_adds_no_header_and_debug_hides_it() {
        let auth = Auth::query_param("api-key", SecretString::from("0123456789abcdef"));
        assert!(auth.header().unwrap().is_none());
        let (name, _) = auth.query().unwrap();
        assert_eq!(name, "api-key");
        let debug = format!("{auth:?}");
        assert!(debug.contains("api-key") && !debug.contains("0123456789abcdef"), "{debug}");
    }

    #[test]
    fn a_key_with_a_newline_is_refused_without_showing_it() {
        let auth = Auth::api_key_header("Authorization", "Klaviyo-API-Key ", SecretString::from("pk_se\ncret"));
        let error = auth.header().unwrap_err().to_string();
        assert!(!error.contains("pk_se"), "{error}");
    }
}
