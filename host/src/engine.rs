//! Moving one stream: a reader thread pulls batches from the source, maps
//! them ([`crate::mapping`]), rewrites their references through the id map
//! ([`crate::references`]), validates what the mapping changed, and stages
//! them for the destination (for a plugin: decodes them in it), into a
//! bounded channel (backpressure: memory stays constant however large the
//! source); the calling thread writes them, keeps the accounting, and commits
//! each acknowledged batch to the state store with its checkpoint, id-map
//! entries and rejects in one transaction. Staging on the reader's thread
//! keeps the boundary's decoding off the writer's, the busier one in a file or
//! API load.
//!
//! A batch that needs none of that (no mapping rules, no references) is never
//! decoded in the host: the source's bytes go to the destination as they are.
//!
//! Records that reference their own stream's kind (a partner's parent) are
//! held back in the state store with their batch, and written after the
//! stream's last batch by its second pass, parents first.
//!
//! A stream resumes from its last committed checkpoint, with its counts: a
//! batch written but not committed before a crash is read and written again,
//! and the destination's upsert makes that a no-op, so the run ends with no
//! duplicate and no gap.
//!
//! The accounting is counted where it happens: `read` is what the source
//! returned (records and the items it could not read), counted on the reader
//! thread as each batch arrives, before the host maps anything; `created`,
//! `updated`, `unchanged` and destination rejects are the destination's
//! outcomes; `rejected` and `skipped` also count what the host set aside. A
//! stream that ran to its end (second pass included) must balance, `read =
//! created + updated + unchanged + rejected + skipped`; one that does not is
//! [`StreamStatus::Unbalanced`], with the difference named, since a record
//! lost (or doubled) between the read and the write is exactly what the
//! accounting is there to catch.
//!
//! [`request_stop`] (Ctrl-C) stops a stream after the batch it is committing;
//! the stream ends [`StreamStatus::Interrupted`], unfinished, and resumes from
//! that checkpoint.
//!
//! Plugins are called only from these dedicated threads; the boundary is
//! blocking. A plugin error (a panic caught at the boundary included) ends the
//! stream as failed with the plugin and stream named; it never takes the host
//! down.

use crate::consent::ConsentTally;
use crate::mapping::{Mapped, StreamMapping};
use crate::plugin::{BatchDestination, BatchSource, BatchStager, RecordBatch, StagedBatch, wire_error};
use crate::references::{ReferenceRewriter, Rewritten, SecondPass};
use crate::report::{StreamReport, StreamStatus};
use crate::state::{BatchCommit, DeferredRecord, IdMapEntry, RejectEntry, StateError, StateStore, StreamProgress};
use cutover_contract::PluginError;
use cutover_contract::wire::{EncodedRecords, RejectReason, SourceReject, WriteOutcome, WriteResult};
use cutover_schema::{EntityKind, Record};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

/// Batches read ahead of the writer. Small: enough to keep both threads busy.
const READ_AHEAD: usize = 4;

/// Set once a stop was asked for; every stream checks it after each commit.
static STOP: AtomicBool = AtomicBool::new(false);

/// Asks every running stream of this process to stop after the batch it is
/// committing (what a Ctrl-C does). The stream then ends
/// [`StreamStatus::Interrupted`], its run open to be resumed.
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// Whether [`request_stop`] was called.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// One stream to move.
#[derive(Debug, Clone)]
pub struct StreamPlan {
    /// The source plugin's name, for messages; also the platform the id map
    /// files source ids under.
    pub source_plugin: String,
    /// The stream read.
    pub source_stream: String,
    /// The canonical entity the stream carries, for the id map.
    pub entity: EntityKind,
    /// The destination plugin's name, for messages.
    pub destination_plugin: String,
    /// The stream written.
    pub destination_stream: String,
    /// Records per read.
    pub batch_size: u32,
    /// The stream's mapping rules.
    pub mapping: StreamMapping,
    /// The kinds the whole migration moves: references to them are rewritten.
    pub migrated: HashSet<EntityKind>,
}

impl StreamPlan {
    /// `source → destination`, as reports name the stream.
    pub fn name(&self) -> String {
        if self.source_stream == self.destination_stream {
            self.source_stream.clone()
        } else {
            format!("{} → {}", self.source_stream, self.destination_stream)
        }
    }
}

fn describe_failure(plugin: &str, stream: &str, operation: &str, error: &PluginError) -> String {
    let mut text =
        format!("{operation} of stream `{stream}` by plugin `{plugin}` failed ({}): {}", error.code, error.message);
    if let Some(record) = &error.record_id {
        text.push_str(&format!(" (record {record})"));
    }
    if let Some(help) = &error.help {
        text.push_str(&format!("; help: {help}"));
    }
    text
}

/// The records of a batch as the source gave them: kept as bytes (a copy,
/// not a decode) and decoded only if one must be stored whole, as a reject.
#[derive(Default)]
struct Originals {
    encoded: Option<EncodedRecords>,
    decoded: Option<Vec<Record>>,
}

impl Originals {
    fn new(encoded: Option<EncodedRecords>) -> Originals {
        Originals { encoded, decoded: None }
    }

    /// The record at `index` as JSON.
    fn raw(&mut self, index: usize) -> Option<String> {
        let encoded = &self.encoded;
        let records = self
            .decoded
            .get_or_insert_with(|| encoded.as_ref().and_then(|bytes| bytes.decode().ok()).unwrap_or_default());
        records.get(index).and_then(|record| serde_json::to_string(record).ok())
    }
}

/// What the reader thread hands the writer: a batch read, mapped and staged
/// for the destination.
#[derive(Default)]
struct StagedRead {
    /// Items the source returned in this batch (its records and its
    /// rejects), counted as the batch arrived, before the host touched it.
    read_from_source: u64,
    batch: Option<StagedBatch>,
    originals: Originals,
    /// For each staged record, its index in the batch read (when the host
    /// left some out); `None` when they are the same.
    positions: Option<Vec<u32>>,
    rejects: Vec<SourceReject>,
    deferred: Vec<DeferredRecord>,
    skipped: u64,
    /// Memberships' consent as read and as staged.
    consent: ConsentTally,
    next_cursor: Option<String>,
}

/// Why the reader thread stopped early.
enum ReadFailure {
    /// The source failed to read.
    Read(PluginError),
    /// The destination failed to stage what was read.
    Stage(PluginError),
    /// The id map could not be read.
    State(StateError),
}

/// What the reader does to each record between read and stage.
struct Transform<'a> {
    mapping: &'a StreamMapping,
    rewriter: Option<ReferenceRewriter>,
    /// Hold back what is not a suppression until the second pass.
    hold_subscriptions: bool,
}

impl Transform<'_> {
    fn is_identity(&self) -> bool {
        self.mapping.is_identity() && self.rewriter.is_none()
    }

    /// Maps, rewrites and validates a batch, setting aside what is skipped,
    /// rejected or held back; returns the records to write.
    fn apply(&mut self, stream: &str, records: Vec<Record>, read: &mut StagedRead) -> Result<Vec<Record>, StateError> {
        let mut kept = Vec::with_capacity(records.len());
        let mut positions = Vec::with_capacity(records.len());
        for (index, record) in records.into_iter().enumerate() {
            let source_id = record.source_id.clone();
            let read_consent = crate::consent::consent_of(&record).filter(|_| !self.mapping.is_identity()).cloned();
            let reject = |read: &mut StagedRead, code: &str, message: String| {
                read.rejects.push(SourceReject {
                    location: format!("{stream} record {source_id}"),
                    raw: read.originals.raw(index).unwrap_or_else(|| format!("{{\"source_id\":{source_id:?}}}")),
                    reason: RejectReason::new(code, message),
                });
            };
            let mut record = match self.mapping.apply(record) {
                Mapped::Keep(record) => record,
                Mapped::Skip(reason) => {
                    tracing::debug!(source_id = %source_id, reason = %reason, "Record skipped.");
                    read.skipped += 1;
                    continue;
                }
                Mapped::Reject { code, message } => {
                    reject(read, code, message);
                    continue;
                }
            };
            let restored = crate::consent::guard_record(read_consent.as_ref(), &mut record);
            if !restored.is_empty() {
                tracing::warn!(source_id = %source_id, channels = ?restored, "The mapping would have raised consent; kept as read.");
            }
            if !self.mapping.is_identity()
                && let Err(invalid) = cutover_schema::validate::validate(&record)
            {
                reject(read, invalid.reason().as_str(), invalid.to_string());
                continue;
            }
            if let Some(rewriter) = &mut self.rewriter {
                let rewritten = match rewriter.rewrite(&mut record)? {
                    Rewritten::Ready if self.hold_subscriptions && !is_suppression(&record) => Rewritten::Deferred,
                    other => other,
                };
                match rewritten {
                    Rewritten::Ready => {}
                    Rewritten::Deferred => {
                        count_consent(&mut read.consent, read_consent.as_ref(), &record);
                        // Only a record with own-kind references can be rejected by
                        // the second pass, and so needs its original kept.
                        let original = if rewriter.references_own_kind(&record) {
                            read.originals.raw(index).unwrap_or_default()
                        } else {
                            String::new()
                        };
                        read.deferred.push(DeferredRecord {
                            source_id: source_id.to_string(),
                            record: serde_json::to_string(&record).unwrap_or_default(),
                            original,
                        });
                        continue;
                    }
                    Rewritten::Unresolved(message) => {
                        reject(read, "unresolved_reference", message);
                        continue;
                    }
                }
            }
            count_consent(&mut read.consent, read_consent.as_ref(), &record);
            kept.push(record);
            positions.push(u32::try_from(index).unwrap_or(u32::MAX));
        }
        read.positions = Some(positions);
        Ok(kept)
    }
}

/// Counts a membership's consent as read (`read_consent`, or the record's
/// own when the mapping left it alone) and as it goes to the destination.
fn count_consent(tally: &mut ConsentTally, read_consent: Option<&cutover_schema::Consent>, record: &Record) {
    if let Some(written) = crate::consent::consent_of(record) {
        tally.count(read_consent.unwrap_or(written), written);
    }
}

/// Reads every batch of the stream from `cursor`, transforms it and stages
/// it for the destination, until the source is done, something fails, or the
/// writer hangs up.
fn read_and_stage(
    source: &mut dyn BatchSource,
    stager: &dyn BatchStager,
    plan: &StreamPlan,
    mut transform: Transform<'_>,
    mut cursor: Option<String>,
    sender: &crossbeam_channel::Sender<Result<StagedRead, ReadFailure>>,
) {
    loop {
        let batch = match source.read(&plan.source_stream, cursor.as_deref(), plan.batch_size) {
            Ok(batch) => batch,
            Err(error) => {
                let _ = sender.send(Err(ReadFailure::Read(error)));
                return;
            }
        };
        let stalled = batch.records.is_empty() && batch.rejects.is_empty() && batch.next_cursor == cursor;
        let stop = batch.done || stalled;
        cursor.clone_from(&batch.next_cursor);
        let item = stage_batch(stager, plan, &mut transform, batch);
        let failed = item.is_err();
        // The writer hung up: it failed and no longer wants batches.
        if sender.send(item).is_err() || stop || failed {
            return;
        }
    }
}

fn stage_batch(
    stager: &dyn BatchStager,
    plan: &StreamPlan,
    transform: &mut Transform<'_>,
    batch: crate::plugin::SourceBatch,
) -> Result<StagedRead, ReadFailure> {
    let stream = &plan.source_stream;
    let read_from_source = (batch.records.len() + batch.rejects.len()) as u64;
    let mut read = StagedRead {
        read_from_source,
        rejects: batch.rejects,
        next_cursor: batch.next_cursor,
        ..StagedRead::default()
    };
    let mut records = batch.records;
    if !records.is_empty() && !transform.is_identity() {
        let encoded = records.into_encoded().map_err(|error| ReadFailure::Read(wire_error(stream, &error)))?;
        let decoded = encoded.decode().map_err(|error| ReadFailure::Read(wire_error(stream, &error)))?;
        read.originals = Originals::new(Some(encoded));
        records = RecordBatch::Decoded(transform.apply(stream, decoded, &mut read).map_err(ReadFailure::State)?);
    } else if let RecordBatch::Encoded(encoded) = &records {
        // A copy of the bytes (not a decode), so a rejected record can be stored whole.
        read.originals = Originals::new(Some(encoded.clone()));
    }
    if !records.is_empty() {
        read.batch = Some(stager.stage(&plan.destination_stream, records).map_err(ReadFailure::Stage)?);
    }
    Ok(read)
}

/// One stream of one run: the plan, where it starts, and where progress goes.
pub struct StreamRun<'a> {
    /// What to move.
    pub plan: &'a StreamPlan,
    /// The run it belongs to.
    pub run_id: &'a str,
    /// The last committed checkpoint (empty to start from the beginning).
    pub start: StreamProgress,
    /// Where each acknowledged batch is committed.
    pub state: &'a mut dyn StateStore,
    /// Told the stream's accounting after each committed batch (progress display).
    pub on_batch: &'a mut dyn FnMut(&StreamReport),
    /// Whether the source is the rejects ledger (`cutover rejects replay`):
    /// then each commit marks the rejects it took.
    pub replay: bool,
}

/// Moves every record of one stream from `source` to `destination`: a
/// reader thread reads and stages batches, this thread writes and commits
/// them. Returns the stream's accounting, which includes what earlier,
/// interrupted attempts of the same run committed.
pub fn run_stream(
    source: &mut dyn BatchSource,
    destination: &mut dyn BatchDestination,
    run: StreamRun<'_>,
) -> StreamReport {
    let plan = run.plan;
    let span = tracing::info_span!("stream", stream = %plan.name(), source = %plan.source_plugin, destination = %plan.destination_plugin);
    let _entered = span.enter();
    let mut progress = run.start;
    progress.report.name = plan.name();
    progress.report.status = StreamStatus::Completed;
    progress.report.error = None;
    let (sender, receiver) = crossbeam_channel::bounded::<Result<StagedRead, ReadFailure>>(READ_AHEAD);
    let stager = destination.stager();
    let start_cursor = progress.cursor.clone();
    let rewriter = match rewriter_for(plan, run.state) {
        Ok(rewriter) => rewriter,
        Err(error) => {
            fail(&mut progress.report, format!("cannot read the id map: {error}"));
            return progress.report;
        }
    };
    let transform =
        Transform { mapping: &plan.mapping, rewriter, hold_subscriptions: holds_subscriptions(plan.entity) };
    let commit = Commit { plan, run_id: run.run_id, replay: run.replay };
    let mut interrupted = stop_requested();
    if interrupted {
        progress.report.status = StreamStatus::Interrupted;
        return progress.report;
    }
    std::thread::scope(|scope| {
        scope.spawn(move || read_and_stage(source, stager.as_ref(), plan, transform, start_cursor, &sender));
        for item in receiver.iter() {
            let read = match item {
                Ok(read) => read,
                Err(ReadFailure::Read(error)) => {
                    fail(
                        &mut progress.report,
                        describe_failure(&plan.source_plugin, &plan.source_stream, "read", &error),
                    );
                    break;
                }
                Err(ReadFailure::Stage(error)) => {
                    let message = describe_failure(&plan.destination_plugin, &plan.destination_stream, "write", &error);
                    fail(&mut progress.report, message);
                    break;
                }
                Err(ReadFailure::State(error)) => {
                    fail(&mut progress.report, format!("cannot read the id map: {error}"));
                    break;
                }
            };
            if let Err(message) = commit.write(destination, run.state, &mut progress, read) {
                fail(&mut progress.report, message);
                break;
            }
            (run.on_batch)(&progress.report);
            if stop_requested() {
                interrupted = true;
                break;
            }
        }
        // Dropping the receiver unblocks a reader waiting to send.
        drop(receiver);
    });
    if progress.report.status == StreamStatus::Completed && !interrupted {
        match commit.second_pass(destination, run.state, &mut progress, run.on_batch) {
            Ok(Pass::Done) => {}
            Ok(Pass::Interrupted) => interrupted = true,
            Err(message) => fail(&mut progress.report, message),
        }
    }
    if interrupted && progress.report.status == StreamStatus::Completed {
        // Not finished: the run resumes from the last committed batch.
        tracing::info!("Stream interrupted after a committed batch.");
        progress.report.status = StreamStatus::Interrupted;
        return progress.report;
    }
    if progress.report.status == StreamStatus::Completed
        && let Some(difference) = imbalance(&progress.report)
    {
        let held = run.state.deferred(run.run_id, &progress.report.name, None).map_or(0, |held| held.len());
        let held = match held {
            0 => String::new(),
            1 => "; 1 record held back for the second pass was never written".into(),
            held => format!("; {held} records held back for the second pass were never written"),
        };
        unbalanced(&mut progress.report, format!("{difference}{held}"));
    }
    progress.finished = true;
    if let Err(error) = run.state.finish_stream(run.run_id, &progress) {
        fail(&mut progress.report, format!("cannot record the end of the stream: {error}"));
    }
    progress.report
}

/// A stream's rewriter, or `None` when its records hold no references.
fn rewriter_for(plan: &StreamPlan, state: &dyn StateStore) -> Result<Option<ReferenceRewriter>, StateError> {
    ReferenceRewriter::for_stream(&plan.source_plugin, plan.entity, &plan.migrated, || state.id_lookup())
}

/// How a second pass ended.
enum Pass {
    /// Every held record was handled.
    Done,
    /// Stopped on request after a committed batch.
    Interrupted,
}

/// What the stream's accounting lacks (or has too much of) to balance, as
/// the sentence that says so; `None` when it balances.
fn imbalance(report: &StreamReport) -> Option<String> {
    let accounted = report.created + report.updated + report.unchanged + report.rejected + report.skipped;
    if accounted == report.read {
        return None;
    }
    let counts = format!(
        "created {}, updated {}, unchanged {}, rejected {}, skipped {}",
        report.created, report.updated, report.unchanged, report.rejected, report.skipped
    );
    let difference = if accounted < report.read {
        let missing = report.read - accounted;
        format!("{missing} {} unaccounted for", if missing == 1 { "item" } else { "items" })
    } else {
        let extra = accounted - report.read;
        format!("{extra} more {} than items read", if extra == 1 { "outcome" } else { "outcomes" })
    };
    Some(format!(
        "the accounting does not balance: the source returned {} items, but {accounted} are accounted for ({counts}): {difference}",
        report.read
    ))
}

/// Warns when a destination answered a batch with another number of
/// outcomes than the records it was given; the stream's balance shows it.
fn check_outcomes(plan: &StreamPlan, staged: usize, outcomes: usize) {
    if staged != outcomes {
        tracing::warn!(
            destination = %plan.destination_plugin,
            stream = %plan.destination_stream,
            staged,
            outcomes,
            "The destination answered {outcomes} outcomes for {staged} records."
        );
    }
}

/// Writes batches of one stream of one run and commits them.
struct Commit<'a> {
    plan: &'a StreamPlan,
    run_id: &'a str,
    replay: bool,
}

impl Commit<'_> {
    /// Writes one staged batch, counts its outcomes and commits it with its
    /// checkpoint. On failure, returns the message that fails the stream;
    /// nothing of the batch is committed then, so a later run writes it again.
    fn write(
        &self,
        destination: &mut dyn BatchDestination,
        state: &mut dyn StateStore,
        progress: &mut StreamProgress,
        mut read: StagedRead,
    ) -> Result<(), String> {
        let plan = self.plan;
        let mut next = progress.clone();
        let mut rejects: Vec<RejectEntry> = std::mem::take(&mut read.rejects)
            .into_iter()
            .map(|reject| {
                tracing::debug!(location = %reject.location, code = %reject.reason.code, reason = %reject.reason.message, "Source item rejected.");
                RejectEntry {
                    stream: plan.source_stream.clone(),
                    location: reject.location,
                    code: reject.reason.code,
                    message: reject.reason.message,
                    raw: reject.raw,
                }
            })
            .collect();
        let records = read.batch.as_ref().map_or(0, StagedBatch::len);
        // Counted at the source, not from what is left after mapping: a
        // record lost on the way must not balance.
        next.report.read += read.read_from_source;
        next.report.rejected += rejects.len() as u64;
        next.report.skipped += read.skipped;
        next.report.consent.add(&read.consent);
        let mut id_map = Vec::with_capacity(records);
        if let Some(batch) = read.batch.take() {
            let outcomes = destination.write(&plan.destination_stream, batch).map_err(|error| {
                describe_failure(&plan.destination_plugin, &plan.destination_stream, "write", &error)
            })?;
            check_outcomes(plan, records, outcomes.len());
            account(plan, &mut next.report, outcomes, &mut read, &mut id_map, &mut rejects);
            tracing::debug!(read = next.report.read, created = next.report.created, "Batch written.");
        }
        next.cursor = read.next_cursor;
        let replayed_through = if self.replay {
            next.cursor.as_deref().and_then(|id| id.parse().ok()).map(|id| (plan.source_stream.as_str(), id))
        } else {
            None
        };
        state
            .commit_batch(&BatchCommit {
                run_id: self.run_id,
                progress: &next,
                id_map,
                rejects: redacted(rejects),
                deferred: read.deferred,
                undeferred: Vec::new(),
                replayed_through,
            })
            .map_err(|error| format!("cannot record progress of stream `{}`: {error}", plan.name()))?;
        *progress = next;
        Ok(())
    }

    /// Writes the records the stream held back, each batch committed with
    /// the held records it releases. Their reads were counted when they were
    /// held; their outcomes are counted here. Records that reference their
    /// own stream go in waves, parents first; memberships held behind the
    /// suppressions go page by page, so memory stays bounded.
    fn second_pass(
        &self,
        destination: &mut dyn BatchDestination,
        state: &mut dyn StateStore,
        progress: &mut StreamProgress,
        on_batch: &mut dyn FnMut(&StreamReport),
    ) -> Result<Pass, String> {
        let plan = self.plan;
        let batch_size = usize::try_from(plan.batch_size).unwrap_or(usize::MAX);
        let stager = destination.stager();
        let mut rewriter = match rewriter_for(plan, state).map_err(cannot_read_held)? {
            Some(rewriter) => rewriter,
            None => return Ok(Pass::Done),
        };
        let mut held =
            Held { stager: stager.as_ref(), destination, state, progress, on_batch, rewriter: &mut rewriter };
        if holds_subscriptions(plan.entity) {
            loop {
                // Each committed batch releases its rows, so the next page starts the rest.
                let page = self.load_held(held.state, Some(batch_size))?;
                if page.is_empty() {
                    return Ok(Pass::Done);
                }
                self.write_held(&mut held, page, &[])?;
                if stop_requested() {
                    return Ok(Pass::Interrupted);
                }
            }
        }
        let loaded = self.load_held(held.state, None)?;
        if loaded.is_empty() {
            return Ok(Pass::Done);
        }
        tracing::info!(records = loaded.len(), "Second pass: writing the records that reference their own stream.");
        let mut originals: std::collections::HashMap<_, _> =
            loaded.iter().map(|(record, original)| (record.source_id.clone(), original.clone())).collect();
        let earlier_warnings = held.progress.report.warnings.clone();
        let mut pass = SecondPass::new(plan.entity, loaded.into_iter().map(|(record, _)| record));
        while let Some(mut wave) = pass.next_wave() {
            while !wave.is_empty() {
                let rest = wave.split_off(wave.len().min(batch_size));
                let batch = std::mem::replace(&mut wave, rest)
                    .into_iter()
                    .map(|record| {
                        let original = originals.remove(&record.source_id).unwrap_or_default();
                        (record, original)
                    })
                    .collect();
                let warnings: Vec<String> = earlier_warnings.iter().chain(pass.warnings()).cloned().collect();
                self.write_held(&mut held, batch, &warnings)?;
                if stop_requested() {
                    return Ok(Pass::Interrupted);
                }
            }
        }
        for warning in pass.warnings() {
            tracing::warn!(warning = %warning, "Reference left unset.");
        }
        Ok(Pass::Done)
    }

    /// Held records of the stream (up to `limit`), each with its original as JSON.
    fn load_held(&self, state: &dyn StateStore, limit: Option<usize>) -> Result<Vec<(Record, String)>, String> {
        let name = self.plan.name();
        let held = state.deferred(self.run_id, &name, limit).map_err(cannot_read_held)?;
        held.into_iter()
            .map(|entry| {
                let record: Record = serde_json::from_str(&entry.record)
                    .map_err(|error| format!("a held-back record of stream `{name}` is unreadable: {error}"))?;
                Ok((record, entry.original))
            })
            .collect()
    }

    /// Rewrites the own-kind references of a batch of held records, writes
    /// it, and commits it with the records it releases.
    fn write_held(&self, held: &mut Held<'_>, batch: Vec<(Record, String)>, warnings: &[String]) -> Result<(), String> {
        let plan = self.plan;
        let mut read = StagedRead::default();
        let mut ready = Vec::with_capacity(batch.len());
        let mut originals = Vec::with_capacity(batch.len());
        let mut undeferred = Vec::with_capacity(batch.len());
        let mut rejects = Vec::new();
        for (mut record, original) in batch {
            undeferred.push(record.source_id.to_string());
            match held.rewriter.rewrite_own(&mut record).map_err(cannot_read_held)? {
                Rewritten::Unresolved(message) => rejects.push(RejectEntry {
                    stream: plan.source_stream.clone(),
                    location: format!("{} record {}", plan.source_stream, record.source_id),
                    code: "unresolved_reference".into(),
                    message,
                    raw: original,
                }),
                _ => {
                    originals.push(serde_json::from_str(&original).unwrap_or_else(|_| record.clone()));
                    ready.push(record);
                }
            }
        }
        let mut next = held.progress.clone();
        next.report.rejected += rejects.len() as u64;
        let mut id_map = Vec::with_capacity(ready.len());
        if !ready.is_empty() {
            let staged = ready.len();
            read.originals = Originals { encoded: None, decoded: Some(originals) };
            let outcomes = held
                .stager
                .stage(&plan.destination_stream, RecordBatch::Decoded(ready))
                .and_then(|batch| held.destination.write(&plan.destination_stream, batch))
                .map_err(|error| {
                    describe_failure(&plan.destination_plugin, &plan.destination_stream, "write", &error)
                })?;
            check_outcomes(plan, staged, outcomes.len());
            account(plan, &mut next.report, outcomes, &mut read, &mut id_map, &mut rejects);
        }
        if !warnings.is_empty() {
            next.report.warnings = warnings.to_vec();
        }
        held.state
            .commit_batch(&BatchCommit {
                run_id: self.run_id,
                progress: &next,
                id_map,
                rejects: redacted(rejects),
                deferred: Vec::new(),
                undeferred,
                replayed_through: None,
            })
            .map_err(|error| format!("cannot record progress of stream `{}`: {error}", plan.name()))?;
        *held.progress = next;
        (held.on_batch)(&held.progress.report);
        Ok(())
    }
}

/// What the second pass writes with.
struct Held<'a> {
    stager: &'a dyn BatchStager,
    destination: &'a mut dyn BatchDestination,
    state: &'a mut dyn StateStore,
    progress: &'a mut StreamProgress,
    on_batch: &'a mut dyn FnMut(&StreamReport),
    rewriter: &'a mut ReferenceRewriter,
}

fn cannot_read_held(error: StateError) -> String {
    format!("cannot read the records held back for the second pass: {error}")
}

/// Whether a stream of `entity` writes its suppressions first: memberships
/// with no suppressed channel are held back until every suppression of the
/// stream is written, so no one is ever subscribed on the target before
/// their opt-out is.
fn holds_subscriptions(entity: EntityKind) -> bool {
    entity == EntityKind::Membership
}

/// Whether any channel of the record's consent is a suppression.
fn is_suppression(record: &Record) -> bool {
    crate::consent::consent_of(record).is_some_and(crate::consent::has_suppression)
}

/// Counts each outcome and collects its id-map entry or reject.
fn account(
    plan: &StreamPlan,
    report: &mut StreamReport,
    outcomes: Vec<WriteOutcome>,
    read: &mut StagedRead,
    id_map: &mut Vec<IdMapEntry>,
    rejects: &mut Vec<RejectEntry>,
) {
    for (position, outcome) in outcomes.into_iter().enumerate() {
        let target_id = match outcome.result {
            WriteResult::Created { target_id } => {
                report.created += 1;
                target_id
            }
            WriteResult::Updated { target_id } => {
                report.updated += 1;
                target_id
            }
            WriteResult::Unchanged { target_id } => {
                report.unchanged += 1;
                target_id
            }
            WriteResult::Rejected { reason } => {
                tracing::debug!(source_id = %outcome.source_id, code = %reason.code, reason = %reason.message, "Record rejected by destination.");
                report.rejected += 1;
                let index = read
                    .positions
                    .as_ref()
                    .map_or(position, |positions| positions.get(position).map_or(usize::MAX, |index| *index as usize));
                let raw = read
                    .originals
                    .raw(index)
                    .unwrap_or_else(|| format!("{{\"source_id\":{:?}}}", outcome.source_id.as_str()));
                rejects.push(RejectEntry {
                    stream: plan.source_stream.clone(),
                    location: outcome.source_id.to_string(),
                    code: reason.code,
                    message: reason.message,
                    raw,
                });
                continue;
            }
        };
        id_map.push(IdMapEntry {
            source_platform: plan.source_plugin.clone(),
            entity: plan.entity.as_str().to_owned(),
            source_id: outcome.source_id.to_string(),
            target_id: target_id.to_string(),
        });
    }
}

/// `rejects` with every secret redacted from each of their fields, as the
/// rejects ledger keeps them: a location, message or raw item can quote a
/// secret (a folder, a plugin's message quoting its config), and the state
/// store and `cutover rejects list` must not show it.
fn redacted(rejects: Vec<RejectEntry>) -> Vec<RejectEntry> {
    use crate::secrets::redact;
    rejects
        .into_iter()
        .map(|reject| RejectEntry {
            stream: redact(&reject.stream),
            location: redact(&reject.location),
            code: redact(&reject.code),
            message: redact(&reject.message),
            raw: redact(&reject.raw),
        })
        .collect()
}

fn unbalanced(report: &mut StreamReport, message: String) {
    tracing::error!(error = %message, "Stream unbalanced.");
    report.status = StreamStatus::Unbalanced;
    report.error = Some(message);
}

fn fail(report: &mut StreamReport, message: String) {
    // Plugin messages can quote config values; secrets never leave the host.
    let message = crate::secrets::redact(&message);
    tracing::error!(error = %message, "Stream failed.");
    report.status = StreamStatus::Failed;
    report.error = Some(message);
}

#[cfg(test)]
mod tests {
    //! The accounting against an in-process source and destination: a record
    //! lost between the read and the write, or an outcome missing or extra,
    //! must leave the stream unbalanced, never balanced.

    use super::*;
    use crate::plugin::SourceBatch;
    use crate::state::{RunKind, SqliteState};
    use cutover_schema::{Contact, Entity, Partner, Reference};

    /// Gives `records` in batches and `rejects` unreadable items in its first one.
    struct Items {
        records: Vec<Record>,
        rejects: usize,
    }

    impl BatchSource for Items {
        fn read(&mut self, _stream: &str, cursor: Option<&str>, max_records: u32) -> Result<SourceBatch, PluginError> {
            let start: usize = cursor.map_or(0, |cursor| cursor.parse().unwrap());
            let end = (start + max_records as usize).min(self.records.len());
            let rejects = if start == 0 {
                (0..self.rejects)
                    .map(|line| SourceReject {
                        location: format!("in.jsonl:{line}"),
                        raw: "{".into(),
                        reason: RejectReason::new("malformed_record", "not JSON"),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            Ok(SourceBatch {
                records: RecordBatch::Decoded(self.records[start..end].to_vec()),
                rejects,
                next_cursor: Some(end.to_string()),
                done: end == self.records.len(),
            })
        }
    }

    /// A destination that creates every record it is given, but for what a
    /// test makes it get wrong.
    #[derive(Default)]
    struct Target {
        /// The stager leaves this record out: lost between read and write.
        lose_in_stage: Option<&'static str>,
        /// No outcome for this record, though it is written.
        no_outcome_for: Option<&'static str>,
        /// An outcome twice.
        twice: Option<&'static str>,
        written: Vec<String>,
    }

    struct Stager(Option<&'static str>);

    impl BatchStager for Stager {
        fn stage(&self, stream: &str, records: RecordBatch) -> Result<StagedBatch, PluginError> {
            let mut records = records.into_decoded().map_err(|error| wire_error(stream, &error))?;
            records.retain(|record| Some(record.source_id.as_str()) != self.0);
            Ok(StagedBatch::Records(records))
        }
    }

    impl BatchDestination for Target {
        fn stager(&self) -> Box<dyn BatchStager> {
            Box::new(Stager(self.lose_in_stage))
        }

        fn write(&mut self, _stream: &str, batch: StagedBatch) -> Result<Vec<WriteOutcome>, PluginError> {
            let StagedBatch::Records(records) = batch else { panic!("staged in a plugin") };
            let mut outcomes = Vec::new();
            for record in records {
                let id = record.source_id.to_string();
                self.written.push(id.clone());
                let outcome = WriteOutcome {
                    result: WriteResult::Created { target_id: format!("t-{id}").into() },
                    source_id: record.source_id,
                };
                if Some(id.as_str()) == self.twice {
                    outcomes.push(outcome.clone());
                }
                if Some(id.as_str()) != self.no_outcome_for {
                    outcomes.push(outcome);
                }
            }
            Ok(outcomes)
        }
    }

    fn contacts(count: usize) -> Vec<Record> {
        (0..count)
            .map(|index| {
                let contact = Contact { email: Some(format!("c{index}@example.org").into()), ..Contact::default() };
                Record::new("old", format!("c{index}"), chrono::DateTime::UNIX_EPOCH, Entity::Contact(contact))
            })
            .collect()
    }

    /// Partners, each the parent of the next: all but the first are held
    /// back for the second pass.
    fn partners(count: usize) -> Vec<Record> {
        (0..count)
            .map(|index| {
                let parent =
                    index.checked_sub(1).map(|parent| Reference::new(EntityKind::Partner, format!("p{parent}")));
                let partner = Partner { name: Some(format!("P{index}").into()), parent, ..Partner::default() };
                Record::new("old", format!("p{index}"), chrono::DateTime::UNIX_EPOCH, Entity::Partner(partner))
            })
            .collect()
    }

    /// Runs one stream of `entity` with the stream config's mapping rules
    /// (`mapping`, TOML) in batches of 10; returns its report and what the
    /// state store recorded of it.
    fn move_stream(
        source: &mut Items,
        destination: &mut Target,
        entity: EntityKind,
        mapping: &str,
    ) -> (StreamReport, StreamProgress) {
        let folder = tempfile::tempdir().unwrap();
        let mut state = SqliteState::open(&folder.path().join("state.db")).unwrap();
        let (run, _) = state.resume_or_start_run("run-1", RunKind::Migrate).unwrap();
        let stream: crate::config::StreamConfig = toml::from_str(&format!("source = \"s\"\n{mapping}")).unwrap();
        let plan = StreamPlan {
            source_plugin: "old".into(),
            source_stream: "s".into(),
            entity,
            destination_plugin: "new".into(),
            destination_stream: "s".into(),
            batch_size: 10,
            mapping: StreamMapping::compile(&stream).unwrap(),
            migrated: [entity].into(),
        };
        let stream_run = StreamRun {
            plan: &plan,
            run_id: &run.run_id,
            start: StreamProgress::default(),
            state: &mut state,
            on_batch: &mut |_| {},
            replay: false,
        };
        let report = run_stream(source, destination, stream_run);
        let recorded = state.progress(&run.run_id, "s").unwrap().unwrap();
        (report, recorded)
    }

    fn counts(report: &StreamReport) -> [u64; 4] {
        [report.read, report.created, report.rejected, report.skipped]
    }

    #[test]
    fn every_item_the_source_returns_is_read_once_and_the_stream_balances() {
        let mut source = Items { records: contacts(25), rejects: 2 };
        let mut target = Target::default();
        // One skipped on purpose: the mapping step runs.
        let skip = "[[skip]]\nfield = \"email\"\nequals = [\"c3@example.org\"]\n";
        let (report, recorded) = move_stream(&mut source, &mut target, EntityKind::Contact, skip);
        assert_eq!(report.status, StreamStatus::Completed, "{report:?}");
        assert_eq!(counts(&report), [27, 24, 2, 1], "{report:?}");
        assert!(report.balances());
        assert_eq!(target.written.len(), 24);
        assert!(recorded.finished && recorded.report == report, "{recorded:?}");

        // The same without mapping rules: the batches pass through unchanged.
        let mut source = Items { records: contacts(25), rejects: 0 };
        let (report, _) = move_stream(&mut source, &mut Target::default(), EntityKind::Contact, "");
        assert_eq!((report.status, counts(&report)), (StreamStatus::Completed, [25, 25, 0, 0]), "{report:?}");
    }

    #[test]
    fn a_record_lost_between_the_read_and_the_write_leaves_the_stream_unbalanced() {
        for mapping in ["", "[defaults]\nfirst_name = \"Ada\"\n"] {
            let mut source = Items { records: contacts(25), rejects: 0 };
            let mut target = Target { lose_in_stage: Some("c17"), ..Target::default() };
            let (report, recorded) = move_stream(&mut source, &mut target, EntityKind::Contact, mapping);
            assert_eq!(report.status, StreamStatus::Unbalanced, "{report:?}");
            assert_eq!(counts(&report), [25, 24, 0, 0], "read is what the source returned: {report:?}");
            let error = report.error.as_deref().unwrap_or_default();
            assert!(
                error.contains("the source returned 25 items, but 24 are accounted for")
                    && error.ends_with("1 item unaccounted for"),
                "{error}"
            );
            assert_eq!((recorded.finished, recorded.report.status), (true, StreamStatus::Unbalanced));
        }
    }

    #[test]
    fn a_destination_that_answers_one_outcome_too_few_leaves_the_stream_unbalanced() {
        let mut source = Items { records: contacts(25), rejects: 1 };
        let mut target = Target { no_outcome_for: Some("c12"), ..Target::default() };
        let (report, _) = move_stream(&mut source, &mut target, EntityKind::Contact, "");
        assert_eq!(report.status, StreamStatus::Unbalanced, "{report:?}");
        assert_eq!(counts(&report), [26, 24, 1, 0], "{report:?}");
        assert_eq!(target.written.len(), 25, "written, but not answered for");
        assert!(report.error.as_deref().unwrap_or_default().ends_with("1 item unaccounted for"), "{report:?}");
    }

    #[test]
    fn a_destination_that_answers_one_outcome_too_many_leaves_the_stream_unbalanced() {
        let mut source = Items { records: contacts(25), rejects: 0 };
        let mut target = Target { twice: Some("c4"), ..Target::default() };
        let (report, _) = move_stream(&mut source, &mut target, EntityKind::Contact, "");
        assert_eq!(report.status, StreamStatus::Unbalanced, "{report:?}");
        assert_eq!(counts(&report), [25, 26, 0, 0], "{report:?}");
        assert!(report.error.as_deref().unwrap_or_default().ends_with("1 more outcome than items read"), "{report:?}");
    }

    #[test]
    fn records_held_back_for_the_second_pass_are_read_once_and_must_all_be_answered_for() {
        let mut source = Items { records: partners(23), rejects: 0 };
        let mut target = Target::default();
        let (report, recorded) = move_stream(&mut source, &mut target, EntityKind::Partner, "");
        assert_eq!((report.status, counts(&report)), (StreamStatus::Completed, [23, 23, 0, 0]), "{report:?}");
        assert_eq!(target.written.first().map(String::as_str), Some("p0"), "only p0 was not held back");
        assert!(recorded.finished && recorded.report == report);

        // A held-back record whose write the destination does not answer for.
        let mut source = Items { records: partners(23), rejects: 0 };
        let mut target = Target { no_outcome_for: Some("p22"), ..Target::default() };
        let (report, _) = move_stream(&mut source, &mut target, EntityKind::Partner, "");
        assert_eq!((report.status, counts(&report)), (StreamStatus::Unbalanced, [23, 22, 0, 0]), "{report:?}");
    }
}
