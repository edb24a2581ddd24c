//! Paging styles: helpers that read a request's page and slice a sorted
//! collection into it, and the layer that makes each style's paging never
//! end under [`crate::FaultConfig::paging_loop`].
//!
//! - Offset and count with a total ([`OffsetCount`]; Mailchimp's
//!   `?offset=20&count=10` answered with `total_items`), never-ending with
//!   [`endless_offset_pages`].
//! - Page number and size ([`PageNumber`]; `?page=3&per_page=50`).
//! - JSON:API cursor links ([`Cursor`]; Klaviyo's `page[cursor]` in
//!   absolute `links.next`, [`cursor_links`]), going round in a circle with
//!   [`circular_cursor_links`].
//!
//! Each style's `page_index` says which page a request asks for, which is
//! what a vendor's [`crate::Vendor::page_index`] returns for
//! [`crate::FaultConfig::fail_page_once`].

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Value, json};

use crate::faults::PagingLoop;
use crate::query::Params;
use crate::{FaultConfig, Vendor};

/// Offset/count paging: `offset` items skipped, `count` served, and the
/// number of matching items as the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetCount {
    /// `count` when the request names none.
    pub default_count: usize,
    /// The largest `count` accepted.
    pub max_count: usize,
}

/// Why a request's offset or count is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetError {
    /// The parameter is not a non-negative integer.
    NotANumber {
        /// `offset` or `count`.
        parameter: &'static str,
    },
    /// `count` is above [`OffsetCount::max_count`].
    TooLarge {
        /// The count asked for.
        count: usize,
        /// The largest allowed.
        max: usize,
    },
}

impl OffsetCount {
    /// The request's `(offset, count)`.
    pub fn parse(&self, params: &Params) -> Result<(usize, usize), OffsetError> {
        self.parse_with(params, "count")
    }

    /// The request's `(offset, count)` with the page size under another
    /// name: `limit` (Partnerize's `offset` + `limit`), `per_page`, …
    pub fn parse_with(&self, params: &Params, count_parameter: &'static str) -> Result<(usize, usize), OffsetError> {
        let number = |parameter: &'static str, default: usize| -> Result<usize, OffsetError> {
            params
                .get(parameter)
                .map_or(Ok(default), |value| value.parse().map_err(|_| OffsetError::NotANumber { parameter }))
        };
        let offset = number("offset", 0)?;
        let count = number(count_parameter, self.default_count)?;
        if count > self.max_count {
            return Err(OffsetError::TooLarge { count, max: self.max_count });
        }
        Ok((offset, count))
    }

    /// [`OffsetCount::page_index`] with the page size under another name;
    /// see [`OffsetCount::parse_with`].
    pub fn page_index_with(&self, uri: &Uri, count_parameter: &'static str) -> Option<u64> {
        let params = Params::from_uri(uri);
        if params.get("offset").is_none() && params.get(count_parameter).is_none() {
            return None;
        }
        let (offset, count) = self.parse_with(&params, count_parameter).ok()?;
        Some((offset / count.max(1)) as u64)
    }

    /// The page a request asks for (`offset / count`), when it names an
    /// offset or a count that are valid.
    pub fn page_index(&self, uri: &Uri) -> Option<u64> {
        self.page_index_with(uri, "count")
    }

    /// The items of one page and the total, in one pass.
    pub fn page<T>(&self, items: impl Iterator<Item = T>, offset: usize, count: usize) -> (Vec<T>, usize) {
        let mut total = 0;
        let mut kept = Vec::with_capacity(count.min(self.max_count));
        for item in items {
            if total >= offset && kept.len() < count {
                kept.push(item);
            }
            total += 1;
        }
        (kept, total)
    }
}

/// Middleware for [`FaultConfig::paging_loop`] on offset paging, which
/// cannot go round, so it never ends instead: every page a `GET` asks for
/// ([`Vendor::page_index`]) is the first page, full of the same items, and a
/// numeric `total_items` claims [`FaultConfig::ENDLESS_TOTAL_ITEMS`]. Use
/// with `axum::middleware::from_fn(endless_offset_pages::<Vendor>)`.
pub async fn endless_offset_pages<V: Vendor>(mut request: Request, next: Next) -> Response {
    if request.extensions().get::<PagingLoop>().is_none()
        || request.method() != Method::GET
        || V::page_index(request.uri()).is_none()
    {
        return next.run(request).await;
    }
    let first_page = Params::from_uri(request.uri()).with("offset", Some("0"));
    if let Ok(uri) = format!("{}?{first_page}", request.uri().path()).parse::<Uri>() {
        *request.uri_mut() = uri;
    }
    rewrite_json::<V>(next.run(request).await, |document| {
        if let Some(total) = document.get_mut("total_items").filter(|total| total.is_u64()) {
            *total = Value::from(FaultConfig::ENDLESS_TOTAL_ITEMS);
        }
    })
    .await
}

/// Page-number paging: 1-based `page`, `size` items per page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber {
    /// The page parameter's name (`page`).
    pub page_parameter: &'static str,
    /// The size parameter's name (`per_page`, `page_size`, …).
    pub size_parameter: &'static str,
    /// Size when the request names none.
    pub default_size: usize,
    /// The largest size accepted.
    pub max_size: usize,
}

/// Why a request's page or size is refused: the parameter is not a number
/// in its range (page from 1, size from 1 to the maximum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumberError {
    /// The parameter refused.
    pub parameter: &'static str,
}

impl PageNumber {
    /// The request's `(page, size)`, page 1-based.
    pub fn parse(&self, params: &Params) -> Result<(usize, usize), PageNumberError> {
        let number = |parameter: &'static str, default: usize, max: usize| match params.get(parameter) {
            None => Ok(default),
            Some(value) => match value.parse::<usize>() {
                Ok(number) if (1..=max).contains(&number) => Ok(number),
                _ => Err(PageNumberError { parameter }),
            },
        };
        Ok((
            number(self.page_parameter, 1, usize::MAX)?,
            number(self.size_parameter, self.default_size, self.max_size)?,
        ))
    }

    /// The page a request asks for, 0-based, when it names one.
    pub fn page_index(&self, uri: &Uri) -> Option<u64> {
        let params = Params::from_uri(uri);
        params.get(self.page_parameter)?;
        self.parse(&params).ok().map(|(page, _)| page as u64 - 1)
    }

    /// The items of page `page` of `size` and the total, in one pass.
    pub fn page<T>(&self, items: impl Iterator<Item = T>, page: usize, size: usize) -> (Vec<T>, usize) {
        let offset = page.saturating_sub(1).saturating_mul(size);
        OffsetCount { default_count: size, max_count: self.max_size }.page(items, offset, size)
    }
}

/// A position in a cursor walk: the page number, the offset, and the last
/// key served (for keyset pages over a sorted map).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    /// 0-based page number.
    pub page: u64,
    /// Items served before this page.
    pub offset: usize,
    /// The last key the previous page served, for keyset pages.
    pub key: Option<String>,
}

/// A `page[cursor]` that is not one this emulator made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidCursor;

impl Cursor {
    /// Opaque on the wire: hex of `page|offset|key`.
    pub fn encode(&self) -> String {
        let plain = format!("{}|{}|{}", self.page, self.offset, self.key.as_deref().unwrap_or(""));
        plain.bytes().map(|byte| format!("{byte:02x}")).collect()
    }

    /// The cursor `encoded` names, if it is one.
    pub fn decode(encoded: &str) -> Option<Cursor> {
        let bytes: Option<Vec<u8>> = (0..encoded.len())
            .step_by(2)
            .map(|at| encoded.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
            .collect();
        let plain = String::from_utf8(bytes?).ok()?;
        let mut parts = plain.splitn(3, '|');
        let page = parts.next()?.parse().ok()?;
        let offset = parts.next()?.parse().ok()?;
        let key = parts.next()?;
        Some(Cursor { page, offset, key: (!key.is_empty()).then(|| key.to_owned()) })
    }

    /// The request's `page[cursor]`, or the start.
    pub fn from_params(params: &Params) -> Result<Cursor, InvalidCursor> {
        match params.get("page[cursor]") {
            None => Ok(Cursor::default()),
            Some(encoded) => Cursor::decode(encoded).ok_or(InvalidCursor),
        }
    }

    /// The cursor after a page of `served` items whose last key is `key`.
    pub fn next(&self, served: usize, key: Option<String>) -> Cursor {
        Cursor { page: self.page + 1, offset: self.offset + served, key }
    }

    /// The page a request asks for: the cursor's page number, or 0 for a
    /// first page that names a `page[size]`.
    pub fn page_index(uri: &Uri) -> Option<u64> {
        let params = Params::from_uri(uri);
        match params.get("page[cursor]") {
            Some(encoded) => Cursor::decode(encoded).map(|cursor| cursor.page),
            None => params.get("page[size]").map(|_| 0),
        }
    }

    /// One page of `size` from `items` (already filtered and sorted) at this
    /// cursor's offset, and the cursor of the next page if there is one.
    pub fn take_page<T>(&self, items: impl Iterator<Item = T>, size: usize) -> (Vec<T>, Option<Cursor>) {
        let mut page: Vec<T> = items.skip(self.offset).take(size + 1).collect();
        let next = (page.len() > size).then(|| {
            page.truncate(size);
            self.next(size, None)
        });
        (page, next)
    }
}

/// The request's `page[size]`: `default` when absent, `None` when it is not
/// a number from 1 to `max`.
pub fn page_size(params: &Params, default: usize, max: usize) -> Option<usize> {
    match params.get("page[size]") {
        None => Some(default),
        Some(value) => value.parse::<usize>().ok().filter(|size| (1..=max).contains(size)),
    }
}

/// A collection page's `links`: absolute `self` (the request's own query),
/// `next` (the same query with `page[cursor]` set, or `null`) and `prev`
/// (`null`).
pub fn cursor_links(base: &str, uri: &Uri, next: Option<&Cursor>) -> Value {
    let params = Params::from_uri(uri);
    let self_link = link(base, uri, params.with("__none__", None));
    let next_link = next.map(|cursor| link(base, uri, params.with("page[cursor]", Some(&cursor.encode()))));
    json!({"self": self_link, "next": next_link, "prev": Value::Null})
}

fn link(base: &str, uri: &Uri, query: String) -> String {
    let path = uri.path();
    if query.is_empty() { format!("{base}{path}") } else { format!("{base}{path}?{query}") }
}

/// Middleware for [`FaultConfig::paging_loop`] on cursor links: a
/// collection's `links.next` goes round in a circle. The first page (A, no
/// cursor) points at the second (B: its own next link, or one made up when
/// the collection fits on A), and every page with a cursor points back at A.
/// The state is the base URL links start with. Use with
/// `axum::middleware::from_fn_with_state(base, circular_cursor_links::<Vendor>)`.
pub async fn circular_cursor_links<V: Vendor>(State(base): State<Arc<str>>, request: Request, next: Next) -> Response {
    if request.extensions().get::<PagingLoop>().is_none() {
        return next.run(request).await;
    }
    let uri = request.uri().clone();
    rewrite_json::<V>(next.run(request).await, |document| {
        if let Some(next_link) = circular_next(&base, &uri, document) {
            document["links"]["next"] = Value::String(next_link);
        }
    })
    .await
}

/// The next link of a collection page under the paging loop; `None` for an
/// answer that is not a collection.
fn circular_next(base: &str, uri: &Uri, document: &Value) -> Option<String> {
    let data = document.get("data")?.as_array()?;
    document.get("links")?.as_object()?;
    let params = Params::from_uri(uri);
    if params.get("page[cursor]").is_some() {
        return Some(link(base, uri, params.with("page[cursor]", None)));
    }
    if let Some(next_link) = document.pointer("/links/next").and_then(Value::as_str) {
        return Some(next_link.to_owned());
    }
    let second = Cursor { page: 1, offset: data.len(), key: None };
    Some(link(base, uri, params.with("page[cursor]", Some(&second.encode()))))
}

/// A 200's JSON body changed by `change` (other answers, and bodies that are
/// not JSON, pass as they are); the length is recomputed.
async fn rewrite_json<V: Vendor>(response: Response, change: impl FnOnce(&mut Value)) -> Response {
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return V::server_error(500);
    };
    let Ok(mut document) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    change(&mut document);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(document.to_string()))
}

/// Page-number paging with its metadata in headers only, as Yii2 REST APIs
/// answer (Scaleo): `X-Pagination-Current-Page`, `X-Pagination-Page-Count`,
/// `X-Pagination-Per-Page` and `X-Pagination-Total-Count`, and a body
/// without any of it. Yii2 also clamps the page asked for into the pages
/// there are (`validatePage`): a page past the last answers the last page
/// again, so a client that reads until an empty page never stops; only the
/// total (or the page count) ends a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XPagination {
    /// The page answered, 1-based, after clamping.
    pub current_page: usize,
    /// Pages there are (0 for an empty collection, as Yii2 counts).
    pub page_count: usize,
    /// Items per page.
    pub per_page: usize,
    /// Items there are.
    pub total_count: usize,
}

impl XPagination {
    /// The page answered for a request of page `page` (1-based) of
    /// `per_page` items over `total_count` items: `page` clamped into
    /// `1..=page_count` (page 1 when there is none).
    pub fn clamped(page: usize, per_page: usize, total_count: usize) -> XPagination {
        let per_page = per_page.max(1);
        let page_count = total_count.div_ceil(per_page);
        XPagination { current_page: page.clamp(1, page_count.max(1)), page_count, per_page, total_count }
    }

    /// Items before the page answered.
    pub fn offset(&self) -> usize {
        (self.current_page - 1).saturating_mul(self.per_page)
    }

    /// The page's items out of all of them, in order.
    pub fn page<T>(&self, items: impl IntoIterator<Item = T>) -> Vec<T> {
        items.into_iter().skip(self.offset()).take(self.per_page).collect()
    }

    /// Sets the four headers on `response`.
    pub fn apply(&self, response: &mut Response) {
        let headers = response.headers_mut();
        for (name, value) in [
            ("x-pagination-current-page", self.current_page),
            ("x-pagination-page-count", self.page_count),
            ("x-pagination-per-page", self.per_page),
            ("x-pagination-total-count", self.total_count),
        ] {
            headers.insert(name, axum::http::HeaderValue::from(value));
        }
    }
}

/// Middleware for [`FaultConfig::paging_loop`] on [`XPagination`] paging,
/// which cannot go round, so it never ends instead: every page a request
/// asks for (its `page` parameter, any method: Yii2 reports are `POST`s
/// paged in the query) is the first page, and the headers claim
/// [`FaultConfig::ENDLESS_TOTAL_ITEMS`] items. Use with
/// `axum::middleware::from_fn(endless_header_pages)`.
pub async fn endless_header_pages(mut request: Request, next: Next) -> Response {
    if request.extensions().get::<PagingLoop>().is_none() {
        return next.run(request).await;
    }
    let first_page = Params::from_uri(request.uri()).with("page", Some("1"));
    if let Ok(uri) = format!("{}?{first_page}", request.uri().path()).parse::<Uri>() {
        *request.uri_mut() = uri;
    }
    let mut response = next.run(request).await;
    let per_page = response
        .headers()
        .get("x-pagination-per-page")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if let Some(per_page) = per_page {
        let total = usize::try_from(FaultConfig::ENDLESS_TOTAL_ITEMS).unwrap_or(usize::MAX);
        XPagination { current_page: 1, page_count: total.div_ceil(per_page.max(1)), per_page, total_count: total }
            .apply(&mut response);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAILCHIMP: OffsetCount = OffsetCount { default_count: 10, max_count: 1000 };

    fn uri(text: &str) -> Uri {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn the_page_size_may_go_by_another_name() {
        const PARTNERIZE: OffsetCount = OffsetCount { default_count: 100, max_count: 300 };
        assert_eq!(PARTNERIZE.parse_with(&Params::parse("offset=600&limit=300"), "limit"), Ok((600, 300)));
        assert_eq!(PARTNERIZE.parse_with(&Params::parse("count=5"), "limit"), Ok((0, 100)), "count is not its name");
        assert_eq!(
            PARTNERIZE.parse_with(&Params::parse("limit=301"), "limit"),
            Err(OffsetError::TooLarge { count: 301, max: 300 })
        );
        assert_eq!(
            PARTNERIZE.parse_with(&Params::parse("limit=x"), "limit"),
            Err(OffsetError::NotANumber { parameter: "limit" })
        );
        assert_eq!(PARTNERIZE.page_index_with(&uri("/v3/brand/campaigns?offset=600&limit=300"), "limit"), Some(2));
        assert_eq!(PARTNERIZE.page_index_with(&uri("/v3/brand/campaigns"), "limit"), None);
    }

    #[test]
    fn x_pagination_clamps_the_page_as_yii2_does() {
        let page = XPagination::clamped(3, 10, 23);
        assert_eq!(page, XPagination { current_page: 3, page_count: 3, per_page: 10, total_count: 23 });
        assert_eq!(page.page(1..=23), vec![21, 22, 23]);
        let past = XPagination::clamped(9, 10, 23);
        assert_eq!((past.current_page, past.page(1..=23)), (3, vec![21, 22, 23]), "past the end: the last page");
        let empty = XPagination::clamped(2, 10, 0);
        assert_eq!((empty.current_page, empty.page_count, empty.page(0..0)), (1, 0, vec![]));
        assert_eq!(XPagination::clamped(0, 10, 23).current_page, 1);
        let mut response = Response::new(Body::empty());
        page.apply(&mut response);
        let header = |name: &str| response.headers()[name].to_str().map(str::to_owned).unwrap_or_default();
        assert_eq!(
            [
                header("x-pagination-current-page"),
                header("x-pagination-page-count"),
                header("x-pagination-total-count")
            ],
            ["3", "3", "23"]
        );
    }

    #[test]
    fn offsets_and_counts() {
        assert_eq!(MAILCHIMP.parse(&Params::parse("")), Ok((0, 10)));
        assert_eq!(MAILCHIMP.parse(&Params::parse("offset=20&count=5")), Ok((20, 5)));
        assert_eq!(MAILCHIMP.parse(&Params::parse("count=-1")), Err(OffsetError::NotANumber { parameter: "count" }));
        assert_eq!(
            MAILCHIMP.parse(&Params::parse("count=1001")),
            Err(OffsetError::TooLarge { count: 1001, max: 1000 })
        );
        assert_eq!(MAILCHIMP.page_index(&uri("/x?offset=20&count=10")), Some(2));
        assert_eq!(MAILCHIMP.page_index(&uri("/x")), None);
        assert_eq!(MAILCHIMP.page_index(&uri("/x?count=5000")), None);
        assert_eq!(MAILCHIMP.page(1..=25, 20, 10), (vec![21, 22, 23, 24, 25], 25));
    }

    #[test]
    fn page_numbers() {
        let style = PageNumber { page_parameter: "page", size_parameter: "per_page", default_size: 20, max_size: 100 };
        assert_eq!(style.parse(&Params::parse("")), Ok((1, 20)));
        assert_eq!(style.parse(&Params::parse("page=3&per_page=7")), Ok((3, 7)));
        assert_eq!(style.parse(&Params::parse("page=0")), Err(PageNumberError { parameter: "page" }));
        assert_eq!(style.parse(&Params::parse("per_page=101")), Err(PageNumberError { parameter: "per_page" }));
        assert_eq!(style.page_index(&uri("/x?page=3")), Some(2));
        assert_eq!(style.page(1..=10, 2, 4), (vec![5, 6, 7, 8], 10));
        assert_eq!(style.page(1..=10, 4, 4), (vec![], 10));
    }

    #[test]
    fn cursors_round_trip_and_page() {
        let cursor = Cursor { page: 3, offset: 60, key: Some("01GDDKASAP8TKDDA2GRZDSVP4H".to_owned()) };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("zz"), None);
        assert_eq!(Cursor::from_params(&Params::parse("page%5Bcursor%5D=zz")), Err(InvalidCursor));
        let (page, next) = Cursor::default().take_page(1..=5, 2);
        assert_eq!((page, next.as_ref().map(|next| (next.page, next.offset))), (vec![1, 2], Some((1, 2))));
        let (page, next) = Cursor { page: 2, offset: 4, key: None }.take_page(1..=5, 2);
        assert_eq!((page, next), (vec![5], None));
        assert_eq!(Cursor::page_index(&uri("/x?page%5Bsize%5D=5")), Some(0));
        assert_eq!(page_size(&Params::parse("page%5Bsize%5D=101"), 20, 100), None);
        assert_eq!(page_size(&Params::parse(""), 20, 100), Some(20));
    }

    #[test]
    fn links_are_absolute_and_keep_the_query() {
        let next = Cursor { page: 1, offset: 2, key: None };
        let links = cursor_links("http://h", &uri("/api/x?page%5Bsize%5D=2"), Some(&next));
        assert_eq!(links["self"], "http://h/api/x?page%5Bsize%5D=2");
        assert_eq!(links["next"], format!("http://h/api/x?page%5Bsize%5D=2&page%5Bcursor%5D={}", next.encode()));
        assert!(links["prev"].is_null());
    }
}
