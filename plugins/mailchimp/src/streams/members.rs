//! `members` and `contacts`: an audience's members, read from
//! `GET /lists/{id}/members` (sorted by `last_changed`, then the archived
//! ones with `status=archived`), and members written with the batch
//! subscribe call `POST /lists/{id}` (500 at a time, `update_existing`).
//!
//! A write compares before it writes: the target audience's members are
//! loaded once per instance (with their status, merge fields, tags,
//! permissions and consent timestamps), a member the write would not change
//! is `unchanged` and not sent, and the snapshot is kept current from the
//! batch answers. The consent rule is [`mapping::forced_status`]: an
//! existing member's status only ever moves towards unsubscribed or cleaned.
//! Tags are added, never removed (`sync_tags` is not sent).
//!
//! Reads page by offset, as the vendor notes advise sorted by
//! `last_changed`: exact on an audience that does not change during the
//! read. A member changed meanwhile moves to the end of the order (read
//! again later, a harmless upsert) and shifts the members after it, so one
//! may be passed over; freeze the source audience, or run the stream again
//! (writes are idempotent), for a final pass.

use super::{Phase, Phased, read_phases};
use crate::Mailchimp;
use crate::client::{self, ApiMember, BatchAnswer, MAX_BATCH, MAX_PAGE};
use crate::mapping::{self, Existing, MemberWrite};
use cutover_http::{HttpClient, HttpError, HttpErrorKind, PageCursor, PagedReader, Paginator, Request};
use cutover_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Memberships, audience by audience.
pub(crate) struct Members;

/// Contacts: one per person. A member of an audience read earlier is left
/// out, so each subscriber hash is read once: the hashes of every earlier
/// audience are listed once (1,000 ids a request) and kept as a set, 16
/// bytes a member, for as long as the stream reads.
pub(crate) struct Contacts;

/// An audience's member listings, in the order they are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Listing {
    /// The plain listing, archived members left out in case it has them.
    #[default]
    Members,
    /// The archived members (`status=archived`).
    Archived,
}

impl Phase for Listing {
    fn next(self) -> Option<Listing> {
        match self {
            Listing::Members => Some(Listing::Archived),
            Listing::Archived => None,
        }
    }
}

impl ChildStream<Mailchimp> for Members {
    const NAME: &'static str = "members";
    const ENTITY: EntityKind = EntityKind::Membership;
    const DIRECTION: Direction = Direction::Both;
    /// An audience id.
    type Parent = String;
    type Cursor = Phased<Listing>;

    async fn parents(plugin: &mut Mailchimp) -> Result<Vec<String>, PluginError> {
        plugin.audience_ids().await
    }

    async fn read(
        plugin: &mut Mailchimp,
        list_id: &String,
        cursor: Option<Phased<Listing>>,
        max: usize,
    ) -> Result<Batch<Phased<Listing>>, PluginError> {
        let types = plugin.merge_types(list_id).await?;
        read_phases(cursor, max, async |listing, at, room| {
            read_members(&mut plugin.reader, &plugin.client, list_id, listing, at, room, |raw, member| {
                Some(mapping::membership(list_id, member, raw, &types).map_err(|reject| reject.reason))
            })
            .await
        })
        .await
    }

    async fn write(plugin: &mut Mailchimp, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        plugin.write_members(records).await
    }

    async fn count(plugin: &mut Mailchimp) -> Result<Option<u64>, PluginError> {
        let lists = plugin.source_lists().await?;
        let total = |list: &client::ApiList| list.stats.as_ref()?.get("total_contacts")?.as_u64();
        Ok(lists.iter().map(total).sum())
    }
}

impl ChildStream<Mailchimp> for Contacts {
    const NAME: &'static str = "contacts";
    const ENTITY: EntityKind = EntityKind::Contact;
    const DIRECTION: Direction = Direction::Source;
    /// An audience id.
    type Parent = String;
    type Cursor = Phased<Listing>;

    async fn parents(plugin: &mut Mailchimp) -> Result<Vec<String>, PluginError> {
        plugin.audience_ids().await
    }

    async fn read(
        plugin: &mut Mailchimp,
        list_id: &String,
        cursor: Option<Phased<Listing>>,
        max: usize,
    ) -> Result<Batch<Phased<Listing>>, PluginError> {
        let types = plugin.merge_types(list_id).await?;
        let audiences = plugin.audience_ids().await?;
        let earlier = &audiences[..audiences.iter().position(|id| id == list_id).unwrap_or_default()];
        let seen = plugin.earlier_members.hashes_of(&plugin.client, earlier).await?;
        read_phases(cursor, max, async |listing, at, room| {
            read_members(&mut plugin.reader, &plugin.client, list_id, listing, at, room, |raw, member| {
                let earlier = subscriber_hash(&member.id).is_some_and(|hash| seen.contains(&hash));
                (!earlier).then(|| mapping::contact(list_id, member, raw, &types).map_err(|reject| reject.reason))
            })
            .await
        })
        .await
    }
}

/// Reads one listing of an audience: each member of that listing as `map`
/// makes it (`None`: left out), an item that is no member as a reject.
async fn read_members(
    reader: &mut PagedReader,
    http: &HttpClient,
    list_id: &str,
    which: Listing,
    at: PageCursor,
    max: usize,
    mut map: impl FnMut(&Value, &ApiMember) -> Option<Result<Record, RejectReason>>,
) -> Result<Batch<PageCursor>, PluginError> {
    let paginator = Paginator::offset(listing(list_id, which)?, "/members", MAX_PAGE);
    let label = format!("lists/{list_id}/members");
    super::read_paged(reader, http, paginator, &label, Some(at), max, |raw| match client::parse::<ApiMember>(raw) {
        Ok(member) if (member.status == "archived") != (which == Listing::Archived) => None,
        Ok(member) => map(raw, &member),
        Err(_) => Some(Err(super::malformed())),
    })
    .await
}

fn listing(list_id: &str, listing: Listing) -> Result<Request, HttpError> {
    let request = Request::get(cutover_http::path(["lists", list_id, "members"])?)
        .query("sort_field", "last_changed")
        .query("sort_dir", "ASC");
    Ok(match listing {
        Listing::Members => request,
        Listing::Archived => request.query("status", "archived"),
    })
}

impl Mailchimp {
    /// The ids of the audiences read, in the API's order.
    async fn audience_ids(&mut self) -> Result<Vec<String>, PluginError> {
        Ok(self.source_lists().await?.iter().map(|list| list.id.clone()).collect())
    }

    /// The merge field types of an audience, loaded once.
    pub(crate) async fn merge_types(&mut self, list_id: &str) -> Result<mapping::MergeTypes, PluginError> {
        if !self.merge_types.contains_key(list_id) {
            let request = Request::get(cutover_http::path(["lists", list_id, "merge-fields"])?);
            let items = client::fetch_all(&self.client, request, "/merge_fields").await?;
            let definitions: Vec<client::MergeFieldDefinition> =
                items.iter().filter_map(|item| client::parse(item).ok()).collect();
            self.merge_types.insert(list_id.to_owned(), mapping::merge_types(&definitions));
        }
        Ok(self.merge_types.get(list_id).cloned().unwrap_or_default())
    }
}

/// A member id (the MD5 subscriber hash, 32 hex digits) as a number; `None`
/// for an id of another shape, which then matches no other member.
fn subscriber_hash(id: &str) -> Option<u128> {
    (id.len() == 32).then(|| u128::from_str_radix(id, 16).ok()).flatten()
}

/// The subscriber hashes of the audiences a contacts read has passed.
#[derive(Debug, Default)]
pub(crate) struct EarlierMembers {
    /// The audiences whose members `hashes` holds, in read order.
    audiences: Vec<String>,
    hashes: HashSet<u128>,
}

impl EarlierMembers {
    /// The hashes of every member (archived ones too) of `audiences`,
    /// listing only the audiences not listed yet.
    async fn hashes_of(&mut self, client: &HttpClient, audiences: &[String]) -> Result<&HashSet<u128>, PluginError> {
        if !audiences.starts_with(&self.audiences) {
            *self = EarlierMembers::default();
        }
        for audience in &audiences[self.audiences.len()..] {
            for which in [Listing::Members, Listing::Archived] {
                let request = listing(audience, which)?.query("fields", "members.id,total_items");
                let mut pages = Paginator::offset(request, "/members", MAX_PAGE);
                while let Some(page) = pages.next_page(client).await? {
                    let ids = page.items.iter().filter_map(|item| item.get("id").and_then(Value::as_str));
                    self.hashes.extend(ids.filter_map(subscriber_hash));
                }
            }
            self.audiences.push(audience.clone());
        }
        Ok(&self.hashes)
    }
}

/// An audience being written to: its merge fields, its members as they
/// are, and its marketing permission ids by text.
#[derive(Debug, Default)]
pub(crate) struct Target {
    types: mapping::MergeTypes,
    members: HashMap<String, Existing>,
    permission_ids: BTreeMap<String, String>,
}

impl Target {
    fn learn(&mut self, member: &ApiMember) {
        for permission in &member.marketing_permissions {
            self.permission_ids.insert(permission.text.clone(), permission.marketing_permission_id.clone());
        }
        self.members.insert(member.id.clone(), Existing::of(member));
    }
}

/// One record's place in a write: where it goes and what to send.
struct Planned {
    index: usize,
    list_id: String,
    write: MemberWrite,
}

/// What became of each record of a write, by its place in the batch.
type Results = [Option<Result<WriteResult, RejectReason>>];

impl Mailchimp {
    /// Loads an audience to write to, once; `None` if it does not exist.
    async fn target(&mut self, list_id: &str) -> Result<Option<&mut Target>, PluginError> {
        if !self.targets.contains_key(list_id) {
            let exists = Request::get(cutover_http::path(["lists", list_id])?).query("fields", "id");
            match self.client.send(exists).await {
                Ok(_) => {}
                Err(error) if error.kind() == HttpErrorKind::NotFound => return Ok(None),
                Err(error) => return Err(error.into()),
            }
            let types = self.merge_types(list_id).await?;
            let mut target = Target { types, ..Target::default() };
            for status in [None, Some("archived")] {
                let mut request = Request::get(cutover_http::path(["lists", list_id, "members"])?);
                if let Some(status) = status {
                    request = request.query("status", status);
                }
                for item in client::fetch_all(&self.client, request, "/members").await? {
                    if let Ok(member) = client::parse::<ApiMember>(&item) {
                        target.learn(&member);
                    }
                }
            }
            crate::events::audience_loaded(list_id, target.members.len());
            self.targets.insert(list_id.to_owned(), target);
        }
        Ok(self.targets.get_mut(list_id))
    }

    /// Writes members with the batch subscribe call; see the module docs.
    pub(crate) async fn write_members(&mut self, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let mut results = vec![None; records.len()];
        let mut planned: Vec<Planned> = Vec::new();
        for (index, record) in records.iter().enumerate() {
            let list_reference = match &record.entity {
                Entity::Membership(membership) => membership.list.as_ref().map(|list| list.source_id.to_string()),
                _ => None,
            };
            let Some(list_id) = self.list_filter.clone().or(list_reference) else {
                let message = "the membership names no audience and the plugin config sets no `list_id`";
                results[index] = Some(Err(RejectReason::new("missing_list", message)));
                continue;
            };
            let Some(target) = self.target(&list_id).await? else {
                let message = format!("mailchimp has no audience `{list_id}`");
                results[index] = Some(Err(RejectReason::new("unknown_list", message)));
                continue;
            };
            match mapping::member_write(record, &target.types) {
                Err(reason) => results[index] = Some(Err(reason)),
                Ok(write) => {
                    let existing = target.members.get(&write.hash);
                    if existing.is_some_and(|existing| !mapping::changes(&write, existing)) {
                        results[index] = Some(Ok(WriteResult::unchanged(format!("{list_id}:{}", write.hash))));
                    } else {
                        planned.push(Planned { index, list_id, write });
                    }
                }
            }
        }
        for chunk in chunks(planned) {
            self.send_chunk(&chunk, &mut results).await?;
        }
        let unconfirmed = || Err(RejectReason::new("unconfirmed", "mailchimp did not report on this member"));
        Ok(records
            .into_iter()
            .zip(results)
            .map(|(record, result)| WriteOutcome::of(record.source_id, result.unwrap_or_else(unconfirmed)))
            .collect())
    }

    /// One batch subscribe call; fills in the outcome of every member sent.
    async fn send_chunk(&mut self, chunk: &[Planned], results: &mut Results) -> Result<(), PluginError> {
        let Some(first) = chunk.first() else {
            return Ok(());
        };
        let list_id = first.list_id.clone();
        let Some(target) = self.targets.get(&list_id) else {
            return Ok(());
        };
        let items: Vec<Value> = chunk
            .iter()
            .map(|planned| {
                mapping::batch_item(&planned.write, target.members.get(&planned.write.hash), &target.permission_ids)
            })
            .collect();
        let body = json!({"members": items, "update_existing": true});
        // With `update_existing` the call is an upsert: safe to send again.
        let request = Request::post(cutover_http::path(["lists", list_id.as_str()])?)
            .query("skip_merge_validation", "true")
            .json(&body)
            .retry_safe();
        let answer: BatchAnswer = self.client.send(request).await?.json()?;
        crate::events::members_written(
            &list_id,
            chunk.len(),
            answer.new_members.len(),
            answer.updated_members.len(),
            answer.errors.len(),
        );
        let by_hash: HashMap<&str, &Planned> =
            chunk.iter().map(|planned| (planned.write.hash.as_str(), planned)).collect();
        let target = self.targets.entry(list_id.clone()).or_default();
        for (members, created) in [(&answer.new_members, true), (&answer.updated_members, false)] {
            for member_json in members {
                let Ok(member) = client::parse::<ApiMember>(member_json) else { continue };
                let hash = if member.id.is_empty() {
                    client::subscriber_hash(&member.email_address)
                } else {
                    member.id.clone()
                };
                target.learn(&ApiMember { id: hash.clone(), ..member });
                if let Some(planned) = by_hash.get(hash.as_str()) {
                    let target_id = format!("{list_id}:{hash}");
                    results[planned.index] = Some(Ok(if created {
                        WriteResult::created(target_id)
                    } else {
                        WriteResult::updated(target_id)
                    }));
                }
            }
        }
        for error in &answer.errors {
            let hash = client::subscriber_hash(&error.email_address);
            if let Some(planned) = by_hash.get(hash.as_str()) {
                let field = if error.field.is_empty() {
                    String::new()
                } else {
                    format!(" (field `{}`{})", error.field, suffix(&error.field_message))
                };
                let code = if error.error_code.is_empty() { "ERROR_GENERIC" } else { error.error_code.as_str() };
                let message = format!("mailchimp refused the member: {code}: {}{field}", error.error);
                results[planned.index] = Some(Err(RejectReason::new("rejected_by_platform", message)));
            }
        }
        Ok(())
    }
}

fn suffix(message: &str) -> String {
    if message.is_empty() { String::new() } else { format!(": {message}") }
}

/// Groups planned writes into batch calls, sent in order: one audience per
/// call, at most [`MAX_BATCH`] members, and an address at most once per call
/// (a second write of the same member goes in a later call, which sees the
/// first).
fn chunks(planned: Vec<Planned>) -> Vec<Vec<Planned>> {
    let mut chunks: Vec<(Vec<Planned>, HashSet<String>)> = Vec::new();
    for item in planned {
        let same_list = |chunk: &Vec<Planned>| chunk.first().is_some_and(|first| first.list_id == item.list_id);
        let after = chunks
            .iter()
            .rposition(|(chunk, hashes)| same_list(chunk) && hashes.contains(&item.write.hash))
            .map_or(0, |last| last + 1);
        let slot = chunks
            .iter()
            .enumerate()
            .skip(after)
            .find(|(_, (chunk, _))| same_list(chunk) && chunk.len() < MAX_BATCH)
            .map(|(slot, _)| slot);
        let slot = slot.unwrap_or_else(|| {
            chunks.push((Vec::new(), HashSet::new()));
            chunks.len() - 1
        });
        let (chunk, hashes) = &mut chunks[slot];
        hashes.insert(item.write.hash.clone());
        chunk.push(item);
    }
    chunks.into_iter().map(|(chunk, _)| chunk).collect()
}
