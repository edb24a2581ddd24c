//! Talking to Mailchimp: the account's [`HttpClient`] (basic auth with the
//! API key, Mailchimp's cap of 10 simultaneous connections), the data center
//! picked from the key, and the shapes of the answers the streams read.

use crate::config::MailchimpConfig;
use cutover_http::{AccountLimiters, Auth, HttpClient, HttpConfig, RateLimits, Request};
use cutover_sdk::{ErrorCode, PluginError};
use md5::{Digest, Md5};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::Value;

/// Mailchimp's documented cap: 10 simultaneous connections per user.
pub(crate) const MAX_CONNECTIONS: u32 = 10;
/// Largest `count` a collection page accepts.
pub(crate) const MAX_PAGE: u32 = 1000;
/// Members per batch subscribe call (`POST /lists/{list_id}`).
pub(crate) const MAX_BATCH: usize = 500;

/// The client of the configured account.
pub(crate) fn connect(config: &MailchimpConfig) -> Result<HttpClient, PluginError> {
    let base_url = match &config.base_url {
        Some(base_url) => base_url.clone(),
        None => {
            let data_center = data_center(config.api_key.expose_secret()).ok_or_else(|| {
                PluginError::new(
                    ErrorCode::Config,
                    "invalid config for plugin `mailchimp`: field `api_key`: the key has no data center suffix \
                     (expected `<key>-us21` or similar)",
                )
                .with_help("copy the whole key from Mailchimp (Account → Extras → API keys), suffix included")
            })?;
            format!("https://{data_center}.api.mailchimp.com/3.0/")
        }
    };
    // Mailchimp's cap of 10 connections is per user, not per instance (the
    // host opens one per stream and direction): one limiter per account.
    let limits = RateLimits::unlimited().max_concurrency(MAX_CONNECTIONS as usize);
    let limiters = AccountLimiters::of("mailchimp", &base_url, config.api_key.expose_secret(), limits);
    let mut http = HttpConfig::new(base_url)
        .auth(Auth::basic("cutover", config.api_key.clone()))
        .allow_plain_http(config.allow_plain_http)
        .max_body_bytes(config.max_body_bytes.unwrap_or(HttpConfig::DEFAULT_MAX_BODY_BYTES));
    http.user_agent = concat!("cutover-plugin-mailchimp/", env!("CARGO_PKG_VERSION")).to_owned();
    Ok(HttpClient::with_limiter(http, limiters.account())?)
}

/// The data center of an API key: what follows the last `-`, when it looks
/// like one (`us21`).
pub(crate) fn data_center(api_key: &str) -> Option<&str> {
    let (_, suffix) = api_key.trim().rsplit_once('-')?;
    let letters = suffix.trim_end_matches(|c: char| c.is_ascii_digit());
    let valid = !letters.is_empty() && letters.len() < suffix.len() && letters.chars().all(|c| c.is_ascii_lowercase());
    valid.then_some(suffix)
}

/// Mailchimp's key for an address on an audience: lowercase hex MD5 of the
/// trimmed, lowercased address.
pub(crate) fn subscriber_hash(email: &str) -> String {
    let digest = Md5::digest(email.trim().to_lowercase().as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Every item of a collection, page by page (for small collections the
/// plugin keeps in memory: audiences, campaigns, merge fields).
pub(crate) async fn fetch_all(
    client: &HttpClient,
    request: Request,
    items_pointer: &str,
) -> Result<Vec<Value>, PluginError> {
    let mut pages = cutover_http::Paginator::offset(request, items_pointer, MAX_PAGE);
    let mut items = Vec::new();
    while let Some(page) = pages.next_page(client).await? {
        items.extend(page.items);
    }
    Ok(items)
}

/// Reads an API object leniently: a `null` counts as absent, so a field the
/// API sends as `null` takes its default instead of failing the item.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, serde_json::Error> {
    fn without_nulls(value: &Value) -> Value {
        match value {
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .filter(|(_, field)| !field.is_null())
                    .map(|(name, field)| (name.clone(), without_nulls(field)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
            other => other.clone(),
        }
    }
    serde_json::from_value(without_nulls(value))
}

/// An audience, as `GET /lists` gives it (the fields the plugin uses).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ApiList {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) permission_reminder: String,
    pub(crate) date_created: String,
    pub(crate) double_optin: Option<bool>,
    pub(crate) marketing_permissions: Option<bool>,
    pub(crate) email_type_option: Option<bool>,
    pub(crate) contact: Option<Value>,
    pub(crate) campaign_defaults: Option<Value>,
    pub(crate) stats: Option<Value>,
}

/// A merge field definition: its tag and its type.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MergeFieldDefinition {
    pub(crate) tag: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
}

/// One member of one audience, as `GET /lists/{id}/members` gives it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ApiMember {
    pub(crate) id: String,
    pub(crate) email_address: String,
    pub(crate) status: String,
    pub(crate) unsubscribe_reason: String,
    pub(crate) sms_subscription_status: String,
    pub(crate) sms_subscription_last_updated: String,
    pub(crate) merge_fields: serde_json::Map<String, Value>,
    pub(crate) ip_signup: String,
    pub(crate) timestamp_signup: String,
    pub(crate) ip_opt: String,
    pub(crate) timestamp_opt: String,
    pub(crate) member_rating: Option<i64>,
    pub(crate) last_changed: String,
    pub(crate) language: String,
    pub(crate) vip: Option<bool>,
    pub(crate) email_type: String,
    pub(crate) marketing_permissions: Vec<ApiPermission>,
    pub(crate) source: String,
    pub(crate) tags: Vec<ApiTag>,
    pub(crate) list_id: String,
}

/// A member's answer to one GDPR marketing permission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(crate) struct ApiPermission {
    pub(crate) marketing_permission_id: String,
    pub(crate) text: String,
    pub(crate) enabled: bool,
}

/// A tag on a member.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ApiTag {
    pub(crate) name: String,
}

/// A campaign, as `GET /campaigns` gives it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ApiCampaign {
    pub(crate) id: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) status: String,
    pub(crate) create_time: String,
    pub(crate) send_time: String,
    pub(crate) emails_sent: Option<i64>,
    pub(crate) archive_url: String,
    pub(crate) recipients: ApiRecipients,
    pub(crate) settings: ApiCampaignSettings,
}

/// Who a campaign goes to.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ApiRecipients {
    pub(crate) list_id: String,
}

/// A campaign's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ApiCampaignSettings {
    pub(crate) subject_line: String,
    pub(crate) title: String,
    pub(crate) from_name: String,
    pub(crate) reply_to: String,
}

/// One recipient of a campaign and what they did (`…/email-activity`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ApiEmailActivity {
    pub(crate) email_id: String,
    pub(crate) email_address: String,
    pub(crate) list_id: String,
    pub(crate) activity: Vec<ApiAction>,
}

/// One action in an email-activity item.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ApiAction {
    pub(crate) action: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) timestamp: String,
    pub(crate) url: String,
    pub(crate) ip: String,
}

/// One unsubscribe from a campaign (`…/unsubscribed`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ApiUnsubscribe {
    pub(crate) email_id: String,
    pub(crate) email_address: String,
    pub(crate) timestamp: String,
    pub(crate) reason: String,
    pub(crate) list_id: String,
}

/// The answer of a batch subscribe call.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BatchAnswer {
    pub(crate) new_members: Vec<Value>,
    pub(crate) updated_members: Vec<Value>,
    pub(crate) errors: Vec<BatchError>,
}

/// One refused member of a batch subscribe call.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BatchError {
    pub(crate) email_address: String,
    pub(crate) error: String,
    pub(crate) error_code: String,
    pub(crate) field: String,
    pub(crate) field_message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_take_the_default() {
        let member: ApiMember =
            parse(&serde_json::json!({"id": "h", "unsubscribe_reason": null, "tags": [{"id": 1, "name": null}]}))
                .unwrap();
        assert_eq!((member.id.as_str(), member.unsubscribe_reason.as_str()), ("h", ""));
        assert_eq!(member.tags[0].name, "");
        assert!(parse::<ApiMember>(&serde_json::json!({"id": 3})).is_err());
    }

    #[test]
    fn the_data_center_is_the_suffix_of_the_key() {
        for (key, expected) in [
            ("0123456789abcdef0123456789abcdef-us21", Some("us21")),
            ("abc-def-us6", Some("us6")),
            ("0123456789abcdef", None),
            ("abc-", None),
            ("abc-21", None),
            ("abc-us", None),
            ("abc-US21", None),
        ] {
            assert_eq!(data_center(key), expected, "{key}");
        }
    }

    #[test]
    fn the_subscriber_hash_is_md5_of_the_lowercased_trimmed_address() {
        // The reference's example address.
        for email in [
            "urist.mcvankab@freddiesjokes.com",
            "Urist.McVankab@FreddiesJokes.com",
            " urist.mcvankab@freddiesjokes.com ",
        ] {
            assert_eq!(subscriber_hash(email), "62eeb292278cc15f5817cb78f7790b08", "{email}");
        }
    }
}
