//! `PagedReader`: batches that do not line up with pages resume inside a
//! page, a page is fetched once for several small batches, and items the
//! mapping refuses are rejects with their location and raw JSON.

use crate::support::{Log, client, serve};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use cutover_contract::wire::RejectReason;
use cutover_http::{PageCursor, PagedReader, Paginator, Request};
use cutover_schema::{Contact, Entity, Record};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// 23 addresses, 10 a page (Mailman's paging); every seventh has no email.
async fn addresses(State(log): State<Arc<Log>>, Query(params): Query<HashMap<String, String>>) -> axum::Json<Value> {
    let page: usize = params["page"].parse().unwrap();
    let count: usize = params["count"].parse().unwrap();
    log.record(format!("page {page}"));
    let entries: Vec<Value> = (0..23)
        .skip((page - 1) * count)
        .take(count)
        .map(|at| {
            if at % 7 == 6 {
                json!({"id": format!("a{at}")})
            } else {
                json!({"id": format!("a{at}"), "email": format!("a{at}@example.com")})
            }
        })
        .collect();
    axum::Json(json!({"entries": entries, "total_size": 23}))
}

fn map(item: &Value) -> Result<Record, RejectReason> {
    let email = item["email"].as_str().ok_or_else(|| RejectReason::new("missing_email", "no email"))?;
    Ok(Record::new("test", email, chrono::DateTime::UNIX_EPOCH, Entity::Contact(Contact::default())))
}

fn paginator() -> Paginator {
    Paginator::page_number(Request::get("addresses"), 10)
}

#[tokio::test]
async fn batches_resume_inside_pages_and_keep_every_item() {
    let log = Arc::new(Log::default());
    let base_url = serve(Router::new().route("/addresses", get(addresses)).with_state(log.clone())).await;
    let client = client(&base_url);
    for max in [1, 3, 10, 11, 100] {
        // One reader across batches, and a new reader (a new instance) at
        // every batch: both give every item once, in order.
        for fresh in [false, true] {
            let mut reader = PagedReader::new();
            let (mut cursor, mut records, mut rejects) = (None::<PageCursor>, Vec::new(), Vec::new());
            for _ in 0..100 {
                if fresh {
                    reader = PagedReader::new();
                }
                let batch = reader.read(&client, paginator(), "addresses", cursor.clone(), max, map).await.unwrap();
                assert!(batch.items() <= max);
                records.extend(batch.records.into_iter().map(|record| record.source_id.to_string()));
                rejects.extend(batch.rejects);
                cursor = batch.next;
                if batch.done {
                    break;
                }
            }
            let expected: Vec<String> =
                (0..23).filter(|at| at % 7 != 6).map(|at| format!("a{at}@example.com")).collect();
            assert_eq!(records, expected, "batches of {max}, fresh {fresh}");
            let located: Vec<&str> = rejects.iter().map(|reject| reject.location.as_str()).collect();
            assert_eq!(located.len(), 3, "{located:?}");
            assert_eq!(located[0], "addresses/a6");
            assert_eq!(located[1], "addresses/a13");
            assert_eq!(rejects[0].raw, r#"{"id":"a6"}"#);
            assert_eq!(rejects[0].reason.code, "missing_email");
        }
    }
    // Ten batches of one from one reader fetch the first page once.
    let before = log.count("page 1");
    let mut reader = PagedReader::new();
    let mut cursor = None;
    for _ in 0..10 {
        cursor = reader.read(&client, paginator(), "addresses", cursor, 1, map).await.unwrap().next;
    }
    assert_eq!(log.count("page 1") - before, 1);
}

/// What a stream makes of an address for `read_flat`: nothing for every
/// fifth, two records for every third, a reject for one without an email.
fn flat_map(item: &Value) -> Vec<Result<Record, RejectReason>> {
    let at: usize = item["id"].as_str().unwrap()[1..].parse().unwrap();
    let record =
        |id: String| Ok(Record::new("test", id, chrono::DateTime::UNIX_EPOCH, Entity::Contact(Contact::default())));
    match item["email"].as_str() {
        _ if at.is_multiple_of(5) => Vec::new(),
        None => vec![Err(RejectReason::new("missing_email", "no email"))],
        Some(email) if at.is_multiple_of(3) => vec![record(email.to_owned()), record(format!("{email} again"))],
        Some(email) => vec![record(email.to_owned())],
    }
}

#[tokio::test]
async fn items_of_none_or_several_outputs_resume_inside_an_item() {
    let log = Arc::new(Log::default());
    let base_url = serve(Router::new().route("/addresses", get(addresses)).with_state(log.clone())).await;
    let client = client(&base_url);
    let mut expected = Vec::new();
    for at in (0..23).filter(|at: &usize| !at.is_multiple_of(5) && at % 7 != 6) {
        expected.push(format!("a{at}@example.com"));
        if at.is_multiple_of(3) {
            expected.push(format!("a{at}@example.com again"));
        }
    }
    for max in [1, 2, 3, 10, 100] {
        for fresh in [false, true] {
            let mut reader = PagedReader::new();
            let (mut cursor, mut records, mut rejects) = (None::<PageCursor>, Vec::new(), Vec::new());
            for _ in 0..100 {
                if fresh {
                    reader = PagedReader::new();
                }
                let batch =
                    reader.read_flat(&client, paginator(), "addresses", cursor.clone(), max, flat_map).await.unwrap();
                assert!(batch.items() <= max);
                records.extend(batch.records.into_iter().map(|record| record.source_id.to_string()));
                rejects.extend(batch.rejects.into_iter().map(|reject| reject.location));
                cursor = batch.next;
                if batch.done {
                    break;
                }
            }
            assert_eq!(records, expected, "batches of {max}, fresh {fresh}");
            // a20 has no email but is left out: two rejects, where they were read.
            assert_eq!(rejects.len(), 2, "{rejects:?}");
            assert_eq!(rejects[0], "addresses/a6");
            assert_eq!(rejects[1], "addresses/a13");
        }
    }
    // A batch that ends between an item's two records resumes with the
    // second; ten batches of one from one reader fetch the first page once.
    let before = log.count("page 1");
    let mut reader = PagedReader::new();
    let mut cursor = None;
    let mut read = Vec::new();
    for _ in 0..10 {
        let batch = reader.read_flat(&client, paginator(), "addresses", cursor, 1, flat_map).await.unwrap();
        read.extend(batch.records.into_iter().map(|record| record.source_id.to_string()));
        cursor = batch.next;
    }
    assert_eq!(read[..3], ["a1@example.com", "a2@example.com", "a3@example.com"]);
    assert_eq!(read[3], "a3@example.com again");
    assert_eq!(log.count("page 1") - before, 1);
}
