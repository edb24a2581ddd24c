//! The `members` stream: for each list in scope (by posting address), its
//! roster (every role, from `GET /members/find?list_id=…`, sorted by
//! address and role), then its bans as suppressed memberships. On write,
//! memberships are subscribed, banned or added per role as `mapping.rs`
//! plans them, checking what Mailman holds first so that a second write
//! changes nothing.
//!
//! A roster entry carries no delivery status, and reading preferences per
//! member would cost a request each: the ids of members whose effective
//! status is not `enabled` are fetched once per instance (four searches),
//! and so are the bans. Pattern bans are judged by Mailman, per member,
//! only on lists where one applies.

use super::{PageCache, PageCursor, page_is_done, parse_cursor, render_cursor, source_reject};
use crate::client::{ListResource, MailmanClient, MemberResource, Subscribed};
use crate::mapping::{self, DeliveryStatus, MembershipAction, MembershipPlan, Reject, Role};
use chrono::{DateTime, Utc};
use cutover_http::Request;
use cutover_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

/// Where a read of the stream stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
enum MembersCursor {
    /// In the roster of `list` (a posting address).
    Roster {
        list: String,
        #[serde(flatten)]
        page: PageCursor,
    },
    /// In the bans of `list`, `skip` already returned.
    Bans { list: String, skip: usize },
    /// Every list was read.
    Done,
}

/// What one instance learnt once and uses for every batch.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// The lists in scope, by posting address.
    lists: Vec<ListResource>,
    /// Member id → effective delivery status, for those not `enabled`.
    disabled: HashMap<String, DeliveryStatus>,
    /// Global bans: exact addresses in lower case, and whether any is a
    /// pattern.
    global_bans: HashSet<String>,
    global_patterns: bool,
    /// Per list id: its bans as Mailman lists them, sorted.
    list_bans: HashMap<String, Vec<String>>,
    /// Per list id: when the list was created.
    created_at: HashMap<String, DateTime<Utc>>,
}

impl Snapshot {
    /// Lists, disabled members and global bans in scope.
    pub(crate) async fn take(client: &MailmanClient, domain: Option<&str>) -> Result<Snapshot, PluginError> {
        let lists = super::lists::all(client, domain).await?;
        let mut disabled = HashMap::new();
        for status in DeliveryStatus::DISABLED {
            for member_id in client.members_with_status(status.as_str()).await? {
                disabled.insert(member_id, status);
            }
        }
        let global = client.bans(None).await?;
        Ok(Snapshot {
            lists,
            disabled,
            global_patterns: global.iter().any(|ban| ban.starts_with('^')),
            global_bans: global.iter().map(|ban| ban.to_lowercase()).collect(),
            list_bans: HashMap::new(),
            created_at: HashMap::new(),
        })
    }

    /// The first list after `fqdn` (or the first of all).
    fn list_after(&self, fqdn: Option<&str>) -> Option<&ListResource> {
        self.lists.iter().find(|list| fqdn.is_none_or(|fqdn| list.fqdn_listname.as_str() > fqdn))
    }

    /// The list `fqdn`, or the first after it if it is gone.
    fn list_at(&self, fqdn: &str) -> Option<&ListResource> {
        self.lists.iter().find(|list| list.fqdn_listname.as_str() >= fqdn)
    }

    async fn bans_of(&mut self, client: &MailmanClient, list_id: &str) -> Result<&[String], PluginError> {
        if !self.list_bans.contains_key(list_id) {
            // Mailman compares bans to lower-case addresses, so a ban written
            // in another case is the same opt-out: one record each.
            let mut bans = client.bans(Some(list_id)).await?;
            bans.sort_by_key(|ban| ban.to_lowercase());
            bans.dedup_by_key(|ban| ban.to_lowercase());
            self.list_bans.insert(list_id.to_owned(), bans);
        }
        Ok(self.list_bans.get(list_id).map_or(&[], Vec::as_slice))
    }

    /// When the list was created: the best `updated_at` a membership has,
    /// since Mailman keeps no time on members.
    async fn created_at(&mut self, client: &MailmanClient, list_id: &str) -> Result<DateTime<Utc>, PluginError> {
        if let Some(created_at) = self.created_at.get(list_id) {
            return Ok(*created_at);
        }
        let settings = client.list_settings(list_id).await?;
        let created_at =
            settings.created_at.as_deref().and_then(mapping::parse_instant).unwrap_or(DateTime::UNIX_EPOCH);
        self.created_at.insert(list_id.to_owned(), created_at);
        Ok(created_at)
    }

    /// Whether a ban covers `email` on the list.
    async fn is_banned(&mut self, client: &MailmanClient, list_id: &str, email: &str) -> Result<bool, PluginError> {
        let email = email.to_lowercase();
        if self.global_bans.contains(&email) {
            return Ok(true);
        }
        let global_patterns = self.global_patterns;
        let bans = self.bans_of(client, list_id).await?;
        if bans.iter().any(|ban| ban.to_lowercase() == email) {
            return Ok(true);
        }
        if global_patterns || bans.iter().any(|ban| ban.starts_with('^')) {
            return Ok(client.is_banned(list_id, &email).await?);
        }
        Ok(false)
    }
}

fn roster(list_id: &str) -> Request {
    Request::get("members/find").query("list_id", list_id)
}

fn roster_start(client: &MailmanClient, list: &ListResource) -> MembersCursor {
    MembersCursor::Roster { list: list.fqdn_listname.clone(), page: PageCursor::start(client, roster(&list.list_id)) }
}

/// Reads up to `max_records` memberships after `cursor`.
pub(crate) async fn read(
    client: &MailmanClient,
    snapshot: &mut Snapshot,
    pages: &mut PageCache,
    cursor: Option<&str>,
    max_records: usize,
) -> Result<ReadBatch, PluginError> {
    let mut position = match cursor {
        Some(cursor) => parse_cursor::<MembersCursor>(cursor)?,
        None => snapshot.list_after(None).map_or(MembersCursor::Done, |list| roster_start(client, list)),
    };
    let mut batch = ReadBatch::default();
    while batch.records.len() + batch.rejects.len() < max_records {
        position = match position {
            MembersCursor::Done => break,
            MembersCursor::Roster { list, page } => {
                let Some(current) = snapshot.list_at(&list).cloned() else {
                    position = MembersCursor::Done;
                    break;
                };
                if current.fqdn_listname != list {
                    // The list is gone since the cursor was written.
                    roster_start(client, &current)
                } else {
                    read_roster(client, snapshot, pages, &current, page, max_records, &mut batch).await?
                }
            }
            MembersCursor::Bans { list, skip } => {
                let Some(current) = snapshot.list_at(&list).cloned() else {
                    position = MembersCursor::Done;
                    break;
                };
                if current.fqdn_listname != list {
                    roster_start(client, &current)
                } else {
                    read_bans(client, snapshot, &current, skip, max_records, &mut batch).await?
                }
            }
        };
    }
    batch.done = position == MembersCursor::Done;
    batch.next_cursor = Some(render_cursor(&position)?);
    Ok(batch)
}

/// Reads roster entries of `list` from `page` into `batch`; where to go on.
async fn read_roster(
    client: &MailmanClient,
    snapshot: &mut Snapshot,
    pages: &mut PageCache,
    list: &ListResource,
    mut page: PageCursor,
    max_records: usize,
    batch: &mut ReadBatch,
) -> Result<MembersCursor, PluginError> {
    let scope = format!("roster of {}", list.fqdn_listname);
    let Some(items) = pages.page(client, &scope, roster(&list.list_id), &page.page).await? else {
        return Ok(MembersCursor::Bans { list: list.fqdn_listname.clone(), skip: 0 });
    };
    let updated_at = snapshot.created_at(client, &list.list_id).await?;
    for item in items.items.iter().skip(page.skip) {
        if batch.records.len() + batch.rejects.len() >= max_records {
            break;
        }
        let location = format!("{scope}, page {}, item {}", page.page, page.skip);
        page.skip += 1;
        match member_record(client, snapshot, list, item, updated_at).await? {
            Ok(record) => batch.records.push(record),
            Err(reject) => batch.rejects.push(source_reject(location, item, &reject)),
        }
    }
    if page.skip < items.items.len() {
        return Ok(MembersCursor::Roster { list: list.fqdn_listname.clone(), page });
    }
    let next = PageCursor { page: items.cursor, skip: 0 };
    if page_is_done(client, roster(&list.list_id), &next.page)? {
        Ok(MembersCursor::Bans { list: list.fqdn_listname.clone(), skip: 0 })
    } else {
        Ok(MembersCursor::Roster { list: list.fqdn_listname.clone(), page: next })
    }
}

async fn member_record(
    client: &MailmanClient,
    snapshot: &mut Snapshot,
    list: &ListResource,
    item: &Value,
    updated_at: DateTime<Utc>,
) -> Result<Result<Record, Reject>, PluginError> {
    let member = match serde_json::from_value::<MemberResource>(item.clone()) {
        Ok(member) => member,
        Err(error) => return Ok(Err(Reject::Malformed { what: "member", reason: error.to_string() })),
    };
    let status = snapshot.disabled.get(&member.member_id).copied().unwrap_or(DeliveryStatus::Enabled);
    // Only a subscription's consent depends on bans.
    let banned =
        member.role == Role::Member.as_str() && snapshot.is_banned(client, &list.list_id, &member.email).await?;
    Ok(mapping::member_record(&member, &list.fqdn_listname, status, banned, updated_at))
}

/// Reads the bans of `list` from `skip` into `batch`; where to go on.
async fn read_bans(
    client: &MailmanClient,
    snapshot: &mut Snapshot,
    list: &ListResource,
    mut skip: usize,
    max_records: usize,
    batch: &mut ReadBatch,
) -> Result<MembersCursor, PluginError> {
    let updated_at = snapshot.created_at(client, &list.list_id).await?;
    let bans = snapshot.bans_of(client, &list.list_id).await?.to_vec();
    for ban in bans.iter().skip(skip) {
        if batch.records.len() + batch.rejects.len() >= max_records {
            break;
        }
        let location = format!("bans of {}, item {skip}", list.fqdn_listname);
        skip += 1;
        match mapping::ban_record(&list.fqdn_listname, ban, updated_at) {
            Ok(record) => batch.records.push(record),
            Err(reject) => batch.rejects.push(source_reject(location, &json!({ "email": ban }), &reject)),
        }
    }
    if skip < bans.len() {
        return Ok(MembersCursor::Bans { list: list.fqdn_listname.clone(), skip });
    }
    Ok(snapshot.list_after(Some(&list.fqdn_listname)).map_or(MembersCursor::Done, |next| roster_start(client, next)))
}

/// How many memberships the stream would give: rosters and bans of every
/// list in scope.
pub(crate) async fn count(client: &MailmanClient, domain: Option<&str>) -> Result<u64, PluginError> {
    let mut total = 0;
    for list in super::lists::all(client, domain).await? {
        total += client.collection_size(roster(&list.list_id)).await?;
        total += client.bans(Some(&list.list_id)).await?.len() as u64;
    }
    Ok(total)
}

/// Writes one membership.
pub(crate) async fn write(
    client: &MailmanClient,
    domain: Option<&str>,
    known: &mut super::lists::Known,
    record: &Record,
) -> Result<Result<WriteResult, Reject>, PluginError> {
    let plan = match mapping::membership_plan(record, domain) {
        Ok(plan) => plan,
        Err(reject) => return Ok(Err(reject)),
    };
    if !known.list_exists(client, &plan.list.list_id).await? {
        return Ok(Err(Reject::UnknownList(plan.list.fqdn_listname.clone())));
    }
    let target_id = plan.target_id();
    let result = match plan.action {
        MembershipAction::AddRole => add_role(client, &plan).await?,
        MembershipAction::Subscribe(status) => subscribe(client, &plan, status).await?,
        MembershipAction::Ban(status) => ban(client, &plan, status).await?,
    };
    Ok(result.map(|change| match change {
        Change::Created => WriteResult::Created { target_id },
        Change::Updated => WriteResult::Updated { target_id },
        Change::Unchanged => WriteResult::Unchanged { target_id },
    }))
}

/// What a write did.
enum Change {
    Created,
    Updated,
    Unchanged,
}

fn subscription_body(plan: &MembershipPlan) -> serde_json::Map<String, Value> {
    let mut body = serde_json::Map::new();
    body.insert("list_id".into(), plan.list.list_id.as_str().into());
    body.insert("subscriber".into(), plan.email.as_str().into());
    body.insert("role".into(), plan.role.as_str().into());
    if let Some(name) = &plan.display_name {
        body.insert("display_name".into(), name.as_str().into());
    }
    if let Some(mode) = &plan.delivery_mode {
        body.insert("delivery_mode".into(), mode.as_str().into());
    }
    body
}

/// `POST /members` as a change, or the reason it was refused.
fn subscribed(answer: Subscribed, email: &str) -> Result<Change, Reject> {
    match answer {
        Subscribed::Created(_) => Ok(Change::Created),
        // Another writer got there first: it exists, as asked.
        Subscribed::Conflict(_) => Ok(Change::Unchanged),
        Subscribed::Refused(reason) if reason.contains("banned") => Err(Reject::Banned(email.to_owned())),
        Subscribed::Refused(reason) => Err(Reject::Refused(reason)),
        Subscribed::Pending(token) => {
            Err(Reject::Refused(format!("Mailman started a workflow that waits for a person (token {token})")))
        }
    }
}

/// Owners, moderators and nonmembers are added directly, no consent involved.
async fn add_role(client: &MailmanClient, plan: &MembershipPlan) -> Result<Result<Change, Reject>, PluginError> {
    if client.member(&plan.list.list_id, plan.role.as_str(), &plan.email).await?.is_some() {
        return Ok(Ok(Change::Unchanged));
    }
    let answer = client.subscribe(&Value::Object(subscription_body(plan))).await?;
    Ok(subscribed(answer, &plan.email))
}

/// A subscription with delivery `status`: created pre-approved, or an
/// existing one brought in line without ever re-enabling delivery.
async fn subscribe(
    client: &MailmanClient,
    plan: &MembershipPlan,
    status: DeliveryStatus,
) -> Result<Result<Change, Reject>, PluginError> {
    let Some(existing) = client.member(&plan.list.list_id, Role::Member.as_str(), &plan.email).await? else {
        let mut body = subscription_body(plan);
        body.insert("delivery_status".into(), status.as_str().into());
        // Only confirmed opt-ins get here (see `mapping`), so no human step
        // is owed, and a migration sends no welcome.
        for flag in ["pre_verified", "pre_confirmed", "pre_approved"] {
            body.insert(flag.into(), true.into());
        }
        body.insert("send_welcome_message".into(), false.into());
        let answer = client.subscribe(&Value::Object(body)).await?;
        return Ok(subscribed(answer, &plan.email));
    };
    let preferences = client.effective_preferences(&existing.member_id).await?;
    let current = preferences
        .delivery_status
        .as_deref()
        .map_or(Ok(DeliveryStatus::Enabled), DeliveryStatus::parse)
        .unwrap_or(DeliveryStatus::Unknown);
    if status == DeliveryStatus::Enabled {
        if current != DeliveryStatus::Enabled {
            return Ok(Err(Reject::DestinationSuppressed {
                email: plan.email.clone(),
                status: current.as_str().to_owned(),
            }));
        }
        if client.is_banned(&plan.list.list_id, &plan.email.to_lowercase()).await? {
            return Ok(Err(Reject::Banned(plan.email.clone())));
        }
    }
    let mut changes = serde_json::Map::new();
    if current != status {
        changes.insert("delivery_status".into(), status.as_str().into());
    }
    if let Some(mode) = &plan.delivery_mode
        && existing.delivery_mode.as_ref().or(preferences.delivery_mode.as_ref()) != Some(mode)
    {
        changes.insert("delivery_mode".into(), mode.as_str().into());
    }
    if changes.is_empty() {
        return Ok(Ok(Change::Unchanged));
    }
    client.patch_member_preferences(&existing.member_id, &Value::Object(changes)).await?;
    Ok(Ok(Change::Updated))
}

/// An opt-out: a list ban, and an existing subscription's delivery
/// disabled with `status` (the membership is kept, not deleted).
async fn ban(
    client: &MailmanClient,
    plan: &MembershipPlan,
    status: DeliveryStatus,
) -> Result<Result<Change, Reject>, PluginError> {
    // Mailman matches bans against addresses in lower case, exactly.
    let email = plan.email.to_lowercase();
    let already_banned = client.is_banned(&plan.list.list_id, &email).await?;
    if !already_banned && let Err(reason) = client.ban(&plan.list.list_id, &email).await? {
        return Ok(Err(Reject::Refused(reason)));
    }
    let mut member_changed = false;
    if let Some(existing) = client.member(&plan.list.list_id, Role::Member.as_str(), &plan.email).await? {
        let preferences = client.effective_preferences(&existing.member_id).await?;
        if preferences.delivery_status.as_deref().is_none_or(|current| current == "enabled") {
            client
                .patch_member_preferences(&existing.member_id, &json!({ "delivery_status": status.as_str() }))
                .await?;
            member_changed = true;
        }
        return Ok(Ok(if already_banned && !member_changed { Change::Unchanged } else { Change::Updated }));
    }
    Ok(Ok(if already_banned { Change::Unchanged } else { Change::Created }))
}
