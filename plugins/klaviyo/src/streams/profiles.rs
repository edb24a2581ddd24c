//! The `profiles` stream: `GET /api/profiles` (100 a page, in id order) as
//! contacts; written as upserts, found by email first. Profiles found by
//! email are compared before writing (one lookup per 50 addresses), so a
//! record Klaviyo already holds is `unchanged` without a write; the rest go
//! through `POST /api/profile-bulk-import-jobs` (10,000 profiles, 5 MB a
//! job, its import errors rejecting their records) when there are many, or
//! `POST /api/profile-import` one by one when there are few.

use crate::Klaviyo;
use crate::client::{Api, Endpoint, is_record_error, profile_email, reject_reason, resource_id};
use crate::mapping::{profile_attributes, profile_holds, profile_record};
use cutover_http::{PageCursor, PageStyle, Paginator, Request};
use cutover_sdk::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};

/// Most profiles Klaviyo gives per page.
const PAGE_SIZE: usize = 100;

/// The `profiles` stream.
pub(crate) struct Profiles;

impl Stream<Klaviyo> for Profiles {
    const NAME: &'static str = "profiles";
    const ENTITY: EntityKind = EntityKind::Contact;
    const DIRECTION: Direction = Direction::Both;
    type Cursor = PageCursor;

    async fn read(
        plugin: &mut Klaviyo,
        cursor: Option<PageCursor>,
        max_records: usize,
    ) -> Result<Batch<PageCursor>, PluginError> {
        let paginator = Paginator::json_api(Request::get("api/profiles"), max_records.clamp(1, PAGE_SIZE) as u32);
        let client = plugin.api.client(Endpoint::ReadProfiles)?;
        Ok(plugin.pages.read(client, paginator, "profiles", cursor, max_records, profile_record).await?)
    }

    /// Writes contacts as profiles: those Klaviyo already holds as written are
    /// `unchanged`; the rest go through a bulk import job when there are at
    /// least [`BULK_FROM`] of them, else one `POST /api/profile-import` each.
    async fn write(plugin: &mut Klaviyo, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let api = &plugin.api;
        let planned: Vec<Result<Map<String, Value>, RejectReason>> = records.iter().map(profile_attributes).collect();
        let emails: Vec<String> = planned
            .iter()
            .filter_map(|attributes| attributes.as_ref().ok()?.get("email")?.as_str().map(str::to_owned))
            .collect();
        let existing = api.profiles_by_email(&emails, false).await?;
        let mut results: Vec<Option<WriteResult>> = vec![None; records.len()];
        let mut pending = Vec::new();
        for (position, attributes) in planned.into_iter().enumerate() {
            let attributes = match attributes {
                Ok(attributes) => attributes,
                Err(reason) => {
                    results[position] = Some(WriteResult::Rejected { reason });
                    continue;
                }
            };
            let current = email_key(&attributes).and_then(|email| existing.get(&email));
            if let Some(current) = current
                && profile_holds(current, &attributes)
                && let Some(id) = resource_id(current)
            {
                results[position] = Some(WriteResult::unchanged(id));
                continue;
            }
            pending.push(Pending { position, attributes, existing: current.and_then(resource_id).map(str::to_owned) });
        }
        if pending.len() >= BULK_FROM {
            bulk_import(api, &pending, &mut results).await?;
        } else {
            import_one_by_one(api, &records, pending, &mut results).await?;
        }
        Ok(records
            .into_iter()
            .zip(results)
            .map(|(record, result)| {
                let result = result.ok_or_else(|| RejectReason::new("internal", "no outcome: a plugin bug"));
                WriteOutcome::of(record.source_id, result)
            })
            .collect())
    }
}

/// Records from this many profiles to write on go through a bulk import
/// job; Klaviyo advises against bulk imports of small batches.
pub(crate) const BULK_FROM: usize = 100;
/// Profiles per bulk import job.
pub(super) const BULK_CAP: usize = 10_000;
/// Bytes of profiles per bulk import job: under the 5 MB cap, with room
/// for the envelope.
const BULK_BYTES: usize = 4_800_000;
/// Bytes one profile of a bulk import may take (2026 spec: 100 KB).
const PROFILE_BYTES: usize = 100 * 1024;
/// Where the bulk import jobs are.
const IMPORT_JOBS: &str = "api/profile-bulk-import-jobs";

/// A profile to write.
struct Pending {
    /// The record's position in the batch.
    position: usize,
    attributes: Map<String, Value>,
    /// The id of the profile it updates, when Klaviyo has it already.
    existing: Option<String>,
}

fn email_key(attributes: &Map<String, Value>) -> Option<String> {
    attributes.get("email").and_then(Value::as_str).map(|email| email.trim().to_lowercase())
}

async fn import_one_by_one(
    api: &Api,
    records: &[Record],
    pending: Vec<Pending>,
    results: &mut [Option<WriteResult>],
) -> Result<(), PluginError> {
    let mut written: HashMap<String, String> = HashMap::new();
    for item in pending {
        let source_id = records[item.position].source_id.as_str();
        // The same address twice in a batch: the second updates the first.
        let existing =
            item.existing.or_else(|| email_key(&item.attributes).and_then(|email| written.get(&email).cloned()));
        match api.import_profile(existing.as_deref(), &item.attributes).await {
            Ok((profile, created)) => {
                let Some(id) = resource_id(&profile).map(str::to_owned) else {
                    return Err(PluginError::new(
                        ErrorCode::Network,
                        "POST /api/profile-import answered without the profile's id",
                    )
                    .for_record(source_id));
                };
                if let Some(email) = profile_email(&profile) {
                    written.insert(email, id.clone());
                }
                let target_id = id.into();
                results[item.position] =
                    Some(if created { WriteResult::Created { target_id } } else { WriteResult::Updated { target_id } });
            }
            Err(error) if is_record_error(&error) => {
                results[item.position] = Some(WriteResult::Rejected { reason: reject_reason(&error) });
            }
            Err(error) => return Err(PluginError::from(error).for_record(source_id)),
        }
    }
    Ok(())
}

/// Writes `pending` through bulk import jobs of at most [`BULK_CAP`]
/// profiles and [`BULK_BYTES`], each waited for; its import errors reject
/// their records, and the profiles it reports give the new ids.
async fn bulk_import(api: &Api, pending: &[Pending], results: &mut [Option<WriteResult>]) -> Result<(), PluginError> {
    let mut next = 0;
    while next < pending.len() {
        let mut members = Vec::new();
        let mut profiles = Vec::new();
        let mut bytes = 0;
        while next < pending.len() && members.len() < BULK_CAP {
            let item = &pending[next];
            let mut profile = json!({"type": "profile", "attributes": item.attributes});
            if let (Some(id), Some(object)) = (&item.existing, profile.as_object_mut()) {
                object.insert("id".into(), Value::from(id.as_str()));
            }
            let size = profile.to_string().len();
            if size > PROFILE_BYTES {
                results[item.position] = Some(WriteResult::Rejected {
                    reason: RejectReason::new(
                        "too_large",
                        format!("the profile takes {size} bytes; klaviyo takes at most {PROFILE_BYTES}"),
                    ),
                });
                next += 1;
                continue;
            }
            if bytes + size > BULK_BYTES && !members.is_empty() {
                break;
            }
            bytes += size + 1;
            profiles.push(profile);
            members.push(next);
            next += 1;
        }
        if !members.is_empty() {
            import_job(api, pending, &members, profiles, results).await?;
        }
    }
    Ok(())
}

/// What a bulk import job did: its id and the profiles it refused, by
/// position in the job; or why Klaviyo refused the whole job.
pub(super) type ImportJob = Result<(String, HashMap<usize, RejectReason>), RejectReason>;

/// Sends one bulk import job of `profiles` (at most [`BULK_CAP`], under
/// [`BULK_BYTES`]), waits for it, and reads its import errors.
pub(super) async fn run_import_job(api: &Api, profiles: Vec<Value>) -> Result<ImportJob, PluginError> {
    let body = json!({"data": {"type": "profile-bulk-import-job", "attributes": {"profiles": {"data": profiles}}}});
    // A second import job upserts the same profiles: safe to send again.
    let response = match api.write(Endpoint::BulkImport, Request::post(IMPORT_JOBS).retry_safe(), &body).await {
        Ok(response) => response,
        Err(error) if is_record_error(&error) => return Ok(Err(reject_reason(&error))),
        Err(error) => return Err(error.into()),
    };
    let job: Value = response.json()?;
    let Some(job_id) = job.pointer("/data/id").and_then(Value::as_str) else {
        return Err(PluginError::new(ErrorCode::Network, "klaviyo answered a bulk import without a job id"));
    };
    api.wait_for_job(Endpoint::BulkImport, IMPORT_JOBS, job_id).await?;
    let client = api.client(Endpoint::BulkImport)?;

    let mut refused: HashMap<usize, RejectReason> = HashMap::new();
    let style = PageStyle::NextLink { next_pointer: "/links/next".into(), size_param: None };
    let mut errors = Paginator::new(
        Request::get(format!("{IMPORT_JOBS}/{}/import-errors", cutover_http::path([job_id])?)),
        style,
        "/data",
        100,
    );
    while let Some(page) = errors.next_page(client).await? {
        for error in &page.items {
            let attributes = error.get("attributes").unwrap_or(error);
            let index = attributes
                .pointer("/source/pointer")
                .and_then(Value::as_str)
                .and_then(|pointer| pointer.strip_prefix("/data/attributes/profiles/data/"))
                .and_then(|rest| rest.split('/').next())
                .and_then(|index| index.parse::<usize>().ok());
            let code = attributes.get("code").and_then(Value::as_str).unwrap_or("import_error");
            let detail = attributes.get("detail").and_then(Value::as_str).unwrap_or("klaviyo refused the profile");
            if let Some(index) = index {
                refused.insert(index, RejectReason::new(code, format!("bulk import job {job_id}: {detail}")));
            }
        }
    }
    Ok(Ok((job_id.to_owned(), refused)))
}

async fn import_job(
    api: &Api,
    pending: &[Pending],
    members: &[usize],
    profiles: Vec<Value>,
    results: &mut [Option<WriteResult>],
) -> Result<(), PluginError> {
    let (job_id, mut refused) = match run_import_job(api, profiles).await? {
        Ok(job) => job,
        Err(reason) => {
            for member in members {
                results[pending[*member].position] = Some(WriteResult::Rejected { reason: reason.clone() });
            }
            return Ok(());
        }
    };
    let client = api.client(Endpoint::BulkImport)?;

    let mut ids: HashMap<(&str, String), String> = HashMap::new();
    let mut imported =
        Paginator::json_api(Request::get(format!("{IMPORT_JOBS}/{}/profiles", cutover_http::path([&job_id])?)), 100);
    while let Some(page) = imported.next_page(client).await? {
        for profile in &page.items {
            let Some(id) = resource_id(profile) else { continue };
            for key in ["email", "phone_number", "external_id"] {
                if let Some(value) = profile.pointer(&format!("/attributes/{key}")).and_then(Value::as_str) {
                    ids.insert((key, value.trim().to_lowercase()), id.to_owned());
                }
            }
        }
    }

    let mut seen: HashSet<String> = HashSet::new();
    for (index, member) in members.iter().enumerate() {
        let item = &pending[*member];
        if let Some(reason) = refused.remove(&index) {
            results[item.position] = Some(WriteResult::Rejected { reason });
            continue;
        }
        let found = ["email", "phone_number", "external_id"].into_iter().find_map(|key| {
            let value = item.attributes.get(key)?.as_str()?.trim().to_lowercase();
            ids.get(&(key, value)).cloned()
        });
        let id = item.existing.clone().or(found);
        results[item.position] = Some(match id {
            Some(id) => {
                let first = seen.insert(id.clone());
                let target_id = id.into();
                if item.existing.is_none() && first {
                    WriteResult::Created { target_id }
                } else {
                    WriteResult::Updated { target_id }
                }
            }
            None => WriteResult::Rejected {
                reason: RejectReason::new(
                    "not_applied",
                    format!("bulk import job {job_id} completed without reporting this profile"),
                ),
            },
        });
    }
    Ok(())
}
