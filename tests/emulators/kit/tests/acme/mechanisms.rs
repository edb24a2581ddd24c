//! Auth, paging styles, rate-limit windows, the concurrency cap, trailing
//! slashes, seeding and the control routes, on the Acme vendor.

use std::collections::HashSet;

use cutover_emulator_kit::{FaultConfig, Settings};
use serde_json::{Value, json};

use crate::acme::start;

/// Status, headers and JSON body of a `GET` with the emulator's key.
async fn get(base_url: &str, key: Option<&str>, path: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let url = if path.starts_with("http") { path.to_owned() } else { format!("{base_url}{path}") };
    let mut request = reqwest::Client::new().get(url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a body");
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn the_key_is_required_in_an_accepted_scheme() {
    let emulator = start(Settings::new(1, 5), usize::MAX).await;
    let (status, _, body) = get(&emulator.base_url, None, "/v1/ping").await;
    assert_eq!((status, body), (401, json!({"error": "missing"})));
    let (status, _, body) = get(&emulator.base_url, Some("wrong"), "/v1/ping").await;
    assert_eq!((status, body), (401, json!({"error": "invalid"})));
    let basic = reqwest::Client::new()
        .get(format!("{}/v1/ping", emulator.base_url))
        .basic_auth("anyone", Some(&emulator.api_key))
        .send()
        .await
        .expect("an answer");
    assert_eq!(basic.status().as_u16(), 401, "Basic is not one of Acme's schemes");
    let (status, _, body) = get(&emulator.base_url, Some(&emulator.api_key), "/v1/ping").await;
    assert_eq!((status, body), (200, json!({"pong": true})));
}

#[tokio::test]
async fn offset_pages_walk_every_item_once_with_a_total() {
    let emulator = start(Settings::new(2, 23), usize::MAX).await;
    let mut seen = Vec::new();
    for offset in (0..23).step_by(7) {
        let path = format!("/v1/contacts?offset={offset}&count=7");
        let (status, _, body) = get(&emulator.base_url, Some(&emulator.api_key), &path).await;
        assert_eq!((status, body["total_items"].as_u64()), (200, Some(23)));
        seen.extend(body["contacts"].as_array().expect("contacts").iter().cloned());
    }
    let expected: Vec<Value> = emulator.state().read().expect("readable").iter().map(|email| json!(email)).collect();
    assert_eq!(seen, expected);
    let (status, _, _) = get(&emulator.base_url, Some(&emulator.api_key), "/v1/contacts?count=101").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn cursor_links_walk_every_item_once() {
    let emulator = start(Settings::new(3, 12), usize::MAX).await;
    let mut next = Some(format!("{}/v1/people?page[size]=5", emulator.base_url));
    let mut ids = Vec::new();
    while let Some(url) = next {
        let (status, _, body) = get(&emulator.base_url, Some(&emulator.api_key), &url).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["links"]["self"].as_str().is_some_and(|link| link.starts_with(&emulator.base_url)));
        ids.extend(
            body["data"].as_array().expect("data").iter().filter_map(|item| item["id"].as_str().map(str::to_owned)),
        );
        next = body["links"]["next"].as_str().map(str::to_owned);
    }
    assert_eq!((ids.len(), ids.iter().collect::<HashSet<_>>().len()), (12, 12));
    // The vendor's links may end in a slash; the route is served either way.
    assert_eq!(get(&emulator.base_url, Some(&emulator.api_key), "/v1/people/?page[size]=5").await.0, 200);
}

#[tokio::test]
async fn windows_count_per_endpoint_and_send_their_headers() {
    let emulator = start(Settings::new(4, 1), usize::MAX).await;
    for remaining in ["2", "1"] {
        let (status, headers, _) = get(&emulator.base_url, Some(&emulator.api_key), "/v1/limited").await;
        assert_eq!(status, 200);
        assert_eq!(headers["ratelimit-limit"], "3");
        assert_eq!(headers["ratelimit-remaining"], remaining);
        assert!(headers.contains_key("ratelimit-reset"));
    }
    // The burst second is used up: the vendor's 429 with the wait.
    let (status, headers, body) = get(&emulator.base_url, Some(&emulator.api_key), "/v1/limited").await;
    assert_eq!((status, body["told"].as_bool()), (429, Some(true)));
    assert_eq!(headers["retry-after"], "1");
    assert!(!headers.contains_key("ratelimit-limit"));
    // Another endpoint has its own windows.
    let (status, headers, _) = get(&emulator.base_url, Some(&emulator.api_key), "/v1/ping").await;
    assert_eq!((status, headers["ratelimit-limit"].to_str().ok()), (200, Some("100000")));
}

#[tokio::test]
async fn one_request_over_the_cap_is_refused() {
    let emulator = start(Settings::new(5, 1), 1).await;
    emulator.set_faults(FaultConfig { latency_ms: 2000, ..FaultConfig::default() });
    let base_url = emulator.base_url.clone();
    let key = emulator.api_key.clone();
    let slow = tokio::spawn(async move { get(&base_url, Some(&key), "/v1/ping").await.0 });
    while emulator.requests_in_flight() == 0 && !slow.is_finished() {
        tokio::task::yield_now().await;
    }
    let (status, headers, body) = get(&emulator.base_url, Some(&emulator.api_key), "/v1/ping").await;
    assert_eq!((status, body["told"].as_bool()), (429, Some(false)));
    assert!(!headers.contains_key("retry-after"));
    assert_eq!(slow.await.expect("finishes"), 200);
}

#[tokio::test]
async fn seeding_is_deterministic_and_the_key_derives_from_the_seed() {
    let first = start(Settings::new(6, 50), usize::MAX).await;
    let second = start(Settings::new(6, 50), usize::MAX).await;
    let other = start(Settings::new(7, 50), usize::MAX).await;
    let people = |emulator: &cutover_emulator_kit::RunningEmulator<crate::acme::People>| {
        emulator.state().read().expect("readable").clone()
    };
    assert_eq!(people(&first), people(&second));
    assert_ne!(people(&first), people(&other));
    assert_eq!(first.api_key, second.api_key);
    assert_ne!(first.api_key, other.api_key);
    let mut chosen = Settings::new(6, 1);
    chosen.api_key = Some("chosen".to_owned());
    assert_eq!(start(chosen, usize::MAX).await.api_key, "chosen");
}

#[tokio::test]
async fn control_routes_need_no_key_and_take_no_faults() {
    let mut broken = Settings::new(8, 9);
    broken.faults = FaultConfig { rate_5xx: 1.0, drop_rate: 1.0, ..FaultConfig::default() };
    let emulator = start(broken, usize::MAX).await;
    let (status, _, body) = get(&emulator.base_url, None, "/__emulator/acme/seeded").await;
    assert_eq!((status, body), (200, json!({"people": 9})));
    let (status, _, faults) = get(&emulator.base_url, None, "/__emulator/faults").await;
    assert_eq!((status, faults["rate_5xx"].as_f64()), (200, Some(1.0)));
    let set = reqwest::Client::new()
        .post(format!("{}/__emulator/faults", emulator.base_url))
        .json(&json!({"latency_ms": 5}))
        .send()
        .await
        .expect("an answer");
    let set: Value = set.json().await.expect("JSON");
    assert_eq!((set["latency_ms"].as_u64(), set["rate_5xx"].as_f64()), (Some(5), Some(0.0)), "unnamed knobs reset");
    assert_eq!(emulator.faults(), FaultConfig { latency_ms: 5, ..FaultConfig::default() });
    let unknown = reqwest::Client::new()
        .post(format!("{}/__emulator/faults", emulator.base_url))
        .json(&json!({"no_such_knob": 1}))
        .send()
        .await
        .expect("an answer");
    assert!(unknown.status().is_client_error());
}
