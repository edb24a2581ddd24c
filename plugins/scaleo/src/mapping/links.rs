//! Offer access ↔ tracking links.
//!
//! Read: one link per affiliate's access to an offer (on a landing page or
//! the offer's default): the tracking URL Scaleo makes
//! (`https://{tracking domain}/click?o={offer}&a={affiliate}[&link_id=]`),
//! the landing page's URL as the destination, the affiliate and the offer,
//! when access was asked for. Kept as custom fields: `access_status`
//! (`approved`, `pending`, `rejected`: a pending or rejected access is a
//! link the partner cannot use yet) and `link_id` (the landing page).
//!
//! Written: access for the affiliate to the offer, approved unless the
//! custom field `access_status` says otherwise, on the landing page whose
//! URL is the destination (created when the offer has none). Scaleo makes
//! the tracking URL: the one written is not kept (the redirect map pairs
//! the old with the new).

use super::{record, wrong_entity};
use crate::values::{self, field, text};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{Reference, TrackingLink};
use serde_json::Value;

/// The canonical link of an access item, with the offer's landing pages
/// (`(id, url)`) to name its destination.
pub(crate) fn to_record(item: &Value, landing_pages: &[(u64, String)]) -> Result<Record, RejectReason> {
    let id = values::source_id(item)?;
    let updated_at = values::updated_at(item)?;
    let link_id = values::id(field(item, "link_id"));
    let destination =
        link_id.and_then(|link| landing_pages.iter().find(|(id, _)| *id == link)).map(|(_, url)| url.as_str().into());
    let link = TrackingLink {
        url: text(field(item, "tracking_link")),
        destination_url: destination,
        partner: values::id(field(item, "affiliate_id")).map(|id| Reference::new(EntityKind::Partner, id.to_string())),
        program: values::id(field(item, "offer_id")).map(|id| Reference::new(EntityKind::Program, id.to_string())),
        created_at: values::instant(field(item, "created_at"), "created_at")?,
    };
    let mut record = record(id.to_string(), updated_at, Entity::TrackingLink(link));
    if let Some(status) = text(field(item, "status")) {
        record.custom_fields.insert("access_status".into(), CustomValue::Text(status));
    }
    if let Some(link_id) = link_id {
        record.custom_fields.insert("link_id".into(), CustomValue::Integer(i64::try_from(link_id).unwrap_or(i64::MAX)));
    }
    Ok(record)
}

/// What an access write needs: the affiliate, the offer (the program's, or
/// `fallback_offer`), the destination, and the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessWrite {
    pub(crate) affiliate_id: u64,
    pub(crate) offer_id: u64,
    pub(crate) destination: Option<String>,
    pub(crate) status: String,
}

/// The access for a canonical tracking link, or why Scaleo cannot take it.
pub(crate) fn from_record(record: &Record, fallback_offer: Option<u64>) -> Result<AccessWrite, RejectReason> {
    let Entity::TrackingLink(link) = &record.entity else {
        return Err(wrong_entity(record, "an affiliate's offer access"));
    };
    let affiliate_id = values::reference_id(link.partner.as_ref()).ok_or_else(|| {
        RejectReason::new(
            "unresolved_reference",
            "the link names no Scaleo affiliate (its partner must be migrated first)",
        )
    })?;
    let offer_id = values::reference_id(link.program.as_ref()).or(fallback_offer).ok_or_else(|| {
        RejectReason::new(
            "missing_program",
            "the link names no Scaleo offer; set `fallback_offer_id` to record it under one",
        )
    })?;
    let status = match values::custom_text(record, "access_status") {
        Some(status @ ("approved" | "pending" | "rejected")) => status.to_owned(),
        _ => "approved".to_owned(),
    };
    Ok(AccessWrite { affiliate_id, offer_id, destination: link.destination_url.as_deref().map(str::to_owned), status })
}
