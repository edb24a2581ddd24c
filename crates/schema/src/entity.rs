//! The canonical entity types: [`Entity`] holds one, [`EntityKind`] names it.
//!
//! The types are grouped by the kind of platform whose concept they are
//! (`crm`, `esp`, `affiliate`, `store`, `metadata`); a person is a
//! [`Contact`] on all of them. Every entity follows the same rules:
//!
//! - Fields are optional, or lists that may be empty, because platforms
//!   disagree on what is required; what a destination needs is its own
//!   validation. Each struct has `#[serde(default)]`, so a reader fills in
//!   what a record lacks and ignores what it does not know.
//! - Short strings are [`CompactString`]s, long text (a note's body) a
//!   `String`; money is [`Money`](crate::Money); instants are UTC with the
//!   source's precision; a calendar day with no time is a `NaiveDate`.
//! - Another record is named by a [`Reference`] (its kind and source id), so
//!   the engine can rewrite every foreign key through its id map:
//!   [`Entity::references`] lists them, [`Entity::references_mut`] rewrites them.
//! - Enums are closed sets with documented meanings. A new variant would
//!   break older readers, so it waits for a major version; a value a platform
//!   has beyond them is mapped by the migration config or kept in a custom
//!   field.

mod affiliate;
mod crm;
mod esp;
mod metadata;
mod store;

pub use affiliate::{
    Click, Commission, CommissionStatus, Conversion, ConversionStatus, CouponCode, Partner, PartnerStatus, Payout,
    PayoutDetails, PayoutStatus, Program, ProgramKind, TrackingLink,
};
pub use crm::{Association, Company, Deal, DealStatus, Note, NoteKind, Owner};
pub use esp::{
    Campaign, CampaignStatus, Consent, ConsentState, ConsentStatus, EngagementEvent, EngagementKind, List, Membership,
    Segment, Tag,
};
pub use metadata::{CustomFieldDefinition, FieldOption, Integration, IntegrationKind};
pub use store::{Address, Customer, Discount, DiscountCode, LineItem, Order, OrderStatus};

use crate::CompactString;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The typed body of a record: one variant per canonical entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A person: a CRM contact, an ESP subscriber, a store customer.
    Contact(Contact),
    /// See [`Company`].
    Company(Company),
    /// See [`Deal`].
    Deal(Deal),
    /// See [`Owner`].
    Owner(Owner),
    /// See [`Note`].
    Note(Note),
    /// See [`Association`].
    Association(Association),
    /// See [`List`].
    List(List),
    /// See [`Membership`].
    Membership(Membership),
    /// See [`Tag`].
    Tag(Tag),
    /// See [`Segment`].
    Segment(Segment),
    /// See [`Campaign`].
    Campaign(Campaign),
    /// See [`EngagementEvent`].
    EngagementEvent(EngagementEvent),
    /// See [`Partner`].
    Partner(Partner),
    /// See [`Program`].
    Program(Program),
    /// See [`TrackingLink`].
    TrackingLink(TrackingLink),
    /// See [`CouponCode`].
    CouponCode(CouponCode),
    /// See [`Click`].
    Click(Click),
    /// See [`Conversion`].
    Conversion(Conversion),
    /// See [`Commission`].
    Commission(Commission),
    /// See [`Payout`].
    Payout(Payout),
    /// See [`Customer`].
    Customer(Customer),
    /// See [`Order`].
    Order(Order),
    /// See [`DiscountCode`].
    DiscountCode(DiscountCode),
    /// See [`CustomFieldDefinition`].
    CustomFieldDefinition(CustomFieldDefinition),
    /// See [`Integration`].
    Integration(Integration),
}

impl Entity {
    /// The kind of entity, without its fields.
    pub fn kind(&self) -> EntityKind {
        match self {
            Entity::Contact(_) => EntityKind::Contact,
            Entity::Company(_) => EntityKind::Company,
            Entity::Deal(_) => EntityKind::Deal,
            Entity::Owner(_) => EntityKind::Owner,
            Entity::Note(_) => EntityKind::Note,
            Entity::Association(_) => EntityKind::Association,
            Entity::List(_) => EntityKind::List,
            Entity::Membership(_) => EntityKind::Membership,
            Entity::Tag(_) => EntityKind::Tag,
            Entity::Segment(_) => EntityKind::Segment,
            Entity::Campaign(_) => EntityKind::Campaign,
            Entity::EngagementEvent(_) => EntityKind::EngagementEvent,
            Entity::Partner(_) => EntityKind::Partner,
            Entity::Program(_) => EntityKind::Program,
            Entity::TrackingLink(_) => EntityKind::TrackingLink,
            Entity::CouponCode(_) => EntityKind::CouponCode,
            Entity::Click(_) => EntityKind::Click,
            Entity::Conversion(_) => EntityKind::Conversion,
            Entity::Commission(_) => EntityKind::Commission,
            Entity::Payout(_) => EntityKind::Payout,
            Entity::Customer(_) => EntityKind::Customer,
            Entity::Order(_) => EntityKind::Order,
            Entity::DiscountCode(_) => EntityKind::DiscountCode,
            Entity::CustomFieldDefinition(_) => EntityKind::CustomFieldDefinition,
            Entity::Integration(_) => EntityKind::Integration,
        }
    }
}

/// The kind of a canonical entity, as named in plugin metadata and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// See [`Contact`].
    Contact,
    /// See [`Company`].
    Company,
    /// See [`Deal`].
    Deal,
    /// See [`Owner`].
    Owner,
    /// See [`Note`].
    Note,
    /// See [`Association`].
    Association,
    /// See [`List`].
    List,
    /// See [`Membership`].
    Membership,
    /// See [`Tag`].
    Tag,
    /// See [`Segment`].
    Segment,
    /// See [`Campaign`].
    Campaign,
    /// See [`EngagementEvent`].
    EngagementEvent,
    /// See [`Partner`].
    Partner,
    /// See [`Program`].
    Program,
    /// See [`TrackingLink`].
    TrackingLink,
    /// See [`CouponCode`].
    CouponCode,
    /// See [`Click`].
    Click,
    /// See [`Conversion`].
    Conversion,
    /// See [`Commission`].
    Commission,
    /// See [`Payout`].
    Payout,
    /// See [`Customer`].
    Customer,
    /// See [`Order`].
    Order,
    /// See [`DiscountCode`].
    DiscountCode,
    /// See [`CustomFieldDefinition`].
    CustomFieldDefinition,
    /// See [`Integration`].
    Integration,
}

impl EntityKind {
    /// Every kind, in declaration order.
    pub const ALL: &[EntityKind] = &[
        EntityKind::Contact,
        EntityKind::Company,
        EntityKind::Deal,
        EntityKind::Owner,
        EntityKind::Note,
        EntityKind::Association,
        EntityKind::List,
        EntityKind::Membership,
        EntityKind::Tag,
        EntityKind::Segment,
        EntityKind::Campaign,
        EntityKind::EngagementEvent,
        EntityKind::Partner,
        EntityKind::Program,
        EntityKind::TrackingLink,
        EntityKind::CouponCode,
        EntityKind::Click,
        EntityKind::Conversion,
        EntityKind::Commission,
        EntityKind::Payout,
        EntityKind::Customer,
        EntityKind::Order,
        EntityKind::DiscountCode,
        EntityKind::CustomFieldDefinition,
        EntityKind::Integration,
    ];

    /// Every kind in the order a migration loads them: each after the kinds
    /// its references point at (owners → companies → contacts → lists and
    /// consent → deals → events; partners → links → clicks → conversions →
    /// commissions), so a foreign key can be rewritten through the id map
    /// when its record is written. Self-references (a company's parent, a
    /// partner's parent) need the engine's second pass.
    pub const LOAD_ORDER: &[EntityKind] = &[
        EntityKind::CustomFieldDefinition,
        EntityKind::Integration,
        EntityKind::Owner,
        EntityKind::Company,
        EntityKind::Contact,
        EntityKind::Customer,
        EntityKind::List,
        EntityKind::Tag,
        EntityKind::Segment,
        EntityKind::Membership,
        EntityKind::Campaign,
        EntityKind::Deal,
        EntityKind::Note,
        EntityKind::Association,
        EntityKind::EngagementEvent,
        EntityKind::Program,
        EntityKind::Partner,
        EntityKind::TrackingLink,
        EntityKind::DiscountCode,
        EntityKind::CouponCode,
        EntityKind::Order,
        EntityKind::Click,
        EntityKind::Conversion,
        EntityKind::Payout,
        EntityKind::Commission,
    ];

    /// This kind's place in [`EntityKind::LOAD_ORDER`].
    pub fn load_rank(self) -> usize {
        EntityKind::LOAD_ORDER.iter().position(|kind| *kind == self).unwrap_or(EntityKind::LOAD_ORDER.len())
    }

    /// The stable lowercase name used in metadata, reports and state.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Contact => "contact",
            EntityKind::Company => "company",
            EntityKind::Deal => "deal",
            EntityKind::Owner => "owner",
            EntityKind::Note => "note",
            EntityKind::Association => "association",
            EntityKind::List => "list",
            EntityKind::Membership => "membership",
            EntityKind::Tag => "tag",
            EntityKind::Segment => "segment",
            EntityKind::Campaign => "campaign",
            EntityKind::EngagementEvent => "engagement_event",
            EntityKind::Partner => "partner",
            EntityKind::Program => "program",
            EntityKind::TrackingLink => "tracking_link",
            EntityKind::CouponCode => "coupon_code",
            EntityKind::Click => "click",
            EntityKind::Conversion => "conversion",
            EntityKind::Commission => "commission",
            EntityKind::Payout => "payout",
            EntityKind::Customer => "customer",
            EntityKind::Order => "order",
            EntityKind::DiscountCode => "discount_code",
            EntityKind::CustomFieldDefinition => "custom_field_definition",
            EntityKind::Integration => "integration",
        }
    }
}

/// A pointer from one record to another on the same source platform: the
/// other record's kind and its source id.
///
/// The engine rewrites it through its id map when it writes the record, so a
/// destination sees its own id in `source_id` from then on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reference {
    /// The kind of the record pointed at.
    pub entity: EntityKind,
    /// That record's id on the platform, as in its [`Record::source_id`](crate::Record::source_id).
    pub source_id: CompactString,
}

impl Reference {
    /// A reference to the `entity` whose source id is `source_id`.
    pub fn new(entity: EntityKind, source_id: impl Into<CompactString>) -> Reference {
        Reference { entity, source_id: source_id.into() }
    }
}

/// Generates [`Entity::references`] and [`Entity::references_mut`] from one
/// table: each entity and its fields that hold a `Reference`, an
/// `Option<Reference>` or a `Vec<Reference>`. The match is exhaustive, so a
/// new entity cannot be forgotten here.
macro_rules! reference_fields {
    ($($variant:ident => [$($field:ident),*],)*) => {
        impl Entity {
            /// Every foreign reference of the record, each with the name of
            /// the field that holds it (a list field gives one entry per
            /// element), in field order.
            pub fn references(&self) -> Vec<(&'static str, &Reference)> {
                let mut found = Vec::new();
                match self {
                    $(Entity::$variant(_body) => {
                        $(found.extend(_body.$field.iter().map(|reference| (stringify!($field), reference)));)*
                    })*
                }
                found
            }

            /// As [`Entity::references`], to rewrite them in place (source ids
            /// to target ids through the id map).
            pub fn references_mut(&mut self) -> Vec<(&'static str, &mut Reference)> {
                let mut found = Vec::new();
                match self {
                    $(Entity::$variant(_body) => {
                        $(found.extend(_body.$field.iter_mut().map(|reference| (stringify!($field), reference)));)*
                    })*
                }
                found
            }

            /// Removes the references for which `keep` says no (an optional
            /// field becomes empty, a list loses the element); returns how
            /// many were removed.
            pub fn retain_references(&mut self, mut keep: impl FnMut(&'static str, &Reference) -> bool) -> usize {
                let mut removed = 0;
                match self {
                    $(Entity::$variant(_body) => {
                        $(removed += ReferenceSlot::retain(&mut _body.$field, |reference| keep(stringify!($field), reference));)*
                    })*
                }
                removed
            }
        }

        impl EntityKind {
            /// Whether records of this kind can hold references to other records.
            pub fn has_references(self) -> bool {
                match self {
                    $(EntityKind::$variant => 0 $(+ { let _ = stringify!($field); 1 })* > 0,)*
                }
            }
        }

        #[cfg(test)]
        /// The table, by entity kind name, for the test that checks it against the types.
        const REFERENCE_FIELDS: &[(&str, &[&str])] = &[$((stringify!($variant), &[$(stringify!($field)),*])),*];
    };
}

/// A field that holds references: an `Option<Reference>` or a `Vec<Reference>`.
trait ReferenceSlot {
    /// Keeps the references `keep` accepts; returns how many were removed.
    fn retain(&mut self, keep: impl FnMut(&Reference) -> bool) -> usize;
}

impl ReferenceSlot for Option<Reference> {
    fn retain(&mut self, mut keep: impl FnMut(&Reference) -> bool) -> usize {
        match self {
            Some(reference) if !keep(reference) => {
                *self = None;
                1
            }
            _ => 0,
        }
    }
}

impl ReferenceSlot for Vec<Reference> {
    fn retain(&mut self, keep: impl FnMut(&Reference) -> bool) -> usize {
        let before = self.len();
        Vec::retain(self, keep);
        before - self.len()
    }
}

reference_fields! {
    Contact => [],
    Company => [owner, parent],
    Deal => [owner, company, contacts],
    Owner => [],
    Note => [owner, attached_to],
    Association => [from, to],
    List => [],
    Membership => [list, contact],
    Tag => [list],
    Segment => [list],
    Campaign => [lists, segments],
    EngagementEvent => [campaign, contact, list],
    Partner => [parent],
    Program => [],
    TrackingLink => [partner, program],
    CouponCode => [partner, program, discount_code],
    Click => [partner, tracking_link, program],
    Conversion => [click, partner, program, customer, order],
    Commission => [conversion, partner, payout],
    Payout => [partner],
    Customer => [contact],
    Order => [customer],
    DiscountCode => [],
    CustomFieldDefinition => [],
    Integration => [],
}

/// A person. Every field is optional because platforms disagree on what is
/// required; validation (engine issue) decides what a destination needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Contact {
    /// The address as the source gave it (normalised copies are for matching only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<CompactString>,
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<CompactString>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<CompactString>,
    /// Phone number as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<CompactString>,
    /// Employer or account name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<CompactString>,
    /// When the source first saw this person, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub created_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests;
