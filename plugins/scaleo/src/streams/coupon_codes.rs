//! The `coupon_codes` stream: promo codes, read
//! (`GET /api/v2/network/promo-codes`) and written (`POST`, `PUT
//! .../promo-codes[/{id}]`), upserted on the code, unique across the
//! network (case aside).

use super::{Written, answered_id, find, same_text};
use crate::ScaleoPlugin;
use crate::mapping::coupons;
use cutover_http::{PageCursor, Request, path};
use cutover_sdk::prelude::*;
use serde_json::Value;

const PATH: &str = "network/promo-codes";

/// The stream.
pub(crate) struct CouponCodes;

impl Stream<ScaleoPlugin> for CouponCodes {
    const NAME: &'static str = "coupon_codes";
    const ENTITY: EntityKind = EntityKind::CouponCode;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut ScaleoPlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let ScaleoPlugin { client, pages, .. } = plugin;
        let paginator = client.list(PATH, "promo_codes", &[]);
        Ok(pages.read(client.http(), paginator, "promo codes", cursor, max_records, coupons::to_record).await?)
    }

    async fn write(plugin: &mut ScaleoPlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        write_each(records, async |record| write_one(plugin, record).await).await
    }

    async fn count(plugin: &mut ScaleoPlugin) -> Result<Option<u64>, PluginError> {
        Ok(plugin.client.total(plugin.client.list(PATH, "promo_codes", &[])).await?)
    }
}

async fn write_one(plugin: &mut ScaleoPlugin, record: &Record) -> Written {
    let client = &plugin.client;
    let body = match coupons::from_record(record) {
        Ok(body) => body,
        Err(reason) => return Ok(Err(reason)),
    };
    let code = body.get("code").and_then(Value::as_str).unwrap_or_default().to_owned();
    let existing = find(client, (PATH, "promo_codes"), "q", "code", &code, same_text).await?;
    if let Some(current) = existing {
        let id = answered_id(&current, "promo code")?;
        if coupons::holds(&current, &body) {
            return Ok(Ok(WriteResult::unchanged(id.to_string())));
        }
        let request = Request::put(path(["network", "promo-codes", &id.to_string()])?).json(&body);
        return Ok(client.write(request, "promo_code").await?.map(|_| WriteResult::updated(id.to_string())));
    }
    match client.write(Request::post(PATH).json(&body), "promo_code").await? {
        Ok(created) => Ok(Ok(WriteResult::created(answered_id(&created, "promo code")?.to_string()))),
        Err(reason) => Ok(Err(reason)),
    }
}
