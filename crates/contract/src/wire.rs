//! The one versioned encoding for batches that cross the boundary.
//!
//! A payload is one version byte ([`WIRE_VERSION`]) followed by MessagePack
//! with named fields. MessagePack is compact and fast to encode; named fields
//! keep it self-describing, so a reader ignores fields added by a newer schema
//! minor and defaults fields it lacks, which is what makes additive schema
//! changes safe for old plugins. The cost is measured by `cargo xtask bench`.
//!
//! A read answer keeps its records apart from the rest: version byte, a
//! little-endian `u32` length, the [`ReadHeader`], then the records as an
//! [`EncodedRecords`] payload, which is exactly what `write` takes. So a host
//! that has nothing to change in a batch hands the source's bytes to the
//! destination as they are, and records are encoded once and decoded once
//! per hop, never more.

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

/// Everything a read answer carries besides the records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadHeader {
    /// How many records the records section holds.
    pub record_count: u64,
    /// As [`ReadBatch::rejects`].
    #[serde(default)]
    pub rejects: Vec<SourceReject>,
    /// As [`ReadBatch::next_cursor`].
    pub next_cursor: Option<String>,
    /// As [`ReadBatch::done`].
    pub done: bool,
}

/// A batch of records in wire form: a versioned payload of a record array,
/// and how many records it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedRecords {
    payload: Vec<u8>,
    count: usize,
}

impl EncodedRecords {
    /// Encodes records.
    pub fn encode(records: &[Record]) -> Result<EncodedRecords, WireError> {
        Ok(EncodedRecords { payload: encode(records)?, count: records.len() })
    }

    /// Decodes the records.
    pub fn decode(&self) -> Result<Vec<Record>, WireError> {
        decode(&self.payload)
    }

    /// The payload, as `write` takes it.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Encodes a read answer: header, then records.
pub fn encode_read(batch: &ReadBatch) -> Result<Vec<u8>, WireError> {
    let header = ReadHeader {
        record_count: batch.records.len() as u64,
        rejects: batch.rejects.clone(),
        next_cursor: batch.next_cursor.clone(),
        done: batch.done,
    };
    let header = rmp_serde::to_vec_named(&header)?;
    let header_length = u32::try_from(header.len()).map_err(|_| WireError::TooLarge { bytes: header.len() })?;
    let mut payload = Vec::with_capacity(256 + header.len() + batch.records.len() * 192);
    payload.push(WIRE_VERSION);
    payload.extend_from_slice(&header_length.to_le_bytes());
    payload.extend_from_slice(&header);
    payload.push(WIRE_VERSION);
    rmp_serde::encode::write_named(&mut payload, &batch.records)?;
    Ok(payload)
}

/// Splits a read answer into its header and its still-encoded records.
pub fn decode_read(payload: &[u8]) -> Result<(ReadHeader, EncodedRecords), WireError> {
    let (&version, rest) = payload.split_first().ok_or(WireError::Empty)?;
    if version != WIRE_VERSION {
        return Err(WireError::Version { found: version });
    }
    let (length, rest) = rest.split_first_chunk::<4>().ok_or(WireError::Truncated)?;
    let length = u32::from_le_bytes(*length) as usize;
    if rest.len() < length {
        return Err(WireError::Truncated);
    }
    let (header, records) = rest.split_at(length);
    let header: ReadHeader = rmp_serde::from_slice(header)?;
    let count = usize::try_from(header.record_count).map_err(|_| WireError::Truncated)?;
    Ok((header, EncodedRecords { payload: records.to_vec(), count }))
}

/// Decodes a read answer whole.
pub fn decode_read_batch(payload: &[u8]) -> Result<ReadBatch, WireError> {
    let (header, records) = decode_read(payload)?;
    let records = records.decode()?;
    if records.len() as u64 != header.record_count {
        return Err(WireError::CountMismatch { declared: header.record_count, found: records.len() });
    }
    Ok(ReadBatch { records, rejects: header.rejects, next_cursor: header.next_cursor, done: header.done })
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

impl WriteOutcome {
    /// The outcome of the record `source_id`: `result`, or `Rejected` with
    /// the reason when it is an error. A stream's write usually maps each
    /// record to a `Result<WriteResult, _>` and answers with this.
    pub fn of<R: Into<RejectReason>>(
        source_id: impl Into<CompactString>,
        result: Result<WriteResult, R>,
    ) -> WriteOutcome {
        let result = result.unwrap_or_else(|reason| WriteResult::Rejected { reason: reason.into() });
        WriteOutcome { source_id: source_id.into(), result }
    }

    /// The record `source_id` was refused for `reason`.
    pub fn rejected(source_id: impl Into<CompactString>, reason: impl Into<RejectReason>) -> WriteOutcome {
        WriteOutcome { source_id: source_id.into(), result: WriteResult::Rejected { reason: reason.into() } }
    }
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

impl WriteResult {
    /// A new record `target_id` was made.
    pub fn created(target_id: impl Into<CompactString>) -> WriteResult {
        WriteResult::Created { target_id: target_id.into() }
    }

    /// The existing record `target_id` was changed.
    pub fn updated(target_id: impl Into<CompactString>) -> WriteResult {
        WriteResult::Updated { target_id: target_id.into() }
    }

    /// The target already held exactly this record, as `target_id`.
    pub fn unchanged(target_id: impl Into<CompactString>) -> WriteResult {
        WriteResult::Unchanged { target_id: target_id.into() }
    }

    /// The outcome's name as reports and tests give it: `created`,
    /// `updated`, `unchanged` or `rejected`.
    pub fn as_str(&self) -> &'static str {
        match self {
            WriteResult::Created { .. } => "created",
            WriteResult::Updated { .. } => "updated",
            WriteResult::Unchanged { .. } => "unchanged",
            WriteResult::Rejected { .. } => "rejected",
        }
    }
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
    /// The payload ends before its declared parts.
    #[error("truncated payload")]
    Truncated,
    /// The header's record count disagrees with the records section.
    #[error("the batch declares {declared} records but holds {found}")]
    CountMismatch {
        /// Declared in the header.
        declared: u64,
        /// Found in the records section.
        found: usize,
    },
    /// A part is too large for its length field.
    #[error("a {bytes}-byte batch header is too large")]
    TooLarge {
        /// Its size.
        bytes: usize,
    },
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
        let back: ReadBatch = decode_read_batch(&encode_read(&original).unwrap()).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn the_records_of_a_read_are_a_write_payload_as_they_are() {
        let original = batch();
        let (header, records) = decode_read(&encode_read(&original).unwrap()).unwrap();
        assert_eq!((header.record_count, records.len()), (1, 1));
        assert_eq!(decode::<Vec<Record>>(records.payload()).unwrap(), original.records);
    }

    #[test]
    fn a_truncated_or_lying_read_answer_is_an_error() {
        let payload = encode_read(&batch()).unwrap();
        assert!(matches!(decode_read(&payload[..3]), Err(WireError::Truncated)));
        assert!(matches!(decode_read(&payload[..7]), Err(WireError::Truncated)));
        let mut lying = batch();
        lying.records.clear();
        let mut header = ReadHeader { record_count: 5, ..ReadHeader::default() };
        header.done = true;
        let header_bytes = rmp_serde::to_vec_named(&header).unwrap();
        let mut forged = vec![WIRE_VERSION];
        forged.extend_from_slice(&(header_bytes.len() as u32).to_le_bytes());
        forged.extend_from_slice(&header_bytes);
        forged.extend_from_slice(&encode(&lying.records).unwrap());
        assert!(matches!(decode_read_batch(&forged), Err(WireError::CountMismatch { declared: 5, found: 0 })));
    }

    #[test]
    fn another_version_byte_is_refused_by_name() {
        let mut payload = encode_read(&batch()).unwrap();
        payload[0] = 9;
        let error = decode_read_batch(&payload).unwrap_err();
        assert_eq!(
            error.to_string(),
            "payload encoding version 9, expected 1: host and plugin disagree on the wire format"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for payload in [&[][..], &[WIRE_VERSION][..], &[WIRE_VERSION, 0xc1, 0xff][..]] {
            assert!(decode_read_batch(payload).is_err());
        }
    }
}
