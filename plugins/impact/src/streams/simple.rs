//! The streams that are one collection read as it is: `programs`
//! (`Campaigns`, which the API only reads), `tracking_links` (`UniqueUrls`)
//! and `payouts` (`Invoices`). None is written: impact.com creates programs
//! in its UI, generates a partner's links itself (`POST
//! /Programs/{id}/TrackingLinks` answers a link but there is no listing to
//! read one back by), and issues invoices from approved actions.

use crate::{ImpactPlugin, mapping};
use cutover_http::{PageCursor, Request};
use cutover_sdk::prelude::*;

/// `programs`: the brand's campaigns.
pub(crate) struct Programs;

impl Stream<ImpactPlugin> for Programs {
    const NAME: &'static str = "programs";
    const ENTITY: EntityKind = EntityKind::Program;
    const DIRECTION: Direction = Direction::Source;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut ImpactPlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let paginator = plugin.client.collection(Request::get("Campaigns"), "Campaigns");
        super::read_pages(plugin, Self::NAME, paginator, "campaigns", cursor, max_records, mapping::program).await
    }

    async fn count(plugin: &mut ImpactPlugin) -> Result<Option<u64>, PluginError> {
        Ok(Some(plugin.client.total(Request::get("Campaigns")).await?))
    }
}

/// `tracking_links`: unique URLs, assigned to partners or still free.
/// Source only: see the module's doc.
pub(crate) struct TrackingLinks;

impl Stream<ImpactPlugin> for TrackingLinks {
    const NAME: &'static str = "tracking_links";
    const ENTITY: EntityKind = EntityKind::TrackingLink;
    const DIRECTION: Direction = Direction::Source;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut ImpactPlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let paginator = plugin.client.collection(Request::get("UniqueUrls"), "UniqueUrls");
        super::read_pages(plugin, Self::NAME, paginator, "unique URLs", cursor, max_records, mapping::tracking_link)
            .await
    }

    async fn count(plugin: &mut ImpactPlugin) -> Result<Option<u64>, PluginError> {
        Ok(Some(plugin.client.total(Request::get("UniqueUrls")).await?))
    }
}

/// `payouts`: invoices, one per partner and currency. Source only: the
/// brand cannot create invoices, impact.com issues them.
pub(crate) struct Payouts;

impl Stream<ImpactPlugin> for Payouts {
    const NAME: &'static str = "payouts";
    const ENTITY: EntityKind = EntityKind::Payout;
    const DIRECTION: Direction = Direction::Source;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut ImpactPlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let paginator = plugin.client.collection(Request::get("Invoices"), "Invoices");
        super::read_pages(plugin, Self::NAME, paginator, "invoices", cursor, max_records, mapping::payout).await
    }

    async fn count(plugin: &mut ImpactPlugin) -> Result<Option<u64>, PluginError> {
        Ok(Some(plugin.client.total(Request::get("Invoices")).await?))
    }
}
