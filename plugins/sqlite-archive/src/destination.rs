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
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
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
            let (insert_sql, upsert_sql) = self.insert_and_upsert_sql();
            let mut insert = transaction.prepare_cached(&insert_sql)?;
            let mut upsert = transaction.prepare_cached(&upsert_sql)?;
            for record in records {
                let result = match self.row_of(&record) {
                    Err(reason) => WriteResult::Rejected { reason },
                    Ok(StoredRow { values, fingerprint }) => {
                        let target_id =
                            cutover_sdk::schema::format_compact!("{}:{}", record.source_platform, record.source_id);
                        // A new key (the common case) is one statement; only
                        // a key already there is looked up and compared.
                        if insert.execute(rusqlite::params_from_iter(&values))? == 1 {
                            WriteResult::Created { target_id }
                        } else {
                            let previous: Option<String> = lookup
                                .query_row([record.source_platform.as_str(), record.source_id.as_str()], |found| {
                                    found.get(0)
                                })?;
                            if previous.as_deref() == Some(fingerprint.as_str()) {
                                WriteResult::Unchanged { target_id }
                            } else {
                                upsert.execute(rusqlite::params_from_iter(values))?;
                                WriteResult::Updated { target_id }
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

    /// `INSERT … ON CONFLICT DO NOTHING`, which tells a new key by its one
    /// changed row, and `INSERT … ON CONFLICT DO UPDATE` over every column,
    /// so a field a newer record lacks is cleared rather than kept from the
    /// old row.
    fn insert_and_upsert_sql(&self) -> (String, String) {
        let names: Vec<String> = ENVELOPE_COLUMNS
            .iter()
            .map(|name| (*name).to_owned())
            .chain(self.columns.iter().map(|column| column.name.clone()))
            .chain(["custom_fields".to_owned(), "fingerprint".to_owned()])
            .map(|name| quote(&name))
            .collect();
        let placeholders: Vec<String> = (1..=names.len()).map(|number| format!("?{number}")).collect();
        let updates: Vec<String> = names[2..].iter().map(|name| format!("{name} = excluded.{name}")).collect();
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (source_platform, source_id) DO ",
            quote(self.table),
            names.join(", "),
            placeholders.join(", "),
        );
        (format!("{insert}NOTHING"), format!("{insert}UPDATE SET {}", updates.join(", ")))
    }

    /// The row for `record`, or why the record cannot be stored.
    fn row_of(&self, record: &Record) -> Result<StoredRow, RejectReason> {
        if record.entity.kind() != self.entity {
            return Err(RejectReason::new(
                "wrong_entity",
                format!("a {} cannot go in the {} table", record.entity.kind().as_str(), self.table),
            ));
        }
        // The fingerprint hashes the record as serialized, in field order,
        // straight from the serializer: no text is kept and none is parsed.
        let cannot_encode = |error: serde_json::Error| {
            RejectReason::new("unmappable_value", format!("cannot encode the record: {error}"))
        };
        let mut hasher = Fnv1a::new();
        serde_json::to_writer(&mut hasher, record).map_err(cannot_encode)?;
        let fingerprint = hasher.hex();
        let updated_at = match serde_json::to_value(record.updated_at).map_err(cannot_encode)? {
            JsonValue::String(text) => text,
            _ => String::new(),
        };
        let entity = serde_json::to_value(&record.entity).map_err(cannot_encode)?;
        let empty = serde_json::Map::new();
        let fields = entity.get(self.entity.as_str()).and_then(JsonValue::as_object).unwrap_or(&empty);
        if let Some(unknown) = fields.keys().find(|name| !self.columns.iter().any(|column| &column.name == *name)) {
            return Err(RejectReason::new(
                "unmappable_value",
                format!("field `{unknown}` is not in the canonical schema of {}", self.entity.as_str()),
            ));
        }
        let mut row = Vec::with_capacity(self.columns.len() + 5);
        row.extend([
            SqlValue::Text(record.source_platform.to_string()),
            SqlValue::Text(record.source_id.to_string()),
            SqlValue::Text(updated_at),
        ]);
        for column in self.columns {
            let value = column.kind.to_sql(fields.get(&column.name).unwrap_or(&JsonValue::Null)).map_err(|reason| {
                RejectReason::new("unmappable_value", format!("field `{}`: {reason}", column.name))
            })?;
            row.push(value);
        }
        row.push(SqlValue::Text(serde_json::to_string(&record.custom_fields).map_err(cannot_encode)?));
        row.push(SqlValue::Text(fingerprint.clone()));
        Ok(StoredRow { values: row, fingerprint })
    }
}

/// The values of a record's row, in the order of [`TableWriter::insert_and_upsert_sql`],
/// and its fingerprint (also the last value).
struct StoredRow {
    values: Vec<SqlValue>,
    fingerprint: String,
}

/// FNV-1a (64 bit) of the record's canonical JSON, in hex. Chosen over std's
/// `DefaultHasher` because fingerprints are stored in the archive and must be
/// the same from one Rust release to the next; change detection needs no
/// cryptographic strength.
#[cfg(test)]
fn fingerprint(canonical_json: &str) -> String {
    let mut hasher = Fnv1a::new();
    hasher.add(canonical_json.as_bytes());
    hasher.hex()
}

/// FNV-1a (64 bit) as an `io::Write`, so the JSON serializer feeds it directly.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    fn add(&mut self, bytes: &[u8]) {
        self.0 = bytes.iter().fold(self.0, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3));
    }

    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

impl std::io::Write for Fnv1a {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.add(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
