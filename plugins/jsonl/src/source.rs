//! Reading a `.jsonl` file in batches from a byte-offset cursor.
//!
//! The cursor is `<byte offset>:<line number>` of the next line to read, so a
//! resumed read seeks straight to it and reject locations keep true line
//! numbers. The file handle stays open between batches; a cursor that is not
//! where the last batch ended makes it seek.
//!
//! A line is kept up to `max_line_bytes` (and its line end); the rest of a
//! longer one is skipped as it is read, never held, and the line is a
//! `too_large` reject with its first KiB. Reading goes on at the next line.

use cutover_sdk::prelude::*;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// How many bytes of a line over the limit its reject keeps.
const RAW_KEPT: usize = 1024;

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
    /// The longest line, its line end left out.
    max_line_bytes: u64,
}

impl StreamReader {
    pub(crate) fn open(path: PathBuf, max_line_bytes: u64) -> Result<StreamReader, PluginError> {
        let file = File::open(&path).map_err(|error| io_error(&path, "cannot open", &error))?;
        let length = file.metadata().map_err(|error| io_error(&path, "cannot read the size of", &error))?.len();
        Ok(StreamReader {
            path,
            file: BufReader::with_capacity(256 * 1024, file),
            position: Position::START,
            length,
            max_line_bytes,
        })
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
        // The line end too, so that a line of the limit is kept whole, and
        // the head a reject shows.
        let keep = self.max_line_bytes.saturating_add(2).max(RAW_KEPT as u64);
        while batch.records.len() + batch.rejects.len() < max_records {
            let read = read_line(&mut self.file, &mut line, keep)
                .map_err(|error| io_error(&self.path, "cannot read", &error))?;
            if read.taken == 0 {
                break;
            }
            let line_number = self.position.line;
            self.position = Position { offset: self.position.offset + read.taken, line: line_number + 1 };
            if read.length > self.max_line_bytes {
                batch.rejects.push(SourceReject {
                    location: format!("{}:{line_number}", self.path.display()),
                    raw: cut(&line, read.length),
                    reason: RejectReason::new(
                        "too_large",
                        format!(
                            "the line is {} bytes long, over `max_line_bytes` ({} bytes); raise `max_line_bytes` in \
                             the plugin config to read it",
                            read.length, self.max_line_bytes
                        ),
                    ),
                });
                continue;
            }
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

/// One line as read: the bytes it took, and its length without its line end.
struct LineRead {
    taken: u64,
    length: u64,
}

/// Reads the next line into `line`, keeping at most `keep` bytes of it: the
/// rest of a longer line is read past in the reader's buffer, not held.
fn read_line(file: &mut impl BufRead, line: &mut Vec<u8>, keep: u64) -> std::io::Result<LineRead> {
    line.clear();
    let first = keep.min(1 << 20);
    let mut taken = file.by_ref().take(first).read_until(b'\n', line)? as u64;
    if taken == first && line.last() != Some(&b'\n') && keep > first {
        // A long line: room for all of it that is kept at once, rather than
        // doubling steps the allocator would keep besides.
        line.reserve_exact(usize::try_from(keep - first).unwrap_or(usize::MAX));
        taken += file.by_ref().take(keep - first).read_until(b'\n', line)? as u64;
    }
    // The line's last two bytes, for its line end.
    let mut tail = match line.as_slice() {
        [] => [0, 0],
        [last] => [0, *last],
        [.., before, last] => [*before, *last],
    };
    if taken == keep && tail[1] != b'\n' {
        loop {
            let available = match file.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            let (chunk, ended) = match available.iter().position(|byte| *byte == b'\n') {
                Some(end) => (&available[..=end], true),
                None => (available, false),
            };
            match chunk {
                [] => break,
                [last] => tail = [tail[1], *last],
                [.., before, last] => tail = [*before, *last],
            }
            let used = chunk.len();
            file.consume(used);
            taken += used as u64;
            if ended {
                break;
            }
        }
    }
    // As `trim_line_end`: a `\n`, then a `\r`.
    let mut length = taken;
    if length > 0 && tail[1] == b'\n' {
        length -= 1;
        if length > 0 && tail[0] == b'\r' {
            length -= 1;
        }
    } else if length > 0 && tail[1] == b'\r' {
        length -= 1;
    }
    Ok(LineRead { taken, length })
}

/// The first [`RAW_KEPT`] bytes of a line `length` bytes long as text, with
/// a note of what was cut.
fn cut(line: &[u8], length: u64) -> String {
    let mut kept = &line[..line.len().min(RAW_KEPT).min(usize::try_from(length).unwrap_or(usize::MAX))];
    // Not in the middle of a character.
    if let Err(error) = std::str::from_utf8(kept)
        && error.error_len().is_none()
    {
        kept = &kept[..error.valid_up_to()];
    }
    if kept.len() as u64 >= length {
        return String::from_utf8_lossy(kept).into_owned();
    }
    format!("{}… [cut: the first {} of {length} bytes]", String::from_utf8_lossy(kept), kept.len())
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
/// No line is held, however long.
pub(crate) fn count_lines(path: &Path) -> Option<u64> {
    let mut file = BufReader::with_capacity(256 * 1024, File::open(path).ok()?);
    let (mut count, mut blank) = (0, true);
    loop {
        let available = match file.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        };
        if available.is_empty() {
            break;
        }
        for byte in available {
            if *byte == b'\n' {
                count += u64::from(!blank);
                blank = true;
            } else if !byte.is_ascii_whitespace() {
                blank = false;
            }
        }
        let used = available.len();
        file.consume(used);
    }
    Some(count + u64::from(!blank))
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

    /// A contact line, made `pad` bytes longer by its first name.
    fn contact(id: &str, pad: usize) -> String {
        format!(
            r#"{{"source_platform":"x","source_id":"{id}","updated_at":"2026-01-01T00:00:00Z","entity":{{"contact":{{"first_name":"{}"}}}}}}"#,
            "p".repeat(pad)
        )
    }

    fn open(content: &[u8], max_line_bytes: u64) -> (tempfile::TempDir, StreamReader) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("contacts.jsonl");
        std::fs::write(&path, content).unwrap();
        let reader = StreamReader::open(path, max_line_bytes).unwrap();
        (folder, reader)
    }

    /// Records as their source id, rejects as `line <n>: <code> <raw>`, in file order.
    fn describe(batch: ReadBatch) -> Vec<String> {
        let records = batch.records.into_iter().map(|record| record.source_id.to_string());
        let rejects = batch.rejects.into_iter().map(|reject| {
            let line = reject.location.rsplit(':').next().unwrap().to_owned();
            format!("line {line}: {} {:?}", reject.reason.code, reject.raw)
        });
        records.chain(rejects).collect()
    }

    /// Every item of a read from `cursor` to the end, one line per batch, with the cursors after each.
    fn read_one_by_one(reader: &mut StreamReader, cursor: Option<String>) -> (Vec<String>, Vec<(usize, String)>) {
        let (mut items, mut cursors, mut cursor) = (Vec::new(), Vec::new(), cursor);
        loop {
            let batch = reader.read(cursor.as_deref(), 1).unwrap();
            let done = batch.done;
            cursor = batch.next_cursor.clone();
            items.extend(describe(batch));
            if done {
                return (items, cursors);
            }
            cursors.extend(cursor.clone().map(|cursor| (items.len(), cursor)));
        }
    }

    #[test]
    fn a_line_of_the_limit_loads_and_one_byte_more_is_a_reject() {
        let limit = contact("1", 10).len() as u64;
        let over = contact("2", 11);
        let content =
            format!("{}\r\n{over}\n\n{}\n{}\n{{broken", contact("3", 10), contact("4", 1000), contact("5", 0));
        let (_folder, mut reader) = open(content.as_bytes(), limit);
        let batch = reader.read(None, 100).unwrap();
        assert!(batch.done);
        let messages: Vec<String> = batch.rejects.iter().map(|reject| reject.reason.message.clone()).collect();
        assert_eq!(
            describe(batch),
            [
                "3".to_owned(),
                "5".to_owned(),
                format!("line 2: too_large {over:?}"),
                format!(
                    "line 4: too_large {:?}",
                    format!("{}… [cut: the first 1024 of 1114 bytes]", &contact("4", 1000)[..1024])
                ),
                r#"line 6: malformed_record "{broken""#.to_owned(),
            ]
        );
        assert_eq!(
            messages[0],
            format!(
                "the line is {} bytes long, over `max_line_bytes` ({limit} bytes); raise `max_line_bytes` in the \
                 plugin config to read it",
                limit + 1
            )
        );
    }

    /// Lines for the property below: records (one over a limit of 1000
    /// bytes), blank lines, garbage, a line longer than the reader's buffer,
    /// a last line with no line end.
    fn any_lines() -> Vec<String> {
        let mut lines = vec![
            contact("1", 0),
            format!("{}\r", contact("2", 0)),
            String::new(),
            "  ".to_owned(),
            "{broken".to_owned(),
            "\u{0}".to_owned(),
            contact("3", 1000),
            contact("4", 2000),
        ];
        lines.push(format!("\"{}\"", "x".repeat(300_000)));
        lines
    }

    proptest::proptest! {
        #[test]
        fn any_file_read_from_any_cursor_gives_the_rest(
            small in proptest::bool::ANY,
            lines in proptest::collection::vec(proptest::sample::select(any_lines()), 0..10),
            last_line_end in proptest::bool::ANY,
        ) {
            let mut content = lines.join("\n").replace('\u{0}', "\u{fffe}").into_bytes();
            if last_line_end {
                content.push(b'\n');
            }
            // A byte that is not UTF-8 in place of the marker's first.
            for index in 0..content.len().saturating_sub(2) {
                if content[index..index + 3] == *"\u{fffe}".as_bytes() {
                    content[index] = 0xff;
                }
            }
            let limit = if small { 1000 } else { DEFAULT_LIMIT };
            let (_folder, mut reader) = open(&content, limit);
            let (whole, cursors) = read_one_by_one(&mut reader, None);
            for (offset, cursor) in cursors {
                let (_again, mut fresh) = open(&content, limit);
                let (rest, _) = read_one_by_one(&mut fresh, Some(cursor.clone()));
                proptest::prop_assert_eq!(&rest[..], &whole[offset..], "from cursor {}", cursor);
            }
        }
    }

    const DEFAULT_LIMIT: u64 = crate::config::DEFAULT_MAX_LINE_BYTES;

    /// Bytes made as they are read: `{"source_id":"`, `length` bytes of `x`, `"}`, a line end, then a small record.
    struct Generated {
        length: u64,
        at: u64,
    }

    impl Read for Generated {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            const OPEN: &[u8] = br#"{"source_id":""#;
            let tail = format!("\"}}\n{}\n", contact("after", 0)).into_bytes();
            let total = OPEN.len() as u64 + self.length + tail.len() as u64;
            let mut written = 0;
            while written < buffer.len() && self.at < total {
                let byte = if self.at < OPEN.len() as u64 {
                    OPEN[self.at as usize]
                } else if self.at < OPEN.len() as u64 + self.length {
                    b'x'
                } else {
                    tail[(self.at - OPEN.len() as u64 - self.length) as usize]
                };
                buffer[written] = byte;
                (written, self.at) = (written + 1, self.at + 1);
            }
            Ok(written)
        }
    }

    #[test]
    fn a_200_mb_line_is_read_past_without_being_held() {
        let field = 200u64 << 20;
        let mut input = BufReader::with_capacity(256 * 1024, Generated { length: field, at: 0 });
        let mut line = Vec::new();
        let read = read_line(&mut input, &mut line, DEFAULT_LIMIT + 2).unwrap();
        assert_eq!((read.taken, read.length), (field + 17, field + 16));
        assert_eq!(line.len() as u64, DEFAULT_LIMIT + 2);
        assert!(line.starts_with(br#"{"source_id":"xxx"#));
        let read = read_line(&mut input, &mut line, DEFAULT_LIMIT + 2).unwrap();
        assert_eq!(trim_line_end(&line), contact("after", 0).as_bytes());
        assert_eq!(read.length, contact("after", 0).len() as u64);
    }

    #[test]
    fn a_200_mb_line_is_a_reject_read_past_in_bounded_memory() {
        use std::io::Write;
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("contacts.jsonl");
        let mut file = File::create(&path).unwrap();
        write!(file, "{}\n{{\"source_id\":\"", contact("before", 0)).unwrap();
        // A hole: 200 MB of NUL bytes that take no disk.
        let field = 200 << 20;
        file.set_len(file.metadata().unwrap().len() + field).unwrap();
        file.seek(SeekFrom::End(0)).unwrap();
        write!(file, "\"}}\r\n{}\n", contact("after", 0)).unwrap();
        drop(file);
        let mut reader = StreamReader::open(path, DEFAULT_LIMIT).unwrap();
        let batch = reader.read(None, 100).unwrap();
        assert!(batch.done);
        let records: Vec<_> = batch.records.iter().map(|record| record.source_id.as_str()).collect();
        assert_eq!(records, ["before", "after"]);
        let [reject] = &batch.rejects[..] else { panic!("{:?}", batch.rejects) };
        assert!(reject.location.ends_with("contacts.jsonl:2"), "{}", reject.location);
        assert_eq!(reject.reason.code, "too_large");
        assert!(reject.reason.message.starts_with("the line is 209715216 bytes long, over `max_line_bytes` (16777216"));
        assert!(reject.raw.starts_with("{\"source_id\":\"\0\0"));
        assert!(reject.raw.ends_with("\0… [cut: the first 1024 of 209715216 bytes]"));
        // Only a process of its own (as nextest runs each test) measures this test alone.
        if std::env::var("NEXTEST_EXECUTION_MODE").as_deref() == Ok("process-per-test") {
            let peak = peak_memory_kib().unwrap_or(0);
            eprintln!("peak memory {peak} KiB");
            assert!(peak < 64 << 10, "peak memory {peak} KiB");
        }
    }

    /// The process's peak resident memory, where the system says.
    fn peak_memory_kib() -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    #[test]
    fn lines_are_counted_without_being_held() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("contacts.jsonl");
        std::fs::write(&path, format!("a\n\n  \r\n{}\nb", "x".repeat(300_000))).unwrap();
        assert_eq!(count_lines(&path), Some(3));
        std::fs::write(&path, "a\n").unwrap();
        assert_eq!(count_lines(&path), Some(1));
        assert_eq!(count_lines(&folder.path().join("missing.jsonl")), None);
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
        let mut reader = StreamReader::open(path, 1 << 20).unwrap();
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
