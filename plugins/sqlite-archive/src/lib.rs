//! The `sqlite-archive` plugin: every canonical entity in one SQLite file,
//! one typed table per entity, as a destination to archive a retired
//! platform into and as a source to migrate out of the archive again.
//!
//! Not here: any platform's own format. A table holds canonical records of
//! one [`EntityKind`]; each stream is named after its entity's
//! [`EntityKind::as_str`] (`contact`, `order`, `engagement_event`, …) and so
//! is its table, so the streams are exactly [`EntityKind::ALL`].
//!
//! Start at [`SqliteArchive`]. A table has the columns `source_platform`,
//! `source_id`, `updated_at` (RFC 3339, UTC), one typed column per top-level
//! field of the entity (see `columns`: strings `TEXT`, integers and booleans
//! `INTEGER`, decimals their exact string, anything nested its JSON),
//! `custom_fields` (JSON) and `fingerprint`, keyed on
//! (`source_platform`, `source_id`). The destination upserts one transaction
//! per batch in WAL mode (see `destination`); the source reads in rowid
//! order with the last rowid as its cursor (see `source`).
//!
//! ```json
//! { "path": "archive/legacy-crm.sqlite" }
//! ```

mod columns;
mod config;
mod destination;
mod source;
mod table;

pub use config::SqliteArchiveConfig;

use columns::Catalog;
use cutover_sdk::prelude::*;
use rusqlite::{Connection, OpenFlags};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// An opened archive: one SQLite file, connected on first use.
pub struct SqliteArchive {
    path: PathBuf,
    catalog: Catalog,
    connection: Option<Connection>,
    /// Whether the connection has been switched to WAL, which only a writer needs.
    wal: bool,
    /// Tables created or widened to the current schema by this instance.
    prepared: HashSet<EntityKind>,
}

/// The connection in `slot`, opening `path` (and creating it and its folder)
/// on first use. A free function so that callers can keep borrowing the
/// archive's other fields.
fn connect<'slot>(slot: &'slot mut Option<Connection>, path: &Path) -> Result<&'slot mut Connection, PluginError> {
    if let Some(connection) = slot {
        return Ok(connection);
    }
    if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(|error| {
            PluginError::new(
                ErrorCode::Io,
                format!("cannot create folder {} for the archive: {error}", folder.display()),
            )
        })?;
    }
    let connection = Connection::open(path).map_err(|error| sql_error(path, "open", &error))?;
    Ok(slot.insert(connection))
}

/// The entity a stream carries: streams are named after their entity.
fn entity_of(stream: &str) -> Result<EntityKind, PluginError> {
    EntityKind::ALL.iter().copied().find(|entity| entity.as_str() == stream).ok_or_else(|| {
        PluginError::new(ErrorCode::Unsupported, format!("no stream `{stream}`: streams are named after entities"))
            .in_stream(stream)
    })
}

fn sql_error(path: &Path, doing: &str, error: &rusqlite::Error) -> PluginError {
    PluginError::new(ErrorCode::Io, format!("cannot {doing} archive {}: {error}", path.display()))
}

impl Plugin for SqliteArchive {
    type Config = SqliteArchiveConfig;

    fn describe() -> Description {
        EntityKind::ALL.iter().fold(
            Description::new(
                "sqlite-archive",
                env!("CARGO_PKG_VERSION"),
                PluginKind::Archive,
                "every canonical entity in a SQLite file, one typed table per entity",
            ),
            |description, entity| description.stream(entity.as_str(), *entity, Direction::Both),
        )
    }

    fn open(config: SqliteArchiveConfig, context: &Context) -> Result<Self, PluginError> {
        let catalog = Catalog::new().map_err(|reason| {
            PluginError::new(ErrorCode::Internal, format!("cannot derive the archive's columns: {reason}"))
        })?;
        Ok(SqliteArchive {
            path: context.resolve(&config.path),
            catalog,
            connection: None,
            wal: false,
            prepared: HashSet::new(),
        })
    }

    /// Takes and releases the write lock of an existing file; for a file not
    /// yet written, checks that the nearest existing folder is writable.
    fn check(&mut self) -> Result<CheckReport, PluginError> {
        let name = format!("archive {} can be opened for writing", self.path.display());
        let outcome = if self.path.exists() {
            Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_WRITE)
                .and_then(|connection| connection.execute_batch("BEGIN IMMEDIATE; ROLLBACK;"))
                .map(|()| None)
                .map_err(|error| error.to_string())
        } else {
            let folder = self.path.ancestors().skip(1).find(|folder| folder.is_dir());
            match folder.map(std::fs::metadata) {
                Some(Ok(metadata)) if !metadata.permissions().readonly() => {
                    Ok(Some("does not exist yet: it is created on the first write".to_owned()))
                }
                Some(Ok(_)) => Err("its folder is read-only".to_owned()),
                Some(Err(error)) => Err(format!("cannot inspect its folder: {error}")),
                None => Err("none of its folders exists".to_owned()),
            }
        };
        let item = match outcome {
            Ok(detail) => CheckItem { name, ok: true, detail },
            Err(detail) => CheckItem { name, ok: false, detail: Some(detail) },
        };
        Ok(CheckReport { checks: vec![item] })
    }

    fn discover(&mut self) -> Result<Inventory, PluginError> {
        if self.connection.is_none() && !self.path.exists() {
            let streams = EntityKind::ALL
                .iter()
                .map(|entity| StreamCount { stream: entity.as_str().into(), records: None })
                .collect();
            return Ok(Inventory { streams });
        }
        let path = &self.path;
        let connection = connect(&mut self.connection, path)?;
        let mut streams = Vec::with_capacity(EntityKind::ALL.len());
        for entity in EntityKind::ALL {
            let table = entity.as_str();
            let count = if table::exists(connection, table).map_err(|error| sql_error(path, "inspect", &error))? {
                connection
                    .query_row(&format!("SELECT count(*) FROM {}", columns::quote(table)), [], |row| {
                        row.get::<_, i64>(0)
                    })
                    .map_err(|error| sql_error(path, "count the rows of a table in", &error).in_stream(table))?
            } else {
                0
            };
            streams.push(StreamCount { stream: table.into(), records: u64::try_from(count).ok() });
        }
        Ok(Inventory { streams })
    }

    fn source(&mut self) -> Option<&mut dyn Source> {
        Some(self)
    }

    fn destination(&mut self) -> Option<&mut dyn Destination> {
        Some(self)
    }

    fn close(&mut self) -> Result<(), PluginError> {
        // A new connection starts in rollback-journal mode and knows no tables.
        self.wal = false;
        self.prepared.clear();
        match self.connection.take() {
            Some(connection) => connection.close().map_err(|(_, error)| sql_error(&self.path, "close", &error)),
            None => Ok(()),
        }
    }
}

impl Source for SqliteArchive {
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        let entity = entity_of(stream)?;
        let after = source::parse_cursor(cursor).map_err(|source::BadCursor| {
            PluginError::new(
                ErrorCode::InvalidCursor,
                format!("cursor `{}` is not a rowid of table `{stream}`", cursor.unwrap_or_default()),
            )
            .in_stream(stream)
            .with_help(
                "a cursor of this plugin is the integer rowid of the last row read; restart the stream without it",
            )
        })?;
        if self.connection.is_none() && !self.path.exists() {
            return Err(PluginError::new(ErrorCode::Io, format!("archive {} does not exist", self.path.display()))
                .in_stream(stream)
                .with_help("write to it first, or check `path` in the plugin's config"));
        }
        let connection = connect(&mut self.connection, &self.path)?;
        source::read(connection, stream, entity, self.catalog.columns(entity), after, cursor, max_records)
            .map_err(|error| sql_error(&self.path, "read from", &error).in_stream(stream))
    }
}

impl Destination for SqliteArchive {
    fn write(&mut self, stream: &str, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let entity = entity_of(stream)?;
        let connection = connect(&mut self.connection, &self.path)?;
        if !self.wal {
            // Readers are not blocked by a writer in WAL mode, and a batch
            // commits with one sync.
            connection
                .pragma_update(None, "journal_mode", "WAL")
                .map_err(|error| sql_error(&self.path, "switch to WAL mode", &error).in_stream(stream))?;
            self.wal = true;
        }
        destination::write_batch(connection, &self.catalog, entity, &mut self.prepared, records)
            .map_err(|error| sql_error(&self.path, "write to", &error).in_stream(stream))
    }
}

cutover_sdk::export_plugin!(SqliteArchive);

#[cfg(test)]
mod tests;
