//! The `generator` source plugin: seeded, deterministic canonical contacts and
//! engagement events of any volume, for demos, tests and benchmarks.
//!
//! Not here: any file or network I/O. Record `i` of a seed is a pure function
//! of `(seed, i)`, so a read resumed from any cursor gives exactly the records
//! an uninterrupted read would, and two runs with the same seed agree.
//!
//! Start at [`Generator`]. Who depends on it: the host loads it as a library;
//! the boundary benchmark links it in-process.

mod config;
mod contacts;
mod events;

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
            "seeded, deterministic canonical contacts and engagement events of any volume",
        )
        .stream("contacts", EntityKind::Contact, Direction::Source)
        .stream("events", EntityKind::EngagementEvent, Direction::Source)
    }

    fn open(config: GeneratorConfig, _context: &Context) -> Result<Self, PluginError> {
        Ok(Generator { config })
    }

    fn discover(&mut self) -> Result<Inventory, PluginError> {
        let events = if self.config.records == 0 { 0 } else { self.config.events };
        Ok(Inventory {
            streams: vec![
                StreamCount { stream: "contacts".into(), records: Some(self.config.records) },
                StreamCount { stream: "events".into(), records: Some(events) },
            ],
        })
    }

    fn source(&mut self) -> Option<&mut dyn Source> {
        Some(self)
    }
}

impl Source for Generator {
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        let total = match stream {
            "contacts" => self.config.records,
            "events" if self.config.records > 0 => self.config.events,
            "events" => 0,
            other => {
                return Err(PluginError::new(
                    ErrorCode::Unsupported,
                    format!("the generator has no stream `{other}`; its streams are `contacts` and `events`"),
                ));
            }
        };
        let start = match cursor {
            None => 0,
            Some(text) => text.parse::<u64>().ok().filter(|index| *index <= total).ok_or_else(|| {
                PluginError::new(
                    ErrorCode::InvalidCursor,
                    format!("cursor `{text}` is not a record index between 0 and {total}"),
                )
            })?,
        };
        let end = start.saturating_add(max_records as u64).min(total);
        let records = match stream {
            "contacts" => (start..end).map(|index| contacts::contact(&self.config, index)).collect(),
            _ => (start..end).filter_map(|index| events::event(&self.config, index)).collect(),
        };
        Ok(ReadBatch { records, rejects: Vec::new(), next_cursor: Some(end.to_string()), done: end == total })
    }
}

cutover_sdk::export_plugin!(Generator);
