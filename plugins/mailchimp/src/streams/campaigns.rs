//! `campaigns`: campaign metadata from `GET /campaigns` (read only; the
//! content and the sending stay on Mailchimp).

use crate::Mailchimp;
use crate::client::{self, ApiCampaign, MAX_PAGE};
use crate::mapping;
use cutover_http::{PageCursor, Paginator, Request};
use cutover_sdk::prelude::*;

/// Campaigns, oldest first, of the configured audience if any.
pub(crate) struct Campaigns;

impl Stream<Mailchimp> for Campaigns {
    const NAME: &'static str = "campaigns";
    const ENTITY: EntityKind = EntityKind::Campaign;
    const DIRECTION: Direction = Direction::Source;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut Mailchimp,
        cursor: Option<PageCursor>,
        max: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let paginator = Paginator::offset(request(plugin.list_filter.as_deref(), None), "/campaigns", MAX_PAGE);
        super::read_paged(&mut plugin.reader, &plugin.client, paginator, "campaigns", cursor, max, |item| {
            Some(
                client::parse::<ApiCampaign>(item)
                    .map(|campaign| mapping::campaign(&campaign))
                    .map_err(|_| super::malformed()),
            )
        })
        .await
    }

    async fn count(plugin: &mut Mailchimp) -> Result<Option<u64>, PluginError> {
        let mut request = Request::get("campaigns").query("count", 1).query("fields", "total_items");
        if let Some(list_id) = &plugin.list_filter {
            request = request.query("list_id", list_id);
        }
        let total = plugin.client.send(request).await?.json::<serde_json::Value>()?;
        Ok(total.get("total_items").and_then(serde_json::Value::as_u64))
    }
}

/// A campaign whose reports are read.
#[derive(Debug, Clone)]
pub(crate) struct SentCampaign {
    pub(crate) id: String,
    pub(crate) send_time: Option<chrono::DateTime<chrono::Utc>>,
}

/// Campaigns sorted by creation, optionally of one audience and one status.
fn request(list_id: Option<&str>, status: Option<&str>) -> Request {
    let mut request = Request::get("campaigns").query("sort_field", "create_time").query("sort_dir", "ASC");
    if let Some(list_id) = list_id {
        request = request.query("list_id", list_id);
    }
    if let Some(status) = status {
        request = request.query("status", status);
    }
    request
}

impl Mailchimp {
    /// The sent campaigns (the ones with reports), kept for the instance.
    pub(crate) async fn sent_campaigns(&mut self) -> Result<&[SentCampaign], PluginError> {
        if self.sent_campaigns.is_none() {
            let sent = request(self.list_filter.as_deref(), Some("sent"));
            let items = client::fetch_all(&self.client, sent, "/campaigns").await?;
            let campaigns = items
                .into_iter()
                .filter_map(|item| client::parse::<ApiCampaign>(&item).ok())
                .map(|campaign| SentCampaign { send_time: mapping::instant(&campaign.send_time), id: campaign.id })
                .collect();
            self.sent_campaigns = Some(campaigns);
        }
        Ok(self.sent_campaigns.as_deref().unwrap_or_default())
    }
}
