//! The envelope every canonical record travels in.

use crate::{CompactString, CustomValue, Entity};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One canonical record: where it came from, when it last changed, its typed
/// fields and its custom fields.
///
/// Readers tolerate unknown fields, so a newer minor of the schema can add
/// fields without breaking older plugins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Record {
    /// The platform the record was read from (a plugin name, e.g. `mailchimp`).
    pub source_platform: CompactString,
    /// The record's id on that platform, kept verbatim.
    pub source_id: CompactString,
    /// When the record last changed on the source, in UTC with the source's precision.
    #[serde(with = "crate::compact::instant")]
    #[schemars(with = "DateTime<Utc>")]
    pub updated_at: DateTime<Utc>,
    /// The entity and its typed fields.
    pub entity: Entity,
    /// Custom fields by name, typed; never dropped.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_fields: BTreeMap<CompactString, CustomValue>,
}

impl Record {
    /// A record with no custom fields.
    pub fn new(
        source_platform: impl Into<CompactString>,
        source_id: impl Into<CompactString>,
        updated_at: DateTime<Utc>,
        entity: Entity,
    ) -> Record {
        Record {
            source_platform: source_platform.into(),
            source_id: source_id.into(),
            updated_at,
            entity,
            custom_fields: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Contact;
    use chrono::TimeZone;
    use rust_decimal::Decimal;

    fn sample() -> Record {
        let mut record = Record::new(
            "generator",
            "42",
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
            Entity::Contact(Contact {
                email: Some("Zoë@Example.org".into()),
                first_name: Some("Zoë".into()),
                ..Contact::default()
            }),
        );
        record.custom_fields.insert("lifetime_value".into(), CustomValue::Decimal(Decimal::new(123_450, 2)));
        record
    }

    #[test]
    fn json_round_trip_keeps_types() {
        let record = sample();
        let json = serde_json::to_string(&record).unwrap();
        assert!(json.contains(r#""lifetime_value":{"decimal":"1234.50"}"#), "{json}");
        let back: Record = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record);
    }

    #[test]
    fn unknown_fields_from_a_newer_minor_are_tolerated() {
        let json = r#"{"source_platform":"x","source_id":"1","updated_at":"2026-01-01T00:00:00Z",
            "entity":{"contact":{"email":"a@b.c","loyalty_tier":"gold"}},"added_in_1_1":true}"#;
        let record: Record = serde_json::from_str(json).unwrap();
        assert_eq!(record.source_id, "1");
    }
}
