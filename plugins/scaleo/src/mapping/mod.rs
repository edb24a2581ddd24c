//! Scaleo's resources ↔ canonical records, one module per entity: every
//! field Scaleo has is mapped, kept as a custom field, or named in the
//! module's docs as not kept. Nothing here talks to Scaleo; the streams
//! look up what a mapping needs (a sponsor's id, an offer's goal) and hand
//! it in.

pub(crate) mod clicks;
pub(crate) mod conversions;
pub(crate) mod coupons;
pub(crate) mod links;
pub(crate) mod partners;
pub(crate) mod payouts;
pub(crate) mod programs;

#[cfg(test)]
mod tests;

use cutover_sdk::prelude::*;

/// A record of `entity` read from Scaleo.
pub(crate) fn record(
    source_id: impl Into<CompactString>,
    updated_at: chrono::DateTime<chrono::Utc>,
    entity: Entity,
) -> Record {
    Record::new(crate::NAME, source_id, updated_at, entity)
}

/// The reason a record of another entity is refused by a stream.
pub(crate) fn wrong_entity(record: &Record, expected: &str) -> RejectReason {
    let kind = record.entity.kind().as_str();
    RejectReason::new("wrong_entity", format!("a {kind} cannot be written as {expected}"))
}
