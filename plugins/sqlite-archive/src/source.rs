//! Reading an entity's table back into canonical records, in rowid order.
//!
//! The cursor is the rowid of the last row read, so a read resumes with the
//! rows after it whatever happened in between; an upsert keeps a row's rowid,
//! so updating a record does not move it. Each row is turned back into the
//! JSON object of its entity, typed by the columns' kinds, and deserialized
//! as a canonical [`Record`]; a row that cannot be becomes a
//! [`SourceReject`] at `<table>:<rowid>` carrying the row as JSON.

use crate::columns::{Column, ColumnKind, raw_json};
use crate::table;
use cutover_sdk::prelude::*;
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value as JsonValue};

/// A read cursor that is not a rowid.
#[derive(Debug)]
pub(crate) struct BadCursor;

/// The rowid after which a read starts: the start of the table for no cursor.
pub(crate) fn parse_cursor(cursor: Option<&str>) -> Result<i64, BadCursor> {
    cursor.map_or(Ok(i64::MIN), |text| text.parse().map_err(|_| BadCursor))
}

/// Reads up to `max_records` rows of `table` after rowid `after`.
pub(crate) fn read(
    connection: &Connection,
    table: &str,
    entity: EntityKind,
    columns: &[Column],
    after: i64,
    cursor: Option<&str>,
    max_records: usize,
) -> rusqlite::Result<ReadBatch> {
    let mut batch =
        ReadBatch { records: Vec::new(), rejects: Vec::new(), next_cursor: cursor.map(str::to_owned), done: true };
    if !table::exists(connection, table)? {
        return Ok(batch);
    }
    let mut statement = connection.prepare_cached(&format!(
        "SELECT rowid, * FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
        crate::columns::quote(table)
    ))?;
    let names: Vec<String> = statement.column_names().into_iter().map(str::to_owned).collect();
    // One more row than asked for says whether anything follows.
    let limit = i64::try_from(max_records).unwrap_or(i64::MAX - 1).saturating_add(1);
    let rows: Vec<(i64, Vec<SqlValue>)> = statement
        .query_map(rusqlite::params![after, limit], |row| {
            let values =
                (0..names.len()).map(|index| row.get::<_, SqlValue>(index)).collect::<rusqlite::Result<_>>()?;
            Ok((row.get::<_, i64>(0)?, values))
        })?
        .collect::<rusqlite::Result<_>>()?;
    batch.done = rows.len() <= max_records;
    for (rowid, values) in rows.into_iter().take(max_records) {
        match record_of(entity, &names, &values, columns) {
            Ok(record) => batch.records.push(record),
            Err(reason) => batch.rejects.push(SourceReject {
                location: format!("{table}:{rowid}"),
                raw: raw_row(&names, &values),
                reason,
            }),
        }
        batch.next_cursor = Some(rowid.to_string());
    }
    Ok(batch)
}

/// The record a row holds, or why it holds none.
fn record_of(
    entity: EntityKind,
    names: &[String],
    values: &[SqlValue],
    columns: &[Column],
) -> Result<Record, RejectReason> {
    let mut envelope = Map::new();
    let mut fields = Map::new();
    for (name, value) in names.iter().zip(values) {
        let malformed = |reason: String| RejectReason::new("malformed_row", format!("column `{name}`: {reason}"));
        let kind = match name.as_str() {
            "rowid" | "fingerprint" => continue,
            "source_platform" | "source_id" | "updated_at" => ColumnKind::Text,
            "custom_fields" => ColumnKind::Json,
            _ => match columns.iter().find(|column| &column.name == name) {
                Some(column) => column.kind,
                // A column this version's schema does not know: the entity
                // would ignore the field anyway.
                None => continue,
            },
        };
        let Some(json) = kind.to_json(value).map_err(malformed)? else { continue };
        match name.as_str() {
            "source_platform" | "source_id" | "updated_at" | "custom_fields" => envelope.insert(name.clone(), json),
            _ => fields.insert(name.clone(), json),
        };
    }
    let mut entity_object = Map::new();
    entity_object.insert(entity.as_str().to_owned(), JsonValue::Object(fields));
    envelope.insert("entity".to_owned(), JsonValue::Object(entity_object));
    serde_json::from_value(JsonValue::Object(envelope))
        .map_err(|error| RejectReason::new("malformed_record", format!("not a canonical {}: {error}", entity.as_str())))
}

/// The row as a JSON object of its columns, for the rejects ledger.
fn raw_row(names: &[String], values: &[SqlValue]) -> String {
    let row: Map<String, JsonValue> = names.iter().cloned().zip(values.iter().map(raw_json)).collect();
    JsonValue::Object(row).to_string()
}
