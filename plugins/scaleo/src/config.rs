//! The `scaleo` plugin's config, as operators write it in `cutover.toml`.
//! Doc comments on the fields become the descriptions in its JSON Schema.

use chrono::NaiveDate;
use cutover_http::{Quota, RateLimits};
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Deserialize;
use std::num::NonZeroU32;

/// Which Scaleo network, as whom, and how its history is read.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleoConfig {
    /// The network's own host (its tracking URL), e.g.
    /// `https://yournetwork.scaletrk.com`; the plugin speaks `/api/v2/`
    /// under it.
    pub base_url: String,
    /// The API key of a network manager (40 hex characters, the role that
    /// may call `/api/v2/network/...`), whose user has the API enabled.
    /// Write it as `${ENV_VAR}` or `file:PATH`: the host resolves it and
    /// keeps it out of logs and state. It travels in the `api-key` query
    /// parameter of every request, which no log line, error or cursor shows.
    #[schemars(with = "String", extend("writeOnly" = true))]
    pub api_key: SecretString,
    /// Items per page when reading (default 500; Scaleo gives at most 1000).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// The first day of click and conversion history read (`YYYY-MM-DD`,
    /// default 2000-01-01): Scaleo's reports read a window of days, up to
    /// tomorrow (UTC).
    #[serde(default)]
    pub history_from: Option<NaiveDate>,
    /// The offer a conversion, tracking link or coupon code is recorded
    /// under when it names no program (Scaleo records every conversion on
    /// an offer's goal). Without it such a record is rejected.
    #[serde(default)]
    pub fallback_offer_id: Option<u64>,
    /// The prefix of the affiliate tags that hold a partner's tier
    /// (default `tier:`, as in `tier:gold`): Scaleo has no tier field, so
    /// networks group affiliates with tags.
    #[serde(default)]
    pub tier_tag_prefix: Option<String>,
    /// The rate the plugin keeps to. Scaleo publishes no limit; the
    /// default is 10 requests a second, 4 in flight.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Accept a plain `http://` base URL to a host other than this machine
    /// (default `false`: the key and personal data would cross the network
    /// unencrypted). Loopback is always accepted.
    #[serde(default)]
    pub allow_plain_http: bool,
    /// The largest answer body the plugin reads, in bytes (default 64 MiB);
    /// a larger one fails its request with a clear error.
    #[serde(default)]
    pub max_body_bytes: Option<u64>,
}

/// Requests per second and in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests per second.
    pub per_second: NonZeroU32,
    /// Requests in flight at once (default 4).
    #[serde(default)]
    pub max_concurrency: Option<NonZeroU32>,
}

fn default_page_size() -> u32 {
    500
}

/// The default first day of history.
pub(crate) fn default_history_from() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

impl ScaleoConfig {
    /// The limits to keep to.
    pub(crate) fn limits(&self) -> RateLimits {
        let rate = self
            .rate_limit
            .unwrap_or(RateLimit { per_second: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN), max_concurrency: None });
        let concurrency = rate.max_concurrency.map_or(4, NonZeroU32::get);
        RateLimits::unlimited()
            .quota(Quota::per_second(rate.per_second.get()))
            .max_concurrency(usize::try_from(concurrency).unwrap_or(4))
    }

    /// The tier tags' prefix.
    pub(crate) fn tier_prefix(&self) -> &str {
        self.tier_tag_prefix.as_deref().unwrap_or("tier:")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn defaults_and_a_secret_key() {
        let config: ScaleoConfig =
            serde_json::from_str(r#"{"base_url": "https://n.scaletrk.com", "api_key": "0123456789abcdef"}"#)
                .expect("a config");
        assert_eq!(config.api_key.expose_secret(), "0123456789abcdef");
        assert!(!format!("{config:?}").contains("0123456789abcdef"));
        assert_eq!((config.page_size, config.tier_prefix()), (500, "tier:"));
        assert_eq!(config.limits(), RateLimits::unlimited().quota(Quota::per_second(10)).max_concurrency(4));
        let refused = serde_json::from_str::<ScaleoConfig>(r#"{"base_url": "x", "api_key": "k", "apikey": "k"}"#);
        assert!(refused.is_err(), "unknown fields are refused");
    }
}
