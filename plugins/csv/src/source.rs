//! Reading a CSV file in batches from a byte-offset cursor.
//!
//! The cursor is `<byte offset>:<line number>` of the next row, so a resumed
//! read seeks straight to it and reject locations keep true line numbers (the
//! line where a row starts, even when a quoted field spans lines). The header
//! is read again at every open, since every row is read through it. The csv
//! reader stays open between batches; a cursor that is not where the last
//! batch ended makes it seek.

use crate::config::Delimiter;
use crate::encoding::TextEncoding;
use crate::mapping::Layout;
use chrono::{DateTime, Utc};
use cutover_sdk::prelude::*;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Position of the next row: byte offset and 1-based line number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    offset: u64,
    line: u64,
}

impl Position {
    fn parse(cursor: &str) -> Option<Position> {
        let (offset, line) = cursor.split_once(':')?;
        Some(Position { offset: offset.parse().ok()?, line: line.parse().ok()? })
    }

    fn render(self) -> String {
        format!("{}:{}", self.offset, self.line)
    }
}

/// How to read one stream's file.
#[derive(Debug, Clone)]
pub(crate) struct ReadSettings {
    pub(crate) kind: EntityKind,
    pub(crate) delimiter: Option<Delimiter>,
    pub(crate) encoding: TextEncoding,
    pub(crate) platform: String,
    pub(crate) columns: BTreeMap<String, String>,
}

/// A reader that keeps what it has read since the last [`Capture::forget_before`],
/// so a rejected row can be shown as the bytes the file holds.
struct Capture<R> {
    inner: R,
    captured: Vec<u8>,
    /// Offset, relative to where reading started, of `captured[0]`.
    captured_from: u64,
}

impl<R: Read> Read for Capture<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.captured.extend_from_slice(&buffer[..read]);
        Ok(read)
    }
}

impl<R> Capture<R> {
    fn slice(&self, start: u64, end: u64) -> &[u8] {
        let from = start.saturating_sub(self.captured_from) as usize;
        let to = (end.saturating_sub(self.captured_from) as usize).min(self.captured.len());
        self.captured.get(from..to).unwrap_or_default()
    }

    /// Lets go of what precedes `offset`. Dropping moves what is kept to the
    /// front, so it waits until the dead part is at least as long as the
    /// live one: each byte is moved about once, not once per row after it.
    fn forget_before(&mut self, offset: u64) {
        let drop = (offset.saturating_sub(self.captured_from) as usize).min(self.captured.len());
        if drop * 2 < self.captured.len() {
            return;
        }
        self.captured.drain(..drop);
        self.captured_from += drop as u64;
    }
}

/// A csv reader started at `base`; its positions are relative to it.
struct Rows {
    reader: csv::Reader<Capture<File>>,
    base: Position,
}

impl Rows {
    fn open(path: &Path, base: Position, delimiter: u8) -> Result<Rows, PluginError> {
        let mut file = File::open(path).map_err(|error| io_error(path, "cannot open", &error))?;
        file.seek(SeekFrom::Start(base.offset)).map_err(|error| io_error(path, "cannot seek in", &error))?;
        let capture = Capture { inner: file, captured: Vec::new(), captured_from: 0 };
        // The csv reader buffers the file itself, so the capture sees its reads.
        let reader =
            csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(capture);
        Ok(Rows { reader, base })
    }

    fn absolute(&self, position: &csv::Position) -> Position {
        Position { offset: self.base.offset + position.byte(), line: self.base.line + position.line() - 1 }
    }

    /// The next row: where it starts, its fields and its raw bytes; `None` at the end.
    fn next(&mut self, path: &Path) -> Result<Option<(Position, csv::ByteRecord, Vec<u8>)>, PluginError> {
        let mut record = csv::ByteRecord::new();
        let more = self
            .reader
            .read_byte_record(&mut record)
            .map_err(|error| PluginError::new(ErrorCode::Io, format!("cannot read {}: {error}", path.display())))?;
        if !more {
            return Ok(None);
        }
        let start = record.position().map_or(0, csv::Position::byte);
        let mut start_position = record.position().map_or(self.base, |position| self.absolute(position));
        let end = self.reader.position().byte();
        let capture = self.reader.get_mut();
        let mut raw = capture.slice(start, end).to_vec();
        capture.forget_before(end);
        // The csv reader stops after the `\r` of a CRLF and skips blank lines
        // at the start of the next row: the row starts after them.
        let blank = raw.iter().take_while(|byte| matches!(byte, b'\r' | b'\n')).count();
        start_position.offset += blank as u64;
        start_position.line += raw.iter().take(blank).filter(|byte| **byte == b'\n').count() as u64;
        raw.drain(..blank);
        Ok(Some((start_position, record, raw)))
    }

    fn position(&self) -> Position {
        self.absolute(self.reader.position())
    }
}

/// An open CSV file being read.
pub(crate) struct StreamReader {
    path: PathBuf,
    settings: ReadSettings,
    delimiter: u8,
    /// `None` for a file with no header: it holds no rows.
    layout: Option<Layout>,
    data_start: Position,
    length: u64,
    fallback_updated_at: DateTime<Utc>,
    rows: Rows,
}

impl StreamReader {
    pub(crate) fn open(path: PathBuf, settings: ReadSettings) -> Result<StreamReader, PluginError> {
        let mut file = File::open(&path).map_err(|error| io_error(&path, "cannot open", &error))?;
        let metadata = file.metadata().map_err(|error| io_error(&path, "cannot read the size of", &error))?;
        // A row without its own `updated_at` is at least as fresh as the export.
        let fallback_updated_at = metadata.modified().map(DateTime::<Utc>::from).unwrap_or(DateTime::UNIX_EPOCH);
        let mut head = Vec::with_capacity(64 * 1024);
        (&mut file).take(64 * 1024).read_to_end(&mut head).map_err(|error| io_error(&path, "cannot read", &error))?;
        let header_offset = if head.starts_with(BOM) { BOM.len() as u64 } else { 0 };
        let delimiter = settings
            .delimiter
            .unwrap_or_else(|| Delimiter::detect(head.get(header_offset as usize..).unwrap_or_default()))
            .byte();
        let mut rows = Rows::open(&path, Position { offset: header_offset, line: 1 }, delimiter)?;
        let layout = match rows.next(&path)? {
            None => None,
            Some((_, header, _)) => {
                let headers = header
                    .iter()
                    .map(|field| {
                        settings.encoding.decode(field).map(|text| text.trim().to_owned()).ok_or_else(|| {
                            PluginError::new(
                                ErrorCode::Encoding,
                                format!("the header of {} is not valid {:?} text", path.display(), settings.encoding),
                            )
                            .with_help("set `encoding` to the file's encoding (`latin-1`, `windows-1252`)")
                        })
                    })
                    .collect::<Result<Vec<String>, PluginError>>()?;
                Some(Layout::new(settings.kind, headers, &settings.columns).map_err(|message| {
                    PluginError::new(ErrorCode::Config, format!("{}: {message}", path.display()))
                        .with_help("fix `streams.<stream>.columns` in the plugin config")
                })?)
            }
        };
        let data_start = rows.position();
        Ok(StreamReader {
            path,
            settings,
            delimiter,
            layout,
            data_start,
            length: metadata.len(),
            fallback_updated_at,
            rows,
        })
    }

    pub(crate) fn read(&mut self, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        let wanted = match cursor {
            None => self.data_start,
            Some(text) => Position::parse(text)
                .filter(|position| {
                    position.offset <= self.length
                        && position.offset >= self.data_start.offset
                        && position.line >= self.data_start.line
                })
                .ok_or_else(|| {
                    PluginError::new(
                        ErrorCode::InvalidCursor,
                        format!(
                            "cursor `{text}` is not a row position in {} (expected <offset>:<line>)",
                            self.path.display()
                        ),
                    )
                })?,
        };
        if wanted != self.rows.position() {
            self.rows = Rows::open(&self.path, wanted, self.delimiter)?;
        }
        let mut batch = ReadBatch::default();
        let mut at_end = false;
        while batch.records.len() + batch.rejects.len() < max_records {
            let Some((start, fields, raw)) = self.rows.next(&self.path)? else {
                at_end = true;
                break;
            };
            let Some(layout) = &self.layout else { continue };
            // A line of spaces holds no row; it is layout, not data.
            if fields.len() == 1 && fields.as_slice().iter().all(u8::is_ascii_whitespace) && layout.headers.len() > 1 {
                continue;
            }
            match self.row_to_record(layout, &fields) {
                Ok(record) => batch.records.push(record),
                Err(reason) => batch.rejects.push(SourceReject {
                    location: format!("{}:{}", self.path.display(), start.line),
                    raw: self.settings.encoding.decode_lossy(trim_line_end(&raw)),
                    reason,
                }),
            }
        }
        let position = self.rows.position();
        batch.done = at_end || position.offset >= self.length;
        batch.next_cursor = Some(position.render());
        Ok(batch)
    }

    fn row_to_record(&self, layout: &Layout, fields: &csv::ByteRecord) -> Result<Record, RejectReason> {
        if fields.len() != layout.headers.len() {
            return Err(RejectReason::new(
                "wrong_field_count",
                format!("the row has {} fields, the header {}", fields.len(), layout.headers.len()),
            ));
        }
        let cells = fields
            .iter()
            .zip(&layout.headers)
            .map(|(field, header)| {
                self.settings.encoding.decode(field).map(|text| text.into_owned()).ok_or_else(|| {
                    match self.settings.encoding {
                        TextEncoding::Utf8 => RejectReason::new(
                            "invalid_utf8",
                            format!("column `{header}` is not valid UTF-8 (set `encoding` if the file is Latin-1)"),
                        ),
                        other => RejectReason::new(
                            "invalid_encoding",
                            format!("column `{header}` is not valid {other:?} text"),
                        ),
                    }
                })
            })
            .collect::<Result<Vec<String>, RejectReason>>()?;
        layout.to_record(&cells, &self.settings.platform, self.fallback_updated_at)
    }

    /// How many rows the file holds after its header. Counted by a plain csv
    /// reader from the first row: nothing is captured or decoded.
    pub(crate) fn count_rows(self) -> Result<u64, PluginError> {
        let mut file = File::open(&self.path).map_err(|error| io_error(&self.path, "cannot open", &error))?;
        file.seek(SeekFrom::Start(self.data_start.offset))
            .map_err(|error| io_error(&self.path, "cannot seek in", &error))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .buffer_capacity(1 << 16)
            .from_reader(file);
        let mut record = csv::ByteRecord::new();
        let mut count = 0;
        while reader
            .read_byte_record(&mut record)
            .map_err(|error| PluginError::new(ErrorCode::Io, format!("cannot read {}: {error}", self.path.display())))?
        {
            count += 1;
        }
        Ok(count)
    }
}

pub(crate) fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

pub(crate) fn io_error(path: &Path, doing: &str, error: &std::io::Error) -> PluginError {
    PluginError::new(ErrorCode::Io, format!("{doing} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Setup {
        kind: EntityKind,
        encoding: TextEncoding,
        columns: &'static [(&'static str, &'static str)],
    }

    const CONTACTS: Setup = Setup { kind: EntityKind::Contact, encoding: TextEncoding::Utf8, columns: &[] };

    fn open(content: &[u8], setup: &Setup) -> (tempfile::TempDir, StreamReader) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("contacts.csv");
        std::fs::write(&path, content).unwrap();
        let settings = ReadSettings {
            kind: setup.kind,
            delimiter: None,
            encoding: setup.encoding,
            platform: "crm".into(),
            columns: setup
                .columns
                .iter()
                .map(|(header, canonical)| (header.to_string(), canonical.to_string()))
                .collect(),
        };
        let reader = StreamReader::open(path, settings).unwrap();
        (folder, reader)
    }

    /// Records as `<source id> <entity fields> <custom fields>`, rejects as `line <n>: <code>`, in file order.
    fn describe(batch: ReadBatch) -> Vec<(u64, String)> {
        let records = batch.records.into_iter().map(|record| {
            let entity = serde_json::to_value(&record.entity).unwrap();
            let fields = entity.as_object().unwrap().values().next().unwrap().to_string();
            let custom = serde_json::to_string(&record.custom_fields).unwrap();
            let custom = if record.custom_fields.is_empty() { String::new() } else { format!(" {custom}") };
            (0, format!("{}/{} {fields}{custom}", record.source_platform, record.source_id))
        });
        let rejects = batch.rejects.into_iter().map(|reject| {
            let line: u64 = reject.location.rsplit(':').next().unwrap().parse().unwrap();
            (line, format!("line {line}: {} {:?}", reject.reason.code, reject.raw))
        });
        records.chain(rejects).collect()
    }

    fn read_all(reader: &mut StreamReader) -> Vec<String> {
        let batch = reader.read(None, 1000).unwrap();
        assert!(batch.done);
        let mut items = describe(batch);
        // Records have no line in the batch; keep rejects after them in file order for the assertion.
        items.sort_by_key(|(line, _)| *line);
        items.into_iter().map(|(_, item)| item).collect()
    }

    fn check(content: &[u8], setup: &Setup, expected: &[&str]) {
        let (_folder, mut reader) = open(content, setup);
        assert_eq!(read_all(&mut reader), expected, "{:?}", String::from_utf8_lossy(content));
    }

    #[test]
    fn rows_become_records_whatever_the_dialect() {
        let expected = [r#"crm/1 {"email":"a@x.org","first_name":"Ann"}"#, r#"crm/2 {"email":"b@x.org"}"#];
        check(b"id,email,first_name\n1,a@x.org,Ann\n2,b@x.org,\n", &CONTACTS, &expected);
        check(b"\xEF\xBB\xBFid,email,first_name\r\n1,a@x.org,Ann\r\n2,b@x.org,\r\n", &CONTACTS, &expected);
        check(b"id;email;first_name\n1;a@x.org;Ann\n\n2;b@x.org;\n", &CONTACTS, &expected);
        check(b"id\temail\tfirst_name\n1\ta@x.org\tAnn\n2\tb@x.org\t", &CONTACTS, &expected);
        check(b"\"id\",\"email\",\"first_name\"\n\"1\",\"a@x.org\",\"Ann\"\n2,b@x.org,\"\"\n", &CONTACTS, &expected);
    }

    #[test]
    fn quoted_fields_keep_commas_quotes_and_newlines() {
        check(
            b"id,last_name\n1,\"O'Brien, \"\"Jr\"\"\nline two\"\n2,Bob\n",
            &CONTACTS,
            &[r#"crm/1 {"last_name":"O'Brien, \"Jr\"\nline two"}"#, r#"crm/2 {"last_name":"Bob"}"#],
        );
    }

    #[test]
    fn a_reject_names_the_line_where_its_row_starts() {
        check(
            b"id,last_name\r\n1,\"two\r\nlines\"\r\n2\r\n3,Ok\r\n",
            &CONTACTS,
            &[
                r#"crm/1 {"last_name":"two\r\nlines"}"#,
                r#"crm/3 {"last_name":"Ok"}"#,
                r#"line 4: wrong_field_count "2""#,
            ],
        );
        check(
            b"id,last_name\n1,Ok\n2,too,many\n,no id\n",
            &CONTACTS,
            &[
                r#"crm/1 {"last_name":"Ok"}"#,
                r#"line 3: wrong_field_count "2,too,many""#,
                r#"line 4: missing_source_id ",no id""#,
            ],
        );
    }

    #[test]
    fn latin_1_is_decoded_and_bad_utf8_is_a_reject_on_its_line() {
        let latin_1 = Setup { encoding: TextEncoding::Latin1, ..CONTACTS };
        check(b"id,last_name\n1,M\xfcller\n", &latin_1, &[r#"crm/1 {"last_name":"Müller"}"#]);
        let windows_1252 = Setup { encoding: TextEncoding::Windows1252, ..CONTACTS };
        check(b"id,last_name\n1,M\xfcller \x80\n", &windows_1252, &[r#"crm/1 {"last_name":"Müller €"}"#]);
        check(
            b"id,last_name\n1,M\xfcller\n2,Ok\n",
            &CONTACTS,
            &[r#"crm/2 {"last_name":"Ok"}"#, "line 2: invalid_utf8 \"1,M\u{FFFD}ller\""],
        );
    }

    #[test]
    fn mapped_columns_go_to_their_fields_and_the_rest_to_custom_fields() {
        let mapped = Setup {
            columns: &[
                ("E-Mail", "email"),
                ("Customer ID", "source_id"),
                ("Last Modified", "updated_at"),
                ("Plan", "custom.plan"),
            ],
            ..CONTACTS
        };
        check(
            b"Customer ID,E-Mail,First Name,Last Modified,Plan,Notes\nc1,a@x.org,Ann,2026-01-02 03:04:05,pro,likes tea\n\
              c2,b@x.org,,yesterday,,\n",
            &mapped,
            &[
                r#"crm/c1 {"email":"a@x.org","first_name":"Ann"} {"Notes":{"text":"likes tea"},"plan":{"text":"pro"}}"#,
                r#"line 3: invalid_date "c2,b@x.org,,yesterday,,""#,
            ],
        );
        let (_folder, mut reader) =
            open(b"Customer ID,Last Modified\nc1,2026-01-02 03:04:05+01:00\n", &mapped_without_missing());
        let record = reader.read(None, 10).unwrap().records.remove(0);
        assert_eq!(record.updated_at.to_rfc3339(), "2026-01-02T02:04:05+00:00");
    }

    fn mapped_without_missing() -> Setup {
        Setup { columns: &[("Customer ID", "source_id"), ("Last Modified", "updated_at")], ..CONTACTS }
    }

    #[test]
    fn a_mapped_column_missing_from_the_header_is_a_config_error() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("contacts.csv");
        std::fs::write(&path, "id,email\n").unwrap();
        let settings = ReadSettings {
            kind: EntityKind::Contact,
            delimiter: None,
            encoding: TextEncoding::Utf8,
            platform: "crm".into(),
            columns: [("E-Mail".to_owned(), "email".to_owned())].into(),
        };
        let error = StreamReader::open(path, settings).err().unwrap();
        assert_eq!(error.code, ErrorCode::Config);
        assert!(error.message.contains("mapped column `E-Mail` is not in the header (id, email)"), "{}", error.message);
    }

    #[test]
    fn affiliate_values_are_normalised_or_rejected_with_their_reason() {
        let conversions =
            Setup { kind: EntityKind::Conversion, columns: &[("Currency", "amount.currency")], ..CONTACTS };
        check(
            b"id,amount,Currency,status,partner,converted_at\n\
              1,\"1.234,50\",eur,Approved,p7,2026-01-02\n\
              2,12.50,,approved,,\n\
              3,abc,EUR,approved,,\n\
              4,1.00,EUR,bogus,,\n\
              5,1.00,EUR,,,soon\n",
            &conversions,
            &[
                r#"crm/1 {"amount":{"amount":"1234.50","currency":"EUR"},"converted_at":"2026-01-02T00:00:00Z","partner":{"entity":"partner","source_id":"p7"},"status":"approved"}"#,
                r#"line 3: missing_currency "2,12.50,,approved,,""#,
                r#"line 4: invalid_amount "3,abc,EUR,approved,,""#,
                r#"line 5: invalid_value "4,1.00,EUR,bogus,,""#,
                r#"line 6: invalid_date "5,1.00,EUR,,,soon""#,
            ],
        );
        let commissions = Setup { kind: EntityKind::Commission, ..CONTACTS };
        check(
            b"id,amount,level\n1,2.50 USD,2\n2,2.50 USD,-1\n3,2.50 USD,x\n",
            &commissions,
            &[
                r#"crm/1 {"amount":{"amount":"2.50","currency":"USD"},"level":2}"#,
                r#"line 3: invalid_value "2,2.50 USD,-1""#,
                r#"line 4: invalid_number "3,2.50 USD,x""#,
            ],
        );
    }

    #[test]
    fn a_read_resumed_from_every_cursor_gives_the_rest() {
        let content: &[u8] =
            b"\xEF\xBB\xBFid;last_name\r\n1;\"a\r\nb\"\r\n\r\n2;x;y\r\n3;M\xfcller\r\n;none\r\n4;\"q;\"\"\"\r\n5;end";
        let (_folder, mut reader) = open(content, &CONTACTS);
        let (whole, cursors) = read_one_by_one(&mut reader, None);
        assert_eq!(
            whole,
            [
                r#"crm/1 {"last_name":"a\r\nb"}"#,
                r#"line 5: wrong_field_count "2;x;y""#,
                "line 6: invalid_utf8 \"3;M\u{FFFD}ller\"",
                r#"line 7: missing_source_id ";none""#,
                r#"crm/4 {"last_name":"q;\""}"#,
                r#"crm/5 {"last_name":"end"}"#,
            ]
        );
        for (offset, cursor) in cursors {
            let (_again, mut fresh) = open(content, &CONTACTS);
            assert_eq!(read_one_by_one(&mut fresh, Some(cursor.clone())).0, whole[offset..], "from cursor {cursor}");
        }
    }

    #[test]
    fn garbage_cursors_and_unreadable_files_are_clear_errors() {
        let (folder, mut reader) = open(b"id,email\n1,a@x.org\n", &CONTACTS);
        for garbage in ["", "12", "a:b", "1:-1", "1:2:3", "99999:2", "0:1"] {
            let error = reader.read(Some(garbage), 1).err().unwrap();
            assert_eq!(error.code, ErrorCode::InvalidCursor, "{garbage}");
        }
        let missing = folder.path().join("missing.csv");
        let settings = ReadSettings {
            kind: EntityKind::Contact,
            delimiter: None,
            encoding: TextEncoding::Utf8,
            platform: "crm".into(),
            columns: BTreeMap::new(),
        };
        let error = StreamReader::open(missing.clone(), settings).err().unwrap();
        assert_eq!(error.code, ErrorCode::Io);
        assert!(error.message.starts_with(&format!("cannot open {}", missing.display())), "{}", error.message);
    }

    #[test]
    fn rejects_keep_their_raw_row_across_buffer_boundaries() {
        let mut content = String::from("id,last_name\n");
        let mut expected = Vec::new();
        for index in 0..3000 {
            if index % 97 == 0 {
                let row = format!("{index},\"wrapped\nrow {index}\",extra");
                expected.push(format!("line {}: wrong_field_count {row:?}", content.lines().count() + 1));
                content.push_str(&row);
            } else {
                content.push_str(&format!("{index},\"Name, number {index}\""));
            }
            content.push_str("\r\n");
        }
        let (_folder, mut reader) = open(content.as_bytes(), &CONTACTS);
        let mut rejects = Vec::new();
        let mut records = 0;
        let mut cursor = None;
        loop {
            let batch = reader.read(cursor.as_deref(), 333).unwrap();
            cursor = batch.next_cursor.clone();
            let done = batch.done;
            records += batch.records.len();
            rejects.extend(describe(batch).into_iter().map(|(_, item)| item).filter(|item| item.starts_with("line")));
            if done {
                break;
            }
        }
        assert_eq!((records, rejects), (3000 - expected.len(), expected));
    }

    /// Every item of a read from `cursor` to the end, one row per batch, with the cursors after each.
    fn read_one_by_one(reader: &mut StreamReader, cursor: Option<String>) -> (Vec<String>, Vec<(usize, String)>) {
        let mut items = Vec::new();
        let mut cursors = Vec::new();
        let mut cursor = cursor;
        loop {
            let batch = reader.read(cursor.as_deref(), 1).unwrap();
            let done = batch.done;
            cursor = batch.next_cursor.clone();
            items.extend(describe(batch).into_iter().map(|(_, item)| item));
            if done {
                return (items, cursors);
            }
            cursors.extend(cursor.clone().map(|cursor| (items.len(), cursor)));
        }
    }

    proptest::proptest! {
        #[test]
        fn any_file_read_from_any_cursor_gives_the_rest(
            bom in proptest::bool::ANY,
            rows in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "1,plain", "2,\"quoted, comma\"", "3,\"two\r\nlines\"", "4,\"\"\"q\"\"\"", "5,too,many", ",no id",
                        "6,M\u{fc}ller", "", "   ", "7",
                    ]),
                    proptest::sample::select(vec!["\n", "\r\n", "\n\n"]),
                ),
                0..12,
            ),
        ) {
            let mut content = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
            content.extend_from_slice(b"id,last_name\r\n");
            for (row, line_end) in &rows {
                content.extend_from_slice(row.replace('\u{fc}', "\u{0}").as_bytes());
                content.extend_from_slice(line_end.as_bytes());
            }
            // A byte that is not UTF-8, in place of the NUL marker.
            for byte in content.iter_mut().filter(|byte| **byte == 0) {
                *byte = 0xfc;
            }
            let (_folder, mut reader) = open(&content, &CONTACTS);
            let (whole, cursors) = read_one_by_one(&mut reader, None);
            for (offset, cursor) in cursors {
                let (_again, mut fresh) = open(&content, &CONTACTS);
                let (rest, _) = read_one_by_one(&mut fresh, Some(cursor.clone()));
                proptest::prop_assert_eq!(&rest[..], &whole[offset..], "from cursor {}", cursor);
            }
        }
    }

    #[test]
    fn an_empty_file_has_no_rows() {
        check(b"", &CONTACTS, &[]);
        check(b"id,email\n", &CONTACTS, &[]);
    }
}
