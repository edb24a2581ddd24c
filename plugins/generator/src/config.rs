//! The generator's config.

use schemars::JsonSchema;
use serde::Deserialize;

/// How many records to generate, and from which seed.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeneratorConfig {
    /// How many contacts the `contacts` stream holds.
    pub records: u64,
    /// How many engagement events the `events` stream holds, spread over the
    /// contacts and over the year 2025; default none.
    #[serde(default)]
    pub events: u64,
    /// Seed of the data set: the same seed gives the same records.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The platform name written into every record's `source_platform`.
    #[serde(default = "default_platform")]
    pub platform: String,
}

impl GeneratorConfig {
    /// `records` contacts from `seed`, no events, platform `generator`.
    pub fn new(records: u64, seed: u64) -> Self {
        GeneratorConfig { records, events: 0, seed, platform: default_platform() }
    }
}

fn default_seed() -> u64 {
    1
}

fn default_platform() -> String {
    "generator".into()
}
