//! Writing records into an entity's table as upserts on (source platform,
//! source id).
//!
//! Each record's canonical JSON is hashed into a fingerprint kept in its row:
//! a key not in the table is inserted (`created`), the same fingerprint again
//! is `unchanged` and not written, another one replaces the row (`updated`,
//! keeping its rowid, so a source read is not reordered). One batch is one
//! transaction, so an acknowledged batch is on disk whole and a failed one
//! leaves nothing behind.

use crate::columns::{Catalog, Column, ENVELOPE_COLUMNS, quote};
use crate::table;
use cutover_sdk::prelude::*;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension};
use serde_json::Value as JsonValue;

/// The write side of one table: its name, entity and the columns of the
/// entity's fields.
pub(crate) struct TableWriter<'a> {
    pub(crate) table: &'a str,
    pub(crate) entity: EntityKind,
    pub(crate) columns: &'a [Column],
}

impl TableWriter<'_> {
    /// Creates the table or adds the columns it lacks; done once per table
    /// and opened archive.
    pub(crate) fn prepare(&self, connection: &Connection) -> rusqlite::Result<()> {
        table::ensure(connection, self.table, self.columns)
    }

    /// Writes `records` in one transaction and says what became of each.
    pub(crate) fn write(
        &self,
        connection: &mut Connection,
        records: Vec<Record>,
    ) -> Result<Vec<WriteOutcome>, rusqlite::Error> {
        let transaction = connection.transaction()?;
        let mut outcomes = Vec::with_capacity(records.len());
        {
            let mut lookup = transaction.prepare_cached(&format!(
                "SELECT fingerprint FROM {} WHERE source_platform = ?1 AND source_id = ?2",
                quote(self.table)
            ))?;
            let mut upsert = transaction.prepare_cached(&self.upsert_sql())?;
            for record in records {
                let result = match self.row_of(&record) {
                    Err(reason) => WriteResult::Rejected { reason },
                    Ok(StoredRow { values, fingerprint }) => {
                        let target_id =
                            cutover_sdk::schema::format_compact!("{}:{}", record.source_platform, record.source_id);
                        let previous: Option<Option<String>> = lookup
                            .query_row([record.source_platform.as_str(), record.source_id.as_str()], |found| {
                                found.get(0)
                            })
                            .optional()?;
                        match previous {
                            Some(Some(previous)) if previous == fingerprint => WriteResult::Unchanged { target_id },
                            previous => {
                                upsert.execute(rusqlite::params_from_iter(values))?;
                                if previous.is_some() {
                                    WriteResult::Updated { target_id }
                                } else {
                                    WriteResult::Created { target_id }
                                }
                            }
                        }
                    }
                };
                outcomes.push(WriteOutcome { source_id: record.source_id, result });
            }
        }
        transaction.commit()?;
        Ok(outcomes)
    }

    /// `INSERT … ON CONFLICT DO UPDATE` over every column, so a field a newer
    /// record lacks is cleared rather than kept from the old row.
    fn upsert_sql(&self) -> String {
        let names: Vec<String> = ENVELOPE_COLUMNS
            .iter()
            .map(|name| (*name).to_owned())
            .chain(self.columns.iter().map(|column| column.name.clone()))
            .chain(["custom_fields".to_owned(), "fingerprint".to_owned()])
            .map(|name| quote(&name))
            .collect();
        let placeholders: Vec<String> = (1..=names.len()).map(|number| format!("?{number}")).collect();
        let updates: Vec<String> = names[2..].iter().map(|name| format!("{name} = excluded.{name}")).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (source_platform, source_id) DO UPDATE SET {}",
            quote(self.table),
            names.join(", "),
            placeholders.join(", "),
            updates.join(", ")
        )
    }

    /// The row for `record`, or why the record cannot be stored.
    fn row_of(&self, record: &Record) -> Result<StoredRow, RejectReason> {
        if record.entity.kind() != self.entity {
            return Err(RejectReason::new(
                "wrong_entity",
                format!("a {} cannot go in the {} table", record.entity.kind().as_str(), self.table),
            ));
        }
        // The fingerprint hashes the record as serialized, in field order;
        // the `Value` below would order keys by serde_json's map features.
        let canonical_text = serde_json::to_string(record)
            .map_err(|error| RejectReason::new("unmappable_value", format!("cannot encode the record: {error}")))?;
        let canonical: JsonValue = serde_json::from_str(&canonical_text)
            .map_err(|error| RejectReason::new("unmappable_value", format!("cannot encode the record: {error}")))?;
        let updated_at = canonical.get("updated_at").and_then(JsonValue::as_str).unwrap_or_default().to_owned();
        let empty = serde_json::Map::new();
        let fields = canonical
            .pointer(&format!("/entity/{}", self.entity.as_str()))
            .and_then(JsonValue::as_object)
            .unwrap_or(&empty);
        if let Some(unknown) = fields.keys().find(|name| !self.columns.iter().any(|column| &column.name == *name)) {
            return Err(RejectReason::new(
                "unmappable_value",
                format!("field `{unknown}` is not in the canonical schema of {}", self.entity.as_str()),
            ));
        }
        let mut row = vec![
            SqlValue::Text(record.source_platform.to_string()),
            SqlValue::Text(record.source_id.to_string()),
            SqlValue::Text(updated_at),
        ];
        for column in self.columns {
            let value = column.kind.to_sql(fields.get(&column.name).unwrap_or(&JsonValue::Null)).map_err(|reason| {
                RejectReason::new("unmappable_value", format!("field `{}`: {reason}", column.name))
            })?;
            row.push(value);
        }
        let custom_fields = canonical.get("custom_fields").cloned().unwrap_or_else(|| JsonValue::Object(empty.clone()));
        row.push(SqlValue::Text(custom_fields.to_string()));
        let fingerprint = fingerprint(&canonical_text);
        row.push(SqlValue::Text(fingerprint.clone()));
        Ok(StoredRow { values: row, fingerprint })
    }
}

/// The values of a record's row, in the order of [`TableWriter::upsert_sql`],
/// and its fingerprint (also the last value).
struct StoredRow {
    values: Vec<SqlValue>,
    fingerprint: String,
}

/// FNV-1a (64 bit) of the record's canonical JSON, in hex. Chosen over std's
/// `DefaultHasher` because fingerprints are stored in the archive and must be
/// the same from one Rust release to the next; change detection needs no
/// cryptographic strength.
fn fingerprint(canonical_json: &str) -> String {
    let hash = canonical_json
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3));
    format!("{hash:016x}")
}

/// Writes a batch to the table of `entity`, creating or widening it first
/// when `prepared` says this archive has not done so yet.
pub(crate) fn write_batch(
    connection: &mut Connection,
    catalog: &Catalog,
    entity: EntityKind,
    prepared: &mut std::collections::HashSet<EntityKind>,
    records: Vec<Record>,
) -> Result<Vec<WriteOutcome>, rusqlite::Error> {
    let writer = TableWriter { table: entity.as_str(), entity, columns: catalog.columns(entity) };
    if !prepared.contains(&entity) {
        writer.prepare(connection)?;
        prepared.insert(entity);
    }
    writer.write(connection, records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_fnv_1a_and_stable_across_releases() {
        // Published FNV-1a 64 test vectors: stored fingerprints must never change.
        assert_eq!(fingerprint(""), "cbf29ce484222325");
        assert_eq!(fingerprint("a"), "af63dc4c8601ec8c");
        assert_eq!(fingerprint("foobar"), "85944171f73967e8");
    }
}
