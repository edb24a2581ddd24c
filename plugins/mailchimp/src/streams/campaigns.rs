//! `campaigns`: campaign metadata from `GET /campaigns` (read only; the
//! content and the sending stay on Mailchimp).

use super::{Output, SentCampaign, State};
use crate::client::{self, ApiCampaign};
use crate::mapping;
use cutover_http::{Paginator, Request};
use cutover_sdk::PluginError;
use serde_json::Value;

/// Campaigns, oldest first where the API sorts them, optionally of one
/// audience and one status.
pub(super) fn paginator(list_id: Option<&str>, status: Option<&str>, page_size: u32) -> Paginator {
    Paginator::offset(request(list_id, status), "/campaigns", page_size)
}

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

pub(super) fn outputs(items: Vec<Value>) -> Vec<Output> {
    items
        .into_iter()
        .map(|item| match client::parse::<ApiCampaign>(&item) {
            Ok(campaign) => Ok(mapping::campaign(&campaign)),
            Err(_) => Err(super::malformed("campaigns", &item)),
        })
        .collect()
}

impl State {
    /// The sent campaigns (the ones with reports), kept for the instance.
    pub(crate) async fn sent_campaigns(&mut self) -> Result<&[SentCampaign], PluginError> {
        if self.sent_campaigns.is_none() {
            let items =
                client::fetch_all(&self.client, request(self.list_filter.as_deref(), Some("sent")), "/campaigns")
                    .await?;
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
