//! Creating an entity's table and adding the columns a newer schema brings.
//!
//! A table is created at the first write with every column of the entity's
//! schema, so its shape does not depend on which fields the first records
//! happened to have. When the archive was written by an older version of the
//! plugin, the fields added since become new columns (`ALTER TABLE ADD
//! COLUMN`, which SQLite does without rewriting the table); columns are never
//! dropped or retyped, since within a schema major version fields are only
//! added.

use crate::columns::{Column, ENVELOPE_COLUMNS, quote};
use rusqlite::{Connection, OptionalExtension};

/// Makes sure `table` exists with every column of `columns`.
pub(crate) fn ensure(connection: &Connection, table: &str, columns: &[Column]) -> rusqlite::Result<()> {
    if !exists(connection, table)? {
        let mut definitions: Vec<String> =
            ENVELOPE_COLUMNS.iter().map(|name| format!("{} TEXT NOT NULL", quote(name))).collect();
        definitions.extend(columns.iter().map(|column| format!("{} {}", quote(&column.name), column.kind.sql_type())));
        definitions.push("custom_fields TEXT".into());
        definitions.push("fingerprint TEXT".into());
        definitions.push("PRIMARY KEY (source_platform, source_id)".into());
        connection.execute(&format!("CREATE TABLE {} ({})", quote(table), definitions.join(", ")), [])?;
        return Ok(());
    }
    let existing = existing_columns(connection, table)?;
    for column in columns.iter().filter(|column| !existing.contains(&column.name)) {
        connection.execute(
            &format!("ALTER TABLE {} ADD COLUMN {} {}", quote(table), quote(&column.name), column.kind.sql_type()),
            [],
        )?;
    }
    Ok(())
}

/// Whether the archive has a table named `table`.
pub(crate) fn exists(connection: &Connection, table: &str) -> rusqlite::Result<bool> {
    connection
        .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", [table], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
}

/// The names of `table`'s columns, in order.
pub(crate) fn existing_columns(connection: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement = connection.prepare("SELECT name FROM pragma_table_info(?1)")?;
    statement.query_map([table], |row| row.get::<_, String>(0))?.collect()
}
