//! `POST /batches`: operations run through the same routes a direct call
//! takes, and their results are packed as a gzipped tar of JSON.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use cutover_emulator_kit::auth::basic_credentials;
use cutover_emulator_kit::query::Params;
use cutover_emulator_kit::seed::hex;
use cutover_emulator_kit::store::{read, write};

use crate::app::{App, AppState, collection_links, page, paging, respond};
use crate::errors::McError;
use crate::model::{Batch, link, timestamp};
use crate::write::parse_body;

/// Batches an account may have unfinished at once.
const MAX_PENDING_BATCHES: usize = 500;

#[derive(Debug, Deserialize)]
pub(crate) struct BatchRequest {
    operations: Vec<Operation>,
}

#[derive(Debug, Deserialize)]
struct Operation {
    method: String,
    path: String,
    #[serde(default)]
    params: Map<String, Value>,
    body: Option<String>,
    operation_id: Option<String>,
}

fn status_of(batch: &Batch) -> &'static str {
    match batch.reads {
        0 => "pending",
        1 => "started",
        _ => "finished",
    }
}

fn batch_json(batch: &Batch, base: &str) -> Value {
    let status = status_of(batch);
    let finished = status == "finished";
    let href = format!("{base}/3.0/batches/{}", batch.id);
    json!({
        "id": batch.id,
        "status": status,
        "total_operations": batch.total_operations,
        "finished_operations": if finished { batch.total_operations } else { 0 },
        "errored_operations": if finished { batch.errored_operations } else { 0 },
        "submitted_at": timestamp(&batch.submitted_at),
        "completed_at": if finished { timestamp(&batch.submitted_at) } else { String::new() },
        "response_body_url": if finished {
            format!("{base}/__emulator/mailchimp/batch-results/{}", batch.id)
        } else {
            String::new()
        },
        "_links": [
            link("self", &href, "GET", "Batches/Response"),
            link("parent", &format!("{base}/3.0/batches"), "GET", "Batches/CollectionResponse"),
            link("delete", &href, "DELETE", "Batches/Response"),
        ],
    })
}

/// Runs every operation now; the batch reports its progress on later reads.
pub(crate) async fn create_batch(State(app): AppState, uri: Uri, body: Bytes) -> Result<Response, McError> {
    let request: BatchRequest = parse_body(&body)?;
    let pending = read(app.state.store()).batches.iter().filter(|batch| status_of(batch) != "finished").count();
    if pending >= MAX_PENDING_BATCHES {
        return Err(McError::BadRequest("You have more than 500 pending batches.".to_owned()));
    }
    let api_key = app.state.api_key();
    let mut results = Vec::with_capacity(request.operations.len());
    let mut errored = 0;
    for mut operation in request.operations {
        let (status_code, response) = run(&app, &api_key, &operation).await;
        errored += usize::from(status_code >= 400);
        let remaining_pages = remaining_pages(&operation, status_code, &response);
        results.push(json!({
            "status_code": status_code,
            "operation_id": operation.operation_id,
            "response": response,
        }));
        for page in 1..=remaining_pages {
            operation.params.insert("offset".to_owned(), Value::from(page * DEFAULT_PAGE));
            let (status_code, response) = run(&app, &api_key, &operation).await;
            errored += usize::from(status_code >= 400);
            results.push(json!({
                "status_code": status_code,
                "operation_id": operation.operation_id,
                "response": response,
            }));
        }
    }
    let mut store = write(app.state.store());
    let id = hex(&mut store.rng, 10);
    let contents = Value::Array(results).to_string();
    let batch = Batch {
        id: id.clone(),
        reads: 0,
        submitted_at: Utc::now(),
        total_operations: count_operations(&contents),
        errored_operations: errored,
        archive: gzip(&tar(&format!("{id}/0.json"), contents.as_bytes())),
    };
    let rendered = batch_json(&batch, &app.base);
    store.batches.push(batch);
    Ok(respond(&uri, rendered))
}

/// A collection's default page, which a batched GET that names no page is
/// read in.
const DEFAULT_PAGE: usize = 10;

/// Pages after the first that a batched GET must read. The vendor's batch
/// schema counts "each page" of a GET "requiring pagination" as an operation
/// of its own: a GET of a collection that asks for no page (no `count`, no
/// `offset`) is read whole, one result per page of the default size, all
/// under the operation's `operation_id` (tap-mailchimp reads email activity
/// this way and keeps every page's items).
fn remaining_pages(operation: &Operation, status_code: u16, response: &str) -> usize {
    if !operation.method.eq_ignore_ascii_case("GET")
        || status_code != 200
        || operation.params.contains_key("count")
        || operation.params.contains_key("offset")
    {
        return 0;
    }
    let total = serde_json::from_str::<Value>(response)
        .ok()
        .and_then(|answer| answer.get("total_items").and_then(Value::as_u64))
        .unwrap_or(0) as usize;
    total.div_ceil(DEFAULT_PAGE).saturating_sub(1)
}

fn count_operations(contents: &str) -> usize {
    serde_json::from_str::<Vec<Value>>(contents).map_or(0, |results| results.len())
}

/// One operation through the API routes, authenticated as the caller.
///
/// The routes come from [`App::api`] (they include [`create_batch`], so
/// this module cannot name them). Boxed: naming the future's type here keeps
/// the compiler from reasoning about it in a circle.
fn run<'a>(
    app: &'a Arc<App>,
    api_key: &'a str,
    operation: &'a Operation,
) -> Pin<Box<dyn Future<Output = (u16, String)> + Send + 'a>> {
    Box::pin(async move {
        let Ok(method) = Method::from_bytes(operation.method.to_ascii_uppercase().as_bytes()) else {
            return (
                400,
                json!({"title": "Invalid Resource", "detail": format!("{} is not an HTTP method", operation.method)})
                    .to_string(),
            );
        };
        // The serializer is not Send; keep it out of the await below.
        let query = {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (name, value) in &operation.params {
                let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                query.append_pair(name, &value);
            }
            query.finish()
        };
        let path = format!("/3.0/{}", operation.path.trim_start_matches('/'));
        let target = if query.is_empty() { path } else { format!("{path}?{query}") };
        let credentials = basic_credentials("batch", api_key);
        let request = Request::builder()
            .method(method)
            .uri(target)
            .header(header::AUTHORIZATION, credentials)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(operation.body.clone().unwrap_or_default()));
        let Ok(request) = request else {
            return (
                400,
                json!({"title": "Invalid Resource", "detail": "The operation path is not a valid URL path."})
                    .to_string(),
            );
        };
        let response = match (app.api)(Arc::clone(app)).oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap_or_default();
        (status, String::from_utf8_lossy(&body).into_owned())
    })
}

/// Reading a batch moves it on: `pending`, `started`, `finished`.
pub(crate) async fn get_batch(
    State(app): AppState,
    Path(batch_id): Path<String>,
    uri: Uri,
) -> Result<Response, McError> {
    let mut store = write(app.state.store());
    let batch = store.batches.iter_mut().find(|batch| batch.id == batch_id).ok_or(McError::ResourceNotFound)?;
    let rendered = batch_json(batch, &app.base);
    batch.reads += 1;
    Ok(respond(&uri, rendered))
}

pub(crate) async fn list_batches(State(app): AppState, uri: Uri) -> Result<Response, McError> {
    let params = Params::from_uri(&uri);
    let (offset, count) = paging(&params)?;
    let store = read(app.state.store());
    let (batches, total) = page(store.batches.iter(), offset, count);
    let batches: Vec<Value> = batches.into_iter().map(|batch| batch_json(batch, &app.base)).collect();
    Ok(respond(
        &uri,
        json!({"batches": batches, "total_items": total, "_links": collection_links(&app.base, "batches", "Batches/CollectionResponse")}),
    ))
}

/// Stops a batch; its results are no longer available.
pub(crate) async fn delete_batch(State(app): AppState, Path(batch_id): Path<String>) -> Result<StatusCode, McError> {
    let mut store = write(app.state.store());
    let before = store.batches.len();
    store.batches.retain(|batch| batch.id != batch_id);
    if store.batches.len() == before {
        return Err(McError::ResourceNotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /__emulator/mailchimp/batch-results/{batch_id}`: a result archive,
/// unauthenticated, as Mailchimp's pre-signed storage URLs are.
pub(crate) async fn archive(State(app): AppState, Path(batch_id): Path<String>) -> Result<Response, McError> {
    let store = read(app.state.store());
    let batch = store.batches.iter().find(|batch| batch.id == batch_id).ok_or(McError::ResourceNotFound)?;
    let mut response = batch.archive.clone().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-gzip"));
    Ok(response)
}

/// A one-file ustar archive.
fn tar(name: &str, contents: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    let mut put = |offset: usize, value: &[u8]| {
        header[offset..offset + value.len()].copy_from_slice(value);
    };
    put(0, &name.as_bytes()[..name.len().min(99)]);
    put(100, b"0000644\0");
    put(108, b"0000000\0");
    put(116, b"0000000\0");
    put(124, format!("{:011o}\0", contents.len()).as_bytes());
    put(136, format!("{:011o}\0", Utc::now().timestamp().max(0)).as_bytes());
    put(148, b"        ");
    put(156, b"0");
    put(257, b"ustar\0");
    put(263, b"00");
    let checksum: u32 = header.iter().map(|&byte| u32::from(byte)).sum();
    header[148..156].copy_from_slice(format!("{checksum:06o}\0 ").as_bytes());
    let mut archive = header.to_vec();
    archive.extend_from_slice(contents);
    archive.resize(archive.len().div_ceil(512) * 512, 0);
    archive.resize(archive.len() + 1024, 0);
    archive
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// Gzip with stored (uncompressed) deflate blocks: valid for any reader,
/// and no compression library needed for test-sized results.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut blocks = bytes.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let length = block.len() as u16;
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(&(!length).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&crc32(bytes).to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation(method: &str, params: Value) -> Operation {
        serde_json::from_value(json!({"method": method, "path": "/reports/x/email-activity", "params": params}))
            .unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn a_batched_get_that_names_no_page_is_read_whole() {
        let answer = json!({"emails": [], "total_items": 25}).to_string();
        assert_eq!(remaining_pages(&operation("GET", json!({})), 200, &answer), 2);
        assert_eq!(remaining_pages(&operation("get", json!({"since": "2000-01-01"})), 200, &answer), 2);
        assert_eq!(remaining_pages(&operation("GET", json!({"count": 10})), 200, &answer), 0);
        assert_eq!(remaining_pages(&operation("GET", json!({"offset": 0})), 200, &answer), 0);
        assert_eq!(remaining_pages(&operation("PUT", json!({})), 200, &answer), 0);
        assert_eq!(remaining_pages(&operation("GET", json!({})), 404, &answer), 0);
        let one_page = json!({"emails": [], "total_items": 10}).to_string();
        assert_eq!(remaining_pages(&operation("GET", json!({})), 200, &one_page), 0);
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }
}
