//! The generator's config.

use schemars::JsonSchema;
use serde::Deserialize;

/// How many records to generate, and from which seed.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeneratorConfig {
    /// How many contacts the `contacts` stream holds.
    pub records: u64,
    /// Seed of the data set: the same seed gives the same records.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The platform name written into every record's `source_platform`.
    #[serde(default = "default_platform")]
    pub platform: String,
}

fn default_seed() -> u64 {
    1
}

fn default_platform() -> String {
    "generator".into()
}
