//! The `contacts` stream (read only): every address Mailman knows, from
//! `GET /addresses`, keyed by the address in lower case. Mailman makes an
//! address whenever it subscribes one, so the destination side is the
//! `members` stream; there is no contact write.

use super::{PageCache, PageCursor, page_is_done, parse_cursor, render_cursor, source_reject};
use crate::client::{AddressResource, MailmanClient};
use crate::mapping::{self, Reject};
use cutover_http::Request;
use cutover_sdk::prelude::*;

/// The collection of addresses.
pub(crate) fn collection() -> Request {
    Request::get("addresses")
}

/// Reads up to `max_records` contacts after `cursor`.
pub(crate) async fn read(
    client: &MailmanClient,
    pages: &mut PageCache,
    cursor: Option<&str>,
    max_records: usize,
) -> Result<ReadBatch, PluginError> {
    let mut position = match cursor {
        Some(cursor) => parse_cursor::<PageCursor>(cursor)?,
        None => PageCursor::start(client, collection()),
    };
    let mut batch = ReadBatch::default();
    while batch.records.len() + batch.rejects.len() < max_records {
        let Some(page) = pages.page(client, "addresses", collection(), &position.page).await? else {
            break;
        };
        for item in page.items.iter().skip(position.skip) {
            if batch.records.len() + batch.rejects.len() >= max_records {
                break;
            }
            let location = format!("addresses, page {}, item {}", position.page, position.skip);
            position.skip += 1;
            let record = serde_json::from_value::<AddressResource>(item.clone())
                .map_err(|error| Reject::Malformed { what: "address", reason: error.to_string() })
                .and_then(|address| mapping::contact_record(&address));
            match record {
                Ok(record) => batch.records.push(record),
                Err(reject) => batch.rejects.push(source_reject(location, item, &reject)),
            }
        }
        if position.skip >= page.items.len() {
            position = PageCursor { page: page.cursor, skip: 0 };
        }
    }
    batch.done = page_is_done(client, collection(), &position.page)?;
    batch.next_cursor = Some(render_cursor(&position)?);
    Ok(batch)
}
