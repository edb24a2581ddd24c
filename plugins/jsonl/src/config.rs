//! The `jsonl` plugin's config.

use schemars::JsonSchema;
use serde::Deserialize;
use std::path::PathBuf;

/// Where the files are.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonlConfig {
    /// Folder holding one `<stream>.jsonl` file per stream; relative to the
    /// migration config's folder. Created on the first write.
    pub folder: PathBuf,
}
