//! Jobs: bulk calls answer at once with a job, and the work runs when the
//! job is due ([`settle`], called before every request is served, so a job
//! finishes whether or not anyone polls it). Two kinds run here: creating
//! transaction queries (an untracked one makes a pending conversion; an
//! incorrect-commission one concerns an existing conversion), and the v3
//! bulk update of conversions, items or references (status, reason,
//! references, an item's value).

use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::envelope::text;
use crate::model::{Amount, Conversion, ConversionItem, Job, JobWork, Store, TransactionQuery, parse_v1_time};

/// Runs every job that is due.
pub fn settle(store: &mut Store) {
    let now = std::time::Instant::now();
    let due: Vec<usize> = store
        .jobs
        .iter()
        .enumerate()
        .filter(|(_, job)| job.results.is_none() && job.due_at <= now)
        .map(|(index, _)| index)
        .collect();
    for index in due {
        let work = store.jobs[index].work.clone();
        let results = match work {
            JobWork::CreateTransactionQueries { publisher_id, queries } => {
                queries.iter().map(|query| create_query(store, &publisher_id, query)).collect()
            }
            JobWork::BulkConversions { campaign_id, key, entries } => {
                entries.iter().map(|entry| bulk_entry(store, &campaign_id, &key, entry)).collect()
            }
        };
        let job = &mut store.jobs[index];
        job.results = Some(results);
        job.completed_at = Some(Utc::now());
    }
}

/// A new job of `work`, due after `delay`.
pub fn enqueue(store: &mut Store, work: JobWork, reference: Option<String>, delay: std::time::Duration) -> Job {
    let job_id = store.next_id("job", "726f", 66_778_123);
    let job = Job {
        job_id,
        work,
        reference,
        created_at: Utc::now(),
        due_at: std::time::Instant::now() + delay,
        results: None,
        completed_at: None,
    };
    store.jobs.push(job.clone());
    job
}

fn failure(message: impl Into<String>, property: &str) -> Value {
    json!({"message": message.into(), "type": "Validation Fail", "fields": {property: "invalid"}})
}

fn is_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

fn create_query(store: &mut Store, publisher_id: &str, query: &Value) -> Result<Value, Value> {
    let Some(query) = query.as_object() else { return Err(failure("a transaction query must be an object", "")) };
    let kind = text(query, "transaction_query_type").unwrap_or_default();
    let camref = text(query, "camref").unwrap_or_default();
    let Some(part) = store.by_camref(&camref).filter(|part| part.publisher_id == publisher_id).cloned() else {
        return Err(failure(format!("camref {camref} is not one of this partner's"), "camref"));
    };
    if part.campaign_status != "a" {
        return Err(failure("the partner is not approved on the campaign", "camref"));
    }
    let Some(reference) = text(query, "conversion_reference").filter(|reference| !reference.is_empty()) else {
        return Err(failure("conversion_reference is required", "conversion_reference"));
    };
    let Some(expected) = query.get("expected_commission").and_then(Amount::from_json) else {
        return Err(failure("expected_commission is required", "expected_commission"));
    };
    let existing = store
        .conversions
        .iter()
        .find(|conversion| conversion.campaign_id == part.campaign_id && conversion.conversion_reference == reference)
        .cloned();
    let now = Utc::now();
    let tq_id = store.next_id("transaction_query", "111111", 10);
    let mut tq = TransactionQuery {
        transaction_query_id: tq_id,
        transaction_query_type: kind.clone(),
        campaign_id: part.campaign_id.clone(),
        publisher_id: publisher_id.to_owned(),
        camref,
        conversion_reference: reference.clone(),
        conversion_value: None,
        conversion_currency: None,
        conversion_date_time: None,
        expected_commission: expected,
        publisher_reference: text(query, "publisher_reference").filter(|text| !text.is_empty()),
        notes: text(query, "notes"),
        current_state: "pending".into(),
        conversion_id: None,
        created_at: now,
        updated_at: now,
    };
    match kind.as_str() {
        "untracked" => {
            if let Some(existing) = existing {
                return Err(json!({
                    "message": format!("conversion_reference {reference} is already tracked"),
                    "type": "duplicate",
                    "conversion_id": existing.conversion_id,
                    "fields": {"conversion_reference": "duplicate"},
                }));
            }
            let Some(value) = query.get("conversion_value").and_then(Amount::from_json) else {
                return Err(failure("conversion_value is required", "conversion_value"));
            };
            let Some(at) = text(query, "conversion_date_time").as_deref().and_then(parse_v1_time) else {
                return Err(failure(
                    "conversion_date_time is required, as YYYY-MM-DD HH:MM:SS",
                    "conversion_date_time",
                ));
            };
            let currency = match text(query, "conversion_currency") {
                Some(code) if is_currency(&code) => code,
                Some(_) => return Err(failure("conversion_currency is not a currency code", "conversion_currency")),
                None => store
                    .campaign(&part.campaign_id)
                    .map(|campaign| campaign.default_currency.clone())
                    .unwrap_or_default(),
            };
            let conversion_id = store.next_id("conversion", "111111", 10);
            let item_id = store.next_id("conversion_item", "111111", 1_107_235);
            store.conversions.push(Conversion {
                conversion_id: conversion_id.clone(),
                campaign_id: part.campaign_id.clone(),
                publisher_id: publisher_id.to_owned(),
                conversion_time: at,
                currency: currency.clone(),
                conversion_reference: reference,
                advertiser_reference: None,
                customer_reference: None,
                customer_type: None,
                country: None,
                clickref: tq.publisher_reference.clone(),
                click_id: None,
                was_disputed: false,
                conversion_status: "pending".into(),
                items: vec![ConversionItem {
                    conversion_item_id: item_id,
                    sku: None,
                    category: None,
                    item_value: value,
                    item_commission: expected,
                    item_publisher_commission: expected,
                    item_status: "pending".into(),
                    reject_reason: None,
                    approved_at: None,
                    invoice_id: None,
                    paid: false,
                    last_update: now,
                }],
                last_modified: now,
            });
            tq.conversion_value = Some(value);
            tq.conversion_currency = Some(currency);
            tq.conversion_date_time = Some(at);
            tq.conversion_id = Some(conversion_id);
        }
        "incorrect_commission" => {
            let Some(existing) = existing.filter(|conversion| conversion.publisher_id == publisher_id) else {
                return Err(failure(
                    format!("no conversion {reference} of this partner on the campaign"),
                    "conversion_reference",
                ));
            };
            tq.conversion_id = Some(existing.conversion_id);
        }
        other => {
            return Err(failure(
                format!("transaction_query_type {other:?} is not supported"),
                "transaction_query_type",
            ));
        }
    }
    let json = tq.to_json();
    store.transaction_queries.push(tq);
    Ok(json)
}

/// The statuses v3 bulk takes; `fraudulent` is kept as a rejection.
pub const BULK_STATUSES: [&str; 4] = ["approved", "rejected", "pending", "fraudulent"];

fn apply_status(conversion: &mut Conversion, item: Option<usize>, entry: &Map<String, Value>) {
    let now = Utc::now();
    let Some(status) = text(entry, "status") else { return };
    let (status, reason) = match status.as_str() {
        "fraudulent" => ("rejected".to_owned(), Some("fraudulent".to_owned())),
        _ => (status, text(entry, "reason")),
    };
    match item {
        None => {
            if conversion.conversion_status != status || conversion.items.iter().any(|item| item.item_status != status)
            {
                conversion.set_status(&status, reason.as_deref(), now);
            }
        }
        Some(index) => {
            let item = &mut conversion.items[index];
            if item.item_status != status {
                item.item_status = status.clone();
                item.reject_reason = if status == "rejected" { reason } else { None };
                item.approved_at = (status == "approved").then_some(item.approved_at.unwrap_or(now));
                item.last_update = now;
                conversion.last_modified = now;
            }
            conversion.settle_status();
        }
    }
}

fn bulk_entry(store: &mut Store, campaign_id: &str, key: &str, entry: &Value) -> Result<Value, Value> {
    let Some(entry) = entry.as_object() else { return Err(failure("an entry must be an object", "")) };
    let now = Utc::now();
    let (index, item) = match key {
        "conversion_items" => {
            let id = text(entry, "conversion_item_id").unwrap_or_default();
            let found = store.conversions.iter().enumerate().find_map(|(index, conversion)| {
                (conversion.campaign_id == campaign_id)
                    .then(|| {
                        conversion.items.iter().position(|item| item.conversion_item_id == id).map(|item| (index, item))
                    })
                    .flatten()
            });
            let Some((index, item)) = found else {
                return Err(failure(format!("conversion item {id} is not on this campaign"), "conversion_item_id"));
            };
            (index, Some(item))
        }
        _ => {
            let (field, wanted) = if key == "conversions" {
                ("conversion_id", text(entry, "conversion_id").unwrap_or_default())
            } else {
                ("conversion_reference", text(entry, "conversion_reference").unwrap_or_default())
            };
            let Some(index) = store.conversions.iter().position(|conversion| {
                conversion.campaign_id == campaign_id
                    && (if key == "conversions" { &conversion.conversion_id } else { &conversion.conversion_reference })
                        == &wanted
            }) else {
                return Err(failure(format!("conversion {wanted} is not on this campaign"), field));
            };
            (index, None)
        }
    };
    let conversion = &mut store.conversions[index];
    let before = conversion.clone();
    apply_status(conversion, item, entry);
    if let Some(position) = item {
        let item = &mut conversion.items[position];
        if let Some(value) = entry.get("item_value").and_then(Amount::from_json) {
            item.item_value = value;
        }
        if entry.contains_key("sku") {
            item.sku = text(entry, "sku");
        }
        if entry.contains_key("category") {
            item.category = text(entry, "category");
        }
    } else {
        if key == "conversions"
            && let Some(reference) = text(entry, "conversion_reference")
        {
            conversion.conversion_reference = reference;
        }
        if let Some(reference) = text(entry, "advertiser_reference") {
            conversion.advertiser_reference = Some(reference);
        }
        if let Some(reference) = text(entry, "publisher_reference") {
            conversion.clickref = Some(reference);
        }
        if let Some(reference) = text(entry, "customer_reference") {
            conversion.customer_reference = Some(reference);
        }
        if let Some(kind) = text(entry, "customer_type") {
            conversion.customer_type = Some(kind);
        }
    }
    if *conversion != before {
        conversion.last_modified = now;
    }
    Ok(json!({
        "conversion_id": conversion.conversion_id,
        "conversion_item_id": item.map(|position| conversion.items[position].conversion_item_id.clone()),
        "status": conversion.conversion_status,
    }))
}

/// Decides a pending transaction query: `approve`, `pend` or `reject`.
/// `Err` with the reason when it is not pending (decided ones are final).
pub fn decide(store: &mut Store, index: usize, action: &str) -> Result<(), String> {
    let now = Utc::now();
    let tq = store.transaction_queries[index].clone();
    let state = match action {
        "approve" => "approved",
        "reject" => "rejected",
        _ => "pending",
    };
    if tq.current_state == state {
        return Ok(());
    }
    if tq.current_state != "pending" {
        return Err(format!(
            "transaction query {} was already {}: it cannot change",
            tq.transaction_query_id, tq.current_state
        ));
    }
    let conversion = tq
        .conversion_id
        .as_deref()
        .and_then(|id| store.conversions.iter_mut().find(|conversion| conversion.conversion_id == id));
    match (tq.transaction_query_type.as_str(), state, conversion) {
        ("untracked", "approved", Some(conversion)) => conversion.set_status("approved", None, now),
        ("untracked", "rejected", Some(conversion)) => {
            conversion.set_status("rejected", Some("Transaction query rejected"), now)
        }
        ("incorrect_commission", "approved", Some(conversion)) => {
            for (position, item) in conversion.items.iter_mut().enumerate() {
                let share = if position == 0 { tq.expected_commission } else { Amount::ZERO };
                item.item_publisher_commission = share;
                item.item_commission = share;
                item.last_update = now;
            }
            conversion.last_modified = now;
        }
        _ => {}
    }
    let tq = &mut store.transaction_queries[index];
    tq.current_state = state.to_owned();
    tq.updated_at = now;
    Ok(())
}
