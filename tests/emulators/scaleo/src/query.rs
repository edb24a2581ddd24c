//! List requests: Yii2 paging (`page`, `perPage` up to 1000, the metadata
//! in `X-Pagination-*` headers, a page past the end answered with the last
//! page), sorting (`sortField`, `sortDirection`) and filters (`field=value`
//! exact, `field[]=a&field[]=b` any of, `field_from`/`field_to` ranges,
//! `q` full text), over the JSON each resource is written as.
//!
//! A filter or sort on a field the resource does not have is a 400, as an
//! unknown parameter is: a client learns at once that a filter it relies on
//! does nothing.

use std::cmp::Ordering;

use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use cutover_emulator_kit::paging::XPagination;
use serde_json::Value;

use crate::vendor::{ApiError, ok};

/// Items per page when the request names none.
pub(crate) const DEFAULT_PER_PAGE: usize = 10;
/// The largest page: a larger `perPage` is cut to it, as Yii2 does.
pub(crate) const MAX_PER_PAGE: usize = 1000;

/// Parameters every list and report takes besides filters.
const RESERVED: &[&str] = &["api-key", "page", "perPage", "sortField", "sortDirection", "q", "lang", "columns"];

/// One filter.
#[derive(Debug, Clone, PartialEq)]
enum Condition {
    Exact(String, String),
    AnyOf(String, Vec<String>),
    From(String, String),
    To(String, String),
}

/// A list request, parsed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListQuery {
    /// 1-based page asked for.
    pub(crate) page: usize,
    /// Items per page, at most [`MAX_PER_PAGE`].
    pub(crate) per_page: usize,
    sort: Option<(String, bool)>,
    conditions: Vec<Condition>,
    text: Option<String>,
}

/// The decoded query pairs of `uri`, in order.
pub(crate) fn pairs(uri: &Uri) -> Vec<(String, String)> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

fn positive(name: &str, value: &str) -> Result<usize, ApiError> {
    value.trim().parse::<usize>().map_err(|_| ApiError::bad_request(format!("Invalid value of parameter \"{name}\".")))
}

/// Paging and sorting only (reports filter in their body).
pub(crate) fn paging(uri: &Uri, default_sort: (&str, bool)) -> Result<ListQuery, ApiError> {
    let mut query = ListQuery { page: 1, per_page: DEFAULT_PER_PAGE, sort: None, conditions: Vec::new(), text: None };
    let mut direction = None;
    for (name, value) in pairs(uri) {
        match name.as_str() {
            "page" => query.page = positive(&name, &value)?.max(1),
            "perPage" => query.per_page = positive(&name, &value)?.clamp(1, MAX_PER_PAGE),
            "sortField" => query.sort = Some((value, false)),
            "sortDirection" => match value.as_str() {
                "asc" => direction = Some(false),
                "desc" => direction = Some(true),
                _ => return Err(ApiError::bad_request("sortDirection must be asc or desc.")),
            },
            _ => {}
        }
    }
    let (field, default_descending) = default_sort;
    query.sort = match query.sort {
        Some((field, _)) => Some((field, direction.unwrap_or(false))),
        None => Some((field.to_owned(), direction.unwrap_or(default_descending))),
    };
    Ok(query)
}

/// A list request over items with `fields`: paging, sorting and filters.
pub(crate) fn parse(uri: &Uri, fields: &[&str], default_sort: (&str, bool)) -> Result<ListQuery, ApiError> {
    let mut query = paging(uri, default_sort)?;
    let known = |field: &str| fields.contains(&field);
    if let Some((field, _)) = &query.sort
        && !known(field)
    {
        return Err(ApiError::bad_request(format!("Unknown sort field \"{field}\".")));
    }
    let mut any_of: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in pairs(uri) {
        if RESERVED.contains(&name.as_str()) {
            if name == "q" && !value.is_empty() {
                query.text = Some(value.to_lowercase());
            }
            continue;
        }
        let condition = if let Some(field) = name.strip_suffix("[]") {
            match any_of.iter_mut().find(|(known, _)| known == field) {
                Some((_, values)) => values.push(value),
                None => any_of.push((field.to_owned(), vec![value])),
            }
            continue;
        } else if let Some(field) = name.strip_suffix("_from").filter(|field| known(field)) {
            Condition::From(field.to_owned(), value)
        } else if let Some(field) = name.strip_suffix("_to").filter(|field| known(field)) {
            Condition::To(field.to_owned(), value)
        } else {
            Condition::Exact(name, value)
        };
        query.conditions.push(condition);
    }
    query.conditions.extend(any_of.into_iter().map(|(field, values)| Condition::AnyOf(field, values)));
    for condition in &query.conditions {
        let field = match condition {
            Condition::Exact(field, _)
            | Condition::AnyOf(field, _)
            | Condition::From(field, _)
            | Condition::To(field, _) => field,
        };
        if !known(field) {
            return Err(ApiError::bad_request(format!("Unknown parameter \"{field}\".")));
        }
    }
    Ok(query)
}

/// A field's value as filters compare it: text as is, numbers and booleans
/// written out, `null` as nothing.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(if *flag { "1" } else { "0" }.to_owned()),
        _ => None,
    }
}

/// A date or time as given in a filter, made comparable with the API's
/// `YYYY-MM-DDTHH:MM:SSZ`: a space for the `T`, no zone meaning UTC.
fn instant(text: &str) -> String {
    let text = text.trim().replacen(' ', "T", 1);
    if text.len() == 19 { format!("{text}Z") } else { text }
}

fn compare(field: &str, bound: &str) -> Option<Ordering> {
    if let (Ok(left), Ok(right)) = (field.parse::<f64>(), bound.parse::<f64>()) {
        return left.partial_cmp(&right);
    }
    let bound = instant(bound);
    if bound.len() == 10 {
        // A day: compare the day of a time.
        return Some(field.get(..10).unwrap_or(field).cmp(bound.as_str()));
    }
    Some(instant(field).cmp(&bound))
}

impl ListQuery {
    /// The field sorted on and whether descending.
    pub(crate) fn sort(&self) -> Option<(&str, bool)> {
        self.sort.as_ref().map(|(field, descending)| (field.as_str(), *descending))
    }

    fn keeps(&self, item: &Value) -> bool {
        let conditions_hold = self.conditions.iter().all(|condition| match condition {
            Condition::Exact(field, wanted) => item.get(field).and_then(scalar).is_some_and(|value| value == *wanted),
            Condition::AnyOf(field, wanted) => {
                item.get(field).and_then(scalar).is_some_and(|value| wanted.contains(&value))
            }
            Condition::From(field, bound) => item
                .get(field)
                .and_then(scalar)
                .is_some_and(|value| compare(&value, bound).is_some_and(|order| order != Ordering::Less)),
            Condition::To(field, bound) => item
                .get(field)
                .and_then(scalar)
                .is_some_and(|value| compare(&value, bound).is_some_and(|order| order != Ordering::Greater)),
        });
        let text_found = self.text.as_ref().is_none_or(|text| {
            item.as_object().is_some_and(|object| {
                object.values().filter_map(Value::as_str).any(|value| value.to_lowercase().contains(text.as_str()))
            })
        });
        conditions_hold && text_found
    }

    /// The items kept by the filters, sorted, and the page asked for.
    pub(crate) fn apply(&self, items: Vec<Value>) -> (Vec<Value>, XPagination) {
        let mut kept: Vec<Value> = items.into_iter().filter(|item| self.keeps(item)).collect();
        if let Some((field, descending)) = &self.sort {
            // Stable: equal values keep the store's order (by id).
            kept.sort_by(|left, right| {
                let order = order_of(left.get(field), right.get(field));
                if *descending { order.reverse() } else { order }
            });
        }
        let page = XPagination::clamped(self.page, self.per_page, kept.len());
        (page.page(kept), page)
    }

    /// A list answer: `info.<key>` holds the page, the headers the paging.
    pub(crate) fn answer(&self, message: &str, key: &str, items: Vec<Value>) -> Response {
        let (page, paging) = self.apply(items);
        let mut response = ok(message, key, Value::Array(page)).into_response();
        paging.apply(&mut response);
        response
    }
}

fn order_of(left: Option<&Value>, right: Option<&Value>) -> Ordering {
    match (left, right) {
        (Some(Value::Number(left)), Some(Value::Number(right))) => {
            left.as_f64().partial_cmp(&right.as_f64()).unwrap_or(Ordering::Equal)
        }
        (Some(left), Some(right)) => scalar(left).cmp(&scalar(right)),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIELDS: &[&str] = &["id", "email", "status", "created_at", "external_id"];

    fn query(text: &str) -> Result<ListQuery, ApiError> {
        parse(&format!("/x?{text}").parse().unwrap_or_default(), FIELDS, ("id", false))
    }

    fn items() -> Vec<Value> {
        vec![
            json!({"id": 1, "email": "ana@example.org", "status": 1, "created_at": "2026-01-02T10:00:00Z", "external_id": null}),
            json!({"id": 2, "email": "Ben@example.org", "status": 3, "created_at": "2026-02-01T00:00:00Z", "external_id": "impact:9"}),
            json!({"id": 3, "email": "zoë@example.org", "status": 1, "created_at": "2026-03-15T23:59:59Z", "external_id": null}),
        ]
    }

    fn ids(query: &ListQuery) -> Vec<u64> {
        query.apply(items()).0.iter().filter_map(|item| item["id"].as_u64()).collect()
    }

    #[test]
    fn filters_sort_and_search() {
        assert_eq!(ids(&query("status=1").unwrap_or_else(|error| panic!("{error:?}"))), [1, 3]);
        assert_eq!(ids(&query("status[]=3&status[]=9").expect("any of")), [2]);
        assert_eq!(ids(&query("created_at_from=2026-02-01&created_at_to=2026-03-15").expect("range")), [2, 3]);
        assert_eq!(ids(&query("created_at_to=2026-01-02%2010:00:00").expect("a time without zone")), [1]);
        assert_eq!(ids(&query("external_id=impact:9").expect("exact")), [2]);
        assert_eq!(ids(&query("sortField=email&sortDirection=desc").expect("sort")), [3, 1, 2], "by bytes: B before a");
        assert_eq!(ids(&query("q=BEN").expect("search")), [2]);
    }

    #[test]
    fn unknown_fields_and_bad_paging_are_400s() {
        for bad in ["nickname=x", "sortField=nickname", "sortDirection=up", "page=x", "perPage=-1"] {
            let error = query(bad).expect_err(bad);
            assert_eq!(error.status.as_u16(), 400, "{bad}");
        }
    }

    #[test]
    fn pages_are_clamped_as_yii2_does() {
        let clamped = query("perPage=2&page=7").expect("paging");
        let (page, paging) = clamped.apply(items());
        assert_eq!((paging.current_page, paging.page_count, paging.total_count), (2, 2, 3));
        assert_eq!(page.len(), 1, "a page past the end is the last page");
        assert_eq!(query("perPage=5000").map(|query| query.per_page).ok(), Some(MAX_PER_PAGE));
    }
}
