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
    use proptest::prelude::*;

    fn state(status: ConsentStatus) -> ConsentState {
        ConsentState { source: Some("import".into()), ..ConsentState::new(status) }
    }

    fn channel() -> impl Strategy<Value = Option<ConsentState>> {
        proptest::option::of(proptest::sample::select(ConsentStatus::ALL.to_vec()).prop_map(state))
    }

    fn consent() -> impl Strategy<Value = Consent> {
        (channel(), channel(), channel(), channel(), channel(), channel()).prop_map(
            |(email, sms, whatsapp, push, phone, postal)| Consent { email, sms, whatsapp, push, phone, postal },
        )
    }

    proptest! {
        /// Whatever the mapping made of a consent, after the guard no channel
        /// lets a platform send more than the source did, and a suppressed
        /// channel keeps its suppression.
        #[test]
        fn no_mapping_can_upgrade_consent(before in consent(), mapped in consent()) {
            let mut after = mapped.clone();
            guard(&before, &mut after);
            for ((_, read), (_, written)) in channels(&before).into_iter().zip(channels(&after)) {
                if read.is_some() {
                    prop_assert!(permission(written) <= permission(read), "{read:?} became {written:?}");
                }
                if let Some(read) = read.filter(|read| read.status.is_suppression()) {
                    prop_assert!(written.is_some_and(|written| written.status.is_suppression()), "{read:?} became {written:?}");
                }
            }
            // A mapping that only lowers or keeps consent is left alone.
            let mut unchanged = before.clone();
            prop_assert!(guard(&before, &mut unchanged).is_empty());
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
