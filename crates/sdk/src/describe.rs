//! What a plugin author declares about a plugin; the SDK adds the versions and
//! the config's JSON Schema to make the full metadata.

use crate::Plugin;
use cutover_contract::metadata::{Direction, PluginKind, PluginMetadata, RateLimitProfile, StreamInfo};
use cutover_schema::{EntityKind, SCHEMA_VERSION};

/// A plugin's self-description, built with [`Description::new`] and
/// [`Description::stream`].
#[derive(Debug, Clone)]
pub struct Description {
    name: String,
    version: String,
    kind: PluginKind,
    summary: String,
    streams: Vec<StreamInfo>,
    rate_limit: Option<RateLimitProfile>,
}

impl Description {
    /// A plugin named `name` (the name operators write in `cutover.toml`) at
    /// `version` (use `env!("CARGO_PKG_VERSION")`), of `kind`, with a one-line
    /// `summary` of what it connects to.
    pub fn new(name: &str, version: &str, kind: PluginKind, summary: &str) -> Description {
        Description {
            name: name.into(),
            version: version.into(),
            kind,
            summary: summary.into(),
            streams: Vec::new(),
            rate_limit: None,
        }
    }

    /// Declares a stream carrying `entity`, read, written or both.
    pub fn stream(mut self, name: &str, entity: EntityKind, direction: Direction) -> Description {
        self.streams.push(StreamInfo { name: name.into(), entity, direction });
        self
    }

    /// Declares the platform's documented rate limits.
    pub fn rate_limit(mut self, profile: RateLimitProfile) -> Description {
        self.rate_limit = Some(profile);
        self
    }
}

impl Description {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn into_streams(self) -> Vec<StreamInfo> {
        self.streams
    }
}

/// The full metadata of `P`, as the host sees it.
pub(crate) fn metadata_of<P: Plugin>() -> PluginMetadata {
    let description = P::describe();
    let streams = streams_of::<P>(description.streams);
    PluginMetadata {
        name: description.name,
        version: description.version,
        description: description.summary,
        kind: description.kind,
        abi_version: cutover_abi::ABI_VERSION,
        schema_version: SCHEMA_VERSION,
        streams,
        config_schema: schemars::schema_for!(P::Config).to_value(),
        rate_limit: description.rate_limit,
    }
}

/// Every stream of `P`: those `describe` declares (`declared`), then the
/// registered ones. What an opened instance checks calls against, without
/// building the rest of the metadata (the config's JSON Schema).
pub(crate) fn streams_of<P: Plugin>(declared: Vec<StreamInfo>) -> Vec<StreamInfo> {
    let mut streams = declared;
    streams.extend(P::streams().infos());
    streams
}
