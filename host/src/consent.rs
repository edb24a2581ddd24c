//! Consent is never upgraded by a migration.
//!
//! A person who unsubscribed, bounced, was cleaned or is suppressed must not
//! come out of a migration subscribed, whatever the mapping rules say. The
//! engine compares each membership's consent as read with the consent the
//! mapping produced, channel by channel, and where the mapping raised it (or
//! dropped a channel the source had a status for) it keeps the status as
//! read ([`guard`]). It also counts every channel's status before and after
//! ([`ConsentTally`]), so the run summary shows that they match.

use cutover_schema::{Consent, ConsentState, ConsentStatus, Entity, Record};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How much a status lets a platform send: what a migration may never raise.
fn permission(state: Option<&ConsentState>) -> u8 {
    match state.map(|state| state.status) {
        Some(status) if status.is_suppression() => 0,
        // Unknown: a destination may take it for anything, so it ranks highest.
        None => 4,
        Some(ConsentStatus::NonSubscribed) => 1,
        Some(ConsentStatus::Pending) => 2,
        Some(_) => 3,
    }
}

/// The channels of a consent, by name.
fn channels(consent: &Consent) -> [(&'static str, Option<&ConsentState>); 6] {
    [
        ("email", consent.email.as_ref()),
        ("sms", consent.sms.as_ref()),
        ("whatsapp", consent.whatsapp.as_ref()),
        ("push", consent.push.as_ref()),
        ("phone", consent.phone.as_ref()),
        ("postal", consent.postal.as_ref()),
    ]
}

fn channels_mut(consent: &mut Consent) -> [&mut Option<ConsentState>; 6] {
    [
        &mut consent.email,
        &mut consent.sms,
        &mut consent.whatsapp,
        &mut consent.push,
        &mut consent.phone,
        &mut consent.postal,
    ]
}

/// The consent a record carries, if it is a membership.
pub fn consent_of(record: &Record) -> Option<&Consent> {
    match &record.entity {
        Entity::Membership(membership) => Some(&membership.consent),
        _ => None,
    }
}

fn consent_of_mut(record: &mut Record) -> Option<&mut Consent> {
    match &mut record.entity {
        Entity::Membership(membership) => Some(&mut membership.consent),
        _ => None,
    }
}

/// Whether any channel of `consent` is a suppression.
pub fn has_suppression(consent: &Consent) -> bool {
    channels(consent).iter().any(|(_, state)| state.is_some_and(|state| state.status.is_suppression()))
}

/// Puts back, on every channel where `after` would let a platform send more
/// than `before` did, the state as read. Returns the channels put back.
pub fn guard(before: &Consent, after: &mut Consent) -> Vec<&'static str> {
    let mut restored = Vec::new();
    for ((name, read), written) in channels(before).into_iter().zip(channels_mut(after)) {
        // A channel the source said nothing about stays the mapping's to set.
        if read.is_some() && permission(written.as_ref()) > permission(read) {
            *written = read.cloned();
            restored.push(name);
        }
    }
    restored
}

/// Applies [`guard`] to a mapped record against the record as read; returns
/// the channels put back.
pub fn guard_record(read: Option<&Consent>, mapped: &mut Record) -> Vec<&'static str> {
    match (read, consent_of_mut(mapped)) {
        (Some(before), Some(after)) => guard(before, after),
        _ => Vec::new(),
    }
}

/// How many memberships had a status on a channel before the mapping (as
/// read) and after it (as handed to the destination).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentCount {
    /// As read.
    pub before: u64,
    /// As written.
    pub after: u64,
}

/// Consent counts by `channel: status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConsentTally(pub BTreeMap<String, ConsentCount>);

impl ConsentTally {
    /// Counts one membership's consent as read and as written.
    pub fn count(&mut self, before: &Consent, after: &Consent) {
        for (name, state) in channels(before) {
            if let Some(state) = state {
                self.entry(name, state.status).before += 1;
            }
        }
        for (name, state) in channels(after) {
            if let Some(state) = state {
                self.entry(name, state.status).after += 1;
            }
        }
    }

    fn entry(&mut self, channel: &str, status: ConsentStatus) -> &mut ConsentCount {
        let status = serde_json::to_value(status).ok().and_then(|value| value.as_str().map(str::to_owned));
        self.0.entry(format!("{channel}: {}", status.unwrap_or_default())).or_default()
    }

    /// Adds another tally's counts.
    pub fn add(&mut self, other: &ConsentTally) {
        for (key, count) in &other.0 {
            let entry = self.0.entry(key.clone()).or_default();
            entry.before += count.before;
            entry.after += count.after;
        }
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConsentStatus::{Bounced, Cleaned, NonSubscribed, Pending, Subscribed, Suppressed, Unsubscribed};
    use proptest::prelude::*;

    fn state(status: ConsentStatus) -> ConsentState {
        ConsentState { source: Some("import".into()), ..ConsentState::new(status) }
    }

    /// The columns of [`MAY_BECOME`]: a channel as the mapping left it
    /// (`None`: the mapping dropped the channel).
    const MAPPED: [Option<ConsentStatus>; 8] = [
        Some(Subscribed),
        Some(Pending),
        Some(NonSubscribed),
        Some(Unsubscribed),
        Some(Bounced),
        Some(Cleaned),
        Some(Suppressed),
        None,
    ];

    /// Which status a channel read as (row) may be mapped to (column, in
    /// the order of [`MAPPED`]) without raising consent: `y` the mapping
    /// stands, `.` the guard puts the channel back as read. Written by hand
    /// from the meaning of the statuses (`cutover_schema::ConsentStatus`),
    /// not computed from any ranking:
    /// - subscribed may become anything the platform sends less on;
    /// - pending (a confirmation may be sent) never becomes subscribed;
    /// - non-subscribed (transactional only) never becomes pending, since
    ///   that would send a confirmation to someone who never asked, nor
    ///   subscribed;
    /// - an unsubscribed, bounced, cleaned or suppressed person stays a
    ///   suppression (which one may change: none of them is mailed) and
    ///   never becomes subscribed, pending or non-subscribed;
    /// - a channel the source had a status for is never dropped (a
    ///   destination could take a missing status for anything);
    /// - a channel the source said nothing about is the mapping's to set.
    #[rustfmt::skip]
    const MAY_BECOME: [(Option<ConsentStatus>, &str); 8] = [
        //                      sub pen non uns bou cle sup none
        (Some(Subscribed),    "  y   y   y   y   y   y   y   .  "),
        (Some(Pending),       "  .   y   y   y   y   y   y   .  "),
        (Some(NonSubscribed), "  .   .   y   y   y   y   y   .  "),
        (Some(Unsubscribed),  "  .   .   .   y   y   y   y   .  "),
        (Some(Bounced),       "  .   .   .   y   y   y   y   .  "),
        (Some(Cleaned),       "  .   .   .   y   y   y   y   .  "),
        (Some(Suppressed),    "  .   .   .   y   y   y   y   .  "),
        (None,                "  y   y   y   y   y   y   y   y  "),
    ];

    /// Whether the table lets a channel read as `read` be mapped to `mapped`.
    fn may_become(read: Option<ConsentStatus>, mapped: Option<ConsentStatus>) -> bool {
        let (_, row) = MAY_BECOME.iter().find(|(row, _)| *row == read).expect("every status has a row");
        let cells: Vec<char> = row.chars().filter(|cell| !cell.is_whitespace()).collect();
        assert_eq!(cells.len(), MAPPED.len(), "row {read:?}");
        let column = MAPPED.iter().position(|column| *column == mapped).expect("every status has a column");
        cells[column] == 'y'
    }

    /// A channel as read, and as mapped: told apart by their provenance.
    fn read_as(status: Option<ConsentStatus>) -> Option<ConsentState> {
        status.map(|status| ConsentState { source: Some("as read".into()), ..ConsentState::new(status) })
    }

    fn mapped_to(status: Option<ConsentStatus>) -> Option<ConsentState> {
        status.map(|status| ConsentState { source: Some("as mapped".into()), ..ConsentState::new(status) })
    }

    fn with_channel(channel: usize, state: Option<ConsentState>) -> Consent {
        let mut consent = Consent::default();
        *channels_mut(&mut consent)[channel] = state;
        consent
    }

    #[test]
    fn the_table_names_every_status_read_and_mapped() {
        let every: Vec<Option<ConsentStatus>> =
            ConsentStatus::ALL.iter().copied().map(Some).chain(std::iter::once(None)).collect();
        for status in &every {
            assert!(MAY_BECOME.iter().any(|(row, _)| row == status), "no row for {status:?}");
            assert!(MAPPED.contains(status), "no column for {status:?}");
        }
        assert_eq!((MAY_BECOME.len(), MAPPED.len()), (every.len(), every.len()));
    }

    /// Every pair of statuses (and no status), as read × as mapped, on
    /// every channel: the guard keeps exactly what the hand-written table
    /// allows, and puts back the state as read (provenance included) where
    /// it does not, touching no other channel.
    #[test]
    fn the_guard_allows_exactly_the_changes_the_table_allows_on_every_channel() {
        let names = ["email", "sms", "whatsapp", "push", "phone", "postal"];
        let mut checked = 0;
        for (channel, name) in names.into_iter().enumerate() {
            for (read, _) in MAY_BECOME {
                for mapped in MAPPED {
                    let before = with_channel(channel, read_as(read));
                    let mut after = with_channel(channel, mapped_to(mapped));
                    let restored = guard(&before, &mut after);
                    if may_become(read, mapped) {
                        assert!(restored.is_empty(), "{read:?} → {mapped:?} on {name} was put back");
                        assert_eq!(after, with_channel(channel, mapped_to(mapped)), "{read:?} → {mapped:?}");
                    } else {
                        assert_eq!(restored, [name], "{read:?} → {mapped:?} on {name} was let through");
                        assert_eq!(after, before, "{read:?} → {mapped:?}: not put back as read");
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 6 * 8 * 8);
    }

    fn channel() -> impl Strategy<Value = Option<ConsentStatus>> {
        proptest::sample::select(MAPPED.to_vec())
    }

    fn statuses() -> impl Strategy<Value = [Option<ConsentStatus>; 6]> {
        (channel(), channel(), channel(), channel(), channel(), channel())
            .prop_map(|(email, sms, whatsapp, push, phone, postal)| [email, sms, whatsapp, push, phone, postal])
    }

    fn consent(
        statuses: [Option<ConsentStatus>; 6],
        state: fn(Option<ConsentStatus>) -> Option<ConsentState>,
    ) -> Consent {
        let mut consent = Consent::default();
        for (slot, status) in channels_mut(&mut consent).into_iter().zip(statuses) {
            *slot = state(status);
        }
        consent
    }

    proptest! {
        /// Whole consents, every channel at once: each channel ends as the
        /// table says, whatever the other channels hold.
        #[test]
        fn channels_are_guarded_each_by_the_table(read in statuses(), mapped in statuses()) {
            let before = consent(read, read_as);
            let mut after = consent(mapped, mapped_to);
            let restored = guard(&before, &mut after);
            let names = ["email", "sms", "whatsapp", "push", "phone", "postal"];
            let mut expected_restored = Vec::new();
            for (index, ((read, mapped), (_, written))) in read.into_iter().zip(mapped).zip(channels(&after)).enumerate() {
                if may_become(read, mapped) {
                    prop_assert_eq!(written.cloned(), mapped_to(mapped));
                } else {
                    prop_assert_eq!(written.cloned(), read_as(read));
                    expected_restored.push(names[index]);
                }
            }
            prop_assert_eq!(restored, expected_restored);
        }
    }

    #[test]
    fn an_unsubscribed_person_mapped_to_subscribed_stays_unsubscribed_and_a_downgrade_stands() {
        let before = Consent {
            email: Some(state(ConsentStatus::Unsubscribed)),
            sms: Some(state(ConsentStatus::Subscribed)),
            ..Consent::default()
        };
        let mut after = Consent {
            email: Some(state(ConsentStatus::Subscribed)),
            sms: Some(state(ConsentStatus::NonSubscribed)),
            ..Consent::default()
        };
        assert_eq!(guard(&before, &mut after), ["email"]);
        assert_eq!(after.email, before.email);
        assert_eq!(after.sms.map(|state| state.status), Some(ConsentStatus::NonSubscribed));
        let mut dropped = Consent::default();
        assert_eq!(guard(&before, &mut dropped), ["email", "sms"], "a dropped channel is put back");
    }

    #[test]
    fn the_tally_counts_each_channel_before_and_after() {
        let before = Consent { email: Some(state(ConsentStatus::Cleaned)), ..Consent::default() };
        let after = Consent { email: Some(state(ConsentStatus::Bounced)), ..Consent::default() };
        let mut tally = ConsentTally::default();
        tally.count(&before, &after);
        tally.count(&before, &before);
        assert_eq!(tally.0["email: cleaned"], ConsentCount { before: 2, after: 1 });
        assert_eq!(tally.0["email: bounced"], ConsentCount { before: 0, after: 1 });
    }
}
