//! CSV row ↔ canonical [`Record`], for any entity.
//!
//! The columns of an entity are the properties of its JSON Schema, each with
//! a [`Shape`] that says how its value is written in a cell: text as is,
//! instants in RFC 3339, money as `12.50 EUR`, a reference as the source id
//! it points at, anything nested as JSON. Reading builds a JSON object from
//! the cells and deserializes it into the entity, so a value that does not
//! fit becomes a reject with the serde message, and a new schema field is a
//! new column without a change here.

use chrono::{DateTime, Offset, SecondsFormat, Utc};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::normalize::{self, Invalid};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// How a field's value is written in a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Text, kept verbatim.
    Text,
    /// A whole number.
    Integer,
    /// `true`/`false` (also `yes`/`no`, `1`/`0` when read).
    Boolean,
    /// An exact decimal, read through [`normalize::amount`].
    Decimal,
    /// An instant, read through [`normalize::timestamp`] (no offset = UTC).
    Instant,
    /// A calendar day, read through [`normalize::date`].
    Date,
    /// `<amount> <currency>`, or the amount alone with the currency in an `<field>.currency` column.
    Money,
    /// The source id of a record of this kind (or a reference as JSON).
    Reference(EntityKind),
    /// One of a closed set of lowercase names; read case-insensitively.
    Enum,
    /// A list of text: items separated by commas (an empty item keeps its
    /// place), or a JSON array; written as a JSON array.
    TextList,
    /// Anything else, as JSON.
    Json,
}

/// The typed fields of an entity kind, in the schema's order (alphabetical).
pub(crate) fn fields_of(kind: EntityKind) -> Vec<(String, Shape)> {
    use cutover_sdk::schema as canonical;
    let schema = match kind {
        EntityKind::Contact => schemars::schema_for!(canonical::Contact),
        EntityKind::Partner => schemars::schema_for!(canonical::Partner),
        EntityKind::TrackingLink => schemars::schema_for!(canonical::TrackingLink),
        EntityKind::Click => schemars::schema_for!(canonical::Click),
        EntityKind::Conversion => schemars::schema_for!(canonical::Conversion),
        EntityKind::Commission => schemars::schema_for!(canonical::Commission),
        // Only the kinds in `crate::STREAMS` are asked for.
        _ => return Vec::new(),
    };
    let schema = schema.as_value();
    let properties = schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    properties.iter().map(|(name, property)| (name.clone(), shape_of(kind, name, property, schema))).collect()
}

fn shape_of(kind: EntityKind, name: &str, property: &Value, schema: &Value) -> Shape {
    let reference = property
        .get("anyOf")
        .and_then(Value::as_array)
        .and_then(|options| options.iter().find_map(|option| option.get("$ref")))
        .or_else(|| property.get("$ref"))
        .and_then(Value::as_str);
    if let Some(reference) = reference {
        let definition_name = reference.rsplit('/').next().unwrap_or_default();
        return match definition_name {
            "Money" => Shape::Money,
            "Reference" if name == "parent" => Shape::Reference(kind),
            "Reference" => serde_json::from_value(Value::String(name.to_owned())).map_or(Shape::Json, Shape::Reference),
            _ => {
                let definition = schema.pointer(&format!("/$defs/{definition_name}"));
                let is_enum =
                    definition.and_then(|definition| definition.get("oneOf")).and_then(Value::as_array).is_some_and(
                        |variants| variants.iter().all(|variant| variant.get("const").is_some_and(Value::is_string)),
                    );
                if is_enum { Shape::Enum } else { Shape::Json }
            }
        };
    }
    let types: Vec<&str> = match property.get("type") {
        Some(Value::String(single)) => vec![single.as_str()],
        Some(Value::Array(several)) => {
            several.iter().filter_map(Value::as_str).filter(|name| *name != "null").collect()
        }
        _ => Vec::new(),
    };
    match (types.as_slice(), property.get("format").and_then(Value::as_str)) {
        (["string"], Some("date-time")) => Shape::Instant,
        (["string"], Some("date")) => Shape::Date,
        (["string"], _) => Shape::Text,
        (["string", "number"] | ["number", "string"], _) => Shape::Decimal,
        (["integer"], _) => Shape::Integer,
        (["boolean"], _) => Shape::Boolean,
        (["array"], _) if property.pointer("/items/type").and_then(Value::as_str) == Some("string") => Shape::TextList,
        _ => Shape::Json,
    }
}

/// Where a column's cells go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    SourcePlatform,
    SourceId,
    UpdatedAt,
    /// A field of the entity.
    Field(String),
    /// The currency of a money field whose amount is in another column.
    Currency(String),
    /// One text custom field.
    Custom(String),
    /// A JSON map of typed custom fields, as the destination writes it.
    CustomFields,
}

/// The canonical names of the envelope's columns, as the destination writes them.
pub(crate) const SOURCE_PLATFORM: &str = "source_platform";
pub(crate) const SOURCE_ID: &str = "source_id";
pub(crate) const UPDATED_AT: &str = "updated_at";
pub(crate) const CUSTOM_FIELDS: &str = "custom_fields";

/// The columns of one stream's file: the target of each, in header order.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) kind: EntityKind,
    pub(crate) fields: Vec<(String, Shape)>,
    pub(crate) headers: Vec<String>,
    pub(crate) targets: Vec<Target>,
}

impl Layout {
    /// The layout of a file with these `headers`, given the configured
    /// mapping (header → canonical name). The error says which mapping is wrong.
    pub(crate) fn new(
        kind: EntityKind,
        headers: Vec<String>,
        mapping: &BTreeMap<String, String>,
    ) -> Result<Layout, String> {
        let fields = fields_of(kind);
        for mapped in mapping.keys() {
            if !headers.iter().any(|header| header == mapped) {
                return Err(format!("mapped column `{mapped}` is not in the header ({})", headers.join(", ")));
            }
        }
        let targets = headers
            .iter()
            .map(|header| match mapping.get(header) {
                Some(canonical) => target_named(&fields, canonical).ok_or_else(|| {
                    format!(
                        "column `{header}` is mapped to `{canonical}`, which is not source_id, source_platform, \
                         updated_at, custom_fields, custom.<name> or a field of a {}",
                        kind.as_str()
                    )
                }),
                None => Ok(default_target(&fields, header)),
            })
            .collect::<Result<Vec<Target>, String>>()?;
        Ok(Layout { kind, fields, headers, targets })
    }

    /// Checks a mapping target without a file, for the config at open.
    pub(crate) fn check_target(kind: EntityKind, canonical: &str) -> bool {
        target_named(&fields_of(kind), canonical).is_some()
    }

    /// The record in a row's cells, or why there is none.
    pub(crate) fn to_record(
        &self,
        cells: &[String],
        platform: &str,
        fallback_updated_at: DateTime<Utc>,
    ) -> Result<Record, RejectReason> {
        let mut source_platform = None;
        let mut source_id = None;
        let mut updated_at = None;
        let mut body = Map::new();
        let mut currencies: BTreeMap<&str, &str> = BTreeMap::new();
        let mut custom_fields = BTreeMap::new();
        for ((header, target), cell) in self.headers.iter().zip(&self.targets).zip(cells) {
            // An empty cell is an absent value; one of spaces is text where text is kept verbatim.
            let verbatim = match target {
                Target::Custom(_) => true,
                Target::Field(name) => self.shape(name) == Shape::Text,
                _ => false,
            };
            if cell.is_empty() || (!verbatim && cell.trim().is_empty()) {
                continue;
            }
            let in_column = |invalid: Invalid| {
                RejectReason::new(invalid.reason().as_str(), format!("column `{header}`: {}", invalid.message()))
            };
            match target {
                Target::SourcePlatform => source_platform = Some(cell.as_str()),
                Target::SourceId => source_id = Some(cell.as_str()),
                Target::UpdatedAt => updated_at = Some(normalize::timestamp(cell, Utc.fix()).map_err(in_column)?),
                Target::Field(name) => {
                    let shape = self.shape(name);
                    body.insert(name.clone(), read_cell(shape, cell).map_err(|reason| reason.in_column(header))?);
                }
                Target::Currency(name) => {
                    currencies.insert(name.as_str(), cell.as_str());
                }
                Target::Custom(name) => {
                    custom_fields.insert(CompactString::from(name.as_str()), CustomValue::Text(cell.as_str().into()));
                }
                Target::CustomFields => {
                    let typed: BTreeMap<CompactString, CustomValue> = serde_json::from_str(cell).map_err(|error| {
                        RejectReason::new(
                            "invalid_json",
                            format!("column `{header}`: not a JSON map of custom values: {error}"),
                        )
                    })?;
                    custom_fields.extend(typed);
                }
            }
        }
        for (name, currency) in currencies {
            let money = body.entry(name.to_owned()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(money) = money {
                let currency = normalize::currency(currency).map_err(|invalid| {
                    RejectReason::new(
                        invalid.reason().as_str(),
                        format!("column `{name}.currency`: {}", invalid.message()),
                    )
                })?;
                money.insert("currency".into(), Value::String(currency.to_string()));
            }
        }
        for (name, value) in &body {
            if self.shape(name) == Shape::Money && value.get("currency").is_none() {
                return Err(RejectReason::new(
                    "missing_currency",
                    format!(
                        "`{name}` has an amount but no currency: write `12.50 EUR` or map a `{name}.currency` column"
                    ),
                ));
            }
            if self.shape(name) == Shape::Money && value.get("amount").is_none() {
                return Err(RejectReason::new("missing_amount", format!("`{name}` has a currency but no amount")));
            }
        }
        let Some(source_id) = source_id else {
            return Err(RejectReason::new(
                "missing_source_id",
                "the row has no source id (map a column to `source_id`)",
            ));
        };
        let entity: Entity = serde_json::from_value(Value::Object(Map::from_iter([(
            self.kind.as_str().to_owned(),
            Value::Object(body),
        )])))
        .map_err(|error| RejectReason::new("invalid_value", format!("not a {}: {error}", self.kind.as_str())))?;
        let mut record = Record::new(
            source_platform.unwrap_or(platform),
            source_id,
            updated_at.unwrap_or(fallback_updated_at),
            entity,
        );
        record.custom_fields = custom_fields;
        Ok(record)
    }

    fn shape(&self, name: &str) -> Shape {
        self.fields.iter().find(|(field, _)| field == name).map_or(Shape::Json, |(_, shape)| *shape)
    }
}

/// The header the destination writes for an entity kind.
pub(crate) fn header_of(fields: &[(String, Shape)]) -> Vec<String> {
    [SOURCE_PLATFORM, SOURCE_ID, UPDATED_AT]
        .into_iter()
        .map(str::to_owned)
        .chain(fields.iter().map(|(name, _)| name.clone()))
        .chain([CUSTOM_FIELDS.to_owned()])
        .collect()
}

/// The cells of a record under [`header_of`], or why it cannot be written.
pub(crate) fn to_row(fields: &[(String, Shape)], record: &Record) -> Result<Vec<String>, String> {
    let entity = serde_json::to_value(&record.entity).map_err(|error| format!("cannot encode the entity: {error}"))?;
    let body = entity.get(record.entity.kind().as_str()).and_then(Value::as_object).cloned().unwrap_or_default();
    let mut row = vec![
        record.source_platform.to_string(),
        record.source_id.to_string(),
        record.updated_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    ];
    for (name, shape) in fields {
        row.push(match body.get(name) {
            None | Some(Value::Null) => String::new(),
            Some(value) => write_cell(*shape, value),
        });
    }
    row.push(if record.custom_fields.is_empty() {
        String::new()
    } else {
        serde_json::to_string(&record.custom_fields).map_err(|error| format!("cannot encode custom fields: {error}"))?
    });
    Ok(row)
}

fn write_cell(shape: Shape, value: &Value) -> String {
    match (shape, value) {
        (Shape::Money, Value::Object(money)) => match (money.get("amount"), money.get("currency")) {
            (Some(Value::String(amount)), Some(Value::String(currency))) => format!("{amount} {currency}"),
            (Some(Value::String(amount)), None) => amount.clone(),
            _ => value.to_string(),
        },
        (Shape::Reference(kind), Value::Object(reference)) => {
            let points_at_kind = reference.get("entity").and_then(Value::as_str) == Some(kind.as_str());
            match reference.get("source_id").and_then(Value::as_str) {
                Some(source_id) if points_at_kind && plain_reference(source_id) => source_id.to_owned(),
                _ => value.to_string(),
            }
        }
        (Shape::Json | Shape::TextList, _) => value.to_string(),
        (_, Value::String(text)) => text.clone(),
        (_, other) => other.to_string(),
    }
}

/// Whether a source id can be written bare and read back as the same id.
fn plain_reference(source_id: &str) -> bool {
    !source_id.is_empty() && !source_id.starts_with('{') && source_id.trim() == source_id
}

fn target_named(fields: &[(String, Shape)], canonical: &str) -> Option<Target> {
    match canonical {
        SOURCE_PLATFORM => return Some(Target::SourcePlatform),
        SOURCE_ID => return Some(Target::SourceId),
        UPDATED_AT => return Some(Target::UpdatedAt),
        CUSTOM_FIELDS => return Some(Target::CustomFields),
        _ => {}
    }
    if let Some(name) = canonical.strip_prefix("custom.") {
        return (!name.is_empty()).then(|| Target::Custom(name.to_owned()));
    }
    let (field, part) = match canonical.split_once('.') {
        Some((field, part)) => (field, Some(part)),
        None => (canonical, None),
    };
    let (name, shape) = fields.iter().find(|(name, _)| name == field)?;
    match (shape, part) {
        (_, None) => Some(Target::Field(name.clone())),
        (Shape::Money, Some("amount")) => Some(Target::Field(name.clone())),
        (Shape::Money, Some("currency")) => Some(Target::Currency(name.clone())),
        _ => None,
    }
}

/// Where an unmapped column goes: a canonical name when its header is one
/// (`First Name` → `first_name`, `id` → `source_id`), else a text custom field.
fn default_target(fields: &[(String, Shape)], header: &str) -> Target {
    let canonical = header.trim().to_lowercase().replace([' ', '-'], "_");
    if canonical == "id" {
        return Target::SourceId;
    }
    target_named(fields, &canonical)
        .filter(|target| !matches!(target, Target::Custom(_)) || header.starts_with("custom."))
        .unwrap_or_else(|| Target::Custom(header.trim().to_owned()))
}

/// The reject of one cell, before the column is known.
struct CellReject {
    code: &'static str,
    message: String,
}

impl CellReject {
    fn in_column(self, header: &str) -> RejectReason {
        RejectReason::new(self.code, format!("column `{header}`: {}", self.message))
    }
}

impl From<Invalid> for CellReject {
    fn from(invalid: Invalid) -> CellReject {
        CellReject { code: invalid.reason().as_str(), message: invalid.message().to_owned() }
    }
}

fn read_cell(shape: Shape, cell: &str) -> Result<Value, CellReject> {
    let trimmed = cell.trim();
    Ok(match shape {
        Shape::Text => Value::String(cell.to_owned()),
        Shape::Integer => trimmed.parse::<i64>().map(Value::from).map_err(|_| CellReject {
            code: "invalid_number",
            message: format!("`{trimmed}` is not a whole number"),
        })?,
        Shape::Boolean => Value::Bool(match trimmed.to_lowercase().as_str() {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => {
                return Err(CellReject {
                    code: "invalid_boolean",
                    message: format!("`{trimmed}` is not true/false, yes/no or 1/0"),
                });
            }
        }),
        Shape::Decimal => Value::String(normalize::amount(trimmed, None)?.to_string()),
        Shape::Instant => {
            Value::String(normalize::timestamp(trimmed, Utc.fix())?.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        }
        Shape::Date => Value::String(normalize::date(trimmed)?.to_string()),
        Shape::Money => {
            let (amount, currency) = match trimmed.rsplit_once(' ') {
                Some((amount, currency)) if currency.chars().all(|character| character.is_ascii_alphabetic()) => {
                    (amount, Some(currency))
                }
                _ => (trimmed, None),
            };
            let mut money = Map::new();
            money.insert("amount".into(), Value::String(normalize::amount(amount, None)?.to_string()));
            if let Some(currency) = currency {
                money.insert("currency".into(), Value::String(normalize::currency(currency)?.to_string()));
            }
            Value::Object(money)
        }
        Shape::Reference(kind) if !trimmed.starts_with('{') => {
            serde_json::json!({ "entity": kind.as_str(), "source_id": cell })
        }
        Shape::Enum => Value::String(trimmed.to_lowercase().replace([' ', '-'], "_")),
        Shape::TextList if !trimmed.starts_with('[') => {
            Value::Array(trimmed.split(',').map(|item| Value::String(item.trim().to_owned())).collect())
        }
        Shape::Reference(_) | Shape::Json | Shape::TextList => serde_json::from_str(trimmed)
            .map_err(|error| CellReject { code: "invalid_json", message: format!("not JSON: {error}") })?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(shape: Shape, cell: &str, expected: Result<&str, &str>) {
        let actual = read_cell(shape, cell).map(|value| value.to_string()).map_err(|reject| reject.code);
        assert_eq!(actual.as_deref().map_err(|code| *code), expected, "{shape:?} {cell:?}");
        if let Ok(value) = read_cell(shape, cell) {
            let written = write_cell(shape, &value);
            let again = read_cell(shape, &written).map(|value| value.to_string()).map_err(|reject| reject.code);
            assert_eq!(again.as_deref().map_err(|code| *code), expected, "{shape:?} {cell:?} written as {written:?}");
        }
    }

    #[test]
    fn cells_are_read_by_the_shape_of_their_field_and_written_back() {
        check(Shape::Text, " as is ", Ok(r#"" as is ""#));
        check(Shape::Integer, " 42 ", Ok("42"));
        check(Shape::Integer, "4.2", Err("invalid_number"));
        check(Shape::Boolean, "Yes", Ok("true"));
        check(Shape::Boolean, "0", Ok("false"));
        check(Shape::Boolean, "maybe", Err("invalid_boolean"));
        check(Shape::Decimal, "12,5", Ok(r#""12.5""#));
        check(Shape::Decimal, "1,234", Err("ambiguous_amount"));
        check(Shape::Instant, "2026-01-02 03:04:05.120+01:00", Ok(r#""2026-01-02T02:04:05.120Z""#));
        check(Shape::Instant, "02/01/2026", Err("invalid_date"));
        check(Shape::Date, "2026-01-02", Ok(r#""2026-01-02""#));
        check(Shape::Money, "1.234,50 eur", Ok(r#"{"amount":"1234.50","currency":"EUR"}"#));
        check(Shape::Money, "-3", Ok(r#"{"amount":"-3"}"#));
        check(Shape::Money, "12 XYZ", Err("unknown_currency"));
        check(Shape::Money, "€12", Err("invalid_amount"));
        check(Shape::Reference(EntityKind::Partner), "p 1", Ok(r#"{"entity":"partner","source_id":"p 1"}"#));
        check(
            Shape::Reference(EntityKind::Partner),
            r#"{"entity":"program","source_id":"x"}"#,
            Ok(r#"{"entity":"program","source_id":"x"}"#),
        );
        check(Shape::Enum, "Charged Back", Ok(r#""charged_back""#));
        check(Shape::Json, r#"{"method": "paypal"}"#, Ok(r#"{"method":"paypal"}"#));
        check(Shape::Json, "{oops", Err("invalid_json"));
        check(Shape::TextList, "fb, spring,,x", Ok(r#"["fb","spring","","x"]"#));
        check(Shape::TextList, r#"["a,b"]"#, Ok(r#"["a,b"]"#));
    }

    #[test]
    fn fields_take_their_shape_from_the_schema() {
        let shapes: Vec<(String, Shape)> = fields_of(EntityKind::Commission);
        let expected = [
            ("amount", Shape::Money),
            ("conversion", Shape::Reference(EntityKind::Conversion)),
            ("created_at", Shape::Instant),
            ("level", Shape::Integer),
            ("partner", Shape::Reference(EntityKind::Partner)),
            ("payout", Shape::Reference(EntityKind::Payout)),
            ("status", Shape::Enum),
        ];
        assert_eq!(shapes, expected.map(|(name, shape)| (name.to_owned(), shape)));
        let partner = fields_of(EntityKind::Partner);
        assert!(partner.contains(&("parent".to_owned(), Shape::Reference(EntityKind::Partner))), "{partner:?}");
        assert!(partner.contains(&("payout".to_owned(), Shape::Json)), "{partner:?}");
    }

    fn check_targets(headers: &[&str], mapping: &[(&str, &str)], expected: Result<Vec<Target>, &str>) {
        let mapping = mapping.iter().map(|(header, canonical)| (header.to_string(), canonical.to_string())).collect();
        let layout =
            Layout::new(EntityKind::Conversion, headers.iter().map(|header| header.to_string()).collect(), &mapping);
        assert_eq!(layout.map(|layout| layout.targets), expected.map_err(str::to_owned));
    }

    #[test]
    fn headers_map_to_targets_by_config_then_by_name() {
        use Target::*;
        check_targets(
            &["ID", "Order Id", "Amount", "Currency", "source_platform", "Last Modified", "custom.channel", "Notes"],
            &[("Currency", "amount.currency"), ("Last Modified", "updated_at")],
            Ok(vec![
                SourceId,
                Field("order_id".into()),
                Field("amount".into()),
                Currency("amount".into()),
                SourcePlatform,
                UpdatedAt,
                Custom("channel".into()),
                Custom("Notes".into()),
            ]),
        );
        check_targets(
            &["Tx", "Status"],
            &[("Tx", "transaction")],
            Err("column `Tx` is mapped to `transaction`, which is not source_id, source_platform, updated_at, \
                 custom_fields, custom.<name> or a field of a conversion"),
        );
        check_targets(&["Tx"], &[("Status", "status")], Err("mapped column `Status` is not in the header (Tx)"));
        assert!(!Layout::check_target(EntityKind::Conversion, "status.currency"));
        assert!(Layout::check_target(EntityKind::Conversion, "amount.amount"));
    }
}
