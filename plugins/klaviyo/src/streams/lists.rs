//! The `lists` stream: `GET /api/lists` (10 a page) as lists; written by
//! name, since Klaviyo has no external id on lists: a list whose name
//! exists is that list (its opt-in process updated if it differs), any
//! other is created (`POST /api/lists`, at most 150 a day on Klaviyo).

use super::{PagePosition, map_items, outcome, parse_cursor, read_page, rejected, render_cursor};
use crate::client::{Api, Endpoint, is_record_error, reject_reason};
use crate::mapping::{list_attributes, list_record};
use cutover_http::{Paginator, Request};
use cutover_sdk::prelude::*;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Most lists Klaviyo gives per page.
const PAGE_SIZE: usize = 10;

/// Reads lists after `cursor`.
pub(crate) async fn read(api: &Api, cursor: Option<&str>, max: usize) -> Result<ReadBatch, PluginError> {
    let position: PagePosition = parse_cursor(cursor)?;
    let paginator = Paginator::json_api(Request::get("api/lists"), max.clamp(1, PAGE_SIZE) as u32);
    let page = read_page(api, Endpoint::ReadLists, &paginator, position, max).await?;
    let mut batch = ReadBatch::default();
    map_items(&mut batch, "list", &page.items, list_record);
    batch.next_cursor = Some(render_cursor(&page.next)?);
    batch.done = page.done;
    Ok(batch)
}

/// A list on Klaviyo: its id and opt-in process.
#[derive(Debug, Clone)]
pub(crate) struct KnownList {
    id: String,
    opt_in_process: Option<String>,
}

/// Every list of the account, by lowercased name.
pub(crate) async fn all_lists(api: &Api) -> Result<HashMap<String, KnownList>, PluginError> {
    let mut lists = HashMap::new();
    let mut pages = Paginator::json_api(Request::get("api/lists"), PAGE_SIZE as u32);
    let client = api.client(Endpoint::ReadLists)?;
    while let Some(page) = pages.next_page(client).await? {
        for list in &page.items {
            let (Some(id), Some(name)) =
                (list.get("id").and_then(Value::as_str), list.pointer("/attributes/name").and_then(Value::as_str))
            else {
                continue;
            };
            let opt_in_process = list.pointer("/attributes/opt_in_process").and_then(Value::as_str).map(str::to_owned);
            lists.entry(name.trim().to_lowercase()).or_insert(KnownList { id: id.to_owned(), opt_in_process });
        }
    }
    Ok(lists)
}

/// Writes lists; `known` is the account's lists by lowercased name, loaded
/// on the first write and kept up to date.
pub(crate) async fn write(
    api: &Api,
    known: &mut Option<HashMap<String, KnownList>>,
    records: Vec<Record>,
) -> Result<Vec<WriteOutcome>, PluginError> {
    if known.is_none() {
        *known = Some(all_lists(api).await?);
    }
    let Some(lists) = known.as_mut() else {
        return Err(PluginError::new(ErrorCode::Internal, "the lists were not loaded: a plugin bug"));
    };
    let mut outcomes = Vec::with_capacity(records.len());
    for record in &records {
        let (name, opt_in) = match list_attributes(record) {
            Ok(attributes) => attributes,
            Err(reason) => {
                outcomes.push(rejected(&record.source_id, reason));
                continue;
            }
        };
        let key = name.to_lowercase();
        let result = match lists.get(&key).cloned() {
            Some(list) if opt_in.is_none() || list.opt_in_process.as_deref() == opt_in => {
                Ok(WriteResult::Unchanged { target_id: list.id.into() })
            }
            Some(list) => {
                let body = json!({"data": {"type": "list", "id": list.id, "attributes": {"opt_in_process": opt_in}}});
                let request = Request::patch(cutover_http::path(["api", "lists", list.id.as_str()])?);
                match api.write(Endpoint::WriteLists, request, &body).await {
                    Ok(_) => {
                        lists.insert(key, KnownList { id: list.id.clone(), opt_in_process: opt_in.map(str::to_owned) });
                        Ok(WriteResult::Updated { target_id: list.id.into() })
                    }
                    Err(error) => Err(error),
                }
            }
            None => {
                let mut attributes = serde_json::Map::new();
                attributes.insert("name".into(), Value::from(name.as_str()));
                if let Some(opt_in) = opt_in {
                    attributes.insert("opt_in_process".into(), Value::from(opt_in));
                }
                let body = json!({"data": {"type": "list", "attributes": attributes}});
                // A create is not safe to send twice (two lists with one name), so
                // after a failed one the lists are read again: the list is used if
                // the first request made it, and created once more if not.
                let mut created = api.write(Endpoint::WriteLists, Request::post("api/lists"), &body).await;
                if created.as_ref().is_err_and(|error| !is_record_error(error)) {
                    if let Some(list) = all_lists(api).await?.remove(&key) {
                        lists.insert(key.clone(), list.clone());
                        outcomes.push(outcome(&record.source_id, WriteResult::Created { target_id: list.id.into() }));
                        continue;
                    }
                    created = api.write(Endpoint::WriteLists, Request::post("api/lists"), &body).await;
                }
                match created {
                    Ok(response) => {
                        let created: Value = response.json()?;
                        let Some(id) = created.pointer("/data/id").and_then(Value::as_str).map(str::to_owned) else {
                            return Err(PluginError::new(
                                ErrorCode::Network,
                                format!("POST /api/lists answered without the new list's id for `{name}`"),
                            )
                            .for_record(record.source_id.as_str()));
                        };
                        lists.insert(key, KnownList { id: id.clone(), opt_in_process: opt_in.map(str::to_owned) });
                        Ok(WriteResult::Created { target_id: id.into() })
                    }
                    Err(error) => Err(error),
                }
            }
        };
        match result {
            Ok(result) => outcomes.push(outcome(&record.source_id, result)),
            Err(error) if is_record_error(&error) => outcomes.push(rejected(&record.source_id, reject_reason(&error))),
            Err(error) => return Err(PluginError::from(error).for_record(record.source_id.as_str())),
        }
    }
    Ok(outcomes)
}
