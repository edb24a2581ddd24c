//! Moving one stream: a reader thread pulls batches from the source and
//! stages them for the destination (for a plugin: decodes them in it), into a
//! bounded channel (backpressure: memory stays constant however large the
//! source); the calling thread writes them and keeps the accounting. Staging
//! on the reader's thread keeps the boundary's decoding off the writer's,
//! which is the busier one in a file or API load.
//!
//! Plugins are called only from these dedicated threads; the boundary is
//! blocking. A plugin error (a panic caught at the boundary included) ends the
//! stream as failed with the plugin and stream named; it never takes the host
//! down.

use crate::plugin::{BatchDestination, BatchSource, BatchStager, StagedBatch};
use crate::report::{StreamReport, StreamStatus};
use cutover_abi::PluginError;
use cutover_abi::wire::{SourceReject, WriteResult};

/// Batches read ahead of the writer. Small: enough to keep both threads busy.
const READ_AHEAD: usize = 4;

/// One stream to move.
#[derive(Debug, Clone)]
pub struct StreamPlan {
    /// The source plugin's name, for messages.
    pub source_plugin: String,
    /// The stream read.
    pub source_stream: String,
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
/// destination, or why it could not be.
struct StagedRead {
    batch: Option<StagedBatch>,
    rejects: Vec<SourceReject>,
}

/// Why the reader thread stopped early.
enum ReadFailure {
    /// The source failed to read.
    Read(PluginError),
    /// The destination failed to stage what was read.
    Stage(PluginError),
}

/// Reads every batch of the stream and stages it for the destination, until
/// the source is done, something fails, or the writer hangs up.
fn read_and_stage(
    source: &mut dyn BatchSource,
    stager: &dyn BatchStager,
    plan: &StreamPlan,
    sender: &crossbeam_channel::Sender<Result<StagedRead, ReadFailure>>,
) {
    let mut cursor: Option<String> = None;
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
        cursor = batch.next_cursor;
        let staged = if batch.records.is_empty() {
            Ok(None)
        } else {
            stager.stage(&plan.destination_stream, batch.records).map(Some).map_err(ReadFailure::Stage)
        };
        let failed = staged.is_err();
        let item = staged.map(|staged| StagedRead { batch: staged, rejects: batch.rejects });
        // The writer hung up: it failed and no longer wants batches.
        if sender.send(item).is_err() || stop || failed {
            return;
        }
    }
}

/// Moves every record of one stream from `source` to `destination`: a
/// reader thread reads and stages batches, this thread writes them.
pub fn run_stream(
    source: &mut dyn BatchSource,
    destination: &mut dyn BatchDestination,
    plan: &StreamPlan,
) -> StreamReport {
    let span = tracing::info_span!("stream", stream = %plan.name(), source = %plan.source_plugin, destination = %plan.destination_plugin);
    let _entered = span.enter();
    let mut report = StreamReport { name: plan.name(), ..StreamReport::default() };
    let (sender, receiver) = crossbeam_channel::bounded::<Result<StagedRead, ReadFailure>>(READ_AHEAD);
    let stager = destination.stager();
    std::thread::scope(|scope| {
        scope.spawn(move || read_and_stage(source, stager.as_ref(), plan, &sender));
        for item in receiver.iter() {
            let read = match item {
                Ok(read) => read,
                Err(ReadFailure::Read(error)) => {
                    fail(&mut report, describe_failure(&plan.source_plugin, &plan.source_stream, "read", &error));
                    break;
                }
                Err(ReadFailure::Stage(error)) => {
                    fail(
                        &mut report,
                        describe_failure(&plan.destination_plugin, &plan.destination_stream, "write", &error),
                    );
                    break;
                }
            };
            let records = read.batch.as_ref().map_or(0, StagedBatch::len);
            report.read += (records + read.rejects.len()) as u64;
            report.rejected += read.rejects.len() as u64;
            for reject in &read.rejects {
                tracing::warn!(location = %reject.location, code = %reject.reason.code, reason = %reject.reason.message, "Source item rejected.");
            }
            let Some(batch) = read.batch else { continue };
            match destination.write(&plan.destination_stream, batch) {
                Ok(outcomes) => {
                    for outcome in outcomes {
                        match outcome.result {
                            WriteResult::Created { .. } => report.created += 1,
                            WriteResult::Updated { .. } => report.updated += 1,
                            WriteResult::Unchanged { .. } => report.unchanged += 1,
                            WriteResult::Rejected { reason } => {
                                tracing::warn!(source_id = %outcome.source_id, code = %reason.code, reason = %reason.message, "Record rejected by destination.");
                                report.rejected += 1;
                            }
                        }
                    }
                    tracing::debug!(read = report.read, created = report.created, "Batch written.");
                }
                Err(error) => {
                    fail(
                        &mut report,
                        describe_failure(&plan.destination_plugin, &plan.destination_stream, "write", &error),
                    );
                    break;
                }
            }
        }
        // Dropping the receiver unblocks a reader waiting to send.
        drop(receiver);
    });
    report
}

fn fail(report: &mut StreamReport, message: String) {
    tracing::error!(error = %message, "Stream failed.");
    report.status = StreamStatus::Failed;
    report.error = Some(message);
}
