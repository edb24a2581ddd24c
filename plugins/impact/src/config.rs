//! The `impact` plugin's config, as operators write it in `cutover.toml`.
//! Doc comments on the fields become the descriptions in its JSON Schema.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Deserialize;

/// One impact.com brand account and how to read and write it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactConfig {
    /// The Account SID (Settings → API): the Basic user name and the
    /// `{AccountSID}` of every path.
    pub account_sid: String,
    /// The Auth Token paired with the SID. Write a reference such as
    /// `${IMPACT_AUTH_TOKEN}`, never the value itself.
    #[schemars(with = "String", extend("writeOnly" = true))]
    pub auth_token: SecretString,
    /// The API's base URL (default `https://api.impact.com`).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Items asked per page (`PageSize`, default 1,000; Actions are asked
    /// at least 2,000, their documented minimum).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Requests an hour the account may make (documented default 1,000;
    /// an app may have another).
    #[serde(default = "default_requests_per_hour")]
    pub requests_per_hour: u32,
    /// First day of actions (conversions, commissions) to read, UTC. The
    /// API refuses more than 3 years back; default: 3 years ago.
    #[serde(default)]
    pub actions_since: Option<NaiveDate>,
    /// First day of clicks to read (default: 7 days before today). Each day
    /// of each program is one `ClickExport` job, and the API allows 10 jobs
    /// a day.
    #[serde(default)]
    pub clicks_since: Option<NaiveDate>,
    /// Last day of clicks to read (default: yesterday).
    #[serde(default)]
    pub clicks_until: Option<NaiveDate>,
    /// The program (campaign id) a written promo code or conversion joins
    /// when its record names none.
    #[serde(default)]
    pub default_program: Option<String>,
    /// The event type (action tracker id) conversions are written with, by
    /// program id.
    #[serde(default)]
    pub action_trackers: BTreeMap<String, String>,
    /// What a written partner's account is created with where the record
    /// has no such field: impact.com requires a postal address, a phone,
    /// a website, a promotional method, a currency and the template terms
    /// (the program's contract) for a new partner, and the canonical
    /// partner carries none of them. A record's custom field of the same
    /// name (`website`, `address_line1`, …) wins over the default.
    #[serde(default)]
    pub partner_defaults: PartnerDefaults,
    /// Accept a plain `http://` base URL to a host other than this machine
    /// (default `false`). Loopback is always accepted.
    #[serde(default)]
    pub allow_plain_http: bool,
}

/// Defaults for the fields impact.com requires of a new partner.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerDefaults {
    /// `TemplateTermsId`: the contract template the partner accepts (it
    /// names the program they join).
    pub template_terms_id: Option<String>,
    /// `Website`.
    pub website: Option<String>,
    /// `AddressLine1`.
    pub address_line1: Option<String>,
    /// `City`.
    pub city: Option<String>,
    /// `PostalCode`.
    pub postal_code: Option<String>,
    /// `Country`, in impact.com's names (`US`, `UK`, `FRANCE`, …).
    pub country: Option<String>,
    /// `PhoneCountry`.
    pub phone_country: Option<String>,
    /// `PhoneNumber`.
    pub phone_number: Option<String>,
    /// `PrimaryPromotionalMethod` (`CONTENT`, `COUPON`, …).
    pub primary_promotional_method: Option<String>,
    /// `Currency` the partner is paid in, when the record's payout details
    /// name none.
    pub currency: Option<String>,
}

fn default_base_url() -> String {
    "https://api.impact.com".to_owned()
}

fn default_page_size() -> u32 {
    1000
}

fn default_requests_per_hour() -> u32 {
    1000
}
