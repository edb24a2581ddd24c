//! Reading a `.jsonl` file in batches from a byte-offset cursor.
//!
//! The cursor is `<byte offset>:<line number>` of the next line to read, so a
//! resumed read seeks straight to it and reject locations keep true line
//! numbers. The file handle stays open between batches; a cursor that is not
//! where the last batch ended makes it seek.

use cutover_sdk::prelude::*;
use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Position of the next line: byte offset and 1-based line number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    offset: u64,
    line: u64,
}

impl Position {
    const START: Position = Position { offset: 0, line: 1 };

    fn parse(cursor: &str) -> Option<Position> {
        let (offset, line) = cursor.split_once(':')?;
        Some(Position { offset: offset.parse().ok()?, line: line.parse().ok()? })
    }

    fn render(self) -> String {
        format!("{}:{}", self.offset, self.line)
    }
}

/// An open `.jsonl` file being read.
pub(crate) struct StreamReader {
    path: PathBuf,
    file: BufReader<File>,
    position: Position,
    length: u64,
}

impl StreamReader {
    pub(crate) fn open(path: PathBuf) -> Result<StreamReader, PluginError> {
        let file = File::open(&path).map_err(|error| io_error(&path, "cannot open", &error))?;
        let length = file.metadata().map_err(|error| io_error(&path, "cannot read the size of", &error))?.len();
        Ok(StreamReader { path, file: BufReader::with_capacity(256 * 1024, file), position: Position::START, length })
    }

    pub(crate) fn read(&mut self, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        let wanted = match cursor {
            None => Position::START,
            Some(text) => Position::parse(text).filter(|position| position.offset <= self.length).ok_or_else(|| {
                PluginError::new(
                    ErrorCode::InvalidCursor,
                    format!("cursor `{text}` is not a position in {} (expected <offset>:<line>)", self.path.display()),
                )
            })?,
        };
        if wanted != self.position {
            self.file
                .seek(SeekFrom::Start(wanted.offset))
                .map_err(|error| io_error(&self.path, "cannot seek in", &error))?;
            self.position = wanted;
        }
        let mut batch = ReadBatch::default();
        let mut line = Vec::with_capacity(512);
        while batch.records.len() + batch.rejects.len() < max_records {
            line.clear();
            let read =
                self.file.read_until(b'\n', &mut line).map_err(|error| io_error(&self.path, "cannot read", &error))?;
            if read == 0 {
                break;
            }
            let line_number = self.position.line;
            self.position = Position { offset: self.position.offset + read as u64, line: line_number + 1 };
            let text = trim_line_end(&line);
            // A blank line holds no record; it is layout, not data.
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match parse_record(text) {
                Ok(record) => batch.records.push(record),
                Err(reason) => batch.rejects.push(SourceReject {
                    location: format!("{}:{line_number}", self.path.display()),
                    raw: String::from_utf8_lossy(text).into_owned(),
                    reason,
                }),
            }
        }
        batch.done = self.position.offset >= self.length;
        batch.next_cursor = Some(self.position.render());
        Ok(batch)
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn parse_record(text: &[u8]) -> Result<Record, RejectReason> {
    if std::str::from_utf8(text).is_err() {
        return Err(RejectReason::new("invalid_utf8", "the line is not valid UTF-8"));
    }
    serde_json::from_slice(text)
        .map_err(|error| RejectReason::new("malformed_record", format!("not a canonical record: {error}")))
}

/// How many non-blank lines the file holds, or `None` if it cannot be read.
pub(crate) fn count_lines(path: &Path) -> Option<u64> {
    let file = BufReader::new(File::open(path).ok()?);
    let mut count = 0;
    for line in file.split(b'\n') {
        if !line.ok()?.iter().all(u8::is_ascii_whitespace) {
            count += 1;
        }
    }
    Some(count)
}

pub(crate) fn io_error(path: &Path, doing: &str, error: &std::io::Error) -> PluginError {
    PluginError::new(ErrorCode::Io, format!("{doing} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let position = Position { offset: 1234, line: 17 };
        assert_eq!(Position::parse(&position.render()), Some(position));
        for garbage in ["", "12", "a:b", "1:-1", "1:2:3"] {
            assert_eq!(Position::parse(garbage), None, "{garbage}");
        }
    }

    #[test]
    fn malformed_lines_become_rejects_with_their_line_number() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("contacts.jsonl");
        let good =
            r#"{"source_platform":"x","source_id":"1","updated_at":"2026-01-01T00:00:00Z","entity":{"contact":{}}}"#;
        let mut content = format!("{good}\r\n\n{{broken\n").into_bytes();
        content.extend_from_slice(b"\xff\xfe\n");
        content.extend_from_slice(good.as_bytes());
        std::fs::write(&path, content).unwrap();
        let mut reader = StreamReader::open(path).unwrap();
        let batch = reader.read(None, 100).unwrap();
        assert_eq!(batch.records.len(), 2);
        let rejects: Vec<(String, &str)> = batch
            .rejects
            .iter()
            .map(|reject| (reject.location.rsplit(':').next().unwrap_or("").to_owned(), reject.reason.code.as_str()))
            .collect();
        assert_eq!(rejects, vec![("3".to_owned(), "malformed_record"), ("4".to_owned(), "invalid_utf8")]);
        assert!(batch.done);
    }
}
