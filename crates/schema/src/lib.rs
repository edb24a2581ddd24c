//! Canonical records that every cutover plugin reads and writes.
//!
//! Not here: FFI types (`cutover-abi`), encodings, or anything that talks to a
//! platform. This crate does no I/O.
//!
//! Start at [`Record`]: the envelope every record travels in (entity, source
//! platform, source id, `updated_at` in UTC, typed fields, typed custom fields).
//! Within a schema major version, changes are additive only: a new optional
//! field or a new entity never breaks a plugin built against an older minor.
//!
//! ```
//! use cutover_schema::{Contact, Entity, Record};
//! use chrono::{TimeZone, Utc};
//!
//! let record = Record::new(
//!     "mailchimp",
//!     "a1b2",
//!     Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
//!     Entity::Contact(Contact { email: Some("Ada@Example.com".into()), ..Contact::default() }),
//! );
//! assert_eq!(record.entity.kind().as_str(), "contact");
//! ```
#![warn(missing_docs)]

mod compact;
mod custom;
mod entity;
mod record;
mod version;

/// The string type of record fields: strings of up to 24 bytes (most ids,
/// names, emails) are stored inline with no allocation, which makes records
/// several times cheaper to build, copy and decode. Build one with `.into()`
/// from a `&str` or `String`; it derefs to `&str`.
pub use compact_str::{CompactString, format_compact};
pub use custom::CustomValue;
pub use entity::{Contact, Entity, EntityKind};
pub use record::Record;
pub use version::{SCHEMA_VERSION, SchemaVersion};
