//! `conversions` and `commissions`: impact.com's actions, read by program
//! and by event-date window.
//!
//! The API returns actions only within documented date rules: a window of
//! at most 45 days, starting at most 3 years back. So the parents of both
//! streams are (program, window) pairs on a fixed 45-day grid from
//! 2000-01-01, from `actions_since` (default: 3 years ago) to today; each
//! window is `ActionDateStart`..`ActionDateEnd` (event time, inclusive, the
//! window's last second), so an action is in exactly one window. A window
//! is walked through `@nextpageuri` at 2,000 or more a page.
//!
//! Conversions are written through the Conversions API (`POST
//! /Conversions`, queued): with the order id, the event date, the amount
//! and its currency, and the partner forced (`MediaPartnerId`), since a
//! historic conversion has no click. The upsert key is the order id in the
//! program: an action with that `Oid` in the days around the event is the
//! same conversion. impact.com makes every new action `PENDING` (it
//! approves at its locking date): an approved conversion is written and
//! reads back pending; a rejected or reversed one is refused (reversing is
//! a separate call, not an import). Commissions are the actions' payouts,
//! which impact.com computes from its own payout rules: source only.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::mapping::{text, write_amount};
use crate::streams::{refuse, wrong_entity};
use crate::{ImpactPlugin, mapping};
use cutover_http::{PageCursor, Request};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::ConversionStatus;
use serde_json::Value;

/// One program's actions with an event date in `[start, end]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Window {
    /// The program (campaign id).
    pub(crate) program: String,
    /// First instant of the window.
    pub(crate) start: DateTime<Utc>,
    /// Last instant of the window.
    pub(crate) end: DateTime<Utc>,
}

/// The documented longest window.
const WINDOW_DAYS: i64 = 45;

fn grid_origin() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

/// The windows covering `since` to `today` on the 45-day grid, the first
/// one starting no earlier than the 3-year limit.
pub(crate) fn windows(program: &str, since: Option<NaiveDate>, today: NaiveDate) -> Vec<Window> {
    let limit = today.with_year(today.year() - 3).unwrap_or(today - Duration::days(3 * 365)) + Duration::days(1);
    let since = since.map_or(limit, |since| since.max(limit));
    let origin = grid_origin();
    let first = (since - origin).num_days().div_euclid(WINDOW_DAYS);
    let last = (today - origin).num_days().div_euclid(WINDOW_DAYS);
    (first..=last)
        .filter_map(|index| {
            let start = (origin + Duration::days(index * WINDOW_DAYS)).max(since);
            let end = origin + Duration::days((index + 1) * WINDOW_DAYS);
            Some(Window {
                program: program.to_owned(),
                start: start.and_hms_opt(0, 0, 0)?.and_utc(),
                end: end.and_hms_opt(0, 0, 0)?.and_utc() - Duration::seconds(1),
            })
        })
        .collect()
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `GET /Actions` of one program in `[start, end]`.
fn actions_request(program: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Request {
    Request::get("Actions")
        .query("CampaignId", program)
        .query("ActionDateStart", stamp(start))
        .query("ActionDateEnd", stamp(end))
}

async fn all_windows(plugin: &mut ImpactPlugin) -> Result<Vec<Window>, PluginError> {
    let programs = plugin.client.all(Request::get("Campaigns"), "Campaigns").await?;
    let today = Utc::now().date_naive();
    Ok(programs
        .iter()
        .filter_map(|program| text(program, "Id"))
        .flat_map(|program| windows(&program, plugin.config.actions_since, today))
        .collect())
}

async fn read_window(
    plugin: &mut ImpactPlugin,
    stream: &'static str,
    window: &Window,
    cursor: Option<PageCursor>,
    max_records: usize,
    map: fn(&Value) -> Result<Record, RejectReason>,
) -> Result<Batch<PageCursor>, PluginError> {
    let size = plugin.client.actions_page_size();
    let paginator =
        plugin.client.collection_sized(actions_request(&window.program, window.start, window.end), "Actions", size);
    let label = format!("actions of program {} from {}", window.program, window.start.date_naive());
    super::read_pages(plugin, stream, paginator, &label, cursor, max_records, map).await
}

/// The `conversions` stream.
pub(crate) struct Conversions;

impl ChildStream<ImpactPlugin> for Conversions {
    const NAME: &'static str = "conversions";
    const ENTITY: EntityKind = EntityKind::Conversion;
    const DIRECTION: Direction = Direction::Both;
    type Parent = Window;
    type Cursor = PageCursor;

    async fn parents(plugin: &mut ImpactPlugin) -> Result<Vec<Window>, PluginError> {
        all_windows(plugin).await
    }

    async fn read(
        plugin: &mut ImpactPlugin,
        parent: &Window,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        read_window(plugin, Self::NAME, parent, cursor, max_records, mapping::conversion).await
    }

    async fn write(plugin: &mut ImpactPlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let mut outcomes = Vec::with_capacity(records.len());
        for record in records {
            let outcome =
                write_one(plugin, &record).await.map_err(|error| error.for_record(record.source_id.as_str()))?;
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }
}

/// The `commissions` stream: each action's payout to its partner.
pub(crate) struct Commissions;

impl ChildStream<ImpactPlugin> for Commissions {
    const NAME: &'static str = "commissions";
    const ENTITY: EntityKind = EntityKind::Commission;
    const DIRECTION: Direction = Direction::Source;
    type Parent = Window;
    type Cursor = PageCursor;

    async fn parents(plugin: &mut ImpactPlugin) -> Result<Vec<Window>, PluginError> {
        all_windows(plugin).await
    }

    async fn read(
        plugin: &mut ImpactPlugin,
        parent: &Window,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        read_window(plugin, Self::NAME, parent, cursor, max_records, mapping::commission).await
    }
}

/// The action of `program` with order id `order` around `at`, if any.
async fn find_action(
    plugin: &ImpactPlugin,
    program: &str,
    order: &str,
    at: DateTime<Utc>,
) -> Result<Option<CompactString>, PluginError> {
    let request = actions_request(program, at - Duration::days(1), at + Duration::days(1));
    let size = plugin.client.actions_page_size();
    let mut paginator = plugin.client.collection_sized(request, "Actions", size);
    while let Some(page) = paginator.next_page(plugin.client.http()).await? {
        if let Some(found) = page.items.iter().find(|action| text(action, "Oid").as_deref() == Some(order)) {
            return Ok(text(found, "Id"));
        }
        if page.done {
            break;
        }
    }
    Ok(None)
}

async fn write_one(plugin: &ImpactPlugin, record: &Record) -> Result<WriteOutcome, PluginError> {
    let Entity::Conversion(conversion) = &record.entity else {
        return Ok(wrong_entity(record, Conversions::NAME));
    };
    if let Some(status @ (ConversionStatus::Rejected | ConversionStatus::Reversed)) = conversion.status {
        return Ok(refuse(
            record,
            "status_not_importable",
            format!(
                "impact.com creates every conversion pending; a {status:?} one is not imported (reversing is a separate call)"
            ),
        ));
    }
    let Some(order) = conversion.order_id.as_ref().filter(|order| !order.is_empty()) else {
        return Ok(refuse(record, "missing_field", "impact.com needs the order id (`OrderId`) of a conversion"));
    };
    let Some(at) = conversion.converted_at else {
        return Ok(refuse(record, "missing_field", "impact.com needs the event date (`EventDate`) of a conversion"));
    };
    let Some(partner) = conversion.partner.as_ref().map(|partner| partner.source_id.to_string()) else {
        return Ok(refuse(
            record,
            "missing_field",
            "a historic conversion has no click: it needs its partner to credit",
        ));
    };
    let program = conversion
        .program
        .as_ref()
        .map(|program| program.source_id.to_string())
        .or_else(|| plugin.config.default_program.clone());
    let Some(program) = program else {
        return Ok(refuse(
            record,
            "missing_field",
            "the conversion names no program and the config has no `default_program`",
        ));
    };
    let Some(tracker) = plugin.config.action_trackers.get(&program).cloned() else {
        return Ok(refuse(
            record,
            "missing_field",
            format!("no event type for program {program}: add it to `action_trackers` in the config"),
        ));
    };
    if at < Utc::now() - Duration::days(3 * 365) {
        return Ok(refuse(record, "too_old", "impact.com takes conversions of the last 3 years only"));
    }
    let amount = match &conversion.amount {
        Some(money) => match write_amount(money) {
            Ok(amount) => Some((amount, money.currency.code().to_owned())),
            Err(reason) => return Ok(WriteOutcome::rejected(record.source_id.clone(), reason)),
        },
        None => None,
    };
    if let Some(id) = find_action(plugin, &program, order, at).await? {
        return Ok(WriteOutcome::of(record.source_id.clone(), Ok::<_, RejectReason>(WriteResult::unchanged(id))));
    }
    let mut form: Vec<(&str, String)> = vec![
        ("CampaignId", program.clone()),
        ("ActionTrackerId", tracker),
        ("EventDate", stamp(at)),
        ("OrderId", order.to_string()),
        ("MediaPartnerId", partner),
    ];
    if let Some((amount, currency)) = amount {
        form.push(("Amount", amount));
        form.push(("CurrencyCode", currency));
    }
    if let Some(customer) = mapping::custom(record, "customer_id") {
        form.push(("CustomerId", customer));
    }
    let queued = match plugin.client.write(Request::post("Conversions").form(&form)).await? {
        Ok(queued) => queued,
        Err(refused) => {
            return Ok(WriteOutcome::rejected(
                record.source_id.clone(),
                RejectReason::new(refused.code, refused.message),
            ));
        }
    };
    // Queued: the action appears once impact.com has processed the
    // submission. Wait for it a little, then ask the submission why not.
    for attempt in 0..10u64 {
        if let Some(id) = find_action(plugin, &program, order, at).await? {
            return Ok(WriteOutcome::of(record.source_id.clone(), Ok::<_, RejectReason>(WriteResult::created(id))));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200 * (attempt + 1))).await;
    }
    let batch = queued["QueuedUri"].as_str().and_then(|uri| uri.rsplit('/').next()).unwrap_or_default().to_owned();
    let submission = plugin.client.get(Request::get(cutover_http::path(["APISubmissions", batch.as_str()])?)).await?;
    if text(&submission, "Status").as_deref() == Some("FAILED") {
        let reason = text(&submission, "ErrorReason").unwrap_or_else(|| "no reason given".into());
        return Ok(refuse(
            record,
            "refused_by_platform",
            format!("impact.com did not process the conversion: {reason}"),
        ));
    }
    Err(PluginError::new(
        ErrorCode::Network,
        format!(
            "impact.com queued conversion {order} but has not processed it yet: run the stream again to pick it up"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_tile_the_grid_within_the_documented_rules() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let since = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap();
        let all = windows("11842", Some(since), today);
        assert_eq!(all[0].start, since.and_hms_opt(0, 0, 0).unwrap().and_utc());
        for pair in all.windows(2) {
            assert_eq!(pair[1].start, pair[0].end + Duration::seconds(1), "no gap, no overlap");
        }
        for window in &all {
            assert!(window.end - window.start < Duration::days(45));
        }
        assert!(all.last().is_some_and(|window| window.end.date_naive() >= today));
        let old = windows("1", NaiveDate::from_ymd_opt(2019, 1, 1), today);
        assert_eq!(
            old[0].start.date_naive(),
            NaiveDate::from_ymd_opt(2023, 12, 6).unwrap(),
            "no more than 3 years back"
        );
        let again = windows("11842", Some(since), today + Duration::days(1));
        assert_eq!(again[..all.len() - 1], all[..all.len() - 1], "the grid does not move with the day");
    }
}
