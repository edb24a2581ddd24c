//! The rejects ledger as a source, for `cutover rejects replay`: it serves
//! the records a run rejected, as they were read, so they go through the
//! (fixed) mapping, the id map and the destination again, and nothing else
//! does.
//!
//! Only rejects stored as whole records can be replayed. An item the source
//! could not read at all (a malformed CSV row) is stored as the source gave
//! it; fixing it means fixing the source and running `cutover migrate`.

use crate::plugin::{BatchSource, RecordBatch, SourceBatch};
use crate::state::OpenReject;
use cutover_contract::PluginError;
use cutover_schema::Record;
use std::collections::BTreeMap;

/// Open rejects by source stream, each with its ledger id, in ledger order.
pub struct LedgerSource {
    streams: BTreeMap<String, Vec<(i64, Record)>>,
}

impl LedgerSource {
    /// The replayable rejects among `open`, leaving out those `current_run`
    /// recorded itself (a resumed replay's own rejects are not taken again).
    pub fn new(open: Vec<OpenReject>, current_run: &str) -> LedgerSource {
        let mut streams: BTreeMap<String, Vec<(i64, Record)>> = BTreeMap::new();
        for reject in open.into_iter().filter(|reject| reject.run_id != current_run) {
            if let Ok(record) = serde_json::from_str::<Record>(&reject.entry.raw) {
                streams.entry(reject.entry.stream).or_default().push((reject.id, record));
            }
        }
        LedgerSource { streams }
    }

    /// How many rejects of `stream` can be replayed.
    pub fn count(&self, stream: &str) -> usize {
        self.streams.get(stream).map_or(0, Vec::len)
    }
}

impl BatchSource for LedgerSource {
    /// The cursor is the ledger id of the last reject served.
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: u32) -> Result<SourceBatch, PluginError> {
        let after: i64 = cursor.and_then(|cursor| cursor.parse().ok()).unwrap_or(0);
        let rejects = self.streams.get(stream).map_or(&[][..], Vec::as_slice);
        let start = rejects.partition_point(|(id, _)| *id <= after);
        let end = start.saturating_add(usize::try_from(max_records).unwrap_or(usize::MAX)).min(rejects.len());
        let batch = &rejects[start..end];
        Ok(SourceBatch {
            records: RecordBatch::Decoded(batch.iter().map(|(_, record)| record.clone()).collect()),
            rejects: Vec::new(),
            next_cursor: batch.last().map(|(id, _)| id.to_string()).or_else(|| cursor.map(str::to_owned)),
            done: end == rejects.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::RejectEntry;
    use cutover_schema::{Contact, Entity};

    fn reject(id: i64, run_id: &str, stream: &str, raw: String) -> OpenReject {
        OpenReject {
            id,
            run_id: run_id.into(),
            entry: RejectEntry {
                stream: stream.into(),
                location: format!("line {id}"),
                code: "invalid_email".into(),
                message: "no @".into(),
                raw,
            },
        }
    }

    fn contact(id: &str) -> String {
        let record = Record::new("csv", id, chrono::DateTime::UNIX_EPOCH, Entity::Contact(Contact::default()));
        serde_json::to_string(&record).unwrap()
    }

    #[test]
    fn serves_replayable_rejects_of_a_stream_in_batches_from_a_cursor() {
        let mut ledger = LedgerSource::new(
            vec![
                reject(3, "run-1", "contacts", contact("a")),
                reject(4, "run-1", "contacts", "Email;Name\nbroken".into()),
                reject(5, "run-1", "partners", contact("p")),
                reject(7, "run-1", "contacts", contact("b")),
                reject(9, "replay-1", "contacts", contact("c")),
            ],
            "replay-1",
        );
        assert_eq!(ledger.count("contacts"), 2);
        let first = ledger.read("contacts", None, 1).unwrap();
        assert_eq!((first.records.len(), first.next_cursor.as_deref(), first.done), (1, Some("3"), false));
        let second = ledger.read("contacts", Some("3"), 10).unwrap();
        let ids: Vec<String> =
            second.records.into_decoded().unwrap().into_iter().map(|record| record.source_id.to_string()).collect();
        assert_eq!((ids, second.next_cursor.as_deref(), second.done), (vec!["b".to_owned()], Some("7"), true));
        let after = ledger.read("contacts", Some("7"), 10).unwrap();
        assert_eq!((after.records.len(), after.next_cursor.as_deref(), after.done), (0, Some("7"), true));
        assert_eq!(ledger.read("clicks", None, 10).unwrap().records.len(), 0);
    }
}
