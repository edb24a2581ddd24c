//! The `klaviyo` plugin's config.

use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Deserialize;

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
    #[schemars(with = "String")]
    pub api_key: SecretString,
    /// The API host to call instead of `https://a.klaviyo.com` (an emulator,
    /// a proxy); paths under it start with `/api/`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The `revision` header (`YYYY-MM-DD`, or `YYYY-MM-DD.pre` for a beta);
    /// default `2026-07-15`.
    #[serde(default)]
    pub revision: Option<String>,
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
