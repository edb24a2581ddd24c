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

use super::{Output, State};
use crate::client::{self, ApiMember, BatchAnswer, MAX_BATCH};
use crate::mapping::{self, Existing, MemberWrite};
use cutover_http::{HttpClient, HttpError, HttpErrorKind, Paginator, Request};
use cutover_sdk::schema::{Entity, Record};
use cutover_sdk::{PluginError, RejectReason, WriteOutcome, WriteResult};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Phase 0 is the plain listing (archived members skipped, in case the
/// listing has them), phase 1 the archived members.
pub(super) fn paginator(list_id: &str, phase: u8, page_size: u32) -> Result<Paginator, HttpError> {
    Ok(Paginator::offset(listing(list_id, phase)?, "/members", page_size))
}

fn listing(list_id: &str, phase: u8) -> Result<Request, HttpError> {
    let request = Request::get(cutover_http::path(["lists", list_id, "members"])?)
        .query("sort_field", "last_changed")
        .query("sort_dir", "ASC");
    Ok(if phase == 1 { request.query("status", "archived") } else { request })
}

/// The members of one page that belong to `phase`, each with its raw item.
fn members_of_phase(phase: u8, items: Vec<Value>) -> Vec<(Value, Option<ApiMember>)> {
    items
        .into_iter()
        .map(|item| {
            let member = client::parse::<ApiMember>(&item).ok();
            (item, member)
        })
        .filter(|(_, member)| {
            let archived = member.as_ref().is_some_and(|member| member.status == "archived");
            (phase == 1) == archived || member.is_none()
        })
        .collect()
}

fn malformed(list_id: &str, raw: &Value) -> Output {
    Err(super::malformed(&format!("lists/{list_id}/members"), raw))
}

pub(super) async fn membership_outputs(
    state: &mut State,
    list_id: &str,
    phase: u8,
    items: Vec<Value>,
) -> Result<Vec<Output>, PluginError> {
    let types = state.merge_types(list_id).await?;
    Ok(members_of_phase(phase, items)
        .into_iter()
        .map(|(raw, member)| match member {
            Some(member) => mapping::membership(list_id, &member, &raw, &types).map_err(|reject| *reject),
            None => malformed(list_id, &raw),
        })
        .collect())
}

/// Contacts: one per person. A member of an audience read earlier is left
/// out here, so each subscriber hash is read once: the hashes of every
/// earlier audience are listed once (1,000 ids a request) and kept as a set,
/// 16 bytes a member, for as long as the stream reads.
pub(super) async fn contact_outputs(
    state: &mut State,
    scopes: &[String],
    scope_index: usize,
    phase: u8,
    items: Vec<Value>,
) -> Result<Vec<Output>, PluginError> {
    let list_id = scopes.get(scope_index).map(String::as_str).unwrap_or_default();
    let types = state.merge_types(list_id).await?;
    let members = members_of_phase(phase, items);
    let earlier = &scopes[..scope_index.min(scopes.len())];
    let seen = state.earlier_members.hashes_of(&state.client, earlier).await?;
    Ok(members
        .into_iter()
        .filter(|(_, member)| {
            member.as_ref().and_then(|member| subscriber_hash(&member.id)).is_none_or(|hash| !seen.contains(&hash))
        })
        .map(|(raw, member)| match member {
            Some(member) => mapping::contact(list_id, &member, &raw, &types).map_err(|reject| *reject),
            None => malformed(list_id, &raw),
        })
        .collect())
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
            for phase in 0..2 {
                let request = listing(audience, phase)?.query("fields", "members.id,total_items");
                let mut pages = Paginator::offset(request, "/members", client::MAX_PAGE);
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

fn outcome(record: &Record, result: WriteResult) -> WriteOutcome {
    WriteOutcome { source_id: record.source_id.clone(), result }
}

fn reject(code: &str, message: impl Into<String>) -> WriteResult {
    WriteResult::Rejected { reason: RejectReason::new(code, message) }
}

impl State {
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
        let mut results: Vec<Option<WriteResult>> = vec![None; records.len()];
        let mut planned: Vec<Planned> = Vec::new();
        for (index, record) in records.iter().enumerate() {
            let list_reference = match &record.entity {
                Entity::Membership(membership) => membership.list.as_ref().map(|list| list.source_id.to_string()),
                _ => None,
            };
            let Some(list_id) = self.list_filter.clone().or(list_reference) else {
                results[index] = Some(reject(
                    "missing_list",
                    "the membership names no audience and the plugin config sets no `list_id`",
                ));
                continue;
            };
            let Some(target) = self.target(&list_id).await? else {
                results[index] = Some(reject("unknown_list", format!("mailchimp has no audience `{list_id}`")));
                continue;
            };
            match mapping::member_write(record, &target.types) {
                Err(reason) => results[index] = Some(WriteResult::Rejected { reason }),
                Ok(write) => {
                    let existing = target.members.get(&write.hash);
                    if existing.is_some_and(|existing| !mapping::changes(&write, existing)) {
                        let target_id = format!("{list_id}:{}", write.hash);
                        results[index] = Some(WriteResult::Unchanged { target_id: target_id.into() });
                    } else {
                        planned.push(Planned { index, list_id, write });
                    }
                }
            }
        }
        for chunk in chunks(planned) {
            self.send_chunk(&chunk, &mut results).await?;
        }
        Ok(records
            .iter()
            .zip(results)
            .map(|(record, result)| {
                outcome(
                    record,
                    result.unwrap_or_else(|| reject("unconfirmed", "mailchimp did not report on this member")),
                )
            })
            .collect())
    }

    /// One batch subscribe call; fills in the outcome of every member sent.
    async fn send_chunk(&mut self, chunk: &[Planned], results: &mut [Option<WriteResult>]) -> Result<(), PluginError> {
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
                    let target_id = format!("{list_id}:{hash}").into();
                    results[planned.index] = Some(if created {
                        WriteResult::Created { target_id }
                    } else {
                        WriteResult::Updated { target_id }
                    });
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
                results[planned.index] = Some(reject(
                    "rejected_by_platform",
                    format!("mailchimp refused the member: {code}: {}{field}", error.error),
                ));
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
