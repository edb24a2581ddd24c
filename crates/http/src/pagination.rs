//! Reading a collection page by page, resumable from a saved cursor.
//!
//! A [`Paginator`] is a small state machine: [`Paginator::next_page`] fetches
//! one page and moves on, and [`Page::cursor`] is a string that
//! [`Paginator::resume`] takes back, so a plugin's `read(cursor)` fetches one
//! page per call and hands the host the cursor to save. A cursor holds an
//! offset, a page number or a link the platform gave out (never a
//! credential: links are checked against the base URL's origin before they
//! are followed).

use crate::client::{HttpClient, Request, Response};
use crate::error::HttpError;
use reqwest::header::LINK;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a platform pages a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageStyle {
    /// An offset and a page size as query parameters; the body may give the
    /// total. Mailchimp: `offset`, `count` (at most 1000), `total_items`.
    Offset {
        /// The offset parameter.
        offset_param: String,
        /// The page size parameter.
        count_param: String,
        /// A JSON pointer to the total item count, if the body has one.
        total_pointer: Option<String>,
    },
    /// A 1-based page number and a page size. Mailman: `page`, `count`,
    /// `total_size` (and `entries` is left out of an empty page).
    PageNumber {
        /// The page number parameter.
        page_param: String,
        /// The page size parameter.
        count_param: String,
        /// A JSON pointer to the total item count, if the body has one.
        total_pointer: Option<String>,
    },
    /// The body holds the next page's URL, followed verbatim (a relative one
    /// resolved against the page's URL); absent or null on the last page.
    /// Klaviyo: `links.next`, carrying `page[cursor]`, with `page[size]` on
    /// the first request; Partnerize's cursor mode:
    /// `hypermedia.pagination.next_page`, a relative URI with its `cursor_id`.
    NextLink {
        /// A JSON pointer to the next page's URL.
        next_pointer: String,
        /// The page size parameter of the first request, if any.
        size_param: Option<String>,
    },
    /// The `Link` header's `rel="next"` URL (RFC 8288), resolved against the
    /// page's URL.
    LinkHeader {
        /// The page size parameter of the first request, if any.
        size_param: Option<String>,
    },
}

/// Where a paginator stands; serialised, it is the cursor string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "page", rename_all = "snake_case")]
enum Position {
    /// The first page is next.
    Start,
    /// The page at this offset is next.
    Offset {
        offset: u64,
        /// The hash of the page before, for the repeat check.
        #[serde(default, skip_serializing_if = "is_zero")]
        previous: u64,
    },
    /// This 1-based page is next.
    Number {
        number: u64,
        /// The hash of the page before, for the repeat check.
        #[serde(default, skip_serializing_if = "is_zero")]
        previous: u64,
    },
    /// This URL is the next page.
    Link {
        url: String,
        /// The links followed so far, for the loop check.
        #[serde(default, skip_serializing_if = "Trail::is_empty")]
        trail: Trail,
    },
    /// Every page was read.
    Done,
}

/// What a cursor remembers of the links followed before it, in constant
/// space: Brent's cycle detection keeps one earlier link (its hash) and
/// replaces it at each power of two, so links that come round again (A → B →
/// A) are caught within two turns of the circle, however long, and however
/// often the read was resumed from a cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Trail {
    /// Links followed.
    pages: u64,
    /// The hash of the link kept for comparison.
    kept: u64,
    /// Links followed since `kept` was kept.
    since: u64,
    /// How many links `kept` stays before the newest replaces it.
    window: u64,
}

impl Trail {
    fn is_empty(&self) -> bool {
        self.pages == 0
    }

    /// The trail after following `url`, or `None` if `url` came round again.
    fn follow(&self, url: &str) -> Option<Trail> {
        let hash = fnv1a(url.as_bytes());
        if self.pages == 0 {
            return Some(Trail { pages: 1, kept: hash, since: 0, window: 1 });
        }
        if hash == self.kept {
            return None;
        }
        let pages = self.pages.saturating_add(1);
        let since = self.since + 1;
        Some(if since == self.window {
            Trail { pages, kept: hash, since: 0, window: self.window.saturating_mul(2) }
        } else {
            Trail { pages, since, ..*self }
        })
    }
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// FNV-1a: a stable 64-bit hash (the same in every process), for links.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

/// One page of items.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The items, as the platform wrote them: a plugin maps each one and
    /// rejects those it cannot map.
    pub items: Vec<Value>,
    /// The total item count, if the platform gives one.
    pub total: Option<u64>,
    /// Resumes right after this page (see [`Paginator::resume`]).
    pub cursor: String,
    /// No page follows.
    pub done: bool,
}

/// Reads a collection page by page. See the module docs.
#[derive(Debug, Clone)]
pub struct Paginator {
    request: Request,
    style: PageStyle,
    items_pointer: String,
    page_size: u32,
    position: Position,
    max_pages: u64,
    /// A response header that gives the total item count
    /// ([`Paginator::total_header`]).
    total_header: Option<String>,
}

impl Paginator {
    /// Pages `request` in `style`, `page_size` items a page, items found at
    /// the JSON pointer `items_pointer` (`""` for a body that is an array).
    pub fn new(request: Request, style: PageStyle, items_pointer: impl Into<String>, page_size: u32) -> Paginator {
        Paginator {
            request,
            style,
            items_pointer: items_pointer.into(),
            page_size: page_size.max(1),
            position: Position::Start,
            max_pages: Paginator::DEFAULT_MAX_PAGES,
            total_header: None,
        }
    }

    /// Reads the total item count from the response header `name` instead
    /// of the body, for platforms that page in headers only (Scaleo and
    /// other Yii2 APIs: `X-Pagination-Total-Count`). A header that is
    /// absent or not a number gives no total, and a short page then ends
    /// the read, as for a body without one. It replaces the style's
    /// `total_pointer` for offset and page-number paging, and has no effect
    /// on link paging.
    pub fn total_header(mut self, name: impl Into<String>) -> Paginator {
        self.total_header = Some(name.into());
        self
    }

    /// The default [`Paginator::max_pages`]: ten million pages, far past any
    /// real collection, so only paging that never ends reaches it.
    pub const DEFAULT_MAX_PAGES: u64 = 10_000_000;

    /// The most pages read before the paging is taken as endless and fails
    /// with [`HttpError::EndlessPaging`].
    pub fn max_pages(mut self, pages: u64) -> Paginator {
        self.max_pages = pages.max(1);
        self
    }

    /// Pages read before the current position.
    fn pages_read(&self) -> u64 {
        match &self.position {
            Position::Start => 0,
            Position::Offset { offset, .. } => offset.div_ceil(u64::from(self.page_size)),
            Position::Number { number, .. } => number.saturating_sub(1),
            Position::Link { trail, .. } => trail.pages,
            Position::Done => 0,
        }
    }

    /// Mailchimp's offset paging: `offset`/`count`, `total_items`, the items
    /// at `items_pointer` (e.g. `/members`).
    pub fn offset(request: Request, items_pointer: impl Into<String>, count: u32) -> Paginator {
        let style = PageStyle::Offset {
            offset_param: "offset".into(),
            count_param: "count".into(),
            total_pointer: Some("/total_items".into()),
        };
        Paginator::new(request, style, items_pointer, count)
    }

    /// Mailman's paging: 1-based `page`, `count`, `total_size`, items at
    /// `/entries`.
    pub fn page_number(request: Request, count: u32) -> Paginator {
        let style = PageStyle::PageNumber {
            page_param: "page".into(),
            count_param: "count".into(),
            total_pointer: Some("/total_size".into()),
        };
        Paginator::new(request, style, "/entries", count)
    }

    /// JSON:API cursor paging (Klaviyo): `page[size]` on the first request,
    /// items at `/data`, then `links.next` verbatim.
    pub fn json_api(request: Request, page_size: u32) -> Paginator {
        let style = PageStyle::NextLink { next_pointer: "/links/next".into(), size_param: Some("page[size]".into()) };
        Paginator::new(request, style, "/data", page_size)
    }

    /// `Link: <…>; rel="next"` paging, items at `items_pointer`.
    pub fn link_header(
        request: Request,
        items_pointer: impl Into<String>,
        size_param: Option<&str>,
        page_size: u32,
    ) -> Paginator {
        let style = PageStyle::LinkHeader { size_param: size_param.map(str::to_owned) };
        Paginator::new(request, style, items_pointer, page_size)
    }

    /// Continues from a cursor a [`Page`] gave (`None`: from the start).
    pub fn resume(mut self, cursor: Option<&str>) -> Result<Paginator, HttpError> {
        let Some(cursor) = cursor else {
            self.position = Position::Start;
            return Ok(self);
        };
        let invalid = |reason: &str| HttpError::InvalidCursor { cursor: cursor.to_owned(), reason: reason.to_owned() };
        let position: Position =
            serde_json::from_str(cursor).map_err(|_| invalid("it is not a cursor this toolkit wrote"))?;
        let fits = match (&position, &self.style) {
            (Position::Start | Position::Done, _) => true,
            (Position::Offset { .. }, PageStyle::Offset { .. }) => true,
            (Position::Number { number, .. }, PageStyle::PageNumber { .. }) => *number >= 1,
            (Position::Link { .. }, PageStyle::NextLink { .. } | PageStyle::LinkHeader { .. }) => true,
            _ => false,
        };
        if !fits {
            return Err(invalid("it was written for another kind of paging"));
        }
        self.position = position;
        Ok(self)
    }

    /// What names the collection paged, for [`crate::PagedReader`]'s cache.
    pub(crate) fn scope(&self) -> String {
        format!("{} ({} a page)", self.request.scope(), self.page_size)
    }

    /// The cursor of where the paginator stands.
    pub fn cursor(&self) -> String {
        encode(&self.position)
    }

    /// Every page was read.
    pub fn is_done(&self) -> bool {
        self.position == Position::Done
    }

    /// Fetches the next page, `None` once every page was read.
    pub async fn next_page(&mut self, client: &HttpClient) -> Result<Option<Page>, HttpError> {
        let size = self.page_size.to_string();
        let request = match (&self.position, &self.style) {
            (Position::Done, _) => return Ok(None),
            (Position::Start, PageStyle::Offset { offset_param, count_param, .. }) => {
                self.request.clone().query(offset_param.as_str(), 0).query(count_param.as_str(), &size)
            }
            (Position::Offset { offset, .. }, PageStyle::Offset { offset_param, count_param, .. }) => {
                self.request.clone().query(offset_param.as_str(), offset).query(count_param.as_str(), &size)
            }
            (Position::Start, PageStyle::PageNumber { page_param, count_param, .. }) => {
                self.request.clone().query(page_param.as_str(), 1).query(count_param.as_str(), &size)
            }
            (Position::Number { number, .. }, PageStyle::PageNumber { page_param, count_param, .. }) => {
                self.request.clone().query(page_param.as_str(), number).query(count_param.as_str(), &size)
            }
            (Position::Start, PageStyle::NextLink { size_param, .. } | PageStyle::LinkHeader { size_param }) => {
                match size_param {
                    Some(param) => self.request.clone().query(param.as_str(), &size),
                    None => self.request.clone(),
                }
            }
            (Position::Link { url, .. }, _) => self.request.clone().follow(url),
            _ => {
                return Err(HttpError::InvalidCursor {
                    cursor: self.cursor(),
                    reason: "it was written for another kind of paging".to_owned(),
                });
            }
        };
        let pages = self.pages_read();
        if pages >= self.max_pages {
            return Err(self.endless(request.target_path(), pages, "the page limit was reached"));
        }
        let response = client.send(request).await?;
        let body: Value = response.json()?;
        // A server that ignores the offset or page number answers the same
        // page for ever; its total may promise more for ever too.
        let page_hash = fnv1a(response.body()).max(1);
        let repeated = match &self.position {
            Position::Offset { previous, .. } | Position::Number { previous, .. } => *previous == page_hash,
            _ => false,
        };
        let items = match body.pointer(&self.items_pointer) {
            Some(Value::Array(items)) => items.clone(),
            // Mailman leaves `entries` out of an empty page.
            None if matches!(self.style, PageStyle::PageNumber { .. }) => Vec::new(),
            _ => {
                return Err(HttpError::MissingItems {
                    method: self.request.method().as_str().to_owned(),
                    path: response.path().to_owned(),
                    pointer: self.items_pointer.clone(),
                });
            }
        };
        let total = self.total(&body, response.headers());
        let read = items.len() as u64;
        // A short page ends the collection only when the platform gives no
        // total: Mailchimp caps `count` at 1000 whatever was asked.
        let last =
            |reached: u64| items.is_empty() || total.map_or(read < u64::from(self.page_size), |total| reached >= total);
        if repeated && !items.is_empty() {
            return Err(self.endless(
                response.path().to_owned(),
                pages + 1,
                "a page came back the same as the one before",
            ));
        }
        let previous = page_hash;
        self.position = match (&self.position, &self.style) {
            (Position::Start, PageStyle::Offset { .. }) => {
                next_or_done(last(read), Position::Offset { offset: read, previous })
            }
            (Position::Offset { offset, .. }, PageStyle::Offset { .. }) => {
                next_or_done(last(offset + read), Position::Offset { offset: offset + read, previous })
            }
            (Position::Start, PageStyle::PageNumber { .. }) => {
                next_or_done(last(read), Position::Number { number: 2, previous })
            }
            (Position::Number { number, .. }, PageStyle::PageNumber { .. }) => {
                let reached = (number - 1) * u64::from(self.page_size) + read;
                next_or_done(last(reached), Position::Number { number: number + 1, previous })
            }
            (_, PageStyle::NextLink { next_pointer, .. }) => {
                match body.pointer(next_pointer).and_then(Value::as_str).filter(|url| !url.is_empty()) {
                    Some(url) => {
                        let url = client.without_auth_query(&absolute_link(response.url(), url));
                        self.link_position(&url, response.path(), pages)?
                    }
                    None => Position::Done,
                }
            }
            (_, PageStyle::LinkHeader { .. }) => match next_link(&response) {
                Some(url) => self.link_position(&client.without_auth_query(&url), response.path(), pages)?,
                None => Position::Done,
            },
            (position, _) => position.clone(),
        };
        Ok(Some(Page { items, total, cursor: self.cursor(), done: self.is_done() }))
    }

    fn total(&self, body: &Value, headers: &reqwest::header::HeaderMap) -> Option<u64> {
        if let Some(name) = &self.total_header {
            return match &self.style {
                PageStyle::Offset { .. } | PageStyle::PageNumber { .. } => {
                    headers.get(name.as_str())?.to_str().ok()?.trim().parse().ok()
                }
                PageStyle::NextLink { .. } | PageStyle::LinkHeader { .. } => None,
            };
        }
        match &self.style {
            PageStyle::Offset { total_pointer, .. } | PageStyle::PageNumber { total_pointer, .. } => {
                total_pointer.as_deref().and_then(|pointer| body.pointer(pointer)).and_then(Value::as_u64)
            }
            PageStyle::NextLink { .. } | PageStyle::LinkHeader { .. } => None,
        }
    }

    /// The position of the next link, unless following it would go round in
    /// a circle: a link to the page just read, or one followed before.
    fn link_position(&self, url: &str, path: &str, pages: u64) -> Result<Position, HttpError> {
        let (current, trail) = match &self.position {
            Position::Link { url, trail } => (Some(url.as_str()), trail.clone()),
            _ => (None, Trail::default()),
        };
        let circle = || self.endless(path.to_owned(), pages + 1, "a next-page link came round again");
        if current == Some(url) {
            return Err(circle());
        }
        let trail = trail.follow(url).ok_or_else(circle)?;
        Ok(Position::Link { url: url.to_owned(), trail })
    }

    fn endless(&self, path: String, pages: u64, reason: &'static str) -> HttpError {
        HttpError::EndlessPaging { method: self.request.method().as_str().to_owned(), path, pages, reason }
    }
}

fn next_or_done(last: bool, next: Position) -> Position {
    if last { Position::Done } else { next }
}

fn encode(position: &Position) -> String {
    // A Position is plain data; serde_json cannot fail on it.
    serde_json::to_string(position).unwrap_or_default()
}

/// A next-page link from a body, made absolute: a link that is a full URL
/// is kept as written; a relative one (Partnerize's
/// `hypermedia.pagination.next_page`, `/v3/...?offset=300`) is resolved
/// against the URL of the page that gave it, as a `Link` header is.
fn absolute_link(page_url: &reqwest::Url, link: &str) -> String {
    if reqwest::Url::parse(link).is_ok() {
        return link.to_owned();
    }
    page_url.join(link).map_or_else(|_| link.to_owned(), String::from)
}

/// The `rel="next"` target of the answer's `Link` headers, made absolute.
fn next_link(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(parse_next_link)
        .and_then(|link| response.url().join(link).ok())
        .map(String::from)
}

/// Finds the `rel="next"` URL in one `Link` header value.
fn parse_next_link(header: &str) -> Option<&str> {
    let mut rest = header;
    loop {
        let start = rest.find('<')?;
        let end = start + rest[start..].find('>')?;
        let target = &rest[start + 1..end];
        let after = &rest[end + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        let is_next = after[..params_end].split([';', ',']).any(|param| {
            param.split_once('=').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("rel")
                    && value
                        .trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|rel| rel.eq_ignore_ascii_case("next"))
            })
        });
        if is_next {
            return Some(target);
        }
        rest = &after[params_end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        let check = |header: &str, expected: Option<&str>| assert_eq!(parse_next_link(header), expected, "{header}");
        check(r#"<https://x.test/items?page=2>; rel="next""#, Some("https://x.test/items?page=2"));
        check(
            r#"<https://x.test/a?p=1>; rel="prev", <https://x.test/a?p=3,4>; rel="next""#,
            Some("https://x.test/a?p=3,4"),
        );
        check(r#"</items?after=abc>; rel=next; title="more""#, Some("/items?after=abc"));
        check(r#"<https://x.test/a>; rel="next last""#, Some("https://x.test/a"));
        check(r#"<https://x.test/a>; rel="last""#, None);
        check("garbage", None);
        check("<unclosed; rel=next", None);
    }

    #[test]
    fn body_links_are_made_absolute_against_the_page_and_full_urls_kept() {
        let page = reqwest::Url::parse("https://api.partnerize.test/v3/brand/campaigns?offset=0&limit=2").unwrap();
        let check = |link: &str, expected: &str| assert_eq!(absolute_link(&page, link), expected, "{link}");
        check(
            "/v3/brand/campaigns?offset=2&limit=2",
            "https://api.partnerize.test/v3/brand/campaigns?offset=2&limit=2",
        );
        check("campaigns?cursor_id=abc", "https://api.partnerize.test/v3/brand/campaigns?cursor_id=abc");
        check(
            "https://a.klaviyo.com/api/profiles?page%5Bcursor%5D=bmV4dA",
            "https://a.klaviyo.com/api/profiles?page%5Bcursor%5D=bmV4dA",
        );
        check("https://elsewhere.test/x?[a]=1", "https://elsewhere.test/x?[a]=1");
    }

    #[test]
    fn cursors_round_trip() {
        for position in [
            Position::Start,
            Position::Offset { offset: 2000, previous: 0 },
            Position::Offset { offset: 3000, previous: 42 },
            Position::Number { number: 3, previous: 7 },
            Position::Link {
                url: "https://a.klaviyo.com/api/profiles?page%5Bcursor%5D=bmV4dA".into(),
                trail: Trail::default(),
            },
            Position::Link {
                url: "https://a.klaviyo.com/api/profiles?page%5Bcursor%5D=bmV4dB".into(),
                trail: Trail { pages: 5, kept: 77, since: 1, window: 4 },
            },
            Position::Done,
        ] {
            let cursor = encode(&position);
            assert_eq!(serde_json::from_str::<Position>(&cursor).unwrap(), position, "{cursor}");
        }
    }

    #[test]
    fn a_cursor_written_before_the_loop_check_still_resumes() {
        let old = r#"{"page":"link","url":"https://a.klaviyo.com/api/profiles?page%5Bcursor%5D=x"}"#;
        let paginator = Paginator::json_api(Request::get("api/profiles"), 10).resume(Some(old)).unwrap();
        assert!(!paginator.is_done());
    }

    /// Whether following `links` one after the other notices a circle.
    fn circle_noticed(links: impl IntoIterator<Item = String>) -> bool {
        let mut trail = Trail::default();
        for link in links {
            match trail.follow(&link) {
                Some(next) => trail = next,
                None => return true,
            }
        }
        false
    }

    #[test]
    fn links_that_come_round_again_are_noticed_within_two_turns() {
        for (lead, circle) in [(0usize, 1usize), (0, 2), (3, 2), (1, 7), (10, 100), (0, 1000)] {
            let links: Vec<String> = (0..lead)
                .map(|index| format!("lead-{index}"))
                .chain((0..).map(|index| format!("circle-{}", index % circle)))
                .take(lead + 4 * circle + 4)
                .collect();
            let mut trail = Trail::default();
            let noticed = links.iter().position(|link| match trail.follow(link) {
                Some(next) => {
                    trail = next;
                    false
                }
                None => true,
            });
            let noticed = noticed.unwrap_or_else(|| panic!("lead {lead}, circle {circle}: never noticed"));
            assert!(noticed <= lead + 3 * circle + 1, "lead {lead}, circle {circle}: noticed at {noticed}");
        }
        // A million different links are never taken for a circle.
        assert!(!circle_noticed((0..1_000_000).map(|index| format!("https://x.test/p?c={index}"))));
    }

    #[test]
    fn a_cursor_from_another_style_is_refused() {
        let offset_cursor = encode(&Position::Offset { offset: 10, previous: 0 });
        let error = Paginator::page_number(Request::get("members"), 10).resume(Some(&offset_cursor)).unwrap_err();
        assert!(matches!(error, HttpError::InvalidCursor { .. }), "{error}");
        let error = Paginator::json_api(Request::get("api/profiles"), 10).resume(Some("42")).unwrap_err();
        assert!(matches!(error, HttpError::InvalidCursor { .. }), "{error}");
        let zero_page = encode(&Position::Number { number: 0, previous: 0 });
        assert!(Paginator::page_number(Request::get("members"), 10).resume(Some(&zero_page)).is_err());
    }
}
