//! The `programs` stream: the brand's campaigns, read and written.
//!
//! Read: `GET /v3/brand/campaigns` (paged by offset, items under `data`).
//!
//! Written: an upsert on the campaign's title (case aside), the only key a
//! campaign has: a new one with `POST /campaign` (v1, under the configured
//! brand), an existing one changed with `PATCH /v3/brand/campaigns/{id}`,
//! sending only what differs, and only properties v3 defines (it refuses
//! any other with a 400).

use crate::PartnerizePlugin;
use crate::client::refusal;
use crate::mapping;
use cutover_http::{PageCursor, PagedReader};
use cutover_sdk::prelude::*;
use serde_json::{Value, json};

use super::written;

/// The stream.
pub(crate) struct Programs;

impl Stream<PartnerizePlugin> for Programs {
    const NAME: &'static str = "programs";
    const ENTITY: EntityKind = EntityKind::Program;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut PartnerizePlugin,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let PartnerizePlugin { api, pages, .. } = plugin;
        if cursor.is_none() {
            *pages = PagedReader::new();
        }
        Ok(pages.read(api.http(), api.campaigns(), "campaigns", cursor, max_records, mapping::program_record).await?)
    }

    async fn write(plugin: &mut PartnerizePlugin, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let api = &plugin.api;
        let mut campaigns = api.all_campaigns().await?;
        write_each(records, async |record| {
            let wanted = match mapping::campaign_patch(record) {
                Ok(wanted) => wanted,
                Err(reason) => return Ok(Err(reason)),
            };
            let title = wanted.title.clone().unwrap_or_default();
            let existing = campaigns.iter().position(|campaign| {
                mapping::text(campaign, "title").is_some_and(|found| found.eq_ignore_ascii_case(&title))
            });
            let answer = match existing {
                None => {
                    let mut body = serde_json::to_value(&wanted).unwrap_or_else(|_| json!({}));
                    body["advertiser_id"] = Value::from(api.advertiser_id.clone());
                    api.create_campaign(&body).await.map(|made| {
                        let id = mapping::text(&made, "campaign_id").unwrap_or_default();
                        campaigns.push(made);
                        (id, true, true)
                    })
                }
                Some(index) => {
                    let id = mapping::text(&campaigns[index], "campaign_id").unwrap_or_default();
                    let changes = mapping::campaign_changes(&wanted, &campaigns[index]);
                    if changes.is_empty() {
                        Ok((id, false, false))
                    } else {
                        api.patch_campaign(&id, &changes).await.map(|stored| {
                            campaigns[index] = stored;
                            (id, false, true)
                        })
                    }
                }
            };
            match answer {
                Ok((id, created, changed)) => Ok(Ok(written(created, changed, id))),
                Err(error) => refusal(&error).map(Err).ok_or_else(|| PluginError::from(error)),
            }
        })
        .await
    }

    async fn count(plugin: &mut PartnerizePlugin) -> Result<Option<u64>, PluginError> {
        Ok(Some(plugin.api.count_campaigns().await?))
    }
}
