//! The `tracking_links` stream: each partner's links, read and written.
//!
//! Read: `GET /v2/publishers/{id}/links` for every partner of the network
//! (the links API is partner-scoped; Partnerize's short links).
//!
//! Written: an upsert on the link's description, which holds the external
//! key `{source platform}:{source id}`: a new link with
//! `POST /v2/publishers/{id}/links` on the link's campaign (its program, or
//! the configured `campaign_id`), after approving the partner on it when
//! needed (a link needs the partner's camref); a changed destination with
//! `PATCH`. Partnerize makes the link itself (`https://prf.hn/click/camref:…`),
//! so the old platform's URL is not kept: the redirect map pairs the two.

use crate::PartnerizePlugin;
use crate::client::refusal;
use crate::mapping;
use cutover_http::PageCursor;
use cutover_sdk::prelude::*;
use cutover_sdk::schema::TrackingLink;
use serde_json::{Value, json};
use std::collections::HashMap;

use super::{Lookups, campaign_of, written};

/// The stream.
pub(crate) struct TrackingLinks;

impl ChildStream<PartnerizePlugin> for TrackingLinks {
    const NAME: &'static str = "tracking_links";
    const ENTITY: EntityKind = EntityKind::TrackingLink;
    const DIRECTION: Direction = Direction::Both;
    type Parent = String;
    type Cursor = PageCursor;

    async fn parents(plugin: &mut PartnerizePlugin) -> Result<Vec<String>, PluginError> {
        super::partner_ids(plugin).await
    }

    async fn read(
        plugin: &mut PartnerizePlugin,
        parent: &String,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let PartnerizePlugin { api, pages, .. } = plugin;
        let label = format!("links of partner {parent}");
        let map = |item: &Value| mapping::link_record(item, parent);
        Ok(pages.read(api.http(), api.links(parent)?, &label, cursor, max_records, map).await?)
    }

    async fn write(plugin: &mut PartnerizePlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let mut lookups = Lookups::default();
        let mut links_of: HashMap<String, Vec<Value>> = HashMap::new();
        write_each(records, async |record| {
            let Entity::TrackingLink(link) = &record.entity else {
                let kind = record.entity.kind().as_str();
                return Ok(Err(RejectReason::new(
                    "wrong_entity",
                    format!("a {kind} cannot be written as a tracking link"),
                )));
            };
            let answer = write_one(plugin, &mut lookups, &mut links_of, record, link).await?;
            Ok(answer.map(|(id, created, changed)| written(created, changed, id)))
        })
        .await
    }
}

async fn write_one(
    plugin: &PartnerizePlugin,
    lookups: &mut Lookups,
    links_of: &mut HashMap<String, Vec<Value>>,
    record: &Record,
    link: &TrackingLink,
) -> Result<Result<(String, bool, bool), RejectReason>, PluginError> {
    let api = &plugin.api;
    let Some(partner) = &link.partner else {
        return Ok(Err(RejectReason::new(
            "missing_partner",
            "a Partnerize link belongs to a partner, and this one names none",
        )));
    };
    let publisher = match lookups.partner(api, &record.source_platform, partner).await? {
        Ok(publisher) => publisher,
        Err(reason) => return Ok(Err(reason)),
    };
    let campaign = match campaign_of(plugin, link.program.as_ref()) {
        Ok(campaign) => campaign,
        Err(reason) => return Ok(Err(reason)),
    };
    if let Err(reason) = lookups.camref(api, &campaign, &publisher).await? {
        return Ok(Err(reason));
    }
    let key = format!("{}:{}", record.source_platform, record.source_id);
    if !links_of.contains_key(&publisher) {
        links_of.insert(publisher.clone(), api.all_links(&publisher).await?);
    }
    let known = links_of.entry(publisher.clone()).or_default();
    let destination = link.destination_url.as_deref().map(str::to_owned);
    let existing = known.iter().position(|found| mapping::text(found, "description").as_deref() == Some(key.as_str()));
    let answer = match existing {
        None => {
            let mut body = json!({"campaign_id": campaign, "description": key, "active": true});
            if let Some(destination) = &destination {
                body["destination_url"] = Value::from(destination.clone());
            }
            api.create_link(&publisher, &body).await.map(|made| {
                let id = mapping::text(&made, "id").unwrap_or_default();
                known.push(made);
                (id, true, true)
            })
        }
        Some(index) => {
            let id = mapping::text(&known[index], "id").unwrap_or_default();
            if mapping::text(&known[index], "campaign_id").as_deref() != Some(campaign.as_str()) {
                return Ok(Err(RejectReason::new(
                    "unsupported_change",
                    format!("link {id} is on another campaign, and Partnerize cannot move a link between campaigns"),
                )));
            }
            if destination.is_none() || mapping::text(&known[index], "destination_url") == destination {
                Ok((id, false, false))
            } else {
                let body = json!({"destination_url": destination});
                api.patch_link(&publisher, &id, &body).await.map(|stored| {
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
