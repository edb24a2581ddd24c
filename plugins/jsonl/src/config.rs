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
    /// The longest a line may be, in bytes, its line end left out; default
    /// 16 MiB (16777216). A longer line is a `too_large` reject keeping its
    /// first KiB, and reading goes on at the next line: the reader never
    /// holds more of a line than this.
    #[serde(default = "default_max_line_bytes")]
    #[schemars(range(min = 1))]
    pub max_line_bytes: u64,
}

impl JsonlConfig {
    /// The config of a folder, with every other setting at its default.
    pub fn new(folder: PathBuf) -> JsonlConfig {
        JsonlConfig { folder, max_line_bytes: DEFAULT_MAX_LINE_BYTES }
    }
}

/// 16 MiB.
pub(crate) const DEFAULT_MAX_LINE_BYTES: u64 = 16 << 20;

fn default_max_line_bytes() -> u64 {
    DEFAULT_MAX_LINE_BYTES
}
