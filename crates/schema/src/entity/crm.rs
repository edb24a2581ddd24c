//! CRM entities: companies, deals, owners, notes and the associations
//! between records. People are [`Contact`](crate::Contact)s.

use super::Reference;
use crate::{Address, CompactString, Money};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// An organisation: a CRM company or account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Company {
    /// The company's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    /// Its primary web domain (`example.com`), the key most CRMs match companies on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<CompactString>,
    /// Its website URL as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<CompactString>,
    /// Industry, in the source's own vocabulary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<CompactString>,
    /// Main phone number as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<CompactString>,
    /// Postal address of its main office.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Number of employees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_count: Option<u64>,
    /// Yearly revenue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annual_revenue: Option<Money>,
    /// The [`Owner`] responsible for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Reference>,
    /// The parent [`Company`] in a group of companies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<Reference>,
    /// When the source first saw it, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub created_at: Option<DateTime<Utc>>,
}

/// A sales opportunity moving through a pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Deal {
    /// The deal's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    /// The pipeline it is in, by name as the source shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<CompactString>,
    /// Its stage in that pipeline, by name as the source shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<CompactString>,
    /// Whether it is still open, won or lost, where the source says so apart from the stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<DealStatus>,
    /// Its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// The day it closed or is expected to close, in the source's calendar.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_date: Option<NaiveDate>,
    /// The [`Owner`] responsible for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Reference>,
    /// The [`Company`] it is with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<Reference>,
    /// The [`Contact`](crate::Contact)s involved.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Reference>,
    /// When the source first saw it, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub created_at: Option<DateTime<Utc>>,
}

/// Where a [`Deal`] ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DealStatus {
    /// Still being worked on.
    Open,
    /// Closed with a sale.
    Won,
    /// Closed without a sale.
    Lost,
}

/// A user of the CRM who owns records: the owner of a company, deal or note.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Owner {
    /// The user's login address, as given; the usual key for matching users across platforms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<CompactString>,
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<CompactString>,
    /// Family name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<CompactString>,
    /// Whether the user can still sign in; records of a deactivated owner keep pointing at them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// A note or a logged activity (call, email, meeting, task) attached to records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Note {
    /// What kind of activity it records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<NoteKind>,
    /// Its subject or title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<CompactString>,
    /// Its text, as given (plain text or the source's HTML).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// When the activity happened (or, for a task, is due), in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub occurred_at: Option<DateTime<Utc>>,
    /// The [`Owner`] who wrote or logged it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Reference>,
    /// The records it is attached to (contacts, companies, deals).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attached_to: Vec<Reference>,
}

/// The kind of a [`Note`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// Free text written about the records.
    Note,
    /// A phone call.
    Call,
    /// An email logged by hand or by a mailbox sync.
    Email,
    /// A meeting.
    Meeting,
    /// A task to do.
    Task,
}

/// A link between two records that the platform stores as a record of its
/// own: a contact's company, a deal's contacts, with a label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Association {
    /// The record the link starts from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Reference>,
    /// The record the link points to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Reference>,
    /// What the link means, as the source names it (`primary company`, `billing contact`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<CompactString>,
}
