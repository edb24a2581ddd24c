//! The canonical entity types. The engine issue completes the set; each new
//! entity is an additive change.

use crate::CompactString;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The typed body of a record: one variant per canonical entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A person: a CRM contact, an ESP subscriber, a store customer.
    Contact(Contact),
}

impl Entity {
    /// The kind of entity, without its fields.
    pub fn kind(&self) -> EntityKind {
        match self {
            Entity::Contact(_) => EntityKind::Contact,
        }
    }
}

/// The kind of a canonical entity, as named in plugin metadata and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// See [`Contact`].
    Contact,
}

impl EntityKind {
    /// The stable lowercase name used in metadata, reports and state.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Contact => "contact",
        }
    }
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
