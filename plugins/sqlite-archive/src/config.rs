//! The `sqlite-archive` plugin's config.

use schemars::JsonSchema;
use serde::Deserialize;
use std::path::PathBuf;

/// Where the archive is.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqliteArchiveConfig {
    /// The SQLite file holding the archive, one table per entity; relative to
    /// the migration config's folder. Created, with its folder, on the first
    /// write.
    pub path: PathBuf,
}
