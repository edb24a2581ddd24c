//! Conversion report rows ↔ conversions, and the commissions they carry.
//!
//! Read: the transaction id (a UUID) as the record's id; the advertiser's
//! order id; the sale (`advertiser_amount`) in the row's currency, refused
//! when the currency is not ISO 4217 or the amount has more decimals than
//! it allows; `approved`, `pending`, `rejected` as they are, `hold` as
//! pending and `trash` as rejected (the custom field `scaleo_status` keeps
//! the word); the time; the click (by its id), the affiliate and the
//! offer. Kept as custom fields: `payout` and `revenue` (in the row's
//! currency), `goal_id`, `goal`, `promo_code`, `sub_ids`, `aff_click_id`,
//! `advertiser_user_id`, `external_id` (the `adv_track_id` a write set)
//! and `invoice_id`. Rows carry no change time: a record's `updated_at` is
//! its conversion time.
//!
//! Written through "create conversion": the affiliate, the default goal of
//! the offer (the program's, or the configured fallback), the sale and its
//! currency, the status (`scaleo_status` wins when it is one of Scaleo's
//! words, so hold and trash survive a round trip), the time (`Y-m-d
//! H:i:s`, to the second), the order id, `payout`, `revenue`,
//! `promo_code` and `sub_ids` from the custom fields, and the record's key
//! as `adv_track_id`. A click is not sent: clicks cannot be written to
//! Scaleo, so one from another platform is unknown to it.
//!
//! Commissions (read only, derived): a conversion with a payout above zero
//! is a level-1 commission of its affiliate (`<transaction id>:1`):
//! pending while the conversion is pending or on hold, approved when it is
//! approved, paid when it is on a paid invoice (then its payout is that
//! invoice), rejected when the conversion is. When the affiliate was
//! referred by a sponsor who still exists, the sponsor earns the
//! affiliate's `referral_commission` percent of the payout (Scaleo's
//! referral program), rounded half to even at the currency's precision: a
//! level-2 commission (`<transaction id>:2`), never paid by an invoice
//! (Scaleo keeps referral earnings on a separate balance). Scaleo computes
//! both and has no endpoint that takes them, so they cannot be written.

use super::{record, wrong_entity};
use crate::values::{self, field, text};
use chrono::{DateTime, Utc};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{Commission, CommissionStatus, Conversion, ConversionStatus, Currency, Money, Reference};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};

/// Scaleo's conversion statuses.
pub(crate) const STATUSES: [&str; 5] = ["approved", "pending", "hold", "rejected", "trash"];

fn status_of(word: &str) -> Option<ConversionStatus> {
    match word {
        "approved" => Some(ConversionStatus::Approved),
        "pending" | "hold" => Some(ConversionStatus::Pending),
        "rejected" | "trash" => Some(ConversionStatus::Rejected),
        _ => None,
    }
}

/// What every use of a row needs: its id, time, status and currency.
struct Row<'a> {
    id: CompactString,
    at: DateTime<Utc>,
    word: &'a str,
    status: ConversionStatus,
    currency: Option<Currency>,
}

fn row(item: &Value) -> Result<Row<'_>, RejectReason> {
    let id = text(field(item, "transaction_id"))
        .ok_or_else(|| RejectReason::new("malformed_record", "the conversion has no `transaction_id`"))?;
    let at = values::instant(field(item, "added_timestamp"), "added_timestamp")?
        .ok_or_else(|| RejectReason::new("malformed_record", "the conversion has no `added_timestamp`"))?;
    let word = field(item, "conversion_status").and_then(Value::as_str).unwrap_or("");
    let status = status_of(word).ok_or_else(|| {
        RejectReason::new(
            "unmappable_value",
            format!("conversion status `{word}` is not one of {}", STATUSES.join(", ")),
        )
    })?;
    let currency = values::currency(field(item, "currency"), "currency")?;
    Ok(Row { id, at, word, status, currency })
}

fn amount(item: &Value, currency: Option<Currency>, name: &str) -> Result<Option<Money>, RejectReason> {
    let Some(value) = values::decimal(field(item, name), name)? else { return Ok(None) };
    let currency =
        currency.ok_or_else(|| RejectReason::new("missing_currency", format!("`{name}` is {value} in no currency")))?;
    values::money(value, currency, name).map(Some)
}

fn reference(entity: EntityKind, id: Option<u64>) -> Option<Reference> {
    id.map(|id| Reference::new(entity, id.to_string()))
}

/// The canonical conversion of a report row, or why it cannot be one.
pub(crate) fn to_record(item: &Value) -> Result<Record, RejectReason> {
    let row = row(item)?;
    let sale = amount(item, row.currency, "advertiser_amount")?;
    let payout = amount(item, row.currency, "payout")?;
    let revenue = amount(item, row.currency, "revenue")?;
    let conversion = Conversion {
        order_id: text(field(item, "advertiser_order_id")),
        amount: sale,
        status: Some(row.status),
        converted_at: Some(row.at),
        click: text(field(item, "click_id")).map(|click| Reference::new(EntityKind::Click, click)),
        partner: reference(EntityKind::Partner, values::id(field(item, "affiliate"))),
        program: reference(EntityKind::Program, values::id(field(item, "offer"))),
        customer: None,
        order: None,
    };
    let mut record = record(row.id, row.at, Entity::Conversion(conversion));
    let custom = &mut record.custom_fields;
    custom.insert("scaleo_status".into(), CustomValue::Text(row.word.into()));
    for (name, money) in [("payout", payout), ("revenue", revenue)] {
        if let Some(money) = money {
            custom.insert(name.into(), CustomValue::Decimal(money.amount));
        }
    }
    if let Some(goal) = field(item, "goal") {
        if let Some(id) = values::id(Some(goal)) {
            custom.insert("goal_id".into(), CustomValue::Integer(i64::try_from(id).unwrap_or(i64::MAX)));
        }
        if let Some(title) = text(goal.get("title")) {
            custom.insert("goal".into(), CustomValue::Text(title));
        }
    }
    for (name, column) in [
        ("promo_code", "promo_code"),
        ("aff_click_id", "aff_click_id"),
        ("advertiser_user_id", "advertiser_user_id"),
        ("external_id", "advertiser_track_id"),
    ] {
        if let Some(value) = text(field(item, column)) {
            custom.insert(name.into(), CustomValue::Text(value));
        }
    }
    let sub_ids = super::clicks::sub_ids(item);
    if !sub_ids.is_empty() {
        custom.insert("sub_ids".into(), CustomValue::List(sub_ids.into_iter().map(CustomValue::Text).collect()));
    }
    if let Some(invoice) = values::id(field(item, "invoice_id")) {
        custom.insert("invoice_id".into(), CustomValue::Integer(i64::try_from(invoice).unwrap_or(i64::MAX)));
    }
    Ok(record)
}

/// An affiliate's sponsor in the referral program and its share, in
/// percent, of the affiliate's payouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sponsor {
    pub(crate) id: u64,
    pub(crate) rate: Decimal,
}

/// The commissions of a report row: none (no payout), the affiliate's, and
/// the sponsor's; or why the row cannot give them.
pub(crate) fn commissions(
    item: &Value,
    sponsor_of: &dyn Fn(u64) -> Option<Sponsor>,
    invoice_paid: &dyn Fn(u64) -> bool,
) -> Vec<Result<Record, RejectReason>> {
    let derived = (|| {
        let row = row(item)?;
        let Some(payout) = amount(item, row.currency, "payout")?.filter(|payout| payout.amount > Decimal::ZERO) else {
            return Ok(Vec::new());
        };
        let affiliate = values::id(field(item, "affiliate"))
            .ok_or_else(|| RejectReason::new("malformed_record", "the conversion names no affiliate"))?;
        let invoice = values::id(field(item, "invoice_id"));
        let status = match row.status {
            ConversionStatus::Pending => CommissionStatus::Pending,
            ConversionStatus::Approved if invoice.is_some_and(invoice_paid) => CommissionStatus::Paid,
            ConversionStatus::Approved => CommissionStatus::Approved,
            ConversionStatus::Rejected => CommissionStatus::Rejected,
            ConversionStatus::Reversed => CommissionStatus::Reversed,
        };
        let conversion = Some(Reference::new(EntityKind::Conversion, row.id.clone()));
        let level = |level: u32, partner: u64, amount: Money, status, payout: Option<u64>| {
            let commission = Commission {
                amount: Some(amount),
                status: Some(status),
                level: Some(level),
                conversion: conversion.clone(),
                partner: reference(EntityKind::Partner, Some(partner)),
                payout: reference(EntityKind::Payout, payout),
                created_at: Some(row.at),
            };
            record(format!("{}:{level}", row.id), row.at, Entity::Commission(commission))
        };
        let mut records =
            vec![level(1, affiliate, payout, status, invoice.filter(|_| status == CommissionStatus::Paid))];
        if let Some(sponsor) = sponsor_of(affiliate) {
            let units = payout.currency.minor_units().unwrap_or(4);
            let share = (payout.amount * sponsor.rate / Decimal::ONE_HUNDRED)
                .round_dp_with_strategy(units, RoundingStrategy::MidpointNearestEven);
            if share > Decimal::ZERO {
                let status = if status == CommissionStatus::Paid { CommissionStatus::Approved } else { status };
                let mut sponsored =
                    level(2, sponsor.id, values::money(share, payout.currency, "referral share")?, status, None);
                sponsored.custom_fields.insert("referral_rate".into(), CustomValue::Decimal(sponsor.rate));
                records.push(sponsored);
            }
        }
        Ok(records)
    })();
    match derived {
        Ok(records) => records.into_iter().map(Ok).collect(),
        Err(reason) => vec![Err(reason)],
    }
}

/// What a conversion write needs once its offer's goal is known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ConversionWrite {
    /// The body, without `goal_id`.
    pub(crate) body: Map<String, Value>,
    /// The offer whose default goal it is for.
    pub(crate) offer_id: u64,
    /// Scaleo's status word.
    pub(crate) status: &'static str,
}

/// The "create conversion" fields of a canonical conversion, or why Scaleo
/// cannot take it.
pub(crate) fn from_record(record: &Record, fallback_offer: Option<u64>) -> Result<ConversionWrite, RejectReason> {
    let Entity::Conversion(conversion) = &record.entity else {
        return Err(wrong_entity(record, "a conversion"));
    };
    let affiliate_id = values::reference_id(conversion.partner.as_ref()).ok_or_else(|| {
        RejectReason::new(
            "unresolved_reference",
            "the conversion names no Scaleo affiliate (its partner must be migrated first)",
        )
    })?;
    let offer_id = values::reference_id(conversion.program.as_ref()).or(fallback_offer).ok_or_else(|| {
        RejectReason::new(
            "missing_program",
            "the conversion names no Scaleo offer; set `fallback_offer_id` to record it under one",
        )
    })?;
    let status = match (values::custom_text(record, "scaleo_status"), conversion.status) {
        (Some(word), _) if STATUSES.contains(&word) => {
            STATUSES.iter().copied().find(|known| *known == word).unwrap_or("pending")
        }
        (_, Some(ConversionStatus::Approved)) => "approved",
        (_, Some(ConversionStatus::Rejected | ConversionStatus::Reversed)) => "rejected",
        (_, Some(ConversionStatus::Pending) | None) => "pending",
    };
    let mut body = Map::new();
    body.insert("affiliate_id".into(), Value::from(affiliate_id));
    body.insert("conv_status".into(), Value::from(status));
    if let Some(amount) = &conversion.amount {
        body.insert("amount".into(), Value::from(values::amount_text(amount.amount)));
        body.insert("currency".into(), Value::from(amount.currency.code()));
    }
    for name in ["payout", "revenue"] {
        if let Some(value) = values::custom_decimal(record, name) {
            body.insert(name.into(), Value::from(values::amount_text(value)));
        }
    }
    if let Some(order) = conversion.order_id.as_deref() {
        body.insert("adv_order_id".into(), Value::from(order));
    }
    if let Some(at) = &conversion.converted_at {
        body.insert("date".into(), Value::from(values::tracking_time(at)));
    }
    if let Some(code) = values::custom_text(record, "promo_code") {
        body.insert("promo_code".into(), Value::from(code));
    }
    for (index, sub_id) in values::texts(record.custom_fields.get("sub_ids")).into_iter().take(5).enumerate() {
        if !sub_id.is_empty() {
            body.insert(format!("sub_id{}", index + 1), Value::from(sub_id));
        }
    }
    body.insert("adv_track_id".into(), Value::from(values::external_key(record)));
    body.insert("fire_postbacks".into(), Value::from("no"));
    Ok(ConversionWrite { body, offer_id, status })
}

/// Whether a row found for a write holds the same sale as `body` (the
/// amounts Scaleo cannot change once recorded).
pub(crate) fn same_sale(row: &Value, body: &Map<String, Value>) -> bool {
    let number = |value: Option<&Value>| values::decimal(value, "amount").ok().flatten().unwrap_or_default();
    let currency = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_ascii_uppercase);
    number(field(row, "advertiser_amount")) == number(body.get("amount"))
        && (body.get("currency").is_none() || currency(field(row, "currency")) == currency(body.get("currency")))
}
