//! `email_activity`: what each recipient of each sent campaign did, from
//! the reports (read only). Per campaign, first
//! `GET /reports/{id}/email-activity` (a `sent` event per recipient, then
//! their opens, clicks and bounces), then `GET /reports/{id}/unsubscribed`.

use super::{Output, State};
use crate::client::{self, ApiEmailActivity, ApiUnsubscribe};
use crate::mapping;
use cutover_http::{HttpError, Paginator, Request};
use cutover_sdk::PluginError;
use serde_json::Value;

/// Phase 0 reads the activity report, phase 1 the unsubscribes.
pub(super) fn paginator(campaign_id: &str, phase: u8, page_size: u32) -> Result<Paginator, HttpError> {
    let (report, items) = if phase == 0 { ("email-activity", "/emails") } else { ("unsubscribed", "/unsubscribes") };
    Ok(Paginator::offset(Request::get(cutover_http::path(["reports", campaign_id, report])?), items, page_size))
}

pub(super) async fn outputs(
    state: &mut State,
    campaign_id: &str,
    phase: u8,
    items: Vec<Value>,
) -> Result<Vec<Output>, PluginError> {
    let send_time = state
        .sent_campaigns()
        .await?
        .iter()
        .find(|campaign| campaign.id == campaign_id)
        .and_then(|campaign| campaign.send_time);
    let mut outputs = Vec::with_capacity(items.len() * 2);
    let report = if phase == 0 { "email-activity" } else { "unsubscribed" };
    for item in items {
        let malformed = |item: &Value| super::malformed(&format!("reports/{campaign_id}/{report}"), item);
        if phase == 0 {
            match client::parse::<ApiEmailActivity>(&item) {
                Ok(activity) => {
                    outputs.extend(mapping::activity_events(campaign_id, send_time, &activity).into_iter().map(Ok))
                }
                Err(_) => outputs.push(Err(malformed(&item))),
            }
        } else {
            match client::parse::<ApiUnsubscribe>(&item) {
                Ok(unsubscribe) => outputs.push(Ok(mapping::unsubscribe_event(campaign_id, &unsubscribe))),
                Err(_) => outputs.push(Err(malformed(&item))),
            }
        }
    }
    Ok(outputs)
}
