//! The `klaviyo` plugin's config.

use cutover_http::{Quota, RateLimits};
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Deserialize;
use std::num::NonZeroU32;

/// The revision sent when the config names none: the latest one described in
/// `shared/platforms/klaviyo.md`.
pub const DEFAULT_REVISION: &str = "2026-07-15";

/// Klaviyo's API host.
pub const DEFAULT_BASE_URL: &str = "https://a.klaviyo.com";

/// Which Klaviyo account, and which API revision.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KlaviyoConfig {
    /// The account's private API key (`pk_...`), with the scopes the streams
    /// need (`profiles`, `lists`, `subscriptions`, `events`, `metrics`).
    /// Write it as `${ENV_VAR}` or `file:PATH`: the host resolves it and
    /// refuses keys written inline.
    #[schemars(with = "String", extend("writeOnly" = true))]
    pub api_key: SecretString,
    /// The API host to call instead of `https://a.klaviyo.com` (an emulator,
    /// a proxy); paths under it start with `/api/`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The `revision` header (`YYYY-MM-DD`, or `YYYY-MM-DD.pre` for a beta);
    /// default `2026-07-15`.
    #[serde(default)]
    pub revision: Option<String>,
    /// One rate for every endpoint, in place of Klaviyo's documented
    /// per-endpoint tiers: for an account Klaviyo gave other limits, to leave
    /// room for the other apps that share the account's limits, or for an
    /// emulator started with `--rate-limit`.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Accept a plain `http://` base URL to a host other than this machine
    /// (default `false`: credentials and personal data would cross the
    /// network unencrypted). Loopback is always accepted.
    #[serde(default)]
    pub allow_plain_http: bool,
    /// The largest answer body the plugin reads, in bytes (default 64 MiB);
    /// a larger one fails its request with a clear error.
    #[serde(default)]
    pub max_body_bytes: Option<u64>,
}

/// Requests per second and per minute, on every endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests per second (Klaviyo's burst window).
    pub per_second: NonZeroU32,
    /// Requests per minute (the steady window); default 60 × `per_second`.
    #[serde(default)]
    pub per_minute: Option<NonZeroU32>,
}

impl RateLimit {
    /// The quotas this rate allows.
    pub fn limits(self) -> RateLimits {
        let per_minute = self.per_minute.map_or(self.per_second.get().saturating_mul(60), NonZeroU32::get);
        RateLimits::unlimited().quota(Quota::per_second(self.per_second.get())).quota(Quota::per_minute(per_minute))
    }
}

impl KlaviyoConfig {
    /// The revision to send.
    pub fn revision(&self) -> &str {
        self.revision.as_deref().unwrap_or(DEFAULT_REVISION)
    }

    /// The base URL to call.
    pub fn base_url(&self) -> &str {
        self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL)
    }
}

/// Whether `revision` has the form `YYYY-MM-DD` with an optional `.suffix`.
pub(crate) fn is_revision(revision: &str) -> bool {
    let (date, suffix) = match revision.split_once('.') {
        Some((date, suffix)) => (date, Some(suffix)),
        None => (revision, None),
    };
    let date_ok = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok() && date.len() == 10;
    let suffix_ok = suffix.is_none_or(|suffix| !suffix.is_empty() && suffix.chars().all(|c| c.is_ascii_alphanumeric()));
    date_ok && suffix_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn the_key_is_kept_secret_in_debug_output() {
        let config: KlaviyoConfig = serde_json::from_str(r#"{"api_key": "pk_0123456789abcdef"}"#).unwrap();
        assert_eq!(config.api_key.expose_secret(), "pk_0123456789abcdef");
        assert!(!format!("{config:?}").contains("pk_0123"), "{config:?}");
        assert_eq!(config.revision(), DEFAULT_REVISION);
        assert_eq!(config.base_url(), DEFAULT_BASE_URL);
        assert_eq!(config.rate_limit, None);
    }

    #[test]
    fn a_rate_limit_replaces_the_tiers_and_a_zero_rate_is_refused() {
        let config: KlaviyoConfig =
            serde_json::from_str(r#"{"api_key": "pk_x", "rate_limit": {"per_second": 5}}"#).unwrap();
        let limits = config.rate_limit.unwrap().limits();
        assert_eq!(limits, RateLimits::unlimited().quota(Quota::per_second(5)).quota(Quota::per_minute(300)));
        let zero = serde_json::from_str::<KlaviyoConfig>(r#"{"api_key": "pk_x", "rate_limit": {"per_second": 0}}"#);
        assert!(zero.is_err());
    }

    #[test]
    fn revisions() {
        for good in ["2024-10-15", "2026-07-15", "2024-02-15.pre"] {
            assert!(is_revision(good), "{good}");
        }
        for bad in ["", "2024-13-01", "2024-1-5", "2024-10-15.", "yesterday", "2024-10-15.p re"] {
            assert!(!is_revision(bad), "{bad}");
        }
    }
}
