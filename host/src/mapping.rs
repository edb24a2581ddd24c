//! A stream's mapping rules from `cutover.toml` ([`StreamConfig`]), compiled
//! once and applied to every record on the reader's thread: custom-field
//! types and names, renames, value maps, defaults and skip filters.
//!
//! Custom-field typing works on the typed record. The other rules address
//! fields by name, so they work on the record's JSON form and turn it back
//! into a record at the end; a value that does not fit its field then (a
//! status no value map covers) rejects the record, naming the field. A stream
//! with no such rules never leaves the typed form.

use crate::config::{CustomFieldRule, SkipRule, StreamConfig};
use chrono::Offset as _;
use cutover_schema::normalize;
use cutover_schema::{CompactString, CustomFieldType, CustomValue, Record};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A field of a record, as the rules name it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    SourceId,
    UpdatedAt,
    /// `custom.<name>`.
    Custom(String),
    /// A path into the entity's fields (`payout.method`).
    Entity(Vec<String>),
}

impl Field {
    fn parse(name: &str) -> Result<Field, MappingError> {
        let invalid = |why: &str| MappingError { field: name.to_owned(), message: why.to_owned() };
        match name {
            "source_id" => Ok(Field::SourceId),
            "updated_at" => Ok(Field::UpdatedAt),
            "" => Err(invalid("a field name is empty")),
            _ => match name.strip_prefix("custom.") {
                Some("") => Err(invalid("`custom.` needs a custom field's name after it")),
                Some(custom) => Ok(Field::Custom(custom.to_owned())),
                None if name.split('.').any(str::is_empty) => Err(invalid("a field path has an empty part")),
                None => Ok(Field::Entity(name.split('.').map(str::to_owned).collect())),
            },
        }
    }
}

/// A rule in the config that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mapping rule on `{field}`: {message}")]
pub struct MappingError {
    /// The field as written in the config.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// What the rules made of a record.
// `Keep` is the common case, taken apart at once; boxing it would allocate
// for every record.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// Write it.
    Keep(Record),
    /// Leave it out on purpose, for this reason.
    Skip(String),
    /// It cannot be mapped: a machine-readable code and a message.
    Reject {
        /// Machine-readable reason.
        code: &'static str,
        /// For people: the field, the value and what to change.
        message: String,
    },
}

#[derive(Debug, Clone)]
struct Skip {
    field: Field,
    name: String,
    equals: Vec<String>,
    missing: bool,
}

/// One stream's compiled rules.
#[derive(Debug, Clone, Default)]
pub struct StreamMapping {
    custom_fields: Vec<(CompactString, CustomFieldRule)>,
    rename: Vec<(Field, Field)>,
    values: Vec<(Field, HashMap<String, String>)>,
    defaults: Vec<(Field, Value)>,
    skip: Vec<Skip>,
}

impl StreamMapping {
    /// Compiles the rules of `stream`, refusing malformed field names.
    pub fn compile(stream: &StreamConfig) -> Result<StreamMapping, MappingError> {
        let rename = stream
            .rename
            .iter()
            .map(|(from, to)| Ok((Field::parse(from)?, Field::parse(to)?)))
            .collect::<Result<_, MappingError>>()?;
        let values = stream
            .values
            .iter()
            .map(|(field, map)| {
                let map = map.iter().map(|(from, to)| (from.to_lowercase(), to.clone())).collect();
                Ok((Field::parse(field)?, map))
            })
            .collect::<Result<_, MappingError>>()?;
        let defaults = stream
            .defaults
            .iter()
            .map(|(field, value)| {
                let json = serde_json::to_value(value).map_err(|error| MappingError {
                    field: field.clone(),
                    message: format!("the default is not a plain value: {error}"),
                })?;
                Ok((Field::parse(field)?, json))
            })
            .collect::<Result<_, MappingError>>()?;
        let skip = stream.skip.iter().map(compile_skip).collect::<Result<_, MappingError>>()?;
        Ok(StreamMapping {
            custom_fields: stream.custom_fields.iter().map(|(name, rule)| (name.into(), rule.clone())).collect(),
            rename,
            values,
            defaults,
            skip,
        })
    }

    /// Whether the rules leave every record as it is.
    pub fn is_identity(&self) -> bool {
        self.custom_fields.is_empty() && !self.works_on_json()
    }

    fn works_on_json(&self) -> bool {
        !(self.rename.is_empty() && self.values.is_empty() && self.defaults.is_empty() && self.skip.is_empty())
    }

    /// Applies the rules to one record.
    pub fn apply(&self, mut record: Record) -> Mapped {
        for (name, rule) in &self.custom_fields {
            if let Err(message) = type_custom_field(&mut record, name, rule) {
                return Mapped::Reject { code: "custom_field_type", message };
            }
        }
        if !self.works_on_json() {
            return Mapped::Keep(record);
        }
        let mut json = match serde_json::to_value(&record) {
            Ok(json) => json,
            Err(error) => return Mapped::Reject { code: "unmappable", message: error.to_string() },
        };
        for (from, to) in &self.rename {
            if let Some(value) = take(&mut json, from) {
                put(&mut json, to, value);
            }
        }
        for (field, map) in &self.values {
            let mapped = get(&json, field).and_then(|value| map.get(&text_of(value).to_lowercase()));
            if let Some(mapped) = mapped {
                put(&mut json, field, Value::String(mapped.clone()));
            }
        }
        for (field, value) in &self.defaults {
            if get(&json, field).is_none_or(is_empty) {
                put(&mut json, field, value.clone());
            }
        }
        for rule in &self.skip {
            let value = get(&json, &rule.field).filter(|value| !is_empty(value));
            let skipped = match value {
                None => rule.missing,
                Some(value) => {
                    let text = text_of(value);
                    rule.equals.iter().any(|wanted| wanted.eq_ignore_ascii_case(&text))
                }
            };
            if skipped {
                return Mapped::Skip(format!("skip rule on `{}`", rule.name));
            }
        }
        match serde_path_to_error::deserialize::<_, Record>(json) {
            Ok(record) => Mapped::Keep(record),
            Err(error) => Mapped::Reject {
                code: "unmappable",
                message: format!(
                    "after mapping, `{}`: {}; add a value map (`[streams.values]`) or a default for it",
                    readable_path(&error.path().to_string()),
                    error.inner()
                ),
            },
        }
    }
}

fn compile_skip(rule: &SkipRule) -> Result<Skip, MappingError> {
    if rule.equals.is_empty() && !rule.missing {
        return Err(MappingError {
            field: rule.field.clone(),
            message: "a skip rule needs `equals = [...]` or `missing = true`".into(),
        });
    }
    Ok(Skip {
        field: Field::parse(&rule.field)?,
        name: rule.field.clone(),
        equals: rule.equals.clone(),
        missing: rule.missing,
    })
}

/// `entity.partner.status` → `status`: the path as the rules name fields.
fn readable_path(path: &str) -> String {
    let mut parts = path.split('.');
    match parts.next() {
        Some("entity") => parts.skip(1).collect::<Vec<_>>().join("."),
        Some("custom_fields") => format!("custom.{}", parts.next().unwrap_or_default()),
        _ => path.to_owned(),
    }
}

/// Converts the custom field `name` to the rule's type and gives it its new name.
fn type_custom_field(record: &mut Record, name: &CompactString, rule: &CustomFieldRule) -> Result<(), String> {
    let Some(value) = record.custom_fields.remove(name) else { return Ok(()) };
    let typed = match value {
        CustomValue::Text(text) if text.trim().is_empty() => None,
        value if value.field_type() == rule.field_type => Some(value),
        CustomValue::Text(text) => Some(convert_text(&text, rule.field_type).map_err(|why| {
            format!("custom field `{name}` = {text:?} is not a {}: {why}", type_name(rule.field_type))
        })?),
        other => {
            return Err(format!(
                "custom field `{name}` is a {}, the mapping declares it a {}",
                type_name(other.field_type()),
                type_name(rule.field_type)
            ));
        }
    };
    if let Some(typed) = typed {
        let target = rule.name.as_deref().map_or_else(|| name.clone(), CompactString::from);
        record.custom_fields.insert(target, typed);
    }
    Ok(())
}

fn type_name(field_type: CustomFieldType) -> String {
    serde_json::to_value(field_type).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}

fn convert_text(text: &str, field_type: CustomFieldType) -> Result<CustomValue, String> {
    let text = text.trim();
    Ok(match field_type {
        CustomFieldType::Text => CustomValue::Text(text.into()),
        CustomFieldType::Integer => {
            let number = normalize::amount(text, None).map_err(|invalid| invalid.to_string())?;
            if !number.fract().is_zero() {
                return Err("it has a fraction".into());
            }
            CustomValue::Integer(i64::try_from(number).map_err(|error| error.to_string())?)
        }
        CustomFieldType::Decimal => {
            CustomValue::Decimal(normalize::amount(text, None).map_err(|invalid| invalid.to_string())?)
        }
        CustomFieldType::Boolean => CustomValue::Boolean(match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "on" => true,
            "false" | "no" | "n" | "0" | "off" => false,
            _ => return Err("expected yes/no, true/false or 1/0".into()),
        }),
        CustomFieldType::Date => CustomValue::Date(normalize::date(text).map_err(|invalid| invalid.to_string())?),
        CustomFieldType::DateTime => {
            CustomValue::DateTime(normalize::timestamp(text, chrono::Utc.fix()).map_err(|invalid| invalid.to_string())?)
        }
        CustomFieldType::List => CustomValue::List(
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| CustomValue::Text(item.into()))
                .collect(),
        ),
    })
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        _ => false,
    }
}

/// A value as text, for value maps and skip rules.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Object(object) => object.get("source_id").map_or_else(|| value.to_string(), text_of),
        other => other.to_string(),
    }
}

/// The entity's fields in a record's JSON form (`{"entity": {"contact": {...}}}`).
fn entity_body(json: &mut Value) -> Option<&mut Map<String, Value>> {
    json.get_mut("entity")?.as_object_mut()?.values_mut().next()?.as_object_mut()
}

/// A custom value's JSON (`{"text": "x"}`) as a plain value (`"x"`).
fn unwrap_custom(value: Value) -> Value {
    match value {
        Value::Object(object) if object.len() == 1 => match object.into_iter().next() {
            Some((kind, Value::Array(items))) if kind == "list" => {
                Value::Array(items.into_iter().map(unwrap_custom).collect())
            }
            Some((_, inner)) => inner,
            None => Value::Null,
        },
        other => other,
    }
}

/// A plain value as a custom value's JSON.
fn wrap_custom(value: Value) -> Value {
    let (kind, inner) = match value {
        Value::String(_) => ("text", value),
        Value::Bool(_) => ("boolean", value),
        Value::Number(ref number) if number.is_i64() => ("integer", value),
        Value::Number(number) => ("decimal", Value::String(number.to_string())),
        Value::Array(items) => ("list", Value::Array(items.into_iter().map(wrap_custom).collect())),
        other => ("text", Value::String(other.to_string())),
    };
    Value::Object(Map::from_iter([(kind.to_owned(), inner)]))
}

fn get<'a>(json: &'a Value, field: &Field) -> Option<&'a Value> {
    match field {
        Field::SourceId => json.get("source_id"),
        Field::UpdatedAt => json.get("updated_at"),
        Field::Custom(name) => {
            let value = json.get("custom_fields")?.get(name)?;
            // The one key of `{"text": ...}`: value maps and filters see the text.
            value.as_object().and_then(|object| object.values().next()).or(Some(value))
        }
        Field::Entity(path) => {
            let mut value = json.get("entity")?.as_object()?.values().next()?;
            for part in path {
                value = value.get(part)?;
            }
            Some(value)
        }
    }
}

fn take(json: &mut Value, field: &Field) -> Option<Value> {
    match field {
        Field::SourceId | Field::UpdatedAt => {
            let key = if *field == Field::SourceId { "source_id" } else { "updated_at" };
            json.as_object_mut()?.insert(key.to_owned(), Value::Null)
        }
        Field::Custom(name) => json.get_mut("custom_fields")?.as_object_mut()?.remove(name).map(unwrap_custom),
        Field::Entity(path) => {
            let (last, parents) = path.split_last()?;
            let mut object = entity_body(json)?;
            for part in parents {
                object = object.get_mut(part)?.as_object_mut()?;
            }
            object.remove(last)
        }
    }
}

fn put(json: &mut Value, field: &Field, value: Value) {
    match field {
        Field::SourceId | Field::UpdatedAt => {
            let key = if *field == Field::SourceId { "source_id" } else { "updated_at" };
            if let Some(object) = json.as_object_mut() {
                object.insert(key.to_owned(), value);
            }
        }
        Field::Custom(name) => {
            if let Some(object) = json.as_object_mut() {
                let custom = object.entry("custom_fields").or_insert_with(|| Value::Object(Map::new()));
                if let Some(custom) = custom.as_object_mut() {
                    custom.insert(name.clone(), wrap_custom(value));
                }
            }
        }
        Field::Entity(path) => {
            let Some((last, parents)) = path.split_last() else { return };
            let Some(mut object) = entity_body(json) else { return };
            for part in parents {
                let child = object.entry(part.clone()).or_insert_with(|| Value::Object(Map::new()));
                let Some(child) = child.as_object_mut() else { return };
                object = child;
            }
            object.insert(last.clone(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_schema::{Entity, Partner, PartnerStatus};

    fn partner(custom: &[(&str, &str)]) -> Record {
        let mut record = Record::new(
            "old",
            "p1",
            chrono::DateTime::UNIX_EPOCH,
            Entity::Partner(Partner { name: Some("Ada".into()), ..Partner::default() }),
        );
        for (name, value) in custom {
            record.custom_fields.insert((*name).into(), CustomValue::Text((*value).into()));
        }
        record
    }

    fn mapping(toml_text: &str) -> StreamMapping {
        let stream: StreamConfig = toml::from_str(&format!("source = \"partners\"\n{toml_text}")).unwrap();
        StreamMapping::compile(&stream).unwrap()
    }

    fn kept(mapped: Mapped) -> Record {
        match mapped {
            Mapped::Keep(record) => record,
            other => panic!("expected a record, got {other:?}"),
        }
    }

    #[test]
    fn no_rules_is_the_identity() {
        let mapping = mapping("");
        assert!(mapping.is_identity());
        assert_eq!(mapping.apply(partner(&[("Status", "x")])), Mapped::Keep(partner(&[("Status", "x")])));
    }

    #[test]
    fn a_custom_status_is_renamed_value_mapped_and_typed() {
        let mapping = mapping(
            "rename = { \"custom.Status\" = \"status\" }\n[values.status]\nApproved = \"active\"\nBanned = \"suspended\"\n",
        );
        let record = kept(mapping.apply(partner(&[("Status", "BANNED")])));
        let Entity::Partner(body) = &record.entity else { panic!() };
        assert_eq!(body.status, Some(PartnerStatus::Suspended));
        assert!(record.custom_fields.is_empty(), "the custom field moved, it was not copied");
    }

    #[test]
    fn a_value_no_map_covers_rejects_the_record_naming_the_field() {
        let mapping = mapping("rename = { \"custom.Status\" = \"status\" }\n");
        let Mapped::Reject { code, message } = mapping.apply(partner(&[("Status", "Gone fishing")])) else {
            panic!("expected a reject")
        };
        assert_eq!(code, "unmappable");
        assert!(message.starts_with("after mapping, `status`: unknown variant `Gone fishing`"), "{message}");
    }

    #[test]
    fn defaults_fill_only_what_is_missing() {
        let mapping = mapping("[defaults]\ntier = \"standard\"\nname = \"nobody\"\n\"custom.region\" = \"EU\"\n");
        let record = kept(mapping.apply(partner(&[])));
        let Entity::Partner(body) = &record.entity else { panic!() };
        assert_eq!(body.tier.as_deref(), Some("standard"));
        assert_eq!(body.name.as_deref(), Some("Ada"));
        assert_eq!(record.custom_fields["region"], CustomValue::Text("EU".into()));
    }

    #[test]
    fn skip_rules_match_values_ignoring_case_or_absence() {
        let mapping = mapping(
            "[[skip]]\nfield = \"custom.kind\"\nequals = [\"test\"]\n[[skip]]\nfield = \"email\"\nmissing = true\n",
        );
        assert_eq!(mapping.apply(partner(&[("kind", "TEST")])), Mapped::Skip("skip rule on `custom.kind`".into()));
        assert_eq!(mapping.apply(partner(&[("kind", "real")])), Mapped::Skip("skip rule on `email`".into()));
        let mut with_email = partner(&[("kind", "real")]);
        if let Entity::Partner(body) = &mut with_email.entity {
            body.email = Some("ada@example.org".into());
        }
        assert!(matches!(mapping.apply(with_email), Mapped::Keep(_)));
    }

    #[test]
    fn custom_fields_are_typed_and_renamed_or_rejected_with_the_value() {
        let mapping = mapping(
            "[custom_fields]\n\"Lifetime Value\" = { type = \"decimal\", name = \"ltv\" }\nVIP = { type = \"boolean\" }\nTags = { type = \"list\" }\nSince = { type = \"date\" }\n",
        );
        let record = kept(mapping.apply(partner(&[
            ("Lifetime Value", "1.234,50"),
            ("VIP", "yes"),
            ("Tags", "a, b,"),
            ("Since", "2024-02-29"),
        ])));
        assert_eq!(record.custom_fields["ltv"], CustomValue::Decimal(rust_decimal::Decimal::new(123_450, 2)));
        assert_eq!(record.custom_fields["VIP"], CustomValue::Boolean(true));
        assert_eq!(
            record.custom_fields["Tags"],
            CustomValue::List(vec![CustomValue::Text("a".into()), CustomValue::Text("b".into())])
        );
        assert!(matches!(record.custom_fields["Since"], CustomValue::Date(_)));
        let Mapped::Reject { code, message } = mapping.apply(partner(&[("VIP", "perhaps")])) else { panic!() };
        assert_eq!(code, "custom_field_type");
        assert!(message.contains("custom field `VIP` = \"perhaps\" is not a boolean"), "{message}");
    }

    #[test]
    fn malformed_rules_are_refused_when_compiled() {
        let stream: StreamConfig = toml::from_str("source = \"s\"\nrename = { \"custom.\" = \"x\" }\n").unwrap();
        let error = StreamMapping::compile(&stream).unwrap_err();
        assert_eq!(error.to_string(), "mapping rule on `custom.`: `custom.` needs a custom field's name after it");
        let stream: StreamConfig = toml::from_str("source = \"s\"\n[[skip]]\nfield = \"email\"\n").unwrap();
        assert!(StreamMapping::compile(&stream).unwrap_err().message.contains("needs `equals"));
    }
}
