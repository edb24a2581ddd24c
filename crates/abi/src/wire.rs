//! The one versioned encoding for batches that cross the boundary.
//!
//! A payload is one version byte ([`WIRE_VERSION`]) followed by MessagePack
//! with named fields. MessagePack is compact and fast to encode; named fields
//! keep it self-describing, so a reader ignores fields added by a newer schema
//! minor and defaults fields it lacks, which is what makes additive schema
//! changes safe for old plugins. The cost is measured by `cargo xtask bench`.

use cutover_schema::{CompactString, Record};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// Version of the payload layout. A reader refuses any other.
pub const WIRE_VERSION: u8 = 1;

/// What a source returns for one read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadBatch {
    /// The records read, in the source's order.
    pub records: Vec<Record>,
    /// Raw items the source could not turn into records (a malformed line):
    /// never dropped, they go to the rejects ledger.
    #[serde(default)]
    pub rejects: Vec<SourceReject>,
    /// Where the next read starts. Opaque to the host, which stores it as the
    /// stream's checkpoint.
    pub next_cursor: Option<String>,
    /// True when nothing follows this batch.
    pub done: bool,
}

/// An item a source read but could not turn into a canonical record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceReject {
    /// Where it was found (`contacts.csv:17`, a platform id).
    pub location: String,
    /// The item as read, so it can be fixed and replayed.
    pub raw: String,
    /// Why it could not be read.
    pub reason: RejectReason,
}

/// Why a record was rejected: a machine-readable code and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectReason {
    /// Stable snake_case code (`invalid_email`, `malformed_line`).
    pub code: String,
    /// What was wrong, for people.
    pub message: String,
}

impl RejectReason {
    /// A reason from a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> RejectReason {
        RejectReason { code: code.into(), message: message.into() }
    }
}

/// What a destination did with one record of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOutcome {
    /// The record's source id, echoed so the host can check the order.
    pub source_id: CompactString,
    /// What happened.
    pub result: WriteResult,
}

/// The result of writing one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteResult {
    /// A new record was made on the target.
    Created {
        /// Its id on the target.
        target_id: CompactString,
    },
    /// An existing record was changed.
    Updated {
        /// Its id on the target.
        target_id: CompactString,
    },
    /// The target already held exactly this record.
    Unchanged {
        /// Its id on the target.
        target_id: CompactString,
    },
    /// The target refused it.
    Rejected {
        /// Why.
        reason: RejectReason,
    },
}

/// Why a payload could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The payload is empty.
    #[error("empty payload: expected a version byte")]
    Empty,
    /// The payload was written by another version of the encoding.
    #[error("payload encoding version {found}, expected {WIRE_VERSION}: host and plugin disagree on the wire format")]
    Version {
        /// The version byte found.
        found: u8,
    },
    /// The bytes are not a valid payload.
    #[error("malformed payload: {0}")]
    Decode(#[from] rmp_serde::decode::Error),
    /// A value could not be encoded.
    #[error("cannot encode payload: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
}

/// Encodes a value as a versioned payload.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, WireError> {
    let mut payload = Vec::with_capacity(256);
    payload.push(WIRE_VERSION);
    rmp_serde::encode::write_named(&mut payload, value)?;
    Ok(payload)
}

/// Decodes a versioned payload.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, WireError> {
    let (&version, body) = payload.split_first().ok_or(WireError::Empty)?;
    if version != WIRE_VERSION {
        return Err(WireError::Version { found: version });
    }
    Ok(rmp_serde::from_slice(body)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use cutover_schema::{Contact, CustomValue, Entity};

    fn batch() -> ReadBatch {
        let mut record = Record::new(
            "generator",
            "7",
            Utc.with_ymd_and_hms(2026, 5, 6, 7, 8, 9).unwrap(),
            Entity::Contact(Contact { email: Some("ひろし@example.jp".into()), ..Contact::default() }),
        );
        record.custom_fields.insert("vip".into(), CustomValue::Boolean(true));
        ReadBatch {
            records: vec![record],
            rejects: vec![SourceReject {
                location: "in.jsonl:3".into(),
                raw: "{not json".into(),
                reason: RejectReason::new("malformed_line", "expected a JSON object"),
            }],
            next_cursor: Some("3".into()),
            done: false,
        }
    }

    #[test]
    fn batches_round_trip() {
        let original = batch();
        let back: ReadBatch = decode(&encode(&original).unwrap()).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn another_version_byte_is_refused_by_name() {
        let mut payload = encode(&batch()).unwrap();
        payload[0] = 9;
        let error = decode::<ReadBatch>(&payload).unwrap_err();
        assert_eq!(
            error.to_string(),
            "payload encoding version 9, expected 1: host and plugin disagree on the wire format"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for payload in [&[][..], &[WIRE_VERSION][..], &[WIRE_VERSION, 0xc1, 0xff][..]] {
            assert!(decode::<ReadBatch>(payload).is_err());
        }
    }
}
