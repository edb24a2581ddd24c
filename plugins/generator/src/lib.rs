//! The `generator` source plugin: seeded, deterministic canonical contacts of
//! any volume, for demos, tests and benchmarks.
//!
//! Not here: any file or network I/O. Record `i` of a seed is a pure function
//! of `(seed, i)`, so a read resumed from any cursor gives exactly the records
//! an uninterrupted read would, and two runs with the same seed agree.
//!
//! Start at [`Generator`]. Who depends on it: the host loads it as a library;
//! the boundary benchmark links it in-process.

mod config;
mod contacts;

pub use config::GeneratorConfig;

use cutover_sdk::prelude::*;

/// An opened generator.
pub struct Generator {
    config: GeneratorConfig,
}

impl Plugin for Generator {
    type Config = GeneratorConfig;

    fn describe() -> Description {
        Description::new(
            "generator",
            env!("CARGO_PKG_VERSION"),
            PluginKind::File,
            "seeded, deterministic canonical contacts of any volume",
        )
        .stream("contacts", EntityKind::Contact, Direction::Source)
    }

    fn open(config: GeneratorConfig, _context: &Context) -> Result<Self, PluginError> {
        Ok(Generator { config })
    }

    fn discover(&mut self) -> Result<Inventory, PluginError> {
        Ok(Inventory { streams: vec![StreamCount { stream: "contacts".into(), records: Some(self.config.records) }] })
    }

    fn source(&mut self) -> Option<&mut dyn Source> {
        Some(self)
    }
}

impl Source for Generator {
    fn read(&mut self, _stream: &str, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        let start = match cursor {
            None => 0,
            Some(text) => text.parse::<u64>().ok().filter(|index| *index <= self.config.records).ok_or_else(|| {
                PluginError::new(
                    ErrorCode::InvalidCursor,
                    format!("cursor `{text}` is not a record index between 0 and {}", self.config.records),
                )
            })?,
        };
        let end = start.saturating_add(max_records as u64).min(self.config.records);
        let records = (start..end).map(|index| contacts::contact(&self.config, index)).collect();
        Ok(ReadBatch {
            records,
            rejects: Vec::new(),
            next_cursor: Some(end.to_string()),
            done: end == self.config.records,
        })
    }
}

cutover_sdk::export_plugin!(Generator);
