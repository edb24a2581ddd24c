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

/// What a purged reject's `raw` holds: `[purged 2026-12-05]`, the day of the
/// purge. Not a record, so a replay never serves it.
pub fn purged_marker(day: chrono::NaiveDate) -> String {
    format!("[purged {}]", day.format("%Y-%m-%d"))
}

/// The day (`2026-12-05`) a reject's raw record was purged, when `raw` is a
/// purge marker ([`purged_marker`]).
pub fn purged_on(raw: &str) -> Option<&str> {
    let day = raw.strip_prefix("[purged ")?.strip_suffix(']')?;
    let shaped = day.len() == 10
        && day
            .bytes()
            .enumerate()
            .all(|(at, byte)| if at == 4 || at == 7 { byte == b'-' } else { byte.is_ascii_digit() });
    shaped.then_some(day)
}

/// [`purged_on`] in SQL (`raw GLOB …`): a reject purged already is not counted again.
const PURGED_GLOB: &str = "[[]purged [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]]";

/// A run whose raw records a purge dropped (or, dry, would drop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgedRun {
    /// Its id.
    pub run_id: String,
    /// When it started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Rejects whose raw record was replaced by the purge marker.
    pub rejects: u64,
    /// Records held back for a second pass, deleted.
    pub held_back: u64,
}

/// A run started before a purge's date that the purge left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptRun {
    /// Its id.
    pub run_id: String,
    /// When it started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// A migration or a replay.
    pub kind: RunKind,
    /// `None`: the run is unfinished, and the next `migrate` or `rejects
    /// replay` may resume it. `Some(replay)`: it is finished, but the
    /// unfinished replay `replay` still reads its rejects.
    pub replayed_by: Option<String>,
}

/// What [`SqliteState::purge_raw_before`] did, or in a dry run would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    /// The runs raw records were taken from, in the order they started.
    pub runs: Vec<PurgedRun>,
    /// The runs started before the date that were left alone.
    pub left_alone: Vec<KeptRun>,
    /// Finished runs started before the date with no raw record left (none
    /// kept, or purged before).
    pub clean: usize,
    /// Another connection was reading the state, so the WAL could not be
    /// emptied: purged bytes may remain in `<state>-wal` until it ends.
    pub wal_busy: bool,
}

impl PurgeCounts {
    /// Rejects whose raw record was purged, over all runs.
    pub fn rejects(&self) -> u64 {
        self.runs.iter().map(|run| run.rejects).sum()
    }

    /// Held-back records deleted, over all runs.
    pub fn held_back(&self) -> u64 {
        self.runs.iter().map(|run| run.held_back).sum()
    }
}

/// A row of `runs`, for a purge.
struct StoredRun {
    rowid: i64,
    run_id: String,
    kind: String,
    started_at: Option<chrono::DateTime<chrono::Utc>>,
    finished: bool,
}

impl SqliteState {
    /// Drops the raw records of the runs that started before `before` and
    /// are finished: each reject's `raw` becomes [`purged_marker`] (today),
    /// so the reject (stream, location, reason, message) stays listed and is
    /// no longer replayable, and the records held back for a second pass
    /// are deleted. The id map, checkpoints and run reports are never
    /// touched: resume, status and the id map need them, and they hold no
    /// raw record. An unfinished run is left alone (it may be resumed), and
    /// so is a finished run an unfinished replay still reads rejects from.
    ///
    /// Then the database is rebuilt (`VACUUM`) and its WAL emptied
    /// (`wal_checkpoint(TRUNCATE)`), so the purged bytes are gone from the
    /// files. A dry run counts and changes nothing. `before` is not checked
    /// against the clock: `cutover state purge` refuses a date to come.
    pub fn purge_raw_before(
        &mut self,
        before: chrono::DateTime<chrono::Utc>,
        dry_run: bool,
    ) -> Result<PurgeCounts, StateError> {
        let path = self.path.clone();
        let error = |source| StateError::Sqlite { path: path.clone(), source };
        // Freed cells are zeroed in place too, should the VACUUM below fail.
        self.connection.pragma_update(None, "secure_delete", true).map_err(error)?;
        let marker = purged_marker(chrono::Utc::now().date_naive());
        let behavior =
            if dry_run { rusqlite::TransactionBehavior::Deferred } else { rusqlite::TransactionBehavior::Immediate };
        let transaction = self.connection.transaction_with_behavior(behavior).map_err(error)?;
        let runs: Vec<StoredRun> = transaction
            .prepare("SELECT rowid, run_id, kind, started_at, finished_at FROM runs ORDER BY rowid")
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| {
                        let started_at: String = row.get(3)?;
                        Ok(StoredRun {
                            rowid: row.get(0)?,
                            run_id: row.get(1)?,
                            kind: row.get(2)?,
                            started_at: chrono::DateTime::parse_from_rfc3339(&started_at)
                                .ok()
                                .map(|time| time.with_timezone(&chrono::Utc)),
                            finished: row.get::<_, Option<String>>(4)?.is_some(),
                        })
                    })
                    .and_then(|rows| rows.collect())
            })
            .map_err(error)?;
        let mut counts = PurgeCounts::default();
        for run in &runs {
            // A start time that does not parse is not known to be before.
            let Some(started_at) = run.started_at.filter(|started_at| *started_at < before) else { continue };
            let kind = if run.kind == RunKind::Replay.as_str() { RunKind::Replay } else { RunKind::Migrate };
            let kept = |replayed_by| KeptRun { run_id: run.run_id.clone(), started_at, kind, replayed_by };
            if !run.finished {
                counts.left_alone.push(kept(None));
                continue;
            }
            if let Some(replay) = unfinished_replay_reading(&runs, run.rowid) {
                counts.left_alone.push(kept(Some(replay.to_owned())));
                continue;
            }
            let id = &run.run_id;
            let (rejects, held_back) = if dry_run {
                let count = |sql: &str, parameters: &[&dyn rusqlite::ToSql]| {
                    transaction.query_row(sql, parameters, |row| row.get::<_, i64>(0)).map(|count| count.unsigned_abs())
                };
                (
                    count(
                        "SELECT COUNT(*) FROM rejects WHERE run_id = ?1 AND NOT raw GLOB ?2",
                        params![id, PURGED_GLOB],
                    ),
                    count("SELECT COUNT(*) FROM deferred WHERE run_id = ?1", params![id]),
                )
            } else {
                let changed = |sql: &str, parameters: &[&dyn rusqlite::ToSql]| {
                    transaction.execute(sql, parameters).map(|changed| u64::try_from(changed).unwrap_or(u64::MAX))
                };
                (
                    changed(
                        "UPDATE rejects SET raw = ?3, replayable = 0 WHERE run_id = ?1 AND NOT raw GLOB ?2",
                        params![id, PURGED_GLOB, marker],
                    ),
                    changed("DELETE FROM deferred WHERE run_id = ?1", params![id]),
                )
            };
            let (rejects, held_back) = (rejects.map_err(error)?, held_back.map_err(error)?);
            if rejects == 0 && held_back == 0 {
                counts.clean += 1;
            } else {
                counts.runs.push(PurgedRun { run_id: run.run_id.clone(), started_at, rejects, held_back });
            }
        }
        if dry_run {
            // Dropped: rolled back, though it only read.
            return Ok(counts);
        }
        transaction.commit().map_err(error)?;
        // Rebuilt without the freed pages, through the WAL; the checkpoint
        // copies it into the file, truncates the file to its new size and
        // empties the WAL, old frames and all.
        self.connection.execute_batch("VACUUM").map_err(error)?;
        let busy: i64 =
            self.connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0)).map_err(error)?;
        counts.wal_busy = busy != 0;
        Ok(counts)
    }
}

/// The unfinished replay that still reads the rejects of the run at `rowid`,
/// if any: a replay reads the rejects of the last migration before it and of
/// the runs between (as [`StateStore::open_rejects`] does).
fn unfinished_replay_reading(runs: &[StoredRun], rowid: i64) -> Option<&str> {
    runs.iter()
        .filter(|replay| replay.kind == RunKind::Replay.as_str() && !replay.finished && replay.rowid > rowid)
        .find(|replay| {
            !runs.iter().any(|other| {
                other.kind == RunKind::Migrate.as_str() && other.rowid > rowid && other.rowid < replay.rowid
            })
        })
        .map(|replay| replay.run_id.as_str())
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

    fn reject(raw: &str) -> RejectEntry {
        RejectEntry {
            stream: "contacts".into(),
            location: "in.jsonl:3".into(),
            code: "invalid_email".into(),
            message: "not an address".into(),
            raw: raw.into(),
        }
    }

    fn held(source_id: &str, secret: &str) -> DeferredRecord {
        DeferredRecord {
            source_id: source_id.into(),
            record: format!("{{\"note\":\"{secret}\"}}"),
            original: String::new(),
        }
    }

    /// A replayable reject: a whole record, with `email` in it.
    fn record_with(email: &str) -> String {
        let contact = cutover_schema::Contact { email: Some(email.into()), ..cutover_schema::Contact::default() };
        let record = cutover_schema::Record::new(
            "old",
            "7",
            chrono::DateTime::UNIX_EPOCH,
            cutover_schema::Entity::Contact(contact),
        );
        serde_json::to_string(&record).unwrap()
    }

    /// Commits one batch of `run_id` with these rejects and held-back records.
    fn commit(state: &mut SqliteState, run_id: &str, rejects: Vec<RejectEntry>, deferred: Vec<DeferredRecord>) {
        state
            .commit_batch(&BatchCommit {
                run_id,
                progress: &progress("contacts", "10", 10),
                id_map: vec![IdMapEntry {
                    source_platform: "old".into(),
                    entity: "contact".into(),
                    source_id: format!("{run_id}-1"),
                    target_id: "t-1".into(),
                }],
                rejects,
                deferred,
                undeferred: Vec::new(),
                replayed_through: None,
            })
            .unwrap();
    }

    /// Every reject of a run as stored: (raw, replayable, replayed_in).
    fn stored_rejects(state: &SqliteState, run_id: &str) -> Vec<(String, bool, Option<String>)> {
        let mut statement = state
            .connection
            .prepare("SELECT raw, replayable, replayed_in FROM rejects WHERE run_id = ?1 ORDER BY id")
            .unwrap();
        statement
            .query_map([run_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    /// The files of the state store that hold `needle`.
    fn files_with(path: &Path, needle: &str) -> Vec<String> {
        ["", "-wal", "-shm"]
            .into_iter()
            .map(|suffix| format!("{}{suffix}", path.display()))
            .filter(|file| {
                std::fs::read(file)
                    .is_ok_and(|bytes| bytes.windows(needle.len()).any(|window| window == needle.as_bytes()))
            })
            .collect()
    }

    #[test]
    fn a_purge_drops_the_raw_records_of_finished_runs_before_the_date_and_nothing_else() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("state.db");
        let mut state = SqliteState::open(&path).unwrap();
        state.resume_or_start_run("run-1", RunKind::Migrate).unwrap();
        let replayable = record_with("planted-in-a-record@");
        commit(
            &mut state,
            "run-1",
            vec![reject(&replayable), reject("planted,raw,row")],
            vec![held("8", "planted-held-back")],
        );
        state.finish_run("run-1").unwrap();
        // Open, with raw records of its own: it may be resumed.
        state.resume_or_start_run("run-2", RunKind::Migrate).unwrap();
        commit(&mut state, "run-2", vec![reject("run-2-raw-row")], vec![held("9", "run-2-held-back")]);
        let before_runs = chrono::Utc::now();
        let marker = purged_marker(chrono::Utc::now().date_naive());
        for planted in ["planted-in-a-record@", "planted,raw,row", "planted-held-back"] {
            assert!(!files_with(&path, planted).is_empty(), "{planted} is stored before the purge");
        }

        // A date before every run changes nothing.
        let earlier = state.purge_raw_before(before_runs - chrono::Duration::days(1), false).unwrap();
        assert_eq!(earlier, PurgeCounts::default());
        assert_eq!(stored_rejects(&state, "run-1")[1].0, "planted,raw,row");

        let dry = state.purge_raw_before(before_runs, true).unwrap();
        let purged_run = |run: &PurgedRun| (run.run_id.clone(), run.rejects, run.held_back);
        assert_eq!(dry.runs.iter().map(purged_run).collect::<Vec<_>>(), [("run-1".to_owned(), 2, 1)]);
        let left: Vec<_> = dry.left_alone.iter().map(|run| (run.run_id.as_str(), run.replayed_by.as_deref())).collect();
        assert_eq!(left, [("run-2", None)]);
        assert_eq!(stored_rejects(&state, "run-1")[0].0, replayable, "a dry run changes nothing");
        assert_eq!(state.deferred("run-1", "contacts", None).unwrap().len(), 1);

        let counts = state.purge_raw_before(before_runs, false).unwrap();
        assert_eq!((counts.runs, counts.left_alone, counts.wal_busy), (dry.runs, dry.left_alone, false));
        assert_eq!(
            stored_rejects(&state, "run-1"),
            [(marker.clone(), false, None), (marker.clone(), false, None)],
            "the rejects stay, their raw record replaced and no longer replayable"
        );
        assert!(state.deferred("run-1", "contacts", None).unwrap().is_empty());
        for planted in ["planted-in-a-record@", "planted,raw,row", "planted-held-back"] {
            assert_eq!(files_with(&path, planted), Vec::<String>::new(), "{planted} is gone from every file");
        }
        // The unfinished run keeps everything, and resumes.
        assert_eq!(stored_rejects(&state, "run-2"), [("run-2-raw-row".to_owned(), false, None)]);
        assert_eq!(state.deferred("run-2", "contacts", None).unwrap().len(), 1);
        let (run, resumed) = state.resume_or_start_run("run-3", RunKind::Migrate).unwrap();
        assert_eq!((run.run_id.as_str(), resumed), ("run-2", true));
        // The id map and checkpoints are untouched.
        let mut lookup = state.id_lookup().unwrap();
        assert_eq!(lookup.target_id("old", "contact", "run-1-1").unwrap().as_deref(), Some("t-1"));
        assert_eq!(state.progress("run-1", "contacts").unwrap(), Some(progress("contacts", "10", 10)));

        // Purged already: counted as clean, never again as purged.
        let again = state.purge_raw_before(before_runs, false).unwrap();
        assert_eq!((again.runs.len(), again.clean, again.left_alone.len()), (0, 1, 1));
        assert_eq!(stored_rejects(&state, "run-1")[0].0, marker);
    }

    #[test]
    fn a_purged_reject_is_neither_served_nor_taken_by_a_replay() {
        let folder = tempfile::tempdir().unwrap();
        let mut state = SqliteState::open(&folder.path().join("state.db")).unwrap();
        state.resume_or_start_run("run-1", RunKind::Migrate).unwrap();
        commit(&mut state, "run-1", vec![reject(&record_with("a@")), reject(&record_with("b@"))], Vec::new());
        state.finish_run("run-1").unwrap();
        assert_eq!(crate::ledger::LedgerSource::new(state.open_rejects().unwrap(), "replay-1").count("contacts"), 2);
        state.purge_raw_before(chrono::Utc::now(), false).unwrap();

        let open = state.open_rejects().unwrap();
        assert!(open.iter().all(|reject| purged_on(&reject.entry.raw).is_some()), "{open:?}");
        assert_eq!(crate::ledger::LedgerSource::new(open.clone(), "replay-1").count("contacts"), 0);
        // A replay's commit through every id takes only what it served.
        state.resume_or_start_run("replay-1", RunKind::Replay).unwrap();
        let last = open.last().map(|reject| reject.id).unwrap();
        state
            .commit_batch(&BatchCommit {
                run_id: "replay-1",
                progress: &progress("contacts", &last.to_string(), 0),
                id_map: Vec::new(),
                rejects: Vec::new(),
                deferred: Vec::new(),
                undeferred: Vec::new(),
                replayed_through: Some(("contacts", last)),
            })
            .unwrap();
        assert_eq!(state.open_rejects().unwrap(), open, "still open, still listed");
    }

    #[test]
    fn the_runs_an_unfinished_replay_reads_are_left_alone() {
        let folder = tempfile::tempdir().unwrap();
        let mut state = SqliteState::open(&folder.path().join("state.db")).unwrap();
        for (run_id, kind) in [("run-1", RunKind::Migrate), ("run-2", RunKind::Migrate), ("replay-1", RunKind::Replay)]
        {
            state.resume_or_start_run(run_id, kind).unwrap();
            commit(&mut state, run_id, vec![reject(&record_with("a@"))], Vec::new());
            state.finish_run(run_id).unwrap();
        }
        state.resume_or_start_run("replay-2", RunKind::Replay).unwrap();
        let counts = state.purge_raw_before(chrono::Utc::now(), false).unwrap();
        // replay-2 reads the rejects of run-2 and of replay-1; run-1's are no longer open.
        assert_eq!(counts.runs.iter().map(|run| run.run_id.as_str()).collect::<Vec<_>>(), ["run-1"]);
        let left: Vec<_> =
            counts.left_alone.iter().map(|run| (run.run_id.as_str(), run.replayed_by.as_deref())).collect();
        assert_eq!(left, [("run-2", Some("replay-2")), ("replay-1", Some("replay-2")), ("replay-2", None)]);
        assert!(state.open_rejects().unwrap().iter().all(|reject| purged_on(&reject.entry.raw).is_none()));
    }

    #[test]
    fn only_the_purge_marker_reads_as_purged() {
        let marker = purged_marker(chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap());
        assert_eq!((marker.as_str(), purged_on(&marker)), ("[purged 2026-12-05]", Some("2026-12-05")));
        for raw in ["", "[purged ]", "[purged 2026-12-5]", "[purged 2026-12-05] and more", "{\"purged\":1}"] {
            assert_eq!(purged_on(raw), None, "{raw}");
        }
        // The SQL form agrees.
        let connection = Connection::open_in_memory().unwrap();
        for (raw, expected) in [(marker.as_str(), true), ("[purged 2026-12-5]", false), ("x[purged 2026-12-05]", false)]
        {
            let matched: bool =
                connection.query_row("SELECT ?1 GLOB ?2", params![raw, PURGED_GLOB], |row| row.get(0)).unwrap();
            assert_eq!(matched, expected, "{raw}");
        }
    }

    #[test]
    fn a_reader_that_keeps_the_wal_is_reported_not_ignored() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("state.db");
        let mut state = SqliteState::open(&path).unwrap();
        state.resume_or_start_run("run-1", RunKind::Migrate).unwrap();
        commit(&mut state, "run-1", vec![reject("planted,raw,row")], Vec::new());
        state.finish_run("run-1").unwrap();
        // Another process in the middle of a read, on the frames as they were.
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN; SELECT COUNT(*) FROM rejects;").unwrap();
        // Not the 5 s a purge waits for it.
        state.connection.busy_timeout(std::time::Duration::from_millis(50)).unwrap();
        let counts = state.purge_raw_before(chrono::Utc::now(), false).unwrap();
        assert!(counts.wal_busy && counts.rejects() == 1, "{counts:?}");
        assert!(!files_with(&path, "planted,raw,row").is_empty(), "what the report warns of");
        reader.execute_batch("COMMIT").unwrap();
        drop(reader);
        // Run again once it is done: the WAL is emptied, nothing is left.
        let again = state.purge_raw_before(chrono::Utc::now(), false).unwrap();
        assert!(!again.wal_busy && again.rejects() == 0, "{again:?}");
        assert_eq!(files_with(&path, "planted,raw,row"), Vec::<String>::new());
    }
}
