//! The checks, each recording a pass or a failure with what went wrong.

use crate::{Kit, samples};
use cutover_abi::metadata::PluginMetadata;
use cutover_abi::wire::{ReadBatch, WriteResult};
use cutover_abi::{ABI_VERSION, ErrorCode, PluginError};
use cutover_schema::{Record, SCHEMA_VERSION};
use std::collections::HashSet;
use std::fmt;

/// What a conformance run found.
#[derive(Debug, Default)]
pub struct Report {
    /// The plugin's name, once known.
    pub plugin: String,
    /// Names of the checks that held.
    pub passed: Vec<String>,
    /// The checks that did not.
    pub failures: Vec<Failure>,
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
        Ok(())
    }
}

impl Report {
    fn record(&mut self, check: impl Into<String>, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.passed.push(check.into()),
            Err(detail) => self.failures.push(Failure { check: check.into(), detail }),
        }
    }
}

fn describe_error(error: &PluginError) -> String {
    format!("{} error: {}", error.code, error.message)
}

impl Kit {
    fn open(&self, config: &str) -> Result<cutover_abi::ffi::Handle, PluginError> {
        self.client.open(config, &cutover_abi::metadata::OpenContext { base_dir: ".".into(), log: None })
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
    for stream in metadata.streams.iter().filter(|stream| stream.direction.can_write()) {
        let records = samples::records(stream.entity, 3 * kit.batch_size as usize + 2, &kit.email_domain);
        report.record(
            format!("stream `{}`: the same batch twice creates nothing twice", stream.name),
            writes_are_idempotent(kit, &metadata, &stream.name, records),
        );
    }
    for stream in metadata.streams.iter().filter(|stream| stream.direction.can_read()) {
        report.record(
            format!("stream `{}`: reads resumed from every cursor agree, no gap, no duplicate", stream.name),
            reads_resume_exactly(kit, &stream.name),
        );
    }
    report.record(
        "hostile input comes back as errors with context, never a panic",
        hostile_input_is_refused(kit, &metadata),
    );
    report
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

fn writes_are_idempotent(
    kit: &Kit,
    metadata: &PluginMetadata,
    stream: &str,
    mut records: Vec<Record>,
) -> Result<(), String> {
    let handle = kit.open(&kit.config).map_err(|error| format!("open: {}", describe_error(&error)))?;
    let outcome = (|| {
        write_referenced_records(kit, handle, metadata, &mut records)?;
        let records = records.as_slice();
        let first = kit
            .client
            .write(handle, stream, records)
            .map_err(|error| format!("first write: {}", describe_error(&error)))?;
        let echoed: Vec<&str> = first.iter().map(|outcome| outcome.source_id.as_str()).collect();
        let sent: Vec<&str> = records.iter().map(|record| record.source_id.as_str()).collect();
        if echoed != sent {
            return Err(format!("outcomes are not one per record in order: sent {sent:?}, got {echoed:?}"));
        }
        if let Some(rejected) = first.iter().find(|outcome| matches!(outcome.result, WriteResult::Rejected { .. })) {
            return Err(format!("a valid sample record was rejected: {rejected:?}"));
        }
        // The second time through `stage` and `write_staged`, the way the host
        // writes, so both paths are held to the same rule.
        let payload = cutover_abi::wire::encode(records).map_err(|error| format!("encode: {error}"))?;
        let second = kit
            .client
            .stage(handle, &payload)
            .and_then(|token| kit.client.write_staged(handle, stream, token))
            .map_err(|error| format!("second write (staged): {}", describe_error(&error)))?;
        let created_again: Vec<&str> = second
            .iter()
            .filter(|outcome| matches!(outcome.result, WriteResult::Created { .. }))
            .map(|outcome| outcome.source_id.as_str())
            .collect();
        if !created_again.is_empty() {
            return Err(format!("the second write created again: {created_again:?}"));
        }
        Ok(())
    })();
    let closed = kit.client.close(handle).map_err(|error| format!("close: {}", describe_error(&error)));
    outcome.and(closed)
}

/// Writes first the sample records that `records` reference in the plugin's
/// other destination streams, and points the references at their target ids,
/// as the host does through its id map: a platform that checks references
/// (a subscription's list must exist) then sees real ones. References to
/// kinds the plugin does not write, or to the stream's own kind, are left.
fn write_referenced_records(
    kit: &Kit,
    handle: cutover_abi::ffi::Handle,
    metadata: &PluginMetadata,
    records: &mut [Record],
) -> Result<(), String> {
    let own: HashSet<_> = records.iter().map(|record| record.entity.kind()).collect();
    let kinds: std::collections::BTreeSet<_> = records
        .iter()
        .flat_map(|record| record.entity.references())
        .map(|(_, reference)| reference.entity)
        .filter(|kind| !own.contains(kind))
        .collect();
    for kind in kinds {
        let Some(target) = metadata.streams.iter().find(|stream| stream.entity == kind && stream.direction.can_write())
        else {
            continue;
        };
        let referenced = samples::records(kind, records.len(), &kit.email_domain);
        let outcomes = kit
            .client
            .write(handle, &target.name, &referenced)
            .map_err(|error| format!("writing the `{}` records referenced: {}", target.name, describe_error(&error)))?;
        let targets: std::collections::HashMap<_, _> = outcomes
            .into_iter()
            .filter_map(|outcome| match outcome.result {
                WriteResult::Created { target_id }
                | WriteResult::Updated { target_id }
                | WriteResult::Unchanged { target_id } => Some((outcome.source_id, target_id)),
                WriteResult::Rejected { .. } => None,
            })
            .collect();
        for record in records.iter_mut() {
            for (_, reference) in record.entity.references_mut() {
                if reference.entity == kind
                    && let Some(target_id) = targets.get(&reference.source_id)
                {
                    reference.source_id = target_id.clone();
                }
            }
        }
    }
    Ok(())
}

/// Everything a read gives: its records in order, and its rejects (by
/// location) in order. How the two interleave is not observable: a batch
/// holds them apart, and the host commits a batch whole.
#[derive(Debug, Default, PartialEq)]
struct Items {
    records: Vec<Record>,
    rejects: Vec<String>,
}

impl Items {
    fn len(&self) -> usize {
        self.records.len() + self.rejects.len()
    }

    /// What follows the first `records` records and `rejects` rejects.
    fn after(&self, (records, rejects): Position) -> Items {
        Items {
            records: self.records.get(records..).unwrap_or_default().to_vec(),
            rejects: self.rejects.get(rejects..).unwrap_or_default().to_vec(),
        }
    }
}

/// Records and rejects read before a cursor.
type Position = (usize, usize);

/// A cursor seen during a read, with what came before it.
type ResumePoint = (Position, String);

fn read_all(
    kit: &Kit,
    stream: &str,
    from: Option<String>,
    batch_size: u32,
) -> Result<(Items, Vec<ResumePoint>), String> {
    let handle = kit.open(&kit.config).map_err(|error| format!("open: {}", describe_error(&error)))?;
    let mut items = Items::default();
    let mut cursors = Vec::new();
    let mut cursor = from;
    let outcome = loop {
        let batch: ReadBatch = match kit.client.read(handle, stream, cursor.as_deref(), batch_size) {
            Ok(batch) => batch,
            Err(error) => break Err(format!("read after cursor {cursor:?}: {}", describe_error(&error))),
        };
        let size = batch.records.len() + batch.rejects.len();
        if size > batch_size as usize {
            break Err(format!("asked for {batch_size} items, got {size}"));
        }
        items.records.extend(batch.records);
        items.rejects.extend(batch.rejects.into_iter().map(|reject| reject.location));
        if batch.done {
            break Ok(());
        }
        if size == 0 && batch.next_cursor == cursor {
            break Err(format!("an empty batch that is not done left the cursor at {cursor:?}: the read would loop"));
        }
        cursor = batch.next_cursor;
        if let Some(position) = &cursor {
            cursors.push(((items.records.len(), items.rejects.len()), position.clone()));
        }
        if items.len() > 10_000_000 {
            break Err("more than 10,000,000 items without `done`".into());
        }
    };
    let closed = kit.client.close(handle).map_err(|error| format!("close: {}", describe_error(&error)));
    outcome.and(closed)?;
    Ok((items, cursors))
}

fn reads_resume_exactly(kit: &Kit, stream: &str) -> Result<(), String> {
    let (whole, _) = read_all(kit, stream, None, 10_000)?;
    let (batched, cursors) = read_all(kit, stream, None, kit.batch_size)?;
    if batched != whole {
        return Err(format!("read in batches of {} differs from one large read", kit.batch_size));
    }
    let mut ids = HashSet::new();
    for record in &whole.records {
        if !ids.insert((&record.source_platform, record.entity.kind(), &record.source_id)) {
            return Err(format!("source id `{}` is read twice", record.source_id));
        }
    }
    let step = cursors.len().div_ceil(kit.max_resume_points).max(1);
    for (position, cursor) in cursors.iter().step_by(step) {
        let (rest, _) = read_all(kit, stream, Some(cursor.clone()), kit.batch_size)?;
        let expected = whole.after(*position);
        if rest != expected {
            return Err(format!(
                "a read resumed from cursor `{cursor}` gives {} records and {} rejects, expected the {} and {} after \
                 record {} and reject {}",
                rest.records.len(),
                rest.rejects.len(),
                expected.records.len(),
                expected.rejects.len(),
                position.0,
                position.1
            ));
        }
    }
    Ok(())
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
