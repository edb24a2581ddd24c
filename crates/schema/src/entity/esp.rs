//! ESP entities: lists, memberships with consent per channel, tags,
//! segments, campaigns and engagement events. Subscribers are
//! [`Contact`](crate::Contact)s.

use super::Reference;
use crate::CompactString;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A list or audience that people subscribe to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct List {
    /// The list's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    /// What it is for, as described on the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether joining it needs a confirmed (double) opt-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub double_opt_in: Option<bool>,
    /// When the source created it, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub created_at: Option<DateTime<Utc>>,
}

/// One person on one [`List`], with their consent on each channel and the
/// tags they carry there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Membership {
    /// The [`List`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<Reference>,
    /// The [`Contact`](crate::Contact), where the source has person records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Reference>,
    /// The person's address as given, where the source keys members by address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<CompactString>,
    /// Consent per channel.
    #[serde(skip_serializing_if = "Consent::is_empty")]
    pub consent: Consent,
    /// Names of the [`Tag`]s the person carries on this list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<CompactString>,
    /// When the person joined the list, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub joined_at: Option<DateTime<Utc>>,
}

/// Consent per channel; a channel the source says nothing about is `None`,
/// which is not the same as [`ConsentStatus::NonSubscribed`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Consent {
    /// Marketing email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<ConsentState>,
    /// Text messages (SMS, MMS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms: Option<ConsentState>,
    /// WhatsApp messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<ConsentState>,
    /// Push notifications to an app or browser.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<ConsentState>,
    /// Marketing phone calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<ConsentState>,
    /// Letters and catalogues by post.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal: Option<ConsentState>,
}

impl Consent {
    /// Whether the source said nothing about any channel.
    pub fn is_empty(&self) -> bool {
        *self == Consent::default()
    }
}

/// A person's consent on one channel, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConsentState {
    /// What the person may be sent.
    pub status: ConsentStatus,
    /// Where the consent was given or withdrawn, as the source names it: a form, an import, an API client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<CompactString>,
    /// How it was given, as the source names it: `single_opt_in`, `double_opt_in`, `admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<CompactString>,
    /// When the status last changed, in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub changed_at: Option<DateTime<Utc>>,
    /// The address the consent was given from, where the source recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
}

impl ConsentState {
    /// A state with `status` and no provenance.
    pub fn new(status: ConsentStatus) -> ConsentState {
        ConsentState { status, source: None, method: None, changed_at: None, ip: None }
    }
}

/// What a person may be sent on a channel. Only [`Subscribed`](ConsentStatus::Subscribed)
/// allows marketing; a migration never turns a
/// [suppression](ConsentStatus::is_suppression) into a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// Opted in: may be sent marketing.
    Subscribed,
    /// Asked to opt in and has not confirmed yet (a double opt-in waiting): may
    /// be sent the confirmation only.
    Pending,
    /// Known on the channel but never opted in: may be sent transactional
    /// messages only. Mailchimp's `transactional` and Klaviyo's
    /// `never_subscribed` are this.
    NonSubscribed,
    /// Opted out.
    Unsubscribed,
    /// The address bounced hard and must not be sent to.
    Bounced,
    /// Removed by the platform as undeliverable (Mailchimp's `cleaned`): after
    /// repeated bounces, a spam trap, a dead domain.
    Cleaned,
    /// Blocked from sending by a suppression: a spam complaint, a manual or
    /// global block list.
    Suppressed,
}

impl ConsentStatus {
    /// Every status, the most willing first.
    pub const ALL: [ConsentStatus; 7] = [
        ConsentStatus::Subscribed,
        ConsentStatus::Pending,
        ConsentStatus::NonSubscribed,
        ConsentStatus::Unsubscribed,
        ConsentStatus::Bounced,
        ConsentStatus::Cleaned,
        ConsentStatus::Suppressed,
    ];

    /// Whether the person must not be sent marketing and must never be made
    /// subscribed by a migration: unsubscribed, bounced, cleaned or suppressed.
    pub fn is_suppression(self) -> bool {
        matches!(
            self,
            ConsentStatus::Unsubscribed | ConsentStatus::Bounced | ConsentStatus::Cleaned | ConsentStatus::Suppressed
        )
    }
}

/// A tag that can be put on people, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Tag {
    /// The tag's name, as shown to users; the key tags are matched on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    /// The [`List`] it belongs to, on platforms that scope tags to a list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<Reference>,
}

/// A saved segment: a named rule that selects people.
///
/// Rule languages differ on every platform, so the definition travels as the
/// source's own JSON; a destination translates what it understands and
/// rejects the rest with a reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Segment {
    /// The segment's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    /// The [`List`] it selects from, on platforms that scope segments to a list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<Reference>,
    /// The rule, exactly as the source's API returned it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<serde_json::Value>,
}

/// A message sent, or to be sent, to lists or segments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Campaign {
    /// The campaign's internal name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    /// The subject line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<CompactString>,
    /// The sender's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_name: Option<CompactString>,
    /// The sender's address, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_email: Option<CompactString>,
    /// Where it is in its life.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<CampaignStatus>,
    /// The [`List`]s it goes to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<Reference>,
    /// The [`Segment`]s it goes to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<Reference>,
    /// When it was sent (or is scheduled to be), in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub send_at: Option<DateTime<Utc>>,
    /// When the source created it, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub created_at: Option<DateTime<Utc>>,
}

/// Where a [`Campaign`] is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Being written.
    Draft,
    /// Waiting for its send time.
    Scheduled,
    /// Going out now.
    Sending,
    /// Sent.
    Sent,
    /// Stopped part-way, and may resume.
    Paused,
    /// Called off before it was sent.
    Canceled,
}

/// One thing that happened between a message and a person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct EngagementEvent {
    /// What happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<EngagementKind>,
    /// When it happened, in UTC.
    #[serde(skip_serializing_if = "Option::is_none", with = "crate::compact::optional_instant")]
    #[schemars(with = "Option<DateTime<Utc>>")]
    pub occurred_at: Option<DateTime<Utc>>,
    /// The [`Campaign`] the message belonged to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<Reference>,
    /// The [`Contact`](crate::Contact) it happened to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Reference>,
    /// The [`List`] the message went to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<Reference>,
    /// The person's address as given, where the source keys events by address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<CompactString>,
    /// For a click, the URL clicked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<CompactString>,
}

/// What happened in an [`EngagementEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EngagementKind {
    /// The message was sent to the person.
    Sent,
    /// The person opened it.
    Open,
    /// The person clicked a link in it.
    Click,
    /// It bounced.
    Bounce,
    /// The person unsubscribed from it.
    Unsubscribe,
    /// The person marked it as spam.
    Complaint,
}
