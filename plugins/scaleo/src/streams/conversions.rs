//! The `conversions` stream: the conversions report
//! (`POST /api/v2/network/reports/conversions`) over the configured
//! history, oldest first; written through "create conversion"
//! (`POST /api/v2/network/tracking/conversion`) on the default goal of the
//! conversion's offer.
//!
//! A write is an upsert on the record's key, kept as the conversion's
//! `adv_track_id` (the report filters on it), then on the advertiser's
//! order id for the same affiliate and offer (a conversion that came from
//! Scaleo and goes back). Found, only its status can change (the bulk
//! status change; Scaleo keeps the status of a conversion already billed
//! on an invoice, which is then refused); a found conversion whose sale
//! differs is refused, since Scaleo's API cannot change amounts.

use super::Written;
use crate::ScaleoPlugin;
use crate::client::{Report, ScaleoClient};
use crate::mapping::{conversions, programs};
use crate::values;
use chrono::NaiveDate;
use cutover_http::{PageCursor, Request, path};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::Conversion;
use serde_json::{Value, json};

/// The stream.
pub(crate) struct Conversions;

impl Stream<ScaleoPlugin> for Conversions {
    const NAME: &'static str = "conversions";
    const ENTITY: EntityKind = EntityKind::Conversion;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut ScaleoPlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let ScaleoPlugin { client, pages, .. } = plugin;
        let paginator = client.report(Report::Conversions, json!({}));
        Ok(pages.read(client.http(), paginator, "conversions", cursor, max_records, conversions::to_record).await?)
    }

    async fn write(plugin: &mut ScaleoPlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        write_each(records, async |record| write_one(plugin, record).await).await
    }

    async fn count(plugin: &mut ScaleoPlugin) -> Result<Option<u64>, PluginError> {
        Ok(plugin.client.total(plugin.client.report(Report::Conversions, json!({}))).await?)
    }
}

/// The rows the report gives for `filters` over the history and the
/// conversion's own day.
async fn rows(client: &ScaleoClient, filters: Value, day: Option<NaiveDate>) -> Result<Vec<Value>, PluginError> {
    let (from, to) = client.window();
    let (from, to) = match day {
        Some(day) => (from.min(day), to.max(day)),
        None => (from, to),
    };
    Ok(client.all(client.report_between(Report::Conversions, filters, from, to)).await?)
}

/// The default goal of an offer, once per instance; `None` for an offer
/// that is not on Scaleo.
async fn default_goal(plugin: &mut ScaleoPlugin, offer_id: u64) -> Result<Option<u64>, PluginError> {
    if let Some(goal) = plugin.offer_goals.get(&offer_id) {
        return Ok(*goal);
    }
    let offer = plugin.client.get_one(&path(["network", "offers", &offer_id.to_string()])?, "offer").await?;
    let goal = offer.as_ref().and_then(programs::default_goal).and_then(|goal| values::id(goal.get("id")));
    plugin.offer_goals.insert(offer_id, goal);
    Ok(goal)
}

async fn write_one(plugin: &mut ScaleoPlugin, record: &Record) -> Written {
    let write = match conversions::from_record(record, plugin.fallback_offer) {
        Ok(write) => write,
        Err(reason) => return Ok(Err(reason)),
    };
    let Entity::Conversion(conversion) = &record.entity else {
        return Ok(Err(crate::mapping::wrong_entity(record, "a conversion")));
    };
    let day = conversion.converted_at.map(|at| at.date_naive());
    let existing = find(plugin, record, conversion, write.offer_id, day).await?;
    let client = &plugin.client;
    if let Some(row) = existing {
        let id = row.get("transaction_id").and_then(Value::as_str).unwrap_or_default().to_owned();
        if !conversions::same_sale(&row, &write.body) {
            return Ok(Err(RejectReason::new(
                "immutable_on_platform",
                format!("conversion {id} is on Scaleo with another sale, which its API cannot change"),
            )));
        }
        if row.get("conversion_status").and_then(Value::as_str) == Some(write.status) {
            return Ok(Ok(WriteResult::unchanged(id)));
        }
        let body = json!({"new_status": write.status, "fire_postbacks": 0, "filters": {"transactions": [id]}});
        let changed =
            client.write(Request::post("network/reports/conversions/change-status").json(&body), "result").await?;
        return Ok(match changed {
            Ok(result) if values::id(result.get("affected")) == Some(1) => Ok(WriteResult::updated(id)),
            Ok(_) => Err(RejectReason::new(
                "immutable_on_platform",
                format!("conversion {id} is billed on an invoice: Scaleo keeps its status"),
            )),
            Err(reason) => Err(reason),
        });
    }
    let Some(goal) = default_goal(plugin, write.offer_id).await? else {
        return Ok(Err(RejectReason::new(
            "unresolved_reference",
            format!("offer {} is not on Scaleo", write.offer_id),
        )));
    };
    let mut body = write.body;
    body.insert("goal_id".into(), Value::from(goal));
    match plugin.client.write(Request::post("network/tracking/conversion").json(&body), "").await? {
        Ok(created) => match created.get("transaction_id").and_then(Value::as_str) {
            Some(id) => Ok(Ok(WriteResult::created(id))),
            None => {
                Err(PluginError::new(ErrorCode::Network, "scaleo answered a conversion without its transaction_id"))
            }
        },
        Err(reason) => Ok(Err(reason)),
    }
}

/// The conversion already on Scaleo for `record`: by its key, then by its
/// order id for the same affiliate and offer.
async fn find(
    plugin: &ScaleoPlugin,
    record: &Record,
    conversion: &Conversion,
    offer_id: u64,
    day: Option<NaiveDate>,
) -> Result<Option<Value>, PluginError> {
    let client = &plugin.client;
    let key = values::external_key(record);
    let by_key = rows(client, json!({"advertiser_track_id": key}), day).await?;
    if let Some(row) =
        by_key.into_iter().find(|row| row.get("advertiser_track_id").and_then(Value::as_str) == Some(key.as_str()))
    {
        return Ok(Some(row));
    }
    let (Some(order), Some(affiliate)) =
        (conversion.order_id.as_deref(), values::reference_id(conversion.partner.as_ref()))
    else {
        return Ok(None);
    };
    let filters = json!({"advertiser_order_id": order, "affiliates": [affiliate], "offers": [offer_id]});
    let by_order = rows(client, filters, day).await?;
    Ok(by_order.into_iter().find(|row| {
        row.get("advertiser_order_id").and_then(Value::as_str) == Some(order)
            && values::id(row.get("affiliate")) == Some(affiliate)
            && values::id(row.get("offer")) == Some(offer_id)
            && row.get("advertiser_track_id").is_none_or(Value::is_null)
    }))
}
