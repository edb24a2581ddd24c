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
