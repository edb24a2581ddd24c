//! Answer envelopes: the three generations' list shapes with their
//! `offset`/`limit`/`count` and `hypermedia.pagination` (relative URIs of
//! the first, last, next and previous pages), request bodies read as JSON
//! with errors in the generation's shape, and v3's refusal of body
//! properties it does not define.

use axum::Json;
use axum::body::Bytes;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cutover_emulator_kit::paging::{OffsetCount, OffsetError};
use cutover_emulator_kit::query::Params;
use serde_json::{Map, Value, json};

use crate::vendor::{self, Generation, Problem};

/// What every answer says it took.
pub const EXECUTION_TIME: &str = "0.01234 seconds";

/// A request's page: items skipped and page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Items skipped.
    pub offset: usize,
    /// Items asked for.
    pub limit: usize,
}

/// The request's `offset` and `limit` under `paging`, or its 400.
pub fn page(uri: &Uri, paging: OffsetCount) -> Result<Page, Response> {
    match paging.parse_with(&Params::from_uri(uri), "limit") {
        Ok((offset, limit)) if limit > 0 => Ok(Page { offset, limit }),
        Ok(_) => Err(vendor::bad_request(uri.path(), "limit", "invalid_lower_bound", "limit must be at least 1")),
        Err(OffsetError::NotANumber { parameter }) => Err(vendor::bad_request(
            uri.path(),
            parameter,
            "invalid_type",
            format!("{parameter} must be a non-negative integer"),
        )),
        Err(OffsetError::TooLarge { count, max }) => Err(vendor::bad_request(
            uri.path(),
            "limit",
            "invalid_upper_bound",
            format!("limit {count} is over the maximum of {max}"),
        )),
    }
}

/// `items` cut to `page`, with the total.
pub fn slice<T: Clone>(items: &[T], page: Page) -> (Vec<T>, usize) {
    let kept = items.iter().skip(page.offset).take(page.limit).cloned().collect();
    (kept, items.len())
}

/// The URI of the same request at another offset, relative to the host.
fn page_uri(uri: &Uri, offset: usize, limit: usize) -> String {
    let params = Params::from_uri(uri);
    let query =
        Params::parse(&params.with("offset", Some(&offset.to_string()))).with("limit", Some(&limit.to_string()));
    format!("{}?{query}", uri.path())
}

/// `hypermedia.pagination` for `page` of `total` items.
pub fn pagination(uri: &Uri, page: Page, total: usize) -> Value {
    let pages = total.div_ceil(page.limit).max(1);
    let last_offset = (pages - 1) * page.limit;
    let next = (page.offset + page.limit < total).then(|| page_uri(uri, page.offset + page.limit, page.limit));
    let previous = (page.offset > 0).then(|| page_uri(uri, page.offset.saturating_sub(page.limit), page.limit));
    json!({
        "total_page_count": pages,
        "total_item_count": total,
        "first_page": page_uri(uri, 0, page.limit),
        "last_page": page_uri(uri, last_offset, page.limit),
        "next_page": next,
        "previous_page": previous,
    })
}

/// A v1 list: each item wrapped in its singular key.
pub fn v1_list(uri: &Uri, page: Page, total: usize, plural: &str, singular: &str, items: Vec<Value>) -> Response {
    let count = items.len();
    let wrapped: Vec<Value> = items.into_iter().map(|item| json!({ singular: item })).collect();
    Json(json!({
        "execution_time": EXECUTION_TIME,
        "offset": page.offset,
        "limit": page.limit,
        "count": count,
        plural: wrapped,
        "hypermedia": {"pagination": pagination(uri, page, total)},
    }))
    .into_response()
}

/// A v2 list: the items under their plural key.
pub fn v2_list(uri: &Uri, page: Page, total: usize, plural: &str, items: Vec<Value>) -> Response {
    Json(json!({
        "execution_time": EXECUTION_TIME,
        "offset": page.offset,
        "limit": page.limit,
        "count": items.len(),
        plural: items,
        "hypermedia": {"pagination": pagination(uri, page, total)},
    }))
    .into_response()
}

/// A v3 list: the items under `data`.
pub fn v3_list(uri: &Uri, page: Page, total: usize, items: Vec<Value>) -> Response {
    Json(json!({
        "data": items,
        "offset": page.offset,
        "limit": page.limit,
        "count": total,
        "hypermedia": {
            "links": {"self": page_uri(uri, page.offset, page.limit)},
            "pagination": pagination(uri, page, total),
        },
    }))
    .into_response()
}

/// A v3 single resource.
pub fn v3_one(status: StatusCode, item: Value) -> Response {
    (status, Json(json!({"data": item}))).into_response()
}

/// A v1 single object under its key.
pub fn v1_one(status: StatusCode, singular: &str, item: Value) -> Response {
    (status, Json(json!({"execution_time": EXECUTION_TIME, singular: item}))).into_response()
}

/// The body as a JSON object, or the 400 of `path`'s generation.
pub fn object(path: &str, body: &Bytes) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(vendor::bad_request(path, "", "invalid_type", "the body must be a JSON object")),
        Err(error) => Err(vendor::bad_request(path, "", "invalid_type", format!("the body is not JSON: {error}"))),
    }
}

/// v3's rule: a property the resource does not define is refused, with
/// every such property named (`pointer` says where, `conversions[3].colour`).
pub fn unknown_properties(object: &Map<String, Value>, allowed: &[&str], pointer: &str) -> Vec<Problem> {
    object
        .keys()
        .filter(|key| !allowed.contains(&key.as_str()))
        .map(|key| {
            let property = if pointer.is_empty() { key.clone() } else { format!("{pointer}.{key}") };
            Problem::new(
                property.clone(),
                "invalid_property",
                format!(
                    "The property {property} is not defined and the definition does not allow additional properties"
                ),
            )
        })
        .collect()
}

/// `problems` as a v3 400, or nothing when there are none.
pub fn refuse(problems: Vec<Problem>) -> Result<(), Response> {
    if problems.is_empty() { Ok(()) } else { Err(vendor::error(Generation::V3, StatusCode::BAD_REQUEST, problems)) }
}

/// A text field of a body: a string, a number written as text, or absent.
pub fn text(object: &Map<String, Value>, name: &str) -> Option<String> {
    match object.get(name)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(if *flag { "y" } else { "n" }.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination_links_are_relative_and_keep_the_query() {
        let uri: Uri = "/v3/brand/campaigns?status=a&offset=2&limit=2".parse().expect("a URI");
        let links = pagination(&uri, Page { offset: 2, limit: 2 }, 5);
        assert_eq!(links["total_page_count"], 3);
        assert_eq!(links["next_page"], "/v3/brand/campaigns?status=a&offset=4&limit=2");
        assert_eq!(links["previous_page"], "/v3/brand/campaigns?status=a&offset=0&limit=2");
        assert_eq!(links["last_page"], "/v3/brand/campaigns?status=a&offset=4&limit=2");
        let last = pagination(&uri, Page { offset: 4, limit: 2 }, 5);
        assert!(last["next_page"].is_null());
    }

    #[test]
    fn unknown_properties_are_each_named() {
        let body = json!({"title": "x", "colour": "red", "size": 1});
        let problems = unknown_properties(body.as_object().expect("an object"), &["title"], "campaign");
        let named: Vec<&str> = problems.iter().map(|problem| problem.property.as_str()).collect();
        assert_eq!(named, ["campaign.colour", "campaign.size"]);
    }
}
