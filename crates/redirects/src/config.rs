//! The `[redirects]` section of `cutover.toml`: the fallback, where the map
//! files go, which sub-id parameters are carried over, and the server's
//! limits. Unknown fields are refused, like the rest of the config.

use serde::Deserialize;
use std::path::PathBuf;

/// `[redirects]`: how old tracking links are sent to the new ones.
///
/// ```toml
/// [redirects]
/// fallback = "https://shop.example.com/partners"
/// preset = "scaleo-to-partnerize"
///
/// [[redirects.params]]
/// from = "utm_source"
/// to = "utm_source"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedirectsConfig {
    /// Where a request for a link the map does not hold is sent (with a 302,
    /// never carrying its query): an absolute `https://` or `http://` URL.
    /// `cutover redirects serve` needs it.
    #[serde(default)]
    pub fallback: Option<String>,
    /// The CSV map that `export` writes and `serve` loads, relative to the
    /// config's folder (default: `<config name>.redirects.csv` beside it).
    #[serde(default)]
    pub csv: Option<PathBuf>,
    /// The nginx `map` file that `export` writes, relative to the config's
    /// folder (default: `<config name>.redirects.nginx.conf` beside it).
    #[serde(default)]
    pub nginx: Option<PathBuf>,
    /// The documented sub-id rules of a pair of platforms, applied after
    /// `params`: `scaleo-to-partnerize`, `scaleo-to-impact`,
    /// `impact-to-scaleo`, `impact-to-partnerize`, `partnerize-to-scaleo`,
    /// `partnerize-to-impact` (see `cutover_redirects::presets`).
    #[serde(default)]
    pub preset: Option<String>,
    /// Sub-id rules, tried in order before the preset's: each names a
    /// parameter of the old link and the parameter of the new link its
    /// value goes to. Parameters no rule names are dropped.
    #[serde(default)]
    pub params: Vec<ParamRule>,
    /// The redirect server's limits.
    #[serde(default)]
    pub limits: LimitsConfig,
}

/// One sub-id rule: the old link's parameter `from` → the new link's `to`.
///
/// When several rules fill the same new parameter, the first whose old
/// parameter the request carries (non-empty) wins.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamRule {
    /// The old platform's parameter name (`aff_click_id`, `sub_id1`).
    pub from: String,
    /// Where the old link carries it: `query` (`?sub_id1=v`, the default) or
    /// `path` (a Partnerize-style segment `/pubref:v`).
    #[serde(default)]
    pub from_in: Place,
    /// The new platform's parameter name (`pubref`, `subId1`).
    pub to: String,
    /// Where the new link takes it: `query` (the default) or `path`.
    #[serde(default)]
    pub to_in: Place,
}

/// Where a parameter sits in a link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// In the query string: `?name=value`.
    #[default]
    Query,
    /// A path segment `/name:value`, as Partnerize writes `pubref`.
    Path,
}

/// The redirect server's limits. It faces the internet: each bounds what one
/// client can make it hold or do.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Requests per second one client (an IPv4 address, or an IPv6 /64) may
    /// make, on average; `0` turns the limit off. Over it: 429.
    #[serde(default = "default_per_client_per_second")]
    pub per_client_per_second: u32,
    /// Requests one client may make at once before the rate applies.
    #[serde(default = "default_per_client_burst")]
    pub per_client_burst: u32,
    /// Largest request head (request line and headers) in bytes; a larger
    /// one is answered 431 and the connection closed.
    #[serde(default = "default_max_header_bytes")]
    pub max_header_bytes: usize,
    /// Seconds a client has to send a whole request head, and the longest a
    /// kept-alive connection may sit idle; then it is closed.
    #[serde(default = "default_header_read_timeout_secs")]
    pub header_read_timeout_secs: u64,
    /// Connections held open at once; past it new ones are closed at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            per_client_per_second: default_per_client_per_second(),
            per_client_burst: default_per_client_burst(),
            max_header_bytes: default_max_header_bytes(),
            header_read_timeout_secs: default_header_read_timeout_secs(),
            max_connections: default_max_connections(),
        }
    }
}

fn default_per_client_per_second() -> u32 {
    50
}

fn default_per_client_burst() -> u32 {
    100
}

fn default_max_header_bytes() -> usize {
    8 * 1024
}

fn default_header_read_timeout_secs() -> u64 {
    10
}

fn default_max_connections() -> usize {
    10_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_parses_with_defaults_and_refuses_typos() {
        let config: RedirectsConfig = toml::from_str(
            "fallback = \"https://shop.example.com/\"\n[[params]]\nfrom = \"aff_click_id\"\nto = \"pubref\"\nto_in = \"path\"\n",
        )
        .unwrap();
        assert_eq!(config.fallback.as_deref(), Some("https://shop.example.com/"));
        assert_eq!(config.params[0].from_in, Place::Query);
        assert_eq!(config.params[0].to_in, Place::Path);
        assert_eq!(config.limits, LimitsConfig::default());
        let error = toml::from_str::<RedirectsConfig>("fallbak = \"x\"").unwrap_err();
        assert!(error.message().contains("unknown field `fallbak`"), "{error}");
    }
}
