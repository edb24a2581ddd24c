//! One file per stream, each a type registered in `Plugin::streams`, and
//! what several share: the parents of the per-campaign and per-partner
//! streams, the report window, resolving a record's partner and campaign,
//! and the partner's camref on a campaign (approving the participation
//! first when needed).

pub(crate) mod clicks;
pub(crate) mod commissions;
pub(crate) mod conversions;
pub(crate) mod coupons;
pub(crate) mod links;
pub(crate) mod partners;
pub(crate) mod payouts;
pub(crate) mod programs;

use crate::PartnerizePlugin;
use crate::client::{Api, refusal};
use crate::mapping;
use cutover_http::{HttpError, PageCursor};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::Reference;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Every campaign id of the brand, in the API's order.
pub(crate) async fn campaign_ids(plugin: &mut PartnerizePlugin) -> Result<Vec<String>, PluginError> {
    let campaigns = plugin.api.all_campaigns().await?;
    Ok(campaigns.iter().filter_map(|campaign| mapping::text(campaign, "campaign_id")).collect())
}

/// Every partner id of the network, in the API's order.
pub(crate) async fn partner_ids(plugin: &mut PartnerizePlugin) -> Result<Vec<String>, PluginError> {
    Ok(plugin.api.partner_ids().await?)
}

/// Where a report read stands inside one campaign: the end of its window
/// (fixed when the campaign's read starts, so a resumed read asks the same
/// question) and the page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReportCursor {
    pub(crate) until: String,
    pub(crate) page: PageCursor,
}

impl ReportCursor {
    /// The window's start and end, and the page, for a read from `cursor`.
    pub(crate) fn window(
        plugin: &PartnerizePlugin,
        cursor: Option<ReportCursor>,
    ) -> (String, String, Option<PageCursor>) {
        let from = format!("{} 00:00:00", plugin.config.history_start().format("%Y-%m-%d"));
        match cursor {
            Some(cursor) => (from, cursor.until, Some(cursor.page)),
            None => (from, mapping::v1_format(chrono::Utc::now()), None),
        }
    }
}

/// What a batch learned about the platform, so one batch asks each
/// question once.
#[derive(Debug, Default)]
pub(crate) struct Lookups {
    /// A reference's id → the partner's Partnerize id, or `None`.
    partners: HashMap<String, Option<String>>,
    /// (campaign, partner) → camref, or why there is none.
    camrefs: HashMap<(String, String), Result<String, RejectReason>>,
}

impl Lookups {
    /// The Partnerize id of the partner `reference` names: the id itself
    /// when it is a Partnerize partner (the engine rewrote it through its id
    /// map), else the partner written under the external key
    /// `{platform}:{id}` (a reference the engine did not rewrite, from a
    /// record of `platform`).
    pub(crate) async fn partner(
        &mut self,
        api: &Api,
        platform: &str,
        reference: &Reference,
    ) -> Result<Result<String, RejectReason>, HttpError> {
        let id = reference.source_id.to_string();
        if !self.partners.contains_key(&id) {
            let found = match api.partner(&id).await? {
                Some(_) => Some(id.clone()),
                None => api
                    .search_partners("reporting_identifier", &format!("{platform}:{id}"))
                    .await?
                    .first()
                    .and_then(|partner| mapping::text(partner, "id")),
            };
            self.partners.insert(id.clone(), found);
        }
        Ok(self.partners.get(&id).cloned().flatten().ok_or_else(|| {
            RejectReason::new(
                "unresolved_reference",
                format!("partner `{id}` is not a Partnerize partner: write the partners first"),
            )
        }))
    }

    /// The partner's camref on the campaign; the partner is approved on it
    /// first when it is not.
    pub(crate) async fn camref(
        &mut self,
        api: &Api,
        campaign_id: &str,
        publisher_id: &str,
    ) -> Result<Result<String, RejectReason>, HttpError> {
        let key = (campaign_id.to_owned(), publisher_id.to_owned());
        if let Some(known) = self.camrefs.get(&key) {
            return Ok(known.clone());
        }
        let current = api.participation(campaign_id, publisher_id).await?;
        let participation = match current {
            Some(participation) if participation["campaign_status"] == "a" => Ok(participation),
            _ => match api.approve_participation(campaign_id, publisher_id).await {
                Ok(participation) => Ok(participation),
                Err(error) => match refusal(&error) {
                    Some(reason) => Err(reason),
                    None => return Err(error),
                },
            },
        };
        let camref = participation.and_then(|participation| {
            mapping::text(&participation, "camref").ok_or_else(|| {
                RejectReason::new(
                    "refused_by_platform",
                    format!("Partnerize gave partner {publisher_id} no camref on campaign {campaign_id}"),
                )
            })
        });
        self.camrefs.insert(key, camref.clone());
        Ok(camref)
    }
}

/// The campaign a record belongs to: its program, or the configured
/// `campaign_id`.
pub(crate) fn campaign_of(plugin: &PartnerizePlugin, program: Option<&Reference>) -> Result<String, RejectReason> {
    program
        .map(|program| program.source_id.to_string())
        .or_else(|| plugin.config.campaign_id.clone())
        .ok_or_else(|| {
            RejectReason::new(
                "missing_program",
                "the record names no program and the plugin's `campaign_id` is not set: Partnerize keeps it per campaign",
            )
        })
}

/// What a write did to the record `target`: made it, changed it, or found
/// it as written.
pub(crate) fn written(created: bool, changed: bool, target: String) -> WriteResult {
    match (created, changed) {
        (true, _) => WriteResult::created(target),
        (false, true) => WriteResult::updated(target),
        (false, false) => WriteResult::unchanged(target),
    }
}

/// An outcome for a record, from what the write did.
pub(crate) fn outcome(source_id: &CompactString, created: bool, changed: bool, target: String) -> WriteOutcome {
    WriteOutcome::of(source_id.clone(), Ok::<_, RejectReason>(written(created, changed, target)))
}
