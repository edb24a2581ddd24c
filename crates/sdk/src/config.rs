//! Plugin config parsing with errors that name the field.

use crate::{ErrorCode, PluginError};
use serde::de::DeserializeOwned;

/// Parses a plugin's JSON config. A refusal names the plugin, the field (as a
/// path such as `auth.api_key`) and what was expected.
pub fn parse_config<C: DeserializeOwned>(plugin: &str, config_json: &str) -> Result<C, PluginError> {
    let mut deserializer = serde_json::Deserializer::from_str(config_json);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = if path == "." {
            format!("invalid config for plugin `{plugin}`: {inner}")
        } else {
            format!("invalid config for plugin `{plugin}`: field `{path}`: {inner}")
        };
        PluginError::new(ErrorCode::Config, message)
            .with_help(format!("see the config schema with `cutover plugins inspect {plugin}`"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields are only parsed")]
    struct Config {
        path: String,
        limits: Limits,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields are only parsed")]
    struct Limits {
        batch: u32,
    }

    fn check(json: &str, expected: &str) {
        let error = parse_config::<Config>("demo", json).unwrap_err();
        assert_eq!(error.code, ErrorCode::Config);
        assert_eq!(error.message, expected);
    }

    #[test]
    fn names_the_field_and_what_was_expected() {
        check(
            r#"{"path": 3, "limits": {"batch": 1}}"#,
            "invalid config for plugin `demo`: field `path`: invalid type: integer `3`, expected a string at line 1 column 10",
        );
        check(
            r#"{"path": "x", "limits": {"batch": -1}}"#,
            "invalid config for plugin `demo`: field `limits.batch`: invalid value: integer `-1`, expected u32 at line 1 column 36",
        );
    }

    #[test]
    fn names_missing_and_unknown_fields() {
        check(
            r#"{"limits": {"batch": 1}}"#,
            "invalid config for plugin `demo`: missing field `path` at line 1 column 24",
        );
        check(
            r#"{"path": "x", "limits": {"batch": 1}, "pth": 1}"#,
            "invalid config for plugin `demo`: field `pth`: unknown field `pth`, expected `path` or `limits` at line 1 column 43",
        );
    }
}
