//! Promo codes ↔ coupon codes.
//!
//! Read: the code, the affiliate it credits, its offer (none: every
//! offer), the discount (a percentage, or a fixed amount in its currency; a
//! fixed discount without a currency is refused), active when its status is
//! 1.
//!
//! Written: the same fields. A free-shipping discount has no place in
//! Scaleo, which records percent and fixed discounts: the code is written
//! without a discount. A store discount code (`discount_code`) is not kept.

use super::{record, wrong_entity};
use crate::values::{self, field, text};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{CouponCode, Discount, Reference};
use serde_json::{Map, Value};

/// The canonical coupon code of a promo code, or why it cannot be one.
pub(crate) fn to_record(item: &Value) -> Result<Record, RejectReason> {
    let id = values::source_id(item)?;
    let updated_at = values::updated_at(item)?;
    let discount = match field(item, "discount_type").and_then(Value::as_str) {
        None => None,
        Some("percent") => values::decimal(field(item, "discount_value"), "discount_value")?.map(Discount::Percentage),
        Some("fixed") => values::money_of(field(item, "discount_value"), field(item, "currency"), "discount_value")?
            .map(Discount::FixedAmount),
        Some(other) => {
            return Err(RejectReason::new(
                "unmappable_value",
                format!("discount type `{other}` is not percent or fixed"),
            ));
        }
    };
    let code = CouponCode {
        code: text(field(item, "code")),
        partner: values::id(field(item, "affiliate_id")).map(|id| Reference::new(EntityKind::Partner, id.to_string())),
        program: values::id(field(item, "offer_id"))
            .filter(|id| *id > 0)
            .map(|id| Reference::new(EntityKind::Program, id.to_string())),
        discount_code: None,
        discount,
        active: values::id(field(item, "status")).map(|status| status == 1),
    };
    Ok(record(id.to_string(), updated_at, Entity::CouponCode(code)))
}

/// The promo code fields of a canonical coupon code, or why Scaleo cannot
/// take it.
pub(crate) fn from_record(record: &Record) -> Result<Map<String, Value>, RejectReason> {
    let Entity::CouponCode(coupon) = &record.entity else {
        return Err(wrong_entity(record, "a promo code"));
    };
    let code = coupon
        .code
        .as_deref()
        .map(str::trim)
        .filter(|code| !code.is_empty())
        .ok_or_else(|| RejectReason::new("missing_code", "a coupon code without its code"))?;
    let affiliate_id = values::reference_id(coupon.partner.as_ref()).ok_or_else(|| {
        RejectReason::new(
            "unresolved_reference",
            "the code names no Scaleo affiliate (its partner must be migrated first)",
        )
    })?;
    let mut body = Map::new();
    body.insert("code".into(), Value::from(code));
    body.insert("affiliate_id".into(), Value::from(affiliate_id));
    body.insert("offer_id".into(), values::reference_id(coupon.program.as_ref()).map_or(Value::Null, Value::from));
    if let Some(active) = coupon.active {
        body.insert("status".into(), Value::from(if active { 1 } else { 2 }));
    }
    let (kind, value, currency) = match &coupon.discount {
        Some(Discount::Percentage(percent)) => {
            (Value::from("percent"), Value::from(values::amount_text(*percent)), Value::Null)
        }
        Some(Discount::FixedAmount(money)) => {
            (Value::from("fixed"), Value::from(values::amount_text(money.amount)), Value::from(money.currency.code()))
        }
        Some(Discount::FreeShipping) | None => (Value::Null, Value::Null, Value::Null),
    };
    body.insert("discount_type".into(), kind);
    body.insert("discount_value".into(), value);
    body.insert("currency".into(), currency);
    Ok(body)
}

/// Whether `current` (a promo code as Scaleo gives it) holds every field of
/// `body`.
pub(crate) fn holds(current: &Value, body: &Map<String, Value>) -> bool {
    body.iter().all(|(name, wanted)| {
        let held = current.get(name).unwrap_or(&Value::Null);
        match name.as_str() {
            "affiliate_id" | "offer_id" | "status" => values::id(Some(held)) == values::id(Some(wanted)),
            "discount_value" => {
                let number = |value: &Value| values::decimal(Some(value), name).ok().flatten();
                number(held) == number(wanted)
            }
            _ => held == wanted,
        }
    })
}
