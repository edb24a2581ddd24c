//! The `jsonl` plugin: canonical records as JSON Lines files, one file per
//! stream (`<folder>/<stream>.jsonl`), as a source and as a destination.
//!
//! Not here: any mapping from another format; a line is one canonical
//! [`cutover_sdk::schema::Record`] as JSON.
//!
//! Start at [`Jsonl`]. The source reads from a byte offset kept in the cursor
//! and turns a malformed line into a reject with its line number; a line
//! over `max_line_bytes` is a `too_large` reject keeping its first KiB, read
//! past without being held. The
//! destination upserts on (source platform, entity, source id): see
//! [`destination`].

mod config;
pub mod destination;
mod source;

pub use config::JsonlConfig;

use cutover_sdk::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;

/// The streams this plugin offers, each with its entity.
const STREAMS: &[(&str, EntityKind)] =
    &[("contacts", EntityKind::Contact), ("lists", EntityKind::List), ("memberships", EntityKind::Membership)];

/// An opened `jsonl` plugin: a folder of `.jsonl` files.
pub struct Jsonl {
    folder: PathBuf,
    max_line_bytes: u64,
    readers: HashMap<String, source::StreamReader>,
    writers: HashMap<String, destination::StreamWriter>,
}

impl Jsonl {
    fn file_of(&self, stream: &str) -> PathBuf {
        self.folder.join(format!("{stream}.jsonl"))
    }
}

impl Plugin for Jsonl {
    type Config = JsonlConfig;

    fn describe() -> Description {
        STREAMS.iter().fold(
            Description::new(
                "jsonl",
                env!("CARGO_PKG_VERSION"),
                PluginKind::File,
                "canonical records as JSON Lines files, one per stream",
            ),
            |description, (name, entity)| description.stream(name, *entity, Direction::Both),
        )
    }

    fn open(config: JsonlConfig, context: &Context) -> Result<Self, PluginError> {
        if config.max_line_bytes == 0 {
            return Err(PluginError::new(
                ErrorCode::Config,
                "invalid config for plugin `jsonl`: `max_line_bytes`: must be at least 1",
            ));
        }
        Ok(Jsonl {
            folder: context.resolve(&config.folder),
            max_line_bytes: config.max_line_bytes,
            readers: HashMap::new(),
            writers: HashMap::new(),
        })
    }

    fn check(&mut self) -> Result<CheckReport, PluginError> {
        let exists = self.folder.is_dir();
        Ok(CheckReport {
            checks: vec![CheckItem {
                name: format!("folder {}", self.folder.display()),
                ok: exists || !self.folder.exists(),
                detail: (!exists).then(|| "does not exist yet: it is created on the first write".into()),
            }],
        })
    }

    fn discover(&mut self) -> Result<Inventory, PluginError> {
        let streams = STREAMS
            .iter()
            .map(|(stream, _)| StreamCount {
                stream: (*stream).into(),
                records: source::count_lines(&self.file_of(stream)),
            })
            .collect();
        Ok(Inventory { streams })
    }

    fn source(&mut self) -> Option<&mut dyn Source> {
        Some(self)
    }

    fn destination(&mut self) -> Option<&mut dyn Destination> {
        Some(self)
    }

    fn close(&mut self) -> Result<(), PluginError> {
        for (stream, writer) in self.writers.drain() {
            writer.finish().map_err(|error| error.in_stream(stream))?;
        }
        Ok(())
    }
}

impl Source for Jsonl {
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        let path = self.file_of(stream);
        let reader = match self.readers.entry(stream.to_owned()) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(source::StreamReader::open(path, self.max_line_bytes)?)
            }
        };
        reader.read(cursor, max_records)
    }
}

impl Destination for Jsonl {
    fn write(&mut self, stream: &str, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let path = self.file_of(stream);
        let writer = match self.writers.entry(stream.to_owned()) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                // The SDK only passes streams this plugin declares.
                let entity =
                    STREAMS.iter().find(|(name, _)| *name == stream).map(|(_, entity)| *entity).ok_or_else(|| {
                        PluginError::new(ErrorCode::Unsupported, format!("no stream `{stream}`")).in_stream(stream)
                    })?;
                entry.insert(destination::StreamWriter::open(path, entity)?)
            }
        };
        writer.write(records)
    }
}

cutover_sdk::export_plugin!(Jsonl);
