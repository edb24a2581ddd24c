//! The `clicks` stream, read only: impact.com has no API that creates
//! historic clicks (`POST /PageLoad` records live visits only), so clicks
//! cannot be imported into it.
//!
//! Read through the click export: `GET /Programs/{id}/ClickExport?Date=`
//! queues a job for one program and one day (only days after 2024-04-09;
//! 10 jobs a day per account), `GET /Jobs/{id}` says when it is done,
//! `GET /Jobs/{id}/Download` gives its clicks (asked as JSON). The parents
//! are (program, day) pairs from `clicks_since` to `clicks_until`; a day's
//! clicks are kept in the instance once downloaded, so a read in small
//! batches runs one job per day.

use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::mapping::text;
use crate::{ImpactPlugin, mapping};
use cutover_http::{Request, path};
use cutover_sdk::prelude::*;

/// One program's clicks of one day (the account's day).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Day {
    /// The program (campaign id).
    pub(crate) program: String,
    /// The day exported.
    pub(crate) day: NaiveDate,
}

/// The stream.
pub(crate) struct Clicks;

impl ChildStream<ImpactPlugin> for Clicks {
    const NAME: &'static str = "clicks";
    const ENTITY: EntityKind = EntityKind::Click;
    const DIRECTION: Direction = Direction::Source;
    type Parent = Day;
    /// Clicks of the day already read.
    type Cursor = usize;

    async fn parents(plugin: &mut ImpactPlugin) -> Result<Vec<Day>, PluginError> {
        let today = Utc::now().date_naive();
        let until = plugin.config.clicks_until.unwrap_or(today - Duration::days(1));
        let since = plugin.config.clicks_since.unwrap_or(until - Duration::days(6));
        let first = NaiveDate::from_ymd_opt(2024, 4, 10).unwrap_or(since).max(since);
        let programs = plugin.client.all(Request::get("Campaigns"), "Campaigns").await?;
        let mut days = Vec::new();
        for program in programs.iter().filter_map(|program| text(program, "Id")) {
            let mut day = first;
            while day <= until {
                days.push(Day { program: program.to_string(), day });
                day += Duration::days(1);
            }
        }
        Ok(days)
    }

    async fn read(
        plugin: &mut ImpactPlugin,
        parent: &Day,
        cursor: Option<usize>,
        max_records: usize,
    ) -> Result<Batch<usize>, PluginError> {
        if cursor.is_none() || !plugin.clicks.contains_key(parent) {
            let clicks = export(plugin, parent).await?;
            plugin.clicks.insert(parent.clone(), clicks);
        }
        let clicks = plugin.clicks.get(parent).map(Vec::as_slice).unwrap_or_default();
        let start = cursor.unwrap_or(0).min(clicks.len());
        let end = (start + max_records.max(1)).min(clicks.len());
        let mut batch = Batch::at(end);
        for (index, click) in clicks[start..end].iter().enumerate() {
            batch.push(mapping::click(click).map_err(|reason| SourceReject {
                location: format!("clicks of program {} on {}, #{}", parent.program, parent.day, start + index),
                raw: click.to_string(),
                reason,
            }));
        }
        batch.done = end >= clicks.len();
        Ok(batch)
    }
}

/// Runs the day's export job and downloads its clicks.
async fn export(plugin: &ImpactPlugin, day: &Day) -> Result<Vec<Value>, PluginError> {
    let request = Request::get(path(["Programs", day.program.as_str(), "ClickExport"])?)
        .query("Date", day.day.format("%Y-%m-%d"))
        .query("ResultFormat", "JSON");
    let queued = plugin.client.get(request).await?;
    let job = queued["QueuedUri"]
        .as_str()
        .and_then(|uri| uri.rsplit('/').next())
        .filter(|job| !job.is_empty())
        .ok_or_else(|| {
            PluginError::new(ErrorCode::Network, "impact.com queued a click export without a job to follow")
        })?
        .to_owned();
    for attempt in 0..30u64 {
        let status = plugin.client.get(Request::get(path(["Jobs", job.as_str()])?)).await?;
        match text(&status, "Status").as_deref() {
            Some("COMPLETED") => break,
            Some("FAILED") => {
                return Err(PluginError::new(
                    ErrorCode::Network,
                    format!("impact.com's click export of program {} on {} failed", day.program, day.day),
                ));
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(500 * (attempt + 1).min(10))).await,
        }
    }
    let download = plugin.client.get(Request::get(path(["Jobs", job.as_str(), "Download"])?)).await?;
    Ok(download["Clicks"].as_array().cloned().unwrap_or_default())
}
