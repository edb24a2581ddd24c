//! `fields` and `exclude_fields`: comma lists of dot paths that trim any
//! answer; a path through an array applies to each element
//! (`members.email_address`).

use serde_json::{Map, Value};

use cutover_emulator_kit::query::Params;

/// Applies the request's `fields` and `exclude_fields` to an answer.
pub(crate) fn apply(params: &Params, body: Value) -> Value {
    let mut body = body;
    let included = params.list("fields");
    if !included.is_empty() {
        let paths: Vec<Vec<&str>> = included.iter().map(|path| path.split('.').collect()).collect();
        body = keep(body, &paths);
    }
    for path in params.list("exclude_fields") {
        let path: Vec<&str> = path.split('.').collect();
        remove(&mut body, &path);
    }
    body
}

fn keep(value: Value, paths: &[Vec<&str>]) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(|item| keep(item, paths)).collect()),
        Value::Object(object) => {
            let mut kept = Map::new();
            for (key, child) in object {
                let below: Vec<Vec<&str>> = paths
                    .iter()
                    .filter(|path| path.first() == Some(&key.as_str()))
                    .map(|path| path[1..].to_vec())
                    .collect();
                if below.is_empty() {
                    continue;
                }
                if below.iter().any(Vec::is_empty) {
                    kept.insert(key, child);
                } else {
                    kept.insert(key, keep(child, &below));
                }
            }
            Value::Object(kept)
        }
        other => other,
    }
}

fn remove(value: &mut Value, path: &[&str]) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|item| remove(item, path)),
        Value::Object(object) => match path {
            [] => {}
            [last] => {
                object.remove(*last);
            }
            [head, rest @ ..] => {
                if let Some(child) = object.get_mut(*head) {
                    remove(child, rest);
                }
            }
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(query: &str, expected: Value) {
        let body = json!({
            "members": [{"email_address": "a@b.co", "status": "subscribed", "merge_fields": {"FNAME": "A", "LNAME": "B"}}],
            "total_items": 1,
            "_links": [],
        });
        assert_eq!(apply(&Params::parse(query), body), expected);
    }

    #[test]
    fn fields_keep_only_the_paths() {
        check(
            "fields=members.email_address,total_items",
            json!({"members": [{"email_address": "a@b.co"}], "total_items": 1}),
        );
        check("fields=members.merge_fields.FNAME", json!({"members": [{"merge_fields": {"FNAME": "A"}}]}));
    }

    #[test]
    fn exclude_fields_drop_the_paths() {
        check(
            "exclude_fields=_links,members.merge_fields,members.status",
            json!({"members": [{"email_address": "a@b.co"}], "total_items": 1}),
        );
    }
}
