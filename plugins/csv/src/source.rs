//! Reading a CSV file in batches from a byte-offset cursor.
//!
//! The cursor is `<byte offset>:<line number>` of the next row, so a resumed
//! read seeks straight to it and reject locations keep true line numbers (the
//! line where a row starts, even when a quoted field spans lines). The header
//! is read again at every open, since every row is read through it. The
//! reader stays open between batches; a cursor that is not where the last
//! batch ended makes it seek.
//!
//! Size limits: rows are parsed by `csv_core` (the parser under `csv`)
//! into buffers of [`Rows`]' own, which stop growing at `max_row_bytes` of
//! field text and at one field more than the header has. Past either, the
//! row's fields are let go as they are parsed while the parser goes on to
//! the row's end: a row over `max_row_bytes` is a `too_large` reject keeping
//! its first KiB, and reading goes on at the next row. Rows are split
//! exactly as with no limit (a field's text is never read as rows), so a
//! read resumed at any cursor sees the same rows. A field over
//! `max_field_bytes` (in a row within its limit) is a `too_large` reject too.

use crate::config::Delimiter;
use crate::encoding::TextEncoding;
use crate::mapping::Layout;
use chrono::{DateTime, Utc};
use cutover_sdk::prelude::*;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How many bytes of a row a reject keeps when the row is over a limit.
const RAW_KEPT: usize = 1024;

/// The most columns a header may have (a spreadsheet holds 16,384).
const MAX_COLUMNS: usize = 65_536;

/// How many bytes (and field ends) the parser writes over, in a row whose
/// fields are not kept.
const SCRATCH: usize = 64 * 1024;

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

/// How long a row and a field may be, in bytes (see [`crate::CsvConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The longest field, its quotes taken off.
    pub(crate) max_field_bytes: u64,
    /// The longest row as the file holds it, its line end left out.
    pub(crate) max_row_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_field_bytes: crate::config::DEFAULT_MAX_FIELD_BYTES,
            max_row_bytes: crate::config::DEFAULT_MAX_ROW_BYTES,
        }
    }
}

/// A row's fields: their bytes one after the other, and where each ends.
#[derive(Debug)]
struct Fields {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Fields {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.ends.iter().scan(0, |start, &end| {
            let field = self.bytes.get(*start..end).unwrap_or_default();
            *start = end;
            Some(field)
        })
    }
}

/// One row of the file.
#[derive(Debug)]
struct Row {
    /// Where it starts (after the blank lines before it).
    start: Position,
    /// Where the next row starts.
    end: Position,
    /// The line its last byte is on.
    last_line: u64,
    /// Its length in bytes, its line end left out.
    length: u64,
    /// Its first [`RAW_KEPT`] bytes (all of it when shorter), line end left out.
    head: Vec<u8>,
    content: Content,
}

/// What was kept of a row.
#[derive(Debug)]
enum Content {
    /// A row within the limits.
    Fields(Fields),
    /// A row within `max_row_bytes` with more fields than allowed: how many.
    TooManyFields(usize),
    /// A row over `max_row_bytes`.
    TooLarge,
}

/// The csv parser reading rows from a byte position.
struct Rows {
    file: File,
    path: PathBuf,
    parser: csv_core::Reader,
    buffer: Vec<u8>,
    /// The part of `buffer` not parsed yet.
    unparsed: Range<usize>,
    /// Whether anything was read from `file` yet.
    started: bool,
    /// Where the first unparsed byte is.
    position: Position,
    max_row_bytes: u64,
    /// The most fields a row may have for them to be kept.
    max_fields: usize,
}

impl Rows {
    fn open(
        path: &Path,
        base: Position,
        delimiter: u8,
        max_row_bytes: u64,
        max_fields: usize,
    ) -> Result<Rows, PluginError> {
        let mut file = File::open(path).map_err(|error| io_error(path, "cannot open", &error))?;
        file.seek(SeekFrom::Start(base.offset)).map_err(|error| io_error(path, "cannot seek in", &error))?;
        Ok(Rows {
            file,
            path: path.to_owned(),
            // `csv`'s defaults: `"` quotes and doubled to escape, CR, LF or CRLF ends a row.
            parser: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            buffer: vec![0; 64 * 1024],
            unparsed: 0..0,
            started: false,
            position: base,
            max_row_bytes,
            max_fields,
        })
    }

    fn position(&self) -> Position {
        self.position
    }

    fn fill(&mut self) -> Result<(), PluginError> {
        // The parser takes a BOM off the start of the first bytes it is
        // given; one byte cannot be one. The file's own BOM is skipped by
        // offset, and a row read from a cursor must read as from the start.
        let wanted = if self.started { self.buffer.len() } else { 1 };
        self.started = true;
        let read = loop {
            match self.file.read(&mut self.buffer[..wanted]) {
                Ok(read) => break read,
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => return Err(io_error(&self.path, "cannot read", &error)),
            }
        };
        self.unparsed = 0..read;
        Ok(())
    }

    /// The next row; `None` at the end. Its fields are kept while they fit
    /// in `max_row_bytes` and `max_fields`, and let go as they are parsed
    /// past that, so a row takes no more memory than about the limit
    /// whatever its length.
    fn next(&mut self) -> Result<Option<Row>, PluginError> {
        use csv_core::ReadRecordResult;
        // Field text is never longer than its row: a row whose fields do
        // not fit in this is over the limit.
        let max_output = usize::try_from(self.max_row_bytes).unwrap_or(usize::MAX).saturating_add(1);
        let max_ends = self.max_fields.saturating_add(1);
        let mut start = self.position;
        let mut in_row = false;
        let (mut length, mut newlines) = (0u64, 0u64);
        // The row's last two bytes, for its line end.
        let mut tail = [0u8; 2];
        let mut head = Vec::new();
        let mut output = vec![0u8; 1024.min(max_output)];
        let mut ends = vec![0usize; 32.min(max_ends)];
        let (mut written, mut ended, mut count) = (0usize, 0usize, 0usize);
        // Whether the fields are kept: until the row is past a limit.
        let mut keeping = true;
        loop {
            // Buffers grow into new zeroed allocations, whose untouched part
            // takes no memory until written. Past 1 MiB the field text grows
            // to its limit at once: growing by steps would leave the steps
            // behind in the allocator, several times the limit.
            if keeping && written == output.len() {
                if output.len() < max_output {
                    let doubled = output.len().saturating_mul(2);
                    let mut grown = vec![0u8; if doubled > 1 << 20 { max_output } else { doubled.min(max_output) }];
                    grown[..written].copy_from_slice(&output);
                    output = grown;
                } else {
                    keeping = false;
                }
            }
            if keeping && ended == ends.len() {
                if ends.len() < max_ends {
                    let mut grown = vec![0usize; ends.len().saturating_mul(2).min(max_ends)];
                    grown[..ended].copy_from_slice(&ends);
                    ends = grown;
                } else {
                    keeping = false;
                }
            }
            if !keeping {
                // The fields are let go: small buffers, written over.
                if output.len() > SCRATCH {
                    output = vec![0; SCRATCH];
                }
                if ends.len() > SCRATCH {
                    ends = vec![0; SCRATCH];
                }
                (written, ended) = (0, 0);
            }
            if self.unparsed.is_empty() {
                self.fill()?;
            }
            let input = &self.buffer[self.unparsed.clone()];
            let (result, taken, wrote, marked) =
                self.parser.read_record(input, &mut output[written..], &mut ends[ended..]);
            let mut bytes = &input[..taken];
            self.unparsed.start += taken;
            self.position.offset += taken as u64;
            self.position.line += bytes.iter().filter(|byte| **byte == b'\n').count() as u64;
            // The parser skips blank lines before a row: it starts after them.
            if !in_row {
                let blank = bytes.iter().take_while(|byte| matches!(byte, b'\r' | b'\n')).count();
                start.offset += blank as u64;
                start.line += bytes[..blank].iter().filter(|byte| **byte == b'\n').count() as u64;
                bytes = &bytes[blank..];
                in_row = !bytes.is_empty();
            }
            length += bytes.len() as u64;
            newlines += bytes.iter().filter(|byte| **byte == b'\n').count() as u64;
            head.extend_from_slice(&bytes[..RAW_KEPT.saturating_sub(head.len()).min(bytes.len())]);
            match bytes {
                [] => {}
                [last] => tail = [tail[1], *last],
                [.., before, last] => tail = [*before, *last],
            }
            (written, ended, count) = (written + wrote, ended + marked, count + marked);
            if length > self.max_row_bytes.saturating_add(2) {
                keeping = false;
            }
            match result {
                ReadRecordResult::Record => break,
                ReadRecordResult::End => return Ok(None),
                // Given no input, the parser ends the row or the file; this
                // only keeps a surprise from looping.
                ReadRecordResult::InputEmpty if taken == 0 && self.unparsed.is_empty() && input.is_empty() => {
                    return Ok(None);
                }
                ReadRecordResult::InputEmpty | ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {}
            }
        }
        // As `trim_line_end`: a `\n`, then a `\r`.
        let mut last_line = start.line + newlines;
        if length > 0 && tail[1] == b'\n' {
            length -= 1;
            last_line -= 1;
            if length > 0 && tail[0] == b'\r' {
                length -= 1;
            }
        } else if length > 0 && tail[1] == b'\r' {
            length -= 1;
        }
        head.truncate(usize::try_from(length).unwrap_or(usize::MAX));
        let content = if length > self.max_row_bytes {
            Content::TooLarge
        } else if count > self.max_fields {
            Content::TooManyFields(count)
        } else if keeping {
            output.truncate(written);
            ends.truncate(ended);
            Content::Fields(Fields { bytes: output, ends })
        } else {
            // Not reached: the fields are let go only past a limit.
            Content::TooLarge
        };
        Ok(Some(Row { start, end: self.position, last_line, length, head, content }))
    }
}

/// An open CSV file being read.
pub(crate) struct StreamReader {
    path: PathBuf,
    settings: ReadSettings,
    limits: Limits,
    delimiter: u8,
    /// `None` for a file with no header: it holds no rows.
    layout: Option<Layout>,
    data_start: Position,
    length: u64,
    fallback_updated_at: DateTime<Utc>,
    rows: Rows,
}

impl StreamReader {
    /// Opens with the default limits.
    #[cfg(test)]
    pub(crate) fn open(path: PathBuf, settings: ReadSettings) -> Result<StreamReader, PluginError> {
        StreamReader::open_with(path, settings, Limits::default())
    }

    pub(crate) fn open_with(
        path: PathBuf,
        settings: ReadSettings,
        limits: Limits,
    ) -> Result<StreamReader, PluginError> {
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
        let header_start = Position { offset: header_offset, line: 1 };
        let mut rows = Rows::open(&path, header_start, delimiter, limits.max_row_bytes, MAX_COLUMNS)?;
        let layout = match rows.next()? {
            None => None,
            Some(Row { content: Content::TooLarge, length, .. }) => {
                return Err(PluginError::new(
                    ErrorCode::Config,
                    format!(
                        "the header of {} is {length} bytes long, over `max_row_bytes` ({} bytes)",
                        path.display(),
                        limits.max_row_bytes
                    ),
                )
                .with_help("check that the file is CSV; if it is, raise `max_row_bytes` in the plugin config"));
            }
            Some(Row { content: Content::TooManyFields(count), .. }) => {
                return Err(PluginError::new(
                    ErrorCode::Config,
                    format!("the header of {} has {count} columns, more than {MAX_COLUMNS}", path.display()),
                )
                .with_help("check the file's separator (`delimiter` in the plugin config)"));
            }
            Some(Row { content: Content::Fields(header), .. }) => {
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
        // A row with more fields than the header is a reject whatever they hold.
        rows.max_fields = layout.as_ref().map_or(0, |layout| layout.headers.len());
        let data_start = rows.position();
        Ok(StreamReader {
            path,
            settings,
            limits,
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
            self.rows = self.rows_from(wanted)?;
        }
        let mut batch = ReadBatch::default();
        let mut at_end = false;
        while batch.records.len() + batch.rejects.len() < max_records {
            let Some(row) = self.rows.next()? else {
                at_end = true;
                break;
            };
            let Some(layout) = &self.layout else { continue };
            let fields = match &row.content {
                Content::Fields(fields) => fields,
                Content::TooLarge => {
                    batch.rejects.push(self.too_large_row(&row));
                    continue;
                }
                Content::TooManyFields(count) => {
                    let reason = RejectReason::new(
                        "wrong_field_count",
                        format!("the row has {count} fields, the header {}", layout.headers.len()),
                    );
                    batch.rejects.push(self.reject(&row, reason)?);
                    continue;
                }
            };
            // A line of spaces holds no row; it is layout, not data.
            if fields.len() == 1 && fields.bytes.iter().all(u8::is_ascii_whitespace) && layout.headers.len() > 1 {
                continue;
            }
            let long_field =
                fields.iter().enumerate().find(|(_, field)| field.len() as u64 > self.limits.max_field_bytes);
            if let Some((index, field)) = long_field {
                let column = layout
                    .headers
                    .get(index)
                    .map_or_else(|| format!("field {}", index + 1), |header| format!("column `{header}`"));
                batch.rejects.push(SourceReject {
                    location: format!("{}:{}", self.path.display(), row.start.line),
                    raw: self.cut(&row.head, row.length),
                    reason: RejectReason::new(
                        "too_large",
                        format!(
                            "{column} is {} bytes long, over `max_field_bytes` ({} bytes); raise `max_field_bytes` in \
                             the plugin config to read it",
                            field.len(),
                            self.limits.max_field_bytes
                        ),
                    ),
                });
                continue;
            }
            match self.row_to_record(layout, fields) {
                Ok(record) => batch.records.push(record),
                Err(reason) => batch.rejects.push(self.reject(&row, reason)?),
            }
        }
        let position = self.rows.position();
        batch.done = at_end || position.offset >= self.length;
        batch.next_cursor = Some(position.render());
        Ok(batch)
    }

    fn rows_from(&self, position: Position) -> Result<Rows, PluginError> {
        let max_fields = self.layout.as_ref().map_or(0, |layout| layout.headers.len());
        Rows::open(&self.path, position, self.delimiter, self.limits.max_row_bytes, max_fields)
    }

    /// The reject of a row within `max_row_bytes`, with all its text.
    fn reject(&self, row: &Row, reason: RejectReason) -> Result<SourceReject, PluginError> {
        let raw = if row.head.len() as u64 == row.length {
            self.settings.encoding.decode_lossy(&row.head)
        } else {
            // Only its head was kept: read it again.
            let mut file = File::open(&self.path).map_err(|error| io_error(&self.path, "cannot open", &error))?;
            file.seek(SeekFrom::Start(row.start.offset))
                .map_err(|error| io_error(&self.path, "cannot seek in", &error))?;
            let mut raw = Vec::new();
            file.take(row.length).read_to_end(&mut raw).map_err(|error| io_error(&self.path, "cannot read", &error))?;
            self.settings.encoding.decode_lossy(&raw)
        };
        Ok(SourceReject { location: format!("{}:{}", self.path.display(), row.start.line), raw, reason })
    }

    /// The reject of a row over `max_row_bytes`.
    fn too_large_row(&self, row: &Row) -> SourceReject {
        let lines = match (row.last_line > row.start.line, row.end.offset >= self.length) {
            (true, true) => format!(
                "; it runs from line {} to the end of the file (line {}): is a quote left open?",
                row.start.line, row.last_line
            ),
            (true, false) => format!("; it runs from line {} to line {}", row.start.line, row.last_line),
            (false, _) => String::new(),
        };
        SourceReject {
            location: format!("{}:{}", self.path.display(), row.start.line),
            raw: self.cut(&row.head, row.length),
            reason: RejectReason::new(
                "too_large",
                format!(
                    "the row is {} bytes long, over `max_row_bytes` ({} bytes){lines}; raise `max_row_bytes` in the \
                     plugin config to read it",
                    row.length, self.limits.max_row_bytes
                ),
            ),
        }
    }

    /// The first [`RAW_KEPT`] bytes of a raw row `length` bytes long as
    /// text, with a note of what was cut.
    fn cut(&self, head: &[u8], length: u64) -> String {
        let mut kept = &head[..head.len().min(RAW_KEPT)];
        // Not in the middle of a character.
        if self.settings.encoding == TextEncoding::Utf8
            && let Err(error) = std::str::from_utf8(kept)
            && error.error_len().is_none()
        {
            kept = &kept[..error.valid_up_to()];
        }
        if kept.len() as u64 >= length {
            return self.settings.encoding.decode_lossy(kept);
        }
        format!("{}… [cut: the first {} of {length} bytes]", self.settings.encoding.decode_lossy(kept), kept.len())
    }

    fn row_to_record(&self, layout: &Layout, fields: &Fields) -> Result<Record, RejectReason> {
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

    /// How many rows the file holds after its header, none of them kept.
    pub(crate) fn count_rows(self) -> Result<u64, PluginError> {
        let mut rows = Rows::open(&self.path, self.data_start, self.delimiter, self.limits.max_row_bytes, 0)?;
        let mut count = 0;
        while rows.next()?.is_some() {
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

    /// Small limits, so that a test's rows can be over them.
    const SMALL: Limits = Limits { max_field_bytes: 8, max_row_bytes: 16 };

    fn settings(setup: &Setup) -> ReadSettings {
        ReadSettings {
            kind: setup.kind,
            delimiter: None,
            encoding: setup.encoding,
            platform: "crm".into(),
            columns: setup
                .columns
                .iter()
                .map(|(header, canonical)| (header.to_string(), canonical.to_string()))
                .collect(),
        }
    }

    fn open(content: &[u8], setup: &Setup) -> (tempfile::TempDir, StreamReader) {
        open_limited(content, setup, Limits::default())
    }

    fn open_limited(content: &[u8], setup: &Setup, limits: Limits) -> (tempfile::TempDir, StreamReader) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("contacts.csv");
        std::fs::write(&path, content).unwrap();
        let reader = StreamReader::open_with(path, settings(setup), limits).unwrap();
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
    fn rows_and_fields_over_their_limits_are_rejects_and_the_rows_after_them_are_read() {
        let long = "y".repeat(50_000);
        let blank = "\r\n".repeat(20_000);
        let content = format!(
            "id,last_name\r\n1,abcdefgh\r\n2,abcdefghi\r\n123456,\"abcdefg\"\r\n1234567,\"abcdefg\"\r\n\
             5,\"{long}\"\r\n6,\"a\r\nb\"\r\n{blank}7,\"a\"\"\r\nb\"\r\n8,\"open\r\n9,x\r\n10,y\r\n11,z\r\n"
        );
        let blank_lines = 20_000;
        let expected = [
            r#"crm/1 {"last_name":"abcdefgh"}"#.to_owned(),
            r#"crm/123456 {"last_name":"abcdefg"}"#.to_owned(),
            r#"crm/6 {"last_name":"a\r\nb"}"#.to_owned(),
            r#"crm/7 {"last_name":"a\"\r\nb"}"#.to_owned(),
            r#"line 3: too_large "2,abcdefghi""#.to_owned(),
            r#"line 5: too_large "1234567,\"abcdefg\"""#.to_owned(),
            format!(r#"line 6: too_large "5,\"{}… [cut: the first 1024 of 50004 bytes]""#, &long[..1021]),
            format!(r#"line {}: too_large "8,\"open\r\n9,x\r\n10,y\r\n11,z""#, 11 + blank_lines),
        ];
        let (_folder, mut reader) = open_limited(content.as_bytes(), &CONTACTS, SMALL);
        assert_eq!(read_all(&mut reader), expected);

        let batch = reader.read(None, 1000).unwrap();
        let messages: Vec<(&str, &str)> = batch
            .rejects
            .iter()
            .map(|reject| (reject.location.rsplit(':').next().unwrap(), reject.reason.message.as_str()))
            .collect();
        let last = (11 + blank_lines).to_string();
        let last_message = format!(
            "the row is 24 bytes long, over `max_row_bytes` (16 bytes); it runs from line {last} to the end of the \
             file (line {}): is a quote left open?; raise `max_row_bytes` in the plugin config to read it",
            14 + blank_lines
        );
        assert_eq!(
            messages,
            [
                (
                    "3",
                    "column `last_name` is 9 bytes long, over `max_field_bytes` (8 bytes); raise `max_field_bytes` in \
                     the plugin config to read it"
                ),
                (
                    "5",
                    "the row is 17 bytes long, over `max_row_bytes` (16 bytes); raise `max_row_bytes` in the plugin \
                     config to read it"
                ),
                (
                    "6",
                    "the row is 50004 bytes long, over `max_row_bytes` (16 bytes); raise `max_row_bytes` in the \
                     plugin config to read it"
                ),
                (&last, &last_message),
            ]
        );

        let (whole, cursors) = read_one_by_one(&mut reader, None);
        assert_eq!(whole.len(), expected.len());
        for (offset, cursor) in cursors {
            let (_again, mut fresh) = open_limited(content.as_bytes(), &CONTACTS, SMALL);
            assert_eq!(read_one_by_one(&mut fresh, Some(cursor.clone())).0, whole[offset..], "from cursor {cursor}");
        }
        assert_eq!(reader.count_rows().unwrap(), 8);
    }

    #[test]
    fn a_field_or_a_row_at_the_default_limit_loads_and_one_byte_more_is_a_reject() {
        let mib = 1 << 20;
        let header: String = (1..=16).map(|column| format!(",c{column}")).collect();
        let field = "f".repeat(mib);
        let (fifteen, sixteen) = (",".repeat(15), ",".repeat(16));
        // Sixteen fields within their limit making a row of 16 MiB, give or take a byte.
        let cells = |last: usize| format!("{},{}", vec!["x".repeat(mib - 1); 15].join(","), "x".repeat(last));
        let (at_limit, over) = (cells(mib - 2), cells(mib - 1));
        let content =
            format!("id{header}\n1,{field}{fifteen}\n2,{field}f{fifteen}\n3,{at_limit}\n4,{over}\n5{sixteen}\n");
        let (_folder, mut reader) = open(content.as_bytes(), &CONTACTS);
        let batch = reader.read(None, 1000).unwrap();
        let records: Vec<_> = batch.records.iter().map(|record| record.source_id.as_str()).collect();
        assert_eq!(records, ["1", "3", "5"]);
        let rejects: Vec<_> = batch
            .rejects
            .iter()
            .map(|reject| (reject.location.rsplit(':').next().unwrap(), reject.reason.code.as_str()))
            .collect();
        assert_eq!(rejects, [("3", "too_large"), ("5", "too_large")]);
        assert!(
            batch.rejects[0].reason.message.starts_with(
                "column `c1` is 1048577 bytes long, over `max_field_bytes` (1048576 bytes); raise `max_field_bytes`"
            ),
            "{}",
            batch.rejects[0].reason.message
        );
        assert!(
            batch.rejects[1].reason.message.starts_with(
                "the row is 16777217 bytes long, over `max_row_bytes` (16777216 bytes); raise `max_row_bytes`"
            ),
            "{}",
            batch.rejects[1].reason.message
        );
        // Each raw is the row's first KiB and a note.
        assert!(batch.rejects[0].raw.starts_with("2,fff"));
        assert!(batch.rejects[0].raw.ends_with("f… [cut: the first 1024 of 1048594 bytes]"));
        assert!(batch.rejects[1].raw.starts_with("4,xxx"));
        assert!(batch.rejects[1].raw.ends_with("x… [cut: the first 1024 of 16777217 bytes]"));
    }

    #[test]
    fn a_200_mb_field_is_a_reject_read_past_in_bounded_memory() {
        use std::io::Write;
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("contacts.csv");
        let mut file = File::create(&path).unwrap();
        file.write_all(b"id,last_name\n0,before\n1,\"").unwrap();
        // A hole: 200 MB of NUL bytes that take no disk and are read as a
        // quoted field's text.
        let field = 200 << 20;
        file.set_len(file.metadata().unwrap().len() + field).unwrap();
        file.seek(SeekFrom::End(0)).unwrap();
        file.write_all(b"\"\n2,after\n").unwrap();
        drop(file);
        let mut reader = StreamReader::open(path, settings(&CONTACTS)).unwrap();
        let batch = reader.read(None, 1000).unwrap();
        assert!(batch.done);
        let records: Vec<_> = batch.records.iter().map(|record| record.source_id.as_str()).collect();
        assert_eq!(records, ["0", "2"]);
        let [reject] = &batch.rejects[..] else { panic!("{:?}", batch.rejects) };
        assert!(reject.location.ends_with("contacts.csv:3"), "{}", reject.location);
        assert_eq!(reject.reason.code, "too_large");
        assert!(reject.reason.message.starts_with("the row is 209715204 bytes long, over `max_row_bytes` (16777216"));
        assert!(reject.raw.starts_with("1,\"\0\0"));
        assert!(reject.raw.ends_with("\0… [cut: the first 1024 of 209715204 bytes]"), "{}", &reject.raw[1000..]);
        // The reader holds about the row limit (16 MiB), not the row: the
        // process peaks near 40 MiB, 13 of them before the read. Only a
        // process of its own (as nextest runs each test) measures this test
        // alone.
        if std::env::var("NEXTEST_EXECUTION_MODE").as_deref() == Ok("process-per-test") {
            let peak = peak_memory_kib().unwrap_or(0);
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
    fn a_header_over_the_row_limit_is_a_config_error() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("contacts.csv");
        std::fs::write(&path, format!("id,{}\n1,a\n", "h".repeat(100))).unwrap();
        let error = StreamReader::open_with(path, settings(&CONTACTS), SMALL).err().unwrap();
        assert_eq!(error.code, ErrorCode::Config);
        assert!(error.message.ends_with("is 103 bytes long, over `max_row_bytes` (16 bytes)"), "{}", error.message);
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

    /// Rows for the property below: every dialect feature, rows and fields
    /// over the [`SMALL`] limits (one longer than the parser's buffer, an
    /// unclosed quote), a row of too many fields longer than a reject's head,
    /// a run of blank lines, and a row that starts with a BOM.
    fn any_rows() -> Vec<String> {
        let mut rows: Vec<String> = [
            "1,plain",
            "2,\"quoted, comma\"",
            "3,\"two\r\nlines\"",
            "4,\"\"\"q\"\"\"",
            "5,too,many",
            ",no id",
            "6,M\u{fc}ller",
            "",
            "   ",
            "7",
            "8,ninebyte",
            "9,\"a row over sixteen bytes\"",
            "10,\"open",
            "\u{feff}11,bom",
        ]
        .map(str::to_owned)
        .to_vec();
        rows.push(format!("12,{}", "x".repeat(70_000)));
        rows.push(format!("13,\"{}\",too many", "z".repeat(2_000)));
        rows.push("\r\n".repeat(3_000));
        rows
    }

    proptest::proptest! {
        #[test]
        fn any_file_read_from_any_cursor_gives_the_rest(
            bom in proptest::bool::ANY,
            small in proptest::bool::ANY,
            rows in proptest::collection::vec(
                (proptest::sample::select(any_rows()), proptest::sample::select(vec!["\n", "\r\n", "\n\n"])),
                0..12,
            ),
        ) {
            let limits = if small { SMALL } else { Limits::default() };
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
            let (_folder, mut reader) = open_limited(&content, &CONTACTS, limits);
            let (whole, cursors) = read_one_by_one(&mut reader, None);
            for (offset, cursor) in cursors {
                let (_again, mut fresh) = open_limited(&content, &CONTACTS, limits);
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
