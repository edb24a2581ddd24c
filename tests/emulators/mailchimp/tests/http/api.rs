//! The Mailchimp emulator: auth, paging, members, batches, tags, reports.

use std::collections::HashSet;

use cutover_emulator_kit::FaultConfig;
use cutover_emulator_mailchimp::{MailchimpState, Status};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Emulator, client, config, mailchimp, send, start};

fn first_list(emulator: &Emulator) -> String {
    let state = emulator.state();
    state.lists()[0].id.clone()
}

#[tokio::test]
async fn missing_and_wrong_keys_are_problem_documents() {
    let emulator = start(config(1, 20)).await;
    let response = client().get(format!("{}/3.0/ping", emulator.base_url)).send().await.expect("an answer");
    assert_eq!(response.status().as_u16(), 401);
    let content_type = response.headers()["content-type"].to_str().unwrap_or_default().to_owned();
    assert_eq!(content_type, "application/problem+json; charset=utf-8");
    assert!(response.headers().contains_key("link"));
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["title"], "API Key Missing");
    assert_eq!(body["status"], 401);
    assert_eq!(body["type"], "https://mailchimp.com/developer/marketing/docs/errors/");
    assert!(body["detail"].is_string() && body["instance"].is_string());

    let wrong = client()
        .get(format!("{}/3.0/ping", emulator.base_url))
        .basic_auth("anystring", Some("0123456789abcdef0123456789abcdef-us6"));
    let (status, body) = send(wrong).await;
    assert_eq!((status, body["title"].as_str()), (401, Some("API Key Invalid")));

    let (status, body) = send(mailchimp(&emulator, Method::GET, "ping")).await;
    assert_eq!((status, body), (200, json!({"health_status": "Everything's Chimpy!"})));
}

#[tokio::test]
async fn paging_walks_every_member_once_and_counts_the_total() {
    let emulator = start(config(2, 250)).await;
    let state = emulator.state().clone();
    for list in state.lists() {
        let mut seen = Vec::new();
        for status in ["", "archived"] {
            let mut offset = 0;
            loop {
                let filter = if status.is_empty() { String::new() } else { format!("&status={status}") };
                let path = format!("lists/{}/members?count=37&offset={offset}{filter}", list.id);
                let (code, body) = send(mailchimp(&emulator, Method::GET, &path)).await;
                assert_eq!(code, 200, "{body}");
                let page = body["members"].as_array().expect("members").clone();
                let total = body["total_items"].as_u64().expect("total") as usize;
                seen.extend(page.iter().map(|member| member["id"].as_str().unwrap_or_default().to_owned()));
                offset += 37;
                if offset >= total {
                    break;
                }
            }
        }
        let expected: Vec<String> = state.members(&list.id).into_iter().map(|member| member.id).collect();
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "a member was served twice");
        assert_eq!(unique, expected.iter().collect::<HashSet<_>>());
    }
}

#[tokio::test]
async fn collections_default_to_ten_and_refuse_more_than_a_thousand() {
    let emulator = start(config(3, 100)).await;
    let list_id = first_list(&emulator);
    let (_, body) = send(mailchimp(&emulator, Method::GET, &format!("lists/{list_id}/members"))).await;
    assert_eq!(body["members"].as_array().map(Vec::len), Some(10));
    assert!(body["total_items"].as_u64() > Some(10));
    assert!(body["_links"].as_array().is_some_and(|links| !links.is_empty()));
    let (status, body) = send(mailchimp(&emulator, Method::GET, &format!("lists/{list_id}/members?count=1001"))).await;
    assert_eq!((status, body["title"].as_str()), (400, Some("Bad Request")));
}

#[tokio::test]
async fn every_status_is_seeded_and_filterable() {
    let emulator = start(config(4, 600)).await;
    let list_id = first_list(&emulator);
    for status in ["subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"] {
        let (code, body) =
            send(mailchimp(&emulator, Method::GET, &format!("lists/{list_id}/members?status={status}&count=1000")))
                .await;
        assert_eq!(code, 200);
        let members = body["members"].as_array().expect("members");
        assert!(!members.is_empty(), "no {status} member");
        assert!(members.iter().all(|member| member["status"] == status));
    }
}

#[tokio::test]
async fn members_are_addressed_by_the_md5_of_the_lowercased_address() {
    let emulator = start(config(5, 30)).await;
    let list_id = first_list(&emulator);
    let body = json!({"email_address": "Urist.McVankab@FreddiesJokes.com", "status": "subscribed"});
    let (status, created) =
        send(mailchimp(&emulator, Method::POST, &format!("lists/{list_id}/members")).json(&body)).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["id"], "62eeb292278cc15f5817cb78f7790b08");
    assert_eq!(MailchimpState::subscriber_hash("urist.mcvankab@freddiesjokes.com"), "62eeb292278cc15f5817cb78f7790b08");
    let (status, by_hash) =
        send(mailchimp(&emulator, Method::GET, &format!("lists/{list_id}/members/62eeb292278cc15f5817cb78f7790b08")))
            .await;
    assert_eq!((status, by_hash["email_address"].as_str()), (200, Some("Urist.McVankab@FreddiesJokes.com")));
    let (status, _) =
        send(mailchimp(&emulator, Method::GET, &format!("lists/{list_id}/members/urist.mcvankab@freddiesjokes.com")))
            .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn writes_are_validated_like_the_api() {
    let emulator = start(config(6, 200)).await;
    let list_id = first_list(&emulator);
    let members = format!("lists/{list_id}/members");

    let invalid = json!({"email_address": "not-an-address@", "status": "subscribed"});
    let (status, body) = send(mailchimp(&emulator, Method::POST, &members).json(&invalid)).await;
    assert_eq!((status, body["title"].as_str()), (400, Some("Invalid Resource")));
    assert_eq!(body["detail"], "not-an-address@ looks fake or invalid, please enter a real email address.");

    let new = json!({"email_address": "ana.new@fastmail.fm", "status": "subscribed", "merge_fields": {"FNAME": "Ana"}});
    assert_eq!(send(mailchimp(&emulator, Method::POST, &members).json(&new)).await.0, 200);
    let (status, body) = send(mailchimp(&emulator, Method::POST, &members).json(&new)).await;
    assert_eq!((status, body["title"].as_str()), (400, Some("Member Exists")));

    let (status, body) = send(
        client()
            .post(format!("{}/3.0/{members}", emulator.base_url))
            .basic_auth("x", Some(&emulator.api_key))
            .body("{not json"),
    )
    .await;
    assert_eq!((status, body["title"].as_str()), (400, Some("JSON Parse Error")));

    let state = emulator.state();
    let unsubscribed = state
        .members(&list_id)
        .into_iter()
        .find(|member| member.status == Status::Unsubscribed)
        .expect("an unsubscribed member");
    let path = format!("{members}/{}", unsubscribed.id);
    let (status, body) = send(mailchimp(&emulator, Method::PATCH, &path).json(&json!({"status": "subscribed"}))).await;
    assert_eq!((status, body["title"].as_str()), (400, Some("Member In Compliance State")));
    let (status, body) = send(mailchimp(&emulator, Method::PATCH, &path).json(&json!({"status": "pending"}))).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("pending")));

    let (status, body) = send(mailchimp(&emulator, Method::PATCH, &path).json(&json!({"status": "archived"}))).await;
    assert_eq!((status, body["title"].as_str()), (400, Some("Invalid Resource")));
}

#[tokio::test]
async fn put_upserts_and_writes_read_back() {
    let emulator = start(config(7, 20)).await;
    let list_id = first_list(&emulator);
    let email = "zoe.put@proton.me";
    let path = format!("lists/{list_id}/members/{}", MailchimpState::subscriber_hash(email));
    let body = json!({"email_address": email, "status_if_new": "transactional", "merge_fields": {"FNAME": "Zoë", "UNKNOWN": 1}, "timestamp_signup": "2024-01-02 03:04:05"});
    let (status, created) = send(mailchimp(&emulator, Method::PUT, &path).json(&body)).await;
    assert_eq!((status, created["status"].as_str()), (200, Some("transactional")));
    let update = json!({"email_address": email, "status": "subscribed", "status_if_new": "pending"});
    let (status, updated) = send(mailchimp(&emulator, Method::PUT, &path).json(&update)).await;
    assert_eq!((status, updated["status"].as_str()), (200, Some("subscribed")));

    let stored = emulator.state().member(&list_id, email).expect("stored");
    assert_eq!(stored.merge_fields["FNAME"], "Zoë");
    assert!(!stored.merge_fields.contains_key("UNKNOWN"));
    assert_eq!(stored.timestamp_signup.map(|moment| moment.to_rfc3339()), Some("2024-01-02T03:04:05+00:00".to_owned()));

    let mismatch = json!({"email_address": "someone.else@proton.me", "status_if_new": "subscribed"});
    assert_eq!(send(mailchimp(&emulator, Method::PUT, &path).json(&mismatch)).await.0, 400);

    assert_eq!(send(mailchimp(&emulator, Method::DELETE, &path)).await.0, 204);
    let stored = emulator.state().member(&list_id, email).expect("archived, not gone");
    assert_eq!(stored.status, Status::Archived);

    let forget = format!("{path}/actions/delete-permanent");
    assert_eq!(send(mailchimp(&emulator, Method::POST, &forget)).await.0, 204);
    let again = json!({"email_address": email, "status": "subscribed"});
    let (status, body) =
        send(mailchimp(&emulator, Method::POST, &format!("lists/{list_id}/members")).json(&again)).await;
    assert_eq!((status, body["title"].as_str()), (400, Some("Forgotten Email Not Subscribed")));
}

#[tokio::test]
async fn batch_subscribe_reports_new_updated_and_errors() {
    let emulator = start(config(8, 60)).await;
    let list_id = first_list(&emulator);
    let existing = emulator.state().members(&list_id)[0].email_address.clone();

    let too_many: Vec<Value> = (0..501)
        .map(|index| json!({"email_address": format!("bulk{index}@fastmail.fm"), "status": "subscribed"}))
        .collect();
    let (status, body) =
        send(mailchimp(&emulator, Method::POST, &format!("lists/{list_id}")).json(&json!({"members": too_many}))).await;
    assert_eq!((status, body["title"].as_str()), (400, Some("Invalid Resource")));
    assert_eq!(body["errors"][0]["field"], "members");

    let members = json!([
        {"email_address": "fresh.one@fastmail.fm", "status": "subscribed"},
        {"email_address": existing, "status": "subscribed"},
        {"email_address": "broken@", "status": "subscribed"},
    ]);
    let (status, body) =
        send(mailchimp(&emulator, Method::POST, &format!("lists/{list_id}")).json(&json!({"members": members}))).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["total_created"].as_u64(), body["total_updated"].as_u64(), body["error_count"].as_u64()),
        (Some(1), Some(0), Some(2))
    );
    let codes: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().filter_map(|error| error["error_code"].as_str()).collect();
    assert_eq!(codes, ["ERROR_CONTACT_EXISTS", "ERROR_GENERIC"]);

    let update = json!({"members": [{"email_address": "fresh.one@fastmail.fm", "status": "unsubscribed"}], "update_existing": true});
    let (_, body) = send(mailchimp(&emulator, Method::POST, &format!("lists/{list_id}")).json(&update)).await;
    assert_eq!(body["total_updated"], 1);
    assert_eq!(body["updated_members"][0]["status"], "unsubscribed");
}

#[tokio::test]
async fn tags_are_set_with_204_and_read_back() {
    let emulator = start(config(9, 20)).await;
    let list_id = first_list(&emulator);
    let member = emulator.state().members(&list_id)[0].clone();
    let path = format!("lists/{list_id}/members/{}/tags", member.id);
    let change = json!({"tags": [{"name": "migrated", "status": "active"}], "is_syncing": true});
    let (status, body) = send(mailchimp(&emulator, Method::POST, &path).json(&change)).await;
    assert_eq!((status, body), (204, Value::Null));
    let (_, body) = send(mailchimp(&emulator, Method::GET, &path)).await;
    let names: Vec<&str> =
        body["tags"].as_array().expect("tags").iter().filter_map(|tag| tag["name"].as_str()).collect();
    assert!(names.contains(&"migrated"));
    let stored = emulator.state().member(&list_id, &member.id).expect("member");
    assert!(stored.tags.iter().any(|(name, _)| name == "migrated"));
}

#[tokio::test]
async fn merge_fields_permissions_and_sparse_fields() {
    let emulator = start(config(10, 40)).await;
    let list_id = first_list(&emulator);
    let (_, body) = send(mailchimp(&emulator, Method::GET, &format!("lists/{list_id}/merge-fields?count=100"))).await;
    let tags: Vec<&str> =
        body["merge_fields"].as_array().expect("fields").iter().filter_map(|field| field["tag"].as_str()).collect();
    assert_eq!(&tags[..5], ["FNAME", "LNAME", "ADDRESS", "PHONE", "BIRTHDAY"]);

    let path =
        format!("lists/{list_id}/members?fields=members.email_address,members.marketing_permissions,total_items");
    let (_, body) = send(mailchimp(&emulator, Method::GET, &path)).await;
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["members", "total_items"]);
    let member = body["members"][0].as_object().expect("member");
    assert_eq!(member.len(), 2);
    assert_eq!(member["marketing_permissions"].as_array().map(Vec::len), Some(2));

    let (_, body) = send(mailchimp(
        &emulator,
        Method::GET,
        &format!("lists/{list_id}/members?exclude_fields=members._links,_links"),
    ))
    .await;
    assert!(body.get("_links").is_none() && body["members"][0].get("_links").is_none());
}

#[tokio::test]
async fn campaign_reports_agree_with_email_activity() {
    let emulator = start(config(11, 300)).await;
    let (_, campaigns) = send(mailchimp(&emulator, Method::GET, "campaigns?count=1000")).await;
    assert_eq!(campaigns["total_items"], 72);
    let campaign = campaigns["campaigns"]
        .as_array()
        .expect("campaigns")
        .iter()
        .rev()
        .find(|campaign| campaign["emails_sent"].as_u64() > Some(20))
        .expect("a recent campaign with recipients")
        .clone();
    let id = campaign["id"].as_str().expect("id");
    let (_, activity) =
        send(mailchimp(&emulator, Method::GET, &format!("reports/{id}/email-activity?count=1000"))).await;
    assert_eq!(activity["total_items"], campaign["emails_sent"]);
    let opens = activity["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .filter(|email| {
            email["activity"].as_array().is_some_and(|items| items.iter().any(|item| item["action"] == "open"))
        })
        .count();
    assert_eq!(Some(opens as u64), campaign["report_summary"]["unique_opens"].as_u64());
    let (_, report) = send(mailchimp(&emulator, Method::GET, &format!("reports/{id}"))).await;
    assert_eq!(report["emails_sent"], campaign["emails_sent"]);
    let (status, sent_to) = send(mailchimp(&emulator, Method::GET, &format!("reports/{id}/sent-to"))).await;
    assert_eq!((status, &sent_to["total_items"]), (200, &campaign["emails_sent"]));
    let (status, _) = send(mailchimp(&emulator, Method::GET, &format!("reports/{id}/unsubscribed"))).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data() {
    let first = start(config(12, 120)).await;
    let second = start(config(12, 120)).await;
    let other = start(config(13, 120)).await;
    let members = |emulator: &Emulator| {
        let state = emulator.state();
        state.lists().iter().flat_map(|list| state.members(&list.id)).collect::<Vec<_>>()
    };
    assert_eq!(first.api_key, second.api_key);
    assert_eq!(members(&first), members(&second));
    assert_ne!(members(&first), members(&other));
    assert_eq!(first.state().campaign_ids(), second.state().campaign_ids());
}

#[tokio::test]
async fn seeded_sources_hold_invalid_addresses_when_asked() {
    let mut with_invalid = config(14, 400);
    with_invalid.settings.invalid_email_fraction = 0.1;
    let emulator = start(with_invalid).await;
    let state = emulator.state();
    let invalid = state
        .lists()
        .iter()
        .flat_map(|list| state.members(&list.id))
        .filter(|member| {
            !member.email_address.contains('@')
                || member.email_address.contains("@@")
                || member.email_address.contains(' ')
                || member.email_address.ends_with('@')
        })
        .count();
    assert!(invalid > 5, "{invalid}");
    let mut clean = config(14, 400);
    clean.settings.invalid_email_fraction = 0.0;
    let emulator = start(clean).await;
    let state = emulator.state();
    assert!(
        state
            .lists()
            .iter()
            .flat_map(|list| state.members(&list.id))
            .all(|member| member.email_address.contains('@') && !member.email_address.contains(' '))
    );
}

#[tokio::test]
async fn over_the_connection_cap_is_429() {
    let mut limited = config(15, 20);
    limited.max_connections = 1;
    let emulator = start(limited).await;
    emulator.set_faults(FaultConfig { latency_ms: 3000, ..Default::default() });
    let slow = tokio::spawn(send(mailchimp(&emulator, Method::GET, "ping")));
    while emulator.requests_in_flight() == 0 && !slow.is_finished() {
        tokio::task::yield_now().await;
    }
    let (status, body) = send(mailchimp(&emulator, Method::GET, "ping")).await;
    assert_eq!((status, body["title"].as_str()), (429, Some("Too Many Requests")));
    let (status, _) = slow.await.expect("the slow request finishes");
    assert_eq!(status, 200);
}

#[tokio::test]
async fn since_last_changed_reads_only_recent_changes() {
    let emulator = start(config(16, 200)).await;
    let list_id = first_list(&emulator);
    let member = emulator.state().members(&list_id)[3].clone();
    let path = format!("lists/{list_id}/members/{}", member.id);
    assert_eq!(send(mailchimp(&emulator, Method::PATCH, &path).json(&json!({"vip": true}))).await.0, 200);
    let since = "2026-10-02T00:00:00+00:00";
    let query = format!(
        "lists/{list_id}/members?since_last_changed={}&sort_field=last_changed&sort_dir=ASC",
        since.replace('+', "%2B")
    );
    let (status, body) = send(mailchimp(&emulator, Method::GET, &query)).await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["members"].as_array().expect("members").iter().filter_map(|m| m["id"].as_str()).collect();
    assert_eq!(ids, [member.id.as_str()]);
}

#[tokio::test]
async fn batches_run_operations_and_offer_their_results() {
    let emulator = start(config(17, 20)).await;
    let list_id = first_list(&emulator);
    let email = "batch.member@fastmail.fm";
    let hash = MailchimpState::subscriber_hash(email);
    let member = json!({"email_address": email, "status_if_new": "subscribed"}).to_string();
    let operations = json!({"operations": [
        {"method": "PUT", "path": format!("/lists/{list_id}/members/{hash}"), "body": member, "operation_id": "op-1"},
        {"method": "GET", "path": format!("/lists/{list_id}/members"), "params": {"count": 5}, "operation_id": "op-2"},
        {"method": "POST", "path": format!("/lists/{list_id}/members"), "body": "{\"email_address\": \"broken@\", \"status\": \"subscribed\"}", "operation_id": "op-3"},
    ]});
    let (status, batch) = send(mailchimp(&emulator, Method::POST, "batches").json(&operations)).await;
    assert_eq!((status, batch["status"].as_str()), (200, Some("pending")), "{batch}");
    let id = batch["id"].as_str().expect("batch id").to_owned();
    let mut statuses = Vec::new();
    let mut last = Value::Null;
    for _ in 0..3 {
        last = send(mailchimp(&emulator, Method::GET, &format!("batches/{id}"))).await.1;
        statuses.push(last["status"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(statuses, ["pending", "started", "finished"]);
    assert_eq!(
        (last["total_operations"].as_u64(), last["finished_operations"].as_u64(), last["errored_operations"].as_u64()),
        (Some(3), Some(3), Some(1))
    );
    assert!(emulator.state().member(&list_id, email).is_some(), "the PUT ran");

    let url = last["response_body_url"].as_str().expect("results url");
    let archive = client().get(url).send().await.expect("archive").bytes().await.expect("bytes");
    assert_eq!(&archive[..2], [0x1f, 0x8b]);
    let text = String::from_utf8_lossy(&archive);
    assert!(text.contains("\"operation_id\":\"op-1\"") && text.contains("\"status_code\":400"), "{text}");
}
