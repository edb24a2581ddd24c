//! The `clicks` stream, **source only**: Partnerize records a click only
//! when a person follows a `prf.hn` link, and no endpoint imports one, so a
//! migration cannot bring historic clicks into Partnerize (they stay in the
//! source's archive). Read from the brand's click report of each campaign
//! (`GET /reporting/report_advertiser/campaign/{id}/click.json`, 300 rows a
//! page by offset), from `history_start` to the moment the campaign's read
//! began.

use crate::PartnerizePlugin;
use crate::mapping;
use cutover_sdk::prelude::*;

use super::ReportCursor;

/// The stream.
pub(crate) struct Clicks;

impl ChildStream<PartnerizePlugin> for Clicks {
    const NAME: &'static str = "clicks";
    const ENTITY: EntityKind = EntityKind::Click;
    const DIRECTION: Direction = Direction::Source;
    type Parent = String;
    type Cursor = ReportCursor;

    async fn parents(plugin: &mut PartnerizePlugin) -> Result<Vec<String>, PluginError> {
        super::campaign_ids(plugin).await
    }

    async fn read(
        plugin: &mut PartnerizePlugin,
        parent: &String,
        cursor: Option<ReportCursor>,
        max_records: usize,
    ) -> Result<Batch<ReportCursor>, PluginError> {
        let (from, until, page) = ReportCursor::window(plugin, cursor);
        let PartnerizePlugin { api, pages, .. } = plugin;
        let label = format!("clicks of campaign {parent}");
        let paginator = api.clicks(parent, &from, &until)?;
        let batch = pages.read(api.http(), paginator, &label, page, max_records, mapping::click_record).await?;
        Ok(batch.map_cursor(|page| ReportCursor { until, page }))
    }
}
