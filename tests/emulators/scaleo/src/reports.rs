//! Clicks and conversions: the reports that read them (`POST
//! /api/v2/network/reports/{clicks,conversions}`: `page`, `perPage`,
//! `sortField`, `sortDirection` in the query; `rangeFrom`, `rangeTo`
//! (`YYYY-MM-DD`, both days included), `columns` (a comma-separated
//! string) and `filters` in the JSON body; rows in `info.transactions`,
//! newest first unless sorted otherwise), the tracking endpoints that
//! create conversions, and the bulk status change.
//!
//! Clicks are made by the tracker only: there is no endpoint that creates
//! one. Report rows carry `added_timestamp` as Unix seconds, and the
//! affiliate, offer, goal and landing page as `{id, title|name}` objects
//! \[NC: the network twin of the affiliate report is not documented].
//! A conversion is created with `POST /api/v2/network/tracking/conversion`
//! \[NC path\] (`affiliate_id` and `goal_id`, or a `click_id`) or `POST
//! /api/v2/network/tracking/conv-click-id` (a `click_id`), its time in
//! `date` as `Y-m-d H:i:s` (UTC); the same order id twice makes two
//! conversions, as the tracker does when a goal allows several. Only
//! conversions not billed on an invoice change status.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use cutover_emulator_kit::seed::mix;
use cutover_emulator_kit::store::{read, write};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value, json};

use crate::body::{Body, Given, integer_of};
use crate::model::{CONVERSION_STATUSES, Conversion, PayoutType};
use crate::query;
use crate::routes::{Answer, AppState};
use crate::vendor::{ApiError, ok, success};

/// Columns of the clicks report.
pub(crate) const CLICK_COLUMNS: &[&str] = &[
    "transaction_id",
    "added_timestamp",
    "payout",
    "sub_id1",
    "sub_id2",
    "sub_id3",
    "sub_id4",
    "sub_id5",
    "aff_param1",
    "aff_param2",
    "aff_param3",
    "aff_param4",
    "aff_param5",
    "aff_click_id",
    "deep_link_url",
    "affiliate",
    "offer",
    "link",
    "creative",
    "ip",
    "geo",
    "device_type",
    "device_os",
    "browser",
];

/// Columns of the conversions report.
pub(crate) const CONVERSION_COLUMNS: &[&str] = &[
    "transaction_id",
    "click_id",
    "added_timestamp",
    "conversion_status",
    "affiliate",
    "offer",
    "goal",
    "goal_type",
    "currency",
    "advertiser_amount",
    "payout",
    "revenue",
    "advertiser_order_id",
    "advertiser_user_id",
    "advertiser_track_id",
    "aff_click_id",
    "promo_code",
    "sub_id1",
    "sub_id2",
    "sub_id3",
    "sub_id4",
    "sub_id5",
    "invoice_id",
    "notes",
];

/// A report request's body.
struct ReportBody {
    from: NaiveDate,
    to: NaiveDate,
    columns: Vec<String>,
    filters: Map<String, Value>,
}

fn report_body(bytes: &[u8], all_columns: &[&str], filters: &[&str]) -> Result<ReportBody, ApiError> {
    let mut body = Body::parse(bytes, &["rangeFrom", "rangeTo", "columns", "filters", "lang"])?;
    body.require("rangeFrom");
    body.require("rangeTo");
    let day = |body: &mut Body, name: &str| match body.text(name, 10) {
        Given::Value(text) => match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(day) => Some(day),
            Err(_) => {
                body.errors.add(name, format!("{name} must be a date in the format YYYY-MM-DD."));
                None
            }
        },
        _ => None,
    };
    let from = day(&mut body, "rangeFrom");
    let to = day(&mut body, "rangeTo");
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        body.errors.add("rangeTo", "rangeTo must not be before rangeFrom.");
    }
    let columns = match body.text("columns", 4096) {
        Given::Value(list) => {
            list.split(',').map(|column| column.trim().to_owned()).filter(|c| !c.is_empty()).collect()
        }
        _ => all_columns.iter().map(|column| (*column).to_owned()).collect::<Vec<_>>(),
    };
    let given_filters = body.object("filters").value().unwrap_or_default();
    body.finish()?;
    if let Some(unknown) = columns.iter().find(|column| !all_columns.contains(&column.as_str())) {
        return Err(ApiError::bad_request(format!("Unknown column \"{unknown}\".")));
    }
    if let Some(unknown) = given_filters.keys().find(|key| !filters.contains(&key.as_str())) {
        return Err(ApiError::bad_request(format!("Unknown filter \"{unknown}\".")));
    }
    Ok(ReportBody { from: from.unwrap_or_default(), to: to.unwrap_or_default(), columns, filters: given_filters })
}

fn in_window(at: &DateTime<Utc>, body: &ReportBody) -> bool {
    let day = at.date_naive();
    day >= body.from && day <= body.to
}

/// Whether `filters[name]` (ids or texts, one or a list) lets `value` through.
fn filter_allows(filters: &Map<String, Value>, name: &str, value: &str) -> bool {
    match filters.get(name) {
        None | Some(Value::Null) => true,
        Some(Value::Array(items)) => items.iter().any(|item| text_of(item).as_deref() == Some(value)),
        Some(item) => text_of(item).as_deref() == Some(value),
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Rows filtered, sorted, paged, then cut to the columns asked for.
fn report(uri: &Uri, rows: Vec<Map<String, Value>>, columns: &[String], all_columns: &[&str], message: &str) -> Answer {
    let query = query::paging(uri, ("added_timestamp", true))?;
    if let Some((field, _)) = query.sort()
        && !all_columns.contains(&field)
    {
        return Err(ApiError::bad_request(format!("Unknown sort field \"{field}\".")));
    }
    let rows: Vec<Value> = rows.into_iter().map(Value::Object).collect();
    let (page, paging) = query.apply(rows);
    let page: Vec<Value> = page
        .into_iter()
        .map(|row| {
            let mut cut = Map::new();
            for column in columns {
                cut.insert(column.clone(), row.get(column).cloned().unwrap_or(Value::Null));
            }
            Value::Object(cut)
        })
        .collect();
    let mut response = ok(message, "transactions", Value::Array(page)).into_response();
    paging.apply(&mut response);
    Ok(response)
}

fn answer(result: Answer) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /api/v2/network/reports/clicks`.
pub(crate) async fn clicks(State(app): AppState, uri: Uri, body: Bytes) -> Response {
    answer((|| -> Answer {
        let body = report_body(&body, CLICK_COLUMNS, &["affiliates", "offers"])?;
        let store = read(app.state.store());
        let rows = store
            .clicks
            .iter()
            .filter(|click| in_window(&click.added, &body))
            .filter(|click| filter_allows(&body.filters, "affiliates", &click.affiliate_id.to_string()))
            .filter(|click| filter_allows(&body.filters, "offers", &click.offer_id.to_string()))
            .map(|click| store.click_row(click))
            .collect();
        report(&uri, rows, &body.columns, CLICK_COLUMNS, "Clicks report")
    })())
}

/// `GET /api/v2/network/reports/clicks/options`: the columns there are.
pub(crate) async fn click_columns() -> Response {
    let columns: Vec<Value> = CLICK_COLUMNS.iter().map(|column| json!({"key": column, "title": column})).collect();
    ok("Columns", "columns-list", Value::Array(columns))
}

/// `POST /api/v2/network/reports/conversions`.
pub(crate) async fn conversions(State(app): AppState, uri: Uri, body: Bytes) -> Response {
    answer((|| -> Answer {
        let filters =
            ["affiliates", "offers", "transactions", "conversion_status", "advertiser_order_id", "advertiser_track_id"];
        let body = report_body(&body, CONVERSION_COLUMNS, &filters)?;
        let store = read(app.state.store());
        let rows = store
            .conversions
            .iter()
            .filter(|conversion| in_window(&conversion.added, &body))
            .filter(|conversion| filter_allows(&body.filters, "affiliates", &conversion.affiliate_id.to_string()))
            .filter(|conversion| filter_allows(&body.filters, "offers", &conversion.offer_id.to_string()))
            .filter(|conversion| filter_allows(&body.filters, "transactions", &conversion.transaction_id))
            .filter(|conversion| filter_allows(&body.filters, "conversion_status", &conversion.status))
            .filter(|conversion| {
                filter_allows(
                    &body.filters,
                    "advertiser_order_id",
                    conversion.advertiser_order_id.as_deref().unwrap_or(""),
                )
            })
            .filter(|conversion| {
                filter_allows(
                    &body.filters,
                    "advertiser_track_id",
                    conversion.advertiser_track_id.as_deref().unwrap_or(""),
                )
            })
            .map(|conversion| store.conversion_row(conversion))
            .collect();
        report(&uri, rows, &body.columns, CONVERSION_COLUMNS, "Conversions report")
    })())
}

/// A conversion status as a write gives it: a word, or the legacy numbers
/// (2 approved, 3 pending, 4 rejected).
fn status_of(value: &Value) -> Option<&'static str> {
    match value {
        Value::String(word) => CONVERSION_STATUSES
            .iter()
            .copied()
            .find(|known| *known == word.as_str())
            .or_else(|| integer_of(value).and_then(|number| status_of(&Value::from(number)))),
        Value::Number(_) => match integer_of(value)? {
            2 => Some("approved"),
            3 => Some("pending"),
            4 => Some("rejected"),
            _ => None,
        },
        _ => None,
    }
}

const CONVERSION_WRITABLE: &[&str] = &[
    "click_id",
    "affiliate_id",
    "goal_id",
    "goal_alias",
    "conv_status",
    "currency",
    "amount",
    "payout",
    "revenue",
    "adv_order_id",
    "adv_user_id",
    "adv_track_id",
    "track_id",
    "aff_click_id",
    "promo_code",
    "sub_id1",
    "sub_id2",
    "sub_id3",
    "sub_id4",
    "sub_id5",
    "ip",
    "date",
    "fire_postbacks",
];

/// `POST /api/v2/network/tracking/conversion`: a conversion with or
/// without a click.
pub(crate) async fn create_conversion(State(app): AppState, body: Bytes) -> Response {
    answer(create(&app, &body, false))
}

/// `POST /api/v2/network/tracking/conv-click-id`: a conversion of a click.
pub(crate) async fn create_conversion_by_click(State(app): AppState, body: Bytes) -> Response {
    answer(create(&app, &body, true))
}

fn minor_units(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "CLP" | "ISK" | "VND" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

fn create(app: &crate::routes::App, bytes: &[u8], by_click: bool) -> Answer {
    let mut body = Body::parse(bytes, CONVERSION_WRITABLE)?;
    if by_click {
        body.require("click_id");
    }
    let click_id = body.text("click_id", 64).value();
    let affiliate_id = body.integer("affiliate_id").value();
    let goal_id = body.integer("goal_id").value();
    let goal_alias = body.text("goal_alias", 64).value();
    let status = match body.raw("conv_status") {
        None | Some(Value::Null) => "pending",
        Some(value) => status_of(value).unwrap_or_else(|| {
            body.errors.add("conv_status", "Conv Status is invalid.");
            "pending"
        }),
    };
    let currency = body.currency("currency").value().unwrap_or_else(|| "USD".into());
    let money = (Decimal::new(-1_000_000_000, 0), Decimal::new(1_000_000_000, 0));
    let amount = body.decimal("amount", money).value().unwrap_or(Decimal::ZERO);
    let payout = body.decimal("payout", money).value();
    let revenue = body.decimal("revenue", money).value();
    let date = match body.text("date", 19) {
        Given::Value(text) => match NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S") {
            Ok(at) => Some(at.and_utc()),
            Err(_) => {
                body.errors.add("date", "Date must be in the format Y-m-d H:i:s.");
                None
            }
        },
        _ => None,
    };
    body.word("fire_postbacks", &["yes", "no"]);
    let text = |body: &mut Body, name: &str| body.text(name, 255).value();
    let order_id = text(&mut body, "adv_order_id");
    let user_id = text(&mut body, "adv_user_id");
    let track_id = text(&mut body, "adv_track_id");
    let aff_click_id = text(&mut body, "aff_click_id");
    let promo_code = text(&mut body, "promo_code");
    let sub_ids: [Option<String>; 5] = std::array::from_fn(|index| text(&mut body, &format!("sub_id{}", index + 1)));
    let mut store = write(app.state.store());
    let click = click_id.as_ref().and_then(|id| store.clicks.iter().find(|click| click.transaction_id == *id)).cloned();
    if click_id.is_some() && click.is_none() {
        body.errors.add("click_id", "Click not found.");
    }
    let affiliate_id = click.as_ref().map(|click| click.affiliate_id).or(affiliate_id);
    match affiliate_id {
        None => body.errors.add("affiliate_id", "Affiliate Id cannot be blank."),
        Some(id) if !store.affiliates.contains_key(&id) => body.errors.add("affiliate_id", "Affiliate Id is invalid."),
        Some(_) => {}
    }
    let goal = match (goal_id, &goal_alias, &click) {
        (Some(id), _, _) => store.goal(id).map(|(offer, goal)| (offer.id, goal.clone())),
        (None, Some(alias), Some(click)) => store.offers.get(&click.offer_id).and_then(|offer| {
            offer.goals.iter().find(|goal| goal.alias == *alias).map(|goal| (offer.id, goal.clone()))
        }),
        (None, None, Some(click)) => store
            .offers
            .get(&click.offer_id)
            .and_then(|offer| offer.default_goal().map(|goal| (offer.id, goal.clone()))),
        _ => None,
    };
    if goal.is_none() {
        body.errors.add("goal_id", "Goal Id is invalid.");
    }
    if let (Some((offer_id, _)), Some(click)) = (&goal, &click)
        && *offer_id != click.offer_id
    {
        body.errors.add("goal_id", "The goal is not a goal of the click's offer.");
    }
    body.finish()?;
    let (Some(affiliate_id), Some((offer_id, goal))) = (affiliate_id, goal) else {
        return Err(ApiError::bad_request("The conversion names no affiliate or goal."));
    };
    let share = |percent: Decimal| {
        (amount * percent / Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(minor_units(&currency), RoundingStrategy::MidpointNearestEven)
    };
    let (default_payout, default_revenue) = match goal.payout_type {
        PayoutType::Percent => (share(goal.payout), share(goal.revenue)),
        PayoutType::Fixed => (goal.payout, goal.revenue),
    };
    store.created_conversions += 1;
    let bits = mix(store.created_conversions, 0x5ca1_e0c0);
    let more = mix(bits, store.created_conversions);
    let transaction_id = format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        bits >> 32,
        (bits >> 16) & 0xffff,
        bits & 0xfff,
        (more >> 52) & 0xfff,
        more & 0xffff_ffff_ffff
    );
    let conversion = Conversion {
        transaction_id: transaction_id.clone(),
        click_id: click.as_ref().map(|click| click.transaction_id.clone()),
        added: date.unwrap_or_else(Utc::now),
        status: status.into(),
        affiliate_id,
        offer_id,
        goal_id: goal.id,
        currency,
        amount,
        payout: payout.unwrap_or(default_payout),
        revenue: revenue.unwrap_or(default_revenue),
        advertiser_order_id: order_id,
        advertiser_user_id: user_id,
        advertiser_track_id: track_id,
        aff_click_id: aff_click_id.or_else(|| click.as_ref().and_then(|click| click.aff_click_id.clone())),
        promo_code,
        sub_ids: if sub_ids.iter().any(Option::is_some) {
            sub_ids
        } else {
            click.as_ref().map(|click| click.sub_ids.clone()).unwrap_or_default()
        },
        invoice_id: None,
        notes: None,
    };
    // Kept in time order, as the tracker records them.
    let at = store.conversions.partition_point(|known| known.added <= conversion.added);
    store.conversions.insert(at, conversion);
    let info = json!({
        "status": "success",
        "message": "Conversion created",
        "lead_id": Value::Null,
        "transaction_id": transaction_id,
        "conv_status": status,
        "affiliate_id": affiliate_id,
        "offer_id": offer_id,
        "goal_id": goal.id,
        "additional": Value::Null,
    });
    Ok(success(StatusCode::OK, "Conversion created", info))
}

/// `POST /api/v2/network/reports/conversions/change-status`.
pub(crate) async fn change_status(State(app): AppState, body: Bytes) -> Response {
    answer((|| -> Answer {
        let mut body = Body::parse(&body, &["new_status", "fire_postbacks", "notes", "filters"])?;
        body.require("new_status");
        body.require("filters");
        let status = body.raw("new_status").and_then(status_of);
        if body.raw("new_status").is_some() && status.is_none() {
            body.errors.add("new_status", "New Status is invalid.");
        }
        body.choice("fire_postbacks", &[0, 1]);
        let notes = body.text("notes", 65_535).value();
        let filters = body.object("filters").value().unwrap_or_default();
        body.finish()?;
        let wanted: Vec<String> = match filters.get("transactions") {
            Some(Value::Array(ids)) => ids.iter().filter_map(text_of).collect(),
            _ => return Err(ApiError::bad_request("filters.transactions must list transaction ids.")),
        };
        let status = status.unwrap_or("pending");
        let mut store = write(app.state.store());
        let mut affected = 0;
        for conversion in store.conversions.iter_mut() {
            if wanted.contains(&conversion.transaction_id)
                && conversion.invoice_id.is_none()
                && conversion.status != status
            {
                conversion.status = status.into();
                conversion.notes.clone_from(&notes);
                affected += 1;
            }
        }
        Ok(success(StatusCode::OK, "Statuses changed", json!({"result": {"response": true, "affected": affected}})))
    })())
}
