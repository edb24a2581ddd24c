//! The migration config, `cutover.toml`: which plugin is the source, which is
//! the destination, the config handed to each, and the streams to move.
//!
//! Unknown fields are refused, and every error names the file, the line and
//! the field (toml's spans).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

/// A parsed `cutover.toml`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationConfig {
    /// Where records come from.
    pub source: Endpoint,
    /// Where records go.
    pub destination: Endpoint,
    /// The streams to move, in order.
    pub streams: Vec<StreamConfig>,
    /// How the run is carried out.
    #[serde(default)]
    pub run: RunConfig,
    /// Where runs, checkpoints, the id map and rejects are kept.
    #[serde(default)]
    pub state: StateConfig,
    /// The cut-over of tracking links (`cutover redirects`): the fallback,
    /// the map files, the sub-id parameters carried to the new links.
    #[serde(default)]
    pub redirects: Option<cutover_redirects::RedirectsConfig>,
    /// How partners are ranked into top, mid and long-tail tiers by revenue
    /// (`cutover partners tiers`): the reporting currency, its rates, the
    /// window and the shares.
    #[serde(default)]
    pub tiers: Option<cutover_tiers::TierRule>,
}

/// Where the state store is.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// The SQLite state file, relative to the config's folder (default: the
    /// config's name with `.state.db`, beside it).
    #[serde(default)]
    pub path: Option<PathBuf>,
}

impl MigrationConfig {
    /// The state file of the config at `config_path`.
    pub fn state_path(&self, config_path: &Path) -> PathBuf {
        let folder = config_path.parent().unwrap_or(Path::new("."));
        match &self.state.path {
            Some(path) => folder.join(path),
            None => {
                let stem = config_path.file_stem().map_or("cutover".into(), |stem| stem.to_string_lossy());
                folder.join(format!("{stem}.state.db"))
            }
        }
    }
}

/// One side of the migration.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// A plugin name from `cutover plugins list`.
    pub plugin: String,
    /// Handed to the plugin as JSON; its schema is in `cutover plugins inspect NAME`.
    #[serde(default = "empty_table")]
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub config: toml::Table,
}

fn empty_table() -> toml::Table {
    toml::Table::new()
}

/// One stream to move, and how its records are mapped on the way.
///
/// A field is named as in the canonical entity (`email`, `status`,
/// `payout.method`), as `source_id` or `updated_at`, or as
/// `custom.<name>` for a custom field. The rules apply in this order:
/// `custom_fields`, `rename`, `values`, `defaults`, then `skip` (which sees
/// the mapped record). A record the rules cannot map (a value no value map
/// covers, a custom field that is not of its declared type) is rejected with
/// the field and the reason, never dropped.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StreamConfig {
    /// The source plugin's stream.
    pub source: String,
    /// The destination plugin's stream (default: the same name).
    #[serde(default)]
    pub destination: Option<String>,
    /// Custom fields by their name on the source: the type to give them
    /// (the source exported text) and, optionally, a new name.
    #[serde(default)]
    pub custom_fields: BTreeMap<String, CustomFieldRule>,
    /// Field → new field, e.g. `"custom.Status" = "status"` moves a custom
    /// field into a canonical one.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Field → (value on the source → value to write), e.g. statuses:
    /// `[streams.values.status]` `Banned = "suspended"`. A value with no
    /// entry passes unchanged.
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Field → value, for records that have none.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub defaults: BTreeMap<String, toml::Value>,
    /// Records left out on purpose; each counts as `skipped`.
    #[serde(default)]
    pub skip: Vec<SkipRule>,
    /// Records per batch for this stream, in place of `[run] batch_size`:
    /// e.g. several of the destination's bulk jobs per batch, which a
    /// plugin can send together (one checkpoint per batch either way).
    #[serde(default)]
    pub batch_size: Option<NonZeroU32>,
}

/// The type, and optionally the new name, of a custom field.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldRule {
    /// The type its values are converted to.
    #[serde(rename = "type")]
    pub field_type: cutover_schema::CustomFieldType,
    /// Its name on the destination (default: unchanged).
    #[serde(default)]
    pub name: Option<String>,
}

/// Which records to leave out: those whose `field` equals one of `equals`,
/// or, with `missing = true`, those that have no value in it.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipRule {
    /// The field looked at.
    pub field: String,
    /// Values that skip the record (compared as text, ignoring case).
    #[serde(default)]
    pub equals: Vec<String>,
    /// Skip records with no value in the field.
    #[serde(default)]
    pub missing: bool,
}

impl StreamConfig {
    /// The destination stream's name.
    pub fn destination_stream(&self) -> &str {
        self.destination.as_deref().unwrap_or(&self.source)
    }
}

/// How a run is carried out.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Records per batch across the plugin boundary (at least 1).
    #[serde(default = "default_batch_size")]
    pub batch_size: NonZeroU32,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig { batch_size: default_batch_size() }
    }
}

fn default_batch_size() -> NonZeroU32 {
    NonZeroU32::new(1000).unwrap_or(NonZeroU32::MIN)
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid migration config.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

impl MigrationConfig {
    /// Reads and parses the config at `path`.
    pub fn load(path: &Path) -> Result<MigrationConfig, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        MigrationConfig::parse(&text, path)
    }

    /// Parses config text that came from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<MigrationConfig, ConfigError> {
        toml::from_str(text).map_err(|error| {
            let offset = error.span().map_or(0, |span| span.start);
            let before = &text[..offset.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |newline| newline + 1) + 1;
            ConfigError::Invalid { path: path.to_owned(), line, column, message: error.message().trim_end().to_owned() }
        })
    }
}

/// The JSON Schema of `cutover.toml`, for editors to complete and check it.
pub fn json_schema() -> serde_json::Value {
    schemars::schema_for!(MigrationConfig).to_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_error(text: &str, expected: &str) {
        let error = MigrationConfig::parse(text, Path::new("cutover.toml")).unwrap_err();
        assert_eq!(error.to_string(), expected);
    }

    #[test]
    fn a_valid_config_parses_with_defaults() {
        let config = MigrationConfig::parse(
            "[source]\nplugin = \"generator\"\nconfig = { records = 5 }\n[destination]\nplugin = \"jsonl\"\n[[streams]]\nsource = \"contacts\"\n",
            Path::new("cutover.toml"),
        )
        .unwrap();
        assert_eq!(config.streams[0].destination_stream(), "contacts");
        assert_eq!(config.run.batch_size.get(), 1000);
        assert_eq!(config.streams[0].batch_size, None);
        assert_eq!(config.source.config.get("records").and_then(toml::Value::as_integer), Some(5));
    }

    #[test]
    fn the_published_schema_lists_every_section() {
        let schema = json_schema();
        let properties: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        assert_eq!(properties, ["destination", "redirects", "run", "source", "state", "streams", "tiers"]);
        assert_eq!(schema["additionalProperties"], false);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        check_error(
            "[source]\nplugin = \"generator\"\n[destination]\nplugin = \"jsonl\"\nbatch = 3\n[[streams]]\nsource = \"contacts\"\n",
            "cutover.toml:5:1: unknown field `batch`, expected `plugin` or `config`",
        );
        check_error(
            "[source]\nplugin = \"generator\"\n[destination]\nplugin = \"jsonl\"\n",
            "cutover.toml:1:1: missing field `streams`",
        );
        check_error(
            "[source]\nplugin = \"g\"\n[destination]\nplugin = \"j\"\n[run]\nbatch_size = 0\n[[streams]]\nsource = \"c\"\n",
            "cutover.toml:6:14: invalid value: integer `0`, expected a nonzero u32",
        );
    }

    #[test]
    fn a_stream_can_have_its_own_batch_size() {
        let config = MigrationConfig::parse(
            "[source]\nplugin = \"g\"\n[destination]\nplugin = \"j\"\n[[streams]]\nsource = \"c\"\nbatch_size = 5000\n",
            Path::new("cutover.toml"),
        )
        .unwrap();
        assert_eq!(config.streams[0].batch_size.map(NonZeroU32::get), Some(5000));
        assert_eq!(config.run.batch_size.get(), 1000);
    }
}
