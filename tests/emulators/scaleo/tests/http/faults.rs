//! Fault knobs answered in Scaleo's envelope, the paging loop in its
//! headers, and the rate limit per key.

use cutover_emulator_kit::FaultConfig;
use cutover_emulator_scaleo::ScaleoRateLimit;
use reqwest::Method;
use serde_json::json;

use crate::harness::{config, number, scaleo, send, start};

#[tokio::test]
async fn a_429_storm_from_the_control_endpoint_is_answered_in_the_envelope() {
    let emulator = start(config(1, 10)).await;
    let control = format!("{}/__emulator/faults", emulator.base_url);
    let (status, _, _) = send(reqwest::Client::new().post(&control).json(&json!({"burst_429": 2}))).await;
    assert_eq!(status, 200);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (status, headers, body) = send(scaleo(&emulator, Method::GET, "network/offers")).await;
        if status == 429 {
            assert_eq!(headers["retry-after"], "1");
            assert_eq!(body["name"], "Too Many Requests");
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [429, 429, 200]);
}

#[tokio::test]
async fn server_errors_and_a_page_that_fails_once() {
    let mut broken = config(2, 10);
    broken.settings.faults = FaultConfig { rate_5xx: 1.0, ..FaultConfig::default() };
    let emulator = start(broken).await;
    let (status, _, body) = send(scaleo(&emulator, Method::GET, "network/offers")).await;
    assert_eq!((status, body["status"].as_str(), body["code"].as_u64()), (500, Some("error"), Some(500)));
    emulator.set_faults(FaultConfig { fail_page_once: Some(1), ..FaultConfig::default() });
    let page_two = || scaleo(&emulator, Method::GET, "network/affiliates").query(&[("page", "2"), ("perPage", "3")]);
    assert_eq!(send(page_two()).await.0, 500);
    assert_eq!(send(page_two()).await.0, 200);
}

#[tokio::test]
async fn the_paging_loop_claims_endless_pages_in_the_headers() {
    let emulator = start(config(3, 30)).await;
    emulator.set_faults(FaultConfig { paging_loop: true, ..FaultConfig::default() });
    let (status, headers, first) =
        send(scaleo(&emulator, Method::GET, "network/affiliates").query(&[("perPage", "10"), ("page", "1")])).await;
    assert_eq!(status, 200);
    assert_eq!(number(&headers, "x-pagination-total-count"), FaultConfig::ENDLESS_TOTAL_ITEMS);
    let (_, _, fourth) =
        send(scaleo(&emulator, Method::GET, "network/affiliates").query(&[("perPage", "10"), ("page", "4")])).await;
    assert_eq!(first["info"], fourth["info"], "every page is the first");
}

#[tokio::test]
async fn the_rate_limit_is_per_key_with_retry_after() {
    let mut limited = config(4, 10);
    limited.rate_limit = ScaleoRateLimit { burst_per_second: 2, steady_per_minute: 100 };
    let emulator = start(limited).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (status, headers, body) = send(scaleo(&emulator, Method::GET, "network/offers")).await;
        if status == 429 {
            assert!(number(&headers, "retry-after") >= 1);
            assert_eq!(body["code"], 429);
        }
        statuses.push(status);
    }
    assert_eq!(statuses, [200, 200, 429]);
    let affiliate_key = emulator.state().affiliate_key();
    let (status, _, _) =
        send(crate::harness::with_key(&emulator, Method::GET, "affiliate/profile", &affiliate_key)).await;
    assert_eq!(status, 200, "another key has its own bucket");
}
