//! The API's answers: the paged envelope (`@page`, `@numpages`,
//! `@pagesize`, `@total`, `@start`, `@end` and the `@…uri` links, every
//! attribute a string), and the error envelope (`{"Status": "ERROR",
//! "Message": …, "Errors": [{"Field", "Message"}]}`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cutover_emulator_kit::query::Params;
use serde_json::{Map, Value, json};

/// The error envelope with `status`, `message` and, when any, one entry per
/// field at fault.
pub fn error(status: StatusCode, message: &str, fields: &[(&str, &str)]) -> Response {
    let mut body = json!({"Status": "ERROR", "Message": message});
    if !fields.is_empty() {
        body["Errors"] =
            fields.iter().map(|(field, message)| json!({"Field": field, "Message": message})).collect::<Value>();
    }
    (status, Json(body)).into_response()
}

/// `400 Validation Failed` naming the fields at fault.
pub fn invalid(fields: &[(&str, &str)]) -> Response {
    error(StatusCode::BAD_REQUEST, "Validation Failed", fields)
}

/// `404` for a path or an id the account does not have.
pub fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found", &[])
}

/// How a collection pages.
#[derive(Debug, Clone, Copy)]
pub struct Sizing {
    /// `PageSize` when the request names none.
    pub default: usize,
    /// A smaller `PageSize` is served as this one (Actions: 2,000).
    pub min: usize,
    /// The largest `PageSize` served.
    pub max: usize,
}

/// Most collections: 1,000 a page by default (documented), at most 20,000 (not confirmed).
pub const DEFAULT_SIZING: Sizing = Sizing { default: 1000, min: 1, max: 20_000 };

/// Actions and their updates: 20,000 a page by default, at least 2,000 (documented).
pub const ACTION_SIZING: Sizing = Sizing { default: 20_000, min: 2000, max: 20_000 };

/// The request's 1-based page and its size as asked (before any cap), or
/// the 400 for a value that is not a positive number.
pub fn page_request(params: &Params, sizing: Sizing) -> Result<(usize, usize), Response> {
    let number = |name: &'static str, default: usize| match params.get(name) {
        None | Some("") => Ok(default),
        Some(value) => match value.trim().parse::<usize>() {
            Ok(number) if number > 0 => Ok(number),
            _ => Err(invalid(&[(name, "Not a positive numeric value")])),
        },
    };
    Ok((number("Page", 1)?, number("PageSize", sizing.default)?))
}

/// What one page needs to know of its request.
#[derive(Debug)]
pub struct PageOf<'a> {
    /// The path as requested (with its `.json` if it had one).
    pub path: &'a str,
    /// The query as requested.
    pub params: &'a Params,
    /// The collection's sizing.
    pub sizing: Sizing,
    /// A cap on every page (the emulator's test knob), if set.
    pub cap: Option<usize>,
    /// Whether the paging-loop fault is on for this request.
    pub paging_loop: bool,
}

/// One page of `items` under `key`, in the API's envelope.
pub fn page(of: &PageOf<'_>, key: &str, items: Vec<Value>) -> Response {
    let (page, asked) = match page_request(of.params, of.sizing) {
        Ok(request) => request,
        Err(response) => return response,
    };
    let size = asked.clamp(of.sizing.min, of.sizing.max).min(of.cap.unwrap_or(usize::MAX)).max(1);
    let total = items.len();
    let pages = total.div_ceil(size);
    let start = (page - 1).saturating_mul(size);
    let served: Vec<Value> = items.into_iter().skip(start).take(size).collect();
    let link = |number: usize| format!("{}?{}", of.path, of.params.with("Page", Some(&number.to_string())));
    let mut next = if page < pages { link(page + 1) } else { String::new() };
    if of.paging_loop {
        // A circle: page 1 points at page 2 and page 2 back at page 1.
        next = if page == 1 { link(2) } else { link(1) };
    }
    let uri = match of.params.with("__none__", None) {
        query if query.is_empty() => of.path.to_owned(),
        query => format!("{}?{query}", of.path),
    };
    let mut body = Map::new();
    body.insert("@page".into(), page.to_string().into());
    body.insert("@numpages".into(), pages.to_string().into());
    body.insert("@pagesize".into(), size.to_string().into());
    body.insert("@total".into(), total.to_string().into());
    body.insert("@start".into(), if served.is_empty() { "0".to_owned() } else { start.to_string() }.into());
    body.insert(
        "@end".into(),
        if served.is_empty() { "0".to_owned() } else { (start + served.len() - 1).to_string() }.into(),
    );
    body.insert("@uri".into(), uri.into());
    body.insert("@firstpageuri".into(), link(1).into());
    body.insert("@previouspageuri".into(), if page > 1 { link(page - 1) } else { String::new() }.into());
    body.insert("@nextpageuri".into(), next.into());
    body.insert("@lastpageuri".into(), link(pages.max(1)).into());
    body.insert(key.to_owned(), Value::Array(served));
    Json(Value::Object(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_and_sizes_are_positive_numbers() {
        let ok = |query: &str| page_request(&Params::parse(query), DEFAULT_SIZING).ok();
        assert_eq!(ok(""), Some((1, 1000)));
        assert_eq!(ok("Page=3&PageSize=20"), Some((3, 20)));
        assert_eq!(ok("Page=0"), None);
        assert_eq!(ok("PageSize=ten"), None);
    }
}
