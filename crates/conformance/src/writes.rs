//! The write checks of one destination stream: a first write, the platform
//! read back, the same batch again from a new instance, read back again.

use crate::checks::{Report, describe_error};
use crate::reads::{Expectation, Items, names, plural, quoted, read_all, sample};
use crate::{Kit, Leeway, fields, samples};
use cutover_abi::ffi::Handle;
use cutover_contract::metadata::{PluginMetadata, StreamInfo};
use cutover_contract::wire::{WriteOutcome, WriteResult};
use cutover_schema::Record;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The guarantee a first write holds to.
pub(crate) const WRITES_ACCEPTED: &str = "a write accepts every valid record with one outcome each, in order";
/// The guarantee a read-back after a write holds to.
pub(crate) const WRITES_STORED: &str = "writes are stored";
/// The guarantee a second write of the same batch holds to.
pub(crate) const NEW_INSTANCE_WRITE: &str = "a write from a new instance creates nothing and keeps target ids";
/// The guarantee a read-back after the second write holds to.
pub(crate) const NEW_INSTANCE_CHANGES_NOTHING: &str = "a write from a new instance changes nothing";
/// Instances are closed after the writes.
const CLOSES: &str = "a writing instance closes without error";

/// The check's full name: the stream, then the guarantee.
pub(crate) fn check_name(stream: &str, guarantee: &str) -> String {
    format!("stream `{stream}`: {guarantee}")
}

fn target_id(result: &WriteResult) -> Option<&str> {
    match result {
        WriteResult::Created { target_id }
        | WriteResult::Updated { target_id }
        | WriteResult::Unchanged { target_id } => Some(target_id.as_str()),
        WriteResult::Rejected { .. } => None,
    }
}

/// Runs the write checks of `stream` into `report`; for a stream the
/// plugin also reads, returns what the kit now knows it must read: the
/// records it wrote, by target id.
pub(crate) fn check_stream(
    kit: &Kit,
    metadata: &PluginMetadata,
    stream: &StreamInfo,
    report: &mut Report,
) -> Option<Expectation> {
    let name = stream.name.as_str();
    let two_way = stream.direction.can_read();
    let records = samples::records(stream.entity, 3 * kit.batch_size as usize + 2, &kit.email_domain);
    let first = match kit.open(&kit.config) {
        Ok(handle) => handle,
        Err(error) => {
            report.record(check_name(name, WRITES_ACCEPTED), Err(format!("open: {}", describe_error(&error))));
            return None;
        }
    };
    let outcome = first_write(kit, first, metadata, name, records);
    let (records, targets) = match outcome {
        Ok(written) => {
            report.record(check_name(name, WRITES_ACCEPTED), Ok(()));
            written
        }
        Err(problem) => {
            report.record(check_name(name, WRITES_ACCEPTED), Err(problem));
            close(kit, first, name, report);
            return None;
        }
    };
    let expectation = Expectation {
        required: targets.iter().flatten().cloned().collect(),
        others_allowed: true,
        count: None,
        origin: format!("the {} the kit wrote", plural(records.len(), "record")),
    };
    let leeway = kit.leeway.get(name).cloned().unwrap_or_default();
    // Read back through a new instance while the writing one stays open, as
    // after a writer killed before it could close: what it acknowledged
    // must be there.
    let stored = two_way.then(|| {
        let read = read_all(kit, name, None, 10_000).map(|(items, _)| items);
        let judged = read.as_ref().map_err(Clone::clone).and_then(|items| {
            let (outcome, used) = judge_stored(name, &records, &targets, items, &leeway);
            note_leeway(report, name, &leeway, &used);
            outcome
        });
        report.record(check_name(name, WRITES_STORED), judged);
        read.ok()
    });
    report.record(check_name(name, NEW_INSTANCE_WRITE), second_write(kit, name, &records, &targets));
    if let Some(Some(before)) = stored {
        let after = read_all(kit, name, None, 10_000).map(|(items, _)| items);
        report.record(
            check_name(name, NEW_INSTANCE_CHANGES_NOTHING),
            after.and_then(|after| judge_unchanged(&before, &after)),
        );
    }
    close(kit, first, name, report);
    if !two_way && (!leeway.not_kept.is_empty() || !leeway.rewrites.is_empty()) {
        report.notes.push(format!(
            "stream `{name}`: fields declared not kept or rewritten have no effect, the kit does not read the stream \
             back"
        ));
    }
    two_way.then_some(expectation)
}

fn close(kit: &Kit, handle: Handle, stream: &str, report: &mut Report) {
    let closed = kit.client.close(handle).map_err(|error| format!("close: {}", describe_error(&error)));
    report.record(check_name(stream, CLOSES), closed);
}

/// The first write, through `handle`: the referenced records first, then the
/// stream's. Returns the records as written (references pointed at target
/// ids) and the target id of each (`None` where it was rejected).
fn first_write(
    kit: &Kit,
    handle: Handle,
    metadata: &PluginMetadata,
    stream: &str,
    mut records: Vec<Record>,
) -> Result<(Vec<Record>, Vec<Option<String>>), String> {
    write_referenced_records(kit, handle, metadata, &mut records)?;
    let outcomes =
        kit.client.write(handle, stream, &records).map_err(|error| format!("write: {}", describe_error(&error)))?;
    echoes_in_order(&records, &outcomes)?;
    if let Some(rejected) = outcomes.iter().find(|outcome| matches!(outcome.result, WriteResult::Rejected { .. })) {
        return Err(format!("a valid sample record was rejected: {rejected:?}"));
    }
    let targets = outcomes.iter().map(|outcome| target_id(&outcome.result).map(str::to_owned)).collect();
    Ok((records, targets))
}

fn echoes_in_order(records: &[Record], outcomes: &[WriteOutcome]) -> Result<(), String> {
    let echoed: Vec<&str> = outcomes.iter().map(|outcome| outcome.source_id.as_str()).collect();
    let sent: Vec<&str> = records.iter().map(|record| record.source_id.as_str()).collect();
    if echoed != sent {
        return Err(format!("outcomes are not one per record in order: sent {sent:?}, got {echoed:?}"));
    }
    Ok(())
}

/// The same batch again, from a new instance, staged as the host writes it.
fn second_write(kit: &Kit, stream: &str, records: &[Record], targets: &[Option<String>]) -> Result<(), String> {
    let handle = kit.open(&kit.config).map_err(|error| format!("open a new instance: {}", describe_error(&error)))?;
    let outcome = (|| {
        let payload = cutover_contract::wire::encode(records).map_err(|error| format!("encode: {error}"))?;
        let outcomes = kit
            .client
            .stage(handle, &payload)
            .and_then(|token| kit.client.write_staged(handle, stream, token))
            .map_err(|error| format!("the write from a new instance (staged): {}", describe_error(&error)))?;
        echoes_in_order(records, &outcomes)?;
        let mut problems = Vec::new();
        let created: Vec<String> = outcomes
            .iter()
            .filter(|outcome| matches!(outcome.result, WriteResult::Created { .. }))
            .map(|outcome| outcome.source_id.to_string())
            .collect();
        if !created.is_empty() {
            problems.push(format!("{} created again: {}", plural(created.len(), "record"), quoted(&created)));
        }
        let rejected: Vec<String> = outcomes
            .iter()
            .filter(|outcome| matches!(outcome.result, WriteResult::Rejected { .. }))
            .map(|outcome| outcome.source_id.to_string())
            .collect();
        if !rejected.is_empty() {
            problems.push(format!(
                "{} accepted the first time rejected the second: {}",
                plural(rejected.len(), "record"),
                quoted(&rejected)
            ));
        }
        let moved: Vec<String> = outcomes
            .iter()
            .zip(targets)
            .filter_map(|(outcome, first)| {
                let second = target_id(&outcome.result)?;
                let first = first.as_deref()?;
                (first != second).then(|| format!("`{}`: `{first}` then `{second}`", outcome.source_id))
            })
            .collect();
        if !moved.is_empty() {
            problems.push(format!("{} got another target id: {}", plural(moved.len(), "record"), sample(&moved)));
        }
        if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
    })();
    let closed = kit.client.close(handle).map_err(|error| format!("close: {}", describe_error(&error)));
    outcome.and(closed)
}

/// What the declared leeway let through in a read-back: per declared-not-kept
/// path that covered a written field, whether it read back equal anyway;
/// and the declared rewrites (by index) that let a value through.
#[derive(Debug, Default)]
struct LeewayUsed {
    skipped: BTreeMap<String, bool>,
    rewritten: BTreeSet<usize>,
}

/// Whether every record written to `stream` reads back exactly once with
/// every field it was written with, given the declared `leeway`.
fn judge_stored(
    stream: &str,
    records: &[Record],
    targets: &[Option<String>],
    read: &Items,
    leeway: &Leeway,
) -> (Result<(), String>, LeewayUsed) {
    let mut missing = Vec::new();
    let mut repeated = Vec::new();
    let mut differing = Vec::new();
    let mut differing_paths = BTreeSet::new();
    let mut used = LeewayUsed::default();
    for (record, target) in records.iter().zip(targets) {
        let Some(target) = target else { continue };
        let found: Vec<&Record> = read.records.iter().filter(|read| names(target, read)).collect();
        match found.as_slice() {
            [] => missing.push(format!("`{}` (target id `{target}`)", record.source_id)),
            [one] => {
                let comparison = fields::compare(record, one, leeway);
                for (path, equal) in comparison.skipped {
                    *used.skipped.entry(path).or_insert(true) &= equal;
                }
                used.rewritten.extend(comparison.rewritten);
                differing_paths.extend(comparison.differences.iter().map(|difference| difference.path.clone()));
                if !comparison.differences.is_empty() {
                    let shown: Vec<String> = comparison.differences.iter().take(4).map(ToString::to_string).collect();
                    let more = comparison.differences.len().saturating_sub(shown.len());
                    let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                    differing.push(format!("`{}`: {}{more}", record.source_id, shown.join(", ")));
                }
            }
            many => repeated.push(format!("`{}` (target id `{target}`) {} times", record.source_id, many.len())),
        }
    }
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "{} acknowledged by the write {} not read back: {}",
            plural(missing.len(), "record"),
            if missing.len() == 1 { "is" } else { "are" },
            sample(&missing)
        ));
    }
    if !repeated.is_empty() {
        problems.push(format!("{} read back more than once: {}", plural(repeated.len(), "record"), sample(&repeated)));
    }
    if !differing.is_empty() {
        let quoted: Vec<String> = differing_paths.iter().map(|path| format!("\"{path}\"")).collect();
        problems.push(format!(
            "{} read back with fields other than written: {} (if the platform does not keep a field, or stores a \
             value as another, declare it with Kit::fields_not_kept(\"{stream}\", &[{}]) or Kit::rewrites and say \
             why)",
            plural(differing.len(), "record"),
            differing.iter().take(3).cloned().collect::<Vec<_>>().join("; "),
            quoted.join(", ")
        ));
    }
    (if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }, used)
}

/// Notes what the read-back comparison skipped or let through, so it is
/// visible.
fn note_leeway(report: &mut Report, stream: &str, leeway: &Leeway, used: &LeewayUsed) {
    if !leeway.not_kept.is_empty() {
        let described: Vec<String> = leeway
            .not_kept
            .iter()
            .map(|path| match used.skipped.get(path) {
                None => format!("`{path}` (the kit writes no such field)"),
                Some(true) => format!("`{path}` (read back equal all the same: kept after all?)"),
                Some(false) => format!("`{path}`"),
            })
            .collect();
        report.notes.push(format!(
            "stream `{stream}`: fields declared not kept, not compared when read back: {}",
            described.join(", ")
        ));
    }
    for (index, rewrite) in leeway.rewrites.iter().enumerate() {
        let unused = if used.rewritten.contains(&index) { "" } else { " (no record needed it)" };
        report.notes.push(format!(
            "stream `{stream}`: `{}` written {} is accepted read back as {}, declared with Kit::rewrites{unused}",
            rewrite.path, rewrite.written, rewrite.read
        ));
    }
}

/// Whether the stream reads the same after the second write as before it.
fn judge_unchanged(before: &Items, after: &Items) -> Result<(), String> {
    let mut problems = Vec::new();
    if before.records.len() != after.records.len() {
        problems.push(format!(
            "the stream held {} before and {} after",
            plural(before.records.len(), "record"),
            after.records.len()
        ));
    }
    if before.rejects.len() != after.rejects.len() {
        problems.push(format!("it read {} rejects before and {} after", before.rejects.len(), after.rejects.len()));
    }
    let key =
        |record: &Record| (record.source_platform.to_string(), record.entity.kind(), record.source_id.to_string());
    let earlier: HashMap<_, &Record> = before.records.iter().map(|record| (key(record), record)).collect();
    let mut seen = HashSet::new();
    let mut new = Vec::new();
    let mut changed = Vec::new();
    for record in &after.records {
        let id = key(record);
        match earlier.get(&id) {
            None => new.push(record.source_id.to_string()),
            Some(old) if *old != record => {
                let old_fields = fields::of(old);
                let new_fields = fields::of(record);
                let mut paths: Vec<String> = old_fields
                    .keys()
                    .chain(new_fields.keys())
                    .filter(|path| old_fields.get(*path) != new_fields.get(*path))
                    .cloned()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if old.updated_at != record.updated_at {
                    paths.push("updated_at".into());
                }
                changed.push(format!("`{}` ({})", record.source_id, paths.join(", ")));
            }
            Some(_) => {}
        }
        seen.insert(id);
    }
    let gone: Vec<String> = before
        .records
        .iter()
        .filter(|record| !seen.contains(&key(record)))
        .map(|record| record.source_id.to_string())
        .collect();
    if !new.is_empty() {
        problems.push(format!("{} appeared: {}", plural(new.len(), "record"), quoted(&new)));
    }
    if !gone.is_empty() {
        problems.push(format!("{} disappeared: {}", plural(gone.len(), "record"), quoted(&gone)));
    }
    if !changed.is_empty() {
        problems.push(format!("{} changed: {}", plural(changed.len(), "record"), sample(&changed)));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

/// Writes first the sample records that `records` reference in the plugin's
/// other destination streams, and points the references at their target ids,
/// as the host does through its id map: a platform that checks references
/// (a subscription's list must exist) then sees real ones. References to
/// kinds the plugin does not write, or to the stream's own kind, are left.
fn write_referenced_records(
    kit: &Kit,
    handle: Handle,
    metadata: &PluginMetadata,
    records: &mut [Record],
) -> Result<(), String> {
    let own: HashSet<_> = records.iter().map(|record| record.entity.kind()).collect();
    let kinds: BTreeSet<_> = records
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
        let targets: HashMap<_, _> = outcomes
            .into_iter()
            .filter_map(|outcome| {
                target_id(&outcome.result).map(|target| (outcome.source_id.clone(), target.to_owned()))
            })
            .collect();
        for record in records.iter_mut() {
            for (_, reference) in record.entity.references_mut() {
                if reference.entity == kind
                    && let Some(target_id) = targets.get(&reference.source_id)
                {
                    reference.source_id = target_id.as_str().into();
                }
            }
        }
    }
    Ok(())
}
