//! The `mailchimp` plugin's config.

use schemars::JsonSchema;
use secrecy::SecretString;
use serde::Deserialize;

/// Which Mailchimp account, and which audience.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MailchimpConfig {
    /// The API key, `<32 hex>-<data center>` (e.g. `…-us21`); the data
    /// center picks the host. Write it as `${ENV_VAR}` or `file:PATH`: the
    /// host resolves it and refuses keys written inline.
    #[schemars(with = "String", extend("writeOnly" = true))]
    pub api_key: SecretString,
    /// The API root to call instead of `https://<dc>.api.mailchimp.com/3.0/`
    /// (an emulator, a proxy). Must end in the API version path, e.g.
    /// `http://127.0.0.1:8080/3.0/`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Read only this audience (list id, e.g. `9e67587f52`); as a
    /// destination, write every member to it whatever list they came from.
    /// Without it every audience is read, and members are written to the
    /// audience their `list` reference names.
    #[serde(default)]
    pub list_id: Option<String>,
    /// Fields every audience created by a write starts with: Mailchimp
    /// requires `contact` (company, address1, city, country…),
    /// `permission_reminder` and `campaign_defaults` (from_name, from_email,
    /// subject, language). Without it, writing an audience that does not
    /// exist yet is rejected.
    #[serde(default)]
    pub list_defaults: Option<serde_json::Map<String, serde_json::Value>>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn the_key_is_kept_secret_in_debug_output() {
        let config: MailchimpConfig =
            serde_json::from_str(r#"{"api_key": "0123456789abcdef0123456789abcdef-us21"}"#).unwrap();
        assert_eq!(config.api_key.expose_secret(), "0123456789abcdef0123456789abcdef-us21");
        assert!(!format!("{config:?}").contains("0123456789abcdef"), "{config:?}");
    }
}
