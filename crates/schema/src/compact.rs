//! Compact forms for binary encodings. JSON and other human-readable formats
//! keep RFC 3339 timestamps and decimal strings; a binary format (the plugin
//! boundary's MessagePack) gets integers and raw bytes instead, which are
//! several times cheaper to write and to read back than text to format and
//! parse. Chosen per serializer with `is_human_readable`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `DateTime<Utc>`: RFC 3339 text, or `(seconds, nanoseconds)` since the epoch.
pub(crate) mod instant {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(instant: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            instant.serialize(serializer)
        } else {
            (instant.timestamp(), instant.timestamp_subsec_nanos()).serialize(serializer)
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        if deserializer.is_human_readable() {
            DateTime::<Utc>::deserialize(deserializer)
        } else {
            let (seconds, nanoseconds) = <(i64, u32)>::deserialize(deserializer)?;
            DateTime::from_timestamp(seconds, nanoseconds)
                .ok_or_else(|| D::Error::custom(format!("timestamp {seconds}.{nanoseconds:09} is out of range")))
        }
    }
}

/// `Option<DateTime<Utc>>`, as [`instant`].
pub(crate) mod optional_instant {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Wrapped(#[serde(with = "instant")] DateTime<Utc>);

    pub(crate) fn serialize<S: Serializer>(instant: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
        instant.map(Wrapped).serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(instant)| instant))
    }
}

/// `Decimal`: its exact decimal string, or its 16-byte binary form.
pub(crate) mod decimal {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            Serialize::serialize(value, serializer)
        } else {
            serializer.serialize_bytes(&value.serialize())
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        if deserializer.is_human_readable() {
            <Decimal as Deserialize>::deserialize(deserializer)
        } else {
            let bytes = serde_bytes_16(deserializer)?;
            Ok(Decimal::deserialize(bytes))
        }
    }

    fn serde_bytes_16<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 16], D::Error> {
        struct Sixteen;
        impl serde::de::Visitor<'_> for Sixteen {
            type Value = [u8; 16];
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("16 bytes of a binary decimal")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<[u8; 16], E> {
                bytes.try_into().map_err(|_| E::invalid_length(bytes.len(), &self))
            }
        }
        deserializer.deserialize_bytes(Sixteen)
    }
}

/// `Option<Decimal>`, as [`decimal`].
pub(crate) mod optional_decimal {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Wrapped(#[serde(with = "decimal")] Decimal);

    pub(crate) fn serialize<S: Serializer>(value: &Option<Decimal>, serializer: S) -> Result<S::Ok, S::Error> {
        value.map(Wrapped).serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(value)| value))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Contact, CustomValue, Entity, Record};
    use chrono::{TimeZone, Utc};
    use rust_decimal::Decimal;

    fn record() -> Record {
        let instant = Utc.timestamp_opt(1_767_225_600, 123_456_789).unwrap();
        let mut record = Record::new(
            "x",
            "1",
            instant,
            Entity::Contact(Contact { created_at: Some(instant), ..Contact::default() }),
        );
        record.custom_fields.insert("amount".into(), CustomValue::Decimal(Decimal::new(-123_456, 3)));
        record.custom_fields.insert("seen".into(), CustomValue::DateTime(instant));
        record
    }

    #[test]
    fn json_keeps_text_forms() {
        let json = serde_json::to_string(&record()).unwrap();
        assert!(json.contains(r#""updated_at":"2026-01-01T00:00:00.123456789Z""#), "{json}");
        assert!(json.contains(r#""amount":{"decimal":"-123.456"}"#), "{json}");
        assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), record());
    }

    #[test]
    fn binary_round_trips_exactly_with_nanoseconds() {
        let bytes = rmp_serde::to_vec_named(&record()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("2026-01-01") && !text.contains("123.456"), "binary forms, not text: {text}");
        assert_eq!(rmp_serde::from_slice::<Record>(&bytes).unwrap(), record());
    }
}
