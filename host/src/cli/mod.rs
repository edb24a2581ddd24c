//! One file per CLI verb: each parses nothing itself (clap did), calls into
//! the library, and prints results to stdout. Diagnostics go to stderr.

pub mod migrate;
pub mod partners;
pub mod plugins;
pub mod progress;
pub mod redirects;
pub mod rejects;
pub mod state;
pub mod status;

use crate::discovery::{self, Discovery};
use crate::lock::{LockedPlugin, PluginLock};
use std::path::{Path, PathBuf};

/// Exit status: everything done.
pub const EXIT_OK: u8 = 0;
/// Exit status: an error, or a run in which a stream failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: the command line was wrong (clap's own code).
pub const EXIT_USAGE: u8 = 2;
/// Exit status: the run finished and balanced, but some records were rejected.
pub const EXIT_REJECTS: u8 = 3;
/// Exit status: a stream ran to its end but its accounting does not balance
/// (items read ≠ created + updated + unchanged + rejected + skipped): the run
/// cannot prove that every record moved. Wins over every other status.
pub const EXIT_UNBALANCED: u8 = 4;
/// Exit status: stopped by Ctrl-C after a committed batch (128 + SIGINT, as
/// shells report it); the same command resumes the run.
pub const EXIT_INTERRUPTED: u8 = 130;

/// The exit status of a run that returned a report: unbalanced (4) before
/// failed (1) before interrupted (130) before rejects (3) before done (0).
pub fn exit_status(report: &crate::report::RunReport) -> u8 {
    if report.unbalanced() {
        EXIT_UNBALANCED
    } else if report.failed() {
        EXIT_FAILED
    } else if report.interrupted {
        EXIT_INTERRUPTED
    } else if report.has_rejects() {
        EXIT_REJECTS
    } else {
        EXIT_OK
    }
}

/// The plugin search path: the flag folders, `CUTOVER_PLUGIN_PATH`, then
/// the default folder.
fn search_path(plugin_dirs: &[PathBuf]) -> Vec<discovery::SearchDir> {
    let environment = std::env::var("CUTOVER_PLUGIN_PATH").ok();
    let executable = std::env::current_exe().ok();
    discovery::search_path(plugin_dirs, environment.as_deref(), executable.as_deref())
}

fn warn_about(found: &Discovery) {
    for problem in &found.problems {
        eprintln!("warning: {problem}");
    }
}

/// Finds and loads every trusted plugin in the search path (for `cutover
/// plugins`), and reports each skipped file on stderr.
pub fn load_plugins(plugin_dirs: &[PathBuf]) -> Discovery {
    let found = discovery::discover(&search_path(plugin_dirs));
    warn_about(&found);
    found
}

/// Why the plugins of a config cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PluginsForConfigError {
    /// The config cannot be read.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The lock file cannot be read or written.
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    /// A plugin file is shadowed, misnamed or not the one the lock pins.
    #[error(transparent)]
    Trust(#[from] discovery::TrustError),
    /// `plugins lock`: a plugin the config names is not installed.
    #[error("{side} plugin `{name}` named in {config} is not installed (found: {found})")]
    NotInstalled {
        /// `source` or `destination`.
        side: &'static str,
        /// The name.
        name: String,
        /// The config.
        config: String,
        /// The plugin files found.
        found: String,
    },
}

impl PluginsForConfigError {
    /// What the operator can do about it.
    pub fn help(&self) -> Option<String> {
        match self {
            PluginsForConfigError::Trust(error) => Some(error.help().to_owned()),
            PluginsForConfigError::NotInstalled { .. } => Some(
                "`cutover plugins list` shows what is installed; check --plugin-dir and CUTOVER_PLUGIN_PATH".into(),
            ),
            PluginsForConfigError::Config(_) | PluginsForConfigError::Lock(_) => None,
        }
    }
}

/// Loads only the source and destination plugins `config_path` names, each
/// checked against the config's lock file (`cutover.lock`) when it pins it,
/// and reports each skipped file on stderr; without a lock file, says how
/// to write one.
pub fn load_plugins_for(plugin_dirs: &[PathBuf], config_path: &Path) -> Result<Discovery, PluginsForConfigError> {
    let config = crate::config::MigrationConfig::load(config_path)?;
    let lock_path = PluginLock::path_for(config_path);
    let lock = PluginLock::read(&lock_path)?;
    if lock.is_none() {
        eprintln!(
            "warning: no plugin lock beside the config: `cutover plugins lock {}` pins the plugins this migration \
             loads to their SHA-256, and every run then refuses a changed one",
            config_path.display()
        );
    }
    let names = [config.source.plugin.as_str(), config.destination.plugin.as_str()];
    let found = discovery::discover_named(
        &search_path(plugin_dirs),
        &names,
        lock.as_ref().map(|lock| (lock, lock_path.as_path())),
    )?;
    warn_about(&found);
    Ok(found)
}

/// `cutover plugins lock CONFIG`: pins the plugins the config names to the
/// SHA-256 of their files, in the lock file beside it; returns its path and
/// what it holds.
pub fn lock_plugins(
    plugin_dirs: &[PathBuf],
    config_path: &Path,
) -> Result<(PathBuf, PluginLock), PluginsForConfigError> {
    let config = crate::config::MigrationConfig::load(config_path)?;
    let sides = [("source", config.source.plugin.as_str()), ("destination", config.destination.plugin.as_str())];
    let names = sides.map(|(_, name)| name);
    let found = discovery::discover_named(&search_path(plugin_dirs), &names, None)?;
    warn_about(&found);
    let mut locked: Vec<LockedPlugin> = Vec::new();
    for (side, name) in sides {
        let plugin = found.find(name).ok_or_else(|| PluginsForConfigError::NotInstalled {
            side,
            name: name.to_owned(),
            config: config_path.display().to_string(),
            found: found.names().join(", "),
        })?;
        if locked.iter().any(|entry| entry.name == name) {
            continue;
        }
        let unreadable = |source| discovery::TrustError::Unreadable { path: plugin.path.clone(), source };
        let file = std::fs::File::open(&plugin.path).map_err(unreadable)?;
        let sha256 = crate::trust::sha256(file).map_err(unreadable)?;
        locked.push(LockedPlugin { name: name.to_owned(), version: plugin.metadata.version.clone(), sha256 });
    }
    let lock = PluginLock::new(locked);
    let lock_path = PluginLock::path_for(config_path);
    lock.write(&lock_path)?;
    Ok((lock_path, lock))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{RunReport, StreamReport, StreamStatus};

    fn stream(status: StreamStatus, read: u64, created: u64, rejected: u64) -> StreamReport {
        StreamReport { name: "contacts".into(), read, created, rejected, status, ..StreamReport::default() }
    }

    fn status_of(streams: Vec<StreamReport>, interrupted: bool) -> u8 {
        exit_status(&RunReport { run_id: "run-1".into(), resumed: false, interrupted, streams })
    }

    #[test]
    fn an_unbalanced_stream_exits_4_whatever_else_happened() {
        assert_eq!(status_of(vec![stream(StreamStatus::Completed, 10, 10, 0)], false), EXIT_OK);
        assert_eq!(status_of(vec![stream(StreamStatus::Completed, 10, 9, 1)], false), EXIT_REJECTS);
        assert_eq!(status_of(vec![stream(StreamStatus::Failed, 10, 3, 0)], false), EXIT_FAILED);
        assert_eq!(status_of(vec![stream(StreamStatus::Interrupted, 10, 3, 0)], true), EXIT_INTERRUPTED);
        // Marked by the engine, with rejects too: never 0 or 3.
        assert_eq!(status_of(vec![stream(StreamStatus::Unbalanced, 10, 8, 1)], false), EXIT_UNBALANCED);
        // Completed with counts that do not add up (a finished stream from the state store).
        assert_eq!(status_of(vec![stream(StreamStatus::Completed, 10, 9, 0)], false), EXIT_UNBALANCED);
        // Beside a failed stream and an interruption, it still says the proof broke.
        let streams = vec![stream(StreamStatus::Unbalanced, 10, 9, 0), stream(StreamStatus::Failed, 5, 1, 0)];
        assert_eq!(status_of(streams, true), EXIT_UNBALANCED);
    }
}
