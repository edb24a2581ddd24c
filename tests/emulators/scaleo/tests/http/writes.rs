//! Writes: validation in one 422, upserts where Scaleo has a key, the
//! conversion and invoice flows.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{config, scaleo, send, start};

#[tokio::test]
async fn a_refused_affiliate_lists_every_field_in_one_422_without_its_values() {
    let emulator = start(config(1, 20)).await;
    let taken = emulator.state().affiliates()[0].email.clone();
    let (status, _, body) = send(scaleo(&emulator, Method::POST, "network/affiliates").json(&json!({
        "email": taken, "password": "short", "status": 9, "payment_details": "iban DE89 not json", "referred_by": 1,
    })))
    .await;
    assert_eq!((status, body["message"].as_str()), (422, Some("Validation error")));
    let errors = body["info"]["errors"].as_object().cloned().unwrap_or_default();
    let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
    assert_eq!(fields, ["email", "password", "payment_details", "referred_by", "status"]);
    assert!(!body.to_string().contains("DE89"), "a refused secret is not repeated: {body}");
    let (status, _, body) =
        send(scaleo(&emulator, Method::POST, "network/affiliates").json(&json!({"nickname": "x"}))).await;
    assert_eq!((status, body["message"].as_str()), (400, Some("Unknown parameter \"nickname\".")));
}

#[tokio::test]
async fn an_affiliate_is_created_changed_and_cleared() {
    let emulator = start(config(2, 20)).await;
    let sponsor = emulator.state().affiliates()[0].id;
    let (status, _, body) = send(scaleo(&emulator, Method::POST, "network/affiliates").json(&json!({
        "email": "zoe.media@example.org", "password": "s3cret-pass", "firstname": "Zoë", "lastname": "Media",
        "status": 3, "tags": "tier:gold,influencer", "referred_by": sponsor, "external_id": "partnerize:777",
        "payment_details": "{\"method\":\"paypal\",\"account\":\"zoe@example.org\"}", "send_welcome_email": 2,
    })))
    .await;
    assert_eq!(status, 201, "{body}");
    let affiliate = &body["info"]["affiliate"];
    let id = affiliate["id"].as_u64().unwrap_or_default();
    assert_eq!(affiliate["tags"], json!(["tier:gold", "influencer"]));
    assert_eq!(affiliate["referral_commission"], "5.0000", "5 % by default");
    assert!(affiliate.get("password").is_none());
    let (_, _, found) =
        send(scaleo(&emulator, Method::GET, "network/affiliates").query(&[("external_id", "partnerize:777")])).await;
    assert_eq!(found["info"]["affiliates"][0]["id"].as_u64(), Some(id));
    let (status, _, body) = send(
        scaleo(&emulator, Method::PUT, &format!("network/affiliates/{id}"))
            .json(&json!({"status": 1, "lastname": null})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (body["info"]["affiliate"]["status"].as_u64(), &body["info"]["affiliate"]["lastname"]),
        (Some(1), &Value::Null)
    );
    assert_eq!(body["info"]["affiliate"]["firstname"], "Zoë", "a key left out is left as it was");
}

#[tokio::test]
async fn access_is_upserted_on_offer_affiliate_and_landing_page() {
    let emulator = start(config(3, 20)).await;
    let offer = emulator.state().offers()[0].id;
    let affiliate = emulator.state().affiliates()[3].id;
    let path = format!("network/offers/{offer}/affiliates-access");
    let (first_status, _, first) =
        send(scaleo(&emulator, Method::POST, &path).json(&json!({"affiliate_id": affiliate}))).await;
    let (second_status, _, second) =
        send(scaleo(&emulator, Method::POST, &path).json(&json!({"affiliate_id": affiliate, "status": "approved"})))
            .await;
    assert_eq!((first_status, second_status), (201, 200));
    assert_eq!(first["info"]["access"]["id"], second["info"]["access"]["id"]);
    let link = first["info"]["access"]["tracking_link"].as_str().unwrap_or_default();
    assert_eq!(link, format!("https://nordlight.scaletrk.com/click?o={offer}&a={affiliate}"));
}

#[tokio::test]
async fn a_conversion_is_created_found_by_its_track_id_and_changed() {
    let emulator = start(config(4, 20)).await;
    let offer = emulator.state().offers().into_iter().find(|offer| offer.currency == "EUR").expect("a euro offer");
    let goal = offer.goals[0].id;
    let affiliate = emulator.state().affiliates()[0].id;
    let create = json!({
        "affiliate_id": affiliate, "goal_id": goal, "conv_status": "pending", "currency": "eur", "amount": "49.90",
        "adv_order_id": "1000", "adv_track_id": "partnerize:c-1", "date": "2026-01-01 00:00:00", "fire_postbacks": "no",
    });
    let (status, _, body) = send(scaleo(&emulator, Method::POST, "network/tracking/conversion").json(&create)).await;
    assert_eq!(status, 200, "{body}");
    let transaction = body["info"]["transaction_id"].as_str().unwrap_or_default().to_owned();
    assert_eq!((transaction.len(), body["info"]["conv_status"].as_str()), (36, Some("pending")));
    let (_, _, found) = send(scaleo(&emulator, Method::POST, "network/reports/conversions").json(&json!({
        "rangeFrom": "2026-01-01", "rangeTo": "2026-01-01", "filters": {"advertiser_track_id": "partnerize:c-1"},
    })))
    .await;
    let row = &found["info"]["transactions"][0];
    assert_eq!((row["transaction_id"].as_str(), row["currency"].as_str()), (Some(transaction.as_str()), Some("EUR")));
    assert_eq!(row["advertiser_amount"], "49.9000");
    let (_, _, changed) =
        send(scaleo(&emulator, Method::POST, "network/reports/conversions/change-status").json(&json!({
            "new_status": 2, "fire_postbacks": 0, "filters": {"transactions": [transaction]},
        })))
        .await;
    assert_eq!(changed["info"]["result"], json!({"response": true, "affected": 1}));
    let invoiced = emulator.state().conversions().into_iter().find(|conversion| conversion.invoice_id.is_some());
    let invoiced = invoiced.expect("a billed conversion").transaction_id;
    let (_, _, unchanged) =
        send(scaleo(&emulator, Method::POST, "network/reports/conversions/change-status").json(&json!({
            "new_status": "rejected", "filters": {"transactions": [invoiced]},
        })))
        .await;
    assert_eq!(unchanged["info"]["result"]["affected"], 0, "a billed conversion keeps its status");
    let (status, _, body) =
        send(scaleo(&emulator, Method::POST, "network/tracking/conversion").json(&json!({"goal_id": goal}))).await;
    assert_eq!(status, 422);
    assert!(body["info"]["errors"]["affiliate_id"].is_array(), "{body}");
}

#[tokio::test]
async fn an_invoice_bills_the_balance_and_is_marked_paid() {
    let emulator = start(config(5, 30)).await;
    let affiliate = emulator.state().affiliates()[0].id;
    let (status, _, body) = send(scaleo(&emulator, Method::POST, "network/aff-billing/invoices").json(&json!({
        "affiliate_id": affiliate, "currency": "usd", "amount": 120.5, "start_date": "2026-01-01", "end_date": "2026-01-31",
        "internal_notes": "cutover:partnerize:p-9",
    })))
    .await;
    assert_eq!(status, 201, "{body}");
    let invoice = &body["info"]["invoice"];
    assert_eq!(
        (invoice["status"].as_str(), &invoice["amount"]),
        (Some("unpaid"), &json!({"value": "120.5000", "currency": "USD"}))
    );
    let id = invoice["id"].as_u64().unwrap_or_default();
    let (_, _, paid) = send(
        scaleo(&emulator, Method::PUT, &format!("network/aff-billing/invoices/{id}")).json(&json!({"status": "paid"})),
    )
    .await;
    assert!(paid["info"]["invoice"]["paid_at"].is_string());
    let (status, _, _) = send(
        scaleo(&emulator, Method::PUT, &format!("network/aff-billing/invoices/{id}")).json(&json!({"amount": "1.00"})),
    )
    .await;
    assert_eq!(status, 422, "a paid invoice keeps its amount");
    let (_, _, mine) = send(
        scaleo(&emulator, Method::GET, "network/aff-billing/invoices")
            .query(&[("affiliate_id", affiliate.to_string()), ("perPage", "1000".into())]),
    )
    .await;
    assert!(
        mine["info"]["invoices"].as_array().is_some_and(|invoices| invoices.iter().any(|invoice| invoice["id"] == id))
    );
}
