//! One file per stream: `lists`, `members` and `contacts`, and the paged
//! cursor they share.

pub(crate) mod contacts;
pub(crate) mod lists;
pub(crate) mod members;

use crate::client::MailmanClient;
use cutover_http::{Page, Paginator, Request};
use cutover_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a paged read stands: the paginator's cursor of the page being
/// read, and how many of its items were already returned. Batches need not
/// line up with Mailman's pages, so a read resumed from any cursor gives
/// exactly the items an uninterrupted read would.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PageCursor {
    /// [`Paginator`]'s cursor of the page (before it was fetched).
    pub(crate) page: String,
    /// Items of that page already returned.
    pub(crate) skip: usize,
}

impl PageCursor {
    /// The first page of `request`.
    pub(crate) fn start(client: &MailmanClient, request: Request) -> PageCursor {
        PageCursor { page: Paginator::page_number(request, client.page_size()).cursor(), skip: 0 }
    }
}

/// Parses a stream cursor this plugin wrote.
pub(crate) fn parse_cursor<T: serde::de::DeserializeOwned>(cursor: &str) -> Result<T, PluginError> {
    serde_json::from_str(cursor).map_err(|_| {
        PluginError::new(ErrorCode::InvalidCursor, format!("`{cursor}` is not a cursor the mailman plugin wrote"))
            .with_help("start the stream again from the beginning")
    })
}

/// Writes a stream cursor.
pub(crate) fn render_cursor<T: Serialize>(cursor: &T) -> Result<String, PluginError> {
    serde_json::to_string(cursor)
        .map_err(|error| PluginError::new(ErrorCode::Internal, format!("cannot write the cursor: {error}")))
}

/// The last page fetched, so that small batches do not fetch a page again
/// for every batch.
#[derive(Debug, Default)]
pub(crate) struct PageCache {
    last: Option<(String, String, Page)>,
}

impl PageCache {
    /// Forgets the page kept.
    pub(crate) fn clear(&mut self) {
        self.last = None;
    }

    /// The page of `request` at `page_cursor`, `None` once the collection
    /// was read to its end. `scope` names the collection (the request's
    /// path and query), since the cursor alone does not.
    pub(crate) async fn page(
        &mut self,
        client: &MailmanClient,
        scope: &str,
        request: Request,
        page_cursor: &str,
    ) -> Result<Option<Page>, PluginError> {
        if let Some((cached_scope, cached_cursor, page)) = &self.last
            && cached_scope == scope
            && cached_cursor == page_cursor
        {
            return Ok(Some(page.clone()));
        }
        let mut pages = Paginator::page_number(request, client.page_size()).resume(Some(page_cursor))?;
        let page = pages.next_page(client.http()).await?;
        if let Some(page) = &page {
            self.last = Some((scope.to_owned(), page_cursor.to_owned(), page.clone()));
            tracing::debug!(scope, items = page.items.len(), "Page read.");
        }
        Ok(page)
    }
}

/// Whether a page cursor is at the end of its collection.
pub(crate) fn page_is_done(client: &MailmanClient, request: Request, page_cursor: &str) -> Result<bool, PluginError> {
    Ok(Paginator::page_number(request, client.page_size()).resume(Some(page_cursor))?.is_done())
}

/// The outcome of writing one record.
pub(crate) fn outcome(source_id: CompactString, result: Result<WriteResult, crate::mapping::Reject>) -> WriteOutcome {
    let result = result.unwrap_or_else(|reject| WriteResult::Rejected { reason: reject.reason() });
    WriteOutcome { source_id, result }
}

/// A reject of an item read, with the item as Mailman wrote it.
pub(crate) fn source_reject(
    location: String,
    item: &serde_json::Value,
    reject: &crate::mapping::Reject,
) -> SourceReject {
    SourceReject { location, raw: item.to_string(), reason: reject.reason() }
}
