//! The checks, each recording a pass or a failure with what went wrong, in
//! the order a run makes them: what needs no data, the streams the plugin
//! only reads (before anything is written), the streams it writes, the
//! streams it writes and reads back, hostile input.

use crate::reads::{self, Expectation, plural};
use crate::writes::{self, check_name};
use crate::{DataSet, Kit};
use cutover_abi::ABI_VERSION;
use cutover_contract::metadata::{PluginMetadata, StreamInfo};
use cutover_contract::{ErrorCode, PluginError};
use cutover_schema::SCHEMA_VERSION;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// The guarantee every readable stream holds to when it reads nothing.
pub(crate) const EMPTY_IS_DECLARED: &str = "a stream that reads nothing is declared empty";
/// The guarantee a source-only stream's test holds to.
pub(crate) const DATA_SET_DECLARED: &str = "a stream the kit does not write declares its data set";
/// The guarantee a whole read holds to.
pub(crate) const READS_KNOWN_SET: &str = "reads give the known data set, each record once";
/// The guarantee a resumed read holds to.
pub(crate) const READS_RESUME: &str = "reads resume at their cursor";
/// The guarantee the test's declarations hold to.
const DECLARATIONS_NAME_STREAMS: &str = "declarations name streams the plugin has";

/// What a conformance run found.
#[derive(Debug, Default)]
pub struct Report {
    /// The plugin's name, once known.
    pub plugin: String,
    /// Names of the checks that held.
    pub passed: Vec<String>,
    /// The checks that did not.
    pub failures: Vec<Failure>,
    /// What the run skipped or took on the test's word, so it is visible:
    /// fields declared not kept, streams declared empty, the data sets
    /// declared for streams the kit does not write.
    pub notes: Vec<String>,
}

/// One failed check.
#[derive(Debug)]
pub struct Failure {
    /// Which check.
    pub check: String,
    /// What went wrong.
    pub detail: String,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "conformance of plugin `{}`: {} passed, {} failed",
            self.plugin,
            self.passed.len(),
            self.failures.len()
        )?;
        for failure in &self.failures {
            writeln!(f, "  FAILED {}: {}", failure.check, failure.detail)?;
        }
        for note in &self.notes {
            writeln!(f, "  NOTE {note}")?;
        }
        Ok(())
    }
}

impl Report {
    pub(crate) fn record(&mut self, check: impl Into<String>, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.passed.push(check.into()),
            Err(detail) => self.failures.push(Failure { check: check.into(), detail }),
        }
    }
}

pub(crate) fn describe_error(error: &PluginError) -> String {
    format!("{} error: {}", error.code, error.message)
}

impl Kit {
    pub(crate) fn open(&self, config: &str) -> Result<cutover_abi::ffi::Handle, PluginError> {
        self.client.open(config, &cutover_contract::metadata::OpenContext { base_dir: ".".into(), log: None })
    }
}

pub(crate) fn run(kit: &Kit) -> Report {
    let mut report = Report::default();
    let metadata = match kit.client.describe() {
        Ok(metadata) => metadata,
        Err(error) => {
            report.record("describe", Err(describe_error(&error)));
            return report;
        }
    };
    report.plugin = metadata.name.clone();
    report.record("metadata is valid", metadata_is_valid(&metadata));
    report.record("bad config is refused with a clear error", bad_config_is_refused(kit, &metadata));
    if !kit.data_sets.is_empty() || !kit.leeway.is_empty() {
        report.record(DECLARATIONS_NAME_STREAMS, declarations_name_streams(kit, &metadata));
    }
    // What the test declared is what the platform holds before the kit
    // writes: the streams only read are read first.
    for stream in metadata.streams.iter().filter(|stream| stream.direction.can_read() && !stream.direction.can_write())
    {
        let declared = kit.data_sets.get(&stream.name).map(declared);
        if declared.is_none() {
            report.record(
                check_name(&stream.name, DATA_SET_DECLARED),
                Err(format!(
                    "the plugin only reads stream `{0}`, so the kit cannot tell a right read from a wrong one: \
                     declare what it holds here with Kit::source_ids(\"{0}\", ids) (exactly these source ids), \
                     Kit::source_includes(\"{0}\", ids) (these among others), Kit::source_count(\"{0}\", n) or \
                     Kit::empty_stream(\"{0}\")",
                    stream.name
                )),
            );
        }
        check_reads(kit, stream, declared, &mut report);
    }
    let mut written = BTreeMap::new();
    for stream in metadata.streams.iter().filter(|stream| stream.direction.can_write()) {
        if let Some(expectation) = writes::check_stream(kit, &metadata, stream, &mut report) {
            written.insert(stream.name.clone(), expectation);
        }
    }
    for stream in metadata.streams.iter().filter(|stream| stream.direction.can_read() && stream.direction.can_write()) {
        let mut expectation = written.remove(&stream.name).unwrap_or_default();
        expectation.others_allowed = true;
        if let Some(data_set) = kit.data_sets.get(&stream.name) {
            let declared = declared(data_set);
            expectation.required.extend(declared.required);
            expectation.others_allowed = declared.others_allowed;
            expectation.count = declared.count;
            expectation.origin = format!("{} and {}", expectation.origin, declared.origin);
        }
        if expectation.origin.is_empty() {
            expectation.origin = "the records the kit wrote".into();
        }
        check_reads(kit, stream, Some(expectation), &mut report);
    }
    report.record(
        "hostile input comes back as errors with context, never a panic",
        hostile_input_is_refused(kit, &metadata),
    );
    report
}

/// What a declaration says a stream must read.
fn declared(data_set: &DataSet) -> Expectation {
    let mut expectation = Expectation::default();
    let mut origins = Vec::new();
    if let Some(ids) = &data_set.exact {
        expectation.required.extend(ids.iter().cloned());
        expectation.others_allowed = false;
        origins.push(format!("the {} declared with Kit::source_ids", plural(ids.len(), "id")));
    }
    if !data_set.includes.is_empty() {
        expectation.required.extend(data_set.includes.iter().cloned());
        origins.push(format!("the {} declared with Kit::source_includes", plural(data_set.includes.len(), "id")));
    }
    if let Some(count) = data_set.count {
        expectation.count = Some(count);
        origins.push(format!("the {} declared with Kit::source_count", plural(count, "record")));
    }
    if data_set.empty {
        expectation.others_allowed = false;
        expectation.count = Some(0);
        origins.push("nothing, declared with Kit::empty_stream".into());
    }
    expectation.origin = origins.join(" and ");
    expectation
}

/// The read checks of one stream, against `expected` if known.
fn check_reads(kit: &Kit, stream: &StreamInfo, expected: Option<Expectation>, report: &mut Report) {
    let name = stream.name.as_str();
    let declared_empty = kit.data_sets.get(name).is_some_and(|data_set| data_set.empty);
    if let Some(expected) = expected.as_ref().filter(|_| !stream.direction.can_write()) {
        report.notes.push(format!("stream `{name}`: read against {}", expected.origin));
    }
    let outcome = match reads::check_stream(kit, name, &expected.clone().unwrap_or_default()) {
        Ok(outcome) => outcome,
        Err(problem) => {
            report.record(check_name(name, READS_RESUME), Err(format!("a whole read failed: {problem}")));
            return;
        }
    };
    if outcome.any_records {
        report.record(check_name(name, EMPTY_IS_DECLARED), Ok(()));
    } else if declared_empty {
        report.record(check_name(name, EMPTY_IS_DECLARED), Ok(()));
        report.notes.push(format!("stream `{name}`: declared empty (Kit::empty_stream), and read nothing"));
    } else {
        let why = if stream.direction.can_write() {
            format!("the kit wrote to it, yet stream `{name}` reads no record")
        } else {
            format!("stream `{name}` reads no record")
        };
        report.record(
            check_name(name, EMPTY_IS_DECLARED),
            Err(format!(
                "{why}: a read that gives nothing proves nothing; if it holds nothing here, say so with \
                 Kit::empty_stream(\"{name}\"), else give it data (a config, a seeded emulator)"
            )),
        );
    }
    if expected.is_some() {
        report.record(check_name(name, READS_KNOWN_SET), outcome.data_set);
    }
    report.record(check_name(name, READS_RESUME), outcome.resume);
}

/// Every stream a declaration names exists, and data sets are declared for
/// streams the plugin reads.
fn declarations_name_streams(kit: &Kit, metadata: &PluginMetadata) -> Result<(), String> {
    let mut problems = Vec::new();
    let find = |name: &str| metadata.streams.iter().find(|stream| stream.name == name);
    for name in kit.data_sets.keys() {
        match find(name) {
            None => {
                problems.push(format!("a data set is declared for stream `{name}`, which the plugin does not have"))
            }
            Some(stream) if !stream.direction.can_read() => {
                problems.push(format!("a data set is declared for stream `{name}`, which the plugin does not read"))
            }
            Some(_) => {}
        }
    }
    for name in kit.leeway.keys() {
        if find(name).is_none() {
            problems.push(format!(
                "fields not kept or rewritten are declared for stream `{name}`, which the plugin does not have"
            ));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

fn metadata_is_valid(metadata: &PluginMetadata) -> Result<(), String> {
    let mut problems = Vec::new();
    let name_ok = !metadata.name.is_empty()
        && metadata.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !name_ok {
        problems.push(format!("name `{}` must be non-empty lowercase ascii, digits, `-` or `_`", metadata.name));
    }
    if metadata.version.split('.').count() != 3 || metadata.version.split('.').any(|part| part.parse::<u64>().is_err())
    {
        problems.push(format!("version `{}` is not MAJOR.MINOR.PATCH", metadata.version));
    }
    if metadata.description.trim().is_empty() {
        problems.push("description is empty".into());
    }
    if metadata.abi_version != ABI_VERSION {
        problems.push(format!("abi_version {} but the kit speaks {ABI_VERSION}", metadata.abi_version));
    }
    if !SCHEMA_VERSION.can_exchange_with(metadata.schema_version) {
        problems.push(format!("schema_version {} cannot exchange with {SCHEMA_VERSION}", metadata.schema_version));
    }
    if metadata.streams.is_empty() {
        problems.push("declares no stream".into());
    }
    let mut seen = HashSet::new();
    for stream in &metadata.streams {
        if !seen.insert(&stream.name) {
            problems.push(format!("stream `{}` is declared twice", stream.name));
        }
    }
    if !metadata.config_schema.is_object() {
        problems.push("config_schema is not a JSON Schema object".into());
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

fn bad_config_is_refused(kit: &Kit, metadata: &PluginMetadata) -> Result<(), String> {
    match kit.open(&kit.bad_config) {
        Ok(handle) => {
            let _ = kit.client.close(handle);
            Err(format!("config `{}` was accepted", kit.bad_config))
        }
        Err(error) if error.code != ErrorCode::Config => {
            Err(format!("refused with code `{}`, expected `config`", error.code))
        }
        Err(error) if !error.message.contains(&metadata.name) => {
            Err(format!("the message does not name the plugin: {}", error.message))
        }
        Err(_) => Ok(()),
    }
}

fn hostile_input_is_refused(kit: &Kit, metadata: &PluginMetadata) -> Result<(), String> {
    let handle = kit.open(&kit.config).map_err(|error| format!("open: {}", describe_error(&error)))?;
    let mut problems = Vec::new();
    let mut expect = |what: &str, result: Result<(), PluginError>, wanted: Option<ErrorCode>| {
        problems.extend(judge_refusal(what, result, wanted));
    };
    expect(
        "a read of an unknown stream",
        kit.client.read(handle, "no-such-stream", None, 1).map(drop),
        Some(ErrorCode::Unsupported),
    );
    if let Some(stream) = metadata.streams.iter().find(|stream| stream.direction.can_read()) {
        expect(
            "a read with a garbage cursor on a stream",
            kit.client.read(handle, &stream.name, Some("\u{1F4A5} not a cursor"), 1).map(drop),
            None,
        );
    }
    if let Some(stream) = metadata.streams.iter().find(|stream| stream.direction.can_write()) {
        expect(
            "a write of garbage bytes to a stream",
            kit.client.write_raw(handle, &stream.name, &[1, 0xc1, 0xff, 0]).map(drop),
            Some(ErrorCode::Encoding),
        );
    }
    let close_failed = kit.client.close(handle).err().map(|error| format!("close: {}", describe_error(&error)));
    expect(
        "a read on a closed handle",
        kit.client.read(handle, "x", None, 1).map(drop),
        Some(ErrorCode::UnknownHandle),
    );
    problems.extend(close_failed);
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

/// What is wrong with how a plugin refused hostile input, if anything.
fn judge_refusal(what: &str, result: Result<(), PluginError>, wanted: Option<ErrorCode>) -> Option<String> {
    let error = match result {
        Ok(()) => return Some(format!("{what} was accepted")),
        Err(error) => error,
    };
    if error.code == ErrorCode::Panic {
        return Some(format!("{what} made the plugin panic: {}", error.message));
    }
    if let Some(code) = wanted
        && code != error.code
    {
        return Some(format!("{what} gave code `{}`, expected `{code}`", error.code));
    }
    if error.message.trim().is_empty() {
        return Some(format!("{what} gave an empty message"));
    }
    if error.stream.is_none() && what.contains("stream") {
        return Some(format!("{what} gave an error that does not name the stream"));
    }
    None
}
