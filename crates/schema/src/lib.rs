//! Canonical records that every cutover plugin reads and writes, and the
//! normalisers that turn a source's text into canonical values.
//!
//! Not here: FFI types (`cutover-abi`), encodings, or anything that talks to a
//! platform. This crate does no I/O.
//!
//! Start at [`Record`]: the envelope every record travels in (entity, source
//! platform, source id, `updated_at` in UTC, typed fields, typed custom fields).
//! Its [`Entity`] is one of the canonical entities of CRMs (contact, company,
//! deal, owner, note, association), ESPs (list, membership with consent per
//! channel, tag, segment, campaign, engagement event), affiliate platforms
//! (partner, program, tracking link, coupon code, click, conversion,
//! commission, payout), stores (customer, order, discount code) and their
//! metadata (custom-field definitions, integrations). Records point at each
//! other with [`Reference`]s, which [`Entity::references_mut`] lets the engine
//! rewrite through its id map. Money is [`Money`]: a decimal with an ISO 4217
//! [`Currency`], never a float. [`normalize`] reads emails, phone numbers,
//! currencies, amounts and dates given as text.
//!
//! Within a schema major version, changes are additive only: a new optional
//! field or a new entity never breaks a plugin built against an older minor.
//!
//! Who depends on it: the SDK, the ABI, the host and every plugin.
//!
//! ```
//! use cutover_schema::{Contact, Currency, Deal, Entity, EntityKind, Money, Record, Reference};
//! use chrono::{TimeZone, Utc};
//! use rust_decimal::Decimal;
//!
//! let updated_at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
//! let record = Record::new(
//!     "mailchimp",
//!     "a1b2",
//!     updated_at,
//!     Entity::Contact(Contact { email: Some("Ada@Example.com".into()), ..Contact::default() }),
//! );
//! assert_eq!(record.entity.kind().as_str(), "contact");
//!
//! let mut deal = Entity::Deal(Deal {
//!     amount: Some(Money::new(Decimal::new(125_000, 2), Currency::EUR)),
//!     contacts: vec![Reference::new(EntityKind::Contact, "a1b2")],
//!     ..Deal::default()
//! });
//! for (field, reference) in deal.references_mut() {
//!     assert_eq!((field, reference.source_id.as_str()), ("contacts", "a1b2"));
//!     reference.source_id = "target-17".into();
//! }
//! ```
#![warn(missing_docs)]

mod compact;
mod custom;
mod entity;
mod money;
pub mod normalize;
mod record;
pub mod validate;
mod version;

/// The string type of record fields: strings of up to 24 bytes (most ids,
/// names, emails) are stored inline with no allocation, which makes records
/// several times cheaper to build, copy and decode. Build one with `.into()`
/// from a `&str` or `String`; it derefs to `&str`.
pub use compact_str::{CompactString, format_compact};
pub use custom::{CustomFieldType, CustomValue};
pub use entity::{
    Address, Association, Campaign, CampaignStatus, Click, Commission, CommissionStatus, Company, Consent,
    ConsentState, ConsentStatus, Contact, Conversion, ConversionStatus, CouponCode, CustomFieldDefinition, Customer,
    Deal, DealStatus, Discount, DiscountCode, EngagementEvent, EngagementKind, Entity, EntityKind, FieldOption,
    Integration, IntegrationKind, LineItem, List, Membership, Note, NoteKind, Order, OrderStatus, Owner, Partner,
    PartnerStatus, Payout, PayoutDetails, PayoutStatus, Program, ProgramKind, Reference, Segment, Tag, TrackingLink,
};
pub use money::{Currency, Money};
pub use record::Record;
pub use version::{SCHEMA_VERSION, SchemaVersion};
