//! Click report rows → clicks (read only: Scaleo's tracker makes clicks,
//! and no endpoint creates one, so history cannot be written back).
//!
//! The click id is Scaleo's (`transaction_id`, 32 hex), also the record's
//! id; `sub_id1`..`sub_id5` in order, a gap as an empty string, trailing
//! ones left off; the time from `added_timestamp` (Unix seconds); the
//! affiliate, the offer, and the tracking link (the affiliate's access to
//! the offer on that landing page, when there is one). An address that is
//! not an IP address is kept as written in the custom field `ip_raw`. Kept
//! as custom fields: `aff_click_id`, `deep_link_url`, `geo` (country
//! code), `device_type`, `device_os`, `browser`, `creative_id`, `link_id`.
//! Scaleo's report has no user agent or referrer.

use super::record;
use crate::values::{self, field, text};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{Click, Reference};
use serde_json::Value;
use std::net::IpAddr;

/// The affiliate's access to an offer on a landing page, for a click's
/// tracking link: `(offer, affiliate, landing page)` → access id.
pub(crate) type LinkOf<'a> = &'a dyn Fn(u64, u64, Option<u64>) -> Option<u64>;

/// Sub ids 1 to 5 of a row, in order: a gap as `""`, trailing gaps off.
pub(crate) fn sub_ids(row: &Value) -> Vec<CompactString> {
    let mut ids: Vec<CompactString> = (1..=5)
        .map(|index| field(row, &format!("sub_id{index}")).and_then(Value::as_str).unwrap_or("").into())
        .collect();
    while ids.last().is_some_and(|id| id.is_empty()) {
        ids.pop();
    }
    ids
}

/// The canonical click of a report row, or why it cannot be one.
pub(crate) fn to_record(row: &Value, link_of: LinkOf<'_>) -> Result<Record, RejectReason> {
    let id = text(field(row, "transaction_id"))
        .ok_or_else(|| RejectReason::new("malformed_record", "the click has no `transaction_id`"))?;
    let clicked_at = values::instant(field(row, "added_timestamp"), "added_timestamp")?
        .ok_or_else(|| RejectReason::new("malformed_record", "the click has no `added_timestamp`"))?;
    let affiliate = values::id(field(row, "affiliate"));
    let offer = values::id(field(row, "offer"));
    let landing_page = values::id(field(row, "link"));
    let raw_ip = text(field(row, "ip"));
    let ip = raw_ip.as_deref().and_then(|ip| ip.trim().parse::<IpAddr>().ok());
    let click = Click {
        click_id: Some(id.clone()),
        sub_ids: sub_ids(row),
        clicked_at: Some(clicked_at),
        partner: affiliate.map(|id| Reference::new(EntityKind::Partner, id.to_string())),
        tracking_link: offer
            .zip(affiliate)
            .and_then(|(offer, affiliate)| link_of(offer, affiliate, landing_page))
            .map(|access| Reference::new(EntityKind::TrackingLink, access.to_string())),
        program: offer.map(|id| Reference::new(EntityKind::Program, id.to_string())),
        ip,
        user_agent: None,
        referrer: None,
    };
    let mut record = record(id, clicked_at, Entity::Click(click));
    let custom = &mut record.custom_fields;
    if ip.is_none()
        && let Some(raw) = raw_ip
    {
        custom.insert("ip_raw".into(), CustomValue::Text(raw));
    }
    for name in ["aff_click_id", "deep_link_url", "device_type", "device_os", "browser"] {
        if let Some(value) = text(field(row, name)) {
            custom.insert(name.into(), CustomValue::Text(value));
        }
    }
    let geo = field(row, "geo").and_then(|geo| text(geo.get("code")).or_else(|| text(Some(geo))));
    if let Some(geo) = geo {
        custom.insert("geo".into(), CustomValue::Text(geo));
    }
    for (name, column) in [("creative_id", "creative"), ("link_id", "link")] {
        if let Some(id) = values::id(field(row, column)) {
            custom.insert(name.into(), CustomValue::Integer(i64::try_from(id).unwrap_or(i64::MAX)));
        }
    }
    Ok(record)
}
