//! The emulator over HTTP: both keys or a 401, paging with its hypermedia,
//! the cursor mode, v3's refusal of unknown properties, the job flows, the
//! rate-limit headers and a fault injected through the kit, each answered
//! in its URL generation's shape.

use cutover_emulator_kit::auth::basic_credentials;
use cutover_emulator_partnerize::{Account, Bucket, FaultConfig, PartnerizeSettings, RunningEmulator, start_with};
use serde_json::{Value, json};

async fn emulator(records: usize) -> RunningEmulator<Account> {
    start_with(PartnerizeSettings::new(11, records)).await.expect("started")
}

fn auth(emulator: &RunningEmulator<Account>) -> String {
    basic_credentials(emulator.state().application_key(), &emulator.api_key)
}

async fn call(
    emulator: &RunningEmulator<Account>,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", emulator.base_url))
        .header("authorization", auth(emulator));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

async fn get(emulator: &RunningEmulator<Account>, path: &str) -> (u16, Value) {
    let (status, _, body) = call(emulator, reqwest::Method::GET, path, None).await;
    (status, body)
}

#[tokio::test]
async fn both_keys_are_needed_and_refusals_come_in_each_generations_shape() {
    let emulator = emulator(5).await;
    let client = reqwest::Client::new();
    for (path, expected) in [
        ("/network/1l1000003/publisher", json!({"error": {"message": "Invalid credentials", "type": "401"}})),
        ("/v2/networks/1l1000003/publishers", json!("unauthorized")),
        ("/v3/brand/campaigns", json!("39b4b7c2-e5b9-41b1-83d4-db3b23b5ebfa")),
    ] {
        // The right API key under another application key.
        let wrong = basic_credentials("someone-else", &emulator.api_key);
        let response = client
            .get(format!("{}{path}", emulator.base_url))
            .header("authorization", wrong)
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status().as_u16(), 401, "{path}");
        let body: Value = response.json().await.expect("JSON");
        match path {
            "/network/1l1000003/publisher" => assert_eq!(body, expected),
            "/v2/networks/1l1000003/publishers" => assert_eq!(body["error"]["errors"][0]["type"], expected),
            _ => assert_eq!(body["error"]["errors"][0]["code"], expected),
        }
    }
    let none = client.get(format!("{}/v3/brand/campaigns", emulator.base_url)).send().await.expect("an answer");
    assert_eq!(none.status().as_u16(), 401);
}

#[tokio::test]
async fn lists_page_by_offset_and_limit_with_relative_hypermedia_links() {
    let emulator = emulator(23).await;
    let (status, first) = get(&emulator, "/network/1l1000003/publisher?limit=10").await;
    assert_eq!(status, 200);
    assert_eq!(first["count"], 10);
    assert!(first["publishers"][0]["publisher"]["publisher_id"].is_string(), "{first}");
    let pagination = &first["hypermedia"]["pagination"];
    assert_eq!(pagination["total_item_count"], 23);
    assert_eq!(pagination["total_page_count"], 3);
    assert_eq!(pagination["next_page"], "/network/1l1000003/publisher?offset=10&limit=10");
    let (_, last) = get(&emulator, "/network/1l1000003/publisher?offset=20&limit=10").await;
    assert_eq!(last["count"], 3);
    assert!(last["hypermedia"]["pagination"]["next_page"].is_null());
    let (status, refused) = get(&emulator, "/v3/brand/campaigns?limit=501").await;
    assert_eq!(status, 400);
    assert_eq!(refused["error"]["errors"][0]["type"], "invalid_upper_bound");
    let (status, unknown) = get(&emulator, "/v2/nowhere").await;
    assert_eq!((status, unknown["error"]["errors"][0]["type"].clone()), (404, json!("routing_error")));
}

#[tokio::test]
async fn the_conversion_report_pages_by_cursor_without_totals() {
    let emulator = emulator(40).await;
    let campaign = emulator.state().settled().campaigns[0].campaign_id.clone();
    let expected = emulator.state().settled().conversions.iter().filter(|c| c.campaign_id == campaign).count();
    let mut next = Some(format!(
        "/reporting/report_advertiser/campaign/{campaign}/conversion.json?start_date=2000-01-01&end_date=2030-01-01&cursor_id=&limit=4"
    ));
    let mut seen = 0;
    while let Some(path) = next {
        let (status, page) = get(&emulator, &path).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.get("total_value").is_none());
        seen += page["conversions"].as_array().map_or(0, Vec::len);
        next = page["hypermedia"]["pagination"]["next_page"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, expected);
    let (status, refused) = get(
        &emulator,
        &format!("/reporting/report_advertiser/campaign/{campaign}/conversion.json?start_date=2000-01-01"),
    )
    .await;
    assert_eq!((status, refused["error"]["fields"]["end_date"].clone()), (400, json!("end_date is required")));
}

#[tokio::test]
async fn v3_refuses_body_properties_it_does_not_define() {
    let emulator = emulator(5).await;
    let campaign = emulator.state().settled().campaigns[0].campaign_id.clone();
    let (status, _, body) = call(
        &emulator,
        reqwest::Method::PATCH,
        &format!("/v3/brand/campaigns/{campaign}"),
        Some(json!({"title": "New title", "colour": "red"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["errors"][0]["property"], "colour");
    assert_eq!(body["error"]["code"], "400");
    let (status, _, body) = call(
        &emulator,
        reqwest::Method::PATCH,
        &format!("/v3/brand/campaigns/{campaign}"),
        Some(json!({"title": "New title"})),
    )
    .await;
    assert_eq!((status, body["data"]["title"].clone()), (200, json!("New title")));
}

async fn wait_for_v3_job(emulator: &RunningEmulator<Account>, job: &str) -> Value {
    for _ in 0..50 {
        let (_, body) = get(emulator, &format!("/v3/jobs/{job}")).await;
        if body["data"]["status"].as_str().is_some_and(|status| status.starts_with("complete")) {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("job {job} never completed");
}

#[tokio::test]
async fn a_transaction_query_makes_a_conversion_and_the_bulk_update_changes_it_through_jobs() {
    let emulator = emulator(10).await;
    let (publisher, campaign, camref) = {
        let store = emulator.state().settled();
        let part =
            store.participations.iter().find(|part| part.campaign_status == "a").expect("an approved partner").clone();
        (part.publisher_id, part.campaign_id, part.camref)
    };
    let query = json!({"transaction_queries": [{
        "transaction_query_type": "untracked", "camref": camref, "conversion_reference": "ORD-NEW-1",
        "conversion_value": 49.95, "conversion_currency": "EUR", "expected_commission": 4.99,
        "conversion_date_time": "2026-01-02 03:04:05"}]});
    let (status, _, created) =
        call(&emulator, reqwest::Method::POST, &format!("/user/publisher/{publisher}/tq/create"), Some(query)).await;
    assert_eq!(status, 200);
    let job = created["job"]["job_id"].as_str().expect("a job").to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    let (_, polled) = get(&emulator, &format!("/job/{job}")).await;
    assert_eq!(polled["job"]["status"], "complete");
    let (_, response) = get(&emulator, &format!("/job/{job}/response.json")).await;
    let tq = &response["responses"][0]["transaction_query"];
    let conversion = tq["conversion_id"].as_str().expect("a conversion").to_owned();
    let tq_id = tq["transaction_query_id"].as_str().expect("an id").to_owned();
    let (status, _, approved) =
        call(&emulator, reqwest::Method::POST, &format!("/campaign/{campaign}/tq/{tq_id}/approve"), None).await;
    assert_eq!((status, approved["transaction_query"]["current_state"].clone()), (200, json!("approved")));
    let (status, _, again) =
        call(&emulator, reqwest::Method::POST, &format!("/campaign/{campaign}/tq/{tq_id}/reject"), None).await;
    assert_eq!(status, 405, "{again}");

    let bulk = format!("/v3/brand/campaigns/{campaign}/conversions/bulk");
    let (status, _, refused) = call(
        &emulator,
        reqwest::Method::POST,
        &bulk,
        Some(json!({"conversions": [{"conversion_id": conversion, "status": "rejected", "colour": "red"}]})),
    )
    .await;
    assert_eq!((status, refused["error"]["errors"][0]["property"].clone()), (400, json!("conversions[0].colour")));
    let (status, _, accepted) = call(
        &emulator,
        reqwest::Method::POST,
        &bulk,
        Some(json!({"conversions": [{"conversion_id": conversion, "status": "rejected", "reason": "Returned: refund #12"}, {"conversion_id": "nope", "status": "approved"}]})),
    )
    .await;
    assert_eq!(status, 202, "{accepted}");
    let job = accepted["data"]["id"].as_str().expect("a job").to_owned();
    let done = wait_for_v3_job(&emulator, &job).await;
    assert_eq!(done["data"]["tasks"], json!({"total": 2, "complete": 1, "failed": 1}));
    let (_, tasks) = get(&emulator, &format!("/v3/jobs/{job}/tasks")).await;
    assert_eq!(tasks["data"][1]["status"], "failed");
    let store = emulator.state().settled();
    let stored = store.conversions.iter().find(|c| c.conversion_id == conversion).expect("stored");
    assert_eq!(stored.conversion_status, "rejected");
}

#[tokio::test]
async fn every_answer_reports_the_bucket_and_an_empty_one_is_a_429_with_its_wait() {
    let mut settings = PartnerizeSettings::new(3, 3);
    settings.bucket = Bucket { capacity: 2, refill_per_second: 0.5 };
    let emulator = start_with(settings).await.expect("started");
    let (status, headers, _) = call(&emulator, reqwest::Method::GET, "/v3/brand/campaigns", None).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-ratelimit-limit"], "2");
    assert_eq!(headers["x-ratelimit-remaining"], "1");
    call(&emulator, reqwest::Method::GET, "/v3/brand/campaigns", None).await;
    let (status, headers, body) = call(&emulator, reqwest::Method::GET, "/v3/brand/campaigns", None).await;
    assert_eq!(status, 429);
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert_eq!(headers["x-ratelimit-retry-after"], "2");
    assert_eq!(body["error"]["errors"][0]["type"], "too_many_requests");
    let (status, _, body) = call(&emulator, reqwest::Method::GET, "/campaign", None).await;
    assert_eq!((status, body), (429, json!({"error": {"message": "Too Many Requests", "type": "429"}})));
}

#[tokio::test]
async fn faults_from_the_kit_answer_in_the_generations_shape_and_seeded_counts_are_served() {
    let emulator = emulator(12).await;
    emulator.set_faults(FaultConfig { burst_429: 2, ..FaultConfig::default() });
    let (status, body) = get(&emulator, "/v2/networks/1l1000003/publishers").await;
    assert_eq!((status, body), (429, json!({"error": {"errors": [], "code": "429", "message": "Too Many Requests"}})));
    let (status, body) = get(&emulator, "/v3/brand/campaigns").await;
    assert_eq!((status, body["error"]["code"].clone()), (429, json!("429")));
    let (status, _) = get(&emulator, "/v3/brand/campaigns").await;
    assert_eq!(status, 200);
    let seeded: Value = reqwest::get(format!("{}/__emulator/partnerize/seeded", emulator.base_url))
        .await
        .expect("an answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(seeded["partners"], 12);
    assert!(seeded["conversions"].as_u64().is_some_and(|count| count > 0), "{seeded}");
}
