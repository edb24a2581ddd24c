//! A paged collection read as a stream: given a [`Paginator`] and a mapping
//! from one JSON item to a record or a reject, [`PagedReader::read`] reads
//! up to a batch of items from a [`PageCursor`] and answers a [`Batch`] with
//! the cursor to resume from.
//!
//! Batches need not line up with the platform's pages: the cursor is the
//! page being read and how many of its items were taken, so a read resumed
//! from any cursor gives exactly the items an uninterrupted one would. The
//! last page fetched is kept, so batches smaller than a page do not fetch
//! it again; a read from the start (no cursor) drops it and sees the
//! platform as it is now. An item the mapping refuses becomes a [`SourceReject`] with
//! its location (`{label}/{id}` when the item has an `id`, else the label,
//! the page and the item's place in it) and its raw JSON: never dropped.

use crate::client::HttpClient;
use crate::error::HttpError;
use crate::pagination::{Page, Paginator};
use cutover_contract::stream::Batch;
use cutover_contract::wire::{RejectReason, SourceReject};
use cutover_schema::Record;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a paged read stands: the [`Paginator`] cursor of the page being
/// read (before it was fetched; `None`: the first page) and how many of
/// its items were already taken.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCursor {
    /// The page, as [`Paginator::cursor`] wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// Items of that page already taken.
    #[serde(default)]
    pub skip: usize,
}

/// Reads paged collections in batches; keep one per instance (or per
/// stream) so its page cache lives across batches.
#[derive(Debug, Default)]
pub struct PagedReader {
    /// The last page fetched: the collection it belongs to, the cursor it
    /// was fetched at, and the page.
    last: Option<(String, Option<String>, Page)>,
}

impl PagedReader {
    /// A reader with nothing cached.
    pub fn new() -> PagedReader {
        PagedReader::default()
    }

    /// Forgets the page kept: the next read fetches what the platform holds
    /// now.
    pub fn clear(&mut self) {
        self.last = None;
    }

    /// Reads up to `max_records` items of the collection `paginator` pages,
    /// from `cursor` (`None`: its start), each mapped by `map` to a record or
    /// a reject reason. `label` names the collection in reject locations
    /// (`members of list 9e67`). `done` is set once the last page was taken
    /// whole.
    pub async fn read(
        &mut self,
        client: &HttpClient,
        paginator: Paginator,
        label: &str,
        cursor: Option<PageCursor>,
        max_records: usize,
        map: impl FnMut(&Value) -> Result<Record, RejectReason>,
    ) -> Result<Batch<PageCursor>, HttpError> {
        Ok(self.take(client, paginator, label, cursor, max_records).await?.map(map))
    }

    /// Takes up to `max_records` items as [`PagedReader::read`] does, and
    /// hands them over unmapped: for a stream that must see a batch's items
    /// before it can map them (to look up the names they refer to, with a
    /// request of its own). [`Taken::map`] then makes the batch `read` would
    /// have made.
    pub async fn take(
        &mut self,
        client: &HttpClient,
        paginator: Paginator,
        label: &str,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Taken, HttpError> {
        if cursor.is_none() {
            // A read from the start sees the platform as it is now.
            self.clear();
        }
        let mut position = cursor.unwrap_or_default();
        let mut taken = Taken { label: label.to_owned(), items: Vec::new(), next: PageCursor::default(), done: false };
        let max_records = max_records.max(1);
        loop {
            let Some(page) = self.page(client, &paginator, position.page.as_deref()).await? else {
                // Every page was read: the position is past the last one.
                taken.done = true;
                break;
            };
            let available = page.items.len();
            for (index, item) in page.items.into_iter().enumerate().skip(position.skip) {
                if taken.items.len() >= max_records {
                    break;
                }
                position.skip = index + 1;
                taken.items.push(TakenItem { page: position.page.clone(), index, item });
            }
            if position.skip < available {
                break;
            }
            position = PageCursor { page: Some(page.cursor), skip: 0 };
            if page.done {
                taken.done = true;
                break;
            }
            if taken.items.len() >= max_records {
                break;
            }
        }
        taken.next = position;
        Ok(taken)
    }

    /// Reads as [`PagedReader::read`] does, for a collection whose items
    /// give any number of records or rejects each: none (an item the stream
    /// leaves out: one of another status), one, or several (an activity item
    /// and its events). The cursor's `skip` then counts what the page's items
    /// gave, not the items, so a batch may end inside one item's outputs; so
    /// `map` must give the same outputs for the same item every time.
    pub async fn read_flat<I>(
        &mut self,
        client: &HttpClient,
        paginator: Paginator,
        label: &str,
        cursor: Option<PageCursor>,
        max_records: usize,
        mut map: impl FnMut(&Value) -> I,
    ) -> Result<Batch<PageCursor>, HttpError>
    where
        I: IntoIterator<Item = Result<Record, RejectReason>>,
    {
        if cursor.is_none() {
            self.clear();
        }
        let mut position = cursor.unwrap_or_default();
        let mut batch = Batch::default();
        let max_records = max_records.max(1);
        loop {
            let Some(page) = self.page(client, &paginator, position.page.as_deref()).await? else {
                batch.done = true;
                break;
            };
            // Outputs of this page passed so far, skipped or taken; `full`
            // once one more is found with no room left for it.
            let (mut passed, mut full) = (0, false);
            'items: for (index, item) in page.items.iter().enumerate() {
                for output in map(item) {
                    if passed < position.skip {
                        passed += 1;
                        continue;
                    }
                    if batch.is_full(max_records) {
                        full = true;
                        break 'items;
                    }
                    passed += 1;
                    batch.push(output.map_err(|reason| SourceReject {
                        location: location(label, position.page.as_deref(), index, item),
                        raw: item.to_string(),
                        reason,
                    }));
                }
            }
            if full {
                position.skip = passed;
                break;
            }
            position = PageCursor { page: Some(page.cursor), skip: 0 };
            if page.done {
                batch.done = true;
                break;
            }
            if batch.is_full(max_records) {
                break;
            }
        }
        batch.next = Some(position);
        Ok(batch)
    }

    /// The page of `paginator` at `page_cursor`, from the cache when it is
    /// the one kept; `None` once the collection was read to its end.
    async fn page(
        &mut self,
        client: &HttpClient,
        paginator: &Paginator,
        page_cursor: Option<&str>,
    ) -> Result<Option<Page>, HttpError> {
        let scope = paginator.scope();
        if let Some((cached_scope, cached_cursor, page)) = &self.last
            && *cached_scope == scope
            && cached_cursor.as_deref() == page_cursor
        {
            return Ok(Some(page.clone()));
        }
        let mut pages = paginator.clone().resume(page_cursor)?;
        let page = pages.next_page(client).await?;
        if let Some(page) = &page {
            tracing::debug!(items = page.items.len(), "Page read.");
            self.last = Some((scope, page_cursor.map(str::to_owned), page.clone()));
        }
        Ok(page)
    }
}

/// Items a [`PagedReader::take`] took, not yet mapped, with where each was
/// read and where the next read starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    /// Names the collection in reject locations.
    label: String,
    items: Vec<TakenItem>,
    /// Where the next read starts.
    pub next: PageCursor,
    /// Nothing follows these items.
    pub done: bool,
}

/// One item taken, with the page it was read at and its place in that page.
#[derive(Debug, Clone, PartialEq)]
struct TakenItem {
    page: Option<String>,
    index: usize,
    item: Value,
}

impl Taken {
    /// The items taken, in order.
    pub fn items(&self) -> impl Iterator<Item = &Value> {
        self.items.iter().map(|taken| &taken.item)
    }

    /// The batch of these items, each mapped by `map` to a record or a
    /// reject reason (a reject with its location and raw JSON), resuming at
    /// [`Taken::next`].
    pub fn map(self, mut map: impl FnMut(&Value) -> Result<Record, RejectReason>) -> Batch<PageCursor> {
        let mut batch = Batch::at(self.next);
        batch.done = self.done;
        for taken in &self.items {
            batch.push(map(&taken.item).map_err(|reason| taken.reject(&self.label, reason)));
        }
        batch
    }

    /// [`Taken::map`] with a mapping that awaits: one that needs a request
    /// of its own per item (a list's settings, whether an address is
    /// banned). An error fails the whole batch, as a failed page would.
    pub async fn map_async<E>(
        self,
        mut map: impl AsyncFnMut(&Value) -> Result<Result<Record, RejectReason>, E>,
    ) -> Result<Batch<PageCursor>, E> {
        let mut batch = Batch::at(self.next);
        batch.done = self.done;
        for taken in &self.items {
            batch.push(map(&taken.item).await?.map_err(|reason| taken.reject(&self.label, reason)));
        }
        Ok(batch)
    }
}

impl TakenItem {
    /// This item refused for `reason`, with its location and raw JSON.
    fn reject(&self, label: &str, reason: RejectReason) -> SourceReject {
        SourceReject {
            location: location(label, self.page.as_deref(), self.index, &self.item),
            raw: self.item.to_string(),
            reason,
        }
    }
}

/// Where an item was read, for people: the collection, the page (by its
/// cursor), the item's place in it and its id when it has one.
fn location(label: &str, page_cursor: Option<&str>, index: usize, item: &Value) -> String {
    // An item's own id names it wherever the pages fall; only an item
    // without one is named by its place.
    let id = match item.get("id") {
        Some(Value::String(id)) => Some(id.clone()),
        Some(Value::Number(id)) => Some(id.to_string()),
        _ => None,
    };
    match id {
        Some(id) => format!("{label}/{id}"),
        None => {
            let page = page_cursor.map_or_else(|| "first page".to_owned(), |cursor| format!("page at {cursor}"));
            format!("{label}, {page}, item {index}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_schema::{Contact, Entity};
    use serde_json::json;

    #[test]
    fn a_reject_is_named_by_its_id_string_or_number_else_by_its_place() {
        assert_eq!(location("offers", None, 3, &json!({"id": "o-7"})), "offers/o-7");
        assert_eq!(location("offers", None, 3, &json!({"id": 7})), "offers/7");
        assert_eq!(location("offers", Some("P2"), 3, &json!({"id": null})), "offers, page at P2, item 3");
        assert_eq!(location("offers", None, 0, &json!({"name": "x"})), "offers, first page, item 0");
    }

    fn taken() -> Taken {
        let item =
            |page: Option<&str>, index: usize, item: Value| TakenItem { page: page.map(str::to_owned), index, item };
        Taken {
            label: "members of list L1".into(),
            items: vec![
                item(None, 8, json!({"id": "a", "email": "a@example.org"})),
                item(None, 9, json!({"id": "b"})),
                item(Some("P2"), 0, json!({"email": "c@example.org"})),
                item(Some("P2"), 1, json!({"name": "d"})),
            ],
            next: PageCursor { page: Some("P2".into()), skip: 2 },
            done: false,
        }
    }

    #[test]
    fn taken_items_map_as_a_read_would_with_their_locations() {
        let taken = taken();
        let ids: Vec<&str> = taken.items().filter_map(|item| item["email"].as_str()).collect();
        assert_eq!(ids, ["a@example.org", "c@example.org"]);
        let batch = taken.map(|item| {
            let email = item["email"].as_str().ok_or_else(|| RejectReason::new("missing_email", "no email"))?;
            Ok(Record::new("test", email, chrono::DateTime::UNIX_EPOCH, Entity::Contact(Contact::default())))
        });
        let records: Vec<&str> = batch.records.iter().map(|record| record.source_id.as_str()).collect();
        assert_eq!(records, ["a@example.org", "c@example.org"]);
        let locations: Vec<&str> = batch.rejects.iter().map(|reject| reject.location.as_str()).collect();
        assert_eq!(locations, ["members of list L1/b", "members of list L1, page at P2, item 1"]);
        assert_eq!(batch.rejects[1].raw, r#"{"name":"d"}"#);
        assert_eq!(batch.next, Some(PageCursor { page: Some("P2".into()), skip: 2 }));
        assert!(!batch.done);
    }

    fn run<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(future)
    }

    /// Maps as `map` would, or fails when the item has a `name`.
    async fn look_up(item: &Value) -> Result<Result<Record, RejectReason>, String> {
        if item.get("name").is_some() {
            return Err("lookup failed".to_owned());
        }
        let email = item["email"].as_str().ok_or_else(|| RejectReason::new("missing_email", "no email"));
        Ok(email
            .map(|email| Record::new("test", email, chrono::DateTime::UNIX_EPOCH, Entity::Contact(Contact::default()))))
    }

    #[test]
    fn taken_items_map_async_as_they_map_and_an_error_fails_the_batch() {
        assert_eq!(run(taken().map_async(async |item: &Value| look_up(item).await)), Err("lookup failed".to_owned()));
        let mut without_d = taken();
        without_d.items.pop();
        let mut looked_up = 0;
        let batch = run(without_d.map_async(async |item: &Value| {
            looked_up += 1;
            look_up(item).await
        }))
        .expect("mapped");
        assert_eq!(looked_up, 3);
        let records: Vec<&str> = batch.records.iter().map(|record| record.source_id.as_str()).collect();
        assert_eq!(records, ["a@example.org", "c@example.org"]);
        let locations: Vec<&str> = batch.rejects.iter().map(|reject| reject.location.as_str()).collect();
        assert_eq!(locations, ["members of list L1/b"]);
        assert_eq!(batch.next, Some(PageCursor { page: Some("P2".into()), skip: 2 }));
    }
}
