//! Typed custom fields: they travel as a map and are never dropped.

use crate::CompactString;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The value of one custom field, with its type kept.
///
/// Money and other exact numbers are [`Decimal`], never floats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomValue {
    /// Free text.
    Text(CompactString),
    /// A whole number.
    Integer(i64),
    /// An exact decimal number.
    Decimal(
        #[serde(with = "crate::compact::decimal")]
        #[schemars(with = "Decimal")]
        Decimal,
    ),
    /// Yes or no.
    Boolean(bool),
    /// A calendar date with no time of day.
    Date(NaiveDate),
    /// An instant, in UTC.
    DateTime(
        #[serde(with = "crate::compact::instant")]
        #[schemars(with = "DateTime<Utc>")]
        DateTime<Utc>,
    ),
    /// Several values (a multi-select, tags).
    List(Vec<CustomValue>),
}

impl CustomValue {
    /// The type of the value, as a [`CustomFieldDefinition`](crate::CustomFieldDefinition) declares it.
    pub fn field_type(&self) -> CustomFieldType {
        match self {
            CustomValue::Text(_) => CustomFieldType::Text,
            CustomValue::Integer(_) => CustomFieldType::Integer,
            CustomValue::Decimal(_) => CustomFieldType::Decimal,
            CustomValue::Boolean(_) => CustomFieldType::Boolean,
            CustomValue::Date(_) => CustomFieldType::Date,
            CustomValue::DateTime(_) => CustomFieldType::DateTime,
            CustomValue::List(_) => CustomFieldType::List,
        }
    }
}

/// The type of a custom field: one per [`CustomValue`] variant, with the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomFieldType {
    /// See [`CustomValue::Text`].
    Text,
    /// See [`CustomValue::Integer`].
    Integer,
    /// See [`CustomValue::Decimal`].
    Decimal,
    /// See [`CustomValue::Boolean`].
    Boolean,
    /// See [`CustomValue::Date`].
    Date,
    /// See [`CustomValue::DateTime`].
    DateTime,
    /// See [`CustomValue::List`].
    List,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: CustomValue, expected: &str) {
        let type_name = serde_json::to_value(value.field_type()).unwrap();
        let value_json = serde_json::to_value(&value).unwrap();
        let (value_name, _) = value_json.as_object().unwrap().iter().next().unwrap();
        assert_eq!((type_name.as_str().unwrap(), value_name.as_str()), (expected, expected));
    }

    #[test]
    fn field_types_are_named_as_the_values() {
        check(CustomValue::Text("a".into()), "text");
        check(CustomValue::Integer(1), "integer");
        check(CustomValue::Decimal(Decimal::ONE), "decimal");
        check(CustomValue::Boolean(true), "boolean");
        check(CustomValue::Date(NaiveDate::MIN), "date");
        check(CustomValue::DateTime(DateTime::UNIX_EPOCH), "date_time");
        check(CustomValue::List(Vec::new()), "list");
    }
}
