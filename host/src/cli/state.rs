//! `cutover state purge CONFIG --before DATE`: drops the personal data the
//! state store keeps as read (the raw records of rejects, the records held
//! back for a second pass) for the finished runs that started before DATE,
//! keeping every reject's stream, location, reason and message, the id map,
//! checkpoints and run reports; then compacts the file so the bytes are gone.
//! An unfinished run is left alone, and said so: it may still be resumed.
//! The work is [`SqliteState::purge_raw_before`].

use crate::cli::status::StatusError;
use crate::config::MigrationConfig;
use crate::state::{PurgeCounts, RunKind, SqliteState, purged_marker};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `--before DATE` for clap: `YYYY-MM-DD` (midnight UTC) or an RFC 3339
/// time; a date to come is refused (it would take every finished run, the
/// last one too, and is most likely a typo). clap shows the message and
/// exits 2.
pub fn parse_before(text: &str) -> Result<DateTime<Utc>, String> {
    let before = if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        day.and_time(chrono::NaiveTime::MIN).and_utc()
    } else if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        time.with_timezone(&Utc)
    } else {
        return Err("not a date: write YYYY-MM-DD (midnight UTC) or an RFC 3339 time, e.g. 2026-11-30 or \
                    2026-11-30T12:00:00Z"
            .into());
    };
    let now = Utc::now();
    if before > now {
        return Err(format!(
            "{} is in the future (it is {} now): the purge drops the raw records of the runs started before \
             DATE; give a date in the past",
            shown_exactly(before),
            shown(now)
        ));
    }
    Ok(before)
}

/// What `cutover state purge` did, or in a dry run would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purge {
    /// The state file.
    pub state_path: PathBuf,
    /// Runs started before this were considered.
    pub before: DateTime<Utc>,
    /// Nothing was changed.
    pub dry_run: bool,
    /// What was purged, and the size of the state files (database and WAL)
    /// before and after; `None` when the state file does not exist.
    pub outcome: Option<(PurgeCounts, u64, u64)>,
}

/// Purges the raw records kept for the finished runs of the config's
/// migration that started before `before` (see
/// [`SqliteState::purge_raw_before`]).
pub fn purge(config_path: &Path, before: DateTime<Utc>, dry_run: bool) -> Result<Purge, StatusError> {
    let config = MigrationConfig::load(config_path)?;
    let state_path = config.state_path(config_path);
    let mut purge = Purge { state_path, before, dry_run, outcome: None };
    if !purge.state_path.exists() {
        return Ok(purge);
    }
    let size_before = state_size(&purge.state_path);
    let counts = {
        let mut state = SqliteState::open(&purge.state_path)?;
        state.purge_raw_before(before, dry_run)?
    };
    // Measured once the connection is closed.
    purge.outcome = Some((counts, size_before, state_size(&purge.state_path)));
    Ok(purge)
}

/// The bytes of the database and its WAL.
fn state_size(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    [path, Path::new(&wal)].iter().filter_map(|file| std::fs::metadata(file).ok()).map(|meta| meta.len()).sum()
}

/// A start time, to the second.
fn shown(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// DATE as given, with its fraction of a second if it has one: a run shown
/// as started in the same second may be on either side of it.
fn shown_exactly(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

/// What the purge did, for people.
pub fn render(purge: &Purge) -> String {
    let state = purge.state_path.display();
    let before = shown_exactly(purge.before);
    let Some((counts, size_before, size_after)) = &purge.outcome else {
        return format!("nothing to purge: {state} does not exist (this migration has not run)\n");
    };
    let mut text = String::new();
    let would = if purge.dry_run { "dry run: would purge" } else { "purged" };
    if counts.runs.is_empty() {
        let _ = writeln!(
            text,
            "nothing to purge: no finished run started before {before} holds a raw rejected or held-back record{}",
            match counts.clean {
                0 => String::new(),
                clean => format!(" ({} purged before, or with none)", plural(clean as u64, "run", "runs")),
            }
        );
    } else {
        let _ = writeln!(
            text,
            "{would} the raw records of {} and {} from {} started before {before}:",
            plural(counts.rejects(), "reject", "rejects"),
            plural(counts.held_back(), "held-back record", "held-back records"),
            plural(counts.runs.len() as u64, "finished run", "finished runs"),
        );
        for run in &counts.runs {
            let _ = writeln!(
                text,
                "  {}  started {}  {}, {}",
                run.run_id,
                shown(run.started_at),
                plural(run.rejects, "reject", "rejects"),
                plural(run.held_back, "held-back record", "held-back records"),
            );
        }
        let _ = writeln!(
            text,
            "each reject keeps its stream, location, reason and message (`cutover rejects list`), its raw record \
             {} `{}` and it can no longer be replayed; the id map, checkpoints and run reports are {}",
            if purge.dry_run { "would read" } else { "reads" },
            purged_marker(Utc::now().date_naive()),
            if purge.dry_run { "never touched" } else { "untouched" },
        );
    }
    if !counts.left_alone.is_empty() {
        let _ = writeln!(
            text,
            "left alone {} started before {before}:",
            plural(counts.left_alone.len() as u64, "run", "runs")
        );
        for run in &counts.left_alone {
            let why = match &run.replayed_by {
                None => format!(
                    "unfinished: `cutover {}` may still resume it; purge again once it has finished",
                    if run.kind == RunKind::Replay { "rejects replay" } else { "migrate" }
                ),
                Some(replay) => format!(
                    "finished, but the unfinished replay {replay} still reads its rejects; purge again once \
                     `cutover rejects replay` has finished it"
                ),
            };
            let _ = writeln!(text, "  {}  started {}  {why}", run.run_id, shown(run.started_at));
        }
    }
    if purge.dry_run {
        let _ = writeln!(text, "nothing was changed (dry run)");
    } else if counts.wal_busy {
        let _ = writeln!(
            text,
            "compacted {state} ({} → {}), but another process has it open, so purged bytes may remain in its \
             WAL ({state}-wal) until it ends: run this again then",
            size(*size_before),
            size(*size_after),
        );
    } else {
        let gone = if counts.runs.is_empty() { "" } else { ": the purged records are gone from its bytes" };
        let _ = writeln!(text, "compacted {state} ({} → {}, WAL emptied){gone}", size(*size_before), size(*size_after));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{KeptRun, PurgedRun};

    #[test]
    fn before_is_a_day_at_midnight_utc_or_an_rfc_3339_time_never_to_come() {
        assert_eq!(shown(parse_before("2026-01-31").unwrap()), "2026-01-31T00:00:00Z");
        assert_eq!(shown(parse_before("2026-01-31T12:30:00+02:00").unwrap()), "2026-01-31T10:30:00Z");
        assert_eq!(shown_exactly(parse_before("2026-01-31T10:30:00.25Z").unwrap()), "2026-01-31T10:30:00.250Z");
        for bad in ["31/01/2026", "2026-13-01", "yesterday", ""] {
            assert!(parse_before(bad).unwrap_err().contains("not a date: write YYYY-MM-DD"), "{bad}");
        }
        let tomorrow = (Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
        assert!(parse_before(&tomorrow).unwrap_err().contains("is in the future"), "{tomorrow}");
    }

    #[test]
    fn the_output_says_what_was_purged_what_was_left_alone_and_why() {
        let at = parse_before("2026-01-02T03:04:05Z").unwrap();
        let kept = |run_id: &str, kind, replayed_by: Option<&str>| KeptRun {
            run_id: run_id.into(),
            started_at: at,
            kind,
            replayed_by: replayed_by.map(str::to_owned),
        };
        let counts = PurgeCounts {
            runs: vec![PurgedRun { run_id: "run-1".into(), started_at: at, rejects: 1, held_back: 2 }],
            left_alone: vec![
                kept("run-2", RunKind::Migrate, Some("replay-1")),
                kept("replay-1", RunKind::Replay, None),
            ],
            clean: 0,
            wal_busy: true,
        };
        let purge = |dry_run, counts| Purge {
            state_path: "s.db".into(),
            before: parse_before("2026-02-01").unwrap(),
            dry_run,
            outcome: Some((counts, 3 * 1_048_576, 2048)),
        };
        let text = render(&purge(false, counts.clone()));
        assert!(
            text.starts_with(
                "purged the raw records of 1 reject and 2 held-back records from 1 finished run started before \
                 2026-02-01T00:00:00Z:\n  run-1  started 2026-01-02T03:04:05Z  1 reject, 2 held-back records\n"
            ),
            "{text}"
        );
        assert!(text.contains("left alone 2 runs started before 2026-02-01T00:00:00Z:\n"), "{text}");
        assert!(text.contains("  run-2  started 2026-01-02T03:04:05Z  finished, but the unfinished replay replay-1 still reads its rejects"), "{text}");
        assert!(
            text.contains(
                "  replay-1  started 2026-01-02T03:04:05Z  unfinished: `cutover rejects replay` may still resume it"
            ),
            "{text}"
        );
        assert!(text.contains("compacted s.db (3.0 MiB → 2.0 KiB), but another process has it open"), "{text}");
        let dry = render(&purge(true, counts));
        assert!(
            dry.starts_with("dry run: would purge the raw records of 1 reject")
                && dry.ends_with("nothing was changed (dry run)\n"),
            "{dry}"
        );
        let nothing = render(&purge(false, PurgeCounts { clean: 2, ..PurgeCounts::default() }));
        assert_eq!(
            nothing,
            "nothing to purge: no finished run started before 2026-02-01T00:00:00Z holds a raw rejected or held-back \
             record (2 runs purged before, or with none)\ncompacted s.db (3.0 MiB → 2.0 KiB, WAL emptied)\n"
        );
        let missing = Purge { outcome: None, ..purge(false, PurgeCounts::default()) };
        assert_eq!(render(&missing), "nothing to purge: s.db does not exist (this migration has not run)\n");
    }
}
