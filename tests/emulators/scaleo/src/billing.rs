//! Affiliate billing: invoices, Scaleo's payouts. Scaleo calculates and
//! invoices; it sends no money.
//!
//! `GET`/`POST /api/v2/network/aff-billing/invoices` as documented;
//! `GET`/`PUT /api/v2/network/aff-billing/invoices/{id}` \[NC\] read one and
//! change its status, memo or notes (a paid invoice keeps its amount,
//! currency and period). An invoice created without `amount` bills the
//! affiliate's approved payouts in its period and currency that are on no
//! invoice yet, and those conversions are then on it; with an amount it
//! bills that amount and no conversion. Marking an invoice `paid` records
//! when (`paid_at` \[NC\]); `canceled` releases its conversions. The payment
//! method shown is the affiliate's own (from its `payment_details`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate, Utc};
use cutover_emulator_kit::store::{read, write};
use rust_decimal::Decimal;
use serde_json::json;

use crate::body::{Body, Given};
use crate::model::{Invoice, NextIds, Store};
use crate::query;
use crate::routes::{Answer, AppState};
use crate::vendor::{ApiError, ok, success};

const FIELDS: &[&str] = &[
    "id",
    "invoice_number",
    "date",
    "status",
    "affiliate_id",
    "internal_notes",
    "paid_at",
    "created_at",
    "updated_at",
];

const STATUSES: &[&str] = &["draft", "unpaid", "paid", "canceled"];

const WRITABLE: &[&str] = &[
    "affiliate_id",
    "currency",
    "amount",
    "start_date",
    "end_date",
    "status",
    "invoice_memo",
    "internal_notes",
    "offers",
    "commission_plan_ids",
    "commission_types",
    "include_referral_balance",
];

fn answer(result: Answer) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

fn to_json(store: &Store, invoice: &Invoice) -> serde_json::Value {
    invoice.to_json(store.affiliates.get(&invoice.affiliate_id))
}

/// `GET /api/v2/network/aff-billing/invoices`.
pub(crate) async fn list(State(app): AppState, uri: Uri) -> Response {
    answer((|| -> Answer {
        let query = query::parse(&uri, FIELDS, ("id", false))?;
        let store = read(app.state.store());
        let items = store.invoices.values().map(|invoice| to_json(&store, invoice)).collect();
        Ok(query.answer("Invoices List", "invoices", items))
    })())
}

/// `GET /api/v2/network/aff-billing/invoices/{id}`.
pub(crate) async fn get_one(State(app): AppState, Path(id): Path<String>) -> Response {
    answer((|| -> Answer {
        let store = read(app.state.store());
        let invoice = id
            .parse::<u64>()
            .ok()
            .and_then(|id| store.invoices.get(&id))
            .ok_or_else(|| ApiError::not_found("Invoice"))?;
        Ok(ok("Invoice", "invoice", to_json(&store, invoice)))
    })())
}

fn day(body: &mut Body, name: &str) -> Given<NaiveDate> {
    match body.text(name, 10) {
        Given::Value(text) => match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(day) => Given::Value(day),
            Err(_) => {
                body.errors.add(name, format!("{name} must be a date in the format YYYY-MM-DD."));
                Given::Absent
            }
        },
        Given::Null => Given::Null,
        Given::Absent => Given::Absent,
    }
}

/// `POST /api/v2/network/aff-billing/invoices`.
pub(crate) async fn create(State(app): AppState, body: Bytes) -> Response {
    answer((|| -> Answer {
        let mut body = Body::parse(&body, WRITABLE)?;
        for required in ["affiliate_id", "currency", "start_date", "end_date"] {
            body.require(required);
        }
        let affiliate_id = body.integer("affiliate_id").value();
        let currency = body.currency("currency").value();
        let amount = body.decimal("amount", (Decimal::ZERO, Decimal::new(1_000_000_000, 0))).value();
        let start = day(&mut body, "start_date").value();
        let end = day(&mut body, "end_date").value();
        let status = body.word("status", STATUSES).value().unwrap_or_else(|| "unpaid".into());
        let memo = body.text("invoice_memo", 65_535).value();
        let notes = body.text("internal_notes", 65_535).value();
        body.text("offers", 4096);
        body.text("commission_types", 255);
        body.ids("commission_plan_ids");
        body.choice("include_referral_balance", &[0, 1]);
        if let (Some(start), Some(end)) = (start, end)
            && end < start
        {
            body.errors.add("end_date", "End Date must be greater than or equal to Start Date.");
        }
        let mut store = write(app.state.store());
        if let Some(id) = affiliate_id
            && !store.affiliates.contains_key(&id)
        {
            body.errors.add("affiliate_id", "Affiliate Id is invalid.");
        }
        body.finish()?;
        let (Some(affiliate_id), Some(currency), Some(start), Some(end)) = (affiliate_id, currency, start, end) else {
            return Err(ApiError::bad_request("The invoice is incomplete."));
        };
        let id = NextIds::take(&mut store.next_id.invoice);
        let billed: Vec<usize> = if amount.is_none() {
            store
                .conversions
                .iter()
                .enumerate()
                .filter(|(_, conversion)| {
                    let day = conversion.added.date_naive();
                    conversion.affiliate_id == affiliate_id
                        && conversion.status == "approved"
                        && conversion.invoice_id.is_none()
                        && conversion.currency.eq_ignore_ascii_case(&currency)
                        && day >= start
                        && day <= end
                })
                .map(|(index, _)| index)
                .collect()
        } else {
            Vec::new()
        };
        let amount = amount.unwrap_or_else(|| billed.iter().map(|&index| store.conversions[index].payout).sum());
        if status != "canceled" {
            for index in billed {
                store.conversions[index].invoice_id = Some(id);
            }
        }
        let now = Utc::now();
        let invoice = Invoice {
            id,
            invoice_number: format!("INV-{}-{id:05}", now.year()),
            date: now.date_naive(),
            paid_at: (status == "paid").then_some(now),
            status,
            amount,
            currency,
            referral_commission: Decimal::ZERO,
            start_date: start,
            end_date: end,
            affiliate_id,
            invoice_memo: memo,
            internal_notes: notes,
            created_at: now,
            updated_at: now,
        };
        let json = to_json(&store, &invoice);
        store.invoices.insert(id, invoice);
        Ok(success(StatusCode::CREATED, "Invoice created", json!({"invoice": json})))
    })())
}

/// `PUT /api/v2/network/aff-billing/invoices/{id}`.
pub(crate) async fn update(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Response {
    answer((|| -> Answer {
        let mut body = Body::parse(
            &body,
            &["status", "invoice_memo", "internal_notes", "amount", "currency", "start_date", "end_date"],
        )?;
        let mut store = write(app.state.store());
        let id = id.parse::<u64>().map_err(|_| ApiError::not_found("Invoice"))?;
        let mut invoice = store.invoices.get(&id).cloned().ok_or_else(|| ApiError::not_found("Invoice"))?;
        let before = invoice.clone();
        let status = body.word("status", STATUSES).value();
        body.text("invoice_memo", 65_535).apply(&mut invoice.invoice_memo);
        body.text("internal_notes", 65_535).apply(&mut invoice.internal_notes);
        let amount = body.decimal("amount", (Decimal::ZERO, Decimal::new(1_000_000_000, 0))).value();
        let currency = body.currency("currency").value();
        let start = day(&mut body, "start_date").value();
        let end = day(&mut body, "end_date").value();
        let changes_money = amount.is_some_and(|amount| amount != invoice.amount)
            || currency.as_ref().is_some_and(|currency| *currency != invoice.currency)
            || start.is_some_and(|start| start != invoice.start_date)
            || end.is_some_and(|end| end != invoice.end_date);
        if changes_money && invoice.status == "paid" {
            body.errors.add("amount", "A paid invoice keeps its amount, currency and period.");
        }
        body.finish()?;
        invoice.amount = amount.unwrap_or(invoice.amount);
        invoice.currency = currency.unwrap_or(invoice.currency);
        invoice.start_date = start.unwrap_or(invoice.start_date);
        invoice.end_date = end.unwrap_or(invoice.end_date);
        let now = Utc::now();
        if let Some(status) = status
            && status != invoice.status
        {
            if status == "paid" {
                invoice.paid_at = Some(now);
            }
            if status == "canceled" {
                for conversion in store.conversions.iter_mut().filter(|conversion| conversion.invoice_id == Some(id)) {
                    conversion.invoice_id = None;
                }
            }
            invoice.status = status;
        }
        if invoice != before {
            invoice.updated_at = now;
        }
        let json = to_json(&store, &invoice);
        store.invoices.insert(id, invoice);
        Ok(ok("Invoice updated", "invoice", json))
    })())
}
