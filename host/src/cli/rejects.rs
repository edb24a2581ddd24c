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
        let cells = [&reject.stream, &reject.location, &reject.code, &reject.message];
        table.add_row(cells.map(|cell| printable(cell)));
    }
    table.to_string()
}

/// `text` safe to print on a terminal: control characters (escape
/// sequences that could rewrite the screen or the title, a carriage return
/// that hides what came before, a newline inside a cell) are shown escaped,
/// as `\u{1b}`; everything else, non-ASCII included, as it is.
pub fn printable(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for character in text.chars() {
        if character.is_control() {
            shown.extend(character.escape_default());
        } else {
            shown.push(character);
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_in_input_are_shown_not_obeyed() {
        assert_eq!(printable("Zoë \u{1b}]0;pwned\u{7}\u{1b}[2J"), "Zoë \\u{1b}]0;pwned\\u{7}\\u{1b}[2J");
        assert_eq!(printable("a\rb\nc\td\u{9b}"), "a\\rb\\nc\\td\\u{9b}");
        let entry = RejectEntry {
            stream: "contacts".into(),
            location: "contacts.csv:3".into(),
            code: "invalid_email".into(),
            message: "not an address: \u{1b}[31mred".into(),
            raw: String::new(),
        };
        let table = render(&[entry], false);
        assert!(!table.contains('\u{1b}') && table.contains("\\u{1b}[31mred"), "{table}");
    }
}
