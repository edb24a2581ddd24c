//! The run report: per-stream accounting, as a table for people and as JSON
//! for machines (`--report-json`).

use crate::consent::ConsentTally;
use serde::Serialize;
use std::fmt;

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    /// This run's id.
    pub run_id: String,
    /// Whether this invocation carried on an interrupted run from its
    /// checkpoints rather than starting one (always `false` in `cutover
    /// status`, which only looks).
    pub resumed: bool,
    /// Whether the run was stopped (Ctrl-C) before its last stream ended: it
    /// stays open, and the same command resumes it.
    pub interrupted: bool,
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
    /// `completed`, `failed`, `unbalanced` or `interrupted`.
    pub status: StreamStatus,
    /// Why the stream failed, or by how much it does not balance.
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
    /// Ran to its end, but the items the source returned are not the items
    /// written, rejected and skipped: some record went missing (or appeared)
    /// between the read and the destination's answer. The run proves nothing.
    Unbalanced,
    /// Stopped on request (Ctrl-C) after a committed batch; the run stays
    /// open and resumes from there.
    Interrupted,
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

    /// Whether any stream ran to its end without balancing: marked
    /// unbalanced by the engine, or completed with counts that do not add up.
    pub fn unbalanced(&self) -> bool {
        self.streams.iter().any(|stream| match stream.status {
            StreamStatus::Unbalanced => true,
            StreamStatus::Completed => !stream.balances(),
            StreamStatus::Failed | StreamStatus::Interrupted => false,
        })
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
                StreamStatus::Completed | StreamStatus::Unbalanced => "UNBALANCED",
                StreamStatus::Failed => "FAILED",
                StreamStatus::Interrupted => "interrupted",
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
        let resumed = if self.resumed { " (resumed from its checkpoints)" } else { "" };
        writeln!(f, "run {}{resumed}", self.run_id)?;
        writeln!(f, "{table}")?;
        for stream in &self.streams {
            if let Some(error) = &stream.error {
                let verdict = if stream.status == StreamStatus::Unbalanced { "is UNBALANCED" } else { "failed" };
                writeln!(f, "stream {} {verdict}: {error}", stream.name)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unbalanced_stream_says_so_in_its_row_and_names_the_difference() {
        let report = RunReport {
            run_id: "run-1".into(),
            resumed: true,
            interrupted: false,
            streams: vec![StreamReport {
                name: "contacts".into(),
                read: 10,
                created: 9,
                status: StreamStatus::Unbalanced,
                error: Some("1 item unaccounted for".into()),
                ..StreamReport::default()
            }],
        };
        let text = report.to_string();
        assert!(text.starts_with("run run-1 (resumed from its checkpoints)\n"), "{text}");
        assert!(text.contains("| contacts | 10   | 9       |") && text.contains("| UNBALANCED |"), "{text}");
        assert!(text.contains("stream contacts is UNBALANCED: 1 item unaccounted for"), "{text}");
        assert!(report.unbalanced() && !report.failed());
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!((&json["resumed"], &json["streams"][0]["status"]), (&true.into(), &"unbalanced".into()));
    }
}
