//! The `mailman` plugin's config.

use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Deserialize;

/// Where the Mailman core REST API is and how to sign in to it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MailmanConfig {
    /// The REST root without the API version, e.g. `http://127.0.0.1:8001`;
    /// the plugin speaks API 3.1 under it.
    pub base_url: String,
    /// The REST admin user (`[webservice] admin_user`, default `restadmin`).
    pub username: String,
    /// The REST admin password (`[webservice] admin_pass`). Write a
    /// reference such as `${MAILMAN_PASSWORD}`, never the value itself.
    #[schemars(with = "String", extend("writeOnly" = true))]
    pub password: SecretString,
    /// The mail host (Mailman domain) lists are created in and read from,
    /// e.g. `lists.example.org`. When set, the `lists` and `members`
    /// streams read only that domain's lists; a list is written as
    /// `<local part>@<domain>` when its id is a posting address, else as
    /// `<its id made a list name>@<domain>`; and the domain is created on
    /// the first list write if it does not exist. When unset, every list is
    /// read and only lists whose id is a posting address can be written, in
    /// their own domain. `contacts` are always every address: Mailman's
    /// addresses belong to no domain.
    #[serde(default)]
    pub domain: Option<String>,
    /// Records per REST page when reading rosters (default 500).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
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

fn default_page_size() -> u32 {
    500
}
