//! One module per stream, and the paging they share.
//!
//! A read cursor is the JSON of a [`PagePosition`]: the `cutover-http`
//! paginator cursor of the page being read (a `links.next` URL, followed
//! verbatim) and how many items of that page were already handed out, so a
//! read resumed with a smaller batch than the page gives exactly the items
//! that follow.

pub(crate) mod events;
pub(crate) mod lists;
pub(crate) mod profiles;
pub(crate) mod subscriptions;

use crate::client::{Api, Endpoint};
use cutover_http::Paginator;
use cutover_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a paged read stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PagePosition {
    /// The paginator cursor of the page to read; `None` for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) page: Option<String>,
    /// Items of that page already handed out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) skip: usize,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// What one paged read gave.
#[derive(Debug)]
pub(crate) struct PageRead {
    /// Up to the number of items asked for.
    pub(crate) items: Vec<Value>,
    /// Where the next read starts.
    pub(crate) next: PagePosition,
    /// No item follows.
    pub(crate) done: bool,
}

/// Reads up to `max` items from `position` on: the page it names, from the
/// item it names, then the next pages while none was found.
pub(crate) async fn read_page(
    api: &Api,
    endpoint: Endpoint,
    paginator: &Paginator,
    position: PagePosition,
    max: usize,
) -> Result<PageRead, PluginError> {
    let client = api.client(endpoint)?;
    let mut position = position;
    loop {
        let mut pages = paginator.clone().resume(position.page.as_deref())?;
        let start = pages.cursor();
        let Some(page) = pages.next_page(client).await? else {
            return Ok(PageRead { items: Vec::new(), next: position, done: true });
        };
        let available = page.items.len();
        let skip = position.skip.min(available);
        let take = max.max(1).min(available - skip);
        let items = page.items[skip..skip + take].to_vec();
        if skip + take < available {
            return Ok(PageRead { items, next: PagePosition { page: Some(start), skip: skip + take }, done: false });
        }
        let next = PagePosition { page: Some(page.cursor), skip: 0 };
        if !items.is_empty() || page.done {
            return Ok(PageRead { items, next, done: page.done });
        }
        position = next;
    }
}

/// A cursor the host handed back, as the position it names.
pub(crate) fn parse_cursor<T: serde::de::DeserializeOwned + Default>(cursor: Option<&str>) -> Result<T, PluginError> {
    match cursor {
        None => Ok(T::default()),
        Some(text) => serde_json::from_str(text).map_err(|_| {
            PluginError::new(ErrorCode::InvalidCursor, format!("`{text}` is not a cursor this plugin wrote"))
                .with_help("start the stream again from the beginning")
        }),
    }
}

/// A position as a cursor string.
pub(crate) fn render_cursor<T: Serialize>(position: &T) -> Result<String, PluginError> {
    serde_json::to_string(position)
        .map_err(|error| PluginError::new(ErrorCode::Internal, format!("cannot write the cursor: {error}")))
}

/// An item that did not map, as a source reject.
pub(crate) fn source_reject(kind: &str, item: &Value, reason: RejectReason) -> SourceReject {
    let id = item.get("id").and_then(Value::as_str).unwrap_or("?");
    SourceReject { location: format!("klaviyo {kind} {id}"), raw: item.to_string(), reason }
}

/// Maps the items of a page, each to a record or a reject.
pub(crate) fn map_items(
    batch: &mut ReadBatch,
    kind: &str,
    items: &[Value],
    map: impl Fn(&Value) -> Result<Record, RejectReason>,
) {
    for item in items {
        match map(item) {
            Ok(record) => batch.records.push(record),
            Err(reason) => batch.rejects.push(source_reject(kind, item, reason)),
        }
    }
}

/// A rejected write outcome.
pub(crate) fn rejected(source_id: &CompactString, reason: RejectReason) -> WriteOutcome {
    WriteOutcome { source_id: source_id.clone(), result: WriteResult::Rejected { reason } }
}

/// A write outcome from its result.
pub(crate) fn outcome(source_id: &CompactString, result: WriteResult) -> WriteOutcome {
    WriteOutcome { source_id: source_id.clone(), result }
}
