//! Record `i` of a seed, as a pure function of `(seed, i)`.

use crate::GeneratorConfig;
use chrono::{DateTime, Duration, TimeZone, Utc};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::format_compact;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rust_decimal::Decimal;

// Names in several scripts, so every consumer meets real UTF-8.
const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Zoë",
    "José",
    "Chloé",
    "Björn",
    "Aiko",
    "Wei",
    "Olusegun",
    "Priya",
    "Łukasz",
    "Дмитрий",
    "Σοφία",
    "美咲",
    "Noah",
];
const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Müller",
    "García",
    "Ødegaard",
    "Tanaka",
    "Chen",
    "Adeyemi",
    "Patel",
    "Kowalski",
    "Иванов",
    "Παπαδοπούλου",
    "佐藤",
    "O'Brien",
];
const DOMAINS: &[&str] = &["example.com", "example.org", "mail.example.net", "exämple.de"];
const SOURCES: &[&str] = &["checkout", "newsletter_form", "import", "partner_referral"];

pub(crate) fn epoch() -> DateTime<Utc> {
    // 2025-01-01T00:00:00Z; a fixed start keeps data sets reproducible.
    Utc.timestamp_opt(1_735_689_600, 0).single().unwrap_or(DateTime::UNIX_EPOCH)
}

/// The contact at `index` of the data set `config` describes.
pub(crate) fn contact(config: &GeneratorConfig, index: u64) -> Record {
    let mut rng = Pcg64Mcg::seed_from_u64(config.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
    let domain = DOMAINS[rng.random_range(0..DOMAINS.len())];
    let created_at = epoch() + Duration::seconds(rng.random_range(0..31_536_000));
    let updated_at = created_at + Duration::seconds(rng.random_range(0..8_640_000));
    let contact = Contact {
        email: Some(format_compact!("contact{index}@{domain}")),
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        phone: rng.random_bool(0.6).then(|| format_compact!("+4420{:08}", rng.random_range(0..100_000_000u32))),
        company: rng.random_bool(0.3).then(|| format_compact!("{last} & Co")),
        created_at: Some(created_at),
    };
    let mut record =
        Record::new(config.platform.as_str(), format_compact!("c{index}"), updated_at, Entity::Contact(contact));
    record
        .custom_fields
        .insert("lifetime_value".into(), CustomValue::Decimal(Decimal::new(rng.random_range(0..5_000_000), 2)));
    record.custom_fields.insert("vip".into(), CustomValue::Boolean(rng.random_bool(0.05)));
    record
        .custom_fields
        .insert("signup_source".into(), CustomValue::Text(SOURCES[rng.random_range(0..SOURCES.len())].into()));
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seed: u64) -> GeneratorConfig {
        GeneratorConfig::new(10, seed)
    }

    #[test]
    fn same_seed_same_record() {
        assert_eq!(contact(&config(7), 3), contact(&config(7), 3));
    }

    #[test]
    fn different_seeds_differ() {
        assert_ne!(contact(&config(7), 3), contact(&config(8), 3));
    }

    #[test]
    fn ids_are_unique_per_index() {
        assert_eq!(contact(&config(7), 3).source_id, "c3");
        assert_eq!(contact(&config(7), 4).source_id, "c4");
    }
}
