//! Writing a `.jsonl` file as an upsert on (source platform, entity, source id).
//!
//! At open the existing file is indexed: a hash of each record's key and a
//! fingerprint of its line. A record whose key is new is appended (`created`);
//! the same line again is `unchanged`; a changed line is appended too
//! (`updated`) and the file is compacted at close, keeping the last version of
//! each key, so the same batch written twice creates nothing twice. Each batch
//! is flushed before its outcomes are returned, so an acknowledged record
//! survives the process being killed.

use crate::source::io_error;
use cutover_sdk::prelude::*;
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::fs::{File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// An open `.jsonl` file being written.
pub(crate) struct StreamWriter {
    path: PathBuf,
    entity: EntityKind,
    file: BufWriter<File>,
    /// Key hash → fingerprint of the line last written for it.
    index: HashMap<u64, u64>,
    /// Whether a key was written twice, so the file needs compacting.
    superseded: bool,
}

impl StreamWriter {
    pub(crate) fn open(path: PathBuf, entity: EntityKind) -> Result<StreamWriter, PluginError> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|error| io_error(folder, "cannot create folder", &error))?;
        }
        let mut index = HashMap::new();
        let mut superseded = false;
        if path.exists() {
            drop_unfinished_line(&path)?;
            let existing = File::open(&path).map_err(|error| io_error(&path, "cannot open", &error))?;
            for line in BufReader::new(existing).lines() {
                let line = line.map_err(|error| io_error(&path, "cannot index", &error))?;
                if let Ok(record) = serde_json::from_str::<Record>(&line) {
                    superseded |= index.insert(key_hash(&record), fingerprint(&line)).is_some();
                }
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|error| io_error(&path, "cannot open for writing", &error))?;
        Ok(StreamWriter { path, entity, file: BufWriter::with_capacity(256 * 1024, file), index, superseded })
    }

    pub(crate) fn write(&mut self, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let mut outcomes = Vec::with_capacity(records.len());
        for record in records {
            let target_id = cutover_sdk::schema::format_compact!("{}:{}", record.source_platform, record.source_id);
            if record.entity.kind() != self.entity {
                outcomes.push(WriteOutcome {
                    source_id: record.source_id,
                    result: WriteResult::Rejected {
                        reason: RejectReason::new(
                            "wrong_entity",
                            format!("a {} cannot go in a {} file", record.entity.kind().as_str(), self.entity.as_str()),
                        ),
                    },
                });
                continue;
            }
            let line = serde_json::to_string(&record).map_err(|error| {
                PluginError::new(ErrorCode::Internal, format!("cannot encode record as JSON: {error}"))
                    .for_record(record.source_id.as_str())
            })?;
            let line_fingerprint = fingerprint(&line);
            let result = match self.index.insert(key_hash(&record), line_fingerprint) {
                Some(previous) if previous == line_fingerprint => WriteResult::Unchanged { target_id },
                previous => {
                    self.file.write_all(line.as_bytes()).and_then(|()| self.file.write_all(b"\n")).map_err(
                        |error| io_error(&self.path, "cannot write to", &error).for_record(record.source_id.as_str()),
                    )?;
                    if previous.is_some() {
                        self.superseded = true;
                        WriteResult::Updated { target_id }
                    } else {
                        WriteResult::Created { target_id }
                    }
                }
            };
            outcomes.push(WriteOutcome { source_id: record.source_id, result });
        }
        self.file.flush().map_err(|error| io_error(&self.path, "cannot flush", &error))?;
        Ok(outcomes)
    }

    /// Flushes, and compacts the file if a key was written more than once.
    pub(crate) fn finish(mut self) -> Result<(), PluginError> {
        self.file.flush().map_err(|error| io_error(&self.path, "cannot flush", &error))?;
        if self.superseded { compact(&self.path) } else { Ok(()) }
    }
}

/// Cuts a last line that has no newline: the process writing it was killed
/// before the batch was flushed, so that record was never acknowledged and
/// will be written again.
fn drop_unfinished_line(path: &PathBuf) -> Result<(), PluginError> {
    let content = std::fs::read(path).map_err(|error| io_error(path, "cannot read", &error))?;
    if content.is_empty() || content.ends_with(b"\n") {
        return Ok(());
    }
    let keep = content.iter().rposition(|byte| *byte == b'\n').map_or(0, |newline| newline + 1);
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|file| file.set_len(keep as u64))
        .map_err(|error| io_error(path, "cannot cut the unfinished last line of", &error))
}

/// Rewrites the file keeping only the last line of each key, in the order of
/// those last lines, through a temporary file renamed over the original.
fn compact(path: &PathBuf) -> Result<(), PluginError> {
    let content =
        std::fs::read_to_string(path).map_err(|error| io_error(path, "cannot read for compaction", &error))?;
    let lines: Vec<&str> = content.lines().collect();
    let keys: Vec<Option<u64>> =
        lines.iter().map(|line| serde_json::from_str::<Record>(line).ok().map(|record| key_hash(&record))).collect();
    let mut last_line_of_key = HashMap::new();
    for (number, key) in keys.iter().enumerate() {
        if let Some(key) = key {
            last_line_of_key.insert(*key, number);
        }
    }
    // A new file with a random name, created exclusively (never through a
    // link planted in the folder), readable by its owner only.
    let folder = path.parent().filter(|folder| !folder.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temporary = tempfile::NamedTempFile::new_in(folder)
        .map_err(|error| io_error(folder, "cannot create a temporary file in", &error))?;
    let mut output = BufWriter::new(temporary);
    for (number, (line, key)) in lines.iter().zip(&keys).enumerate() {
        // Not ours to judge: a line we cannot parse stays where it was.
        let keep = key.is_none_or(|key| last_line_of_key.get(&key) == Some(&number));
        if keep {
            writeln!(output, "{line}").map_err(|error| io_error(path, "cannot write the compacted copy of", &error))?;
        }
    }
    let temporary =
        output.into_inner().map_err(|error| io_error(path, "cannot write the compacted copy of", error.error()))?;
    temporary.persist(path).map(drop).map_err(|error| io_error(path, "cannot replace", &error.error))
}

fn key_hash(record: &Record) -> u64 {
    let mut hasher = DefaultHasher::new();
    (&record.source_platform, record.entity.kind(), &record.source_id).hash(&mut hasher);
    hasher.finish()
}

fn fingerprint(line: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    line.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, email: &str) -> Record {
        serde_json::from_str(&format!(
            r#"{{"source_platform":"test","source_id":"{id}","updated_at":"2026-01-01T00:00:00Z","entity":{{"contact":{{"email":"{email}"}}}}}}"#
        ))
        .unwrap()
    }

    fn results(outcomes: Vec<WriteOutcome>) -> Vec<&'static str> {
        outcomes.into_iter().map(|outcome| outcome.result.as_str()).collect()
    }

    #[test]
    fn an_unfinished_last_line_from_a_killed_writer_is_cut() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("contacts.jsonl");
        let complete = serde_json::to_string(&record("a", "a@x.org")).unwrap();
        std::fs::write(&path, format!("{complete}\n{{\"source_platform\":\"te")).unwrap();
        let mut writer = StreamWriter::open(path.clone(), EntityKind::Contact).unwrap();
        assert_eq!(
            results(writer.write(vec![record("a", "a@x.org"), record("b", "b@x.org")]).unwrap()),
            ["unchanged", "created"]
        );
        writer.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
    }

    #[test]
    fn upserts_on_the_key_and_compacts_at_finish() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("out").join("contacts.jsonl");
        let mut writer = StreamWriter::open(path.clone(), EntityKind::Contact).unwrap();
        let batch = vec![record("a", "a@x.org"), record("b", "b@x.org")];
        assert_eq!(results(writer.write(batch.clone()).unwrap()), ["created", "created"]);
        assert_eq!(results(writer.write(batch).unwrap()), ["unchanged", "unchanged"]);
        assert_eq!(results(writer.write(vec![record("b", "new@x.org")]).unwrap()), ["updated"]);
        writer.finish().unwrap();

        let lines: Vec<String> = std::fs::read_to_string(&path).unwrap().lines().map(str::to_owned).collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].contains("new@x.org"), "{lines:?}");

        let mut reopened = StreamWriter::open(path, EntityKind::Contact).unwrap();
        assert_eq!(results(reopened.write(vec![record("a", "a@x.org")]).unwrap()), ["unchanged"]);
    }
}
