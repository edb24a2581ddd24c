//! Transaction queries (a partner lists and raises them, as a job; the
//! brand approves, pends or rejects one), the v1 job with its response,
//! and the v3 bulk conversion update (checked whole, 400 for any property
//! it does not define, then 202 with a job) with its jobs, tasks and
//! replay.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cutover_emulator_kit::query::Params;
use serde_json::{Map, Value, json};

use crate::Account;
use crate::envelope::{self, object, text};
use crate::jobs::{self, BULK_STATUSES};
use crate::model::{Job, JobWork};
use crate::vendor::{self, Generation, Problem};

/// `GET /user/publisher/{publisher_id}/tq`, filtered by
/// `transaction_query_id`, `conversion_reference`, `campaign_id`,
/// `current_state` and `transaction_query_type`.
pub async fn list(State(account): State<Account>, Path(publisher_id): Path<String>, uri: Uri) -> Response {
    let params = Params::from_uri(&uri);
    let store = account.settled();
    if store.publisher(&publisher_id).is_none() {
        return vendor::not_found(uri.path(), "The partner");
    }
    let matches = |name: &str, value: &str| params.get(name).is_none_or(|wanted| wanted == value);
    let queries: Vec<Value> = store
        .transaction_queries
        .iter()
        .filter(|tq| tq.publisher_id == publisher_id)
        .filter(|tq| matches("transaction_query_id", &tq.transaction_query_id))
        .filter(|tq| matches("conversion_reference", &tq.conversion_reference))
        .filter(|tq| matches("campaign_id", &tq.campaign_id))
        .filter(|tq| matches("current_state", &tq.current_state))
        .filter(|tq| matches("transaction_query_type", &tq.transaction_query_type))
        .map(|tq| json!({"transaction_query": tq.to_json()}))
        .collect();
    Json(json!({
        "execution_time": envelope::EXECUTION_TIME,
        "count": queries.len(),
        "filters": {},
        "sort": {"column": "created_at", "direction": "ASC"},
        "transaction_queries": queries,
    }))
    .into_response()
}

/// `POST /user/publisher/{publisher_id}/tq/create`: the queries run as a
/// job; the answer is the job.
pub async fn create(
    State(account): State<Account>,
    Path(publisher_id): Path<String>,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let body = match object(path, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let Some(queries) = body.get("transaction_queries").and_then(Value::as_array).filter(|queries| !queries.is_empty())
    else {
        return vendor::bad_request(path, "transaction_queries", "required_property", "transaction_queries not found");
    };
    let mut store = account.settled();
    if store.publisher(&publisher_id).is_none() {
        return vendor::not_found(path, "The partner");
    }
    let work = JobWork::CreateTransactionQueries { publisher_id, queries: queries.clone() };
    let job = jobs::enqueue(&mut store, work, None, account.job_delay());
    Json(json!({"execution_time": envelope::EXECUTION_TIME, "job": job.to_v1()})).into_response()
}

/// `POST /campaign/{campaign_id}/tq/{transaction_query_id}/{action}`:
/// `approve`, `pend` or `reject`.
pub async fn decide(
    State(account): State<Account>,
    Path((campaign_id, tq_id, action)): Path<(String, String, String)>,
    uri: Uri,
) -> Response {
    let path = uri.path();
    if !matches!(action.as_str(), "approve" | "pend" | "reject") {
        return vendor::not_found(path, "The action");
    }
    let mut store = account.settled();
    let Some(index) = store
        .transaction_queries
        .iter()
        .position(|tq| tq.transaction_query_id == tq_id && tq.campaign_id == campaign_id)
    else {
        return vendor::not_found(path, "Transaction Query");
    };
    if let Err(reason) = jobs::decide(&mut store, index, &action) {
        return vendor::not_allowed(path, reason);
    }
    envelope::v1_one(StatusCode::OK, "transaction_query", store.transaction_queries[index].to_json())
}

fn find_job<'a>(store: &'a crate::model::Store, job_id: &str) -> Option<&'a Job> {
    let job_id = job_id.strip_suffix(".json").unwrap_or(job_id);
    store.jobs.iter().find(|job| job.job_id == job_id)
}

/// `GET /job/{job_id}` (or `/job/{job_id}.json`).
pub async fn v1_job(State(account): State<Account>, Path(job_id): Path<String>, uri: Uri) -> Response {
    let store = account.settled();
    match find_job(&store, &job_id) {
        Some(job) => envelope::v1_one(StatusCode::OK, "job", job.to_v1()),
        None => vendor::not_found(uri.path(), "The job"),
    }
}

/// `GET /job/{job_id}/response.json`: one answer per input, in order,
/// once the job is complete.
pub async fn v1_job_response(
    State(account): State<Account>,
    Path((job_id, file)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    if file != "response.json" {
        return vendor::not_found(uri.path(), "The job response");
    }
    let store = account.settled();
    let Some(job) = find_job(&store, &job_id) else { return vendor::not_found(uri.path(), "The job") };
    let Some(results) = &job.results else {
        return vendor::not_found(uri.path(), "The job response (the job is not complete)");
    };
    let responses: Vec<Value> = results
        .iter()
        .map(|result| match result {
            Ok(made) => json!({"transaction_query": made}),
            Err(error) => json!({"error": error}),
        })
        .collect();
    Json(json!({"execution_time": envelope::EXECUTION_TIME, "job_id": job.job_id, "responses": responses}))
        .into_response()
}

/// What one v3 bulk entry may hold, per key.
fn entry_fields(key: &str) -> &'static [&'static str] {
    const COMMON: [&str; 11] = [
        "status",
        "reason",
        "force_commission_recalculation",
        "publisher_reference",
        "advertiser_reference",
        "conversion_reference",
        "customer_reference",
        "customer_type",
        "traffic_source_id",
        "conversion_metric_id",
        "ref_partnership_model_id",
    ];
    match key {
        "conversions" => &[
            "conversion_id",
            "status",
            "reason",
            "force_commission_recalculation",
            "publisher_reference",
            "advertiser_reference",
            "conversion_reference",
            "customer_reference",
            "customer_type",
            "traffic_source_id",
            "conversion_metric_id",
            "ref_partnership_model_id",
        ],
        "conversion_items" => &[
            "conversion_item_id",
            "status",
            "reason",
            "force_commission_recalculation",
            "publisher_reference",
            "advertiser_reference",
            "conversion_reference",
            "customer_reference",
            "customer_type",
            "traffic_source_id",
            "conversion_metric_id",
            "ref_partnership_model_id",
            "item_value",
            "sku",
            "category",
            "display_to_publisher",
        ],
        _ => &COMMON,
    }
}

fn reason_allowed(reason: &str) -> bool {
    reason.chars().count() <= 255 && reason.chars().all(|c| c.is_ascii_alphanumeric() || " :-_.,;#".contains(c))
}

/// Checks one bulk entry; every problem found.
fn check_entry(key: &str, index: usize, entry: &Value) -> Vec<Problem> {
    let pointer = format!("{key}[{index}]");
    let Some(entry) = entry.as_object() else {
        return vec![Problem::new(pointer, "invalid_type", "an entry must be an object")];
    };
    let mut problems = envelope::unknown_properties(entry, entry_fields(key), &pointer);
    let id_field = match key {
        "conversions" => "conversion_id",
        "conversion_items" => "conversion_item_id",
        _ => "conversion_reference",
    };
    if text(entry, id_field).is_none_or(|id| id.is_empty()) {
        problems.push(Problem::new(
            format!("{pointer}.{id_field}"),
            "required_property",
            format!("{id_field} is required"),
        ));
    }
    if let Some(status) = text(entry, "status")
        && !BULK_STATUSES.contains(&status.as_str())
    {
        problems.push(Problem::new(
            format!("{pointer}.status"),
            "invalid_enum_value",
            "status must be approved, rejected, pending or fraudulent",
        ));
    }
    if let Some(reason) = text(entry, "reason")
        && !reason_allowed(&reason)
    {
        problems.push(Problem::new(
            format!("{pointer}.reason"),
            "invalid_property_format",
            "reason is at most 255 of [a-zA-Z0-9 :-_.,;#]",
        ));
    }
    if let Some(kind) = text(entry, "customer_type")
        && kind != "new"
        && kind != "existing"
    {
        problems.push(Problem::new(
            format!("{pointer}.customer_type"),
            "invalid_enum_value",
            "customer_type must be new or existing",
        ));
    }
    for (name, limit) in [("customer_reference", 256), ("sku", 512), ("category", 128)] {
        if text(entry, name).is_some_and(|value| value.chars().count() > limit) {
            problems.push(Problem::new(
                format!("{pointer}.{name}"),
                "invalid_max_length",
                format!("{name} is at most {limit} characters"),
            ));
        }
    }
    problems
}

/// `POST /v3/brand/campaigns/{campaign_id}/conversions/bulk`.
pub async fn bulk(State(account): State<Account>, Path(campaign_id): Path<String>, uri: Uri, body: Bytes) -> Response {
    let path = uri.path();
    let body: Map<String, Value> = match object(path, &body) {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let mut problems = envelope::unknown_properties(
        &body,
        &["conversions", "conversion_items", "conversion_references", "job_reference"],
        "",
    );
    let keys: Vec<&str> = ["conversions", "conversion_items", "conversion_references"]
        .into_iter()
        .filter(|key| body.contains_key(*key))
        .collect();
    if keys.len() != 1 {
        problems.push(Problem::new(
            "",
            "invalid_value",
            "exactly one of conversions, conversion_items or conversion_references is required",
        ));
    }
    if let Some(reference) = text(&body, "job_reference")
        && reference.chars().count() > 256
    {
        problems.push(Problem::new("job_reference", "invalid_max_length", "job_reference is at most 256 characters"));
    }
    let key = keys.first().copied().unwrap_or("conversions");
    let entries = body.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    if keys.len() == 1 && (entries.is_empty() || entries.len() > 100_000) {
        problems.push(Problem::new(key, "invalid_value", "between 1 and 100000 entries are required"));
    }
    for (index, entry) in entries.iter().enumerate() {
        problems.extend(check_entry(key, index, entry));
    }
    if let Err(refused) = envelope::refuse(problems) {
        return refused;
    }
    let mut store = account.settled();
    if store.campaign(&campaign_id).is_none() {
        return vendor::not_found(path, "The campaign");
    }
    let work = JobWork::BulkConversions { campaign_id, key: key.to_owned(), entries };
    let job = jobs::enqueue(&mut store, work, text(&body, "job_reference"), account.job_delay());
    accepted(&job)
}

fn accepted(job: &Job) -> Response {
    let links = json!({"job": format!("/v3/jobs/{}", job.job_id), "tasks": format!("/v3/jobs/{}/tasks", job.job_id)});
    (StatusCode::ACCEPTED, Json(json!({"data": job.to_v3(), "hypermedia": {"links": links}}))).into_response()
}

/// `GET /v3/jobs/{job_id}`.
pub async fn v3_job(State(account): State<Account>, Path(job_id): Path<String>, uri: Uri) -> Response {
    let store = account.settled();
    match find_job(&store, &job_id) {
        Some(job) => envelope::v3_one(StatusCode::OK, job.to_v3()),
        None => vendor::not_found(uri.path(), "The job"),
    }
}

/// `GET /v3/jobs/{job_id}/tasks`: one task per entry, with its outcome.
pub async fn v3_tasks(State(account): State<Account>, Path(job_id): Path<String>, uri: Uri) -> Response {
    let store = account.settled();
    let Some(job) = find_job(&store, &job_id) else { return vendor::not_found(uri.path(), "The job") };
    let inputs = match &job.work {
        JobWork::CreateTransactionQueries { queries, .. } => queries,
        JobWork::BulkConversions { entries, .. } => entries,
    };
    let tasks: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let (status, output, errors) = match job.results.as_ref().and_then(|results| results.get(index)) {
                None => ("pending", Value::Null, Vec::new()),
                Some(Ok(output)) => ("complete", output.clone(), Vec::new()),
                Some(Err(error)) => ("failed", Value::Null, vec![error.clone()]),
            };
            json!({"id": format!("{}-{index}", job.job_id), "status": status, "input": input, "output": output, "errors": errors})
        })
        .collect();
    Json(json!({"data": tasks, "count": tasks.len()})).into_response()
}

/// `POST /v3/jobs/{job_id}/replay`: a new job of the entries that failed.
pub async fn v3_replay(State(account): State<Account>, Path(job_id): Path<String>, uri: Uri) -> Response {
    let mut store = account.settled();
    let Some(job) = find_job(&store, &job_id).cloned() else { return vendor::not_found(uri.path(), "The job") };
    let Some(results) = &job.results else {
        return vendor::error(
            Generation::V3,
            StatusCode::CONFLICT,
            vec![Problem::new("", "invalid_value", "the job has not finished")],
        );
    };
    let failed = |inputs: &[Value]| -> Vec<Value> {
        inputs.iter().zip(results).filter(|(_, result)| result.is_err()).map(|(input, _)| input.clone()).collect()
    };
    let work = match &job.work {
        JobWork::CreateTransactionQueries { publisher_id, queries } => {
            JobWork::CreateTransactionQueries { publisher_id: publisher_id.clone(), queries: failed(queries) }
        }
        JobWork::BulkConversions { campaign_id, key, entries } => {
            JobWork::BulkConversions { campaign_id: campaign_id.clone(), key: key.clone(), entries: failed(entries) }
        }
    };
    let replayed = jobs::enqueue(&mut store, work, job.reference.clone(), account.job_delay());
    accepted(&replayed)
}
