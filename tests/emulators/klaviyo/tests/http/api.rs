//! The Klaviyo emulator: auth and revision, cursor paging, profiles, jobs,
//! events, rate limits.

use std::collections::HashSet;

use cutover_emulator_klaviyo::KlaviyoRateLimit;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Emulator, client, config, klaviyo, klaviyo_at, send, start};

fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["code"].as_str()
}

#[tokio::test]
async fn key_and_revision_are_required() {
    let emulator = start(config(1, 10)).await;
    let url = format!("{}/api/profiles", emulator.base_url);
    let (status, body) = send(client().get(&url).header("revision", "2024-10-15")).await;
    assert_eq!((status, error_code(&body)), (401, Some("not_authenticated")));
    let wrong = client().get(&url).header("revision", "2024-10-15").header("Authorization", "Klaviyo-API-Key pk_wrong");
    let (status, body) = send(wrong).await;
    assert_eq!((status, error_code(&body)), (401, Some("authentication_failed")));
    assert!(body["errors"][0]["id"].is_string() && body["errors"][0]["title"].is_string());

    let no_revision = client().get(&url).header("Authorization", format!("Klaviyo-API-Key {}", emulator.api_key));
    let (status, body) = send(no_revision).await;
    assert_eq!((status, error_code(&body)), (400, Some("invalid")));
    assert_eq!(body["errors"][0]["source"]["parameter"], "revision");
    let ancient = klaviyo_at(&emulator, Method::GET, "profiles", "2019-01-01");
    assert_eq!(send(ancient).await.0, 400);
    let beta = klaviyo_at(&emulator, Method::GET, "profiles", "2024-02-15.pre");
    assert_eq!(send(beta).await.0, 200);
    // Klaviyo's own links end in a slash; both forms are served.
    assert_eq!(send(klaviyo(&emulator, Method::GET, "profiles/")).await.0, 200);
}

async fn walk(emulator: &Emulator, first: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(url) = next {
        let (status, body) = send(klaviyo(emulator, Method::GET, &url)).await;
        assert_eq!(status, 200, "{body}");
        items.extend(body["data"].as_array().expect("data").iter().cloned());
        next = body["links"]["next"].as_str().map(str::to_owned);
        if let Some(url) = &next {
            assert!(url.starts_with(&emulator.base_url), "links.next is absolute: {url}");
        }
    }
    items
}

#[tokio::test]
async fn cursor_paging_walks_every_profile_once() {
    let emulator = start(config(2, 123)).await;
    let profiles = walk(&emulator, "profiles?page[size]=7").await;
    let ids: Vec<&str> = profiles.iter().filter_map(|profile| profile["id"].as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!((ids.len(), unique.len()), (123, 123));
    let state = emulator.state();
    let expected: Vec<String> = state.profiles().into_iter().map(|profile| profile.id).collect();
    assert_eq!(ids, expected.iter().map(String::as_str).collect::<Vec<_>>());

    let sorted = walk(&emulator, "profiles?page[size]=50&sort=-updated").await;
    assert_eq!(sorted.len(), 123);

    let list_id = state.lists()[0].0.clone();
    let members = walk(&emulator, &format!("lists/{list_id}/profiles?page[size]=9")).await;
    assert_eq!(members.len(), state.list_members(&list_id).len());

    let (status, body) = send(klaviyo(&emulator, Method::GET, "profiles?page[size]=101")).await;
    assert_eq!((status, body["errors"][0]["source"]["parameter"].as_str()), (400, Some("page[size]")));
    let (status, _) = send(klaviyo(&emulator, Method::GET, "lists?page[size]=11")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn filters_and_consent_fields() {
    let emulator = start(config(3, 200)).await;
    let state = emulator.state();
    let profile = state.profiles()[5].clone();
    let email = profile.email.clone().expect("seeded email");
    let (_, body) = send(klaviyo(
        &emulator,
        Method::GET,
        &format!("profiles?filter=equals(email,'{email}')&additional-fields[profile]=subscriptions"),
    ))
    .await;
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1));
    let marketing = &body["data"][0]["attributes"]["subscriptions"]["email"]["marketing"];
    assert_eq!(marketing["consent"], json!(profile.email_consent.consent));
    let (_, body) = send(klaviyo(&emulator, Method::GET, "profiles?page[size]=1")).await;
    assert!(body["data"][0]["attributes"].get("subscriptions").is_none());

    let (_, recent) = send(klaviyo(
        &emulator,
        Method::GET,
        "profiles?filter=greater-than(updated,2026-06-01T00:00:00Z)&page[size]=100",
    ))
    .await;
    let expected =
        state.profiles().iter().filter(|p| p.updated.to_rfc3339().as_str() > "2026-06-01T00:00:00+00:00").count();
    assert_eq!(recent["data"].as_array().map(Vec::len), Some(expected.min(100)));

    let (status, body) = send(klaviyo(&emulator, Method::GET, "profiles?filter=equals(nickname,'x')")).await;
    assert_eq!((status, error_code(&body)), (400, Some("invalid")));

    let reasons: HashSet<String> =
        state.profiles().iter().flat_map(|p| p.email_consent.suppression.iter().map(|s| s.reason.clone())).collect();
    for reason in ["UNSUBSCRIBE", "HARD_BOUNCE", "INVALID_EMAIL"] {
        assert!(reasons.contains(reason), "no {reason} in {reasons:?}");
    }
}

#[tokio::test]
async fn profile_writes_conflict_on_identifiers() {
    let emulator = start(config(4, 20)).await;
    let body = json!({"data": {"type": "profile", "attributes": {"email": "new.person@fastmail.fm", "properties": {"plan": "Pro"}}}});
    let (status, created) = send(klaviyo(&emulator, Method::POST, "profiles").json(&body)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["data"]["id"].as_str().expect("id").to_owned();
    assert_eq!(id.len(), 26);
    let (status, conflict) = send(klaviyo(&emulator, Method::POST, "profiles").json(&body)).await;
    assert_eq!((status, error_code(&conflict)), (409, Some("duplicate_profile")));
    assert_eq!(conflict["errors"][0]["meta"]["duplicate_profile_id"], json!(id));

    let bad = json!({"data": {"type": "profile", "attributes": {"email": "broken@"}}});
    let (status, body) = send(klaviyo(&emulator, Method::POST, "profiles").json(&bad)).await;
    assert_eq!((status, body["errors"][0]["source"]["pointer"].as_str()), (400, Some("/data/attributes/email")));

    let patch = json!({"data": {"type": "profile", "id": id, "attributes": {"first_name": "Ana", "properties": {"tier": 2}}, "meta": {"patch_properties": {"append": {"tags": "migrated"}}}}});
    assert_eq!(send(klaviyo(&emulator, Method::PATCH, &format!("profiles/{id}")).json(&patch)).await.0, 200);
    let import = json!({"data": {"type": "profile", "attributes": {"email": "new.person@fastmail.fm", "last_name": "Imported"}}});
    assert_eq!(send(klaviyo(&emulator, Method::POST, "profile-import").json(&import)).await.0, 200);
    let stored = emulator.state().profile(&id).expect("stored");
    assert_eq!(stored.properties["plan"], "Pro");
    assert_eq!(stored.properties["tier"], 2);
    assert_eq!(stored.properties["tags"], json!(["migrated"]));
    assert_eq!(stored.standard["last_name"], "Imported");
}

fn job_body(kind: &str, profiles: Vec<Value>, extra: Value) -> Value {
    let mut attributes = json!({"profiles": {"data": profiles}});
    if let (Some(object), Some(extra)) = (attributes.as_object_mut(), extra.as_object()) {
        object.extend(extra.clone());
    }
    json!({"data": {"type": kind, "attributes": attributes}})
}

fn subscriber(email: &str, consented_at: Option<&str>) -> Value {
    let mut marketing = json!({"consent": "SUBSCRIBED"});
    if let Some(moment) = consented_at {
        marketing["consented_at"] = json!(moment);
    }
    json!({"type": "profile", "attributes": {"email": email, "subscriptions": {"email": {"marketing": marketing}}}})
}

#[tokio::test]
async fn subscription_jobs_follow_the_consent_rules() {
    let emulator = start(config(5, 30)).await;
    let kind = "profile-subscription-bulk-create-job";
    let without = job_body(kind, vec![subscriber("a.one@fastmail.fm", None)], json!({"historical_import": true}));
    let (status, body) =
        send(klaviyo(&emulator, Method::POST, "profile-subscription-bulk-create-jobs").json(&without)).await;
    assert_eq!((status, error_code(&body)), (400, Some("invalid")));
    let stray = job_body(kind, vec![subscriber("a.one@fastmail.fm", Some("2024-01-01T00:00:00Z"))], json!({}));
    assert_eq!(
        send(klaviyo(&emulator, Method::POST, "profile-subscription-bulk-create-jobs").json(&stray)).await.0,
        400
    );
    let too_many =
        job_body(kind, (0..1001).map(|i| subscriber(&format!("s{i}@fastmail.fm"), None)).collect(), json!({}));
    assert_eq!(
        send(klaviyo(&emulator, Method::POST, "profile-subscription-bulk-create-jobs").json(&too_many)).await.0,
        400
    );

    let good = job_body(
        kind,
        vec![subscriber("a.one@fastmail.fm", Some("2024-01-01T00:00:00Z"))],
        json!({"historical_import": true}),
    );
    let (status, body) =
        send(klaviyo(&emulator, Method::POST, "profile-subscription-bulk-create-jobs").json(&good)).await;
    assert_eq!((status, body), (202, Value::Null));
    let state = emulator.state();
    let profile = state.profile_by_email("A.One@fastmail.fm").expect("created by the job");
    assert_eq!(profile.email_consent.consent, "SUBSCRIBED");
    assert_eq!(
        profile.email_consent.consent_timestamp.map(|t| t.to_rfc3339()),
        Some("2024-01-01T00:00:00+00:00".to_owned())
    );

    let unsubscribe = job_body(
        "profile-subscription-bulk-delete-job",
        vec![json!({"type": "profile", "attributes": {
            "email": "a.one@fastmail.fm",
            "subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}},
        }})],
        json!({}),
    );
    assert_eq!(
        send(klaviyo(&emulator, Method::POST, "profile-subscription-bulk-delete-jobs").json(&unsubscribe)).await.0,
        202
    );
    let profile = state.profile_by_email("a.one@fastmail.fm").expect("profile");
    assert_eq!(profile.email_consent.consent, "UNSUBSCRIBED");
    let too_many = job_body(
        "profile-subscription-bulk-delete-job",
        (0..101).map(|i| json!({"type": "profile", "attributes": {"email": format!("u{i}@fastmail.fm")}})).collect(),
        json!({}),
    );
    assert_eq!(
        send(klaviyo(&emulator, Method::POST, "profile-subscription-bulk-delete-jobs").json(&too_many)).await.0,
        400
    );
}

#[tokio::test]
async fn suppression_jobs_report_status_as_they_progress() {
    let emulator = start(config(6, 20)).await;
    let body = job_body(
        "profile-suppression-bulk-create-job",
        vec![
            json!({"type": "profile", "attributes": {"email": "gone@fastmail.fm"}}),
            json!({"type": "profile", "attributes": {"email": "bad@"}}),
        ],
        json!({}),
    );
    let (status, job) =
        send(klaviyo(&emulator, Method::POST, "profile-suppression-bulk-create-jobs").json(&body)).await;
    assert_eq!(status, 202, "{job}");
    let id = job["data"]["id"].as_str().expect("job id").to_owned();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (_, job) =
            send(klaviyo(&emulator, Method::GET, &format!("profile-suppression-bulk-create-jobs/{id}"))).await;
        statuses.push(job["data"]["attributes"]["status"].as_str().unwrap_or_default().to_owned());
        if statuses.last().map(String::as_str) == Some("complete") {
            assert_eq!(job["data"]["attributes"]["skipped_count"], 1);
        }
    }
    assert_eq!(statuses, ["queued", "processing", "complete"]);
    let profile = emulator.state().profile_by_email("gone@fastmail.fm").expect("created");
    assert_eq!(profile.email_consent.suppression[0].reason, "USER_SUPPRESSED");
    assert!(!profile.email_consent.can_receive_email_marketing());
}

#[tokio::test]
async fn bulk_import_caps_and_errors() {
    let emulator = start(config(7, 10)).await;
    let list_id = emulator.state().lists()[1].0.clone();
    let profile =
        |email: &str| json!({"type": "profile", "attributes": {"email": email, "properties": {"source": "import"}}});
    let too_many = job_body(
        "profile-bulk-import-job",
        (0..10_001).map(|i| profile(&format!("i{i}@fastmail.fm"))).collect(),
        json!({}),
    );
    let (status, body) = send(klaviyo(&emulator, Method::POST, "profile-bulk-import-jobs").json(&too_many)).await;
    assert_eq!(
        (status, body["errors"][0]["source"]["pointer"].as_str()),
        (400, Some("/data/attributes/profiles/data"))
    );

    let mut body =
        job_body("profile-bulk-import-job", vec![profile("good.one@fastmail.fm"), profile("not valid@x")], json!({}));
    body["data"]["relationships"] = json!({"lists": {"data": [{"type": "list", "id": list_id}]}});
    let (status, job) = send(klaviyo(&emulator, Method::POST, "profile-bulk-import-jobs").json(&body)).await;
    assert_eq!(status, 202, "{job}");
    let id = job["data"]["id"].as_str().expect("id").to_owned();
    let (_, errors) =
        send(klaviyo(&emulator, Method::GET, &format!("profile-bulk-import-jobs/{id}/import-errors"))).await;
    assert_eq!(errors["data"].as_array().map(Vec::len), Some(1));
    let mut job = Value::Null;
    for _ in 0..3 {
        job = send(klaviyo(&emulator, Method::GET, &format!("profile-bulk-import-jobs/{id}"))).await.1;
    }
    assert_eq!(job["data"]["attributes"]["status"], "complete");
    assert_eq!(
        (job["data"]["attributes"]["completed_count"].as_u64(), job["data"]["attributes"]["failed_count"].as_u64()),
        (Some(1), Some(1))
    );
    let state = emulator.state();
    let imported = state.profile_by_email("good.one@fastmail.fm").expect("imported");
    assert!(state.list_members(&list_id).contains(&imported.id));
    assert_eq!(imported.email_consent.consent, "NEVER_SUBSCRIBED");
}

#[tokio::test]
async fn events_and_metrics() {
    let emulator = start(config(8, 60)).await;
    let (_, metrics) = send(klaviyo(&emulator, Method::GET, "metrics")).await;
    let names: Vec<&str> =
        metrics["data"].as_array().expect("metrics").iter().filter_map(|m| m["attributes"]["name"].as_str()).collect();
    assert!(names.contains(&"Received Email") && names.contains(&"Placed Order"));

    let state = emulator.state();
    let all = walk(&emulator, "events").await;
    assert_eq!(all.len(), state.event_count());
    let unique: HashSet<&str> = all.iter().filter_map(|event| event["id"].as_str()).collect();
    assert_eq!(unique.len(), all.len());
    let times: Vec<i64> = all.iter().filter_map(|event| event["attributes"]["timestamp"].as_i64()).collect();
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]));
    assert!(times.first() < times.last().map(|last| last - 300 * 86_400).as_ref());

    let profile_id = state.profiles()[0].id.clone();
    let event = json!({"data": {"type": "event", "attributes": {
        "properties": {"OrderId": "X1"}, "time": "2026-02-01T10:00:00Z", "value": 12.5,
        "metric": {"data": {"type": "metric", "attributes": {"name": "Migrated Order"}}},
        "profile": {"data": {"type": "profile", "id": profile_id}},
    }}});
    let (status, body) = send(klaviyo(&emulator, Method::POST, "events").json(&event)).await;
    assert_eq!((status, body), (202, Value::Null));
    assert_eq!(send(klaviyo(&emulator, Method::POST, "events").json(&event)).await.0, 202);
    let mine = walk(&emulator, &format!("events?filter=equals(profile_id,\"{profile_id}\")&include=metric")).await;
    let written: Vec<&Value> =
        mine.iter().filter(|event| event["attributes"]["event_properties"]["OrderId"] == "X1").collect();
    assert_eq!(written.len(), 1, "the unique_id (time) dedupes the second post");
    assert_eq!(state.events_of(&profile_id).len(), mine.len());
}

#[tokio::test]
async fn rate_limits_send_headers_and_throttle_with_retry_after() {
    let mut limited = config(9, 10);
    limited.rate_limit = Some(KlaviyoRateLimit { burst_per_second: 100, steady_per_minute: 3 });
    let emulator = start(limited).await;
    for remaining in ["2", "1", "0"] {
        let response = klaviyo(&emulator, Method::GET, "lists").send().await.expect("answer");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["ratelimit-limit"], "3");
        assert_eq!(response.headers()["ratelimit-remaining"], remaining);
        assert!(response.headers().contains_key("ratelimit-reset"));
    }
    let response = klaviyo(&emulator, Method::GET, "lists").send().await.expect("answer");
    assert_eq!(response.status().as_u16(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert!(!response.headers().contains_key("ratelimit-limit"));
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["errors"][0]["code"], "throttled");
    assert_eq!(body["errors"][0]["title"], "Request was throttled.");
    // Another endpoint has its own window.
    assert_eq!(send(klaviyo(&emulator, Method::GET, "metrics")).await.0, 200);
}

#[tokio::test]
async fn documented_tiers_apply_by_default() {
    let emulator = start(config(10, 10)).await;
    let response = klaviyo(&emulator, Method::GET, "profiles").send().await.expect("answer");
    assert_eq!(response.headers()["ratelimit-limit"], "700");
    let newer = klaviyo_at(&emulator, Method::GET, "profiles", "2026-01-15").send().await.expect("answer");
    assert_eq!(newer.headers()["ratelimit-limit"], "750");
    let accounts = klaviyo(&emulator, Method::GET, "accounts").send().await.expect("answer");
    assert_eq!(accounts.headers()["ratelimit-limit"], "15");
    // XS allows 1 a second and 15 a minute: one of the next 15 calls is throttled.
    let mut statuses = Vec::new();
    for _ in 0..15 {
        statuses.push(send(klaviyo(&emulator, Method::GET, "accounts")).await.0);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_profiles_and_events() {
    let first = start(config(11, 80)).await;
    let second = start(config(11, 80)).await;
    let other = start(config(12, 80)).await;
    let profiles = |emulator: &Emulator| emulator.state().profiles();
    assert_eq!(profiles(&first), profiles(&second));
    assert_ne!(profiles(&first), profiles(&other));
    assert_eq!(
        walk(&first, "events").await,
        walk(&second, "events")
            .await
            .into_iter()
            .map(|mut event| {
                // Links carry each emulator's own address.
                let text = event.to_string().replace(&second.base_url, &first.base_url);
                event = serde_json::from_str(&text).unwrap_or(event);
                event
            })
            .collect::<Vec<_>>()
    );
}
