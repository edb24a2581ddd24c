//! The `coupon_codes` stream: each campaign's voucher codes, read and
//! written.
//!
//! Read: `GET /campaign/{id}/voucher_code` for every campaign of the brand.
//!
//! Written: an upsert on the code (case aside) within its campaign (the
//! record's program, or the configured `campaign_id`): a new code with
//! `POST /campaign/{id}/voucher_code`, a changed partner or state with
//! `PUT`. Partnerize keeps no discount with a voucher code (the store
//! does): it is not written.

use crate::PartnerizePlugin;
use crate::client::refusal;
use crate::mapping;
use cutover_http::PageCursor;
use cutover_sdk::prelude::*;
use cutover_sdk::schema::CouponCode;
use serde_json::{Value, json};
use std::collections::HashMap;

use super::{Lookups, campaign_of, written};

/// The stream.
pub(crate) struct CouponCodes;

impl ChildStream<PartnerizePlugin> for CouponCodes {
    const NAME: &'static str = "coupon_codes";
    const ENTITY: EntityKind = EntityKind::CouponCode;
    const DIRECTION: Direction = Direction::Both;
    type Parent = String;
    type Cursor = PageCursor;

    async fn parents(plugin: &mut PartnerizePlugin) -> Result<Vec<String>, PluginError> {
        super::campaign_ids(plugin).await
    }

    async fn read(
        plugin: &mut PartnerizePlugin,
        parent: &String,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let PartnerizePlugin { api, pages, .. } = plugin;
        let label = format!("voucher codes of campaign {parent}");
        let map = |item: &Value| mapping::coupon_record(&item["voucher_code"]);
        Ok(pages.read(api.http(), api.vouchers(parent)?, &label, cursor, max_records, map).await?)
    }

    async fn write(plugin: &mut PartnerizePlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let mut lookups = Lookups::default();
        let mut codes_of: HashMap<String, Vec<Value>> = HashMap::new();
        write_each(records, async |record| {
            let Entity::CouponCode(coupon) = &record.entity else {
                let kind = record.entity.kind().as_str();
                return Ok(Err(RejectReason::new(
                    "wrong_entity",
                    format!("a {kind} cannot be written as a coupon code"),
                )));
            };
            let answer = write_one(plugin, &mut lookups, &mut codes_of, record, coupon).await?;
            Ok(answer.map(|(id, created, changed)| written(created, changed, id)))
        })
        .await
    }
}

async fn write_one(
    plugin: &PartnerizePlugin,
    lookups: &mut Lookups,
    codes_of: &mut HashMap<String, Vec<Value>>,
    record: &Record,
    coupon: &CouponCode,
) -> Result<Result<(String, bool, bool), RejectReason>, PluginError> {
    let api = &plugin.api;
    let Some(code) = coupon.code.as_deref().map(str::trim).filter(|code| !code.is_empty()) else {
        return Ok(Err(RejectReason::new("missing_code", "the coupon code has no code")));
    };
    let campaign = match campaign_of(plugin, coupon.program.as_ref()) {
        Ok(campaign) => campaign,
        Err(reason) => return Ok(Err(reason)),
    };
    let publisher = match &coupon.partner {
        None => None,
        Some(partner) => match lookups.partner(api, &record.source_platform, partner).await? {
            Ok(publisher) => Some(publisher),
            Err(reason) => return Ok(Err(reason)),
        },
    };
    if !codes_of.contains_key(&campaign) {
        let codes = match api.all_vouchers(&campaign).await {
            Ok(codes) => codes,
            Err(error) => match refusal(&error) {
                Some(reason) => return Ok(Err(reason)),
                None => return Err(error.into()),
            },
        };
        codes_of.insert(campaign.clone(), codes);
    }
    let known = codes_of.entry(campaign.clone()).or_default();
    let active = coupon.active.map(|active| if active { "y" } else { "n" });
    let existing = known
        .iter()
        .position(|found| mapping::text(found, "voucher_code").is_some_and(|found| found.eq_ignore_ascii_case(code)));
    let answer = match existing {
        None => {
            let mut entry = json!({"voucher_code": code, "active": active.unwrap_or("y")});
            if let Some(publisher) = &publisher {
                entry["publisher_id"] = Value::from(publisher.clone());
            }
            api.write_voucher(&campaign, &entry, true).await.map(|made| {
                let id = mapping::text(&made, "voucher_code_id").unwrap_or_default();
                known.push(made);
                (id, true, true)
            })
        }
        Some(index) => {
            let current = &known[index];
            let id = mapping::text(current, "voucher_code_id").unwrap_or_default();
            let partner_moves = publisher.is_some() && mapping::text(current, "publisher_id") != publisher;
            let state_moves = active.is_some_and(|active| current["active"].as_str() != Some(active));
            if !partner_moves && !state_moves {
                Ok((id, false, false))
            } else {
                let mut entry = json!({"voucher_code_id": id});
                if let Some(publisher) = &publisher {
                    entry["publisher_id"] = Value::from(publisher.clone());
                }
                if let Some(active) = active {
                    entry["active"] = Value::from(active);
                }
                api.write_voucher(&campaign, &entry, false).await.map(|stored| {
                    known[index] = stored;
                    (id, false, true)
                })
            }
        }
    };
    match answer {
        Ok(done) => Ok(Ok(done)),
        Err(error) => match refusal(&error) {
            Some(reason) => Ok(Err(reason)),
            None => Err(error.into()),
        },
    }
}
