//! The run report: per-stream accounting, as a table for people and as JSON
//! for machines (`--report-json`).

use crate::consent::ConsentTally;
use serde::Serialize;
use std::fmt;

/// What one run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// This run's id.
    pub run_id: String,
    /// One entry per stream, in the order they ran.
    pub streams: Vec<StreamReport>,
}

/// Per-stream accounting: `read = created + updated + unchanged + rejected + skipped`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct StreamReport {
    /// `source → destination` stream names.
    pub name: String,
    /// Items the source gave (records and items it could not read).
    pub read: u64,
    /// New on the destination.
    pub created: u64,
    /// Changed on the destination.
    pub updated: u64,
    /// Already identical on the destination.
    pub unchanged: u64,
    /// Refused by the source (unreadable) or the destination.
    pub rejected: u64,
    /// Left out on purpose.
    pub skipped: u64,
    /// `completed` or `failed`.
    pub status: StreamStatus,
    /// Why the stream failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the run could not do as the source said and did otherwise, e.g.
    /// a reference cycle whose closing link was left unset.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Memberships' consent per `channel: status`, as read and as written.
    #[serde(skip_serializing_if = "ConsentTally::is_empty")]
    pub consent: ConsentTally,
}

/// How a stream ended.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StreamStatus {
    /// Every item was accounted for.
    #[default]
    Completed,
    /// Stopped early; its accounting covers what was done before.
    Failed,
}

impl StreamReport {
    /// Whether every item read is accounted for.
    pub fn balances(&self) -> bool {
        self.read == self.created + self.updated + self.unchanged + self.rejected + self.skipped
    }
}

impl RunReport {
    /// Whether any stream failed.
    pub fn failed(&self) -> bool {
        self.streams.iter().any(|stream| stream.status == StreamStatus::Failed)
    }

    /// Whether any record was rejected.
    pub fn has_rejects(&self) -> bool {
        self.streams.iter().any(|stream| stream.rejected > 0)
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::ASCII_MARKDOWN);
        table.set_header(["stream", "read", "created", "updated", "unchanged", "rejected", "skipped", "status"]);
        for stream in &self.streams {
            let status = match stream.status {
                StreamStatus::Completed if stream.balances() => "balanced",
                StreamStatus::Completed => "UNBALANCED",
                StreamStatus::Failed => "FAILED",
            };
            table.add_row([
                stream.name.clone(),
                stream.read.to_string(),
                stream.created.to_string(),
                stream.updated.to_string(),
                stream.unchanged.to_string(),
                stream.rejected.to_string(),
                stream.skipped.to_string(),
                status.to_owned(),
            ]);
        }
        writeln!(f, "run {}", self.run_id)?;
        writeln!(f, "{table}")?;
        for stream in &self.streams {
            if let Some(error) = &stream.error {
                writeln!(f, "stream {} failed: {error}", stream.name)?;
            }
            for warning in &stream.warnings {
                writeln!(f, "stream {}: {warning}", stream.name)?;
            }
            if !stream.consent.is_empty() {
                let counts: Vec<String> = stream
                    .consent
                    .0
                    .iter()
                    .map(|(state, count)| format!("{state} {} → {}", count.before, count.after))
                    .collect();
                writeln!(f, "stream {} consent (read → written): {}", stream.name, counts.join(", "))?;
            }
        }
        Ok(())
    }
}
