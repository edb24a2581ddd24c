//! Engagement event `i` of a seed, as a pure function of `(seed, i)`: a
//! send, open or click by one of the data set's contacts, in 2025.

use crate::GeneratorConfig;
use crate::contacts::{contact, epoch};
use chrono::Duration;
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{EngagementEvent, EngagementKind, format_compact};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// What the events are, weighted as a mailing's funnel: many sends, fewer opens, few clicks.
const KINDS: &[EngagementKind] = &[
    EngagementKind::Sent,
    EngagementKind::Sent,
    EngagementKind::Sent,
    EngagementKind::Open,
    EngagementKind::Open,
    EngagementKind::Click,
];

/// The event at `index` of the data set `config` describes; `None` when the
/// data set has no contacts for it to happen to.
pub(crate) fn event(config: &GeneratorConfig, index: u64) -> Option<Record> {
    if config.records == 0 {
        return None;
    }
    // A different stream of numbers from the contacts' for the same index.
    let mut rng = Pcg64Mcg::seed_from_u64(!config.seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let person = contact(config, rng.random_range(0..config.records));
    let Entity::Contact(person_contact) = &person.entity else { return None };
    let kind = KINDS[rng.random_range(0..KINDS.len())];
    let occurred_at = epoch() + Duration::seconds(rng.random_range(0..31_536_000));
    let event = EngagementEvent {
        kind: Some(kind),
        occurred_at: Some(occurred_at),
        contact: None,
        campaign: None,
        list: None,
        email: person_contact.email.clone(),
        url: (kind == EngagementKind::Click)
            .then(|| format_compact!("https://shop.example.com/p/{}", rng.random_range(0..500u32))),
    };
    Some(Record::new(
        config.platform.as_str(),
        format_compact!("e{index}"),
        occurred_at,
        Entity::EngagementEvent(event),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_reproducible_and_happen_to_contacts_of_the_set() {
        let config = GeneratorConfig { events: 100, ..GeneratorConfig::new(10, 3) };
        assert_eq!(event(&config, 7), event(&config, 7));
        let emails: Vec<_> = (0..10)
            .map(|index| match contact(&config, index).entity {
                Entity::Contact(contact) => contact.email,
                _ => None,
            })
            .collect();
        for index in 0..100 {
            let Some(record) = event(&config, index) else { panic!("no event {index}") };
            assert_eq!(record.source_id, format!("e{index}"));
            let Entity::EngagementEvent(event) = record.entity else { panic!("not an event") };
            assert!(emails.contains(&event.email), "{:?}", event.email);
            assert!(event.occurred_at.is_some());
        }
    }

    #[test]
    fn no_contacts_no_events() {
        let config = GeneratorConfig { events: 5, ..GeneratorConfig::new(0, 1) };
        assert_eq!(event(&config, 0), None);
    }
}
