//! The `clicks` stream, read only: the clicks report
//! (`POST /api/v2/network/reports/clicks`) over the configured history,
//! oldest first. Scaleo's tracker makes clicks and no endpoint creates one,
//! so clicks cannot be written to Scaleo (historic clicks stay on the old
//! platform; conversions carry their click ids as references).
//!
//! A click names its tracking link through the affiliate's access to the
//! offer (on its landing page): the accesses are loaded when a read starts.

use crate::ScaleoPlugin;
use crate::client::{Report, ScaleoClient};
use crate::mapping::clicks;
use crate::values;
use cutover_http::{PageCursor, path};
use cutover_sdk::prelude::*;
use serde_json::json;
use std::collections::HashMap;

/// `(offer, affiliate, landing page)` → access id.
pub(crate) type AccessIndex = HashMap<(u64, u64, Option<u64>), u64>;

/// Every access of every offer, by offer, affiliate and landing page.
pub(crate) async fn access_index(client: &ScaleoClient) -> Result<AccessIndex, PluginError> {
    let mut index = AccessIndex::new();
    for offer in super::tracking_links::offer_ids(client).await? {
        let listing = path(["network", "offers", &offer.to_string(), "affiliates-access"])?;
        for access in client.all(client.list(&listing, "access", &[])).await? {
            if let (Some(id), Some(affiliate)) = (values::id(access.get("id")), values::id(access.get("affiliate_id")))
            {
                index.entry((offer, affiliate, values::id(access.get("link_id")))).or_insert(id);
            }
        }
    }
    Ok(index)
}

/// The stream.
pub(crate) struct Clicks;

impl Stream<ScaleoPlugin> for Clicks {
    const NAME: &'static str = "clicks";
    const ENTITY: EntityKind = EntityKind::Click;
    const DIRECTION: Direction = Direction::Source;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut ScaleoPlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        if cursor.is_none() || plugin.access_index.is_none() {
            plugin.access_index = Some(access_index(&plugin.client).await?);
        }
        let ScaleoPlugin { client, pages, access_index, .. } = plugin;
        let index = access_index.as_ref();
        let link_of = |offer: u64, affiliate: u64, landing_page: Option<u64>| {
            let index = index?;
            index.get(&(offer, affiliate, landing_page)).or_else(|| index.get(&(offer, affiliate, None))).copied()
        };
        let paginator = client.report(Report::Clicks, json!({}));
        Ok(pages
            .read(client.http(), paginator, "clicks", cursor, max_records, |row| clicks::to_record(row, &link_of))
            .await?)
    }

    async fn count(plugin: &mut ScaleoPlugin) -> Result<Option<u64>, PluginError> {
        Ok(plugin.client.total(plugin.client.report(Report::Clicks, json!({}))).await?)
    }
}
