//! The typed columns of an entity's table, derived from the canonical
//! schema, and the conversions between a field's JSON value and a SQLite
//! value.
//!
//! A column's kind comes from the entity's JSON Schema (schemars), not from
//! the records seen, so a table has the same columns whatever was written
//! first, and a value is read back as the type the entity expects (an
//! `INTEGER` 1 is `true` in a boolean column, a number in an integer one).

use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value as JsonValue};
use std::collections::HashMap;

use cutover_sdk::schema::{Entity, EntityKind};

/// Columns every table has, before the entity's own fields.
pub(crate) const ENVELOPE_COLUMNS: [&str; 3] = ["source_platform", "source_id", "updated_at"];

/// How one top-level field of an entity is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    /// A string (text, enum, date, instant): `TEXT`.
    Text,
    /// An exact decimal, kept as its decimal string: `TEXT`.
    Decimal,
    /// An integer: `INTEGER`.
    Integer,
    /// A boolean, as 0 or 1: `INTEGER`.
    Boolean,
    /// Anything nested (objects, arrays, money, references, free JSON): `TEXT`
    /// holding the JSON, which keeps decimals exact.
    Json,
}

impl ColumnKind {
    pub(crate) fn sql_type(self) -> &'static str {
        match self {
            ColumnKind::Text | ColumnKind::Decimal | ColumnKind::Json => "TEXT",
            ColumnKind::Integer | ColumnKind::Boolean => "INTEGER",
        }
    }

    /// The SQLite value of a field's JSON value, or why it does not fit.
    pub(crate) fn to_sql(self, value: &JsonValue) -> Result<SqlValue, String> {
        match (self, value) {
            (_, JsonValue::Null) => Ok(SqlValue::Null),
            (ColumnKind::Text | ColumnKind::Decimal, JsonValue::String(text)) => Ok(SqlValue::Text(text.clone())),
            (ColumnKind::Decimal, JsonValue::Number(number)) => Ok(SqlValue::Text(number.to_string())),
            (ColumnKind::Integer, JsonValue::Number(number)) => {
                number.as_i64().map(SqlValue::Integer).ok_or_else(|| format!("{number} is not a 64-bit integer"))
            }
            (ColumnKind::Boolean, JsonValue::Bool(flag)) => Ok(SqlValue::Integer(i64::from(*flag))),
            (ColumnKind::Json, value) => Ok(SqlValue::Text(value.to_string())),
            (kind, value) => Err(format!("{value} does not fit a {kind:?} column")),
        }
    }

    /// The JSON value of a stored value, or why it cannot be one; `None` for
    /// SQL `NULL`, which leaves the field to its default.
    pub(crate) fn to_json(self, value: &SqlValue) -> Result<Option<JsonValue>, String> {
        let json = match (self, value) {
            (_, SqlValue::Null) => return Ok(None),
            (ColumnKind::Text | ColumnKind::Decimal, SqlValue::Text(text)) => JsonValue::String(text.clone()),
            (ColumnKind::Text | ColumnKind::Decimal, SqlValue::Integer(number)) => {
                JsonValue::String(number.to_string())
            }
            (ColumnKind::Text | ColumnKind::Decimal, SqlValue::Real(number)) => JsonValue::String(number.to_string()),
            (ColumnKind::Integer, SqlValue::Integer(number)) => JsonValue::from(*number),
            (ColumnKind::Boolean, SqlValue::Integer(0)) => JsonValue::Bool(false),
            (ColumnKind::Boolean, SqlValue::Integer(1)) => JsonValue::Bool(true),
            (ColumnKind::Json, SqlValue::Text(text)) => {
                serde_json::from_str(text).map_err(|error| format!("not JSON: {error}"))?
            }
            (kind, value) => return Err(format!("{} does not fit a {kind:?} column", raw_json(value))),
        };
        Ok(Some(json))
    }
}

/// One column of an entity's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) kind: ColumnKind,
}

/// The columns of every entity's fields, in the order of its JSON Schema's
/// properties.
#[derive(Debug)]
pub(crate) struct Catalog {
    columns: HashMap<EntityKind, Vec<Column>>,
}

impl Catalog {
    /// Reads the columns off the canonical schema of [`Entity`]. Fails only
    /// if that schema does not have the shape schemars gives an externally
    /// tagged enum of structs: a broken invariant of `cutover-schema`.
    pub(crate) fn new() -> Result<Catalog, String> {
        let schema = schemars::schema_for!(Entity).to_value();
        let definitions = schema.get("$defs").and_then(JsonValue::as_object).cloned().unwrap_or_default();
        let variants = schema.get("oneOf").and_then(JsonValue::as_array).cloned().unwrap_or_default();
        let mut columns = HashMap::new();
        for &kind in EntityKind::ALL {
            let body = variants
                .iter()
                .find_map(|variant| variant.pointer(&format!("/properties/{}", kind.as_str())))
                .map(|body| resolve(body, &definitions))
                .ok_or_else(|| format!("the canonical schema has no entity `{}`", kind.as_str()))?;
            let properties = body.get("properties").and_then(JsonValue::as_object).cloned().unwrap_or_default();
            let entity_columns = properties
                .iter()
                .map(|(name, property)| Column { name: name.clone(), kind: classify(property, &definitions) })
                .collect();
            columns.insert(kind, entity_columns);
        }
        Ok(Catalog { columns })
    }

    /// The columns of `entity`'s own fields.
    pub(crate) fn columns(&self, entity: EntityKind) -> &[Column] {
        self.columns.get(&entity).map_or(&[], Vec::as_slice)
    }
}

/// `schema` with a top-level `$ref` replaced by what it points at.
fn resolve<'a>(schema: &'a JsonValue, definitions: &'a Map<String, JsonValue>) -> &'a JsonValue {
    schema
        .get("$ref")
        .and_then(JsonValue::as_str)
        .and_then(|reference| reference.strip_prefix("#/$defs/"))
        .and_then(|name| definitions.get(name))
        .map_or(schema, |target| resolve(target, definitions))
}

/// The kind of column a property's schema calls for. What is not plainly one
/// scalar type (a union, an object, a free-form value) is kept as JSON,
/// which loses nothing.
pub(crate) fn classify(property: &JsonValue, definitions: &Map<String, JsonValue>) -> ColumnKind {
    let schema = resolve(property, definitions);
    if let Some(branches) = schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(JsonValue::as_array) {
        let kinds: Vec<ColumnKind> = branches
            .iter()
            .filter(|branch| branch.get("type").and_then(JsonValue::as_str) != Some("null"))
            .map(|branch| classify(branch, definitions))
            .collect();
        return match kinds.split_first() {
            Some((first, rest)) if rest.iter().all(|kind| kind == first) => *first,
            _ => ColumnKind::Json,
        };
    }
    let mut types: Vec<&str> = match schema.get("type") {
        Some(JsonValue::String(single)) => vec![single.as_str()],
        Some(JsonValue::Array(several)) => several.iter().filter_map(JsonValue::as_str).collect(),
        _ => Vec::new(),
    };
    types.retain(|name| *name != "null");
    types.sort_unstable();
    match types.as_slice() {
        ["string"] => ColumnKind::Text,
        // rust_decimal's schema: a decimal string, or a number where accepted.
        ["number", "string"] => ColumnKind::Decimal,
        ["integer"] => ColumnKind::Integer,
        ["boolean"] => ColumnKind::Boolean,
        _ => ColumnKind::Json,
    }
}

/// A stored value as JSON, for a reject's raw row.
pub(crate) fn raw_json(value: &SqlValue) -> JsonValue {
    match value {
        SqlValue::Null => JsonValue::Null,
        SqlValue::Integer(number) => JsonValue::from(*number),
        SqlValue::Real(number) => JsonValue::from(*number),
        SqlValue::Text(text) => JsonValue::String(text.clone()),
        SqlValue::Blob(bytes) => JsonValue::String(bytes.iter().map(|byte| format!("{byte:02x}")).collect()),
    }
}

/// `name` quoted as an SQL identifier: entity and field names include SQL
/// keywords (`order`, `from`, `to`).
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(entity: EntityKind, field: &str, expected: ColumnKind) {
        let catalog = Catalog::new().unwrap();
        let column = catalog.columns(entity).iter().find(|column| column.name == field);
        assert_eq!(column.map(|column| column.kind), Some(expected), "{}.{field}", entity.as_str());
    }

    #[test]
    fn strings_enums_and_instants_are_text() {
        check(EntityKind::Contact, "email", ColumnKind::Text);
        check(EntityKind::Contact, "created_at", ColumnKind::Text);
        check(EntityKind::Deal, "status", ColumnKind::Text);
        check(EntityKind::Deal, "close_date", ColumnKind::Text);
    }

    #[test]
    fn integers_and_booleans_are_integer_columns() {
        check(EntityKind::Company, "employee_count", ColumnKind::Integer);
        check(EntityKind::Program, "cookie_days", ColumnKind::Integer);
        check(EntityKind::Owner, "active", ColumnKind::Boolean);
        assert_eq!(ColumnKind::Boolean.sql_type(), "INTEGER");
    }

    #[test]
    fn decimals_stay_exact_text_and_nested_values_are_json() {
        check(EntityKind::Program, "commission_percent", ColumnKind::Decimal);
        check(EntityKind::Deal, "amount", ColumnKind::Json);
        check(EntityKind::Deal, "contacts", ColumnKind::Json);
        check(EntityKind::Company, "address", ColumnKind::Json);
        check(EntityKind::Membership, "consent", ColumnKind::Json);
        check(EntityKind::Segment, "definition", ColumnKind::Json);
        check(EntityKind::CouponCode, "discount", ColumnKind::Json);
    }

    #[test]
    fn every_entity_has_columns() {
        let catalog = Catalog::new().unwrap();
        for &kind in EntityKind::ALL {
            assert!(!catalog.columns(kind).is_empty(), "{}", kind.as_str());
        }
    }

    #[test]
    fn no_field_is_named_like_a_column_of_the_envelope() {
        let catalog = Catalog::new().unwrap();
        let reserved: Vec<&str> =
            ENVELOPE_COLUMNS.iter().copied().chain(["custom_fields", "fingerprint", "rowid"]).collect();
        for &kind in EntityKind::ALL {
            for column in catalog.columns(kind) {
                assert!(!reserved.contains(&column.name.as_str()), "{}.{}", kind.as_str(), column.name);
            }
        }
    }

    #[test]
    fn values_convert_both_ways() {
        let cases = [
            (ColumnKind::Text, serde_json::json!("Zoë")),
            (ColumnKind::Decimal, serde_json::json!("12.50")),
            (ColumnKind::Integer, serde_json::json!(-7)),
            (ColumnKind::Boolean, serde_json::json!(true)),
            (ColumnKind::Json, serde_json::json!({"amount": "1.10", "currency": "EUR"})),
            (ColumnKind::Json, serde_json::json!("a string in a free-form field")),
        ];
        for (kind, value) in cases {
            let stored = kind.to_sql(&value).unwrap();
            assert_eq!(kind.to_json(&stored).unwrap(), Some(value), "{kind:?}");
        }
        assert!(ColumnKind::Text.to_sql(&serde_json::json!(3)).is_err());
        assert!(ColumnKind::Boolean.to_json(&SqlValue::Integer(2)).is_err());
        assert!(ColumnKind::Json.to_json(&SqlValue::Text("{broken".into())).is_err());
        assert_eq!(ColumnKind::Integer.to_json(&SqlValue::Null).unwrap(), None);
    }
}
