//! `lists`: audiences, read from `GET /lists` and written by name (an
//! audience with the record's name is the same audience; a new one is
//! created with the config's `list_defaults`).

use super::{Output, State};
use crate::client::{self, ApiList};
use crate::mapping;
use cutover_http::{HttpErrorKind, Paginator, Request};
use cutover_sdk::schema::{Entity, Record};
use cutover_sdk::{PluginError, RejectReason, WriteOutcome, WriteResult};
use serde_json::Value;
use std::collections::HashMap;

pub(super) fn paginator(page_size: u32) -> Paginator {
    Paginator::offset(Request::get("lists"), "/lists", page_size)
}

pub(super) fn outputs(list_filter: Option<&str>, items: Vec<Value>) -> Vec<Output> {
    items
        .into_iter()
        .map(|item| (client::parse::<ApiList>(&item), item))
        .filter(|(list, _)| list.as_ref().map_or(true, |list| list_filter.is_none_or(|wanted| wanted == list.id)))
        .map(|(list, item)| match list {
            Ok(list) => Ok(mapping::list(&list)),
            Err(_) => Err(super::malformed("lists", &item)),
        })
        .collect()
}

fn rejected(record: &Record, code: &str, message: String) -> WriteOutcome {
    WriteOutcome {
        source_id: record.source_id.clone(),
        result: WriteResult::Rejected { reason: RejectReason::new(code, message) },
    }
}

impl State {
    async fn target_lists(&mut self) -> Result<&mut HashMap<String, String>, PluginError> {
        if self.target_lists.is_none() {
            let items = client::fetch_all(&self.client, Request::get("lists"), "/lists").await?;
            let by_name = items
                .into_iter()
                .filter_map(|item| client::parse::<ApiList>(&item).ok())
                .map(|list| (list.name, list.id))
                .collect();
            self.target_lists = Some(by_name);
        }
        Ok(self.target_lists.get_or_insert_default())
    }

    /// Writes audiences: an existing one (same name) is `unchanged` (its
    /// settings are the operator's), a new one is created.
    pub(crate) async fn write_lists(&mut self, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let mut outcomes = Vec::with_capacity(records.len());
        for record in records {
            let Entity::List(list) = &record.entity else {
                outcomes.push(rejected(
                    &record,
                    "wrong_entity",
                    format!("a {} cannot be written as a Mailchimp audience", record.entity.kind().as_str()),
                ));
                continue;
            };
            let Some(name) = list.name.as_deref().map(str::trim).filter(|name| !name.is_empty()) else {
                outcomes.push(rejected(&record, "missing_name", "an audience needs a name".into()));
                continue;
            };
            if let Some(id) = self.target_lists().await?.get(name) {
                outcomes.push(WriteOutcome {
                    source_id: record.source_id.clone(),
                    result: WriteResult::Unchanged { target_id: id.as_str().into() },
                });
                continue;
            }
            let Some(defaults) = &self.list_defaults else {
                outcomes.push(rejected(
                    &record,
                    "missing_list_defaults",
                    format!(
                        "audience `{name}` does not exist and cannot be created: set `list_defaults` (contact, \
                         permission_reminder, campaign_defaults) in the plugin config"
                    ),
                ));
                continue;
            };
            let body = mapping::new_list_body(&record, list, defaults);
            match self.client.post_json::<_, ApiList>("lists", &body).await {
                Ok(created) => {
                    self.target_lists().await?.insert(name.to_owned(), created.id.clone());
                    outcomes.push(WriteOutcome {
                        source_id: record.source_id.clone(),
                        result: WriteResult::Created { target_id: created.id.as_str().into() },
                    });
                }
                Err(error) if error.kind() == HttpErrorKind::Rejected => {
                    let vendor = error.vendor().map(|vendor| vendor.summary.clone()).unwrap_or_default();
                    outcomes.push(rejected(
                        &record,
                        "rejected_by_platform",
                        format!("mailchimp refused audience `{name}`: {vendor}"),
                    ));
                }
                Err(error) => return Err(PluginError::from(error).for_record(record.source_id.as_str())),
            }
        }
        Ok(outcomes)
    }
}
