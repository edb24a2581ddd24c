//! The `members` stream: a child stream of the lists in scope, which the
//! SDK walks in order of posting address. For each list, its roster (every
//! role, from `GET /members/find?list_id=…`, sorted by address and role),
//! then its bans as suppressed memberships. On write, memberships are
//! subscribed, banned or added per role as `mapping.rs` plans them,
//! checking what Mailman holds first so that a second write changes
//! nothing.
//!
//! A roster entry carries no delivery status, and reading preferences per
//! member would cost a request each: the ids of members whose effective
//! status is not `enabled` are fetched once, with the lists (four
//! searches), and so are the bans ([`Snapshot`]). Pattern bans are judged
//! by Mailman, per member, only on lists where one applies.

use crate::Mailman;
use crate::client::{MailmanClient, MemberResource, Subscribed};
use crate::mapping::{self, DeliveryStatus, MembershipAction, MembershipPlan, Reject, Role};
use chrono::{DateTime, Utc};
use cutover_http::{PageCursor, Request};
use cutover_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};

/// A list whose memberships are read: its posting address (lists are read
/// in its order) and its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ListKey {
    fqdn_listname: String,
    list_id: String,
}

/// Where a read of one list's memberships stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum InList {
    /// In its roster.
    Roster(PageCursor),
    /// In its bans, `skip` already returned.
    Bans { skip: usize },
}

/// What `members` learnt once, with the lists, and uses for every batch
/// until it is read from its start again.
#[derive(Debug)]
pub(crate) struct Snapshot {
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
    /// Disabled members and global bans.
    async fn take(client: &MailmanClient) -> Result<Snapshot, PluginError> {
        let mut disabled = HashMap::new();
        for status in DeliveryStatus::DISABLED {
            for member_id in client.members_with_status(status.as_str()).await? {
                disabled.insert(member_id, status);
            }
        }
        let global = client.bans(None).await?;
        Ok(Snapshot {
            disabled,
            global_patterns: global.iter().any(|ban| ban.starts_with('^')),
            global_bans: global.iter().map(|ban| ban.to_lowercase()).collect(),
            list_bans: HashMap::new(),
            created_at: HashMap::new(),
        })
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

/// The `members` stream.
pub(crate) struct Members;

impl ChildStream<Mailman> for Members {
    const NAME: &'static str = "members";
    const ENTITY: EntityKind = EntityKind::Membership;
    const DIRECTION: Direction = Direction::Both;
    type Parent = ListKey;
    type Cursor = InList;

    /// The lists in scope, and a new [`Snapshot`] with them: the SDK asks
    /// when the stream is read from its start (or first resumed by an
    /// instance), which is when the platform is seen anew.
    async fn parents(plugin: &mut Mailman) -> Result<Vec<ListKey>, PluginError> {
        plugin.pages.clear();
        let lists = super::lists::all(&plugin.client, plugin.domain.as_deref()).await?;
        plugin.snapshot = Some(Snapshot::take(&plugin.client).await?);
        Ok(lists.into_iter().map(|list| ListKey { fqdn_listname: list.fqdn_listname, list_id: list.list_id }).collect())
    }

    /// The list's roster, then its bans.
    async fn read(
        plugin: &mut Mailman,
        list: &ListKey,
        cursor: Option<InList>,
        max_records: usize,
    ) -> Result<Batch<InList>, PluginError> {
        let Mailman { client, pages, snapshot, .. } = plugin;
        let client = &*client;
        let snapshot = match snapshot {
            Some(snapshot) => snapshot,
            None => snapshot.insert(Snapshot::take(client).await?),
        };
        let page = match cursor {
            Some(InList::Bans { skip }) => {
                return read_bans(client, snapshot, list, skip, max_records, Batch::default()).await;
            }
            Some(InList::Roster(page)) => page,
            None => PageCursor::default(),
        };
        let label = format!("roster of {}", list.fqdn_listname);
        let taken =
            pages.take(client.http(), client.pages(roster(&list.list_id)), &label, Some(page), max_records).await?;
        let updated_at = snapshot.created_at(client, &list.list_id).await?;
        let members =
            taken.map_async(async |item| member_record(client, snapshot, list, item, updated_at).await).await?;
        if !members.done {
            return Ok(members.map_cursor(InList::Roster));
        }
        let batch = members.map_cursor(|_| InList::Bans { skip: 0 });
        if batch.is_full(max_records) {
            // The bans are read by the next batch.
            return Ok(Batch { done: false, ..batch });
        }
        read_bans(client, snapshot, list, 0, max_records, batch).await
    }

    /// Lists come sorted by posting address: a read whose list is gone
    /// goes on with the first list after it.
    fn resume_at(parents: &[ListKey], gone: &ListKey, _index: usize) -> usize {
        parents.iter().position(|list| list.fqdn_listname > gone.fqdn_listname).unwrap_or(parents.len())
    }

    async fn write(plugin: &mut Mailman, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let Mailman { client, domain, known, .. } = plugin;
        write_each(records, async |record| write_membership(client, domain.as_deref(), known, record).await).await
    }

    /// Rosters and bans of every list in scope.
    async fn count(plugin: &mut Mailman) -> Result<Option<u64>, PluginError> {
        let client = &plugin.client;
        let mut total = 0;
        for list in super::lists::all(client, plugin.domain.as_deref()).await? {
            total += client.collection_size(roster(&list.list_id)).await?;
            total += client.bans(Some(&list.list_id)).await?.len() as u64;
        }
        Ok(Some(total))
    }
}

/// One roster entry as a record, or why it is not one.
async fn member_record(
    client: &MailmanClient,
    snapshot: &mut Snapshot,
    list: &ListKey,
    item: &Value,
    updated_at: DateTime<Utc>,
) -> Result<Result<Record, RejectReason>, PluginError> {
    let member = match mapping::parse::<MemberResource>(item, "member") {
        Ok(member) => member,
        Err(reject) => return Ok(Err(reject.into())),
    };
    let status = snapshot.disabled.get(&member.member_id).copied().unwrap_or(DeliveryStatus::Enabled);
    // Only a subscription's consent depends on bans.
    let banned =
        member.role == Role::Member.as_str() && snapshot.is_banned(client, &list.list_id, &member.email).await?;
    Ok(mapping::member_record(&member, &list.fqdn_listname, status, banned, updated_at).map_err(RejectReason::from))
}

/// Adds the bans of `list` from `skip` to `batch`, up to `max_records`
/// items, and says where to go on.
async fn read_bans(
    client: &MailmanClient,
    snapshot: &mut Snapshot,
    list: &ListKey,
    mut skip: usize,
    max_records: usize,
    mut batch: Batch<InList>,
) -> Result<Batch<InList>, PluginError> {
    let updated_at = snapshot.created_at(client, &list.list_id).await?;
    let bans = snapshot.bans_of(client, &list.list_id).await?;
    for ban in bans.iter().skip(skip) {
        if batch.is_full(max_records) {
            break;
        }
        let location = format!("bans of {}, item {skip}", list.fqdn_listname);
        skip += 1;
        batch.push(mapping::ban_record(&list.fqdn_listname, ban, updated_at).map_err(|reject| SourceReject {
            location,
            raw: json!({ "email": ban }).to_string(),
            reason: reject.into(),
        }));
    }
    batch.done = skip >= bans.len();
    batch.next = Some(InList::Bans { skip });
    Ok(batch)
}

/// Writes one membership.
async fn write_membership(
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
        Change::Created => WriteResult::created(target_id),
        Change::Updated => WriteResult::updated(target_id),
        Change::Unchanged => WriteResult::unchanged(target_id),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(fqdn_listname: &str) -> ListKey {
        ListKey { fqdn_listname: fqdn_listname.into(), list_id: fqdn_listname.replace('@', ".") }
    }

    #[test]
    fn a_read_whose_list_is_gone_goes_on_with_the_next_list_by_address() {
        let check = |gone: &str, expected: usize| {
            let lists = [key("ant@a.org"), key("cat@a.org"), key("eel@a.org")];
            assert_eq!(<Members as ChildStream<Mailman>>::resume_at(&lists, &key(gone), 0), expected, "{gone}");
        };
        check("aardvark@a.org", 0);
        check("bee@a.org", 1);
        check("cat@a.net", 1);
        check("dog@a.org", 2);
        check("fox@a.org", 3);
    }
}
