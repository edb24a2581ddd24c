//! Every tracing event this plugin emits, in one place. Fields carry the
//! values, messages are constant; per batch or per audience, never per
//! record, and never an address or a key.

/// A read batch is ready.
pub(crate) fn batch_read(stream: &str, records: usize, rejects: usize, done: bool) {
    tracing::debug!(stream, records, rejects, done, "Batch read.");
}

/// An audience's members were loaded to compare writes against.
pub(crate) fn audience_loaded(list_id: &str, members: usize) {
    tracing::debug!(list_id, members, "Audience loaded for writing.");
}

/// A batch subscribe call answered.
pub(crate) fn members_written(list_id: &str, sent: usize, created: usize, updated: usize, errors: usize) {
    tracing::debug!(list_id, sent, created, updated, errors, "Members written.");
}
