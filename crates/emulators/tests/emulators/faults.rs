//! Fault knobs, set at start, through the control endpoint or the handle.

use cutover_emulators::{FaultConfig, Platform};
use reqwest::Method;
use serde_json::json;

use crate::harness::{client, config, klaviyo, mailchimp, send, start};

#[tokio::test]
async fn a_429_storm_is_set_through_the_control_endpoint() {
    let emulator = start(Platform::Klaviyo, config(1, 10)).await;
    let control = format!("{}/__emulator/faults", emulator.base_url);
    let (status, body) = send(client().post(&control).json(&json!({"burst_429": 2}))).await;
    assert_eq!((status, body["burst_429"].as_u64()), (200, Some(2)));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = klaviyo(&emulator, Method::GET, "lists").send().await.expect("answer");
        statuses.push(response.status().as_u16());
        if response.status().as_u16() == 429 {
            assert_eq!(response.headers()["retry-after"], "1");
        }
    }
    assert_eq!(statuses, [429, 429, 200]);
    let (_, body) = send(client().get(&control)).await;
    assert_eq!(body["burst_429"], 0);
}

#[tokio::test]
async fn server_errors_use_each_platforms_error_shape() {
    let mut broken = config(2, 10);
    broken.faults = FaultConfig { rate_5xx: 1.0, ..FaultConfig::default() };
    let emulator = start(Platform::Mailchimp, broken.clone()).await;
    let (status, body) = send(mailchimp(&emulator, Method::GET, "ping")).await;
    assert_eq!((status, body["title"].as_str()), (500, Some("Internal Server Error")));
    let (status, body) = send(mailchimp(&emulator, Method::GET, "ping")).await;
    assert_eq!((status, body["status"].as_u64()), (503, Some(503)));

    let emulator = start(Platform::Klaviyo, broken).await;
    let (status, body) = send(klaviyo(&emulator, Method::GET, "lists")).await;
    assert_eq!((status, body["errors"][0]["status"].as_u64()), (500, Some(500)));
}

#[tokio::test]
async fn dropped_connections_get_no_answer() {
    let emulator = start(Platform::Mailchimp, config(3, 10)).await;
    emulator.set_faults(FaultConfig { drop_next: 1, ..FaultConfig::default() });
    let dropped = mailchimp(&emulator, Method::GET, "ping").send().await;
    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(send(mailchimp(&emulator, Method::GET, "ping")).await.0, 200);
    assert_eq!(emulator.faults().drop_next, 0);
}

#[tokio::test]
async fn a_page_fails_once_then_succeeds() {
    let emulator = start(Platform::Mailchimp, config(4, 100)).await;
    let list_id = emulator.mailchimp().expect("mailchimp").lists()[0].id.clone();
    emulator.set_faults(FaultConfig { fail_page_once: Some(2), ..FaultConfig::default() });
    let page = |offset: usize| format!("lists/{list_id}/members?count=10&offset={offset}");
    assert_eq!(send(mailchimp(&emulator, Method::GET, &page(10))).await.0, 200);
    assert_eq!(send(mailchimp(&emulator, Method::GET, &page(20))).await.0, 500);
    assert_eq!(send(mailchimp(&emulator, Method::GET, &page(20))).await.0, 200);

    let emulator = start(Platform::Klaviyo, config(4, 100)).await;
    emulator.set_faults(FaultConfig { fail_page_once: Some(1), ..FaultConfig::default() });
    let (status, first) = send(klaviyo(&emulator, Method::GET, "profiles?page[size]=10")).await;
    assert_eq!(status, 200);
    let next = first["links"]["next"].as_str().expect("next").to_owned();
    assert_eq!(send(klaviyo(&emulator, Method::GET, &next)).await.0, 500);
    assert_eq!(send(klaviyo(&emulator, Method::GET, &next)).await.0, 200);
}

#[tokio::test]
async fn random_faults_repeat_for_the_same_seed() {
    let mut noisy = config(5, 10);
    noisy.faults = FaultConfig { rate_429: 0.3, rate_5xx: 0.2, ..FaultConfig::default() };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let emulator = start(Platform::Mailchimp, noisy.clone()).await;
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
async fn latency_holds_requests_in_flight() {
    let emulator = start(Platform::Klaviyo, config(6, 10)).await;
    emulator.set_faults(FaultConfig { latency_ms: 2000, ..FaultConfig::default() });
    let slow = tokio::spawn(send(klaviyo(&emulator, Method::GET, "lists")));
    while emulator.requests_in_flight() == 0 && !slow.is_finished() {
        tokio::task::yield_now().await;
    }
    assert_eq!(emulator.requests_in_flight(), 1, "the delayed request is held in flight");
    assert_eq!(slow.await.expect("finishes").0, 200);
    assert_eq!(emulator.requests_in_flight(), 0);
}

#[tokio::test]
async fn a_huge_body_is_streamed_without_a_length() {
    let emulator = start(Platform::Mailchimp, config(7, 10)).await;
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

    // Nothing is allocated up front: the largest body ever asked for is
    // served as readily, a chunk at a time, and dropped half read.
    let mut endless = config(7, 10);
    endless.faults = FaultConfig { huge_body_bytes: Some(u64::MAX), ..FaultConfig::default() };
    let emulator = start(Platform::Klaviyo, endless).await;
    let mut response = klaviyo(&emulator, Method::GET, "lists").send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 200);
    let mut read = 0;
    while read < 8 * 1024 * 1024 {
        read += response.chunk().await.expect("a chunk").expect("more to come").len();
    }
    drop(response);
    // The control routes are never hostile.
    assert_eq!(send(client().get(format!("{}/__emulator/faults", emulator.base_url))).await.0, 200);
}

#[tokio::test]
async fn an_absurd_retry_after_comes_with_each_platforms_429() {
    let wait = u64::MAX;
    let mut hostile = config(8, 10);
    hostile.faults = FaultConfig { retry_after_secs: Some(wait), huge_body_bytes: Some(10), ..FaultConfig::default() };
    let emulator = start(Platform::Klaviyo, hostile.clone()).await;
    let response = klaviyo(&emulator, Method::GET, "profiles").send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "18446744073709551615");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["code"], "throttled");

    let emulator = start(Platform::Mailchimp, hostile).await;
    let response = mailchimp(&emulator, Method::GET, "ping").send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "18446744073709551615");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["title"], "Too Many Requests");
    emulator.set_faults(FaultConfig::default());
    assert_eq!(send(mailchimp(&emulator, Method::GET, "ping")).await.0, 200);
}

#[tokio::test]
async fn klaviyo_next_links_go_round_in_a_circle() {
    // 30 profiles: two real pages of 20, and one list: a single page.
    let emulator = start(Platform::Klaviyo, config(9, 30)).await;
    emulator.set_faults(FaultConfig { paging_loop: true, ..FaultConfig::default() });
    for first in ["profiles?page[size]=20", "lists"] {
        let (status, a) = send(klaviyo(&emulator, Method::GET, first)).await;
        assert_eq!(status, 200, "{a}");
        let b_link = a["links"]["next"].as_str().expect("A points at B").to_owned();
        assert!(b_link.contains("page%5Bcursor%5D="), "{b_link}");
        let (_, b) = send(klaviyo(&emulator, Method::GET, &b_link)).await;
        let a_link = b["links"]["next"].as_str().expect("B points back at A").to_owned();
        assert!(!a_link.contains("cursor"), "{a_link}");
        let (_, again) = send(klaviyo(&emulator, Method::GET, &a_link)).await;
        assert_eq!(again["data"], a["data"], "{first}: A again");
        assert_eq!(again["links"]["next"].as_str(), Some(b_link.as_str()), "{first}: and B after it");
    }
    emulator.set_faults(FaultConfig::default());
    let (_, lists) = send(klaviyo(&emulator, Method::GET, "lists")).await;
    assert!(lists["links"]["next"].is_null(), "{lists}");
}

#[tokio::test]
async fn mailchimp_pages_never_end() {
    let mut endless = config(10, 100);
    endless.faults = FaultConfig { paging_loop: true, ..FaultConfig::default() };
    let emulator = start(Platform::Mailchimp, endless).await;
    let list_id = emulator.mailchimp().expect("mailchimp").lists()[0].id.clone();
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
