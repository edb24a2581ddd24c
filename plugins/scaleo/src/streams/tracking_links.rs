//! The `tracking_links` stream: each offer's affiliate access
//! (`GET /api/v2/network/offers/{id}/affiliates-access`), offer after offer
//! (a child stream of the offers, which the SDK walks), as tracking links.
//!
//! A write asks for the affiliate's access to the offer (`POST` to the same
//! path, which Scaleo upserts on offer, affiliate and landing page), on the
//! landing page whose URL is the link's destination: an offer without one
//! gets it (`POST /api/v2/network/offers/{id}/links`). An access already
//! there with the same status is left as it is.

use super::Written;
use crate::ScaleoPlugin;
use crate::client::ScaleoClient;
use crate::mapping::links;
use crate::values;
use cutover_http::{PageCursor, Request, path};
use cutover_sdk::prelude::*;
use serde_json::{Value, json};

/// The landing pages of an offer, `(id, url)`; empty for an offer gone.
pub(crate) async fn landing_pages(client: &ScaleoClient, offer_id: u64) -> Result<Vec<(u64, String)>, PluginError> {
    let offer = client.get_one(&path(["network", "offers", &offer_id.to_string()])?, "offer").await?;
    Ok(offer
        .as_ref()
        .and_then(|offer| offer.get("links"))
        .and_then(Value::as_array)
        .map(|links| {
            links
                .iter()
                .filter_map(|link| Some((values::id(link.get("id"))?, link.get("url")?.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default())
}

fn access_path(offer_id: u64) -> Result<String, PluginError> {
    Ok(path(["network", "offers", &offer_id.to_string(), "affiliates-access"])?)
}

/// Every offer id, in order.
pub(crate) async fn offer_ids(client: &ScaleoClient) -> Result<Vec<u64>, PluginError> {
    let offers = client.all(client.list("network/offers", "offers", &[])).await?;
    Ok(offers.iter().filter_map(|offer| values::id(offer.get("id"))).collect())
}

/// The stream.
pub(crate) struct TrackingLinks;

impl ChildStream<ScaleoPlugin> for TrackingLinks {
    const NAME: &'static str = "tracking_links";
    const ENTITY: EntityKind = EntityKind::TrackingLink;
    const DIRECTION: Direction = Direction::Both;
    type Parent = u64;
    type Cursor = PageCursor;

    async fn parents(plugin: &mut ScaleoPlugin) -> Result<Vec<u64>, PluginError> {
        plugin.landing_pages.clear();
        offer_ids(&plugin.client).await
    }

    async fn read(
        plugin: &mut ScaleoPlugin,
        parent: &u64,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        if !plugin.landing_pages.contains_key(parent) {
            let pages = landing_pages(&plugin.client, *parent).await?;
            plugin.landing_pages.insert(*parent, pages);
        }
        let ScaleoPlugin { client, pages, landing_pages, .. } = plugin;
        let known = landing_pages.get(parent).map_or(&[][..], Vec::as_slice);
        let paginator = client.list(&access_path(*parent)?, "access", &[]);
        let label = format!("access to offer {parent}");
        Ok(pages
            .read(client.http(), paginator, &label, cursor, max_records, |item| links::to_record(item, known))
            .await?)
    }

    async fn write(plugin: &mut ScaleoPlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        write_each(records, async |record| write_one(plugin, record).await).await
    }

    async fn count(plugin: &mut ScaleoPlugin) -> Result<Option<u64>, PluginError> {
        let mut total = 0;
        for offer in offer_ids(&plugin.client).await? {
            total += plugin.client.total(plugin.client.list(&access_path(offer)?, "access", &[])).await?.unwrap_or(0);
        }
        Ok(Some(total))
    }

    /// Offers come by id: a read whose offer is gone goes on with the next
    /// id.
    fn resume_at(parents: &[u64], gone: &u64, _index: usize) -> usize {
        parents.iter().position(|parent| parent > gone).unwrap_or(parents.len())
    }
}

async fn write_one(plugin: &mut ScaleoPlugin, record: &Record) -> Written {
    let client = &plugin.client;
    let write = match links::from_record(record, plugin.fallback_offer) {
        Ok(write) => write,
        Err(reason) => return Ok(Err(reason)),
    };
    let offer = client.get_one(&path(["network", "offers", &write.offer_id.to_string()])?, "offer").await?;
    let Some(offer) = offer else {
        return Ok(Err(RejectReason::new(
            "unresolved_reference",
            format!("offer {} is not on Scaleo", write.offer_id),
        )));
    };
    let link_id = match &write.destination {
        None => None,
        Some(url) if offer.get("url").and_then(Value::as_str) == Some(url.as_str()) => None,
        Some(url) => {
            let known = landing_pages(client, write.offer_id).await?;
            match known.iter().find(|(_, known)| known == url) {
                Some((id, _)) => Some(*id),
                None => {
                    let title = offer.get("title").and_then(Value::as_str).unwrap_or("Offer");
                    let body = json!({"title": format!("{title} (migrated)"), "url": url});
                    let request =
                        Request::post(path(["network", "offers", &write.offer_id.to_string(), "links"])?).json(&body);
                    match client.write(request, "link").await? {
                        Ok(link) => values::id(link.get("id")),
                        Err(reason) => return Ok(Err(reason)),
                    }
                }
            }
        }
    };
    plugin.landing_pages.remove(&write.offer_id);
    let listing = access_path(write.offer_id)?;
    let held = client
        .all(client.list(&listing, "access", &[("affiliate_id", write.affiliate_id.to_string())]))
        .await?
        .into_iter()
        .find(|access| {
            values::id(access.get("affiliate_id")) == Some(write.affiliate_id)
                && values::id(access.get("link_id")) == link_id
        });
    if let Some(access) = &held
        && access.get("status").and_then(Value::as_str) == Some(write.status.as_str())
    {
        return Ok(Ok(WriteResult::unchanged(super::answered_id(access, "access")?.to_string())));
    }
    let mut body = json!({"affiliate_id": write.affiliate_id, "status": write.status});
    if let Some(link_id) = link_id {
        body["link_id"] = Value::from(link_id);
    }
    match client.write(Request::post(listing).json(&body), "access").await? {
        Ok(access) => {
            let id = super::answered_id(&access, "access")?.to_string();
            Ok(Ok(if held.is_some() { WriteResult::updated(id) } else { WriteResult::created(id) }))
        }
        Err(reason) => Ok(Err(reason)),
    }
}
