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
