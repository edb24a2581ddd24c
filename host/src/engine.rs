//! Moving one stream: a reader thread pulls batches from the source and
//! stages them for the destination (for a plugin: decodes them in it), into a
//! bounded channel (backpressure: memory stays constant however large the
//! source); the calling thread writes them, keeps the accounting, and commits
//! each acknowledged batch to the state store with its checkpoint, id-map
//! entries and rejects in one transaction. Staging on the reader's thread
//! keeps the boundary's decoding off the writer's, the busier one in a file or
//! API load.
//!
//! A stream resumes from its last committed checkpoint, with its counts: a
//! batch written but not committed before a crash is read and written again,
//! and the destination's upsert makes that a no-op, so the run ends with no
//! duplicate and no gap.
//!
//! Plugins are called only from these dedicated threads; the boundary is
//! blocking. A plugin error (a panic caught at the boundary included) ends the
//! stream as failed with the plugin and stream named; it never takes the host
//! down.

use crate::plugin::{BatchDestination, BatchSource, BatchStager, RecordBatch, StagedBatch};
use crate::report::{StreamReport, StreamStatus};
use crate::state::{BatchCommit, IdMapEntry, RejectEntry, StateStore, StreamProgress};
use cutover_abi::PluginError;
use cutover_abi::wire::{EncodedRecords, SourceReject, WriteOutcome, WriteResult};

/// Batches read ahead of the writer. Small: enough to keep both threads busy.
const READ_AHEAD: usize = 4;

/// One stream to move.
#[derive(Debug, Clone)]
pub struct StreamPlan {
    /// The source plugin's name, for messages; also the platform the id map
    /// files source ids under.
    pub source_plugin: String,
    /// The stream read.
    pub source_stream: String,
    /// The canonical entity the stream carries, for the id map.
    pub entity: String,
    /// The destination plugin's name, for messages.
    pub destination_plugin: String,
    /// The stream written.
    pub destination_stream: String,
    /// Records per read.
    pub batch_size: u32,
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

/// What the reader thread hands the writer: a batch read and staged for the
/// destination.
struct StagedRead {
    batch: Option<StagedBatch>,
    /// The records as read, kept to store a record the destination rejects.
    retained: Option<EncodedRecords>,
    rejects: Vec<SourceReject>,
    next_cursor: Option<String>,
}

/// Why the reader thread stopped early.
enum ReadFailure {
    /// The source failed to read.
    Read(PluginError),
    /// The destination failed to stage what was read.
    Stage(PluginError),
}

/// Reads every batch of the stream from `cursor` and stages it for the
/// destination, until the source is done, something fails, or the writer
/// hangs up.
fn read_and_stage(
    source: &mut dyn BatchSource,
    stager: &dyn BatchStager,
    plan: &StreamPlan,
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
        // A copy of the bytes (not a decode), so a rejected record can be stored whole.
        let retained = match &batch.records {
            RecordBatch::Encoded(encoded) => Some(encoded.clone()),
            RecordBatch::Decoded(_) => None,
        };
        let staged = if batch.records.is_empty() {
            Ok(None)
        } else {
            stager.stage(&plan.destination_stream, batch.records).map(Some).map_err(ReadFailure::Stage)
        };
        let failed = staged.is_err();
        let item = staged.map(|staged| StagedRead {
            batch: staged,
            retained,
            rejects: batch.rejects,
            next_cursor: batch.next_cursor,
        });
        // The writer hung up: it failed and no longer wants batches.
        if sender.send(item).is_err() || stop || failed {
            return;
        }
    }
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
    std::thread::scope(|scope| {
        scope.spawn(move || read_and_stage(source, stager.as_ref(), plan, start_cursor, &sender));
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
            };
            if let Err(message) = write_and_commit(destination, plan, run.run_id, run.state, &mut progress, read) {
                fail(&mut progress.report, message);
                break;
            }
            (run.on_batch)(&progress.report);
        }
        // Dropping the receiver unblocks a reader waiting to send.
        drop(receiver);
    });
    progress.finished = true;
    if let Err(error) = run.state.finish_stream(run.run_id, &progress) {
        fail(&mut progress.report, format!("cannot record the end of the stream: {error}"));
    }
    progress.report
}

/// Writes one staged batch, counts its outcomes and commits it with its
/// checkpoint. On failure, returns the message that fails the stream; nothing
/// of the batch is committed then, so a later run writes it again.
fn write_and_commit(
    destination: &mut dyn BatchDestination,
    plan: &StreamPlan,
    run_id: &str,
    state: &mut dyn StateStore,
    progress: &mut StreamProgress,
    read: StagedRead,
) -> Result<(), String> {
    let mut next = progress.clone();
    let mut rejects: Vec<RejectEntry> = read
        .rejects
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
    next.report.read += (records + rejects.len()) as u64;
    next.report.rejected += rejects.len() as u64;
    let mut id_map = Vec::with_capacity(records);
    if let Some(batch) = read.batch {
        let outcomes = destination
            .write(&plan.destination_stream, batch)
            .map_err(|error| describe_failure(&plan.destination_plugin, &plan.destination_stream, "write", &error))?;
        account(plan, &mut next.report, outcomes, read.retained.as_ref(), &mut id_map, &mut rejects);
        tracing::debug!(read = next.report.read, created = next.report.created, "Batch written.");
    }
    next.cursor = read.next_cursor;
    state
        .commit_batch(&BatchCommit { run_id, progress: &next, id_map, rejects })
        .map_err(|error| format!("cannot record progress of stream `{}`: {error}", plan.name()))?;
    *progress = next;
    Ok(())
}

/// Counts each outcome and collects its id-map entry or reject.
fn account(
    plan: &StreamPlan,
    report: &mut StreamReport,
    outcomes: Vec<WriteOutcome>,
    retained: Option<&EncodedRecords>,
    id_map: &mut Vec<IdMapEntry>,
    rejects: &mut Vec<RejectEntry>,
) {
    // Decoded only if the destination rejected something, and then once.
    let mut decoded: Option<Vec<cutover_schema::Record>> = None;
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
                let records =
                    decoded.get_or_insert_with(|| retained.and_then(|bytes| bytes.decode().ok()).unwrap_or_default());
                let raw = records
                    .get(position)
                    .and_then(|record| serde_json::to_string(record).ok())
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
            entity: plan.entity.clone(),
            source_id: outcome.source_id.to_string(),
            target_id: target_id.to_string(),
        });
    }
}

fn fail(report: &mut StreamReport, message: String) {
    // Plugin messages can quote config values; secrets never leave the host.
    let message = crate::secrets::redact(&message);
    tracing::error!(error = %message, "Stream failed.");
    report.status = StreamStatus::Failed;
    report.error = Some(message);
}
