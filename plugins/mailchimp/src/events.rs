//! Every tracing event this plugin emits, in one place. Fields carry the
//! values, messages are constant; per batch or per audience, never per
//! record, and never an address or a key.

/// A batch of one collection was read (`lists`, `lists/{id}/members`,
/// `reports/{id}/unsubscribed`).
pub(crate) fn batch_read(collection: &str, records: usize, rejects: usize, done: bool) {
    tracing::debug!(collection, records, rejects, done, "Batch read.");
}

/// An audience's members were loaded to compare writes against.
pub(crate) fn audience_loaded(list_id: &str, members: usize) {
    tracing::debug!(list_id, members, "Audience loaded for writing.");
}

/// A batch subscribe call answered.
pub(crate) fn members_written(list_id: &str, sent: usize, created: usize, updated: usize, errors: usize) {
    tracing::debug!(list_id, sent, created, updated, errors, "Members written.");
}
