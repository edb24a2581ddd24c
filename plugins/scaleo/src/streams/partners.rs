//! The `partners` stream: affiliates, read (`GET /api/v2/network/affiliates`)
//! and written.
//!
//! A write is an upsert on the record's key, `<source platform>:<source
//! id>`, kept in the affiliate's `external_id` (so the previous platform's
//! id stays with the partner); then on the email, Scaleo's unique natural
//! key (an affiliate found by email takes the key when it has no
//! `external_id` yet). An affiliate is changed only when a field differs,
//! and created pending unless the record says otherwise, with a random
//! password (Scaleo requires one; the partner sets their own) and without
//! the welcome or verification emails (1/2 switches set to 2): a migration
//! does not mail partners. The parent is looked up as a Scaleo id, or
//! else as the key of a partner this plugin wrote from the same platform;
//! one not found is refused.
//!
//! Payout details travel in `payment_details` and appear in no log line,
//! error or reject: a rejected affiliate's raw item is kept with them
//! blanked.

use super::{Written, answered_id, exact, find, same_text};
use crate::ScaleoPlugin;
use crate::client::ScaleoClient;
use crate::mapping::partners::{self, redacted};
use crate::values;
use cutover_http::{PageCursor, Request, path};
use cutover_sdk::prelude::*;
use rand::distr::{Alphanumeric, SampleString};
use serde_json::Value;

const PATH: &str = "network/affiliates";

/// The stream.
pub(crate) struct Partners;

impl Stream<ScaleoPlugin> for Partners {
    const NAME: &'static str = "partners";
    const ENTITY: EntityKind = EntityKind::Partner;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut ScaleoPlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let ScaleoPlugin { client, pages, tier_prefix, .. } = plugin;
        let paginator = client.list(PATH, "affiliates", &[]);
        let mut batch = pages
            .read(client.http(), paginator, "affiliates", cursor, max_records, |item| {
                partners::to_record(item, tier_prefix)
            })
            .await?;
        for reject in &mut batch.rejects {
            reject.raw = redacted(&reject.raw);
        }
        Ok(batch)
    }

    async fn write(plugin: &mut ScaleoPlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        write_each(records, async |record| write_one(plugin, record).await).await
    }

    async fn count(plugin: &mut ScaleoPlugin) -> Result<Option<u64>, PluginError> {
        Ok(plugin.client.total(plugin.client.list(PATH, "affiliates", &[])).await?)
    }
}

/// The affiliate this plugin wrote under `key`.
async fn by_key(client: &ScaleoClient, key: &str) -> Result<Option<Value>, PluginError> {
    find(client, (PATH, "affiliates"), "external_id", "external_id", key, exact).await
}

/// The Scaleo id of a partner's parent: a Scaleo affiliate id, or the key
/// of a partner written from `platform`.
async fn sponsor(client: &ScaleoClient, platform: &str, parent: &str) -> Result<Option<u64>, PluginError> {
    if let Ok(id) = parent.parse::<u64>()
        && client.get_one(&path(["network", "affiliates", &id.to_string()])?, "affiliate").await?.is_some()
    {
        return Ok(Some(id));
    }
    let written = by_key(client, &format!("{platform}:{parent}")).await?;
    Ok(written.and_then(|affiliate| values::id(affiliate.get("id"))))
}

async fn write_one(plugin: &mut ScaleoPlugin, record: &Record) -> Written {
    let client = &plugin.client;
    let write = match partners::from_record(record, &plugin.tier_prefix) {
        Ok(write) => write,
        Err(reason) => return Ok(Err(reason)),
    };
    let mut body = write.body;
    let referred_by = match &write.parent {
        None => Value::Null,
        Some(parent) => match sponsor(client, &record.source_platform, &parent.source_id).await? {
            Some(id) => Value::from(id),
            None => {
                return Ok(Err(RejectReason::new(
                    "unresolved_reference",
                    format!("the parent partner `{}` is not on Scaleo: write it first", parent.source_id),
                )));
            }
        },
    };
    body.insert("referred_by".into(), referred_by);
    let key = values::external_key(record);
    let existing = match by_key(client, &key).await? {
        Some(found) => Some(found),
        None => find(client, (PATH, "affiliates"), "q", "email", &write.email, same_text).await?,
    };
    if let Some(current) = existing {
        let id = answered_id(&current, "affiliate")?;
        if current.get("external_id").is_none_or(|held| held.as_str().is_none_or(str::is_empty)) {
            body.insert("external_id".into(), Value::from(key));
        }
        if partners::holds(&current, &body) {
            return Ok(Ok(WriteResult::unchanged(id.to_string())));
        }
        let request = Request::put(path(["network", "affiliates", &id.to_string()])?).json(&body);
        return Ok(client.write(request, "affiliate").await?.map(|_| WriteResult::updated(id.to_string())));
    }
    body.insert("external_id".into(), Value::from(key));
    let password = Alphanumeric.sample_string(&mut rand::rng(), 24);
    body.insert("password".into(), Value::from(password.as_str()));
    body.insert("password_repeat".into(), Value::from(password));
    body.insert("send_welcome_email".into(), Value::from(2));
    body.insert("send_verification_email".into(), Value::from(2));
    match client.write(Request::post(PATH).json(&body), "affiliate").await? {
        Ok(created) => Ok(Ok(WriteResult::created(answered_id(&created, "affiliate")?.to_string()))),
        Err(reason) => Ok(Err(reason)),
    }
}
