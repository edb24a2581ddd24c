//! Talking to impact.com's Brand API: one call per endpoint the streams
//! use, over [`cutover_http::HttpClient`] (Basic auth with the Account SID,
//! the account's hourly budget, retries with backoff, `X-RateLimit-*`,
//! paging by `@nextpageuri` and tracing are done there).
//!
//! Not here: any mapping to canonical records (`mapping.rs`).

use crate::config::ImpactConfig;
use cutover_http::{
    AccountLimiters, Auth, HttpClient, HttpConfig, HttpError, HttpErrorKind, PageStyle, Paginator, Quota, RateLimits,
    Request, path,
};
use secrecy::ExposeSecret;
use serde_json::Value;

/// The documented default: 1,000 requests an hour per account, paced
/// evenly (a burst of a minute's share at most).
fn account_limits(requests_per_hour: u32) -> RateLimits {
    let per_minute = (requests_per_hour / 60).max(1);
    RateLimits::unlimited().quota(Quota::per_minute(per_minute).with_burst(per_minute)).max_concurrency(4)
}

/// The API of one brand account.
#[derive(Debug, Clone)]
pub(crate) struct ImpactClient {
    http: HttpClient,
    page_size: u32,
}

/// A write the platform refused, with its reason.
#[derive(Debug, Clone)]
pub(crate) struct Refused {
    pub(crate) code: String,
    pub(crate) message: String,
}

impl ImpactClient {
    /// A client for the configured account; every instance that names the
    /// same account shares its hourly budget.
    pub(crate) fn new(config: &ImpactConfig) -> Result<ImpactClient, HttpError> {
        let account = path(["Advertisers", config.account_sid.as_str()])?;
        let root = format!("{}/{}/", config.base_url.trim_end_matches('/'), account.trim_matches('/'));
        let limiter = AccountLimiters::of(
            crate::NAME,
            &root,
            config.auth_token.expose_secret(),
            account_limits(config.requests_per_hour),
        )
        .account();
        let http = HttpClient::with_limiter(
            HttpConfig::new(root)
                .auth(Auth::basic(config.account_sid.clone(), config.auth_token.clone()))
                .header("Accept", "application/json")
                .allow_plain_http(config.allow_plain_http),
            limiter,
        )?;
        Ok(ImpactClient { http, page_size: config.page_size.max(1) })
    }

    /// The HTTP client, for paged reads.
    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    /// A collection under `items` (its key in the envelope), walked through
    /// `@nextpageuri`, which carries every filter of the first request.
    pub(crate) fn collection(&self, request: Request, items: &str) -> Paginator {
        self.collection_sized(request, items, self.page_size)
    }

    /// The same, `size` a page.
    pub(crate) fn collection_sized(&self, request: Request, items: &str, size: u32) -> Paginator {
        let style = PageStyle::NextLink { next_pointer: "/@nextpageuri".into(), size_param: Some("PageSize".into()) };
        Paginator::new(request, style, format!("/{items}"), size)
    }

    /// Actions are paged at least 2,000 at a time (documented minimum).
    pub(crate) fn actions_page_size(&self) -> u32 {
        self.page_size.max(2000)
    }

    /// Every item of a collection (for the lookups writes need).
    pub(crate) async fn all(&self, request: Request, items: &str) -> Result<Vec<Value>, HttpError> {
        let mut paginator = self.collection(request, items);
        let mut all = Vec::new();
        while let Some(page) = paginator.next_page(&self.http).await? {
            all.extend(page.items);
            if page.done {
                break;
            }
        }
        Ok(all)
    }

    /// One JSON document.
    pub(crate) async fn get(&self, request: Request) -> Result<Value, HttpError> {
        self.http.send(request).await?.json()
    }

    /// `@total` of a collection, asked with one item a page.
    pub(crate) async fn total(&self, request: Request) -> Result<u64, HttpError> {
        let page = self.get(request.query("PageSize", 1)).await?;
        Ok(page["@total"]
            .as_str()
            .and_then(|total| total.parse().ok())
            .or_else(|| page["@total"].as_u64())
            .unwrap_or(0))
    }

    /// A write: the answer, or the platform's refusal of this one record
    /// (400/422) with the field and message it named.
    pub(crate) async fn write(&self, request: Request) -> Result<Result<Value, Refused>, HttpError> {
        match self.http.send(request).await {
            Ok(response) => Ok(Ok(response.json().unwrap_or(Value::Null))),
            Err(error) if error.kind() == HttpErrorKind::Rejected => {
                let body = error.vendor().and_then(|vendor| vendor.json()).unwrap_or(Value::Null);
                Ok(Err(refusal(&body, &error.to_string())))
            }
            Err(error) => Err(error),
        }
    }
}

/// The reason in an error envelope: `Errors[0]` (`Field`, `Message`), or the
/// Conversions API's lower-case `errors[0]`, or `Message`.
fn refusal(body: &Value, fallback: &str) -> Refused {
    let first = body["Errors"].get(0).or_else(|| body["errors"].get(0));
    let field = first.and_then(|error| error["Field"].as_str().or(error["field"].as_str()));
    let message = first
        .and_then(|error| error["Message"].as_str().or(error["message"].as_str()))
        .or(body["Message"].as_str())
        .unwrap_or(fallback);
    Refused {
        code: "refused_by_platform".to_owned(),
        message: match field {
            Some(field) => format!("impact.com refused `{field}`: {message}"),
            None => format!("impact.com refused the record: {message}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_field_in_either_error_shape() {
        let upper = serde_json::json!({"Status": "ERROR", "Message": "Validation Failed", "Errors": [{"Field": "Code", "Message": "taken"}]});
        assert_eq!(refusal(&upper, "x").message, "impact.com refused `Code`: taken");
        let lower = serde_json::json!({"status": "ERROR", "errors": [{"field": "OrderId", "level": "ERROR", "message": "Required"}]});
        assert_eq!(refusal(&lower, "x").message, "impact.com refused `OrderId`: Required");
        assert_eq!(refusal(&serde_json::json!({}), "400").message, "impact.com refused the record: 400");
    }
}
