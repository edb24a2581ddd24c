//! The `contacts` stream (read only): every address Mailman knows, from
//! `GET /addresses`, keyed by the address in lower case. Mailman makes an
//! address whenever it subscribes one, so the destination side is the
//! `members` stream; there is no contact write.

use crate::Mailman;
use crate::client::AddressResource;
use crate::mapping;
use cutover_http::{PageCursor, Request};
use cutover_sdk::prelude::*;

/// The collection of addresses.
fn collection() -> Request {
    Request::get("addresses")
}

/// The `contacts` stream.
pub(crate) struct Contacts;

impl Stream<Mailman> for Contacts {
    const NAME: &'static str = "contacts";
    const ENTITY: EntityKind = EntityKind::Contact;
    const DIRECTION: Direction = Direction::Source;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut Mailman,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let Mailman { client, pages, .. } = plugin;
        let map = |item: &serde_json::Value| {
            mapping::parse::<AddressResource>(item, "address")
                .and_then(|address| mapping::contact_record(&address))
                .map_err(RejectReason::from)
        };
        Ok(pages.read(client.http(), client.pages(collection()), "addresses", cursor, max_records, map).await?)
    }

    async fn count(plugin: &mut Mailman) -> Result<Option<u64>, PluginError> {
        Ok(Some(plugin.client.collection_size(collection()).await?))
    }
}
