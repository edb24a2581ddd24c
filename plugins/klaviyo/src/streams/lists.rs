//! The `lists` stream: `GET /api/lists` (10 a page) as lists; written by
//! name, since Klaviyo has no external id on lists: a list whose name
//! exists is that list (its opt-in process updated if it differs), any
//! other is created (`POST /api/lists`, at most 150 a day on Klaviyo).

use crate::Klaviyo;
use crate::client::{Api, Endpoint, is_record_error, reject_reason};
use crate::mapping::{list_attributes, list_record};
use cutover_http::{PageCursor, Paginator, Request};
use cutover_sdk::prelude::*;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Most lists Klaviyo gives per page.
const PAGE_SIZE: usize = 10;

/// The `lists` stream.
pub(crate) struct Lists;

impl Stream<Klaviyo> for Lists {
    const NAME: &'static str = "lists";
    const ENTITY: EntityKind = EntityKind::List;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut Klaviyo,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let paginator = Paginator::json_api(Request::get("api/lists"), max_records.clamp(1, PAGE_SIZE) as u32);
        let client = plugin.api.client(Endpoint::ReadLists)?;
        Ok(plugin.pages.read(client, paginator, "lists", cursor, max_records, list_record).await?)
    }

    /// Writes lists by name, the account's lists loaded on the first write
    /// and kept up to date.
    async fn write(plugin: &mut Klaviyo, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let Klaviyo { api, lists_by_name, .. } = plugin;
        let lists = match lists_by_name {
            Some(lists) => lists,
            unloaded => unloaded.insert(all_lists(api).await?),
        };
        write_each(records, async |record| write_list(api, lists, record).await).await
    }

    async fn count(plugin: &mut Klaviyo) -> Result<Option<u64>, PluginError> {
        Ok(Some(all_lists(&plugin.api).await?.len() as u64))
    }
}

/// A list on Klaviyo: its id and opt-in process.
#[derive(Debug, Clone)]
pub(crate) struct KnownList {
    id: String,
    opt_in_process: Option<String>,
}

/// Every list resource of the account, in the order Klaviyo lists them.
pub(crate) async fn every_list(api: &Api) -> Result<Vec<Value>, PluginError> {
    let mut lists = Vec::new();
    let mut pages = Paginator::json_api(Request::get("api/lists"), PAGE_SIZE as u32);
    let client = api.client(Endpoint::ReadLists)?;
    while let Some(page) = pages.next_page(client).await? {
        lists.extend(page.items);
    }
    Ok(lists)
}

/// Every list of the account, by lowercased name.
async fn all_lists(api: &Api) -> Result<HashMap<String, KnownList>, PluginError> {
    let mut lists = HashMap::new();
    for list in every_list(api).await? {
        let (Some(id), Some(name)) =
            (list.get("id").and_then(Value::as_str), list.pointer("/attributes/name").and_then(Value::as_str))
        else {
            continue;
        };
        let opt_in_process = list.pointer("/attributes/opt_in_process").and_then(Value::as_str).map(str::to_owned);
        lists.entry(name.trim().to_lowercase()).or_insert(KnownList { id: id.to_owned(), opt_in_process });
    }
    Ok(lists)
}

/// Writes one list, found by name in `lists` (the account's lists by
/// lowercased name, kept up to date): its outcome, or the error that fails
/// the batch.
async fn write_list(
    api: &Api,
    lists: &mut HashMap<String, KnownList>,
    record: &Record,
) -> Result<Result<WriteResult, RejectReason>, PluginError> {
    let (name, opt_in) = match list_attributes(record) {
        Ok(attributes) => attributes,
        Err(reason) => return Ok(Err(reason)),
    };
    let key = name.to_lowercase();
    let sent = match lists.get(&key).cloned() {
        Some(list) if opt_in.is_none() || list.opt_in_process.as_deref() == opt_in => {
            return Ok(Ok(WriteResult::unchanged(list.id)));
        }
        Some(list) => {
            let body = json!({"data": {"type": "list", "id": list.id, "attributes": {"opt_in_process": opt_in}}});
            let request = Request::patch(cutover_http::path(["api", "lists", list.id.as_str()])?);
            match api.write(Endpoint::WriteLists, request, &body).await {
                Ok(_) => {
                    lists.insert(key, KnownList { id: list.id.clone(), opt_in_process: opt_in.map(str::to_owned) });
                    Ok(WriteResult::updated(list.id))
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
                    lists.insert(key, list.clone());
                    return Ok(Ok(WriteResult::created(list.id)));
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
                    Ok(WriteResult::created(id))
                }
                Err(error) => Err(error),
            }
        }
    };
    match sent {
        Err(error) if !is_record_error(&error) => Err(PluginError::from(error).for_record(record.source_id.as_str())),
        sent => Ok(sent.map_err(|error| reject_reason(&error))),
    }
}
