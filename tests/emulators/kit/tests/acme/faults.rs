//! Every fault knob, answered in the vendor's shape (Acme's), whatever the
//! vendor.

use cutover_emulator_kit::{FaultConfig, Settings};
use serde_json::{Value, json};

use crate::acme::start;

fn ping(emulator: &cutover_emulator_kit::RunningEmulator<crate::acme::People>, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new().get(format!("{}{path}", emulator.base_url)).bearer_auth(&emulator.api_key)
}

async fn status(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.expect("an answer").status().as_u16()
}

#[tokio::test]
async fn a_storm_of_429s_counts_down() {
    let emulator = start(Settings::new(1, 5), usize::MAX).await;
    emulator.set_faults(FaultConfig { burst_429: 2, ..FaultConfig::default() });
    let first = ping(&emulator, "/v1/ping").send().await.expect("an answer");
    assert_eq!(first.status().as_u16(), 429);
    let body: Value = first.json().await.expect("JSON");
    assert_eq!(body, json!({"error": "slow down", "told": false}));
    assert_eq!(emulator.faults().burst_429, 1);
    assert_eq!(status(ping(&emulator, "/v1/ping")).await, 429);
    assert_eq!(status(ping(&emulator, "/v1/ping")).await, 200);
}

#[tokio::test]
async fn server_errors_alternate_500_and_503_in_the_vendors_shape() {
    let mut broken = Settings::new(2, 5);
    broken.faults = FaultConfig { rate_5xx: 1.0, ..FaultConfig::default() };
    let emulator = start(broken, usize::MAX).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = ping(&emulator, "/v1/ping").send().await.expect("an answer");
        let code = response.status().as_u16();
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["status"].as_u64(), Some(u64::from(code)));
        statuses.push(code);
    }
    assert_eq!(statuses, [500, 503, 500, 503]);
}

#[tokio::test]
async fn random_faults_repeat_for_the_same_seed() {
    let mut noisy = Settings::new(3, 5);
    noisy.faults = FaultConfig { rate_429: 0.3, rate_5xx: 0.2, drop_rate: 0.1, ..FaultConfig::default() };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let emulator = start(noisy.clone(), usize::MAX).await;
        let mut outcomes = Vec::new();
        for _ in 0..40 {
            outcomes.push(ping(&emulator, "/v1/ping").send().await.map(|response| response.status().as_u16()).ok());
        }
        runs.push(outcomes);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].contains(&Some(200)) && runs[0].contains(&Some(429)) && runs[0].contains(&None));
}

#[tokio::test]
async fn dropped_connections_get_no_answer() {
    let emulator = start(Settings::new(4, 5), usize::MAX).await;
    emulator.set_faults(FaultConfig { drop_next: 2, ..FaultConfig::default() });
    assert!(ping(&emulator, "/v1/ping").send().await.is_err());
    assert!(ping(&emulator, "/v1/ping").send().await.is_err());
    assert_eq!(status(ping(&emulator, "/v1/ping")).await, 200);
}

#[tokio::test]
async fn latency_holds_requests_in_flight() {
    let emulator = start(Settings::new(5, 5), usize::MAX).await;
    emulator.set_faults(FaultConfig { latency_ms: 1500, ..FaultConfig::default() });
    let slow = tokio::spawn(ping(&emulator, "/v1/ping").send());
    while emulator.requests_in_flight() == 0 && !slow.is_finished() {
        tokio::task::yield_now().await;
    }
    assert_eq!(emulator.requests_in_flight(), 1);
    assert_eq!(slow.await.expect("finishes").expect("an answer").status().as_u16(), 200);
    assert_eq!(emulator.requests_in_flight(), 0);
}

#[tokio::test]
async fn a_page_fails_once_in_either_paging_style() {
    let emulator = start(Settings::new(6, 30), usize::MAX).await;
    emulator.set_faults(FaultConfig { fail_page_once: Some(1), ..FaultConfig::default() });
    assert_eq!(status(ping(&emulator, "/v1/contacts?offset=0&count=10")).await, 200);
    assert_eq!(status(ping(&emulator, "/v1/contacts?offset=10&count=10")).await, 500);
    assert_eq!(status(ping(&emulator, "/v1/contacts?offset=10&count=10")).await, 200);
    let first: Value =
        ping(&emulator, "/v1/people?page[size]=5").send().await.expect("answer").json().await.expect("JSON");
    let next = first["links"]["next"].as_str().expect("a second page").to_owned();
    let again = |url: String| reqwest::Client::new().get(url).bearer_auth(&emulator.api_key);
    assert_eq!(status(again(next.clone())).await, 500);
    assert_eq!(status(again(next)).await, 200);
    // A request that names no page never fails this way.
    assert_eq!(status(ping(&emulator, "/v1/ping")).await, 200);
}

#[tokio::test]
async fn a_huge_body_is_streamed_in_chunks_without_a_length() {
    let emulator = start(Settings::new(7, 5), usize::MAX).await;
    emulator.set_faults(FaultConfig { huge_body_bytes: Some(300_000), ..FaultConfig::default() });
    let response = ping(&emulator, "/v1/ping").send().await.expect("an answer");
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers().get("content-length").is_none());
    let body = response.bytes().await.expect("the body");
    assert_eq!(body.len(), 300_000);
    assert!(body.starts_with(br#"{"filler":"x"#) && body.ends_with(br#"x"}"#));
    emulator.set_faults(FaultConfig { huge_body_bytes: Some(5), ..FaultConfig::default() });
    let tiny = ping(&emulator, "/v1/ping").send().await.expect("an answer").bytes().await.expect("the body");
    assert_eq!(&tiny[..], b"xxxxx", "shorter than the braces: only filler");
}

#[tokio::test]
async fn an_absurd_wait_comes_first_in_the_vendors_429() {
    let mut hostile = Settings::new(8, 5);
    hostile.faults = FaultConfig {
        retry_after_secs: Some(u64::MAX),
        huge_body_bytes: Some(10),
        burst_429: 1,
        ..FaultConfig::default()
    };
    let emulator = start(hostile, usize::MAX).await;
    let response = ping(&emulator, "/v1/ping").send().await.expect("an answer");
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "18446744073709551615");
    assert_eq!(response.json::<Value>().await.expect("JSON")["told"], true);
    assert_eq!(emulator.faults().burst_429, 1, "nothing behind it was taken");
}

#[tokio::test]
async fn paging_never_ends_in_either_style() {
    let mut endless = Settings::new(9, 12);
    endless.faults = FaultConfig { paging_loop: true, ..FaultConfig::default() };
    let emulator = start(endless, usize::MAX).await;
    let page = |offset: u64| ping(&emulator, &format!("/v1/contacts?offset={offset}&count=5"));
    let first: Value = page(0).send().await.expect("answer").json().await.expect("JSON");
    assert_eq!(first["total_items"].as_u64(), Some(FaultConfig::ENDLESS_TOTAL_ITEMS));
    for offset in [5, 1_000_000_000] {
        let later: Value = page(offset).send().await.expect("answer").json().await.expect("JSON");
        assert_eq!(later, first, "offset {offset}");
    }
    let get = |url: String| reqwest::Client::new().get(url).bearer_auth(&emulator.api_key);
    let a: Value = get(format!("{}/v1/people?page[size]=5", emulator.base_url))
        .send()
        .await
        .expect("A")
        .json()
        .await
        .expect("JSON");
    let b_link = a["links"]["next"].as_str().expect("A points at B").to_owned();
    let b: Value = get(b_link.clone()).send().await.expect("B").json().await.expect("JSON");
    let a_link = b["links"]["next"].as_str().expect("B points back at A").to_owned();
    assert!(!a_link.contains("cursor"), "{a_link}");
    let again: Value = get(a_link).send().await.expect("A again").json().await.expect("JSON");
    assert_eq!((again["data"].clone(), again["links"]["next"].as_str()), (a["data"].clone(), Some(b_link.as_str())));
}
