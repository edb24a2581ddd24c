//! Records the kit writes to destination streams.

use chrono::{TimeZone, Utc};
use cutover_schema::{Contact, CustomValue, Entity, EntityKind, Record, format_compact};
use rust_decimal::Decimal;

/// `count` distinct records of `entity`, with UTF-8 text and typed custom fields.
pub(crate) fn records(entity: EntityKind, count: usize) -> Vec<Record> {
    (0..count)
        .map(|index| {
            let updated_at = Utc.timestamp_opt(1_767_225_600 + index as i64, 0).single().unwrap_or_default();
            let body = match entity {
                EntityKind::Contact => Entity::Contact(Contact {
                    email: Some(format_compact!("Conformance.{index}@Example.org")),
                    first_name: Some(["Zoë", "José", "美咲", "Дмитрий"][index % 4].into()),
                    last_name: Some("O'Brien, \"Jr\"\nline two".into()),
                    ..Contact::default()
                }),
            };
            let mut record = Record::new("conformance", format!("k{index}"), updated_at, body);
            record.custom_fields.insert("score".into(), CustomValue::Decimal(Decimal::new(index as i64 * 125, 2)));
            record.custom_fields.insert("tags".into(), CustomValue::List(vec![CustomValue::Text("vip".into())]));
            record
        })
        .collect()
}
