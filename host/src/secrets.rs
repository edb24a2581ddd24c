//! Secrets in `cutover.toml`: a plugin config value written `${ENV_VAR}`
//! comes from the environment and `file:PATH` from a file (relative to the
//! config's folder). A field whose name says it holds a secret (`api_key`,
//! `token`, `password`, …) must be such a reference: an inline value is
//! refused, so a config can be committed and shared.
//!
//! Every value resolved from a reference is held as a [`SecretString`] and
//! registered here; [`redact`] replaces each one with `****` in any text
//! before it reaches a log, a report, the state store or an error message,
//! including text a plugin wrote (a config error that quotes the value).

use secrecy::{ExposeSecret, SecretString};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

/// Field names that hold a secret; an inline value under one is refused.
const SECRET_NAMES: &[&str] = &["api_key", "apikey", "token", "password", "secret", "private_key", "client_secret"];

/// Why a reference could not be resolved, or a secret was inline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// `${NAME}` names a variable that is not set.
    #[error("`{field}` refers to ${{{variable}}}, which is not set in the environment")]
    MissingVariable {
        /// The config field, as a dotted path.
        field: String,
        /// The variable.
        variable: String,
    },
    /// `file:PATH` names a file that cannot be read.
    #[error("`{field}` refers to file {path}, which cannot be read: {reason}")]
    UnreadableFile {
        /// The config field.
        field: String,
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A secret written into the config itself.
    #[error(
        "`{field}` holds a secret inline: write it as \"${{ENV_VAR}}\" or \"file:PATH\" so the config can be shared"
    )]
    Inline {
        /// The config field.
        field: String,
    },
}

fn registry() -> std::sync::MutexGuard<'static, Vec<SecretString>> {
    static SECRETS: OnceLock<Mutex<Vec<SecretString>>> = OnceLock::new();
    SECRETS.get_or_init(Mutex::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn register(value: &str) {
    // Empty or one-character values would redact half of every message.
    if value.len() >= 4 {
        registry().push(SecretString::from(value.to_owned()));
    }
}

/// `text` with every registered secret replaced by `****`.
pub fn redact(text: &str) -> String {
    let secrets = registry();
    secrets.iter().fold(text.to_owned(), |text, secret| text.replace(secret.expose_secret(), "****"))
}

fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_NAMES.iter().any(|secret| name == *secret || name.ends_with(&format!("_{secret}")))
}

/// The plugin config `table` as JSON, with references resolved. `field` is
/// where the table is in the config (`source.config`), for messages.
pub fn resolve(table: &toml::Table, config_dir: &Path, field: &str) -> Result<serde_json::Value, SecretError> {
    let mut object = serde_json::Map::new();
    for (name, value) in table {
        let path = format!("{field}.{name}");
        object.insert(name.clone(), resolve_value(value, config_dir, &path, looks_secret(name))?);
    }
    Ok(serde_json::Value::Object(object))
}

fn resolve_value(
    value: &toml::Value,
    config_dir: &Path,
    field: &str,
    secret: bool,
) -> Result<serde_json::Value, SecretError> {
    Ok(match value {
        toml::Value::String(text) => {
            if let Some(variable) = text.strip_prefix("${").and_then(|rest| rest.strip_suffix('}')) {
                let resolved = std::env::var(variable).map_err(|_| SecretError::MissingVariable {
                    field: field.to_owned(),
                    variable: variable.to_owned(),
                })?;
                register(&resolved);
                serde_json::Value::String(resolved)
            } else if let Some(file) = text.strip_prefix("file:") {
                let path = config_dir.join(file);
                let resolved = std::fs::read_to_string(&path).map_err(|error| SecretError::UnreadableFile {
                    field: field.to_owned(),
                    path: path.display().to_string(),
                    reason: error.to_string(),
                })?;
                let resolved = resolved.trim_end_matches(['\n', '\r']).to_owned();
                register(&resolved);
                serde_json::Value::String(resolved)
            } else if secret {
                return Err(SecretError::Inline { field: field.to_owned() });
            } else {
                serde_json::Value::String(text.clone())
            }
        }
        toml::Value::Table(table) => resolve(table, config_dir, field)?,
        toml::Value::Array(items) => serde_json::Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| resolve_value(item, config_dir, &format!("{field}[{index}]"), secret))
                .collect::<Result<_, _>>()?,
        ),
        other => serde_json::to_value(other).unwrap_or(serde_json::Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn references_resolve_and_are_redacted_everywhere_after() {
        // SAFETY: set once, in this test only, before any thread reads it.
        unsafe { std::env::set_var("CUTOVER_TEST_SECRET_A", "sk_live_abcdef") };
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("token.txt"), "tok-from-file-42\n").unwrap();
        let resolved = resolve(
            &table("api_key = \"${CUTOVER_TEST_SECRET_A}\"\n[auth]\ntoken = \"file:token.txt\"\nregion = \"eu\""),
            folder.path(),
            "source.config",
        )
        .unwrap();
        assert_eq!(
            resolved,
            serde_json::json!({"api_key": "sk_live_abcdef", "auth": {"token": "tok-from-file-42", "region": "eu"}})
        );
        assert_eq!(
            redact("invalid type: string \"sk_live_abcdef\"; tok-from-file-42 refused"),
            "invalid type: string \"****\"; **** refused"
        );
    }

    #[test]
    fn inline_secrets_and_missing_references_are_refused_by_field() {
        let folder = tempfile::tempdir().unwrap();
        let check = |text: &str, expected: &str| {
            let error = resolve(&table(text), folder.path(), "destination.config").unwrap_err();
            assert_eq!(error.to_string(), expected);
        };
        check(
            "api_key = \"abc123\"",
            "`destination.config.api_key` holds a secret inline: write it as \"${ENV_VAR}\" or \"file:PATH\" so the config can be shared",
        );
        check(
            "[auth]\nclient_secret = \"x\"",
            "`destination.config.auth.client_secret` holds a secret inline: write it as \"${ENV_VAR}\" or \"file:PATH\" so the config can be shared",
        );
        check(
            "api_key = \"${CUTOVER_TEST_NOT_SET_ANYWHERE}\"",
            "`destination.config.api_key` refers to ${CUTOVER_TEST_NOT_SET_ANYWHERE}, which is not set in the environment",
        );
    }
}
