//! The `csv` plugin: CSV exports as a source and CSV files as a destination,
//! one file per stream (`<folder>/<stream>.csv` unless configured).
//!
//! Not here: any platform's API. A file is what a platform exported (any
//! header, mapped to canonical fields by [`CsvConfig`]) or what this plugin
//! wrote (a canonical header, see the `mapping` module).
//!
//! Start at [`Csv`]. The source (`source`) reads from a byte-offset cursor,
//! takes UTF-8, Latin-1 or Windows-1252, a BOM, CRLF, `,` `;` or tab, and
//! quoted fields across lines; every row it cannot turn into a record is a
//! reject with its `<file>:<line>`, its raw text and a reason code. A row
//! over `max_row_bytes` or a field over `max_field_bytes` is a `too_large`
//! reject keeping its first KiB, and the reader never holds much more than
//! `max_row_bytes` of one row. The
//! destination (`destination`) upserts on (source platform, entity, source
//! id).
//!
//! ```
//! use cutover_plugin_csv::{Csv, CsvConfig};
//! use cutover_sdk::{Context, Plugin, Source};
//!
//! let folder = tempfile::tempdir()?;
//! std::fs::write(
//!     folder.path().join("contacts.csv"),
//!     "Customer ID;E-Mail;Plan\r\nc1;ada@example.org;pro\r\n;nobody@example.org;free\r\n",
//! )?;
//! let config: CsvConfig = serde_json::from_str(r#"{
//!     "folder": ".", "platform": "shop",
//!     "streams": { "contacts": { "columns": { "Customer ID": "source_id", "E-Mail": "email" } } }
//! }"#)?;
//! let mut csv = Csv::open(config, &Context::new(folder.path().to_owned()))?;
//! let batch = csv.read("contacts", None, 100)?;
//! assert_eq!(batch.records[0].source_id, "c1");
//! assert_eq!(batch.records[0].custom_fields["Plan"], cutover_sdk::schema::CustomValue::Text("pro".into()));
//! assert!(batch.rejects[0].location.ends_with("contacts.csv:3"));
//! assert_eq!(batch.rejects[0].reason.code, "missing_source_id");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod destination;
mod encoding;
mod mapping;
mod source;

pub use config::{CsvConfig, Delimiter, StreamConfig};
pub use encoding::TextEncoding;

use cutover_sdk::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;

/// The streams this plugin offers, each with its entity.
const STREAMS: &[(&str, EntityKind)] = &[
    ("contacts", EntityKind::Contact),
    ("partners", EntityKind::Partner),
    ("links", EntityKind::TrackingLink),
    ("clicks", EntityKind::Click),
    ("conversions", EntityKind::Conversion),
    ("commissions", EntityKind::Commission),
];

/// An opened `csv` plugin: a folder of CSV files.
pub struct Csv {
    folder: PathBuf,
    config: CsvConfig,
    readers: HashMap<String, source::StreamReader>,
    writers: HashMap<String, destination::StreamWriter>,
}

impl Csv {
    fn file_of(&self, stream: &str) -> PathBuf {
        match self.config.streams.get(stream).and_then(|stream| stream.file.as_ref()) {
            Some(file) => self.folder.join(file),
            None => self.folder.join(format!("{stream}.csv")),
        }
    }

    fn read_settings(&self, stream: &str, kind: EntityKind) -> source::ReadSettings {
        source::ReadSettings {
            kind,
            delimiter: self.config.delimiter,
            encoding: self.config.encoding,
            platform: self.config.platform.clone(),
            columns: self.config.streams.get(stream).map(|stream| stream.columns.clone()).unwrap_or_default(),
        }
    }

    fn limits(&self) -> source::Limits {
        source::Limits { max_field_bytes: self.config.max_field_bytes, max_row_bytes: self.config.max_row_bytes }
    }

    fn entity_of(stream: &str) -> Result<EntityKind, PluginError> {
        // The SDK only passes streams this plugin declares.
        STREAMS
            .iter()
            .find(|(name, _)| *name == stream)
            .map(|(_, entity)| *entity)
            .ok_or_else(|| PluginError::new(ErrorCode::Unsupported, format!("no stream `{stream}`")).in_stream(stream))
    }
}

impl Plugin for Csv {
    type Config = CsvConfig;

    fn describe() -> Description {
        STREAMS.iter().fold(
            Description::new(
                "csv",
                env!("CARGO_PKG_VERSION"),
                PluginKind::File,
                "CSV files, one per stream, with a column mapping to canonical fields",
            ),
            |description, (name, entity)| description.stream(name, *entity, Direction::Both),
        )
    }

    fn open(config: CsvConfig, context: &Context) -> Result<Self, PluginError> {
        for (name, limit) in [("max_field_bytes", config.max_field_bytes), ("max_row_bytes", config.max_row_bytes)] {
            if limit == 0 {
                return Err(PluginError::new(
                    ErrorCode::Config,
                    format!("invalid config for plugin `csv`: `{name}`: must be at least 1"),
                ));
            }
        }
        for (stream, stream_config) in &config.streams {
            let entity = Csv::entity_of(stream).map_err(|_| {
                PluginError::new(
                    ErrorCode::Config,
                    format!(
                        "invalid config for plugin `csv`: `streams.{stream}`: no such stream (expected one of {})",
                        STREAMS.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            for (header, canonical) in &stream_config.columns {
                if !mapping::Layout::check_target(entity, canonical) {
                    return Err(PluginError::new(
                        ErrorCode::Config,
                        format!(
                            "invalid config for plugin `csv`: `streams.{stream}.columns`: `{header}` is mapped to \
                             `{canonical}`, which is not source_id, source_platform, updated_at, custom_fields, \
                             custom.<name> or a field of a {}",
                            entity.as_str()
                        ),
                    )
                    .in_stream(stream.as_str()));
                }
            }
        }
        Ok(Csv { folder: context.resolve(&config.folder), config, readers: HashMap::new(), writers: HashMap::new() })
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
            .map(|(stream, entity)| StreamCount {
                stream: (*stream).into(),
                records: source::StreamReader::open_with(
                    self.file_of(stream),
                    self.read_settings(stream, *entity),
                    self.limits(),
                )
                .and_then(source::StreamReader::count_rows)
                .ok(),
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

impl Source for Csv {
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        let kind = Csv::entity_of(stream)?;
        let path = self.file_of(stream);
        let settings = self.read_settings(stream, kind);
        let limits = self.limits();
        let reader = match self.readers.entry(stream.to_owned()) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(source::StreamReader::open_with(path, settings, limits)?)
            }
        };
        reader.read(cursor, max_records)
    }
}

impl Destination for Csv {
    fn write(&mut self, stream: &str, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let kind = Csv::entity_of(stream)?;
        let path = self.file_of(stream);
        let settings =
            destination::WriteSettings { kind, delimiter: self.config.delimiter, encoding: self.config.encoding };
        let writer = match self.writers.entry(stream.to_owned()) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                entry.insert(destination::StreamWriter::open(path, settings)?)
            }
        };
        writer.write(records)
    }
}

cutover_sdk::export_plugin!(Csv);
