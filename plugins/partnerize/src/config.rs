//! The `partnerize` plugin's config, as operators write it in `cutover.toml`.
//! Doc comments on the fields become the descriptions in its JSON Schema.

use chrono::NaiveDate;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Deserialize;
use std::num::NonZeroU32;

/// Partnerize's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.partnerize.com";

/// Which Partnerize network and brand, and how to sign in.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerizeConfig {
    /// The user application key (console → Account settings): the HTTP
    /// Basic user name, which names the network. Write it as `${ENV_VAR}` or
    /// `file:PATH`.
    #[schemars(with = "String", extend("writeOnly" = true))]
    pub application_key: SecretString,
    /// The user API key (console → Account settings): the HTTP Basic
    /// password, which names the user. Write it as `${ENV_VAR}` or
    /// `file:PATH`.
    #[schemars(with = "String", extend("writeOnly" = true))]
    pub api_key: SecretString,
    /// The network's id (`1l1000003`): partners are listed and created in it.
    pub network_id: String,
    /// The brand's id (`10l110`), which campaigns are created under.
    pub advertiser_id: String,
    /// The campaign a record is written to when it names no program (a
    /// conversion, a coupon code): the migrated program's Partnerize id.
    #[serde(default)]
    pub campaign_id: Option<String>,
    /// The campaign whose commission groups hold partner tiers when a tier
    /// is not yet a group anywhere (default: `campaign_id`, else the brand's
    /// first campaign).
    #[serde(default)]
    pub tier_campaign_id: Option<String>,
    /// The first day reports (clicks, conversions, commissions) are read
    /// from (default 2000-01-01).
    #[serde(default)]
    pub history_start: Option<NaiveDate>,
    /// What a partner created by a migration signs up with: Partnerize
    /// requires them and the canonical partner has no such fields.
    #[serde(default)]
    pub new_partners: NewPartners,
    /// The API host to call instead of `https://api.partnerize.com` (an
    /// emulator, a proxy).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Items per page of collections (default 100, at most 500; reports use
    /// 300, their maximum).
    #[serde(default)]
    pub page_size: Option<u32>,
    /// Requests per second for the account, when Partnerize gave it a
    /// limit (they are not published; by default the plugin paces itself on
    /// the `X-RateLimit-*` headers alone).
    #[serde(default)]
    pub rate_limit_per_second: Option<NonZeroU32>,
    /// How long to wait for a bulk job to finish, in seconds (default 600).
    #[serde(default)]
    pub job_timeout_secs: Option<u64>,
    /// Accept a plain `http://` base URL to a host other than this machine
    /// (default `false`). Loopback is always accepted.
    #[serde(default)]
    pub allow_plain_http: bool,
    /// The largest answer body read, in bytes (default 64 MiB).
    #[serde(default)]
    pub max_body_bytes: Option<u64>,
}

/// The sign-up fields of a partner a migration creates.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPartners {
    /// The vertical id (default 1).
    #[serde(default = "one")]
    pub vertical: u32,
    /// The promotional method id (default 1).
    #[serde(default = "one")]
    pub promotional_method: u32,
    /// The network's terms a partner accepts (`entity_terms_id`); required
    /// to create partners.
    #[serde(default)]
    pub entity_terms_id: Option<String>,
    /// The sign-up address recorded (default `0.0.0.0`: unknown).
    #[serde(default = "unknown_ip")]
    pub signup_ip: String,
}

impl Default for NewPartners {
    fn default() -> NewPartners {
        NewPartners { vertical: 1, promotional_method: 1, entity_terms_id: None, signup_ip: unknown_ip() }
    }
}

fn one() -> u32 {
    1
}

fn unknown_ip() -> String {
    "0.0.0.0".into()
}

impl PartnerizeConfig {
    /// The API host.
    pub fn base_url(&self) -> &str {
        self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL)
    }

    /// Items per page of collections.
    pub fn page_size(&self) -> u32 {
        self.page_size.unwrap_or(100).clamp(1, 500)
    }

    /// The first day reports are read from.
    pub fn history_start(&self) -> NaiveDate {
        self.history_start.or_else(|| NaiveDate::from_ymd_opt(2000, 1, 1)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_secret_and_defaults_hold() {
        let config: PartnerizeConfig = serde_json::from_str(
            r#"{"application_key": "app-0123", "api_key": "user-4567", "network_id": "1l1000003", "advertiser_id": "10l110"}"#,
        )
        .unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("app-0123") && !debug.contains("user-4567"), "{debug}");
        assert_eq!(config.base_url(), DEFAULT_BASE_URL);
        assert_eq!(config.page_size(), 100);
        assert_eq!(config.history_start().to_string(), "2000-01-01");
        assert_eq!(config.new_partners.signup_ip, "0.0.0.0");
        let unknown = serde_json::from_str::<PartnerizeConfig>(
            r#"{"application_key": "a", "api_key": "b", "network_id": "n", "advertiser_id": "x", "colour": 1}"#,
        );
        assert!(unknown.is_err());
    }
}
