//! The state store: runs, per-stream checkpoints, the id map and the rejects
//! ledger, behind one interface ([`StateStore`]). SQLite ([`SqliteState`], a
//! file beside the migration config) is the embedded default; a PostgreSQL
//! backend will implement the same trait.
//!
//! A batch's checkpoint, its id-map entries and its rejects are committed in
//! one transaction ([`StateStore::commit_batch`]), after the destination has
//! acknowledged the batch. So a crash leaves either the whole batch recorded
//! or none of it; a batch not recorded is read and written again on resume,
//! and upserting destinations make that second write a no-op.

use crate::report::{StreamReport, StreamStatus};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// Why the state store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The database could not be opened, read or written.
    #[error("state store {path} failed")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file was written by a cutover with another state layout.
    #[error(
        "state store {path} has layout version {found}, this cutover uses {expected}; move it aside to start afresh (its runs and id map are then forgotten)"
    )]
    Layout {
        /// The database file.
        path: PathBuf,
        /// Its layout version.
        found: i64,
        /// This cutover's.
        expected: i64,
    },
}

/// The accounting of one stream so far, and where its next read starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamProgress {
    /// Cursor after the last committed batch; `None` before the first.
    pub cursor: Option<String>,
    /// Whether the stream ended (completed or failed) rather than was interrupted.
    pub finished: bool,
    /// Counts so far, with the stream's name and status.
    pub report: StreamReport,
}

/// An id-map entry: a source record and the target record it became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMapEntry {
    /// The platform the record came from.
    pub source_platform: String,
    /// Its canonical entity (`contact`).
    pub entity: String,
    /// Its id there.
    pub source_id: String,
    /// Its id on the target.
    pub target_id: String,
}

/// A rejected item, with what is needed to fix and replay it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RejectEntry {
    /// The stream it was read from.
    pub stream: String,
    /// Where: a file and line, or the source id.
    pub location: String,
    /// Machine-readable reason.
    pub code: String,
    /// Why, for people.
    pub message: String,
    /// The item as read.
    pub raw: String,
}

/// What one acknowledged batch changes in the state, committed at once.
#[derive(Debug, Clone)]
pub struct BatchCommit<'a> {
    /// The run.
    pub run_id: &'a str,
    /// The stream's counts after the batch, and the cursor after it.
    pub progress: &'a StreamProgress,
    /// Where the records went.
    pub id_map: Vec<IdMapEntry>,
    /// What was rejected.
    pub rejects: Vec<RejectEntry>,
    /// Records held back for the stream's second pass.
    pub deferred: Vec<DeferredRecord>,
    /// Source ids of held-back records the second pass has now handled.
    pub undeferred: Vec<String>,
    /// For a replay: the ledger's replayable rejects of this source stream,
    /// up to this reject id, were taken by this run.
    pub replayed_through: Option<(&'a str, i64)>,
}

/// A record held back for its stream's second pass (it references its own
/// kind), as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeferredRecord {
    /// Its source id.
    pub source_id: String,
    /// As it will be written, but for its own-kind references.
    pub record: String,
    /// As the source gave it, to store if the second pass rejects it; empty
    /// when the second pass cannot reject it.
    pub original: String,
}

/// What kind of run: a migration, or a replay of rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// `cutover migrate`.
    Migrate,
    /// `cutover rejects replay`.
    Replay,
}

impl RunKind {
    fn as_str(self) -> &'static str {
        match self {
            RunKind::Migrate => "migrate",
            RunKind::Replay => "replay",
        }
    }
}

/// A reject in the ledger that no later run has taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenReject {
    /// Its row in the ledger; a replay's cursor.
    pub id: i64,
    /// The run that rejected it.
    pub run_id: String,
    /// The reject.
    pub entry: RejectEntry,
}

/// A read-only view of the id map, for another thread than the writer's.
pub trait IdLookup: Send {
    /// The target id of a source record, if it was written.
    fn target_id(&mut self, source_platform: &str, entity: &str, source_id: &str)
    -> Result<Option<String>, StateError>;
}

/// A run, as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// Its id.
    pub run_id: String,
    /// Whether it ended (completed or failed) or was interrupted.
    pub finished: bool,
}

/// Runs, checkpoints, id map and rejects ledger.
pub trait StateStore {
    /// The run to carry on: the last run of `kind` if it was interrupted,
    /// else a new one (an interrupted run of the other kind is then closed).
    fn resume_or_start_run(&mut self, new_run_id: &str, kind: RunKind) -> Result<(RunRecord, bool), StateError>;
    /// The progress of a stream in a run.
    fn progress(&self, run_id: &str, stream: &str) -> Result<Option<StreamProgress>, StateError>;
    /// Records one acknowledged batch, atomically.
    fn commit_batch(&mut self, commit: &BatchCommit<'_>) -> Result<(), StateError>;
    /// Records how a stream ended.
    fn finish_stream(&mut self, run_id: &str, progress: &StreamProgress) -> Result<(), StateError>;
    /// Marks a run as ended.
    fn finish_run(&mut self, run_id: &str) -> Result<(), StateError>;
    /// The most recent run and its streams, in the order they started.
    fn last_run(&self) -> Result<Option<(RunRecord, Vec<StreamProgress>)>, StateError>;
    /// The rejects still open: those of the last migration and of the
    /// replays after it that no replay has taken since, in ledger order.
    fn open_rejects(&self) -> Result<Vec<OpenReject>, StateError>;
    /// A view of the id map for another thread.
    fn id_lookup(&self) -> Result<Box<dyn IdLookup>, StateError>;
    /// The records a stream of a run held back for its second pass, in
    /// source-id order, the first `limit` of them (all with `None`).
    fn deferred(&self, run_id: &str, stream: &str, limit: Option<usize>) -> Result<Vec<DeferredRecord>, StateError>;
}

/// The SQLite state store.
pub struct SqliteState {
    path: PathBuf,
    connection: Connection,
}

/// The layout this cutover writes (`PRAGMA user_version`).
const LAYOUT_VERSION: i64 = 2;

// `id_map` is WITHOUT ROWID: its key is the lookup, so one b-tree serves both
// (a rowid table would keep the rows and a separate key index).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS checkpoints (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    stream TEXT NOT NULL,
    position INTEGER NOT NULL,
    cursor TEXT,
    read INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL, rejected INTEGER NOT NULL, skipped INTEGER NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    warnings TEXT NOT NULL DEFAULT '[]',
    consent TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, stream)
);
CREATE TABLE IF NOT EXISTS id_map (
    source_platform TEXT NOT NULL,
    entity TEXT NOT NULL,
    source_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    PRIMARY KEY (source_platform, entity, source_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejects (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    location TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    raw TEXT NOT NULL,
    replayable INTEGER NOT NULL,
    replayed_in TEXT
);
CREATE INDEX IF NOT EXISTS open_rejects ON rejects (stream, id) WHERE replayed_in IS NULL;
CREATE TABLE IF NOT EXISTS deferred (
    run_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    source_id TEXT NOT NULL,
    record TEXT NOT NULL,
    original TEXT NOT NULL,
    PRIMARY KEY (run_id, stream, source_id)
) WITHOUT ROWID;
";

impl SqliteState {
    /// Opens (creating if needed) the state database at `path`.
    pub fn open(path: &Path) -> Result<SqliteState, StateError> {
        let error = |source| StateError::Sqlite { path: path.to_owned(), source };
        if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|_| error(rusqlite::Error::InvalidPath(folder.to_owned())))?;
        }
        let connection = Connection::open(path).map_err(error)?;
        // WAL with synchronous=NORMAL: a committed batch survives the process
        // being killed; only a power cut can lose the last few commits, and
        // those batches are then simply written again.
        connection
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(error)?;
        let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(error)?;
        let tables: i64 = connection
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |row| row.get(0))
            .map_err(error)?;
        if tables > 0 && version != LAYOUT_VERSION {
            return Err(StateError::Layout { path: path.to_owned(), found: version, expected: LAYOUT_VERSION });
        }
        connection
            .execute_batch(SCHEMA)
            .and_then(|()| connection.pragma_update(None, "user_version", LAYOUT_VERSION))
            .map_err(error)?;
        Ok(SqliteState { path: path.to_owned(), connection })
    }

    fn error(&self) -> impl Fn(rusqlite::Error) -> StateError + '_ {
        move |source| StateError::Sqlite { path: self.path.clone(), source }
    }

    fn read_progress(row: &rusqlite::Row<'_>) -> rusqlite::Result<StreamProgress> {
        let status: String = row.get("status")?;
        let count = |name: &str| row.get::<_, i64>(name).map(|value| u64::try_from(value).unwrap_or(0));
        Ok(StreamProgress {
            cursor: row.get("cursor")?,
            finished: status != "running",
            report: StreamReport {
                name: row.get("stream")?,
                read: count("read")?,
                created: count("created")?,
                updated: count("updated")?,
                unchanged: count("unchanged")?,
                rejected: count("rejected")?,
                skipped: count("skipped")?,
                status: match status.as_str() {
                    "failed" => StreamStatus::Failed,
                    "unbalanced" => StreamStatus::Unbalanced,
                    _ => StreamStatus::Completed,
                },
                error: row.get("error")?,
                warnings: serde_json::from_str(&row.get::<_, String>("warnings")?).unwrap_or_default(),
                consent: serde_json::from_str(&row.get::<_, String>("consent")?).unwrap_or_default(),
            },
        })
    }

    fn save_progress(
        transaction: &rusqlite::Transaction<'_>,
        run_id: &str,
        progress: &StreamProgress,
        status: &str,
    ) -> rusqlite::Result<()> {
        let report = &progress.report;
        let signed = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        transaction.execute(
            "INSERT INTO checkpoints (run_id, stream, position, cursor, read, created, updated, unchanged, rejected, skipped, status, error, warnings, consent)
             VALUES (?1, ?2, (SELECT COUNT(*) FROM checkpoints WHERE run_id = ?1), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (run_id, stream) DO UPDATE SET cursor = excluded.cursor, read = excluded.read,
               created = excluded.created, updated = excluded.updated, unchanged = excluded.unchanged,
               rejected = excluded.rejected, skipped = excluded.skipped, status = excluded.status, error = excluded.error,
               warnings = excluded.warnings, consent = excluded.consent",
            params![
                run_id,
                report.name,
                progress.cursor,
                signed(report.read),
                signed(report.created),
                signed(report.updated),
                signed(report.unchanged),
                signed(report.rejected),
                signed(report.skipped),
                status,
                report.error,
                serde_json::to_string(&report.warnings).unwrap_or_else(|_| "[]".into()),
                serde_json::to_string(&report.consent).unwrap_or_else(|_| "{}".into()),
            ],
        )?;
        Ok(())
    }
}

fn status_name(report: &StreamReport) -> &'static str {
    match report.status {
        StreamStatus::Completed => "completed",
        StreamStatus::Failed => "failed",
        StreamStatus::Unbalanced => "unbalanced",
        // Not an end: the stream resumes from its last checkpoint.
        StreamStatus::Interrupted => "running",
    }
}

impl StateStore for SqliteState {
    fn resume_or_start_run(&mut self, new_run_id: &str, kind: RunKind) -> Result<(RunRecord, bool), StateError> {
        let interrupted: Option<(String, String)> = self
            .connection
            .query_row(
                "SELECT run_id, kind FROM runs WHERE finished_at IS NULL ORDER BY rowid DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(self.error())?;
        let now = chrono::Utc::now().to_rfc3339();
        match interrupted {
            Some((run_id, interrupted_kind)) if interrupted_kind == kind.as_str() => {
                return Ok((RunRecord { run_id, finished: false }, true));
            }
            // What it committed stays committed; the new run supersedes it.
            Some((run_id, _)) => self.finish_run(&run_id)?,
            None => {}
        }
        self.connection
            .execute(
                "INSERT INTO runs (run_id, kind, started_at) VALUES (?1, ?2, ?3)",
                params![new_run_id, kind.as_str(), now],
            )
            .map_err(self.error())?;
        Ok((RunRecord { run_id: new_run_id.to_owned(), finished: false }, false))
    }

    fn progress(&self, run_id: &str, stream: &str) -> Result<Option<StreamProgress>, StateError> {
        self.connection
            .query_row(
                "SELECT * FROM checkpoints WHERE run_id = ?1 AND stream = ?2",
                params![run_id, stream],
                Self::read_progress,
            )
            .optional()
            .map_err(self.error())
    }

    fn commit_batch(&mut self, commit: &BatchCommit<'_>) -> Result<(), StateError> {
        let path = self.path.clone();
        let error = |source| StateError::Sqlite { path: path.clone(), source };
        let transaction = self.connection.transaction().map_err(error)?;
        {
            let mut map = transaction
                .prepare_cached(
                    "INSERT INTO id_map (source_platform, entity, source_id, target_id, run_id) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (source_platform, entity, source_id) DO UPDATE SET target_id = excluded.target_id, run_id = excluded.run_id",
                )
                .map_err(error)?;
            for entry in &commit.id_map {
                map.execute(params![
                    entry.source_platform,
                    entry.entity,
                    entry.source_id,
                    entry.target_id,
                    commit.run_id
                ])
                .map_err(error)?;
            }
            if let Some((stream, through)) = commit.replayed_through {
                // Before this batch's own rejects are added: they are new, not taken.
                transaction
                    .prepare_cached(
                        "UPDATE rejects SET replayed_in = ?1
                         WHERE stream = ?2 AND id <= ?3 AND replayable = 1 AND replayed_in IS NULL AND run_id <> ?1",
                    )
                    .and_then(|mut statement| statement.execute(params![commit.run_id, stream, through]))
                    .map_err(error)?;
            }
            let mut reject = transaction
                .prepare_cached(
                    "INSERT INTO rejects (run_id, stream, location, code, message, raw, replayable) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(error)?;
            for entry in &commit.rejects {
                let replayable = serde_json::from_str::<cutover_schema::Record>(&entry.raw).is_ok();
                reject
                    .execute(params![
                        commit.run_id,
                        entry.stream,
                        entry.location,
                        entry.code,
                        entry.message,
                        entry.raw,
                        replayable
                    ])
                    .map_err(error)?;
            }
            let stream = &commit.progress.report.name;
            let mut defer = transaction
                .prepare_cached(
                    "INSERT INTO deferred (run_id, stream, source_id, record, original) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO UPDATE SET record = excluded.record, original = excluded.original",
                )
                .map_err(error)?;
            for held in &commit.deferred {
                defer
                    .execute(params![commit.run_id, stream, held.source_id, held.record, held.original])
                    .map_err(error)?;
            }
            let mut undefer = transaction
                .prepare_cached("DELETE FROM deferred WHERE run_id = ?1 AND stream = ?2 AND source_id = ?3")
                .map_err(error)?;
            for source_id in &commit.undeferred {
                undefer.execute(params![commit.run_id, stream, source_id]).map_err(error)?;
            }
        }
        Self::save_progress(&transaction, commit.run_id, commit.progress, "running").map_err(error)?;
        transaction.commit().map_err(error)
    }

    fn finish_stream(&mut self, run_id: &str, progress: &StreamProgress) -> Result<(), StateError> {
        let path = self.path.clone();
        let error = |source| StateError::Sqlite { path: path.clone(), source };
        let transaction = self.connection.transaction().map_err(error)?;
        Self::save_progress(&transaction, run_id, progress, status_name(&progress.report)).map_err(error)?;
        transaction.commit().map_err(error)
    }

    fn finish_run(&mut self, run_id: &str) -> Result<(), StateError> {
        self.connection
            .execute(
                "UPDATE runs SET finished_at = ?2 WHERE run_id = ?1",
                params![run_id, chrono::Utc::now().to_rfc3339()],
            )
            .map(drop)
            .map_err(self.error())
    }

    fn last_run(&self) -> Result<Option<(RunRecord, Vec<StreamProgress>)>, StateError> {
        let run: Option<(String, Option<String>)> = self
            .connection
            .query_row("SELECT run_id, finished_at FROM runs ORDER BY rowid DESC LIMIT 1", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()
            .map_err(self.error())?;
        let Some((run_id, finished_at)) = run else { return Ok(None) };
        let mut statement = self
            .connection
            .prepare("SELECT * FROM checkpoints WHERE run_id = ?1 ORDER BY position")
            .map_err(self.error())?;
        let streams = statement
            .query_map(params![run_id], Self::read_progress)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(self.error())?;
        Ok(Some((RunRecord { run_id, finished: finished_at.is_some() }, streams)))
    }

    fn open_rejects(&self) -> Result<Vec<OpenReject>, StateError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT id, run_id, stream, location, code, message, raw FROM rejects
                 WHERE replayed_in IS NULL AND run_id IN (
                     SELECT run_id FROM runs WHERE rowid >= (SELECT COALESCE(MAX(rowid), 0) FROM runs WHERE kind = 'migrate'))
                 ORDER BY id",
            )
            .map_err(self.error())?;
        statement
            .query_map([], |row| {
                Ok(OpenReject {
                    id: row.get(0)?,
                    run_id: row.get(1)?,
                    entry: RejectEntry {
                        stream: row.get(2)?,
                        location: row.get(3)?,
                        code: row.get(4)?,
                        message: row.get(5)?,
                        raw: row.get(6)?,
                    },
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(self.error())
    }

    fn id_lookup(&self) -> Result<Box<dyn IdLookup>, StateError> {
        let connection = Connection::open_with_flags(&self.path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(self.error())?;
        Ok(Box::new(SqliteLookup { path: self.path.clone(), connection }))
    }

    fn deferred(&self, run_id: &str, stream: &str, limit: Option<usize>) -> Result<Vec<DeferredRecord>, StateError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT source_id, record, original FROM deferred WHERE run_id = ?1 AND stream = ?2
                 ORDER BY source_id LIMIT ?3",
            )
            .map_err(self.error())?;
        // SQLite reads a negative limit as none.
        let limit = limit.and_then(|limit| i64::try_from(limit).ok()).unwrap_or(-1);
        statement
            .query_map(params![run_id, stream, limit], |row| {
                Ok(DeferredRecord { source_id: row.get(0)?, record: row.get(1)?, original: row.get(2)? })
            })
            .and_then(|rows| rows.collect())
            .map_err(self.error())
    }
}

const LOOKUP: &str = "SELECT target_id FROM id_map WHERE source_platform = ?1 AND entity = ?2 AND source_id = ?3";

/// [`IdLookup`] on its own read-only connection: WAL lets it read what the
/// writer has committed while the writer goes on.
struct SqliteLookup {
    path: PathBuf,
    connection: Connection,
}

impl IdLookup for SqliteLookup {
    fn target_id(
        &mut self,
        source_platform: &str,
        entity: &str,
        source_id: &str,
    ) -> Result<Option<String>, StateError> {
        self.connection
            .prepare_cached(LOOKUP)
            .and_then(|mut statement| {
                statement.query_row(params![source_platform, entity, source_id], |row| row.get(0)).optional()
            })
            .map_err(|source| StateError::Sqlite { path: self.path.clone(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(stream: &str, cursor: &str, read: u64) -> StreamProgress {
        StreamProgress {
            cursor: Some(cursor.into()),
            finished: false,
            report: StreamReport { name: stream.into(), read, created: read, ..StreamReport::default() },
        }
    }

    #[test]
    fn an_interrupted_run_is_resumed_with_its_checkpoints_and_a_finished_one_is_not() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("state.db");
        let mut state = SqliteState::open(&path).unwrap();
        let (run, resumed) = state.resume_or_start_run("run-1", RunKind::Migrate).unwrap();
        assert!(!resumed);
        let after_first = progress("contacts", "100", 100);
        state
            .commit_batch(&BatchCommit {
                run_id: &run.run_id,
                progress: &after_first,
                id_map: vec![IdMapEntry {
                    source_platform: "old".into(),
                    entity: "contact".into(),
                    source_id: "7".into(),
                    target_id: "t-7".into(),
                }],
                rejects: vec![RejectEntry {
                    stream: "contacts".into(),
                    location: "in.jsonl:3".into(),
                    code: "malformed_record".into(),
                    message: "not JSON".into(),
                    raw: "{".into(),
                }],
                deferred: Vec::new(),
                undeferred: Vec::new(),
                replayed_through: None,
            })
            .unwrap();
        drop(state);

        let mut state = SqliteState::open(&path).unwrap();
        let (run, resumed) = state.resume_or_start_run("run-2", RunKind::Migrate).unwrap();
        assert_eq!((run.run_id.as_str(), resumed), ("run-1", true));
        assert_eq!(state.progress("run-1", "contacts").unwrap(), Some(after_first.clone()));
        assert_eq!(state.id_lookup().unwrap().target_id("old", "contact", "7").unwrap().as_deref(), Some("t-7"));
        assert_eq!(state.open_rejects().unwrap().len(), 1);

        state.finish_stream("run-1", &after_first).unwrap();
        assert!(state.progress("run-1", "contacts").unwrap().is_some_and(|progress| progress.finished));
        state.finish_run("run-1").unwrap();
        let (run, resumed) = state.resume_or_start_run("run-3", RunKind::Migrate).unwrap();
        assert_eq!((run.run_id.as_str(), resumed), ("run-3", false));
        let (last, streams) = state.last_run().unwrap().unwrap();
        assert_eq!((last.run_id.as_str(), streams.len()), ("run-3", 0));
    }
}
