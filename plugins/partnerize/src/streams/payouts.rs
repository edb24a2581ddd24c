//! The `payouts` stream, **source only**: Partnerize pays partners through
//! self-bills it makes itself from approved commissions on its payment runs,
//! and no endpoint imports a payment made elsewhere, so a migration cannot
//! bring historic payouts into Partnerize (they stay in the source's
//! archive). Read from each partner's self-bills
//! (`GET /user/publisher/{id}/selfbill`).

use crate::PartnerizePlugin;
use crate::mapping;
use cutover_http::PageCursor;
use cutover_sdk::prelude::*;
use serde_json::Value;

/// The stream.
pub(crate) struct Payouts;

impl ChildStream<PartnerizePlugin> for Payouts {
    const NAME: &'static str = "payouts";
    const ENTITY: EntityKind = EntityKind::Payout;
    const DIRECTION: Direction = Direction::Source;
    type Parent = String;
    type Cursor = PageCursor;

    async fn parents(plugin: &mut PartnerizePlugin) -> Result<Vec<String>, PluginError> {
        super::partner_ids(plugin).await
    }

    async fn read(
        plugin: &mut PartnerizePlugin,
        parent: &String,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let PartnerizePlugin { api, pages, .. } = plugin;
        let label = format!("self-bills of partner {parent}");
        let map = |item: &Value| mapping::payout_record(item, parent);
        Ok(pages.read(api.http(), api.selfbills(parent)?, &label, cursor, max_records, map).await?)
    }
}
