//! What a plugin says about itself, and the small JSON documents that cross
//! with `open`, `check` and `discover`. Metadata is data: the host shows it
//! (`cutover plugins list`) and routes by it, and knows no platform by name.
//!
//! Every document here tolerates unknown fields and adds fields only, so a
//! newer plugin can describe itself to an older host.

use cutover_schema::{EntityKind, SchemaVersion};
use serde::{Deserialize, Serialize};

/// Everything a plugin declares about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginMetadata {
    /// Unique name operators use in `cutover.toml` (`mailchimp`, `jsonl`).
    pub name: String,
    /// The plugin's own version (semver).
    pub version: String,
    /// One line that says what the plugin connects to.
    pub description: String,
    /// What kind of platform it connects to.
    pub kind: PluginKind,
    /// The plugin ABI it was built against.
    pub abi_version: u32,
    /// The canonical-schema version its records speak.
    pub schema_version: SchemaVersion,
    /// The streams it offers.
    pub streams: Vec<StreamInfo>,
    /// JSON Schema of its config.
    pub config_schema: serde_json::Value,
    /// How fast the platform lets it go, if it is rate limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitProfile>,
}

impl PluginMetadata {
    /// The stream of that name, if the plugin offers it.
    pub fn stream(&self, name: &str) -> Option<&StreamInfo> {
        self.streams.iter().find(|stream| stream.name == name)
    }
}

/// The kind of platform a plugin connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PluginKind {
    /// Affiliate networks and partner platforms.
    Affiliate,
    /// Email service providers and list servers.
    Esp,
    /// Customer relationship management.
    Crm,
    /// Shops and order systems.
    Store,
    /// Files (CSV, JSON Lines) and generated data.
    File,
    /// Long-term archives of a retired platform.
    Archive,
}

impl PluginKind {
    /// Every kind, in the order they are documented.
    pub const ALL: [PluginKind; 6] = [
        PluginKind::Affiliate,
        PluginKind::Esp,
        PluginKind::Crm,
        PluginKind::Store,
        PluginKind::File,
        PluginKind::Archive,
    ];

    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Affiliate => "affiliate",
            PluginKind::Esp => "esp",
            PluginKind::Crm => "crm",
            PluginKind::Store => "store",
            PluginKind::File => "file",
            PluginKind::Archive => "archive",
        }
    }
}

/// One stream a plugin offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamInfo {
    /// Stream name, unique within the plugin (`contacts`, `members`).
    pub name: String,
    /// The canonical entity its records carry.
    pub entity: EntityKind,
    /// Whether the plugin reads it, writes it, or both.
    pub direction: Direction,
}

/// Which way records flow through a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The plugin reads it from the platform.
    Source,
    /// The plugin writes it to the platform.
    Destination,
    /// Both.
    Both,
}

impl Direction {
    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Source => "source",
            Direction::Destination => "destination",
            Direction::Both => "both",
        }
    }

    /// Whether records can be read from such a stream.
    pub fn can_read(self) -> bool {
        matches!(self, Direction::Source | Direction::Both)
    }

    /// Whether records can be written to such a stream.
    pub fn can_write(self) -> bool {
        matches!(self, Direction::Destination | Direction::Both)
    }

    /// Whether a stream declared `self` can be used the `wanted` way.
    pub fn offers(self, wanted: Direction) -> bool {
        match wanted {
            Direction::Source => self.can_read(),
            Direction::Destination => self.can_write(),
            Direction::Both => self == Direction::Both,
        }
    }
}

/// Streams as messages list them: `contacts (both), members (source)`, or `none`.
pub fn stream_list(streams: &[StreamInfo]) -> String {
    if streams.is_empty() {
        return "none".into();
    }
    streams.iter().map(|info| format!("{} ({})", info.name, info.direction.as_str())).collect::<Vec<_>>().join(", ")
}

/// A platform's documented limits, used for the ETA and the shared limiter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimitProfile {
    /// Sustained requests per second allowed per account.
    pub requests_per_second: u32,
    /// Simultaneous requests allowed per account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// Most records one write request accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_batch: Option<u32>,
}

/// What the host tells a plugin when it opens an instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenContext {
    /// Folder that relative paths in the config are relative to (the
    /// migration config's folder).
    pub base_dir: String,
    /// How the plugin logs, so its lines join the host's on stderr; absent
    /// from an older host, and then the plugin stays quiet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<LogSettings>,
}

/// The host's logging, for a plugin to log the same way. Its `Debug` leaves
/// out the values of `redact`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogSettings {
    /// A `tracing` filter, as given to `cutover --log`.
    pub filter: String,
    /// JSON lines rather than text.
    pub json: bool,
    /// Values the plugin's log lines must not carry, in any of their
    /// [`forms`](crate::redact::forms): the secrets the host resolved into
    /// this instance's config (which the plugin holds already). The plugin
    /// writes each line with them [redacted](crate::redact::Redactor), as
    /// the host does its own. Empty from an older host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redact: Vec<String>,
}

impl std::fmt::Debug for LogSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSettings")
            .field("filter", &self.filter)
            .field("json", &self.json)
            .field("redact", &format_args!("[{} values]", self.redact.len()))
            .finish()
    }
}

/// The answer to `check`: each thing verified, and whether it held.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// One entry per thing checked.
    pub checks: Vec<CheckItem>,
}

/// One verified thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckItem {
    /// What was checked (`credentials`, `write access to out/`).
    pub name: String,
    /// Whether it held.
    pub ok: bool,
    /// Why not, or what was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The answer to `discover`: how much there is per stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// One entry per stream the plugin can count.
    pub streams: Vec<StreamCount>,
}

/// The size of one stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamCount {
    /// The stream.
    pub stream: String,
    /// How many records it holds, when the platform says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_settings_read_without_the_values_to_redact_and_never_show_them() {
        // From an older host: no `redact`.
        let old: OpenContext =
            serde_json::from_str(r#"{"base_dir":".","log":{"filter":"debug","json":false}}"#).unwrap();
        assert_eq!(old.log.as_ref().map(|log| log.redact.len()), Some(0));
        let settings = LogSettings { filter: "trace".into(), json: true, redact: vec!["sk_live_1234".into()] };
        let json = serde_json::to_string(&settings).unwrap();
        assert_eq!(serde_json::from_str::<LogSettings>(&json).unwrap(), settings);
        // A plugin built before the field reads the new document.
        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct OlderLogSettings {
            filter: String,
            json: bool,
        }
        assert!(serde_json::from_str::<OlderLogSettings>(&json).is_ok(), "{json}");
        assert!(!format!("{settings:?}").contains("sk_live"), "{settings:?}");
        assert!(!format!("{:?}", OpenContext { base_dir: ".".into(), log: Some(settings) }).contains("sk_live"));
    }
}
