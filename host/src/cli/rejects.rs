//! `cutover rejects list CONFIG`: every record still rejected (by the last
//! migration, or by a replay since), with where it came from and why. The
//! replay itself is a run: [`crate::cli::migrate::replay`].

use crate::cli::status::StatusError;
use crate::config::MigrationConfig;
use crate::state::{RejectEntry, SqliteState, StateStore};
use std::path::Path;

/// The open rejects (none when the migration never ran).
pub fn list(config_path: &Path) -> Result<Vec<RejectEntry>, StatusError> {
    let config = MigrationConfig::load(config_path)?;
    let state_path = config.state_path(config_path);
    if !state_path.exists() {
        return Ok(Vec::new());
    }
    let state = SqliteState::open(&state_path)?;
    Ok(state.open_rejects()?.into_iter().map(|reject| reject.entry).collect())
}

/// The rejects as a table or as a JSON array.
pub fn render(rejects: &[RejectEntry], as_json: bool) -> String {
    if as_json {
        return serde_json::to_string(rejects).unwrap_or_else(|_| "[]".into());
    }
    if rejects.is_empty() {
        return "no rejected records".into();
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header(["STREAM", "LOCATION", "REASON", "MESSAGE"]);
    for reject in rejects {
        table.add_row([&reject.stream, &reject.location, &reject.code, &reject.message]);
    }
    table.to_string()
}
