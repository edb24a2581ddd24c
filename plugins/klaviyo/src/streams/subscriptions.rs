//! The `subscriptions` stream: each list's members
//! (`GET /api/lists/{id}/profiles` with their subscriptions) as memberships
//! with email and SMS consent, list after list: a child stream of the
//! account's lists, which the SDK walks.
//!
//! Writing follows the consent rules of `shared/platforms/klaviyo.md` §8.
//! Consent is a profile's, not a list's, on Klaviyo, and changes only
//! through the bulk jobs:
//! - subscribed → the subscribe job (at most 1000 profiles, one list each),
//!   as a historical import with the original consent time, so no double
//!   opt-in mail goes out and no "added to list" flow starts;
//! - unsubscribed → the unsubscribe job (at most 100; a global unsubscribe);
//! - bounced, cleaned, suppressed → the suppression job (at most 100
//!   addresses; Klaviyo records them as `USER_SUPPRESSED`, read back as
//!   suppressed), polled until it completes;
//! - non-subscribed, pending or no consent → only the list membership
//!   (`POST /api/lists/{id}/relationships/profiles`, which never changes
//!   consent), and a pending or non-subscribed status is kept for the list
//!   in the profile property `cutover_list_status_<list id>` (a bulk import
//!   job), so that someone subscribed through another list reads back with
//!   this list's own status (see [`crate::mapping`]).
//!
//! SMS: Klaviyo holds SMS consent only on a profile with a phone number, so
//! SMS consent is written only to such a profile; for one without, the SMS
//! part of a record is not written (it has nowhere to go) and the rest of
//! the record is. On a profile with a phone number:
//! - a subscribed SMS consent joins the subscribe job (with its consent
//!   time);
//! - an SMS opt-out (unsubscribed, bounced, cleaned, suppressed) goes into
//!   the unsubscribe job with the `sms` channel, whatever the email consent
//!   says (an email subscriber may have texted STOP), unless Klaviyo already
//!   holds the profile SMS-unsubscribed. Without it a person who opted out
//!   on the source could stay SMS-subscribed on Klaviyo while both run. The
//!   job names the `email` channel too only when the email consent is itself
//!   an unsubscribe to write, since a channel it names is unsubscribed;
//! - non-subscribed, pending or no SMS consent is not written, so Klaviyo
//!   keeps the SMS consent it holds.
//!
//! An SMS opt-out is never written as a subscription, and an SMS
//! subscription is not written over a profile Klaviyo holds
//! SMS-unsubscribed (`suppressed_on_target`, as for email).
//!
//! A suppression is never written as a subscription, and a subscription is
//! not written over a profile Klaviyo holds suppressed or unsubscribed (the
//! subscribe job would lift that): such a record is rejected
//! (`suppressed_on_target`). The jobs answer without per-profile results, so
//! every profile a job touched is read back and a record whose consent did
//! not take is rejected (`not_applied`).

use super::lists::every_list;
use super::profiles::{BULK_CAP, run_import_job};
use crate::Klaviyo;
use crate::client::{Api, Endpoint, current_email_consent, is_record_error, profile_email, reject_reason, resource_id};
use crate::mapping::{
    EmailAction, consent_holds, email_action, list_status_property, list_status_value, membership_id,
    membership_record, render_instant,
};
use chrono::{DateTime, Utc};
use cutover_http::{HttpError, PageCursor, Paginator, Request};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{ConsentState, ConsentStatus};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Most members Klaviyo gives per page.
const PAGE_SIZE: usize = 100;
/// Profiles per subscribe job.
const SUBSCRIBE_CAP: usize = 1000;
/// Profiles per unsubscribe job.
const UNSUBSCRIBE_CAP: usize = 100;
/// Addresses per suppression job.
const SUPPRESS_CAP: usize = 100;
/// Profiles per list-membership call.
const ADD_CAP: usize = 1000;

/// The `subscriptions` stream: the members of each list, list after list.
pub(crate) struct Subscriptions;

impl ChildStream<Klaviyo> for Subscriptions {
    const NAME: &'static str = "subscriptions";
    const ENTITY: EntityKind = EntityKind::Membership;
    const DIRECTION: Direction = Direction::Both;
    /// A list id.
    type Parent = String;
    type Cursor = PageCursor;

    /// The ids of every list, in the order Klaviyo lists them.
    async fn parents(plugin: &mut Klaviyo) -> Result<Vec<String>, PluginError> {
        let lists = every_list(&plugin.api).await?;
        Ok(lists.iter().filter_map(|list| resource_id(list).map(str::to_owned)).collect())
    }

    async fn read(
        plugin: &mut Klaviyo,
        list_id: &String,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let request = Request::get(cutover_http::path(["api", "lists", list_id, "profiles"])?)
            .query("additional-fields[profile]", "subscriptions");
        let paginator = Paginator::json_api(request, max_records.clamp(1, PAGE_SIZE) as u32);
        let client = plugin.api.client(Endpoint::ListMembers)?;
        let label = format!("members of list {list_id}");
        let map = |profile: &Value| membership_record(list_id, profile);
        Ok(plugin.pages.read(client, paginator, &label, cursor, max_records, map).await?)
    }

    /// Writes memberships as the module docs say; the instance keeps which
    /// list ids exist.
    async fn write(plugin: &mut Klaviyo, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let Klaviyo { api, list_exists: lists, .. } = plugin;
        let mut results: Vec<Option<WriteResult>> = vec![None; records.len()];
        let mut plans = Vec::new();
        for (index, record) in records.iter().enumerate() {
            match plan(index, record) {
                Ok(plan) => plans.push(plan),
                Err(reason) => results[index] = Some(WriteResult::Rejected { reason }),
            }
        }
        check_lists(api, lists, &mut plans, &mut results).await?;
        find_profiles(api, &mut plans, &mut results).await?;
        check_membership(api, &mut plans).await?;

        let mut changed = Vec::new();
        for plan in plans {
            let current = current_email_consent(&plan.profile, &plan.list_id);
            if plan.action == EmailAction::Subscribe
                && current.as_ref().is_some_and(|state| state.status.is_suppression())
            {
                let status = current.as_ref().map_or(ConsentStatus::Unsubscribed, |state| state.status);
                results[plan.index] = Some(WriteResult::Rejected {
                    reason: RejectReason::new(
                        "suppressed_on_target",
                        format!(
                            "klaviyo holds this profile as {status:?} and subscribing would lift that: the record is left \
                             unwritten"
                        ),
                    ),
                });
                continue;
            }
            if plan.sms_subscribe.is_some() && sms_unsubscribed(&plan.profile) {
                results[plan.index] = Some(WriteResult::Rejected {
                    reason: RejectReason::new(
                        "suppressed_on_target",
                        "klaviyo holds this profile SMS-unsubscribed and subscribing would lift that: the record is left \
                         unwritten",
                    ),
                });
                continue;
            }
            let mut plan = plan;
            let phone = has_phone(&plan.profile);
            plan.email_changed = !consent_holds(current.as_ref(), plan.action);
            plan.sms_subscribe_needed = plan.sms_subscribe.is_some() && phone && !sms_subscribed(&plan.profile);
            plan.sms_unsubscribe_needed = plan.sms_opt_out && phone && !sms_unsubscribed(&plan.profile);
            plan.consent_changed = plan.email_changed || plan.sms_subscribe_needed || plan.sms_unsubscribe_needed;
            changed.push(plan);
        }

        subscribe(api, &mut changed, &mut results).await?;
        unsubscribe(api, &mut changed, &mut results).await?;
        suppress(api, &mut changed, &mut results).await?;
        add_members(api, &mut changed, &mut results).await?;
        keep_list_statuses(api, &mut changed, &mut results).await?;
        verify(api, &changed, &mut results).await?;

        for plan in &changed {
            if results[plan.index].is_some() {
                continue;
            }
            let target_id = membership_id(&plan.list_id, &plan.profile_id);
            results[plan.index] = Some(if !plan.was_member {
                WriteResult::Created { target_id }
            } else if plan.consent_changed {
                WriteResult::Updated { target_id }
            } else {
                WriteResult::Unchanged { target_id }
            });
        }
        Ok(records
            .into_iter()
            .zip(results)
            .map(|(record, result)| {
                let result =
                    result.ok_or_else(|| RejectReason::new("internal", "the record got no outcome: a plugin bug"));
                WriteOutcome::of(record.source_id, result)
            })
            .collect())
    }
}

/// What one membership record asks for.
#[derive(Debug, Clone)]
struct Plan {
    /// Position in the batch.
    index: usize,
    list_id: String,
    email: Option<String>,
    contact_id: Option<String>,
    action: EmailAction,
    email_consent: Option<ConsentState>,
    sms_subscribe: Option<ConsentState>,
    /// The source holds an SMS opt-out (a suppression status).
    sms_opt_out: bool,
    updated_at: DateTime<Utc>,
    /// Found or created on Klaviyo.
    profile_id: String,
    /// The profile as Klaviyo holds it (with subscriptions).
    profile: Value,
    was_member: bool,
    /// Klaviyo's email consent differs from what [`Plan::action`] asks.
    email_changed: bool,
    /// The SMS subscription is to be written: wanted, the profile has a
    /// phone number and Klaviyo does not hold it yet.
    sms_subscribe_needed: bool,
    /// The SMS opt-out is to be written: the profile has a phone number and
    /// Klaviyo does not hold it SMS-unsubscribed yet.
    sms_unsubscribe_needed: bool,
    /// Any consent (or kept list status) is to change.
    consent_changed: bool,
}

fn plan(index: usize, record: &Record) -> Result<Plan, RejectReason> {
    let Entity::Membership(membership) = &record.entity else {
        return Err(RejectReason::new(
            "wrong_entity",
            format!("a {} cannot be written to a membership stream", record.entity.kind().as_str()),
        ));
    };
    let list_id = membership
        .list
        .as_ref()
        .map(|list| list.source_id.to_string())
        .ok_or_else(|| RejectReason::new("no_list", "a klaviyo membership needs the list it belongs to"))?;
    let email = membership.email.as_deref().map(str::trim).filter(|email| !email.is_empty()).map(str::to_owned);
    let contact_id = membership.contact.as_ref().map(|contact| contact.source_id.to_string());
    if email.is_none() && contact_id.is_none() {
        return Err(RejectReason::new("no_profile", "the membership names no contact and no email address"));
    }
    let sms_subscribe = membership.consent.sms.clone().filter(|state| state.status == ConsentStatus::Subscribed);
    let sms_opt_out = membership.consent.sms.as_ref().is_some_and(|state| state.status.is_suppression());
    Ok(Plan {
        index,
        list_id,
        email,
        contact_id,
        action: email_action(membership.consent.email.as_ref()),
        email_consent: membership.consent.email.clone(),
        sms_subscribe,
        sms_opt_out,
        updated_at: record.updated_at,
        profile_id: String::new(),
        profile: Value::Null,
        was_member: false,
        email_changed: false,
        sms_subscribe_needed: false,
        sms_unsubscribe_needed: false,
        consent_changed: false,
    })
}

/// Rejects the plans whose list Klaviyo does not have.
async fn check_lists(
    api: &Api,
    known: &mut HashMap<String, bool>,
    plans: &mut Vec<Plan>,
    results: &mut [Option<WriteResult>],
) -> Result<(), PluginError> {
    let wanted: HashSet<String> = plans.iter().map(|plan| plan.list_id.clone()).collect();
    for list_id in wanted {
        if known.contains_key(&list_id) {
            continue;
        }
        let exists = match api
            .get(Endpoint::ReadLists, Request::get(cutover_http::path(["api", "lists", list_id.as_str()])?))
            .await
        {
            Ok(_) => true,
            Err(error) if error.status() == Some(404) || error.status() == Some(400) => false,
            Err(error) => return Err(error.into()),
        };
        known.insert(list_id, exists);
    }
    plans.retain(|plan| {
        let exists = known.get(&plan.list_id).copied().unwrap_or(false);
        if !exists {
            results[plan.index] = Some(WriteResult::Rejected {
                reason: RejectReason::new("unknown_list", format!("klaviyo has no list `{}`", plan.list_id)),
            });
        }
        exists
    });
    Ok(())
}

/// Finds each plan's profile (by contact id, else by email), creating the
/// profiles of unknown addresses: a profile import never sets consent.
async fn find_profiles(
    api: &Api,
    plans: &mut Vec<Plan>,
    results: &mut [Option<WriteResult>],
) -> Result<(), PluginError> {
    let ids: Vec<String> = plans.iter().filter_map(|plan| plan.contact_id.clone()).collect();
    let emails: Vec<String> = plans.iter().filter_map(|plan| plan.email.clone()).collect();
    let by_id = api.profiles_by_id(&ids, true).await?;
    let mut by_email = api.profiles_by_email(&emails, true).await?;
    let mut kept = Vec::with_capacity(plans.len());
    for mut plan in plans.drain(..) {
        let found = plan
            .contact_id
            .as_ref()
            .and_then(|id| by_id.get(id))
            .or_else(|| plan.email.as_ref().and_then(|email| by_email.get(&email.to_lowercase())))
            .cloned();
        let profile = match (found, &plan.email) {
            (Some(profile), _) => profile,
            (None, Some(email)) => {
                let mut attributes = Map::new();
                attributes.insert("email".into(), Value::from(email.as_str()));
                match api.import_profile(None, &attributes).await {
                    // A new profile has never subscribed: the answer, which
                    // carries no subscriptions, reads as no consent.
                    Ok((profile, _)) => {
                        by_email.insert(email.to_lowercase(), profile.clone());
                        profile
                    }
                    Err(error) if is_record_error(&error) => {
                        results[plan.index] = Some(WriteResult::Rejected { reason: reject_reason(&error) });
                        continue;
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            (None, None) => {
                results[plan.index] = Some(WriteResult::Rejected {
                    reason: RejectReason::new(
                        "unknown_contact",
                        format!(
                            "klaviyo has no profile `{}` and the membership gives no email address to create one",
                            plan.contact_id.as_deref().unwrap_or_default()
                        ),
                    ),
                });
                continue;
            }
        };
        let Some(profile_id) = resource_id(&profile) else {
            return Err(PluginError::new(ErrorCode::Network, "klaviyo answered with a profile that has no id"));
        };
        plan.profile_id = profile_id.to_owned();
        if plan.email.is_none() {
            plan.email = profile_email(&profile);
        }
        let needs_email = matches!(plan.action, EmailAction::Unsubscribe | EmailAction::Suppress);
        if needs_email && plan.email.is_none() {
            results[plan.index] = Some(WriteResult::Rejected {
                reason: RejectReason::new(
                    "no_email",
                    "klaviyo unsubscribes and suppresses by email address, and this profile has none",
                ),
            });
            continue;
        }
        plan.profile = profile;
        kept.push(plan);
    }
    *plans = kept;
    Ok(())
}

/// Whether each plan's profile is already on its list: by email, 100 at a
/// time per list; a profile with no email through its own lists.
async fn check_membership(api: &Api, plans: &mut [Plan]) -> Result<(), PluginError> {
    let mut by_list: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (position, plan) in plans.iter().enumerate() {
        by_list.entry(plan.list_id.clone()).or_default().push(position);
    }
    for (list_id, positions) in by_list {
        let mut members: HashSet<String> = HashSet::new();
        // The address as Klaviyo stores it, which the filter compares exactly.
        let stored_email =
            |plan: &Plan| plan.profile.pointer("/attributes/email").and_then(Value::as_str).map(str::to_owned);
        let emails: Vec<String> = positions
            .iter()
            .filter_map(|position| stored_email(&plans[*position]))
            .filter(|email| !email.contains(['"', '\'', '\\']))
            .collect();
        for chunk in emails.chunks(PAGE_SIZE / 2) {
            let mut values = Vec::with_capacity(chunk.len() * 2);
            for email in chunk {
                values.push(format!("\"{email}\""));
                let lower = email.to_lowercase();
                if lower != *email {
                    values.push(format!("\"{lower}\""));
                }
            }
            let request = Request::get(cutover_http::path(["api", "lists", list_id.as_str(), "profiles"])?)
                .query("filter", format!("any(email,[{}])", values.join(",")))
                .query("page[size]", PAGE_SIZE);
            let body = api.get(Endpoint::ListMembers, request).await?;
            for member in body.get("data").and_then(Value::as_array).into_iter().flatten() {
                if let Some(id) = resource_id(member) {
                    members.insert(id.to_owned());
                }
            }
        }
        for position in positions {
            let plan = &mut plans[position];
            plan.was_member = if stored_email(plan).is_some() {
                members.contains(&plan.profile_id)
            } else {
                profile_lists(api, &plan.profile_id).await?.contains(&list_id)
            };
        }
    }
    Ok(())
}

/// The ids of the lists a profile is on.
async fn profile_lists(api: &Api, profile_id: &str) -> Result<HashSet<String>, PluginError> {
    let body = api
        .get(Endpoint::ProfileLists, Request::get(cutover_http::path(["api", "profiles", profile_id, "lists"])?))
        .await?;
    Ok(body
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|list| resource_id(list).map(str::to_owned))
        .collect())
}

fn sms_subscribed(profile: &Value) -> bool {
    sms_marketing_consent(profile) == Some("SUBSCRIBED")
}

fn sms_unsubscribed(profile: &Value) -> bool {
    sms_marketing_consent(profile) == Some("UNSUBSCRIBED")
}

fn sms_marketing_consent(profile: &Value) -> Option<&str> {
    profile.pointer("/attributes/subscriptions/sms/marketing/consent").and_then(Value::as_str)
}

/// The profile's phone number, the only place Klaviyo keeps SMS consent.
fn phone_number(profile: &Value) -> Option<&str> {
    profile.pointer("/attributes/phone_number").and_then(Value::as_str).filter(|phone| !phone.is_empty())
}

fn has_phone(profile: &Value) -> bool {
    phone_number(profile).is_some()
}

/// Whether the plan goes into a subscribe job: its email subscription or
/// its SMS subscription is to be written. The job also puts it on its list.
fn in_subscribe_job(plan: &Plan) -> bool {
    (plan.action == EmailAction::Subscribe && plan.email_changed) || plan.sms_subscribe_needed
}

/// Whether the plan goes into an unsubscribe job: its email unsubscribe or
/// its SMS opt-out is to be written.
fn in_unsubscribe_job(plan: &Plan) -> bool {
    (plan.action == EmailAction::Unsubscribe && plan.email_changed) || plan.sms_unsubscribe_needed
}

/// A consent time Klaviyo takes for a historical import: the one recorded,
/// else the record's last change; never in the future.
fn consented_at(state: &ConsentState, updated_at: DateTime<Utc>) -> String {
    let moment = state.changed_at.unwrap_or(updated_at);
    let latest = Utc::now() - chrono::Duration::seconds(1);
    render_instant(&moment.min(latest))
}

/// Sends a job for `members` (positions in `plans`) with `body_for`, and
/// when Klaviyo refuses one profile of it (a 4xx pointing at
/// `/data/attributes/profiles/data/N`), rejects that record and sends the
/// rest again. Returns the answer and the positions the job went out with.
async fn send_job(
    api: &Api,
    endpoint: Endpoint,
    path: &str,
    plans: &[Plan],
    mut members: Vec<usize>,
    results: &mut [Option<WriteResult>],
    body_for: impl Fn(&[usize]) -> Value,
) -> Result<Option<(cutover_http::Response, Vec<usize>)>, PluginError> {
    while !members.is_empty() {
        let body = body_for(&members);
        // Subscribing, unsubscribing or suppressing twice has the effect of once.
        match api.write(endpoint, Request::post(path).retry_safe(), &body).await {
            Ok(response) => return Ok(Some((response, members))),
            Err(error) if is_record_error(&error) => {
                let reason = reject_reason(&error);
                match refused_profile(&error).filter(|position| *position < members.len()) {
                    Some(position) => {
                        let refused = members.remove(position);
                        results[plans[refused].index] = Some(WriteResult::Rejected { reason });
                    }
                    None => {
                        for member in members.drain(..) {
                            results[plans[member].index] = Some(WriteResult::Rejected { reason: reason.clone() });
                        }
                    }
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(None)
}

/// The profile a job's error points at, by its position in the job.
fn refused_profile(error: &HttpError) -> Option<usize> {
    let body = error.vendor()?.json()?;
    let pointer = body.pointer("/errors/0/source/pointer")?.as_str()?;
    let rest = pointer.strip_prefix("/data/attributes/profiles/data/")?;
    rest.split('/').next()?.parse().ok()
}

/// Subscribe jobs, one per list and consent source.
async fn subscribe(api: &Api, plans: &mut [Plan], results: &mut [Option<WriteResult>]) -> Result<(), PluginError> {
    let mut groups: BTreeMap<(String, Option<String>), Vec<usize>> = BTreeMap::new();
    for (position, plan) in plans.iter().enumerate() {
        let email = plan.action == EmailAction::Subscribe;
        if in_subscribe_job(plan) {
            let source = if email {
                plan.email_consent.as_ref().and_then(|state| state.source.as_deref()).map(str::to_owned)
            } else {
                None
            };
            groups.entry((plan.list_id.clone(), source)).or_default().push(position);
        }
    }
    for ((list_id, source), positions) in groups {
        for chunk in positions.chunks(SUBSCRIBE_CAP) {
            let body_for = |members: &[usize]| {
                let profiles: Vec<Value> =
                    members.iter().map(|position| subscribe_profile(&plans[*position])).collect();
                let mut attributes = Map::new();
                attributes.insert("profiles".into(), json!({"data": profiles}));
                attributes.insert("historical_import".into(), Value::from(true));
                if let Some(source) = &source {
                    attributes.insert("custom_source".into(), Value::from(source.as_str()));
                }
                json!({"data": {
                    "type": "profile-subscription-bulk-create-job",
                    "attributes": attributes,
                    "relationships": {"list": {"data": {"type": "list", "id": list_id}}},
                }})
            };
            let path = "api/profile-subscription-bulk-create-jobs";
            send_job(api, Endpoint::Subscribe, path, plans, chunk.to_vec(), results, body_for).await?;
        }
    }
    Ok(())
}

fn subscribe_profile(plan: &Plan) -> Value {
    let mut attributes = Map::new();
    if let Some(email) = &plan.email {
        attributes.insert("email".into(), Value::from(email.as_str()));
    }
    let phone = phone_number(&plan.profile);
    let mut subscriptions = Map::new();
    if plan.action == EmailAction::Subscribe
        && let Some(state) = &plan.email_consent
    {
        subscriptions.insert(
            "email".into(),
            json!({"marketing": {"consent": "SUBSCRIBED", "consented_at": consented_at(state, plan.updated_at)}}),
        );
    }
    if let (Some(state), Some(phone), true) = (&plan.sms_subscribe, phone, plan.sms_subscribe_needed) {
        attributes.insert("phone_number".into(), Value::from(phone));
        subscriptions.insert(
            "sms".into(),
            json!({"marketing": {"consent": "SUBSCRIBED", "consented_at": consented_at(state, plan.updated_at)}}),
        );
    }
    attributes.insert("subscriptions".into(), Value::Object(subscriptions));
    json!({"type": "profile", "id": plan.profile_id, "attributes": attributes})
}

/// Unsubscribe jobs, 100 profiles each, with no list: Klaviyo's unsubscribe
/// is global, and the list membership is kept. Each profile names only the
/// channels to unsubscribe, since Klaviyo unsubscribes every channel named.
async fn unsubscribe(api: &Api, plans: &mut [Plan], results: &mut [Option<WriteResult>]) -> Result<(), PluginError> {
    let positions: Vec<usize> =
        plans.iter().enumerate().filter(|(_, plan)| in_unsubscribe_job(plan)).map(|(position, _)| position).collect();
    for chunk in positions.chunks(UNSUBSCRIBE_CAP) {
        let body_for = |members: &[usize]| {
            let profiles: Vec<Value> = members.iter().map(|position| unsubscribe_profile(&plans[*position])).collect();
            json!({"data": {"type": "profile-subscription-bulk-delete-job", "attributes": {"profiles": {"data": profiles}}}})
        };
        let path = "api/profile-subscription-bulk-delete-jobs";
        send_job(api, Endpoint::Unsubscribe, path, plans, chunk.to_vec(), results, body_for).await?;
    }
    Ok(())
}

/// One profile of an unsubscribe job: named by email when there is one, and
/// by phone number when its SMS consent is unsubscribed, with the channels
/// to unsubscribe and no other.
fn unsubscribe_profile(plan: &Plan) -> Value {
    let mut attributes = Map::new();
    let mut subscriptions = Map::new();
    if let Some(email) = &plan.email {
        attributes.insert("email".into(), Value::from(email.as_str()));
    }
    if plan.action == EmailAction::Unsubscribe && plan.email_changed {
        subscriptions.insert("email".into(), json!({"marketing": {"consent": "UNSUBSCRIBED"}}));
    }
    if plan.sms_unsubscribe_needed
        && let Some(phone) = phone_number(&plan.profile)
    {
        attributes.insert("phone_number".into(), Value::from(phone));
        subscriptions.insert("sms".into(), json!({"marketing": {"consent": "UNSUBSCRIBED"}}));
    }
    attributes.insert("subscriptions".into(), Value::Object(subscriptions));
    json!({"type": "profile", "attributes": attributes})
}

/// Suppression jobs, 100 addresses each, each waited for.
async fn suppress(api: &Api, plans: &mut [Plan], results: &mut [Option<WriteResult>]) -> Result<(), PluginError> {
    let positions: Vec<usize> = plans
        .iter()
        .enumerate()
        .filter(|(_, plan)| plan.email_changed && plan.action == EmailAction::Suppress)
        .map(|(position, _)| position)
        .collect();
    for chunk in positions.chunks(SUPPRESS_CAP) {
        let body_for = |members: &[usize]| {
            let profiles: Vec<Value> = members
                .iter()
                .map(|position| json!({"type": "profile", "attributes": {"email": plans[*position].email}}))
                .collect();
            json!({"data": {"type": "profile-suppression-bulk-create-job", "attributes": {"profiles": {"data": profiles}}}})
        };
        let path = "api/profile-suppression-bulk-create-jobs";
        let Some((response, _)) =
            send_job(api, Endpoint::Suppress, path, plans, chunk.to_vec(), results, body_for).await?
        else {
            continue;
        };
        let job: Value = response.json()?;
        if let Some(job_id) = job.pointer("/data/id").and_then(Value::as_str) {
            api.wait_for_job(Endpoint::Suppress, path, job_id).await?;
        }
    }
    Ok(())
}

/// Puts on their list the profiles no subscribe job put there.
async fn add_members(api: &Api, plans: &mut [Plan], results: &mut [Option<WriteResult>]) -> Result<(), PluginError> {
    let mut by_list: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (position, plan) in plans.iter().enumerate() {
        if !plan.was_member && !in_subscribe_job(plan) && results[plan.index].is_none() {
            by_list.entry(plan.list_id.clone()).or_default().push(position);
        }
    }
    for (list_id, positions) in by_list {
        for chunk in positions.chunks(ADD_CAP) {
            let mut seen = HashSet::new();
            let data: Vec<Value> = chunk
                .iter()
                .map(|position| plans[*position].profile_id.as_str())
                .filter(|id| seen.insert(*id))
                .map(|id| json!({"type": "profile", "id": id}))
                .collect();
            // Adding a member twice leaves one membership.
            let request =
                Request::post(cutover_http::path(["api", "lists", list_id.as_str(), "relationships", "profiles"])?)
                    .retry_safe();
            match api.write(Endpoint::AddMembers, request, &json!({"data": data})).await {
                Ok(_) => {}
                Err(error) if is_record_error(&error) => {
                    let reason = reject_reason(&error);
                    for position in chunk {
                        results[plans[*position].index] = Some(WriteResult::Rejected { reason: reason.clone() });
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
    Ok(())
}

/// Keeps each list's own pending or non-subscribed status in the profile's
/// `cutover_list_status_<list id>` property (see [`crate::mapping`]), so a
/// person subscribed through another list is not read back as subscribed to
/// this one; a subscription written over a kept status marks it
/// `subscribed`. One bulk import job per [`BULK_CAP`] profiles; a profile
/// the job refuses rejects its membership.
async fn keep_list_statuses(
    api: &Api,
    plans: &mut [Plan],
    results: &mut [Option<WriteResult>],
) -> Result<(), PluginError> {
    let mut wanted: Vec<(usize, Value)> = Vec::new();
    for (position, plan) in plans.iter().enumerate() {
        if results[plan.index].is_some() {
            continue;
        }
        let key = list_status_property(&plan.list_id);
        let held = plan.profile.pointer("/attributes/properties").and_then(|properties| properties.get(&key));
        let held = held.and_then(Value::as_str);
        let value = match plan.action {
            EmailAction::Keep => plan.email_consent.as_ref().and_then(|consent| list_status_value(consent.status)),
            EmailAction::Subscribe if held.is_some_and(|held| held != "subscribed") => Some("subscribed"),
            _ => None,
        };
        if let Some(value) = value
            && held != Some(value)
        {
            // An import names a profile by an identifier too, not by id alone.
            let mut attributes = json!({"properties": {key: value}});
            if let Some(email) = profile_email(&plan.profile) {
                attributes["email"] = Value::from(email);
            }
            wanted.push((position, json!({"type": "profile", "id": plan.profile_id, "attributes": attributes})));
        }
    }
    for chunk in wanted.chunks(BULK_CAP) {
        let profiles = chunk.iter().map(|(_, profile)| profile.clone()).collect();
        match run_import_job(api, profiles).await? {
            Ok((_, refused)) => {
                for (index, (position, _)) in chunk.iter().enumerate() {
                    let plan = &mut plans[*position];
                    match refused.get(&index) {
                        Some(reason) => results[plan.index] = Some(WriteResult::Rejected { reason: reason.clone() }),
                        None => plan.consent_changed = true,
                    }
                }
            }
            Err(reason) => {
                for (position, _) in chunk {
                    results[plans[*position].index] = Some(WriteResult::Rejected { reason: reason.clone() });
                }
            }
        }
    }
    Ok(())
}

/// Reads back every profile whose consent a job was to change, and rejects
/// the records whose consent did not take.
async fn verify(api: &Api, plans: &[Plan], results: &mut [Option<WriteResult>]) -> Result<(), PluginError> {
    let touched: Vec<&Plan> =
        plans.iter().filter(|plan| plan.consent_changed && results[plan.index].is_none()).collect();
    if touched.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = touched.iter().map(|plan| plan.profile_id.clone()).collect();
    let now = api.profiles_by_id(&ids, true).await?;
    for plan in touched {
        let profile = now.get(&plan.profile_id);
        let consent = profile.and_then(|profile| current_email_consent(profile, &plan.list_id));
        let email_ok = consent_holds(consent.as_ref(), plan.action);
        let sms_ok = (!plan.sms_subscribe_needed || profile.is_some_and(sms_subscribed))
            && (!plan.sms_unsubscribe_needed || profile.is_some_and(sms_unsubscribed));
        if !email_ok {
            let held = consent.map_or_else(|| "no consent".to_owned(), |state| format!("{:?}", state.status));
            results[plan.index] = Some(WriteResult::Rejected {
                reason: RejectReason::new(
                    "not_applied",
                    format!("klaviyo accepted the {:?} job but holds {held} for the profile", plan.action),
                ),
            });
        } else if !sms_ok {
            let wanted = if plan.sms_unsubscribe_needed { "unsubscribe" } else { "subscribe" };
            let held = profile.and_then(sms_marketing_consent).unwrap_or("no consent");
            results[plan.index] = Some(WriteResult::Rejected {
                reason: RejectReason::new(
                    "not_applied",
                    format!("klaviyo accepted the SMS {wanted} job but holds SMS consent {held} for the profile"),
                ),
            });
        }
    }
    Ok(())
}
