//! Moving one stream: a reader thread pulls batches from the source into a
//! bounded channel (backpressure: memory stays constant however large the
//! source), and the calling thread writes them and keeps the accounting.
//!
//! Plugins are called only from these dedicated threads; the boundary is
//! blocking. A plugin error (a panic caught at the boundary included) ends the
//! stream as failed with the plugin and stream named; it never takes the host
//! down.

use crate::plugin::{BatchDestination, BatchSource, SourceBatch};
use crate::report::{StreamReport, StreamStatus};
use cutover_abi::PluginError;
use cutover_abi::wire::WriteResult;

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

/// Moves every record of one stream from `source` to `destination`.
pub fn run_stream(
    source: &mut dyn BatchSource,
    destination: &mut dyn BatchDestination,
    plan: &StreamPlan,
) -> StreamReport {
    let span = tracing::info_span!("stream", stream = %plan.name(), source = %plan.source_plugin, destination = %plan.destination_plugin);
    let _entered = span.enter();
    let mut report = StreamReport { name: plan.name(), ..StreamReport::default() };
    let (sender, receiver) = crossbeam_channel::bounded::<Result<SourceBatch, PluginError>>(READ_AHEAD);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut cursor: Option<String> = None;
            loop {
                let batch = source.read(&plan.source_stream, cursor.as_deref(), plan.batch_size);
                let stop = match &batch {
                    Ok(batch) => {
                        let stalled =
                            batch.records.is_empty() && batch.rejects.is_empty() && batch.next_cursor == cursor;
                        cursor.clone_from(&batch.next_cursor);
                        batch.done || stalled
                    }
                    Err(_) => true,
                };
                // The writer hung up: it failed and no longer wants batches.
                if sender.send(batch).is_err() || stop {
                    break;
                }
            }
        });
        for batch in receiver.iter() {
            let batch = match batch {
                Ok(batch) => batch,
                Err(error) => {
                    fail(&mut report, describe_failure(&plan.source_plugin, &plan.source_stream, "read", &error));
                    break;
                }
            };
            report.read += (batch.records.len() + batch.rejects.len()) as u64;
            report.rejected += batch.rejects.len() as u64;
            for reject in &batch.rejects {
                tracing::warn!(location = %reject.location, code = %reject.reason.code, reason = %reject.reason.message, "Source item rejected.");
            }
            if batch.records.is_empty() {
                continue;
            }
            match destination.write(&plan.destination_stream, batch.records) {
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
