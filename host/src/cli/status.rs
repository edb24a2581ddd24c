//! `cutover status CONFIG`: the last run of a migration, stream by stream.

use crate::config::{ConfigError, MigrationConfig};
use crate::report::{RunReport, StreamStatus};
use crate::state::{SqliteState, StateError, StateStore};
use std::path::Path;

/// Why the status could not be shown.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    /// The config is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The state store failed.
    #[error(transparent)]
    State(#[from] StateError),
}

/// The last run and whether it ended, or `None` when the migration never ran.
pub fn last_run(config_path: &Path) -> Result<Option<(RunReport, bool)>, StatusError> {
    let config = MigrationConfig::load(config_path)?;
    let state_path = config.state_path(config_path);
    if !state_path.exists() {
        return Ok(None);
    }
    let state = SqliteState::open(&state_path)?;
    Ok(state.last_run()?.map(|(run, streams)| {
        let streams = streams
            .into_iter()
            .map(|stream| {
                let mut report = stream.report;
                // A stream that has not ended is not balanced yet (records
                // may be held back for its second pass): say where it stopped.
                if !stream.finished {
                    report.status = StreamStatus::Interrupted;
                }
                report
            })
            .collect();
        let report = RunReport { run_id: run.run_id, resumed: false, interrupted: !run.finished, streams };
        (report, run.finished)
    }))
}

/// The status as text or JSON.
pub fn render(last_run: Option<(RunReport, bool)>, as_json: bool) -> String {
    match (last_run, as_json) {
        (None, true) => "null".into(),
        (None, false) => "this migration has not run yet".into(),
        (Some((report, finished)), true) => {
            let mut value = serde_json::to_value(&report).unwrap_or_default();
            value["finished"] = serde_json::Value::Bool(finished);
            value.to_string()
        }
        (Some((report, finished)), false) => {
            let state = if finished { "finished" } else { "interrupted: `cutover migrate` resumes it" };
            format!("{report}{state}")
        }
    }
}
