//! Reads: auth and roles, the envelope, Yii2 paging in headers, filters,
//! the reports, the seeded counts.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{config, number, scaleo, send, start, with_key};

#[tokio::test]
async fn a_request_without_the_right_key_is_refused_in_the_envelope() {
    let emulator = start(config(1, 30)).await;
    let url = format!("{}/api/v2/network/affiliates", emulator.base_url);
    let (status, _, body) = send(reqwest::Client::new().get(&url)).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"status": "error", "code": 401, "name": "Unauthorized",
                            "message": "Your request was made without an api-key."})
    );
    let (status, _, body) = send(with_key(&emulator, Method::GET, "network/affiliates", "0000")).await;
    assert_eq!((status, body["message"].as_str()), (401, Some("Your request was made with invalid credentials.")));
    let disabled = emulator.state().disabled_key();
    let (status, _, body) = send(with_key(&emulator, Method::GET, "network/affiliates", &disabled)).await;
    assert_eq!(status, 401, "{body}");
    // A key header is not the API's way: the key goes in the query.
    let (status, _, _) =
        send(reqwest::Client::new().get(&url).header("Authorization", format!("Bearer {}", emulator.api_key))).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_key_only_calls_its_own_roles_prefix() {
    let emulator = start(config(2, 30)).await;
    let affiliate_key = emulator.state().affiliate_key();
    let (status, _, body) = send(with_key(&emulator, Method::GET, "network/affiliates", &affiliate_key)).await;
    assert_eq!((status, body["status"].as_str()), (403, Some("error")));
    let (status, _, body) = send(with_key(&emulator, Method::GET, "affiliate/profile", &affiliate_key)).await;
    assert_eq!(status, 200);
    assert_eq!(body["info"]["profile"]["api_key"], affiliate_key.as_str());
    let (status, _, _) = send(scaleo(&emulator, Method::GET, "affiliate/profile")).await;
    assert_eq!(status, 403, "the network key on the affiliate prefix");
    let (status, _, body) = send(with_key(&emulator, Method::GET, "common/lists/countries", &affiliate_key)).await;
    assert_eq!((status, body["info"]["countries"][0]["id"].as_u64()), (200, Some(6_252_001)));
}

#[tokio::test]
async fn lists_page_in_headers_and_clamp_a_page_past_the_end() {
    let emulator = start(config(3, 45)).await;
    let (status, headers, body) =
        send(scaleo(&emulator, Method::GET, "network/affiliates").query(&[("perPage", "20")])).await;
    assert_eq!(status, 200);
    assert_eq!((body["status"].as_str(), body["message"].as_str()), (Some("success"), Some("Affiliates List")));
    assert_eq!(body["info"]["affiliates"].as_array().map(Vec::len), Some(20));
    assert_eq!(number(&headers, "x-pagination-total-count"), 45);
    assert_eq!(number(&headers, "x-pagination-page-count"), 3);
    assert_eq!(number(&headers, "x-pagination-per-page"), 20);
    assert_eq!(number(&headers, "x-pagination-current-page"), 1);
    assert!(body.get("total").is_none() && body["info"].get("pagination").is_none(), "paging is in headers only");
    let page = |page: &'static str| {
        scaleo(&emulator, Method::GET, "network/affiliates").query(&[("perPage", "20"), ("page", page)])
    };
    let (_, headers, last) = send(page("3")).await;
    assert_eq!(
        (number(&headers, "x-pagination-current-page"), last["info"]["affiliates"].as_array().map(Vec::len)),
        (3, Some(5))
    );
    let (_, headers, past) = send(page("9")).await;
    assert_eq!(number(&headers, "x-pagination-current-page"), 3, "Yii2 clamps the page");
    assert_eq!(past["info"]["affiliates"], last["info"]["affiliates"]);
    let (_, headers, _) =
        send(scaleo(&emulator, Method::GET, "network/affiliates").query(&[("perPage", "5000")])).await;
    assert_eq!(number(&headers, "x-pagination-per-page"), 1000, "perPage is cut to 1000");
    let (_, headers, _) = send(scaleo(&emulator, Method::GET, "network/affiliates")).await;
    assert_eq!(number(&headers, "x-pagination-per-page"), 10, "10 by default");
}

#[tokio::test]
async fn filters_and_sorting_work_and_unknown_ones_are_400s() {
    let emulator = start(config(4, 60)).await;
    let (_, headers, body) = send(scaleo(&emulator, Method::GET, "network/affiliates").query(&[
        ("status", "1"),
        ("sortField", "created_at"),
        ("sortDirection", "desc"),
        ("perPage", "1000"),
    ]))
    .await;
    let affiliates = body["info"]["affiliates"].as_array().cloned().unwrap_or_default();
    let active = emulator.state().affiliates().iter().filter(|affiliate| affiliate.status == 1).count();
    assert_eq!((affiliates.len(), number(&headers, "x-pagination-total-count") as usize), (active, active));
    let times: Vec<&str> = affiliates.iter().filter_map(|affiliate| affiliate["created_at"].as_str()).collect();
    assert!(times.windows(2).all(|pair| pair[0] >= pair[1]), "newest first");
    let (_, _, body) =
        send(scaleo(&emulator, Method::GET, "network/affiliates").query(&[("status[]", "3"), ("status[]", "4")])).await;
    assert!(
        body["info"]["affiliates"]
            .as_array()
            .is_some_and(|page| page.iter().all(|a| a["status"] == 3 || a["status"] == 4))
    );
    for (name, value) in [("nickname", "x"), ("sortField", "nickname")] {
        let (status, _, body) =
            send(scaleo(&emulator, Method::GET, "network/affiliates").query(&[(name, value)])).await;
        assert_eq!((status, body["code"].as_u64()), (400, Some(400)), "{name}");
    }
}

#[tokio::test]
async fn affiliates_carry_tiers_sponsors_and_json_strings() {
    let emulator = start(config(5, 80)).await;
    let (_, _, body) = send(scaleo(&emulator, Method::GET, "network/affiliates").query(&[("perPage", "1000")])).await;
    let affiliates = body["info"]["affiliates"].as_array().cloned().unwrap_or_default();
    assert_eq!(affiliates.len(), 80);
    let first = &affiliates[0];
    for field in
        ["email", "firstname", "status", "payment_details", "referred_by", "tags", "custom_fields", "created_at"]
    {
        assert!(first.get(field).is_some(), "{field}");
    }
    assert!(
        affiliates
            .iter()
            .any(|affiliate| affiliate["payment_details"].as_str().is_some_and(|text| text.starts_with('{')))
    );
    assert!(affiliates.iter().any(|affiliate| affiliate["referred_by"].is_u64()));
    let tiers: std::collections::BTreeSet<String> = affiliates
        .iter()
        .flat_map(|affiliate| affiliate["tags"].as_array().cloned().unwrap_or_default())
        .filter_map(|tag| tag.as_str().filter(|tag| tag.starts_with("tier:")).map(str::to_owned))
        .collect();
    assert_eq!(tiers.len(), 3, "{tiers:?}");
    let (_, _, counts) =
        send(reqwest::Client::new().get(format!("{}/__emulator/scaleo/seeded", emulator.base_url))).await;
    assert_eq!(counts["affiliates"], 80);
    assert_eq!(counts["conversions_by_status"].as_object().map(|statuses| statuses.len()), Some(5));
}

#[tokio::test]
async fn reports_take_a_window_and_columns_and_page_in_headers() {
    let emulator = start(config(6, 40)).await;
    let report = |columns: &str, sort: &'static str| {
        scaleo(&emulator, Method::POST, "network/reports/clicks")
            .query(&[("perPage", "50"), ("sortField", "added_timestamp"), ("sortDirection", sort)])
            .json(&json!({"rangeFrom": "2000-01-01", "rangeTo": "2026-12-31", "columns": columns}))
    };
    let (status, headers, body) =
        send(report("transaction_id,added_timestamp,sub_id1,sub_id2,sub_id3,affiliate", "asc")).await;
    assert_eq!(status, 200, "{body}");
    let clicks = emulator.state().clicks();
    assert_eq!(number(&headers, "x-pagination-total-count") as usize, clicks.len());
    let rows = body["info"]["transactions"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows[0]["transaction_id"].as_str(), Some(clicks[0].transaction_id.as_str()));
    assert!(rows[0]["added_timestamp"].is_i64(), "Unix seconds");
    assert!(rows[0]["affiliate"]["id"].is_u64());
    assert_eq!(rows[0].as_object().map(|row| row.len()), Some(6), "only the columns asked for");
    let (_, _, newest) = send(report("transaction_id", "desc")).await;
    assert_eq!(
        newest["info"]["transactions"][0]["transaction_id"].as_str(),
        clicks.last().map(|click| click.transaction_id.as_str())
    );
    let (status, _, body) = send(
        scaleo(&emulator, Method::POST, "network/reports/conversions")
            .json(&json!({"rangeFrom": "2026-02-30", "columns": "transaction_id"})),
    )
    .await;
    assert_eq!(status, 422);
    let errors = body["info"]["errors"].as_object().cloned().unwrap_or_default();
    assert!(errors.contains_key("rangeFrom") && errors.contains_key("rangeTo"), "{body}");
    let (status, _, _) =
        send(scaleo(&emulator, Method::POST, "network/reports/conversions").json(
            &json!({"rangeFrom": "2026-01-01", "rangeTo": "2026-12-31", "columns": "transaction_id,secret_column"}),
        ))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn conversions_come_in_every_status_and_currency_with_four_decimals() {
    let emulator = start(config(7, 60)).await;
    let (_, headers, body) = send(
        scaleo(&emulator, Method::POST, "network/reports/conversions")
            .query(&[("perPage", "1000")])
            .json(&json!({"rangeFrom": "2000-01-01", "rangeTo": "2026-12-31"})),
    )
    .await;
    let rows = body["info"]["transactions"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len() as u64, number(&headers, "x-pagination-total-count"));
    let statuses: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|row| row["conversion_status"].as_str()).collect();
    assert_eq!(statuses.len(), 5, "{statuses:?}");
    let amount = rows[0]["advertiser_amount"].as_str().unwrap_or_default();
    assert_eq!(amount.split('.').nth(1).map(str::len), Some(4), "{amount}");
    assert!(rows.iter().any(|row| row["invoice_id"].is_u64()));
    assert!(rows.iter().any(|row| row["click_id"] == Value::Null));
}
