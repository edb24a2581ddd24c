//! Talking to the Mailman core REST API (3.1): one typed call per endpoint
//! the streams use, over [`cutover_http::HttpClient`].
//!
//! Not here: any mapping to canonical records (`mapping.rs`). A missing
//! resource (404) is an `Ok(None)` or `false`, since the streams branch on
//! it; every other failure is an [`HttpError`] that becomes a `PluginError`
//! with `?`.

use crate::config::MailmanConfig;
use cutover_http::{
    AccountLimiters, Auth, HttpClient, HttpConfig, HttpError, HttpErrorKind, Paginator, RateLimits, Request,
    RetryPolicy, path,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// The API version this plugin speaks; it writes ids as 32 hex digits.
pub(crate) const API_VERSION: &str = "3.1";

/// Mailman's gunicorn serves two workers by default: more parallel requests
/// only queue there. The cap is the installation's, shared by every
/// instance that talks to it.
const MAX_CONCURRENCY: usize = 2;

/// The REST API of one Mailman installation.
#[derive(Debug, Clone)]
pub(crate) struct MailmanClient {
    http: HttpClient,
    page_size: u32,
}

/// `GET /system/versions`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Versions {
    pub(crate) mailman_version: String,
    pub(crate) api_version: String,
}

/// A mailing list as `GET /lists` gives it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ListResource {
    pub(crate) list_id: String,
    pub(crate) fqdn_listname: String,
    pub(crate) mail_host: String,
    #[serde(default)]
    pub(crate) display_name: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) advertised: Option<bool>,
}

/// The settings of a list a migration carries (`GET /lists/{id}/config`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ListSettings {
    #[serde(default)]
    pub(crate) display_name: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) subscription_policy: Option<String>,
    #[serde(default)]
    pub(crate) advertised: Option<bool>,
    /// Naive UTC, e.g. `2026-11-23T21:43:31.804159`.
    #[serde(default)]
    pub(crate) created_at: Option<String>,
}

/// A member resource (any role).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct MemberResource {
    pub(crate) member_id: String,
    pub(crate) list_id: String,
    pub(crate) email: String,
    pub(crate) role: String,
    #[serde(default)]
    pub(crate) display_name: Option<String>,
    #[serde(default)]
    pub(crate) delivery_mode: Option<String>,
    #[serde(default)]
    pub(crate) moderation_action: Option<String>,
    #[serde(default)]
    pub(crate) bounce_score: Option<i64>,
}

/// A member's effective preferences (`/members/{id}/all/preferences`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Preferences {
    #[serde(default)]
    pub(crate) delivery_status: Option<String>,
    #[serde(default)]
    pub(crate) delivery_mode: Option<String>,
}

/// An address (`GET /addresses`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct AddressResource {
    pub(crate) email: String,
    #[serde(default)]
    pub(crate) original_email: Option<String>,
    #[serde(default)]
    pub(crate) display_name: Option<String>,
    #[serde(default)]
    pub(crate) registered_on: Option<String>,
    #[serde(default)]
    pub(crate) verified_on: Option<String>,
}

/// What `POST /members` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Subscribed {
    /// `201`: the member exists now, with this id.
    Created(String),
    /// `202`: a human step is pending, under this token.
    Pending(String),
    /// `409`: already a member, or a request is already pending.
    Conflict(String),
    /// `400`: refused, with Mailman's reason.
    Refused(String),
}

impl MailmanClient {
    /// A client for the configured installation, speaking API 3.1.
    pub(crate) fn new(config: &MailmanConfig) -> Result<MailmanClient, HttpError> {
        let root = api_root(&config.base_url);
        // The account is the installation and its one admin user: Mailman
        // has no per-user tokens, so the password adds nothing to the key.
        let limits = RateLimits::unlimited().max_concurrency(MAX_CONCURRENCY);
        let limiter = AccountLimiters::of("mailman", &root, &config.username, limits).account();
        let http = HttpClient::with_limiter(
            HttpConfig::new(root)
                .auth(Auth::basic(config.username.clone(), config.password.clone()))
                .allow_plain_http(config.allow_plain_http)
                .max_body_bytes(config.max_body_bytes.unwrap_or(HttpConfig::DEFAULT_MAX_BODY_BYTES))
                .retry(RetryPolicy {
                    max_attempts: 4,
                    max_elapsed: Duration::from_secs(120),
                    ..RetryPolicy::default()
                }),
            limiter,
        )?;
        Ok(MailmanClient { http, page_size: config.page_size.max(1) })
    }

    /// The API root every path is relative to.
    pub(crate) fn root(&self) -> &str {
        self.http.base_url().as_str()
    }

    /// The pages of a collection, [`MailmanConfig::page_size`] items each.
    pub(crate) fn pages(&self, request: Request) -> Paginator {
        Paginator::page_number(request, self.page_size)
    }

    /// The HTTP client, for paged reads.
    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    pub(crate) async fn versions(&self) -> Result<Versions, HttpError> {
        self.http.get_json("system/versions").await
    }

    /// How many items a collection holds (`count=0&page=1` answers the size
    /// alone).
    pub(crate) async fn collection_size(&self, request: Request) -> Result<u64, HttpError> {
        let body: Value = self.http.send(request.query("count", 0).query("page", 1)).await?.json()?;
        Ok(body.get("total_size").and_then(Value::as_u64).unwrap_or(0))
    }

    /// Every item of a paged collection.
    pub(crate) async fn collect(&self, request: Request) -> Result<Vec<Value>, HttpError> {
        let mut pages = self.pages(request);
        let mut items = Vec::new();
        while let Some(page) = pages.next_page(&self.http).await? {
            items.extend(page.items);
        }
        Ok(items)
    }

    pub(crate) async fn domain_exists(&self, mail_host: &str) -> Result<bool, HttpError> {
        found(self.http.send(Request::get(path(["domains", mail_host])?)).await).map(|answer| answer.is_some())
    }

    pub(crate) async fn create_domain(&self, mail_host: &str) -> Result<(), HttpError> {
        self.http.send(Request::post("domains").json(&json!({ "mail_host": mail_host }))).await.map(drop)
    }

    pub(crate) async fn list(&self, list_id: &str) -> Result<Option<ListResource>, HttpError> {
        match found(self.http.send(Request::get(path(["lists", list_id])?)).await)? {
            Some(response) => response.json().map(Some),
            None => Ok(None),
        }
    }

    pub(crate) async fn list_settings(&self, list_id: &str) -> Result<ListSettings, HttpError> {
        self.http.get_json(&path(["lists", list_id, "config"])?).await
    }

    /// Creates a list; `Err(reason)` inside `Ok` when Mailman refused the
    /// name (400), so the record can be rejected with that reason.
    pub(crate) async fn create_list(&self, fqdn_listname: &str) -> Result<Result<(), String>, HttpError> {
        refused_as_reason(
            self.http.send(Request::post("lists").json(&json!({ "fqdn_listname": fqdn_listname }))).await.map(drop),
        )
    }

    /// Changes list settings; `Err(reason)` inside `Ok` on a 400.
    pub(crate) async fn patch_list_settings(
        &self,
        list_id: &str,
        changes: &Value,
    ) -> Result<Result<(), String>, HttpError> {
        refused_as_reason(
            self.http.send(Request::patch(path(["lists", list_id, "config"])?).json(changes)).await.map(drop),
        )
    }

    /// The member of `list_id` with `role` and `email`, if there is one.
    pub(crate) async fn member(
        &self,
        list_id: &str,
        role: &str,
        email: &str,
    ) -> Result<Option<MemberResource>, HttpError> {
        match found(self.http.send(Request::get(path(["lists", list_id, role, email])?)).await)? {
            Some(response) => response.json().map(Some),
            None => Ok(None),
        }
    }

    pub(crate) async fn effective_preferences(&self, member_id: &str) -> Result<Preferences, HttpError> {
        self.http.get_json(&path(["members", member_id, "all", "preferences"])?).await
    }

    pub(crate) async fn patch_member_preferences(&self, member_id: &str, changes: &Value) -> Result<(), HttpError> {
        self.http.send(Request::patch(path(["members", member_id, "preferences"])?).json(changes)).await.map(drop)
    }

    /// `POST /members`. Not retried once sent: a second subscription
    /// attempt after a lost answer comes back as a conflict, which the
    /// caller reads as "already there".
    pub(crate) async fn subscribe(&self, body: &Value) -> Result<Subscribed, HttpError> {
        match self.http.send(Request::post("members").json(body)).await {
            Ok(response) if response.status().as_u16() == 202 => {
                let answer: Value = response.json()?;
                Ok(Subscribed::Pending(answer.get("token").and_then(Value::as_str).unwrap_or_default().to_owned()))
            }
            Ok(response) => {
                let location = response
                    .headers()
                    .get(cutover_http::header::LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default();
                Ok(Subscribed::Created(
                    location.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_owned(),
                ))
            }
            Err(error) => match (error.status(), error.vendor()) {
                (Some(409), Some(vendor)) => Ok(Subscribed::Conflict(vendor_reason(vendor))),
                (Some(400), Some(vendor)) => Ok(Subscribed::Refused(vendor_reason(vendor))),
                _ => Err(error),
            },
        }
    }

    /// Whether `email` is banned from `list_id`: a ban of that list or a
    /// global one, exact or by pattern (Mailman judges the patterns).
    pub(crate) async fn is_banned(&self, list_id: &str, email: &str) -> Result<bool, HttpError> {
        found(self.http.send(Request::get(path(["lists", list_id, "bans", email])?)).await)
            .map(|answer| answer.is_some())
    }

    pub(crate) async fn ban(&self, list_id: &str, email: &str) -> Result<Result<(), String>, HttpError> {
        let request = Request::post(path(["lists", list_id, "bans"])?).json(&json!({ "email": email }));
        refused_as_reason(self.http.send(request).await.map(drop))
    }

    /// The banned addresses and patterns of a list (`Some`) or the global
    /// ones (`None`).
    pub(crate) async fn bans(&self, list_id: Option<&str>) -> Result<Vec<String>, HttpError> {
        let bans = match list_id {
            Some(list_id) => path(["lists", list_id, "bans"])?,
            None => "bans".to_owned(),
        };
        let items = self.collect(Request::get(bans)).await?;
        Ok(items.iter().filter_map(|ban| ban.get("email").and_then(Value::as_str)).map(str::to_owned).collect())
    }

    /// Ids of every member whose effective delivery status is `status`.
    pub(crate) async fn members_with_status(&self, status: &str) -> Result<Vec<String>, HttpError> {
        let request = Request::get("members/find").query("delivery_status", status).query("fields", "member_id");
        let items = self.collect(request).await?;
        Ok(items
            .iter()
            .filter_map(|member| member.get("member_id").and_then(Value::as_str))
            .map(str::to_owned)
            .collect())
    }
}

/// The API root for a configured base URL: the 3.1 root under it, whether
/// or not the operator wrote a version.
pub(crate) fn api_root(base_url: &str) -> String {
    let trimmed = base_url.trim().trim_end_matches('/');
    let without_version = trimmed.strip_suffix("/3.1").or_else(|| trimmed.strip_suffix("/3.0")).unwrap_or(trimmed);
    format!("{without_version}/{API_VERSION}/")
}

/// `Ok(None)` for a 404, the answer otherwise.
fn found(answer: Result<cutover_http::Response, HttpError>) -> Result<Option<cutover_http::Response>, HttpError> {
    match answer {
        Ok(response) => Ok(Some(response)),
        Err(error) if error.kind() == HttpErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// A 400 as the vendor's reason, for a per-record rejection.
fn refused_as_reason(answer: Result<(), HttpError>) -> Result<Result<(), String>, HttpError> {
    match answer {
        Ok(()) => Ok(Ok(())),
        Err(error) if error.status() == Some(400) => {
            Ok(Err(error.vendor().map(vendor_reason).unwrap_or_else(|| error.to_string())))
        }
        Err(error) => Err(error),
    }
}

/// Mailman's `description` (or `title` when there is none).
fn vendor_reason(vendor: &cutover_http::VendorError) -> String {
    vendor
        .json()
        .and_then(|body| {
            body.get("description").or_else(|| body.get("title")).and_then(Value::as_str).map(str::to_owned)
        })
        .unwrap_or_else(|| vendor.summary.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_root_takes_a_base_url_with_or_without_a_version() {
        let check = |base: &str, expected: &str| assert_eq!(api_root(base), expected, "{base}");
        check("http://127.0.0.1:8001", "http://127.0.0.1:8001/3.1/");
        check("http://127.0.0.1:8001/", "http://127.0.0.1:8001/3.1/");
        check("http://127.0.0.1:8001/3.1", "http://127.0.0.1:8001/3.1/");
        check("http://127.0.0.1:8001/3.0/", "http://127.0.0.1:8001/3.1/");
        check("https://mail.example.org/rest", "https://mail.example.org/rest/3.1/");
    }

    #[test]
    fn path_segments_keep_addresses_whole() {
        let check = |value: &str, expected: &str| assert_eq!(path([value]).unwrap(), expected, "{value}");
        check("ant.example.com", "ant.example.com");
        check("a+tag@example.org", "a+tag@example.org");
        check("odd/one?x#y@example.org", "odd%2Fone%3Fx%23y@example.org");
        check("zoë@example.org", "zo%C3%AB@example.org");
        assert!(path(["lists", "..", "bans"]).is_err());
    }
}
