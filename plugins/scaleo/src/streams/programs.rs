//! The `programs` stream: offers, read (`GET /api/v2/network/offers`) and
//! written (`POST`, `PUT /api/v2/network/offers[/{id}]`).
//!
//! A write is an upsert on the record's key in the offer's `external_id`,
//! then on the title when exactly one offer has it (an offer written before
//! this plugin set keys, or on a platform that ignores `external_id`). An
//! offer is changed only when a field differs.

use super::{Written, answered_id, exact, find};
use crate::ScaleoPlugin;
use crate::mapping::programs;
use crate::values;
use cutover_http::{PageCursor, Request, path};
use cutover_sdk::prelude::*;
use serde_json::Value;

const PATH: &str = "network/offers";

/// The stream.
pub(crate) struct Programs;

impl Stream<ScaleoPlugin> for Programs {
    const NAME: &'static str = "programs";
    const ENTITY: EntityKind = EntityKind::Program;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut ScaleoPlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let ScaleoPlugin { client, pages, .. } = plugin;
        let paginator = client.list(PATH, "offers", &[]);
        Ok(pages.read(client.http(), paginator, "offers", cursor, max_records, programs::to_record).await?)
    }

    async fn write(plugin: &mut ScaleoPlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        write_each(records, async |record| write_one(plugin, record).await).await
    }

    async fn count(plugin: &mut ScaleoPlugin) -> Result<Option<u64>, PluginError> {
        Ok(plugin.client.total(plugin.client.list(PATH, "offers", &[])).await?)
    }
}

async fn write_one(plugin: &mut ScaleoPlugin, record: &Record) -> Written {
    let client = &plugin.client;
    let mut body = match programs::from_record(record) {
        Ok(body) => body,
        Err(reason) => return Ok(Err(reason)),
    };
    let key = values::external_key(record);
    let mut existing = find(client, (PATH, "offers"), "external_id", "external_id", &key, exact).await?;
    if existing.is_none()
        && let Some(title) = body.get("title").and_then(Value::as_str)
    {
        let titled: Vec<Value> = client
            .all(client.list(PATH, "offers", &[("q", title.to_owned())]))
            .await?
            .into_iter()
            .filter(|offer| offer.get("title").and_then(Value::as_str) == Some(title))
            .filter(|offer| offer.get("external_id").is_none_or(Value::is_null))
            .collect();
        if let [only] = titled.as_slice() {
            existing = Some(only.clone());
        }
    }
    body.insert("external_id".into(), Value::from(key));
    if let Some(current) = existing {
        let id = answered_id(&current, "offer")?;
        plugin.offer_goals.remove(&id);
        if programs::holds(&current, &body) {
            return Ok(Ok(WriteResult::unchanged(id.to_string())));
        }
        programs::keep_goal(&current, &mut body);
        let request = Request::put(path(["network", "offers", &id.to_string()])?).json(&body);
        return Ok(client.write(request, "offer").await?.map(|_| WriteResult::updated(id.to_string())));
    }
    match client.write(Request::post(PATH).json(&body), "offer").await? {
        Ok(created) => Ok(Ok(WriteResult::created(answered_id(&created, "offer")?.to_string()))),
        Err(reason) => Ok(Err(reason)),
    }
}
