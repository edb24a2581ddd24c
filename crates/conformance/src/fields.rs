//! Records as flat maps of field paths to JSON values, and the comparison of
//! a record written with the record read back.
//!
//! A path is a field of the entity, dotted into nested objects
//! (`consent.email.status`), or `custom_fields.<name>`. Arrays and custom
//! values are compared whole. The record's own `source_platform`,
//! `source_id` and `updated_at` are not fields: they say where a record came
//! from, and a platform gives its own.

use crate::Leeway;
use cutover_schema::Record;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The fields a record carries, by path; absent and empty values are left out.
pub(crate) fn of(record: &Record) -> BTreeMap<String, Value> {
    let mut fields = BTreeMap::new();
    let kind = record.entity.kind();
    let entity = serde_json::to_value(&record.entity).unwrap_or(Value::Null);
    // The entity is tagged with its kind: `{"contact": {...}}`.
    let body = match entity {
        Value::Object(mut tagged) if tagged.len() == 1 => tagged.remove(kind.as_str()).unwrap_or(Value::Null),
        other => other,
    };
    flatten("", body, &mut fields);
    for (name, value) in &record.custom_fields {
        if let Ok(value) = serde_json::to_value(value) {
            fields.insert(format!("custom_fields.{name}"), value);
        }
    }
    fields
}

fn flatten(prefix: &str, value: Value, into: &mut BTreeMap<String, Value>) {
    match value {
        Value::Null => {}
        Value::Object(object) if object.is_empty() => {}
        Value::Array(items) if items.is_empty() => {}
        Value::Object(object) => {
            for (name, value) in object {
                let path = if prefix.is_empty() { name } else { format!("{prefix}.{name}") };
                flatten(&path, value, into);
            }
        }
        leaf => {
            into.insert(prefix.to_owned(), leaf);
        }
    }
}

/// Whether `path` is `prefix` or lies under it.
fn covers(prefix: &str, path: &str) -> bool {
    path == prefix || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'.'))
}

/// How a field read back differs from the one written.
#[derive(Debug)]
pub(crate) struct Difference {
    pub(crate) path: String,
    pub(crate) written: Value,
    pub(crate) read: Option<Value>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.read {
            Some(read) => write!(f, "`{}` written {} reads back {}", self.path, self.written, read),
            None => write!(f, "`{}` written {} does not read back", self.path, self.written),
        }
    }
}

/// What the comparison of one record found.
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    /// Fields written (and not declared not kept) that read back otherwise.
    pub(crate) differences: Vec<Difference>,
    /// Declared-not-kept paths that covered a written field, with whether
    /// that field read back equal anyway.
    pub(crate) skipped: BTreeMap<String, bool>,
    /// The declared rewrites (by index) that let a value through.
    pub(crate) rewritten: BTreeSet<usize>,
}

/// Compares every field of `written` with `read`, with the `leeway` the test
/// declared.
pub(crate) fn compare(written: &Record, read: &Record, leeway: &Leeway) -> Comparison {
    let read_fields = of(read);
    let mut comparison = Comparison::default();
    for (path, value) in of(written) {
        let found = read_fields.get(&path);
        let equal = found.is_some_and(|found| same(found, &value));
        if let Some(prefix) = leeway.not_kept.iter().find(|prefix| covers(prefix, &path)) {
            let kept_anyway = comparison.skipped.entry(prefix.clone()).or_insert(true);
            *kept_anyway &= equal;
            continue;
        }
        if equal {
            continue;
        }
        let rewrite = leeway
            .rewrites
            .iter()
            .position(|rewrite| rewrite.path == path && rewrite.written == value && found == Some(&rewrite.read));
        match rewrite {
            Some(index) => {
                comparison.rewritten.insert(index);
            }
            None => comparison.differences.push(Difference { path, written: value, read: found.cloned() }),
        }
    }
    comparison
}

/// Whether a value read back is the value written. A decimal custom field
/// is compared by value: `2.50` and `2.5` are the same number, and a
/// platform that keeps numbers as numbers does not keep trailing zeros.
fn same(read: &Value, written: &Value) -> bool {
    let decimal = |value: &Value| {
        value.get("decimal").and_then(Value::as_str).and_then(|text| text.parse::<rust_decimal::Decimal>().ok())
    };
    read == written || matches!((decimal(read), decimal(written)), (Some(read), Some(written)) if read == written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_schema::{Consent, ConsentState, ConsentStatus, Contact, CustomValue, Entity, Membership};

    fn member(email: &str, ip: [u8; 4]) -> Record {
        let consent = Consent {
            email: Some(ConsentState { ip: Some(ip.into()), ..ConsentState::new(ConsentStatus::Subscribed) }),
            ..Consent::default()
        };
        let mut record = Record::new(
            "test",
            "m1",
            chrono::DateTime::UNIX_EPOCH,
            Entity::Membership(Membership { email: Some(email.into()), consent, ..Membership::default() }),
        );
        record.custom_fields.insert("score".into(), CustomValue::Integer(3));
        record
    }

    #[test]
    fn decimals_compare_by_value_and_nothing_else_does() {
        let decimal = |text: &str| serde_json::json!({ "decimal": text });
        assert!(same(&decimal("2.5"), &decimal("2.50")));
        assert!(!same(&decimal("2.51"), &decimal("2.50")));
        assert!(!same(&serde_json::json!({ "text": "2.5" }), &serde_json::json!({ "text": "2.50" })));
        assert!(!same(&serde_json::json!("2.5"), &serde_json::json!("2.50")));
    }

    #[test]
    fn records_flatten_to_paths_without_the_envelope() {
        let fields = of(&member("a@example.org", [192, 0, 2, 1]));
        let paths: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(paths, ["consent.email.ip", "consent.email.status", "custom_fields.score", "email"], "{fields:?}");
    }

    #[test]
    fn differences_name_the_field_and_declared_paths_are_skipped() {
        let written = member("a@example.org", [192, 0, 2, 1]);
        let mut read = member("A@example.org", [192, 0, 2, 9]);
        read.source_id = "other".into();
        read.custom_fields.clear();
        let leeway = Leeway { not_kept: BTreeSet::from(["consent.email".to_owned()]), rewrites: Vec::new() };
        let comparison = compare(&written, &read, &leeway);
        let differences: Vec<String> = comparison.differences.iter().map(ToString::to_string).collect();
        assert_eq!(
            differences,
            [
                "`custom_fields.score` written {\"integer\":3} does not read back",
                "`email` written \"a@example.org\" reads back \"A@example.org\""
            ]
        );
        assert_eq!(comparison.skipped, BTreeMap::from([("consent.email".to_owned(), false)]));

        // A declared rewrite lets that one value through, and no other.
        let rewrite =
            |from: &str, to: &str| crate::Rewrite { path: "email".into(), written: from.into(), read: to.into() };
        let leeway = Leeway { not_kept: BTreeSet::new(), rewrites: vec![rewrite("a@example.org", "A@example.org")] };
        let comparison = compare(&written, &member("A@example.org", [192, 0, 2, 1]), &leeway);
        assert!(comparison.differences.is_empty(), "{:?}", comparison.differences);
        assert_eq!(comparison.rewritten, BTreeSet::from([0]));
        let leeway = Leeway { not_kept: BTreeSet::new(), rewrites: vec![rewrite("a@example.org", "B@example.org")] };
        assert_eq!(compare(&written, &member("A@example.org", [192, 0, 2, 1]), &leeway).differences.len(), 1);
        let contact = Record::new("t", "c", chrono::DateTime::UNIX_EPOCH, Entity::Contact(Contact::default()));
        assert!(of(&contact).is_empty());
    }

    #[test]
    fn a_path_covers_what_is_under_it_only() {
        assert!(covers("list", "list"));
        assert!(covers("list", "list.source_id"));
        assert!(!covers("list", "lists"));
    }
}
