//! `email_activity`: what each recipient of each sent campaign did, from
//! the reports (read only). Per campaign, first
//! `GET /reports/{id}/email-activity` (a `sent` event per recipient, then
//! their opens, clicks and bounces), then `GET /reports/{id}/unsubscribed`.

use super::{Phase, Phased, read_phases};
use crate::Mailchimp;
use crate::client::{self, ApiEmailActivity, ApiUnsubscribe, MAX_PAGE};
use crate::mapping;
use chrono::{DateTime, Utc};
use cutover_http::{Paginator, Request};
use cutover_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Engagement events, campaign by sent campaign.
pub(crate) struct EmailActivity;

/// A campaign's reports, in the order they are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Report {
    #[default]
    EmailActivity,
    Unsubscribed,
}

impl Phase for Report {
    fn next(self) -> Option<Report> {
        match self {
            Report::EmailActivity => Some(Report::Unsubscribed),
            Report::Unsubscribed => None,
        }
    }
}

impl ChildStream<Mailchimp> for EmailActivity {
    const NAME: &'static str = "email_activity";
    const ENTITY: EntityKind = EntityKind::EngagementEvent;
    const DIRECTION: Direction = Direction::Source;
    /// A sent campaign's id.
    type Parent = String;
    type Cursor = Phased<Report>;

    async fn parents(plugin: &mut Mailchimp) -> Result<Vec<String>, PluginError> {
        Ok(plugin.sent_campaigns().await?.iter().map(|campaign| campaign.id.clone()).collect())
    }

    async fn read(
        plugin: &mut Mailchimp,
        campaign_id: &String,
        cursor: Option<Phased<Report>>,
        max: usize,
    ) -> Result<Batch<Phased<Report>>, PluginError> {
        let send_time = plugin
            .sent_campaigns()
            .await?
            .iter()
            .find(|campaign| campaign.id == *campaign_id)
            .and_then(|campaign| campaign.send_time);
        read_phases(cursor, max, async |report, at, room| {
            let (path, items) = match report {
                Report::EmailActivity => ("email-activity", "/emails"),
                Report::Unsubscribed => ("unsubscribed", "/unsubscribes"),
            };
            let request = Request::get(cutover_http::path(["reports", campaign_id.as_str(), path])?);
            let paginator = Paginator::offset(request, items, MAX_PAGE);
            let label = format!("reports/{campaign_id}/{path}");
            let events = |item: &Value| events(report, campaign_id, send_time, item);
            super::read_paged(&mut plugin.reader, &plugin.client, paginator, &label, Some(at), room, events).await
        })
        .await
    }
}

/// What one item of a report gives: a recipient's activity its events, an
/// unsubscribe its event.
fn events(
    report: Report,
    campaign_id: &str,
    send_time: Option<DateTime<Utc>>,
    item: &Value,
) -> Vec<Result<Record, RejectReason>> {
    match report {
        Report::EmailActivity => match client::parse::<ApiEmailActivity>(item) {
            Ok(activity) => mapping::activity_events(campaign_id, send_time, &activity).into_iter().map(Ok).collect(),
            Err(_) => vec![Err(super::malformed())],
        },
        Report::Unsubscribed => vec![
            client::parse::<ApiUnsubscribe>(item)
                .map(|unsubscribe| mapping::unsubscribe_event(campaign_id, &unsubscribe))
                .map_err(|_| super::malformed()),
        ],
    }
}
