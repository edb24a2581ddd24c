//! The `coupon_codes` stream, read and written: impact.com's promo codes.
//!
//! Read: `GET /PromoCodes`. Written: `POST /PromoCodes` (an exact code,
//! `Type=LI`, assigned to the record's partner in its program or the
//! config's `default_program`, credit policy from the custom field
//! `credit_policy` or `ALWAYS`), upserted on the code within its program:
//! a code the program already holds for the same partner is the same code,
//! answered unchanged; held for another partner, it is refused. An inactive
//! code is expired after it is made (`DELETE /PromoCodes/{id}`, which
//! keeps it listed). The discount lives on impact.com's deals, not on the
//! code, so it is not sent (`deal_id` names the deal when read).

use crate::mapping::{custom, text};
use crate::streams::{refuse, wrong_entity};
use crate::{ImpactPlugin, mapping};
use cutover_http::{PageCursor, Request, path};
use cutover_sdk::prelude::*;

/// The stream.
pub(crate) struct CouponCodes;

impl Stream<ImpactPlugin> for CouponCodes {
    const NAME: &'static str = "coupon_codes";
    const ENTITY: EntityKind = EntityKind::CouponCode;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut ImpactPlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let paginator = plugin.client.collection(Request::get("PromoCodes"), "PromoCodes");
        super::read_pages(plugin, Self::NAME, paginator, "promo codes", cursor, max_records, mapping::coupon_code).await
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

    async fn count(plugin: &mut ImpactPlugin) -> Result<Option<u64>, PluginError> {
        Ok(Some(plugin.client.total(Request::get("PromoCodes")).await?))
    }
}

async fn write_one(plugin: &ImpactPlugin, record: &Record) -> Result<WriteOutcome, PluginError> {
    let Entity::CouponCode(coupon) = &record.entity else {
        return Ok(wrong_entity(record, CouponCodes::NAME));
    };
    let Some(code) = coupon.code.as_ref().filter(|code| !code.trim().is_empty()) else {
        return Ok(refuse(record, "missing_field", "a promo code needs its code"));
    };
    let Some(partner) = coupon.partner.as_ref().map(|partner| partner.source_id.to_string()) else {
        return Ok(refuse(
            record,
            "missing_field",
            "impact.com assigns every promo code to a partner; the record names none",
        ));
    };
    let program = coupon
        .program
        .as_ref()
        .map(|program| program.source_id.to_string())
        .or_else(|| plugin.config.default_program.clone());
    let Some(program) = program else {
        return Ok(refuse(
            record,
            "missing_field",
            "the code names no program and the config has no `default_program`",
        ));
    };
    let lookup = Request::get("PromoCodes").query("CampaignId", &program).query("Code", code.as_str());
    let held = plugin.client.all(lookup, "PromoCodes").await?;
    if let Some(existing) =
        held.iter().find(|item| text(item, "Code").is_some_and(|held| held.eq_ignore_ascii_case(code)))
    {
        let id = text(existing, "Id").unwrap_or_default();
        if text(existing, "AssignedPartnerId").as_deref() != Some(partner.as_str()) {
            return Ok(refuse(
                record,
                "code_taken",
                format!("program {program} already holds `{code}` for another partner"),
            ));
        }
        return Ok(WriteOutcome::of(record.source_id.clone(), Ok::<_, RejectReason>(WriteResult::unchanged(id))));
    }
    let credit = custom(record, "credit_policy").unwrap_or_else(|| "ALWAYS".to_owned());
    let form = [
        ("AssignedPartnerId", partner.as_str()),
        ("CampaignId", program.as_str()),
        ("CreditPolicy", credit.as_str()),
        ("Code", code.as_str()),
        ("Type", "LI"),
    ];
    let answer = plugin.client.write(Request::post("PromoCodes").form(&form)).await?;
    let created = match answer {
        Ok(created) => created,
        Err(refused) => {
            return Ok(WriteOutcome::rejected(
                record.source_id.clone(),
                RejectReason::new(refused.code, refused.message),
            ));
        }
    };
    let Some(id) = text(&created, "Id") else {
        return Ok(refuse(record, "malformed_answer", "impact.com made the promo code but answered no `Id`"));
    };
    if coupon.active == Some(false) {
        let expire = Request::delete(path(["PromoCodes", id.as_str()])?);
        if let Err(refused) = plugin.client.write(expire).await? {
            return Ok(WriteOutcome::rejected(
                record.source_id.clone(),
                RejectReason::new(refused.code, refused.message),
            ));
        }
    }
    Ok(WriteOutcome::of(record.source_id.clone(), Ok::<_, RejectReason>(WriteResult::created(id))))
}
