//! The bulk jobs: subscribe, unsubscribe, suppress, unsuppress and profile
//! import. Each takes effect when submitted; see the crate doc for how its
//! status moves.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use cutover_emulator_kit::people::is_valid_email;
use cutover_emulator_kit::query::Params;
use cutover_emulator_kit::seed::hex;
use cutover_emulator_kit::store::{read, write};
use serde_json::{Map, Value, json};

use crate::app::{
    App, AppState, MAX_IMPORT_BYTES, attributes_of, collection, cursor, expect_type, page_size, parse_document, single,
};
use crate::errors::KlError;
use crate::model::{Job, JobKind, Store, Suppression, job_json, list_json, profile_json};
use crate::write::{check_attributes, find_profile, upsert};

const MAX_SUBSCRIBE: usize = 1000;
const MAX_UNSUBSCRIBE: usize = 100;
const MAX_SUPPRESS: usize = 100;
const MAX_IMPORT: usize = 10_000;
/// Suppressions a subscribe lifts; hard bounces and invalid addresses stay.
const LIFTED_BY_SUBSCRIBE: [&str; 3] = ["UNSUBSCRIBE", "USER_SUPPRESSED", "SPAM_COMPLAINT"];

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/profile-subscription-bulk-create-jobs", post(subscribe))
        .route("/api/profile-subscription-bulk-delete-jobs", post(unsubscribe))
        .route("/api/profile-suppression-bulk-create-jobs", get(list_suppress_jobs).post(suppress))
        .route("/api/profile-suppression-bulk-create-jobs/{id}", get(get_suppress_job))
        .route("/api/profile-suppression-bulk-delete-jobs", get(list_unsuppress_jobs).post(unsuppress))
        .route("/api/profile-suppression-bulk-delete-jobs/{id}", get(get_unsuppress_job))
        .route("/api/profile-bulk-import-jobs", get(list_import_jobs).post(bulk_import))
        .route("/api/profile-bulk-import-jobs/{id}", get(get_import_job))
        .route("/api/profile-bulk-import-jobs/{id}/import-errors", get(get_import_errors))
        .route("/api/profile-bulk-import-jobs/{id}/profiles", get(get_import_profiles))
        .route("/api/profile-bulk-import-jobs/{id}/lists", get(get_import_lists))
}

/// `attributes.profiles.data[]` of a job body, at most `max`.
fn job_profiles(attributes: &Map<String, Value>, max: usize) -> Result<&Vec<Value>, KlError> {
    let pointer = "/data/attributes/profiles/data";
    let profiles = attributes
        .get("profiles")
        .and_then(|profiles| profiles.get("data"))
        .and_then(Value::as_array)
        .ok_or_else(|| KlError::invalid("'profiles.data' is a required array.", pointer))?;
    if profiles.len() > max {
        return Err(KlError::invalid(
            format!("At most {max} profiles may be given per job; {} were given.", profiles.len()),
            pointer,
        ));
    }
    Ok(profiles)
}

/// The list a job names in `relationships.list`, which must exist.
fn job_list(data: &Value, store: &Store) -> Result<Option<String>, KlError> {
    let Some(list_id) = data.pointer("/relationships/list/data/id").and_then(Value::as_str) else {
        return Ok(None);
    };
    if store.list(list_id).is_none() {
        return Err(KlError::not_found(format!("A list with id {list_id} does not exist.")));
    }
    Ok(Some(list_id.to_owned()))
}

fn identifiers(profile: &Value) -> Map<String, Value> {
    let mut identifiers = Map::new();
    if let Some(attributes) = profile.get("attributes").and_then(Value::as_object) {
        for name in ["email", "phone_number", "external_id"] {
            if let Some(value) = attributes.get(name).filter(|value| value.is_string()) {
                identifiers.insert(name.to_owned(), value.clone());
            }
        }
    }
    identifiers
}

fn parse_time(text: &str, pointer: &str) -> Result<DateTime<Utc>, KlError> {
    DateTime::parse_from_rfc3339(text)
        .map(|moment| moment.with_timezone(&Utc))
        .map_err(|_| KlError::invalid(format!("'{text}' is not an ISO 8601 datetime."), pointer))
}

/// `POST /api/profile-subscription-bulk-create-jobs`: 202, no body.
async fn subscribe(State(app): AppState, body: Bytes) -> Result<Response, KlError> {
    let data = parse_document(&body)?;
    expect_type(&data, "profile-subscription-bulk-create-job")?;
    let attributes = attributes_of(&data, "/data")?;
    let profiles = job_profiles(attributes, MAX_SUBSCRIBE)?;
    let historical = attributes.get("historical_import").and_then(Value::as_bool).unwrap_or(false);
    let custom_source = attributes.get("custom_source").and_then(Value::as_str).unwrap_or("").to_owned();
    let now = Utc::now();
    // Validate every profile before changing anything.
    let mut requests = Vec::with_capacity(profiles.len());
    for (position, profile) in profiles.iter().enumerate() {
        let pointer = format!("/data/attributes/profiles/data/{position}");
        let ids = identifiers(profile);
        if let Some(email) = ids.get("email").and_then(Value::as_str)
            && !is_valid_email(email)
        {
            return Err(KlError::invalid("Invalid email address", format!("{pointer}/attributes/email")));
        }
        let marketing = profile.pointer("/attributes/subscriptions/email/marketing");
        let consented_at = marketing.and_then(|marketing| marketing.get("consented_at")).and_then(Value::as_str);
        let consent_pointer = format!("{pointer}/attributes/subscriptions/email/marketing");
        if let Some(consent) = marketing.and_then(|marketing| marketing.get("consent")).and_then(Value::as_str)
            && consent != "SUBSCRIBED"
        {
            return Err(KlError::invalid(
                format!("'{consent}' is not a valid consent; use SUBSCRIBED."),
                format!("{consent_pointer}/consent"),
            ));
        }
        let consented_at = match (historical, consented_at) {
            (true, None) if marketing.is_some() => {
                return Err(KlError::invalid(
                    "'consented_at' is required when 'historical_import' is true.",
                    format!("{consent_pointer}/consented_at"),
                ));
            }
            (false, Some(_)) => {
                return Err(KlError::invalid(
                    "'consented_at' is only allowed when 'historical_import' is true.",
                    format!("{consent_pointer}/consented_at"),
                ));
            }
            (true, Some(text)) => {
                let moment = parse_time(text, &format!("{consent_pointer}/consented_at"))?;
                if moment > now {
                    return Err(KlError::invalid(
                        "'consented_at' must be in the past.",
                        format!("{consent_pointer}/consented_at"),
                    ));
                }
                Some(moment)
            }
            _ => None,
        };
        let sms = profile.pointer("/attributes/subscriptions/sms/marketing/consent").and_then(Value::as_str)
            == Some("SUBSCRIBED");
        let id = profile.get("id").and_then(Value::as_str).map(str::to_owned);
        if id.is_none() && ids.is_empty() {
            return Err(KlError::invalid(
                "A profile needs an id, email or phone_number.",
                format!("{pointer}/attributes"),
            ));
        }
        requests.push((id, ids, marketing.is_some(), consented_at, sms));
    }
    let mut store = write(app.state.store());
    let list_id = job_list(&data, &store)?;
    let double_opt_in =
        list_id.as_deref().and_then(|id| store.list(id)).is_some_and(|list| list.opt_in_process == "double_opt_in");
    for (id, ids, email_marketing, consented_at, sms) in requests {
        let (profile_id, _) = upsert(&mut store, id.as_deref(), &ids, None, now)?;
        // A double opt-in list waits for the confirmation the emulator never
        // receives: no consent change and no membership yet.
        let confirmed = historical || !double_opt_in;
        if let Some(profile) = store.profiles.get_mut(&profile_id) {
            if email_marketing && confirmed {
                let consent = &mut profile.email_consent;
                consent.consent = "SUBSCRIBED".to_owned();
                consent.consent_timestamp = Some(consented_at.unwrap_or(now));
                consent.last_updated = Some(now);
                consent.method = "API".to_owned();
                consent.method_detail = custom_source.clone();
                consent.double_optin = Some(false);
                consent.suppression.retain(|item| !LIFTED_BY_SUBSCRIBE.contains(&item.reason.as_str()));
                if let Some(list_id) = &list_id {
                    consent.list_suppressions.retain(|(suppressed, _, _)| suppressed != list_id);
                }
            }
            if sms && confirmed {
                profile.sms_consent = "SUBSCRIBED".to_owned();
            }
            profile.updated = now;
        }
        if confirmed
            && let Some(list_id) = &list_id
            && let Some(list) = store.lists.iter_mut().find(|list| &list.id == list_id)
        {
            list.members.entry(profile_id).or_insert(now);
        }
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `POST /api/profile-subscription-bulk-delete-jobs`: 202, no body. Each
/// profile (found by email or phone number) loses the consent of the channels
/// its `subscriptions` names, and only those:
/// - `email`: a global unsubscribe (consent `UNSUBSCRIBED` plus an
///   `UNSUBSCRIBE` suppression);
/// - `sms`: SMS marketing consent `UNSUBSCRIBED`, on a profile with a phone
///   number (Klaviyo holds no SMS consent without one).
///
/// A profile naming neither channel is refused (400) before anything changes:
/// an unsubscribe that says nothing is a caller's mistake, not a global
/// opt-out. A named list also loses the profiles.
async fn unsubscribe(State(app): AppState, body: Bytes) -> Result<Response, KlError> {
    let data = parse_document(&body)?;
    expect_type(&data, "profile-subscription-bulk-delete-job")?;
    let attributes = attributes_of(&data, "/data")?;
    let profiles = job_profiles(attributes, MAX_UNSUBSCRIBE)?;
    // Validate every profile before changing anything.
    let mut requests = Vec::with_capacity(profiles.len());
    for (position, profile) in profiles.iter().enumerate() {
        let pointer = format!("/data/attributes/profiles/data/{position}/attributes/subscriptions");
        let mut named = [false; 2];
        for (channel, named) in ["email", "sms"].iter().zip(named.iter_mut()) {
            let Some(marketing) = profile.pointer(&format!("/attributes/subscriptions/{channel}/marketing")) else {
                continue;
            };
            if let Some(consent) = marketing.get("consent").and_then(Value::as_str)
                && consent != "UNSUBSCRIBED"
            {
                return Err(KlError::invalid(
                    format!("'{consent}' is not a valid consent; use UNSUBSCRIBED."),
                    format!("{pointer}/{channel}/marketing/consent"),
                ));
            }
            *named = true;
        }
        let [email, sms] = named;
        if !email && !sms {
            return Err(KlError::invalid("'subscriptions' must name the email or sms channel.", pointer));
        }
        requests.push((identifiers(profile), email, sms));
    }
    let mut store = write(app.state.store());
    let list_id = job_list(&data, &store)?;
    let now = Utc::now();
    for (ids, email, sms) in requests {
        let Some(profile_id) = find_profile(&store, &ids) else {
            continue;
        };
        if let Some(stored) = store.profiles.get_mut(&profile_id) {
            if email {
                let consent = &mut stored.email_consent;
                consent.consent = "UNSUBSCRIBED".to_owned();
                consent.consent_timestamp = Some(now);
                consent.last_updated = Some(now);
                if !consent.suppression.iter().any(|item| item.reason == "UNSUBSCRIBE") {
                    consent.suppression.push(Suppression { reason: "UNSUBSCRIBE".to_owned(), timestamp: now });
                }
            }
            // The model keeps no SMS consent times; the profile's `updated`
            // below records the change.
            if sms && stored.phone_number.is_some() {
                stored.sms_consent = "UNSUBSCRIBED".to_owned();
            }
            stored.updated = now;
        }
        if let Some(list_id) = &list_id
            && let Some(list) = store.lists.iter_mut().find(|list| &list.id == list_id)
        {
            list.members.remove(&profile_id);
        }
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

fn new_job(store: &mut Store, kind: JobKind, now: DateTime<Utc>) -> Job {
    Job {
        id: hex(&mut store.rng, 24),
        kind,
        reads: 0,
        created_at: now,
        total_count: 0,
        failed_count: 0,
        skipped_count: 0,
        list_ids: Vec::new(),
        profile_ids: Vec::new(),
        errors: Vec::new(),
    }
}

/// Emails a suppression job names: profiles' emails, or a whole list.
fn suppression_targets(data: &Value, store: &Store) -> Result<(Vec<String>, Vec<String>), KlError> {
    let attributes = attributes_of(data, "/data")?;
    if let Some(list_id) = data.pointer("/relationships/list/data/id").and_then(Value::as_str) {
        let list = store
            .list(list_id)
            .ok_or_else(|| KlError::not_found(format!("A list with id {list_id} does not exist.")))?;
        let emails = list
            .members
            .keys()
            .filter_map(|id| store.profiles.get(id).and_then(|profile| profile.email.clone()))
            .collect();
        return Ok((emails, vec![list_id.to_owned()]));
    }
    let profiles = job_profiles(attributes, MAX_SUPPRESS)?;
    let emails = profiles
        .iter()
        .map(|profile| profile.pointer("/attributes/email").and_then(Value::as_str).unwrap_or_default().to_owned())
        .collect();
    Ok((emails, Vec::new()))
}

async fn suppression_job(app: &App, body: &[u8], kind: JobKind) -> Result<Response, KlError> {
    let data = parse_document(body)?;
    expect_type(&data, kind.type_name())?;
    let mut store = write(app.state.store());
    let (emails, list_ids) = suppression_targets(&data, &store)?;
    let now = Utc::now();
    let mut job = new_job(&mut store, kind, now);
    job.total_count = emails.len();
    job.list_ids = list_ids;
    for email in emails {
        if !is_valid_email(&email) {
            job.skipped_count += 1;
            continue;
        }
        let mut ids = Map::new();
        ids.insert("email".to_owned(), Value::from(email));
        let profile_id = match kind {
            // Suppressing an unknown address creates its profile.
            JobKind::SuppressionCreate => Some(upsert(&mut store, None, &ids, None, now)?.0),
            _ => find_profile(&store, &ids),
        };
        let Some(profile) = profile_id.and_then(|id| store.profiles.get_mut(&id)) else {
            job.skipped_count += 1;
            continue;
        };
        let suppression = &mut profile.email_consent.suppression;
        match kind {
            JobKind::SuppressionCreate if !suppression.iter().any(|item| item.reason == "USER_SUPPRESSED") => {
                suppression.push(Suppression { reason: "USER_SUPPRESSED".to_owned(), timestamp: now });
            }
            // Unsuppress lifts only manual suppressions.
            JobKind::SuppressionDelete => suppression.retain(|item| item.reason != "USER_SUPPRESSED"),
            _ => {}
        }
        profile.updated = now;
        job.profile_ids.push(profile.id.clone());
    }
    let rendered = job_json(&job, &app.base);
    store.jobs.push(job);
    Ok(single(StatusCode::ACCEPTED, rendered))
}

async fn suppress(State(app): AppState, body: Bytes) -> Result<Response, KlError> {
    suppression_job(&app, &body, JobKind::SuppressionCreate).await
}

async fn unsuppress(State(app): AppState, body: Bytes) -> Result<Response, KlError> {
    suppression_job(&app, &body, JobKind::SuppressionDelete).await
}

/// `POST /api/profile-bulk-import-jobs`: upserts up to 10,000 profiles
/// (5 MB) and adds them to the lists named; consent does not change.
async fn bulk_import(State(app): AppState, body: Bytes) -> Result<Response, KlError> {
    if body.len() > MAX_IMPORT_BYTES {
        return Err(KlError::payload_too_large(format!(
            "The payload is {} bytes; a bulk import accepts at most 5 MB.",
            body.len()
        )));
    }
    let data = parse_document(&body)?;
    expect_type(&data, "profile-bulk-import-job")?;
    let attributes = attributes_of(&data, "/data")?;
    let profiles = job_profiles(attributes, MAX_IMPORT)?;
    let list_ids: Vec<String> = data
        .pointer("/relationships/lists/data")
        .and_then(Value::as_array)
        .map(|lists| {
            lists.iter().filter_map(|list| list.get("id").and_then(Value::as_str).map(str::to_owned)).collect()
        })
        .unwrap_or_default();
    let mut store = write(app.state.store());
    if let Some(missing) = list_ids.iter().find(|id| store.list(id).is_none()) {
        return Err(KlError::not_found(format!("A list with id {missing} does not exist.")));
    }
    let now = Utc::now();
    let mut job = new_job(&mut store, JobKind::BulkImport, now);
    job.total_count = profiles.len();
    job.list_ids = list_ids.clone();
    for (position, profile) in profiles.iter().enumerate() {
        let pointer = format!("/data/attributes/profiles/data/{position}/attributes");
        let empty = Map::new();
        let profile_attributes = profile.get("attributes").and_then(Value::as_object).unwrap_or(&empty);
        let result = check_attributes(profile_attributes, &pointer).and_then(|()| {
            let id = profile.get("id").and_then(Value::as_str);
            upsert(&mut store, id, profile_attributes, profile.get("meta"), now)
        });
        match result {
            Ok((profile_id, _)) => {
                for list_id in &list_ids {
                    if let Some(list) = store.lists.iter_mut().find(|list| &list.id == list_id) {
                        list.members.entry(profile_id.clone()).or_insert(now);
                    }
                }
                job.profile_ids.push(profile_id);
            }
            Err(error) => {
                job.failed_count += 1;
                job.errors.push(json!({
                    "type": "import-error",
                    "id": hex(&mut store.rng, 24),
                    "attributes": {
                        "code": error.code,
                        "title": error.title,
                        "detail": error.detail,
                        "source": {"pointer": pointer},
                        "original_payload": profile,
                    },
                }));
            }
        }
    }
    let rendered = job_json(&job, &app.base);
    store.jobs.push(job);
    Ok(single(StatusCode::ACCEPTED, rendered))
}

/// A job by id; reading the job itself (`advance`) moves its status on,
/// reading its errors, profiles or lists does not.
fn read_job(app: &App, kind: JobKind, id: &str, advance: bool) -> Result<Job, KlError> {
    let mut store = write(app.state.store());
    let job = store
        .jobs
        .iter_mut()
        .find(|job| job.kind == kind && job.id == id)
        .ok_or_else(|| KlError::not_found(format!("A job with id {id} does not exist.")))?;
    let snapshot = job.clone();
    job.reads += u32::from(advance);
    Ok(snapshot)
}

fn list_jobs(app: &App, kind: JobKind, uri: &Uri) -> Result<Response, KlError> {
    let params = Params::from_uri(uri);
    let size = page_size(&params, 20, 100)?;
    let cursor = cursor(&params)?;
    let status = params.get("filter").and_then(|filter| {
        filter
            .strip_prefix("equals(status,")
            .map(|rest| rest.trim_end_matches(')').trim_matches(|c| c == '"' || c == '\'').to_owned())
    });
    let mut store = write(app.state.store());
    let mut rendered = Vec::new();
    for job in store.jobs.iter_mut().filter(|job| job.kind == kind) {
        let document = job_json(job, &app.base);
        job.reads += 1;
        let keep = status
            .as_deref()
            .is_none_or(|status| document.pointer("/attributes/status").and_then(Value::as_str) == Some(status));
        if keep {
            rendered.push(document);
        }
    }
    let (page, next) = cursor.take_page(rendered.into_iter(), size);
    Ok(collection(app, uri, page, next, None))
}

async fn list_suppress_jobs(State(app): AppState, uri: Uri) -> Result<Response, KlError> {
    list_jobs(&app, JobKind::SuppressionCreate, &uri)
}

async fn list_unsuppress_jobs(State(app): AppState, uri: Uri) -> Result<Response, KlError> {
    list_jobs(&app, JobKind::SuppressionDelete, &uri)
}

async fn list_import_jobs(State(app): AppState, uri: Uri) -> Result<Response, KlError> {
    list_jobs(&app, JobKind::BulkImport, &uri)
}

async fn get_suppress_job(State(app): AppState, Path(id): Path<String>) -> Result<Response, KlError> {
    let job = read_job(&app, JobKind::SuppressionCreate, &id, true)?;
    Ok(single(StatusCode::OK, job_json(&job, &app.base)))
}

async fn get_unsuppress_job(State(app): AppState, Path(id): Path<String>) -> Result<Response, KlError> {
    let job = read_job(&app, JobKind::SuppressionDelete, &id, true)?;
    Ok(single(StatusCode::OK, job_json(&job, &app.base)))
}

async fn get_import_job(State(app): AppState, Path(id): Path<String>) -> Result<Response, KlError> {
    let job = read_job(&app, JobKind::BulkImport, &id, true)?;
    Ok(single(StatusCode::OK, job_json(&job, &app.base)))
}

async fn get_import_errors(State(app): AppState, Path(id): Path<String>, uri: Uri) -> Result<Response, KlError> {
    let job = read_job(&app, JobKind::BulkImport, &id, false)?;
    Ok(collection(&app, &uri, job.errors, None, None))
}

async fn get_import_profiles(State(app): AppState, Path(id): Path<String>, uri: Uri) -> Result<Response, KlError> {
    let job = read_job(&app, JobKind::BulkImport, &id, false)?;
    let params = Params::from_uri(&uri);
    let size = page_size(&params, 20, 100)?;
    let cursor = cursor(&params)?;
    let store = read(app.state.store());
    let mut page: Vec<Value> = job
        .profile_ids
        .iter()
        .skip(cursor.offset)
        .take(size + 1)
        .filter_map(|id| store.profiles.get(id).map(|profile| profile_json(profile, false, &app.base)))
        .collect();
    let next = (page.len() > size).then(|| {
        page.truncate(size);
        cursor.next(size, None)
    });
    Ok(collection(&app, &uri, page, next, None))
}

async fn get_import_lists(State(app): AppState, Path(id): Path<String>, uri: Uri) -> Result<Response, KlError> {
    let job = read_job(&app, JobKind::BulkImport, &id, false)?;
    let store = read(app.state.store());
    let lists =
        job.list_ids.iter().filter_map(|id| store.list(id).map(|list| list_json(list, false, &app.base))).collect();
    Ok(collection(&app, &uri, lists, None, None))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::testing::{Emulator, post, start};

    fn job(kind: &str, profiles: Vec<Value>) -> Value {
        json!({"data": {"type": kind, "attributes": {"profiles": {"data": profiles}}}})
    }

    fn channels(consent: &str, names: &[&str]) -> Value {
        names.iter().map(|name| ((*name).to_owned(), json!({"marketing": {"consent": consent}}))).collect()
    }

    /// Subscribes `email` and `phone` to email and SMS marketing.
    async fn subscribed(emulator: &Emulator, email: &str, phone: &str) {
        let profile = json!({"type": "profile", "attributes": {
            "email": email, "phone_number": phone, "subscriptions": channels("SUBSCRIBED", &["email", "sms"]),
        }});
        let (status, body) = post(
            emulator,
            "profile-subscription-bulk-create-jobs",
            &job("profile-subscription-bulk-create-job", vec![profile]),
        )
        .await;
        assert_eq!(status, 202, "{body}");
    }

    async fn unsubscribe(emulator: &Emulator, profiles: Vec<Value>) -> (u16, Value) {
        post(emulator, "profile-subscription-bulk-delete-jobs", &job("profile-subscription-bulk-delete-job", profiles))
            .await
    }

    #[tokio::test]
    async fn an_unsubscribe_changes_only_the_channels_it_names() {
        let emulator = start(5, 2, false).await;
        let state = emulator.state();
        subscribed(&emulator, "sms.only@example.org", "+15005550101").await;
        subscribed(&emulator, "email.only@example.org", "+15005550102").await;
        let (status, body) = unsubscribe(
            &emulator,
            vec![
                // Found by phone number alone.
                json!({"type": "profile", "attributes": {
                    "phone_number": "+15005550101", "subscriptions": channels("UNSUBSCRIBED", &["sms"]),
                }}),
                json!({"type": "profile", "attributes": {
                    "email": "email.only@example.org", "subscriptions": channels("UNSUBSCRIBED", &["email"]),
                }}),
            ],
        )
        .await;
        assert_eq!(status, 202, "{body}");
        let sms_only = state.profile_by_email("sms.only@example.org").expect("profile");
        assert_eq!(sms_only.sms_consent, "UNSUBSCRIBED");
        assert_eq!(sms_only.email_consent.consent, "SUBSCRIBED");
        assert!(sms_only.email_consent.suppression.is_empty());
        let email_only = state.profile_by_email("email.only@example.org").expect("profile");
        assert_eq!(email_only.sms_consent, "SUBSCRIBED");
        assert_eq!(email_only.email_consent.consent, "UNSUBSCRIBED");
        assert!(email_only.email_consent.suppression.iter().any(|item| item.reason == "UNSUBSCRIBE"));
    }

    #[tokio::test]
    async fn an_unsubscribe_of_both_channels_changes_both() {
        let emulator = start(5, 2, false).await;
        let state = emulator.state();
        subscribed(&emulator, "both@example.org", "+15005550103").await;
        let before = state.profile_by_email("both@example.org").expect("profile");
        let (status, body) = unsubscribe(
            &emulator,
            vec![json!({"type": "profile", "attributes": {
                "email": "both@example.org", "phone_number": "+15005550103",
                "subscriptions": channels("UNSUBSCRIBED", &["email", "sms"]),
            }})],
        )
        .await;
        assert_eq!(status, 202, "{body}");
        let after = state.profile_by_email("both@example.org").expect("profile");
        assert_eq!(
            (after.email_consent.consent.as_str(), after.sms_consent.as_str()),
            ("UNSUBSCRIBED", "UNSUBSCRIBED")
        );
        assert!(after.email_consent.consent_timestamp >= before.email_consent.consent_timestamp);
        assert!(after.updated >= before.updated);
    }

    #[tokio::test]
    async fn an_sms_unsubscribe_leaves_a_profile_without_a_phone_number_alone() {
        let emulator = start(5, 2, false).await;
        let state = emulator.state();
        let profile = json!({"type": "profile", "attributes": {
            "email": "no.phone@example.org", "subscriptions": channels("SUBSCRIBED", &["email"]),
        }});
        let subscribe = job("profile-subscription-bulk-create-job", vec![profile]);
        assert_eq!(post(&emulator, "profile-subscription-bulk-create-jobs", &subscribe).await.0, 202);
        let (status, body) = unsubscribe(
            &emulator,
            vec![json!({"type": "profile", "attributes": {
                "email": "no.phone@example.org", "subscriptions": channels("UNSUBSCRIBED", &["sms"]),
            }})],
        )
        .await;
        assert_eq!(status, 202, "{body}");
        let after = state.profile_by_email("no.phone@example.org").expect("profile");
        assert_eq!(
            (after.email_consent.consent.as_str(), after.sms_consent.as_str()),
            ("SUBSCRIBED", "NEVER_SUBSCRIBED")
        );
    }

    #[tokio::test]
    async fn an_unsubscribe_naming_no_channel_is_refused_whole() {
        let emulator = start(5, 2, false).await;
        let state = emulator.state();
        subscribed(&emulator, "kept@example.org", "+15005550104").await;
        let (status, body) = unsubscribe(
            &emulator,
            vec![
                json!({"type": "profile", "attributes": {
                    "email": "kept@example.org", "subscriptions": channels("UNSUBSCRIBED", &["email", "sms"]),
                }}),
                json!({"type": "profile", "attributes": {"email": "kept@example.org"}}),
            ],
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["errors"][0]["code"], "invalid");
        assert_eq!(body["errors"][0]["source"]["pointer"], "/data/attributes/profiles/data/1/attributes/subscriptions");
        let kept = state.profile_by_email("kept@example.org").expect("profile");
        assert_eq!((kept.email_consent.consent.as_str(), kept.sms_consent.as_str()), ("SUBSCRIBED", "SUBSCRIBED"));
        let (status, body) = unsubscribe(
            &emulator,
            vec![json!({"type": "profile", "attributes": {
                "email": "kept@example.org", "subscriptions": channels("SUBSCRIBED", &["sms"]),
            }})],
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            body["errors"][0]["source"]["pointer"],
            "/data/attributes/profiles/data/0/attributes/subscriptions/sms/marketing/consent"
        );
    }
}
