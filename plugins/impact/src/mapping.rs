//! impact.com items ↔ canonical records, in one place: the API's field
//! names, its strings for numbers, its dates in the account's time zone and
//! its status vocabularies are translated here, and only here.
//!
//! Values come as strings (the API's JSON is its XML turned into JSON) or,
//! as the OpenAPI files type them, as numbers: both are read. An empty
//! string is a field not set.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{
    Click, Commission, CommissionStatus, Conversion, ConversionStatus, CouponCode, Currency, Money, Partner,
    PartnerStatus, Payout, PayoutStatus, Program, ProgramKind, Reference, TrackingLink,
};
use rust_decimal::Decimal;
use serde_json::Value;

/// `item[field]` as text, `None` when missing or empty.
pub(crate) fn text(item: &Value, field: &str) -> Option<CompactString> {
    match &item[field] {
        Value::String(text) if !text.trim().is_empty() => Some(CompactString::from(text.trim())),
        Value::Number(number) => Some(CompactString::from(number.to_string())),
        Value::Bool(flag) => Some(CompactString::from(flag.to_string())),
        _ => None,
    }
}

fn malformed(message: impl Into<String>) -> RejectReason {
    RejectReason::new("malformed_record", message.into())
}

/// The item's `Id`, or why it has none.
fn id_of(item: &Value, what: &str) -> Result<CompactString, RejectReason> {
    text(item, "Id").ok_or_else(|| malformed(format!("the {what} has no `Id`")))
}

/// An ISO 8601 date with its offset (the API writes the account's zone),
/// in UTC. A value without an offset is refused: it could be read two ways.
pub(crate) fn instant(item: &Value, field: &str) -> Result<Option<DateTime<Utc>>, RejectReason> {
    let Some(value) = text(item, field) else { return Ok(None) };
    DateTime::parse_from_rfc3339(&value).map(|at| Some(at.with_timezone(&Utc))).map_err(|_| {
        RejectReason::new("invalid_timestamp", format!("`{field}` is `{value}`, not an ISO 8601 date with an offset"))
    })
}

/// `amount` in `currency`, checked: a known ISO 4217 code, a decimal
/// number, and no more decimals than the currency has (`12.345 USD` and
/// `1580.5 JPY` are refused, not rounded).
pub(crate) fn money(amount: &str, currency: &str) -> Result<Money, RejectReason> {
    let code = Currency::from_code(currency.trim()).ok_or_else(|| {
        RejectReason::new("invalid_currency", format!("`{currency}` is not an ISO 4217 currency code"))
    })?;
    let value = Decimal::from_str(amount.trim())
        .map_err(|_| RejectReason::new("invalid_amount", format!("`{amount}` is not an amount")))?;
    let money = Money::new(value, code);
    if money.exceeds_currency_precision() {
        return Err(RejectReason::new(
            "invalid_amount",
            format!("`{amount} {currency}` has more decimals than {currency} allows"),
        ));
    }
    Ok(money)
}

/// `item[amount_field]` in `item[currency_field]`, when the amount is set.
fn money_of(item: &Value, amount_field: &str, currency_field: &str) -> Result<Option<Money>, RejectReason> {
    let Some(amount) = text(item, amount_field) else { return Ok(None) };
    let currency = text(item, currency_field).ok_or_else(|| {
        RejectReason::new("invalid_currency", format!("`{amount_field}` is set but `{currency_field}` is empty"))
    })?;
    money(&amount, &currency).map(Some)
}

fn custom_text(record: &mut Record, name: &str, value: Option<CompactString>) {
    if let Some(value) = value {
        record.custom_fields.insert(name.into(), CustomValue::Text(value));
    }
}

/// A partner's account state as a canonical status.
pub(crate) fn partner_status(state: &str) -> Option<PartnerStatus> {
    Some(match state {
        "ACTIVE" => PartnerStatus::Active,
        "PENDING" => PartnerStatus::Pending,
        "DECLINED" => PartnerStatus::Rejected,
        "SUSPENDED" => PartnerStatus::Suspended,
        "EXPIRED" | "DEACTIVATED" | "CLOSING" | "CLOSED" | "NOT_APPLICABLE" => PartnerStatus::Inactive,
        _ => return None,
    })
}

/// A `MediaPartners` item. `tiers` names each partner's revenue tier (the
/// partner group it is in). The parent (second tier) is `MPValue2`, where
/// the brand keeps it (impact.com has no parent field); `MPValue1` is the
/// previous platform's partner id. Payout details are the partner's own and
/// not readable by the brand.
pub(crate) fn partner(item: &Value, tiers: &HashMap<String, String>) -> Result<Record, RejectReason> {
    let id = id_of(item, "partner")?;
    let state = text(item, "State");
    let status = match state.as_deref() {
        None => None,
        Some(state) => Some(partner_status(state).ok_or_else(|| {
            RejectReason::new("unknown_status", format!("partner state `{state}` is not one impact.com documents"))
        })?),
    };
    let contact = item["Contacts"].get(0).cloned().unwrap_or(Value::Null);
    let created_at = instant(item, "DateCreated")?;
    let updated_at = instant(item, "DateLastUpdated")?.or(created_at).unwrap_or(DateTime::UNIX_EPOCH);
    let body = Partner {
        name: text(item, "Name"),
        email: text(&contact, "EmailAddress"),
        company: None,
        status,
        tier: tiers.get(id.as_str()).map(|tier| CompactString::from(tier.as_str())),
        parent: text(item, "MPValue2").map(|parent| Reference::new(EntityKind::Partner, parent)),
        payout: None,
        created_at,
    };
    let mut record = Record::new(crate::NAME, id, updated_at, Entity::Partner(body));
    custom_text(&mut record, "previous_partner_id", text(item, "MPValue1"));
    custom_text(&mut record, "mp_value3", text(item, "MPValue3"));
    custom_text(&mut record, "website", text(item, "Website"));
    custom_text(&mut record, "partner_type", text(item, "PartnerType"));
    custom_text(&mut record, "relationship_state", text(item, "RelationshipState"));
    custom_text(&mut record, "currency", text(item, "Currency"));
    custom_text(&mut record, "country", text(&item["Address"], "Country"));
    custom_text(&mut record, "first_name", text(&contact, "FirstName"));
    custom_text(&mut record, "last_name", text(&contact, "LastName"));
    Ok(record)
}

/// A `Campaigns` item (a program).
pub(crate) fn program(item: &Value) -> Result<Record, RejectReason> {
    let id = id_of(item, "campaign")?;
    let state = text(item, "State");
    let body = Program {
        name: text(item, "Name"),
        kind: Some(ProgramKind::Program),
        description: text(item, "ShortDescription").map(String::from),
        landing_url: text(&item["GatewayTrackingSettings"], "DefaultLandingPage"),
        commission_percent: None,
        commission_flat: None,
        cookie_days: None,
        active: state.as_deref().map(|state| state == "ACTIVE"),
    };
    let mut record = Record::new(crate::NAME, id, DateTime::UNIX_EPOCH, Entity::Program(body));
    custom_text(&mut record, "state", state);
    custom_text(&mut record, "tracking_domain", text(item, "TrackingDomain"));
    Ok(record)
}

/// A `UniqueUrls` item: a tracking link, assigned to a partner or not yet.
pub(crate) fn tracking_link(item: &Value) -> Result<Record, RejectReason> {
    let id = id_of(item, "unique URL")?;
    let created_at = instant(item, "DateCreated")?;
    let updated_at = instant(item, "DateLastAssigned")?.or(created_at).unwrap_or(DateTime::UNIX_EPOCH);
    let body = TrackingLink {
        url: text(item, "Url"),
        destination_url: text(item, "LandingPage"),
        partner: text(item, "MediaPartnerId").map(|partner| Reference::new(EntityKind::Partner, partner)),
        program: text(item, "CampaignId").map(|program| Reference::new(EntityKind::Program, program)),
        created_at,
    };
    let mut record = Record::new(crate::NAME, id, updated_at, Entity::TrackingLink(body));
    custom_text(&mut record, "state", text(item, "State"));
    Ok(record)
}

/// A `PromoCodes` item.
pub(crate) fn coupon_code(item: &Value) -> Result<Record, RejectReason> {
    let id = id_of(item, "promo code")?;
    let created_at = instant(item, "CreatedDate")?;
    let body = CouponCode {
        code: text(item, "Code"),
        partner: text(item, "AssignedPartnerId").map(|partner| Reference::new(EntityKind::Partner, partner)),
        program: text(item, "CampaignId").map(|program| Reference::new(EntityKind::Program, program)),
        discount_code: None,
        discount: None,
        active: text(item, "State").map(|state| state == "ACTIVE"),
    };
    let mut record = Record::new(crate::NAME, id, created_at.unwrap_or(DateTime::UNIX_EPOCH), Entity::CouponCode(body));
    custom_text(&mut record, "credit_policy", text(item, "CreditPolicy"));
    custom_text(&mut record, "deal_id", text(item, "DealId"));
    custom_text(&mut record, "discount_type", text(item, "DiscountType"));
    custom_text(&mut record, "discount_percent", text(item, "DiscountPercent"));
    Ok(record)
}

/// A click of a `ClickExport` job. The click id is `Id` (`im_ref`); the
/// IP address is hashed by impact.com, so it is kept as `ip_hash`, not as an
/// address.
pub(crate) fn click(item: &Value) -> Result<Record, RejectReason> {
    let id = id_of(item, "click")?;
    let clicked_at = instant(item, "EventDate")?;
    let mut sub_ids: Vec<CompactString> =
        ["SubId1", "SubId2", "SubId3"].iter().map(|field| text(item, field).unwrap_or_default()).collect();
    while sub_ids.last().is_some_and(CompactString::is_empty) {
        sub_ids.pop();
    }
    let body = Click {
        click_id: Some(id.clone()),
        sub_ids,
        clicked_at,
        partner: text(item, "MediaId").map(|partner| Reference::new(EntityKind::Partner, partner)),
        tracking_link: None,
        program: text(item, "CampaignId").map(|program| Reference::new(EntityKind::Program, program)),
        ip: None,
        user_agent: None,
        referrer: text(item, "ReferringUrl"),
    };
    let mut record = Record::new(crate::NAME, id, clicked_at.unwrap_or(DateTime::UNIX_EPOCH), Entity::Click(body));
    custom_text(&mut record, "shared_id", text(item, "SharedId"));
    custom_text(&mut record, "ip_hash", text(item, "IpAddress"));
    custom_text(&mut record, "ad_id", text(item, "AdId"));
    custom_text(&mut record, "device_type", text(item, "DeviceType"));
    custom_text(&mut record, "customer_country", text(item, "CustomerCountry"));
    if let Some(unique) = text(item, "UniqueClick") {
        record.custom_fields.insert("unique_click".into(), CustomValue::Boolean(unique == "true"));
    }
    Ok(record)
}

/// An action's state as a conversion status.
pub(crate) fn conversion_status(state: &str) -> Option<ConversionStatus> {
    Some(match state {
        "PENDING" => ConversionStatus::Pending,
        "APPROVED" => ConversionStatus::Approved,
        "REVERSED" => ConversionStatus::Reversed,
        _ => return None,
    })
}

fn state_of(item: &Value) -> Result<CompactString, RejectReason> {
    let state = text(item, "State").ok_or_else(|| malformed("the action has no `State`"))?;
    conversion_status(&state).map(|_| state.clone()).ok_or_else(|| {
        RejectReason::new("unknown_status", format!("action state `{state}` is not one impact.com documents"))
    })
}

/// When an action last changed: its clearing, locking or creation date,
/// whichever is latest and past.
fn action_updated_at(item: &Value) -> Result<DateTime<Utc>, RejectReason> {
    let mut latest = instant(item, "CreationDate")?.or(instant(item, "EventDate")?).unwrap_or(DateTime::UNIX_EPOCH);
    for field in ["LockingDate", "ClearedDate"] {
        if let Some(at) = instant(item, field)?
            && at > latest
            && at <= Utc::now()
        {
            latest = at;
        }
    }
    Ok(latest)
}

/// An `Actions` item as a conversion: the order (`Oid`), the sale amount in
/// the action's currency, its state.
pub(crate) fn conversion(item: &Value) -> Result<Record, RejectReason> {
    let id = id_of(item, "action")?;
    let state = state_of(item)?;
    let body = Conversion {
        order_id: text(item, "Oid"),
        amount: money_of(item, "Amount", "Currency")?,
        status: conversion_status(&state),
        converted_at: instant(item, "EventDate")?,
        click: None,
        partner: text(item, "MediaPartnerId").map(|partner| Reference::new(EntityKind::Partner, partner)),
        program: text(item, "CampaignId").map(|program| Reference::new(EntityKind::Program, program)),
        customer: None,
        order: None,
    };
    let mut record = Record::new(crate::NAME, id, action_updated_at(item)?, Entity::Conversion(body));
    custom_text(&mut record, "customer_id", text(item, "CustomerId"));
    custom_text(&mut record, "customer_status", text(item, "CustomerStatus"));
    custom_text(&mut record, "promo_code", text(item, "PromoCode"));
    custom_text(&mut record, "referring_type", text(item, "ReferringType"));
    custom_text(&mut record, "action_tracker_id", text(item, "ActionTrackerId"));
    custom_text(&mut record, "shared_id", text(item, "SharedId"));
    if let Some(intended) = money_of(item, "IntendedAmount", "Currency")? {
        record.custom_fields.insert("intended_amount".into(), CustomValue::Decimal(intended.amount));
    }
    Ok(record)
}

/// An `Actions` item as the partner's commission on it (level 1): its
/// `Payout`, pending until approved, paid once cleared, reversed with it.
pub(crate) fn commission(item: &Value) -> Result<Record, RejectReason> {
    let id = id_of(item, "action")?;
    let state = state_of(item)?;
    let cleared = instant(item, "ClearedDate")?;
    let status = match (state.as_str(), cleared) {
        ("PENDING", _) => CommissionStatus::Pending,
        ("REVERSED", _) => CommissionStatus::Reversed,
        (_, Some(_)) => CommissionStatus::Paid,
        _ => CommissionStatus::Approved,
    };
    let body = Commission {
        amount: money_of(item, "Payout", "Currency")?,
        status: Some(status),
        level: Some(1),
        conversion: Some(Reference::new(EntityKind::Conversion, id.clone())),
        partner: text(item, "MediaPartnerId").map(|partner| Reference::new(EntityKind::Partner, partner)),
        payout: None,
        created_at: instant(item, "CreationDate")?,
    };
    let mut record = Record::new(crate::NAME, id, action_updated_at(item)?, Entity::Commission(body));
    if let Some(at) = cleared {
        record.custom_fields.insert("cleared_at".into(), CustomValue::DateTime(at));
    }
    Ok(record)
}

/// An `Invoices` item as a payout to its partner (`MediaId`): paid when
/// every line is `PAID`, at the latest line's `PaidDate`.
pub(crate) fn payout(item: &Value) -> Result<Record, RejectReason> {
    let id = id_of(item, "invoice")?;
    let lines = item["LineItems"].as_array().cloned().unwrap_or_default();
    let statuses: Vec<CompactString> = lines.iter().filter_map(|line| text(line, "Status")).collect();
    let status = if !statuses.is_empty() && statuses.iter().all(|status| status == "PAID") {
        PayoutStatus::Paid
    } else if statuses.iter().any(|status| status == "OVERDUE") {
        PayoutStatus::Failed
    } else {
        PayoutStatus::Pending
    };
    let mut paid_at = None;
    for line in &lines {
        if let Some(at) = instant(line, "PaidDate")? {
            paid_at = Some(paid_at.map_or(at, |latest: DateTime<Utc>| latest.max(at)));
        }
    }
    let created_at = instant(item, "CreatedDate")?;
    let body = Payout {
        partner: text(item, "MediaId").map(|partner| Reference::new(EntityKind::Partner, partner)),
        amount: money_of(item, "TotalAmount", "Currency")?,
        status: Some(status),
        method: None,
        transaction_reference: Some(id.clone()),
        paid_at: if status == PayoutStatus::Paid { paid_at } else { None },
    };
    let updated_at = paid_at.or(created_at).unwrap_or(DateTime::UNIX_EPOCH);
    let mut record = Record::new(crate::NAME, id, updated_at, Entity::Payout(body));
    if let Some(at) = created_at {
        record.custom_fields.insert("invoiced_at".into(), CustomValue::DateTime(at));
    }
    Ok(record)
}

/// A record's text custom field.
pub(crate) fn custom(record: &Record, name: &str) -> Option<String> {
    match record.custom_fields.get(name) {
        Some(CustomValue::Text(text)) if !text.is_empty() => Some(text.to_string()),
        _ => None,
    }
}

/// A decimal as the API writes it: the currency's minor units, no more.
pub(crate) fn write_amount(money: &Money) -> Result<String, RejectReason> {
    if money.exceeds_currency_precision() {
        return Err(RejectReason::new(
            "invalid_amount",
            format!("`{money}` has more decimals than {} allows", money.currency),
        ));
    }
    let units = money.currency.minor_units().unwrap_or(2);
    Ok(money.amount.round_dp(units).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_keeps_minor_units_and_refuses_what_does_not_fit() {
        assert_eq!(money("1580", "JPY").map(|money| money.to_string()).ok(), Some("1580 JPY".to_owned()));
        assert_eq!(money("12.50", "USD").map(|money| money.amount).ok(), Some(Decimal::new(1250, 2)));
        let reason = money("1580.5", "JPY").unwrap_err();
        assert_eq!(reason.code, "invalid_amount");
        assert!(reason.message.contains("more decimals than JPY allows"), "{}", reason.message);
        assert_eq!(money("12.345", "USD").unwrap_err().code, "invalid_amount");
        assert_eq!(money("12", "XYZ").unwrap_err().code, "invalid_currency");
        assert_eq!(money("twelve", "EUR").unwrap_err().code, "invalid_amount");
        assert_eq!(write_amount(&Money::new(Decimal::new(158_000, 2), Currency::JPY)).ok(), Some("1580".to_owned()));
        assert_eq!(
            write_amount(&Money::new(Decimal::new(15_805, 2), Currency::JPY)).unwrap_err().code,
            "invalid_amount"
        );
    }

    fn action(overrides: Value) -> Value {
        let mut item = json!({
            "Id": "11842.4636.158001", "CampaignId": "11842", "MediaPartnerId": "2400013", "State": "APPROVED",
            "Amount": "64.25", "Payout": "6.43", "IntendedAmount": "64.25", "Currency": "USD", "Oid": "AO-1",
            "EventDate": "2026-09-12T03:24:25-07:00", "CreationDate": "2026-09-12T03:37:25-07:00",
            "LockingDate": "2026-10-12T03:24:25-07:00", "ClearedDate": "", "CustomerId": "", "PromoCode": "",
        });
        if let (Some(item), Some(overrides)) = (item.as_object_mut(), overrides.as_object()) {
            item.extend(overrides.clone());
        }
        item
    }

    #[test]
    fn actions_are_conversions_and_commissions_in_utc() {
        let record = conversion(&action(json!({}))).unwrap();
        let Entity::Conversion(body) = &record.entity else { panic!("a conversion") };
        assert_eq!(body.status, Some(ConversionStatus::Approved));
        assert_eq!(body.converted_at.map(|at| at.to_rfc3339()), Some("2026-09-12T10:24:25+00:00".to_owned()));
        assert_eq!(body.amount.as_ref().map(ToString::to_string), Some("64.25 USD".to_owned()));
        assert!(!record.custom_fields.contains_key("customer_id"), "an empty string is a field not set");
        let paid = commission(&action(json!({"ClearedDate": "2026-10-27T00:00:00-07:00"}))).unwrap();
        let Entity::Commission(body) = &paid.entity else { panic!("a commission") };
        assert_eq!((body.status, body.level), (Some(CommissionStatus::Paid), Some(1)));
        assert_eq!(body.amount.as_ref().map(ToString::to_string), Some("6.43 USD".to_owned()));
        let numbers = conversion(&action(
            json!({"Amount": 15800, "IntendedAmount": "15800", "Currency": "JPY", "CampaignId": 24017}),
        ))
        .unwrap();
        let Entity::Conversion(body) = &numbers.entity else { panic!("a conversion") };
        assert_eq!(body.amount.as_ref().map(ToString::to_string), Some("15800 JPY".to_owned()));
    }

    #[test]
    fn messy_actions_are_rejected_with_reasons() {
        let code = |overrides: Value| conversion(&action(overrides)).unwrap_err().code;
        assert_eq!(code(json!({"Id": ""})), "malformed_record");
        assert_eq!(code(json!({"Currency": "US$"})), "invalid_currency");
        assert_eq!(code(json!({"Currency": ""})), "invalid_currency");
        assert_eq!(code(json!({"Amount": "12.345"})), "invalid_amount");
        assert_eq!(code(json!({"Amount": "15800.5", "Currency": "JPY"})), "invalid_amount");
        assert_eq!(code(json!({"EventDate": "2026-09-12 03:24"})), "invalid_timestamp");
        assert_eq!(code(json!({"EventDate": "2026-09-12T03:24:25"})), "invalid_timestamp", "no offset: two readings");
        assert_eq!(code(json!({"State": "LOCKED"})), "unknown_status");
        let missing = conversion(&action(json!({"Oid": "", "PromoCode": "", "MediaPartnerId": ""}))).unwrap();
        let Entity::Conversion(body) = &missing.entity else { panic!("a conversion") };
        assert_eq!((body.order_id.as_deref(), body.partner.as_ref()), (None, None));
    }

    #[test]
    fn partners_keep_tier_parent_and_previous_id() {
        let item = json!({
            "Id": "2400052", "Name": "山と道 レビュー", "State": "SUSPENDED", "MPValue1": "legacy-9003", "MPValue2": "2400013",
            "Contacts": [{"FirstName": "Zoë", "LastName": "Martin", "EmailAddress": "zoe@example.org"}],
            "DateCreated": "2024-05-01T08:00:00-07:00", "DateLastUpdated": "", "Address": {"Country": "JAPAN"},
        });
        let tiers = HashMap::from([("2400052".to_owned(), "Gold".to_owned())]);
        let record = partner(&item, &tiers).unwrap();
        let Entity::Partner(body) = &record.entity else { panic!("a partner") };
        assert_eq!(body.status, Some(PartnerStatus::Suspended));
        assert_eq!(body.tier.as_deref(), Some("Gold"));
        assert_eq!(body.parent.as_ref().map(|parent| parent.source_id.as_str()), Some("2400013"));
        assert_eq!(body.email.as_deref(), Some("zoe@example.org"));
        assert!(body.payout.is_none(), "payout details are the partner's, not readable");
        assert_eq!(custom(&record, "previous_partner_id").as_deref(), Some("legacy-9003"));
        assert_eq!(record.updated_at, body.created_at.unwrap());
        let orphan = partner(&json!({"Id": "1", "Contacts": []}), &HashMap::new()).unwrap();
        let Entity::Partner(body) = &orphan.entity else { panic!("a partner") };
        assert_eq!((body.name.as_ref(), body.email.as_ref(), body.parent.as_ref()), (None, None, None));
        assert_eq!(partner(&json!({"Id": "2", "State": "GONE"}), &HashMap::new()).unwrap_err().code, "unknown_status");
    }

    #[test]
    fn invoices_are_payouts_paid_only_when_every_line_is() {
        let item = json!({"Id": "INV-1", "MediaId": "2400013", "Currency": "EUR", "TotalAmount": "120.40",
            "CreatedDate": "2026-08-22T00:00:00-07:00",
            "LineItems": [{"Status": "PAID", "PaidDate": "2026-09-11T00:00:00-07:00"}, {"Status": "PENDING", "PaidDate": ""}]});
        let record = payout(&item).unwrap();
        let Entity::Payout(body) = &record.entity else { panic!("a payout") };
        assert_eq!((body.status, body.paid_at), (Some(PayoutStatus::Pending), None));
        assert_eq!(body.amount.as_ref().map(ToString::to_string), Some("120.40 EUR".to_owned()));
    }
}
