//! Writing a CSV file as an upsert on (source platform, entity, source id).
//!
//! The header is `source_platform, source_id, updated_at`, the entity's
//! fields, then `custom_fields` as JSON (see [`crate::mapping`]). At open the
//! existing file is indexed: a hash of each row's key and a fingerprint of
//! the row. A record whose key is new is appended (`created`); the same row
//! again is `unchanged`; a changed row is appended too (`updated`) and the
//! file is compacted at close, keeping the last row of each key. Each batch
//! is flushed before its outcomes are returned, so an acknowledged record
//! survives the process being killed; a row a killed writer left unfinished
//! is cut at the next open.

use crate::config::Delimiter;
use crate::encoding::TextEncoding;
use crate::mapping::{self, Shape};
use crate::source::{io_error, trim_line_end};
use cutover_sdk::prelude::*;
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::fs::{File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// How to write one stream's file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WriteSettings {
    pub(crate) kind: EntityKind,
    pub(crate) delimiter: Option<Delimiter>,
    pub(crate) encoding: TextEncoding,
}

/// An open CSV file being written.
pub(crate) struct StreamWriter {
    path: PathBuf,
    settings: WriteSettings,
    delimiter: u8,
    fields: Vec<(String, Shape)>,
    file: BufWriter<File>,
    /// Key hash → fingerprint of the row last written for it.
    index: HashMap<u64, u64>,
    /// Whether a key was written twice, so the file needs compacting.
    superseded: bool,
}

/// One row of an existing file: its key hash (if it has a key) and its bytes without the line end.
struct ExistingRow {
    key: Option<u64>,
    raw: Vec<u8>,
}

impl StreamWriter {
    pub(crate) fn open(path: PathBuf, settings: WriteSettings) -> Result<StreamWriter, PluginError> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|error| io_error(folder, "cannot create folder", &error))?;
        }
        let fields = mapping::fields_of(settings.kind);
        let header = mapping::header_of(&fields);
        let existing = if path.exists() {
            std::fs::read(&path).map_err(|error| io_error(&path, "cannot read", &error))?
        } else {
            Vec::new()
        };
        let delimiter = settings.delimiter.unwrap_or_else(|| Delimiter::detect(&existing)).byte();
        let mut index = HashMap::new();
        let mut superseded = false;
        let mut write_header = true;
        if !existing.is_empty() {
            let (existing_header, rows, complete_length) = parse_existing(&existing, delimiter, settings.encoding);
            if existing_header != header {
                return Err(PluginError::new(
                    ErrorCode::Config,
                    format!(
                        "cannot write to {}: its header ({}) is not the one this plugin writes for a {} ({})",
                        path.display(),
                        existing_header.join(","),
                        settings.kind.as_str(),
                        header.join(",")
                    ),
                )
                .with_help("move the file away or point `folder` at another folder"));
            }
            if complete_length < existing.len() {
                cut(&path, complete_length as u64)?;
            }
            for row in rows {
                if let Some(key) = row.key {
                    superseded |= index.insert(key, fingerprint(&row.raw)).is_some();
                }
            }
            write_header = false;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|error| io_error(&path, "cannot open for writing", &error))?;
        let mut writer = StreamWriter {
            path,
            settings,
            delimiter,
            fields,
            file: BufWriter::with_capacity(256 * 1024, file),
            index,
            superseded,
        };
        if write_header {
            let line = writer.encode_row(&header).map_err(|message| {
                PluginError::new(
                    ErrorCode::Encoding,
                    format!("cannot write the header of {}: {message}", writer.path.display()),
                )
            })?;
            writer.file.write_all(&line).map_err(|error| io_error(&writer.path, "cannot write to", &error))?;
        }
        Ok(writer)
    }

    pub(crate) fn write(&mut self, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let mut outcomes = Vec::with_capacity(records.len());
        for record in records {
            let result = self.write_one(&record)?;
            outcomes.push(WriteOutcome { source_id: record.source_id, result });
        }
        self.file.flush().map_err(|error| io_error(&self.path, "cannot flush", &error))?;
        Ok(outcomes)
    }

    fn write_one(&mut self, record: &Record) -> Result<WriteResult, PluginError> {
        let target_id = cutover_sdk::schema::format_compact!("{}:{}", record.source_platform, record.source_id);
        if record.entity.kind() != self.settings.kind {
            return Ok(WriteResult::Rejected {
                reason: RejectReason::new(
                    "wrong_entity",
                    format!("a {} cannot go in a {} file", record.entity.kind().as_str(), self.settings.kind.as_str()),
                ),
            });
        }
        let row = match mapping::to_row(&self.fields, record) {
            Ok(row) => row,
            Err(message) => return Ok(WriteResult::Rejected { reason: RejectReason::new("unencodable", message) }),
        };
        let line = match self.encode_row(&row) {
            Ok(line) => line,
            Err(message) => return Ok(WriteResult::Rejected { reason: RejectReason::new("unencodable", message) }),
        };
        let row_fingerprint = fingerprint(trim_line_end(&line));
        let key = key_hash(
            &self.settings.encoding.encode(&record.source_platform).unwrap_or_default(),
            &self.settings.encoding.encode(&record.source_id).unwrap_or_default(),
        );
        Ok(match self.index.insert(key, row_fingerprint) {
            Some(previous) if previous == row_fingerprint => WriteResult::Unchanged { target_id },
            previous => {
                self.file.write_all(&line).map_err(|error| {
                    io_error(&self.path, "cannot write to", &error).for_record(record.source_id.as_str())
                })?;
                if previous.is_some() {
                    self.superseded = true;
                    WriteResult::Updated { target_id }
                } else {
                    WriteResult::Created { target_id }
                }
            }
        })
    }

    /// One CSV line (with its `\n`) in the file's encoding.
    fn encode_row(&self, cells: &[String]) -> Result<Vec<u8>, String> {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(self.delimiter)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        writer.write_record(cells).map_err(|error| format!("cannot write a CSV row: {error}"))?;
        let line = writer.into_inner().map_err(|error| format!("cannot write a CSV row: {error}"))?;
        let text = String::from_utf8(line).map_err(|error| format!("cannot write a CSV row: {error}"))?;
        self.settings
            .encoding
            .encode(&text)
            .map(|bytes| bytes.into_owned())
            .ok_or_else(|| format!("a character has no code in {:?}", self.settings.encoding))
    }

    /// Flushes, and compacts the file if a key was written more than once.
    pub(crate) fn finish(mut self) -> Result<(), PluginError> {
        self.file.flush().map_err(|error| io_error(&self.path, "cannot flush", &error))?;
        if self.superseded { compact(&self.path, self.delimiter, self.settings.encoding) } else { Ok(()) }
    }
}

/// The header, the rows and how many bytes of `content` are complete rows: a
/// last row with no line end, or cut inside quotes, was left by a writer
/// killed before its batch was flushed, so it was never acknowledged.
fn parse_existing(content: &[u8], delimiter: u8, encoding: TextEncoding) -> (Vec<String>, Vec<ExistingRow>, usize) {
    let body_start = if content.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(content.get(body_start..).unwrap_or_default());
    let mut header = Vec::new();
    let mut rows = Vec::new();
    let mut complete_length = body_start;
    let mut record = csv::ByteRecord::new();
    let mut first = true;
    while let Ok(true) = reader.read_byte_record(&mut record) {
        let start = body_start + record.position().map_or(0, |position| position.byte() as usize);
        let end = body_start + reader.position().byte() as usize;
        let raw = content.get(start..end).unwrap_or_default();
        let quotes = raw.iter().filter(|byte| **byte == b'"').count();
        if !raw.ends_with(b"\n") || quotes % 2 == 1 {
            break;
        }
        complete_length = end;
        if first {
            header = record.iter().map(|field| encoding.decode_lossy(field).trim().to_owned()).collect();
            first = false;
            continue;
        }
        let key = match (record.get(0), record.get(1)) {
            (Some(platform), Some(source_id)) if !source_id.is_empty() => Some(key_hash(platform, source_id)),
            _ => None,
        };
        rows.push(ExistingRow { key, raw: trim_line_end(raw).to_vec() });
    }
    (header, rows, complete_length)
}

fn cut(path: &Path, length: u64) -> Result<(), PluginError> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|file| file.set_len(length))
        .map_err(|error| io_error(path, "cannot cut the unfinished last row of", &error))
}

/// Rewrites the file keeping only the last row of each key, in the order of
/// those last rows, through a temporary file renamed over the original.
fn compact(path: &Path, delimiter: u8, encoding: TextEncoding) -> Result<(), PluginError> {
    let content = std::fs::read(path).map_err(|error| io_error(path, "cannot read for compaction", &error))?;
    let (_, rows, _) = parse_existing(&content, delimiter, encoding);
    let header_end = content.iter().position(|byte| *byte == b'\n').map_or(content.len(), |newline| newline + 1);
    let mut last_row_of_key = HashMap::new();
    for (number, row) in rows.iter().enumerate() {
        if let Some(key) = row.key {
            last_row_of_key.insert(key, number);
        }
    }
    // A new file with a random name, created exclusively (never through a
    // link planted in the folder), readable by its owner only.
    let folder = path.parent().filter(|folder| !folder.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temporary = tempfile::NamedTempFile::new_in(folder)
        .map_err(|error| io_error(folder, "cannot create a temporary file in", &error))?;
    let mut output = BufWriter::new(temporary);
    let write_error = |error: std::io::Error| io_error(path, "cannot write the compacted copy of", &error);
    output.write_all(content.get(..header_end).unwrap_or_default()).map_err(write_error)?;
    for (number, row) in rows.iter().enumerate() {
        // Not ours to judge: a row with no key stays where it was.
        if row.key.is_none_or(|key| last_row_of_key.get(&key) == Some(&number)) {
            output.write_all(&row.raw).and_then(|()| output.write_all(b"\n")).map_err(write_error)?;
        }
    }
    let temporary = output.into_inner().map_err(|error| write_error(error.into_error()))?;
    temporary.persist(path).map(drop).map_err(|error| io_error(path, "cannot replace", &error.error))
}

fn key_hash(source_platform: &[u8], source_id: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    (source_platform, source_id).hash(&mut hasher);
    hasher.finish()
}

fn fingerprint(row: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    row.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{ReadSettings, StreamReader};
    use chrono::{DateTime, Utc};
    use cutover_sdk::schema::{Conversion, ConversionStatus, Currency, Money, Reference};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const CONTACTS: WriteSettings =
        WriteSettings { kind: EntityKind::Contact, delimiter: None, encoding: TextEncoding::Utf8 };

    fn contact(id: &str, email: &str) -> Record {
        Record::new(
            "test",
            id,
            DateTime::UNIX_EPOCH,
            Entity::Contact(Contact { email: Some(email.into()), ..Contact::default() }),
        )
    }

    fn results(outcomes: Vec<WriteOutcome>) -> Vec<&'static str> {
        outcomes.into_iter().map(|outcome| outcome.result.as_str()).collect()
    }

    /// Writes each batch in turn (one writer, finished at the end) and checks
    /// the outcomes of each and the file left behind.
    fn check(settings: WriteSettings, existing: Option<&str>, batches: &[(Vec<Record>, &[&str])], expected_file: &str) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("out").join("contacts.csv");
        if let Some(existing) = existing {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, existing).unwrap();
        }
        let mut writer = StreamWriter::open(path.clone(), settings).unwrap();
        for (records, expected) in batches {
            assert_eq!(results(writer.write(records.clone()).unwrap()), *expected);
        }
        writer.finish().unwrap();
        assert_eq!(String::from_utf8_lossy(&std::fs::read(&path).unwrap()), expected_file);
    }

    const HEADER: &str =
        "source_platform,source_id,updated_at,company,created_at,email,first_name,last_name,phone,custom_fields\n";

    #[test]
    fn upserts_on_the_key_and_compacts_at_finish() {
        let batch = vec![contact("a", "a@x.org"), contact("b", "b@x.org")];
        check(
            CONTACTS,
            None,
            &[
                (batch.clone(), &["created", "created"]),
                (batch, &["unchanged", "unchanged"]),
                (vec![contact("a", "new@x.org")], &["updated"]),
            ],
            &format!(
                "{HEADER}test,b,1970-01-01T00:00:00Z,,,b@x.org,,,,\ntest,a,1970-01-01T00:00:00Z,,,new@x.org,,,,\n"
            ),
        );
    }

    #[test]
    fn an_existing_file_is_indexed_and_an_unfinished_last_row_is_cut() {
        let complete = format!("{HEADER}test,a,1970-01-01T00:00:00Z,,,a@x.org,,,,\n");
        let expected = format!("{complete}test,b,1970-01-01T00:00:00Z,,,b@x.org,,,,\n");
        let batches = [(vec![contact("a", "a@x.org"), contact("b", "b@x.org")], &["unchanged", "created"][..])];
        check(CONTACTS, Some(&complete), &batches, &expected);
        check(CONTACTS, Some(&format!("{complete}test,c,1970")), &batches, &expected);
        check(CONTACTS, Some(&format!("{complete}test,c,1970,,,\"a\n")), &batches, &expected);
    }

    #[test]
    fn records_that_do_not_fit_the_file_are_rejected() {
        let mut partner = contact("p", "p@x.org");
        partner.entity = Entity::Partner(Default::default());
        let mut japanese = contact("j", "j@x.org");
        japanese.entity = Entity::Contact(Contact { first_name: Some("美咲".into()), ..Contact::default() });
        let latin_1 =
            WriteSettings { encoding: TextEncoding::Latin1, delimiter: Some(Delimiter::Semicolon), ..CONTACTS };
        check(
            latin_1,
            None,
            &[(vec![partner, japanese, contact("m", "m\u{fc}@x.org")], &["rejected", "rejected", "created"])],
            &format!("{}test;m;1970-01-01T00:00:00Z;;;m\u{fc}@x.org;;;;\n", HEADER.replace(',', ";"))
                .replace('\u{fc}', "\u{fffd}"),
        );
    }

    #[test]
    fn a_file_with_another_header_is_refused() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("contacts.csv");
        std::fs::write(&path, "id,email\n1,a@x.org\n").unwrap();
        let error = StreamWriter::open(path, CONTACTS).err().unwrap();
        assert_eq!(error.code, ErrorCode::Config);
        assert!(error.message.contains("its header (id,email) is not the one"), "{}", error.message);
    }

    fn read_back(path: PathBuf, kind: EntityKind, encoding: TextEncoding) -> Vec<Record> {
        let settings =
            ReadSettings { kind, delimiter: None, encoding, platform: "csv".into(), columns: BTreeMap::new() };
        let batch = StreamReader::open(path, settings).unwrap().read(None, 100_000).unwrap();
        assert_eq!(batch.rejects, Vec::new());
        batch.records
    }

    fn text() -> impl Strategy<Value = Option<CompactString>> {
        proptest::option::of("[\\PC\n\r\",;\t]{1,20}".prop_map(CompactString::from))
    }

    fn envelope() -> impl Strategy<Value = (String, String, DateTime<Utc>, BTreeMap<CompactString, CustomValue>)> {
        let custom_value = prop_oneof![
            "\\PC{0,10}".prop_map(|text| CustomValue::Text(text.into())),
            any::<i64>().prop_map(CustomValue::Integer),
            any::<bool>().prop_map(CustomValue::Boolean),
        ];
        (
            "[a-z]{1,8}",
            "[a-zA-Z0-9{][\\PC\n\"]{0,12}",
            (0i64..4_000_000_000, 0u32..1_000_000_000),
            proptest::collection::btree_map("[a-zA-Z ]{1,8}".prop_map(CompactString::from), custom_value, 0..3),
        )
            .prop_map(|(platform, source_id, (seconds, nanoseconds), custom_fields)| {
                (platform, source_id, DateTime::from_timestamp(seconds, nanoseconds).unwrap_or_default(), custom_fields)
            })
    }

    fn contacts() -> impl Strategy<Value = Vec<Record>> {
        let contact = (envelope(), text(), text(), text(), proptest::option::of(0i64..4_000_000_000)).prop_map(
            |((platform, source_id, updated_at, custom_fields), email, first_name, last_name, created)| {
                let mut record = Record::new(
                    platform,
                    source_id,
                    updated_at,
                    Entity::Contact(Contact {
                        email,
                        first_name,
                        last_name,
                        created_at: created.and_then(|seconds| DateTime::from_timestamp(seconds, 0)),
                        ..Contact::default()
                    }),
                );
                record.custom_fields = custom_fields;
                record
            },
        );
        proptest::collection::vec(contact, 0..12)
    }

    fn conversions() -> impl Strategy<Value = Vec<Record>> {
        let conversion = (
            envelope(),
            proptest::option::of((any::<i64>(), 0u32..6, prop::sample::select(vec![Currency::EUR, Currency::JPY]))),
            proptest::option::of(prop::sample::select(vec![ConversionStatus::Approved, ConversionStatus::Reversed])),
            proptest::option::of("[a-z0-9{ ][\\PC]{0,8}"),
        )
            .prop_map(|((platform, source_id, updated_at, custom_fields), amount, status, partner)| {
                let mut record = Record::new(
                    platform,
                    source_id,
                    updated_at,
                    Entity::Conversion(Conversion {
                        amount: amount.map(|(units, scale, currency)| {
                            Money::new(rust_decimal::Decimal::new(units, scale), currency)
                        }),
                        status,
                        converted_at: Some(updated_at),
                        partner: partner.map(|id| Reference::new(EntityKind::Partner, id)),
                        program: Some(Reference::new(EntityKind::Partner, "not a program")),
                        ..Conversion::default()
                    }),
                );
                record.custom_fields = custom_fields;
                record
            });
        proptest::collection::vec(conversion, 0..8)
    }

    /// The last record of each key, in the order of those last records: what an upsert file holds.
    fn last_of_each_key(records: Vec<Record>) -> Vec<Record> {
        let mut kept: Vec<Record> = Vec::new();
        for record in records {
            kept.retain(|earlier| {
                (&earlier.source_platform, &earlier.source_id) != (&record.source_platform, &record.source_id)
            });
            kept.push(record);
        }
        kept
    }

    fn round_trip(kind: EntityKind, records: Vec<Record>, delimiter: Option<Delimiter>) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("stream.csv");
        let settings = WriteSettings { kind, delimiter, encoding: TextEncoding::Utf8 };
        let mut writer = StreamWriter::open(path.clone(), settings).unwrap();
        let outcomes = writer.write(records.clone()).unwrap();
        assert!(!results(outcomes).contains(&"rejected"));
        writer.finish().unwrap();
        assert_eq!(read_back(path, kind, TextEncoding::Utf8), last_of_each_key(records));
    }

    proptest! {
        #[test]
        fn contacts_written_read_back_the_same(
            records in contacts(),
            delimiter in proptest::option::of(prop::sample::select(Delimiter::ALL.to_vec())),
        ) {
            round_trip(EntityKind::Contact, records, delimiter);
        }

        #[test]
        fn conversions_written_read_back_the_same(records in conversions()) {
            round_trip(EntityKind::Conversion, records, None);
        }
    }
}
