//! The brand's reports of one campaign: clicks and conversions (with their
//! items), `.json` only (`.xml` and `.csv` answer 406 here).
//!
//! Both need `start_date` and `end_date` (v1 dates); conversions take
//! `date_type` (`conversion_time`, the default, `last_modified` or
//! `approved_at`) to say which time the range applies to, `statuses[]`,
//! `include_payment_info=true`, and \[NC\] `conversion_id[]` to fetch given
//! conversions. Pages are `offset` + `limit` (300 at most), or, for
//! conversions, cursor mode: `cursor_id` (empty for the first page) and
//! `limit`, where `hypermedia.pagination.next_page` is the next page's
//! relative URI with its `cursor_id`, and no totals are given.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use cutover_emulator_kit::query::Params;
use serde_json::{Value, json};

use crate::Account;
use crate::envelope::{self, Page};
use crate::model::{Amount, Conversion, parse_v1_time};
use crate::vendor::{self, REPORT_PAGING};

/// Every value given for `name` (`statuses[]=a&statuses[]=b`, or `a,b`).
fn all(uri: &Uri, name: &str) -> Vec<String> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(key, _)| key == name)
        .flat_map(|(_, value)| value.split(',').map(|part| part.trim().to_owned()).collect::<Vec<_>>())
        .filter(|value| !value.is_empty())
        .collect()
}

/// The report's date range, or its 400.
fn range(uri: &Uri) -> Result<(DateTime<Utc>, DateTime<Utc>), Response> {
    let params = Params::from_uri(uri);
    let read = |name: &str| -> Result<DateTime<Utc>, Response> {
        match params.get(name) {
            None => Err(vendor::bad_request(uri.path(), name, "required_property", format!("{name} is required"))),
            Some(text) => parse_v1_time(text).ok_or_else(|| {
                vendor::bad_request(
                    uri.path(),
                    name,
                    "invalid_property_format",
                    format!("{name} must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"),
                )
            }),
        }
    };
    let (start, end) = (read("start_date")?, read("end_date")?);
    if end < start {
        return Err(vendor::bad_request(uri.path(), "end_date", "invalid_value", "end_date is before start_date"));
    }
    Ok((start, end))
}

/// `GET /reporting/report_advertiser/campaign/{campaign_id}/{report}`.
pub async fn report(
    State(account): State<Account>,
    Path((campaign_id, report)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    match report.as_str() {
        "click.json" => clicks(&account, &campaign_id, &uri),
        "conversion.json" => conversions(&account, &campaign_id, &uri),
        "click.xml" | "conversion.xml" | "click.csv" | "conversion.csv" => vendor::error(
            vendor::Generation::V1,
            StatusCode::NOT_ACCEPTABLE,
            vec![vendor::Problem::new("", "406", "this emulator answers .json only")],
        ),
        _ => vendor::not_found(uri.path(), "The report"),
    }
}

fn clicks(account: &Account, campaign_id: &str, uri: &Uri) -> Response {
    let (start, end) = match range(uri) {
        Ok(range) => range,
        Err(refused) => return refused,
    };
    let page = match envelope::page(uri, REPORT_PAGING) {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    let store = account.settled();
    if store.campaign(campaign_id).is_none() {
        return vendor::not_found(uri.path(), "The campaign");
    }
    let matching: Vec<Value> = store
        .clicks
        .iter()
        .filter(|click| click.campaign_id == campaign_id && click.set_time >= start && click.set_time <= end)
        .map(|click| json!({"click": click.to_json()}))
        .collect();
    let (items, total) = envelope::slice(&matching, page);
    Json(json!({
        "execution_time": envelope::EXECUTION_TIME,
        "unique_click_count": total,
        "limit": page.limit,
        "offset": page.offset,
        "count": items.len(),
        "clicks": items,
        "hypermedia": {"pagination": envelope::pagination(uri, page, total)},
    }))
    .into_response()
}

fn cursor_of(position: usize) -> String {
    format!("c{:x}", position ^ 0x5a5a)
}

fn position_of(cursor: &str) -> Option<usize> {
    cursor.strip_prefix('c').and_then(|hex| usize::from_str_radix(hex, 16).ok()).map(|value| value ^ 0x5a5a)
}

fn conversions(account: &Account, campaign_id: &str, uri: &Uri) -> Response {
    let (start, end) = match range(uri) {
        Ok(range) => range,
        Err(refused) => return refused,
    };
    let params = Params::from_uri(uri);
    let cursor = params.get("cursor_id").map(str::to_owned);
    let page = match envelope::page(uri, REPORT_PAGING) {
        Ok(page) => page,
        Err(refused) => return refused,
    };
    let date_type = params.get("date_type").unwrap_or("conversion_time");
    if !matches!(date_type, "conversion_time" | "last_modified" | "last_updated" | "approved_at") {
        return vendor::bad_request(
            uri.path(),
            "date_type",
            "invalid_enum_value",
            "date_type must be conversion_time, last_modified or approved_at",
        );
    }
    let statuses = all(uri, "statuses[]");
    if let Some(bad) = statuses.iter().find(|status| !matches!(status.as_str(), "approved" | "pending" | "rejected")) {
        return vendor::bad_request(uri.path(), "statuses", "invalid_enum_value", format!("unknown status {bad}"));
    }
    let ids = all(uri, "conversion_id[]");
    let payment_info = params.get("include_payment_info") == Some("true");
    let store = account.settled();
    if store.campaign(campaign_id).is_none() {
        return vendor::not_found(uri.path(), "The campaign");
    }
    let in_range = |conversion: &Conversion| {
        let at = match date_type {
            "last_modified" | "last_updated" => Some(conversion.last_modified),
            "approved_at" => conversion.items.iter().filter_map(|item| item.approved_at).max(),
            _ => Some(conversion.conversion_time),
        };
        at.is_some_and(|at| at >= start && at <= end)
    };
    let matching: Vec<&Conversion> = store
        .conversions
        .iter()
        .filter(|conversion| conversion.campaign_id == campaign_id)
        .filter(|conversion| ids.is_empty() || ids.contains(&conversion.conversion_id))
        .filter(|conversion| !ids.is_empty() || in_range(conversion))
        .filter(|conversion| statuses.is_empty() || statuses.contains(&conversion.conversion_status))
        .collect();
    let render = |conversion: &&Conversion| {
        let click = conversion.click_id.as_deref().and_then(|id| store.click(id));
        json!({"conversion_data": conversion.to_json(click, payment_info)})
    };
    if let Some(cursor) = cursor {
        let Some(from) = (if cursor.is_empty() { Some(0) } else { position_of(&cursor) }) else {
            return vendor::bad_request(
                uri.path(),
                "cursor_id",
                "invalid_value",
                "cursor_id is not a cursor this report gave",
            );
        };
        let items: Vec<Value> = matching.iter().skip(from).take(page.limit).map(render).collect();
        let next = from + items.len();
        let next_page = (next < matching.len()).then(|| {
            let query = Params::parse(&params.with("cursor_id", Some(&cursor_of(next))))
                .with("limit", Some(&page.limit.to_string()));
            format!("{}?{query}", uri.path())
        });
        return Json(json!({
            "execution_time": envelope::EXECUTION_TIME,
            "limit": page.limit,
            "count": items.len(),
            "conversions": items,
            "hypermedia": {"pagination": {"next_page": next_page}},
        }))
        .into_response();
    }
    let mut totals: BTreeMap<String, Amount> = BTreeMap::new();
    for conversion in &matching {
        let total = totals.entry(conversion.currency.clone()).or_insert(Amount::ZERO);
        *total = total.plus(conversion.value());
    }
    let total_value: serde_json::Map<String, Value> =
        totals.into_iter().map(|(currency, amount)| (currency, amount.to_json())).collect();
    let Page { offset, limit } = page;
    let items: Vec<Value> = matching.iter().skip(offset).take(limit).map(render).collect();
    Json(json!({
        "execution_time": envelope::EXECUTION_TIME,
        "limit": limit,
        "offset": offset,
        "count": items.len(),
        "total_value": total_value,
        "conversions": items,
        "hypermedia": {"pagination": envelope::pagination(uri, page, matching.len())},
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_opaque_and_read_back() {
        for position in [0, 1, 299, 300, 123_456] {
            assert_eq!(position_of(&cursor_of(position)), Some(position));
        }
        assert_eq!(position_of("300"), None);
    }

    #[test]
    fn repeated_and_comma_values_are_all_read() {
        let uri: Uri = "/r?statuses%5B%5D=approved&statuses%5B%5D=pending,rejected".parse().expect("a URI");
        assert_eq!(all(&uri, "statuses[]"), ["approved", "pending", "rejected"]);
    }
}
