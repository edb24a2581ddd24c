//! Fault knobs, set at start, through the control endpoint or the handle,
//! answered in Klaviyo's shape.

use cutover_emulator_kit::FaultConfig;
use reqwest::Method;
use serde_json::json;

use crate::harness::{client, config, klaviyo, send, start};

#[tokio::test]
async fn a_429_storm_is_set_through_the_control_endpoint() {
    let emulator = start(config(1, 10)).await;
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
async fn server_errors_use_klaviyos_error_shape() {
    let mut broken = config(2, 10);
    broken.settings.faults = FaultConfig { rate_5xx: 1.0, ..FaultConfig::default() };
    let emulator = start(broken).await;
    let (status, body) = send(klaviyo(&emulator, Method::GET, "lists")).await;
    assert_eq!((status, body["errors"][0]["status"].as_u64()), (500, Some(500)));
}

#[tokio::test]
async fn a_page_fails_once_then_succeeds() {
    let emulator = start(config(4, 100)).await;
    emulator.set_faults(FaultConfig { fail_page_once: Some(1), ..FaultConfig::default() });
    let (status, first) = send(klaviyo(&emulator, Method::GET, "profiles?page[size]=10")).await;
    assert_eq!(status, 200);
    let next = first["links"]["next"].as_str().expect("next").to_owned();
    assert_eq!(send(klaviyo(&emulator, Method::GET, &next)).await.0, 500);
    assert_eq!(send(klaviyo(&emulator, Method::GET, &next)).await.0, 200);
}

#[tokio::test]
async fn latency_holds_requests_in_flight() {
    let emulator = start(config(6, 10)).await;
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
async fn the_largest_huge_body_is_streamed_a_chunk_at_a_time() {
    // Nothing is allocated up front: the largest body ever asked for is
    // served as readily, a chunk at a time, and dropped half read.
    let mut endless = config(7, 10);
    endless.settings.faults = FaultConfig { huge_body_bytes: Some(u64::MAX), ..FaultConfig::default() };
    let emulator = start(endless).await;
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
async fn an_absurd_retry_after_comes_with_klaviyos_429() {
    let mut hostile = config(8, 10);
    hostile.settings.faults =
        FaultConfig { retry_after_secs: Some(u64::MAX), huge_body_bytes: Some(10), ..FaultConfig::default() };
    let emulator = start(hostile).await;
    let response = klaviyo(&emulator, Method::GET, "profiles").send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "18446744073709551615");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["code"], "throttled");
}

#[tokio::test]
async fn klaviyo_next_links_go_round_in_a_circle() {
    // 30 profiles: two real pages of 20, and one list: a single page.
    let emulator = start(config(9, 30)).await;
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
