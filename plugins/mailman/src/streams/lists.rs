//! The `lists` stream: every list in scope (one domain, or all), each
//! with its settings, and lists created or brought up to date on write.

use crate::Mailman;
use crate::client::{ListResource, MailmanClient};
use crate::mapping::{self, ListPlan, Reject};
use cutover_http::{PageCursor, Request};
use cutover_sdk::prelude::*;
use std::collections::HashSet;

/// The collection of lists in scope: the configured domain's, or all.
fn collection(domain: Option<&str>) -> Result<Request, cutover_http::HttpError> {
    Ok(match domain {
        Some(domain) => Request::get(cutover_http::path(["domains", domain, "lists"])?),
        None => Request::get("lists"),
    })
}

/// Whether there is anything in scope to read: a configured domain that does
/// not exist holds no list (and `GET /domains/{d}/lists` would answer 404).
async fn scope_exists(client: &MailmanClient, domain: Option<&str>) -> Result<bool, PluginError> {
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

/// The `lists` stream.
pub(crate) struct Lists;

impl Stream<Mailman> for Lists {
    const NAME: &'static str = "lists";
    const ENTITY: EntityKind = EntityKind::List;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    /// Lists page by page, each with its settings (one request per list).
    async fn read(
        plugin: &mut Mailman,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let Mailman { client, domain, pages, .. } = plugin;
        let domain = domain.as_deref();
        if !scope_exists(client, domain).await? {
            return Ok(Batch { done: true, ..Batch::at(cursor.unwrap_or_default()) });
        }
        let label = format!("lists of {}", domain.unwrap_or("every domain"));
        let taken = pages.take(client.http(), client.pages(collection(domain)?), &label, cursor, max_records).await?;
        let client = &*client;
        taken.map_async(async |item| list_record(client, item).await).await
    }

    async fn write(plugin: &mut Mailman, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let Mailman { client, domain, known, .. } = plugin;
        write_each(records, async |record| write_list(client, domain.as_deref(), known, record).await).await
    }

    async fn count(plugin: &mut Mailman) -> Result<Option<u64>, PluginError> {
        let Mailman { client, domain, .. } = plugin;
        let domain = domain.as_deref();
        if !scope_exists(client, domain).await? {
            return Ok(Some(0));
        }
        Ok(Some(client.collection_size(collection(domain)?).await?))
    }
}

/// One list of a page, with its settings, as a record; or why it is not one.
async fn list_record(
    client: &MailmanClient,
    item: &serde_json::Value,
) -> Result<Result<Record, RejectReason>, PluginError> {
    let list = match mapping::parse::<ListResource>(item, "list") {
        Ok(list) => list,
        Err(reject) => return Ok(Err(reject.into())),
    };
    let settings = client.list_settings(&list.list_id).await?;
    Ok(Ok(mapping::list_record(&list, &settings)))
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
async fn write_list(
    client: &MailmanClient,
    domain: Option<&str>,
    known: &mut Known,
    record: &Record,
) -> Result<Result<WriteResult, Reject>, PluginError> {
    let plan = match mapping::list_plan(record, domain) {
        Ok(plan) => plan,
        Err(reject) => return Ok(Err(reject)),
    };
    let target_id = plan.address.fqdn_listname.as_str();
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
        (true, _) => WriteResult::created(target_id),
        (false, true) => WriteResult::updated(target_id),
        (false, false) => WriteResult::unchanged(target_id),
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
