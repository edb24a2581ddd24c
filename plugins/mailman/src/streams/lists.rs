//! The `lists` stream: every list in scope (one domain, or all), and lists
//! created or brought up to date on write.

use super::{PageCache, PageCursor, page_is_done, parse_cursor, render_cursor, source_reject};
use crate::client::{ListResource, MailmanClient};
use crate::mapping::{self, ListPlan, Reject};
use cutover_http::Request;
use cutover_sdk::prelude::*;
use std::collections::HashSet;

/// The collection of lists in scope: the configured domain's, or all.
pub(crate) fn collection(domain: Option<&str>) -> Result<Request, cutover_http::HttpError> {
    Ok(match domain {
        Some(domain) => Request::get(cutover_http::path(["domains", domain, "lists"])?),
        None => Request::get("lists"),
    })
}

fn scope(domain: Option<&str>) -> String {
    format!("lists of {}", domain.unwrap_or("every domain"))
}

/// Whether there is anything in scope to read: a configured domain that does
/// not exist holds no list (and `GET /domains/{d}/lists` would answer 404).
pub(crate) async fn scope_exists(client: &MailmanClient, domain: Option<&str>) -> Result<bool, PluginError> {
    match domain {
        Some(domain) => Ok(client.domain_exists(domain).await?),
        None => Ok(true),
    }
}

/// Every list in scope, by posting address.
pub(crate) async fn all(client: &MailmanClient, domain: Option<&str>) -> Result<Vec<ListResource>, PluginError> {
    if !scope_exists(client, domain).await? {
        return Ok(Vec::new());
    }
    let mut lists = Vec::new();
    for item in client.collect(collection(domain)?).await? {
        // An item that is not a list has no members to read; the `lists`
        // stream reports it as a reject.
        if let Ok(list) = serde_json::from_value::<ListResource>(item) {
            lists.push(list);
        }
    }
    lists.sort_by(|left, right| left.fqdn_listname.cmp(&right.fqdn_listname));
    Ok(lists)
}

/// Reads up to `max_records` lists after `cursor`, each with its settings.
pub(crate) async fn read(
    client: &MailmanClient,
    domain: Option<&str>,
    pages: &mut PageCache,
    cursor: Option<&str>,
    max_records: usize,
) -> Result<ReadBatch, PluginError> {
    let mut position = match cursor {
        Some(cursor) => parse_cursor::<PageCursor>(cursor)?,
        None => PageCursor::start(client, collection(domain)?),
    };
    let mut batch = ReadBatch::default();
    if !scope_exists(client, domain).await? {
        batch.done = true;
        batch.next_cursor = Some(render_cursor(&position)?);
        return Ok(batch);
    }
    let scope = scope(domain);
    while batch.records.len() + batch.rejects.len() < max_records {
        let Some(page) = pages.page(client, &scope, collection(domain)?, &position.page).await? else {
            break;
        };
        for item in page.items.iter().skip(position.skip) {
            if batch.records.len() + batch.rejects.len() >= max_records {
                break;
            }
            let location = format!("{scope}, page {}, item {}", position.page, position.skip);
            position.skip += 1;
            match serde_json::from_value::<ListResource>(item.clone()) {
                Ok(list) => {
                    let settings = client.list_settings(&list.list_id).await?;
                    batch.records.push(mapping::list_record(&list, &settings));
                }
                Err(error) => batch.rejects.push(source_reject(
                    location,
                    item,
                    &Reject::Malformed { what: "list", reason: error.to_string() },
                )),
            }
        }
        if position.skip >= page.items.len() {
            position = PageCursor { page: page.cursor, skip: 0 };
        }
    }
    batch.done = page_is_done(client, collection(domain)?, &position.page)?;
    batch.next_cursor = Some(render_cursor(&position)?);
    Ok(batch)
}

/// What the writes of one instance already know exists.
#[derive(Debug, Default)]
pub(crate) struct Known {
    domains: HashSet<String>,
    lists: HashSet<String>,
}

impl Known {
    /// Whether the list exists, asking Mailman the first time.
    pub(crate) async fn list_exists(&mut self, client: &MailmanClient, list_id: &str) -> Result<bool, PluginError> {
        if self.lists.contains(list_id) {
            return Ok(true);
        }
        let exists = client.list(list_id).await?.is_some();
        if exists {
            self.lists.insert(list_id.to_owned());
        }
        Ok(exists)
    }

    /// Creates the domain unless it exists: a list can only be made in one.
    async fn ensure_domain(&mut self, client: &MailmanClient, mail_host: &str) -> Result<(), PluginError> {
        if self.domains.contains(mail_host) {
            return Ok(());
        }
        if !client.domain_exists(mail_host).await? {
            client.create_domain(mail_host).await?;
            tracing::info!(mail_host, "Domain created.");
        }
        self.domains.insert(mail_host.to_owned());
        Ok(())
    }
}

/// Writes one list: created if missing, its settings brought in line.
pub(crate) async fn write(
    client: &MailmanClient,
    domain: Option<&str>,
    known: &mut Known,
    record: &Record,
) -> Result<Result<WriteResult, Reject>, PluginError> {
    let plan = match mapping::list_plan(record, domain) {
        Ok(plan) => plan,
        Err(reject) => return Ok(Err(reject)),
    };
    let target_id: CompactString = plan.address.fqdn_listname.as_str().into();
    let created = if known.list_exists(client, &plan.address.list_id).await? {
        false
    } else {
        known.ensure_domain(client, &plan.address.mail_host).await?;
        if let Err(reason) = client.create_list(&plan.address.fqdn_listname).await? {
            return Ok(Err(Reject::Refused(reason)));
        }
        known.lists.insert(plan.address.list_id.clone());
        true
    };
    let changed = match apply_settings(client, &plan).await? {
        Ok(changed) => changed,
        Err(reject) => return Ok(Err(reject)),
    };
    Ok(Ok(match (created, changed) {
        (true, _) => WriteResult::Created { target_id },
        (false, true) => WriteResult::Updated { target_id },
        (false, false) => WriteResult::Unchanged { target_id },
    }))
}

/// Patches the settings that differ; whether any did.
async fn apply_settings(client: &MailmanClient, plan: &ListPlan) -> Result<Result<bool, Reject>, PluginError> {
    let current = client.list_settings(&plan.address.list_id).await?;
    let changes = plan.changes(&current);
    if changes.is_empty() {
        return Ok(Ok(false));
    }
    Ok(client
        .patch_list_settings(&plan.address.list_id, &serde_json::Value::Object(changes))
        .await?
        .map(|()| true)
        .map_err(Reject::Refused))
}
