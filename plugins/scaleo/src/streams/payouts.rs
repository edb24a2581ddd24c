//! The `payouts` stream: affiliate invoices, read
//! (`GET /api/v2/network/aff-billing/invoices`) and written (`POST`, and
//! `PUT .../invoices/{id}` to change one).
//!
//! A write is an upsert on the record's key, kept in the invoice's
//! `internal_notes` (`cutover:<key>`), looked up among the affiliate's
//! invoices. Found, its status and amount are brought to the record's (a
//! paid invoice keeps its amount: a different one is refused).

use super::{Written, answered_id};
use crate::ScaleoPlugin;
use crate::mapping::payouts;
use cutover_http::{PageCursor, Request, path};
use cutover_sdk::prelude::*;
use serde_json::{Map, Value};

const PATH: &str = "network/aff-billing/invoices";

/// The stream.
pub(crate) struct Payouts;

impl Stream<ScaleoPlugin> for Payouts {
    const NAME: &'static str = "payouts";
    const ENTITY: EntityKind = EntityKind::Payout;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut ScaleoPlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let ScaleoPlugin { client, pages, .. } = plugin;
        let paginator = client.list(PATH, "invoices", &[]);
        Ok(pages.read(client.http(), paginator, "invoices", cursor, max_records, payouts::to_record).await?)
    }

    async fn write(plugin: &mut ScaleoPlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        write_each(records, async |record| write_one(plugin, record).await).await
    }

    async fn count(plugin: &mut ScaleoPlugin) -> Result<Option<u64>, PluginError> {
        Ok(plugin.client.total(plugin.client.list(PATH, "invoices", &[])).await?)
    }
}

async fn write_one(plugin: &mut ScaleoPlugin, record: &Record) -> Written {
    let client = &plugin.client;
    let write = match payouts::from_record(record) {
        Ok(write) => write,
        Err(reason) => return Ok(Err(reason)),
    };
    let marker = payouts::marker(record);
    let invoices =
        client.all(client.list(PATH, "invoices", &[("affiliate_id", write.affiliate_id.to_string())])).await?;
    let existing = invoices
        .into_iter()
        .find(|invoice| invoice.get("internal_notes").and_then(Value::as_str) == Some(marker.as_str()));
    let Some(current) = existing else {
        return match client.write(Request::post(PATH).json(&write.body), "invoice").await? {
            Ok(created) => Ok(Ok(WriteResult::created(answered_id(&created, "invoice")?.to_string()))),
            Err(reason) => Ok(Err(reason)),
        };
    };
    let id = answered_id(&current, "invoice")?;
    let (same_status, same_amount) = payouts::holds(&current, &write.body);
    if same_status && same_amount {
        return Ok(Ok(WriteResult::unchanged(id.to_string())));
    }
    let is_paid = current.get("status").and_then(Value::as_str) == Some("paid");
    if !same_amount && is_paid {
        return Ok(Err(RejectReason::new(
            "immutable_on_platform",
            format!("invoice {id} is paid on Scaleo with another amount, which it keeps"),
        )));
    }
    let mut body = Map::new();
    for name in ["status", "amount", "currency"] {
        if let Some(value) = write.body.get(name).filter(|_| name == "status" || !same_amount) {
            body.insert(name.to_owned(), value.clone());
        }
    }
    let request = Request::put(path(["network", "aff-billing", "invoices", &id.to_string()])?).json(&body);
    Ok(client.write(request, "invoice").await?.map(|_| WriteResult::updated(id.to_string())))
}
