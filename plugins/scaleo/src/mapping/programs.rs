//! Offers ↔ programs.
//!
//! Read: `title` as the name, always an offer; `description`; `url` (where
//! links land by default) as the landing URL; the default goal's payout as
//! the commission (a percentage, or a fixed amount in the offer's
//! currency); `c_lifespan` as the cookie days; live (status 3) as active,
//! testing (1) and inactive (4) as not. Kept as custom fields:
//! `offer_status` (`testing`, `live`, `inactive`), `visibility` (`public`,
//! `by_request`, `private`), `preview_url`, `currency`, `goals` (how many)
//! and `external_id`.
//!
//! Written: `title` (required), `description`, `url`, `c_lifespan`,
//! `status` (active → live, not → inactive, or testing when the custom
//! field `offer_status` says so), `currency` (the flat
//! commission's, when there is one), and the commission as the default
//! goal (alias `default`: CPS with a percentage, CPA with a fixed amount).
//! Scaleo calls every program an offer, and has no custom fields on offers.

use super::{record, wrong_entity};
use crate::values::{self, field, put, text};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{Program, ProgramKind};
use serde_json::{Map, Value, json};

/// The default goal of an offer: the one marked, or the first.
pub(crate) fn default_goal(item: &Value) -> Option<&Value> {
    let goals = field(item, "goals")?.as_array()?;
    goals.iter().find(|goal| values::id(goal.get("is_default")) == Some(1)).or_else(|| goals.first())
}

/// The canonical program of an offer, or why it cannot be one.
pub(crate) fn to_record(item: &Value) -> Result<Record, RejectReason> {
    let id = values::source_id(item)?;
    let updated_at = values::updated_at(item)?;
    let status = values::id(field(item, "status"));
    let (mut commission_percent, mut commission_flat) = (None, None);
    if let Some(goal) = default_goal(item) {
        let payout = values::decimal(goal.get("payout"), "goals.payout")?;
        match goal.get("payout_type").and_then(Value::as_str) {
            Some("percent") => commission_percent = payout,
            Some("fixed") => {
                let currency = goal.get("currency").or_else(|| field(item, "currency"));
                commission_flat = values::money_of(goal.get("payout"), currency, "goals.payout")?;
            }
            _ => {}
        }
    }
    let program = Program {
        name: text(field(item, "title")),
        kind: Some(ProgramKind::Offer),
        description: field(item, "description")
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned),
        landing_url: text(field(item, "url")),
        commission_percent,
        commission_flat,
        cookie_days: values::id(field(item, "c_lifespan")).and_then(|days| u32::try_from(days).ok()),
        active: status.map(|status| status == 3),
    };
    let mut record = record(id.to_string(), updated_at, Entity::Program(program));
    let custom = &mut record.custom_fields;
    let offer_status = match status {
        Some(1) => Some("testing"),
        Some(3) => Some("live"),
        Some(4) => Some("inactive"),
        _ => None,
    };
    if let Some(offer_status) = offer_status {
        custom.insert("offer_status".into(), CustomValue::Text(offer_status.into()));
    }
    let visibility = match values::id(field(item, "visible_type")) {
        Some(1) => Some("public"),
        Some(2) => Some("by_request"),
        Some(3) => Some("private"),
        _ => None,
    };
    if let Some(visibility) = visibility {
        custom.insert("visibility".into(), CustomValue::Text(visibility.into()));
    }
    for name in ["preview_url", "currency", "external_id"] {
        if let Some(value) = text(field(item, name)) {
            custom.insert(name.into(), CustomValue::Text(value));
        }
    }
    if let Some(Value::Array(goals)) = field(item, "goals") {
        custom.insert("goals".into(), CustomValue::Integer(goals.len() as i64));
    }
    Ok(record)
}

/// The offer fields of a canonical program, or why Scaleo cannot take it.
pub(crate) fn from_record(record: &Record) -> Result<Map<String, Value>, RejectReason> {
    let Entity::Program(program) = &record.entity else {
        return Err(wrong_entity(record, "an offer"));
    };
    let title = program
        .name
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| RejectReason::new("missing_name", "Scaleo requires a title for every offer"))?;
    let mut body = Map::new();
    body.insert("title".into(), Value::from(title));
    body.insert("description".into(), program.description.as_deref().map_or(Value::Null, Value::from));
    body.insert("url".into(), program.landing_url.as_deref().map_or(Value::Null, Value::from));
    body.insert("c_lifespan".into(), program.cookie_days.map_or(Value::Null, Value::from));
    let testing = values::custom_text(record, "offer_status") == Some("testing");
    let status = match program.active {
        Some(true) => Some(3),
        Some(false) if testing => Some(1),
        Some(false) => Some(4),
        None => testing.then_some(1),
    };
    put(&mut body, "status", status);
    if let Some(flat) = &program.commission_flat {
        body.insert("currency".into(), Value::from(flat.currency.code()));
    } else if let Some(currency) = values::custom_text(record, "currency") {
        body.insert("currency".into(), Value::from(currency));
    }
    let goal = match (&program.commission_percent, &program.commission_flat) {
        (Some(percent), _) => Some(json!({"title": "Sale", "alias": "default", "type": 4, "payout_type": "percent",
                                          "payout": values::amount_text(*percent), "is_default": 1})),
        (None, Some(flat)) => {
            Some(json!({"title": "Conversion", "alias": "default", "type": 2, "payout_type": "fixed",
                                          "payout": values::amount_text(flat.amount), "is_default": 1}))
        }
        (None, None) => None,
    };
    if let Some(goal) = goal {
        body.insert("goals".into(), Value::Array(vec![goal]));
    }
    Ok(body)
}

/// `body`'s goal made the update of `current`'s default goal: its alias,
/// title and type stay (a CPL goal paying a fixed amount stays a CPL goal),
/// only the payout is the record's.
pub(crate) fn keep_goal(current: &Value, body: &mut Map<String, Value>) {
    let (Some(held), Some(Value::Array(goals))) = (default_goal(current), body.get_mut("goals")) else { return };
    if let Some(Value::Object(goal)) = goals.first_mut() {
        for name in ["alias", "title", "type"] {
            if let Some(value) = held.get(name).filter(|value| !value.is_null()) {
                goal.insert(name.to_owned(), value.clone());
            }
        }
    }
}

/// Whether `current` (an offer as Scaleo gives it) already holds every
/// field of `body`.
pub(crate) fn holds(current: &Value, body: &Map<String, Value>) -> bool {
    body.iter().all(|(name, wanted)| {
        let held = current.get(name).unwrap_or(&Value::Null);
        match name.as_str() {
            "status" | "c_lifespan" => values::id(Some(held)) == values::id(Some(wanted)),
            "goals" => {
                let wanted = wanted.as_array().and_then(|goals| goals.first());
                let held = default_goal(current);
                match (held, wanted) {
                    (Some(held), Some(wanted)) => {
                        let number = |goal: &Value| values::decimal(goal.get("payout"), "payout").ok().flatten();
                        held.get("payout_type") == wanted.get("payout_type") && number(held) == number(wanted)
                    }
                    (_, None) => true,
                    (None, Some(_)) => false,
                }
            }
            _ => blank_as_null(held) == blank_as_null(wanted),
        }
    })
}

/// An empty string as `null`: Scaleo keeps what it was sent, and a source
/// may give either for nothing.
fn blank_as_null(value: &Value) -> &Value {
    match value {
        Value::String(text) if text.is_empty() => &Value::Null,
        other => other,
    }
}
