//! Fault knobs, set at start, through the control endpoint or the handle,
//! answered in Mailchimp's shape.

use cutover_emulator_kit::FaultConfig;
use reqwest::Method;
use serde_json::json;

use crate::harness::{client, config, mailchimp, send, start};

#[tokio::test]
async fn server_errors_use_mailchimps_error_shape() {
    let mut broken = config(2, 10);
    broken.settings.faults = FaultConfig { rate_5xx: 1.0, ..FaultConfig::default() };
    let emulator = start(broken).await;
    let (status, body) = send(mailchimp(&emulator, Method::GET, "ping")).await;
    assert_eq!((status, body["title"].as_str()), (500, Some("Internal Server Error")));
    let (status, body) = send(mailchimp(&emulator, Method::GET, "ping")).await;
    assert_eq!((status, body["status"].as_u64()), (503, Some(503)));
}

#[tokio::test]
async fn dropped_connections_get_no_answer() {
    let emulator = start(config(3, 10)).await;
    emulator.set_faults(FaultConfig { drop_next: 1, ..FaultConfig::default() });
    let dropped = mailchimp(&emulator, Method::GET, "ping").send().await;
    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(send(mailchimp(&emulator, Method::GET, "ping")).await.0, 200);
    assert_eq!(emulator.faults().drop_next, 0);
}

#[tokio::test]
async fn a_page_fails_once_then_succeeds() {
    let emulator = start(config(4, 100)).await;
    let list_id = emulator.state().lists()[0].id.clone();
    emulator.set_faults(FaultConfig { fail_page_once: Some(2), ..FaultConfig::default() });
    let page = |offset: usize| format!("lists/{list_id}/members?count=10&offset={offset}");
    assert_eq!(send(mailchimp(&emulator, Method::GET, &page(10))).await.0, 200);
    assert_eq!(send(mailchimp(&emulator, Method::GET, &page(20))).await.0, 500);
    assert_eq!(send(mailchimp(&emulator, Method::GET, &page(20))).await.0, 200);
}

#[tokio::test]
async fn random_faults_repeat_for_the_same_seed() {
    let mut noisy = config(5, 10);
    noisy.settings.faults = FaultConfig { rate_429: 0.3, rate_5xx: 0.2, ..FaultConfig::default() };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let emulator = start(noisy.clone()).await;
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(send(mailchimp(&emulator, Method::GET, "ping")).await.0);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&429) && runs[0].contains(&200));
}

#[tokio::test]
async fn a_huge_body_is_streamed_without_a_length() {
    let emulator = start(config(7, 10)).await;
    let control = format!("{}/__emulator/faults", emulator.base_url);
    let size = 5 * 1024 * 1024 + 3;
    let (status, body) = send(client().post(&control).json(&json!({"huge_body_bytes": size}))).await;
    assert_eq!((status, body["huge_body_bytes"].as_u64()), (200, Some(size)));
    let mut response = mailchimp(&emulator, Method::GET, "lists").send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers().get("content-length").is_none(), "{:?}", response.headers());
    assert_eq!(response.headers()["transfer-encoding"], "chunked");
    // Its first and last bytes kept, the rest only counted.
    let (mut read, mut first, mut last) = (0u64, Vec::new(), Vec::new());
    while let Some(chunk) = response.chunk().await.expect("a chunk") {
        read += chunk.len() as u64;
        if first.len() < 16 {
            first.extend_from_slice(&chunk[..chunk.len().min(16)]);
        }
        last.extend_from_slice(&chunk[chunk.len().saturating_sub(16)..]);
        last.drain(..last.len().saturating_sub(16));
    }
    assert_eq!(read, size);
    assert!(first.starts_with(br#"{"filler":"xxx"#), "{}", String::from_utf8_lossy(&first));
    assert!(last.ends_with(br#"xxx"}"#), "{}", String::from_utf8_lossy(&last));
}

#[tokio::test]
async fn an_absurd_retry_after_comes_with_mailchimps_429() {
    let mut hostile = config(8, 10);
    hostile.settings.faults =
        FaultConfig { retry_after_secs: Some(u64::MAX), huge_body_bytes: Some(10), ..FaultConfig::default() };
    let emulator = start(hostile).await;
    let response = mailchimp(&emulator, Method::GET, "ping").send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "18446744073709551615");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["title"], "Too Many Requests");
    emulator.set_faults(FaultConfig::default());
    assert_eq!(send(mailchimp(&emulator, Method::GET, "ping")).await.0, 200);
}

#[tokio::test]
async fn mailchimp_pages_never_end() {
    let mut endless = config(10, 100);
    endless.settings.faults = FaultConfig { paging_loop: true, ..FaultConfig::default() };
    let emulator = start(endless).await;
    let list_id = emulator.state().lists()[0].id.clone();
    let page = |offset: u64| format!("lists/{list_id}/members?count=5&offset={offset}&fields=members.id,total_items");
    let (status, first) = send(mailchimp(&emulator, Method::GET, &page(0))).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["total_items"].as_u64(), Some(FaultConfig::ENDLESS_TOTAL_ITEMS));
    assert_eq!(first["members"].as_array().map(Vec::len), Some(5));
    for offset in [5, 1_000_000, 999_999_999_995] {
        let (_, later) = send(mailchimp(&emulator, Method::GET, &page(offset))).await;
        assert_eq!(later, first, "offset {offset}");
    }
    // A single resource is left alone.
    let (status, ping) = send(mailchimp(&emulator, Method::GET, "ping")).await;
    assert_eq!((status, ping["health_status"].is_string()), (200, true), "{ping}");
}
