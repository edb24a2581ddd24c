//! Talking to Klaviyo: one [`HttpClient`] per endpoint, each paced by its
//! documented rate-limit tier, because Klaviyo counts each endpoint's burst
//! (per second) and steady (per minute) windows apart; JSON:API bodies;
//! lookups of profiles by identifier; and waiting for a bulk job to finish.

use crate::config::{KlaviyoConfig, RateLimit};
use crate::mapping;
use cutover_http::{AccountLimiters, Auth, HttpClient, HttpConfig, HttpError, Quota, RateLimits, Request, Response};
use cutover_sdk::prelude::*;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

/// The media type of JSON:API bodies.
const JSON_API: &str = "application/vnd.api+json";

/// Profiles asked for per lookup request (the `page[size]` cap of
/// `GET /api/profiles`).
pub(crate) const LOOKUP_CHUNK: usize = 100;

/// A documented rate-limit tier (`shared/platforms/klaviyo.md` §4): burst
/// requests per second and steady requests per minute. The L tier's steady
/// limit is 750/m from revision 2026-01-15 on, 700/m before; 700 is used for
/// both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    /// 1/s, 15/m.
    ExtraSmall,
    /// 3/s, 60/m.
    Small,
    /// 10/s, 150/m.
    Medium,
    /// 75/s, 700/m.
    Large,
    /// 350/s, 3500/m.
    ExtraLarge,
}

impl Tier {
    fn limits(self) -> RateLimits {
        let (burst, steady) = match self {
            Tier::ExtraSmall => (1, 15),
            Tier::Small => (3, 60),
            Tier::Medium => (10, 150),
            Tier::Large => (75, 700),
            Tier::ExtraLarge => (350, 3500),
        };
        RateLimits::unlimited().quota(Quota::per_second(burst)).quota(Quota::per_minute(steady))
    }
}

/// The endpoints this plugin calls; each has its own windows on Klaviyo's
/// side, so each gets its own limiter, shared by every instance of the
/// account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `GET /api/accounts`.
    Accounts,
    /// `GET /api/lists`, `GET /api/lists/{id}`.
    ReadLists,
    /// `POST /api/lists`, `PATCH /api/lists/{id}`.
    WriteLists,
    /// `GET /api/lists/{id}/profiles`.
    ListMembers,
    /// `POST /api/lists/{id}/relationships/profiles`.
    AddMembers,
    /// `GET /api/profiles`, `GET /api/profiles/{id}`.
    ReadProfiles,
    /// `GET /api/profiles/{id}/lists`.
    ProfileLists,
    /// `POST /api/profile-import`.
    ImportProfile,
    /// `POST` and `GET /api/profile-bulk-import-jobs`.
    BulkImport,
    /// `POST /api/profile-subscription-bulk-create-jobs`.
    Subscribe,
    /// `POST /api/profile-subscription-bulk-delete-jobs`.
    Unsubscribe,
    /// `POST` and `GET /api/profile-suppression-bulk-create-jobs`.
    Suppress,
    /// `GET /api/metrics`.
    Metrics,
    /// `GET /api/events`.
    ReadEvents,
    /// `POST /api/event-bulk-create-jobs`.
    BulkEvents,
}

impl Endpoint {
    /// How many endpoints there are.
    const COUNT: usize = Endpoint::BulkEvents as usize + 1;

    /// The tier the reference gives the endpoint.
    fn tier(self) -> Tier {
        match self {
            Endpoint::Accounts => Tier::ExtraSmall,
            Endpoint::ProfileLists => Tier::Small,
            Endpoint::WriteLists
            | Endpoint::AddMembers
            | Endpoint::Metrics
            | Endpoint::BulkImport
            | Endpoint::BulkEvents => Tier::Medium,
            Endpoint::ReadLists
            | Endpoint::ListMembers
            | Endpoint::ReadProfiles
            | Endpoint::ImportProfile
            | Endpoint::Subscribe
            | Endpoint::Unsubscribe
            | Endpoint::Suppress => Tier::Large,
            Endpoint::ReadEvents => Tier::ExtraLarge,
        }
    }
}

/// The Klaviyo API of one account. Each endpoint's client is built on its
/// first use, so an instance pays only for the endpoints its streams call;
/// its limiter is the account's for that endpoint, so two instances of one
/// account (a source and a destination, a retry) spend one quota.
#[derive(Debug)]
pub(crate) struct Api {
    /// Base URL, auth and headers; each client adds its endpoint's limiter.
    template: HttpConfig,
    /// The config's one rate for every endpoint, if it gives one.
    rate_limit: Option<RateLimit>,
    limiters: AccountLimiters,
    /// By [`Endpoint`].
    clients: [OnceLock<HttpClient>; Endpoint::COUNT],
}

impl Api {
    /// The API of the account `config` names: the key, the `revision`
    /// header, and each endpoint's documented limits. A config that cannot
    /// make a client (a bad base URL, a key a header cannot carry) is
    /// refused here.
    pub(crate) fn new(config: &KlaviyoConfig) -> Result<Api, PluginError> {
        let template = HttpConfig::new(config.base_url())
            .auth(Auth::api_key_header("Authorization", "Klaviyo-API-Key ", config.api_key.clone()))
            .header("revision", config.revision())
            .header("accept", JSON_API)
            .allow_plain_http(config.allow_plain_http)
            .max_body_bytes(config.max_body_bytes.unwrap_or(HttpConfig::DEFAULT_MAX_BODY_BYTES));
        // Klaviyo keeps no account-wide window: every request is paced by
        // its endpoint's limiter.
        let limiters =
            AccountLimiters::of("klaviyo", config.base_url(), config.api_key.expose_secret(), RateLimits::unlimited());
        let api = Api {
            template,
            rate_limit: config.rate_limit,
            limiters,
            clients: [const { OnceLock::new() }; Endpoint::COUNT],
        };
        api.http_client(Endpoint::Accounts).map_err(config_error)?;
        Ok(api)
    }

    fn http_client(&self, endpoint: Endpoint) -> Result<&HttpClient, HttpError> {
        let cell = &self.clients[endpoint as usize];
        if let Some(client) = cell.get() {
            return Ok(client);
        }
        let limits = || self.rate_limit.map_or_else(|| endpoint.tier().limits(), RateLimit::limits);
        let limiter = self.limiters.endpoint(&format!("{endpoint:?}"), limits);
        let client = HttpClient::with_limiter(self.template.clone(), limiter)?;
        Ok(cell.get_or_init(|| client))
    }

    /// The client of `endpoint`.
    pub(crate) fn client(&self, endpoint: Endpoint) -> Result<&HttpClient, PluginError> {
        self.http_client(endpoint).map_err(PluginError::from)
    }

    /// Sends `request` through `endpoint`'s client.
    pub(crate) async fn send(&self, endpoint: Endpoint, request: Request) -> Result<Response, HttpError> {
        self.http_client(endpoint)?.send(request).await
    }

    /// `GET path` as JSON.
    pub(crate) async fn get(&self, endpoint: Endpoint, request: Request) -> Result<Value, HttpError> {
        self.send(endpoint, request).await?.json()
    }

    /// A JSON:API `POST` or `PATCH` of `body` to `path`.
    pub(crate) async fn write(
        &self,
        endpoint: Endpoint,
        request: Request,
        body: &Value,
    ) -> Result<Response, HttpError> {
        self.send(endpoint, request.json_as(body, JSON_API)).await
    }

    /// Profiles with any of these emails, by lowercased email, with their
    /// subscriptions when `subscriptions` is set.
    pub(crate) async fn profiles_by_email(
        &self,
        emails: &[String],
        subscriptions: bool,
    ) -> Result<HashMap<String, Value>, HttpError> {
        let mut found = HashMap::new();
        let mut wanted: Vec<&str> =
            emails.iter().map(|email| email.trim()).filter(|email| is_filter_safe(email)).collect();
        wanted.sort_unstable();
        wanted.dedup();
        for chunk in wanted.chunks(LOOKUP_CHUNK / 2) {
            // Klaviyo may keep an address as given or lowercased: ask for both.
            let mut values: Vec<String> = Vec::with_capacity(chunk.len() * 2);
            for email in chunk {
                values.push(format!("\"{email}\""));
                let lower = email.to_lowercase();
                if lower != *email {
                    values.push(format!("\"{lower}\""));
                }
            }
            for profile in self.profiles_where(&format!("any(email,[{}])", values.join(",")), subscriptions).await? {
                if let Some(email) = profile.pointer("/attributes/email").and_then(Value::as_str) {
                    found.insert(email.trim().to_lowercase(), profile);
                }
            }
        }
        Ok(found)
    }

    /// Profiles with any of these ids, by id, with their subscriptions when
    /// `subscriptions` is set.
    pub(crate) async fn profiles_by_id(
        &self,
        ids: &[String],
        subscriptions: bool,
    ) -> Result<HashMap<String, Value>, HttpError> {
        let mut found = HashMap::new();
        let mut wanted: Vec<&str> = ids.iter().map(String::as_str).filter(|id| is_filter_safe(id)).collect();
        wanted.sort_unstable();
        wanted.dedup();
        for chunk in wanted.chunks(LOOKUP_CHUNK) {
            let values: Vec<String> = chunk.iter().map(|id| format!("\"{id}\"")).collect();
            for profile in self.profiles_where(&format!("any(id,[{}])", values.join(",")), subscriptions).await? {
                if let Some(id) = profile.get("id").and_then(Value::as_str) {
                    found.insert(id.to_owned(), profile);
                }
            }
        }
        Ok(found)
    }

    /// Profiles matching `filter` (at most one page of 100).
    async fn profiles_where(&self, filter: &str, subscriptions: bool) -> Result<Vec<Value>, HttpError> {
        let mut request = Request::get("api/profiles").query("filter", filter).query("page[size]", LOOKUP_CHUNK);
        if subscriptions {
            request = request.query("additional-fields[profile]", "subscriptions");
        }
        let body = self.get(Endpoint::ReadProfiles, request).await?;
        Ok(body.get("data").and_then(Value::as_array).cloned().unwrap_or_default())
    }

    /// Creates or updates a profile from its attributes (`POST
    /// /api/profile-import`): the profile and whether it was created.
    pub(crate) async fn import_profile(
        &self,
        profile_id: Option<&str>,
        attributes: &serde_json::Map<String, Value>,
    ) -> Result<(Value, bool), HttpError> {
        let mut data = serde_json::json!({"type": "profile", "attributes": attributes});
        if let (Some(id), Some(object)) = (profile_id, data.as_object_mut()) {
            object.insert("id".into(), Value::from(id));
        }
        // An upsert by email or id: safe to send again.
        let request = Request::post("api/profile-import").retry_safe();
        let response = self.write(Endpoint::ImportProfile, request, &serde_json::json!({"data": data})).await?;
        let created = response.status().as_u16() == 201;
        let body: Value = response.json()?;
        Ok((body.get("data").cloned().unwrap_or(Value::Null), created))
    }

    /// Waits until the job `{jobs}/{job_id}` (`jobs` being e.g.
    /// `api/profile-suppression-bulk-create-jobs`) is `complete` (or
    /// `cancelled`), polling with a growing pause, and returns its last
    /// state.
    pub(crate) async fn wait_for_job(
        &self,
        endpoint: Endpoint,
        jobs: &str,
        job_id: &str,
    ) -> Result<Value, PluginError> {
        let mut pause = Duration::from_millis(200);
        for _ in 0..40 {
            let body = self.get(endpoint, Request::get(format!("{jobs}/{}", cutover_http::path([job_id])?))).await?;
            let job = body.get("data").cloned().unwrap_or(Value::Null);
            match job.pointer("/attributes/status").and_then(Value::as_str) {
                Some("complete") => return Ok(job),
                Some("cancelled") => {
                    return Err(PluginError::new(ErrorCode::Network, format!("klaviyo cancelled job {jobs}/{job_id}")));
                }
                _ => {}
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(10));
        }
        Err(PluginError::new(ErrorCode::Network, format!("job {jobs}/{job_id} did not complete in about 5 minutes"))
            .with_help("resume the run later: the job keeps running on klaviyo and the write is idempotent"))
    }

    /// Checks the key (`GET /api/accounts`).
    pub(crate) async fn account(&self) -> Result<Value, HttpError> {
        self.get(Endpoint::Accounts, Request::get("api/accounts")).await
    }
}

/// Whether a value can go in a quoted filter string: Klaviyo's filter
/// grammar has no escape for quotes.
fn is_filter_safe(value: &str) -> bool {
    !value.is_empty() && !value.contains(['"', '\'', '\\'])
}

/// A config that cannot make a client (a bad base URL or revision).
fn config_error(error: HttpError) -> PluginError {
    PluginError::new(ErrorCode::Config, format!("cannot use the klaviyo config: {error}"))
        .with_help("check `base_url` (e.g. https://a.klaviyo.com) and `revision` (YYYY-MM-DD)")
}

/// What a per-record API error says, as a reject reason: the vendor's code
/// (`invalid`, `duplicate_profile`) and summary.
pub(crate) fn reject_reason(error: &HttpError) -> RejectReason {
    let code = error
        .vendor()
        .and_then(|vendor| vendor.json())
        .and_then(|body| body.pointer("/errors/0/code").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| format!("http_{}", error.status().unwrap_or(0)));
    RejectReason::new(code, error.to_string())
}

/// Whether an error is about the record (a 4xx other than auth, permission
/// and rate limit), so the record is rejected and the batch goes on.
pub(crate) fn is_record_error(error: &HttpError) -> bool {
    matches!(error.status(), Some(400 | 404 | 409 | 413 | 422))
}

/// The lowercased email of a profile resource.
pub(crate) fn profile_email(profile: &Value) -> Option<String> {
    profile.pointer("/attributes/email").and_then(Value::as_str).map(|email| email.trim().to_lowercase())
}

/// The id of a resource.
pub(crate) fn resource_id(resource: &Value) -> Option<&str> {
    resource.get("id").and_then(Value::as_str)
}

/// The email consent Klaviyo holds for a profile resource read with its
/// subscriptions, on list `list_id` (a suppression on that list counts).
pub(crate) fn current_email_consent(profile: &Value, list_id: &str) -> Option<cutover_sdk::schema::ConsentState> {
    mapping::email_consent(profile, Some(list_id)).ok().flatten()
}
