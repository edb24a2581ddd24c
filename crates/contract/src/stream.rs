//! What one read of a stream answers, with the stream's own typed cursor.
//!
//! [`Batch`] is [`ReadBatch`](crate::wire::ReadBatch) before its cursor is
//! rendered: the SDK's stream layer turns one into the other (the cursor
//! becomes a versioned string, opaque to the host), and the HTTP toolkit's
//! paged reads answer one.

use crate::wire::SourceReject;
use cutover_schema::Record;

/// Records, rejects and where the next read starts, as a stream's own
/// cursor type `C`.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<C> {
    /// The records read, in the platform's order.
    pub records: Vec<Record>,
    /// Items read that could not be made into records, with their location
    /// and raw text: never dropped.
    pub rejects: Vec<SourceReject>,
    /// Where the next read starts; `None` only for a stream that cannot
    /// resume (it starts again from the beginning).
    pub next: Option<C>,
    /// True when nothing follows this batch.
    pub done: bool,
}

impl<C> Default for Batch<C> {
    fn default() -> Batch<C> {
        Batch { records: Vec::new(), rejects: Vec::new(), next: None, done: false }
    }
}

impl<C> Batch<C> {
    /// An empty batch that resumes at `next`.
    pub fn at(next: C) -> Batch<C> {
        Batch { next: Some(next), ..Batch::default() }
    }

    /// Items taken so far: records and rejects. A read of `max_records`
    /// stops when this reaches it.
    pub fn items(&self) -> usize {
        self.records.len() + self.rejects.len()
    }

    /// Whether the batch holds `max_records` items.
    pub fn is_full(&self, max_records: usize) -> bool {
        self.items() >= max_records
    }

    /// Adds one item read: a record, or a reject.
    pub fn push(&mut self, item: Result<Record, SourceReject>) {
        match item {
            Ok(record) => self.records.push(record),
            Err(reject) => self.rejects.push(reject),
        }
    }

    /// The same batch with its cursor turned into another type.
    pub fn map_cursor<D>(self, map: impl FnOnce(C) -> D) -> Batch<D> {
        Batch { records: self.records, rejects: self.rejects, next: self.next.map(map), done: self.done }
    }

    /// Adds `other`'s items after this batch's, and takes its cursor and
    /// end.
    pub fn extend(&mut self, other: Batch<C>) {
        self.records.extend(other.records);
        self.rejects.extend(other.rejects);
        self.next = other.next;
        self.done = other.done;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::RejectReason;

    #[test]
    fn items_count_records_and_rejects() {
        let mut batch = Batch::at(3_u32);
        let reject = SourceReject { location: "x".into(), raw: "{}".into(), reason: RejectReason::new("bad", "bad") };
        batch.push(Err(reject));
        assert_eq!(batch.items(), 1);
        assert!(batch.is_full(1));
        assert!(!batch.is_full(2));
        let batch = batch.map_cursor(|at| at.to_string());
        assert_eq!(batch.next.as_deref(), Some("3"));
    }
}
