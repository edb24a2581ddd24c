//! Talking to Scaleo: one [`HttpClient`] per network (the key in the
//! `api-key` query parameter, the account's limiter, retries), the
//! envelope unwrapped, lists paged as Yii2 pages them (`page`, `perPage`,
//! the total in `X-Pagination-Total-Count`), the click and conversion
//! reports (`POST` with a day window in the body, paged in the query), and
//! writes whose refusals (422 with `info.errors`, 404) are one record's
//! problem rather than the batch's.
//!
//! Not here: any mapping to canonical records (`mapping/`).

use crate::config::{ScaleoConfig, default_history_from};
use chrono::{Duration, NaiveDate, Utc};
use cutover_http::{
    AccountLimiters, Auth, HttpClient, HttpConfig, HttpError, HttpErrorKind, PageStyle, Paginator, Request,
};
use cutover_sdk::prelude::*;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

/// The header that carries a list's total.
const TOTAL_HEADER: &str = "X-Pagination-Total-Count";

/// The largest page Scaleo gives.
pub(crate) const MAX_PAGE: u32 = 1000;

/// A report: clicks or conversions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Report {
    Clicks,
    Conversions,
}

impl Report {
    fn path(self) -> &'static str {
        match self {
            Report::Clicks => "network/reports/clicks",
            Report::Conversions => "network/reports/conversions",
        }
    }

    /// The columns the mappings read.
    fn columns(self) -> &'static str {
        match self {
            Report::Clicks => {
                "transaction_id,added_timestamp,affiliate,offer,link,creative,sub_id1,sub_id2,sub_id3,sub_id4,sub_id5,\
                 aff_click_id,deep_link_url,ip,geo,device_type,device_os,browser"
            }
            Report::Conversions => {
                "transaction_id,click_id,added_timestamp,conversion_status,affiliate,offer,goal,currency,\
                 advertiser_amount,payout,revenue,advertiser_order_id,advertiser_user_id,advertiser_track_id,\
                 aff_click_id,promo_code,sub_id1,sub_id2,sub_id3,sub_id4,sub_id5,invoice_id"
            }
        }
    }
}

/// The API of one network.
#[derive(Debug, Clone)]
pub(crate) struct ScaleoClient {
    http: HttpClient,
    page_size: u32,
    history_from: NaiveDate,
}

impl ScaleoClient {
    /// A client for the configured network. Every instance that names the
    /// same network and key shares its rate limiter.
    pub(crate) fn new(config: &ScaleoConfig) -> Result<ScaleoClient, HttpError> {
        let root = format!("{}/api/v2/", config.base_url.trim_end_matches('/'));
        let limiter =
            AccountLimiters::of(crate::NAME, &root, config.api_key.expose_secret(), config.limits()).account();
        let mut http_config = HttpConfig::new(root)
            .auth(Auth::query_param("api-key", config.api_key.clone()))
            .allow_plain_http(config.allow_plain_http);
        if let Some(bytes) = config.max_body_bytes {
            http_config = http_config.max_body_bytes(bytes);
        }
        let http = HttpClient::with_limiter(http_config, limiter)?;
        Ok(ScaleoClient {
            http,
            page_size: config.page_size.clamp(1, MAX_PAGE),
            history_from: config.history_from.unwrap_or_else(default_history_from),
        })
    }

    /// The HTTP client, for paged reads.
    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    /// A list at `path` (under `/api/v2/`), its items at `info.<key>`,
    /// oldest id first, with `filters` as query parameters.
    pub(crate) fn list(&self, path: &str, key: &str, filters: &[(&str, String)]) -> Paginator {
        let mut request = Request::get(path).query("sortField", "id").query("sortDirection", "asc");
        for (name, value) in filters {
            request = request.query(*name, value);
        }
        pages(request, key, self.page_size)
    }

    /// A report over the configured history, oldest first, with `filters`
    /// (the report's own, in the body).
    pub(crate) fn report(&self, report: Report, filters: Value) -> Paginator {
        let (from, to) = self.window();
        self.report_between(report, filters, from, to)
    }

    /// The days the configured history spans: from `history_from` to
    /// tomorrow (UTC), so that nothing recorded today is left out.
    pub(crate) fn window(&self) -> (NaiveDate, NaiveDate) {
        (self.history_from, (Utc::now() + Duration::days(1)).date_naive())
    }

    /// A report of the days from `from` to `to`, both included. Reading a
    /// report changes nothing, so its `POST` is retried like a `GET`.
    pub(crate) fn report_between(&self, report: Report, filters: Value, from: NaiveDate, to: NaiveDate) -> Paginator {
        let mut body = json!({"rangeFrom": from.to_string(), "rangeTo": to.to_string(), "columns": report.columns()});
        if filters.as_object().is_some_and(|filters| !filters.is_empty()) {
            body["filters"] = filters;
        }
        let request = Request::post(report.path())
            .query("sortField", "added_timestamp")
            .query("sortDirection", "asc")
            .json(&body)
            .retry_safe();
        pages(request, "transactions", self.page_size)
    }

    /// Every item `paginator` pages.
    pub(crate) async fn all(&self, mut paginator: Paginator) -> Result<Vec<Value>, HttpError> {
        let mut items = Vec::new();
        while let Some(page) = paginator.next_page(&self.http).await? {
            items.extend(page.items);
        }
        Ok(items)
    }

    /// How many items `paginator` pages, from its first page's header.
    pub(crate) async fn total(&self, paginator: Paginator) -> Result<Option<u64>, HttpError> {
        let mut paginator = paginator;
        Ok(paginator.next_page(&self.http).await?.and_then(|page| page.total))
    }

    /// One resource at `path`, `info.<key>`; `None` when Scaleo answers 404.
    pub(crate) async fn get_one(&self, path: &str, key: &str) -> Result<Option<Value>, HttpError> {
        match self.http.send(Request::get(path)).await {
            Ok(response) => Ok(response.json::<Value>()?.pointer(&format!("/info/{key}")).cloned()),
            Err(error) if error.kind() == HttpErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Sends a write and gives its `info` (or `info.<key>` when `key` is
    /// not empty). A refusal of the record (422 with the fields refused,
    /// 404 for a resource gone) is `Err` inside `Ok`; anything else fails
    /// the batch.
    pub(crate) async fn write(&self, request: Request, key: &str) -> Result<Result<Value, RejectReason>, HttpError> {
        match self.http.send(request).await {
            Ok(response) => {
                let body: Value = response.json()?;
                let pointer = if key.is_empty() { "/info".to_owned() } else { format!("/info/{key}") };
                Ok(Ok(body.pointer(&pointer).cloned().unwrap_or(Value::Null)))
            }
            Err(error) if matches!(error.status(), Some(404 | 422)) => Ok(Err(refusal(&error))),
            Err(error) => Err(error),
        }
    }
}

/// Yii2 paging of `request`: `page` and `perPage`, the total in a header.
fn pages(request: Request, key: &str, page_size: u32) -> Paginator {
    let style = PageStyle::PageNumber { page_param: "page".into(), count_param: "perPage".into(), total_pointer: None };
    Paginator::new(request, style, format!("/info/{key}"), page_size).total_header(TOTAL_HEADER)
}

/// Why Scaleo refused a record: the fields and messages of a 422
/// (`info.errors`), or its message.
pub(crate) fn refusal(error: &HttpError) -> RejectReason {
    let body = error.vendor().and_then(|vendor| vendor.json()).unwrap_or(Value::Null);
    let fields: Vec<String> = body
        .pointer("/info/errors")
        .and_then(Value::as_object)
        .map(|errors| {
            errors
                .iter()
                .map(|(field, messages)| {
                    let messages: Vec<&str> = match messages {
                        Value::Array(messages) => messages.iter().filter_map(Value::as_str).collect(),
                        Value::String(message) => vec![message.as_str()],
                        _ => Vec::new(),
                    };
                    format!("{field}: {}", messages.join(" "))
                })
                .collect()
        })
        .unwrap_or_default();
    let message = if fields.is_empty() {
        body.get("message").and_then(Value::as_str).map_or_else(|| error.to_string(), str::to_owned)
    } else {
        fields.join("; ")
    };
    let code = if error.status() == Some(404) { "not_found_on_platform" } else { "rejected_by_platform" };
    RejectReason::new(code, format!("scaleo refused it: {message}"))
}
