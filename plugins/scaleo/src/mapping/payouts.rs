//! Invoices ↔ payouts. Scaleo calculates and invoices; it sends no money.
//!
//! Read: the affiliate, the amount in its currency, `paid` as paid,
//! `unpaid` and `draft` as pending, `canceled` as canceled (the custom
//! field `scaleo_status` keeps the word), the payment method's title
//! (the affiliate's own method), the invoice number as the transaction
//! reference, when it was paid. Kept as custom fields: `period_start`,
//! `period_end`, `invoice_memo`, `referral_commission`.
//!
//! Written: an invoice of that amount for the affiliate (so it bills no
//! conversion), its status (pending and processing → unpaid, failed →
//! unpaid, paid → paid, canceled → canceled; `draft` when `scaleo_status`
//! says so), its period (the custom fields, else the day it was paid, else
//! the record's day), its memo; and the record's key in `internal_notes`,
//! the one free field of an invoice, which later writes look it up by.
//! Scaleo sets the method (the affiliate's), the number and the time paid.

use super::{record, wrong_entity};
use crate::values::{self, field, text};
use chrono::NaiveDate;
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{Payout, PayoutStatus, Reference};
use serde_json::{Map, Value};

/// The marker a written invoice's `internal_notes` hold: `cutover:<key>`.
pub(crate) fn marker(record: &Record) -> String {
    format!("cutover:{}", values::external_key(record))
}

fn date_custom(name: &str, value: Option<&Value>) -> Option<(CompactString, CustomValue)> {
    let day = NaiveDate::parse_from_str(value?.as_str()?, "%Y-%m-%d").ok()?;
    Some((name.into(), CustomValue::Date(day)))
}

/// The canonical payout of an invoice, or why it cannot be one.
pub(crate) fn to_record(item: &Value) -> Result<Record, RejectReason> {
    let id = values::source_id(item)?;
    let updated_at = values::updated_at(item)?;
    let word = field(item, "status").and_then(Value::as_str).unwrap_or("");
    let status = match word {
        "paid" => PayoutStatus::Paid,
        "unpaid" | "draft" => PayoutStatus::Pending,
        "canceled" | "cancelled" => PayoutStatus::Canceled,
        other => {
            return Err(RejectReason::new(
                "unmappable_value",
                format!("invoice status `{other}` is not draft, unpaid, paid or canceled"),
            ));
        }
    };
    let amount = field(item, "amount");
    let affiliate = values::id(field(item, "affiliate")).or_else(|| values::id(field(item, "affiliate_id")));
    let payout = Payout {
        partner: affiliate.map(|id| Reference::new(EntityKind::Partner, id.to_string())),
        amount: values::money_of(
            amount.and_then(|amount| amount.get("value")),
            amount.and_then(|amount| amount.get("currency")),
            "amount",
        )?,
        status: Some(status),
        method: field(item, "payment_method").and_then(|method| text(method.get("title"))),
        transaction_reference: text(field(item, "invoice_number")),
        paid_at: values::instant(field(item, "paid_at"), "paid_at")?,
    };
    let mut record = record(id.to_string(), updated_at, Entity::Payout(payout));
    let custom = &mut record.custom_fields;
    custom.insert("scaleo_status".into(), CustomValue::Text(word.into()));
    let period = field(item, "period");
    for (name, key) in [("period_start", "start_date"), ("period_end", "end_date")] {
        if let Some((name, value)) = date_custom(name, period.and_then(|period| period.get(key))) {
            custom.insert(name, value);
        }
    }
    if let Some(memo) = text(field(item, "invoice_memo")) {
        custom.insert("invoice_memo".into(), CustomValue::Text(memo));
    }
    let referral = field(item, "referral_commission").and_then(|share| share.get("value"));
    if let Some(share) = values::decimal(referral, "referral_commission")?.filter(|share| !share.is_zero()) {
        custom.insert("referral_commission".into(), CustomValue::Decimal(share));
    }
    Ok(record)
}

/// What an invoice write sends, with the affiliate it is for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InvoiceWrite {
    pub(crate) affiliate_id: u64,
    pub(crate) body: Map<String, Value>,
}

/// The invoice fields of a canonical payout, or why Scaleo cannot take it.
pub(crate) fn from_record(record: &Record) -> Result<InvoiceWrite, RejectReason> {
    let Entity::Payout(payout) = &record.entity else {
        return Err(wrong_entity(record, "an invoice"));
    };
    let affiliate_id = values::reference_id(payout.partner.as_ref()).ok_or_else(|| {
        RejectReason::new(
            "unresolved_reference",
            "the payout names no Scaleo affiliate (its partner must be migrated first)",
        )
    })?;
    let amount = payout
        .amount
        .as_ref()
        .ok_or_else(|| RejectReason::new("missing_amount", "Scaleo invoices an amount: the payout has none"))?;
    let status = match (values::custom_text(record, "scaleo_status"), payout.status) {
        (Some("draft"), _) => "draft",
        (_, Some(PayoutStatus::Paid)) => "paid",
        (_, Some(PayoutStatus::Canceled)) => "canceled",
        _ => "unpaid",
    };
    let day = payout.paid_at.unwrap_or(record.updated_at).date_naive();
    let date = |name: &str| match record.custom_fields.get(name) {
        Some(CustomValue::Date(day)) => *day,
        _ => day,
    };
    let mut body = Map::new();
    body.insert("affiliate_id".into(), Value::from(affiliate_id));
    body.insert("currency".into(), Value::from(amount.currency.code()));
    body.insert("amount".into(), Value::from(values::amount_text(amount.amount)));
    body.insert("start_date".into(), Value::from(date("period_start").to_string()));
    body.insert("end_date".into(), Value::from(date("period_end").max(date("period_start")).to_string()));
    body.insert("status".into(), Value::from(status));
    if let Some(memo) = values::custom_text(record, "invoice_memo") {
        body.insert("invoice_memo".into(), Value::from(memo));
    }
    body.insert("internal_notes".into(), Value::from(marker(record)));
    Ok(InvoiceWrite { affiliate_id, body })
}

/// Whether `current` (an invoice as Scaleo gives it) holds the status and
/// amount of `body`.
pub(crate) fn holds(current: &Value, body: &Map<String, Value>) -> (bool, bool) {
    let number = |value: Option<&Value>| values::decimal(value, "amount").ok().flatten().unwrap_or_default();
    let amount = current.get("amount");
    let same_amount = number(amount.and_then(|amount| amount.get("value"))) == number(body.get("amount"))
        && amount.and_then(|amount| amount.get("currency")) == body.get("currency");
    (current.get("status") == body.get("status"), same_amount)
}
