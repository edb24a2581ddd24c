//! Talking to Partnerize: one [`HttpClient`] for the account (HTTP Basic
//! with the application key and the API key, the account's limiter, which
//! every stream and the job polls share), one typed call per endpoint the
//! streams use, the paginators of its collections and reports, and waiting
//! for jobs.
//!
//! Which generation each object lives under follows
//! `shared/platforms/partnerize.md`: partners in v1 (list, create, update,
//! payment details, self-bills, transaction queries) and v2 (search);
//! campaigns v1 (create) and v3 (list, PATCH); participations, voucher
//! codes, commission groups and reports v1; links v2; the conversion bulk
//! update and its jobs v3. Bodies sent to v3 are typed structs holding only
//! properties v3 defines, because v3 refuses any other with a 400.
//!
//! Not here: mapping to canonical records (`mapping.rs`).

use crate::config::PartnerizeConfig;
use cutover_http::{
    AccountLimiters, Auth, HttpClient, HttpConfig, HttpError, HttpErrorKind, PageStyle, Paginator, Quota, RateLimits,
    Request, path,
};
use cutover_sdk::prelude::*;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

/// Rows per report page: the reports' default and cursor mode's maximum.
pub(crate) const REPORT_PAGE: u32 = 300;

/// Conversions asked for by id in one report request.
const IDS_PER_REQUEST: usize = 100;

/// The API of one network and brand.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    http: HttpClient,
    pub(crate) network_id: String,
    pub(crate) advertiser_id: String,
    page_size: u32,
    job_timeout: Duration,
}

/// A write Partnerize refused for one record: its reason.
pub(crate) type Refusal = RejectReason;

/// The reason in a refusal's body, for a 400 (or another 4xx) that is about
/// the record rather than the request: `Some` for those, `None` for errors
/// that fail the batch.
pub(crate) fn refusal(error: &HttpError) -> Option<Refusal> {
    if !matches!(error.kind(), HttpErrorKind::Rejected | HttpErrorKind::NotFound | HttpErrorKind::Conflict) {
        return None;
    }
    let body = error.vendor().and_then(|vendor| vendor.json());
    let message = body
        .as_ref()
        .and_then(|body| {
            let error = &body["error"];
            // v2/v3: errors[] with property and message; v1: message and fields.
            error["errors"][0]["message"]
                .as_str()
                .map(|message| match error["errors"][0]["property"].as_str().filter(|property| !property.is_empty()) {
                    Some(property) => format!("{property}: {message}"),
                    None => message.to_owned(),
                })
                .or_else(|| {
                    let fields = error["fields"].as_object().filter(|fields| !fields.is_empty()).map(|fields| {
                        fields
                            .iter()
                            .map(|(name, why)| format!("{name}: {}", why.as_str().unwrap_or("invalid")))
                            .collect::<Vec<_>>()
                            .join("; ")
                    });
                    match (error["message"].as_str(), fields) {
                        (Some(message), Some(fields)) => Some(format!("{message} ({fields})")),
                        (Some(message), None) => Some(message.to_owned()),
                        (None, fields) => fields,
                    }
                })
        })
        .unwrap_or_else(|| error.to_string());
    Some(RejectReason::new("refused_by_platform", format!("Partnerize refused it: {message}")))
}

/// Offset paging as every Partnerize collection does it: `offset` +
/// `limit`, the total in `hypermedia.pagination.total_item_count`.
fn offset_pages(request: Request, items: &str, size: u32) -> Paginator {
    let style = PageStyle::Offset {
        offset_param: "offset".into(),
        count_param: "limit".into(),
        total_pointer: Some("/hypermedia/pagination/total_item_count".into()),
    };
    Paginator::new(request, style, items, size)
}

/// A v3 campaign change: only what `PATCH /v3/brand/campaigns/{id}`
/// defines (v3 refuses anything else).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct CampaignPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) default_currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cookie_period: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) default_commission_rate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) default_commission_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) destination_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<Localised>,
}

/// Text by locale (`{"en": "…"}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Localised {
    pub(crate) en: String,
}

impl CampaignPatch {
    /// Whether it changes nothing.
    pub(crate) fn is_empty(&self) -> bool {
        *self == CampaignPatch::default()
    }
}

/// One entry of the v3 bulk update of conversion items: only properties
/// v3 defines for `conversion_items`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ItemChange {
    pub(crate) conversion_item_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<&'static str>,
    /// The item's new value, as a JSON number written exactly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) item_value: Option<serde_json::Number>,
}

/// The v3 bulk body: exactly one key (here `conversion_items`) and an
/// optional `job_reference`.
#[derive(Debug, Clone, Serialize)]
struct ItemsBulk<'a> {
    conversion_items: &'a [ItemChange],
    job_reference: String,
}

/// What a v1 job answered for one input.
pub(crate) type JobAnswer = Result<Value, Value>;

impl Api {
    /// A client for the configured account. Every instance that names the
    /// same account (application key and API key) shares its limiter.
    pub(crate) fn new(config: &PartnerizeConfig) -> Result<Api, HttpError> {
        let base_url = config.base_url().trim_end_matches('/').to_owned();
        let limits = match config.rate_limit_per_second {
            Some(rate) => RateLimits::unlimited().quota(Quota::per_second(rate.get())).max_concurrency(4),
            // Not published: the `X-RateLimit-*` headers pace the account.
            None => RateLimits::unlimited().max_concurrency(4),
        };
        let credential = format!("{}:{}", config.application_key.expose_secret(), config.api_key.expose_secret());
        let limiter = AccountLimiters::of(crate::NAME, &base_url, &credential, limits).account();
        let mut http_config = HttpConfig::new(base_url)
            .auth(Auth::basic(config.application_key.expose_secret(), config.api_key.clone()))
            .allow_plain_http(config.allow_plain_http);
        if let Some(bytes) = config.max_body_bytes {
            http_config = http_config.max_body_bytes(bytes);
        }
        Ok(Api {
            http: HttpClient::with_limiter(http_config, limiter)?,
            network_id: config.network_id.clone(),
            advertiser_id: config.advertiser_id.clone(),
            page_size: config.page_size(),
            job_timeout: Duration::from_secs(config.job_timeout_secs.unwrap_or(600)),
        })
    }

    /// The HTTP client, for paged reads.
    pub(crate) fn http(&self) -> &HttpClient {
        &self.http
    }

    async fn get(&self, request: Request) -> Result<Value, HttpError> {
        self.http.send(request).await?.json()
    }

    /// Every item of a collection, all pages.
    async fn collect(&self, paginator: Paginator) -> Result<Vec<Value>, HttpError> {
        let mut pages = paginator;
        let mut items = Vec::new();
        while let Some(page) = pages.next_page(&self.http).await? {
            items.extend(page.items);
        }
        Ok(items)
    }

    // --- partners ---------------------------------------------------------

    /// `GET /network/{id}/publisher`: every partner (v1 objects, each under
    /// `publisher`).
    pub(crate) fn partners(&self) -> Result<Paginator, HttpError> {
        let request = Request::get(path(["network", &self.network_id, "publisher"])?);
        Ok(offset_pages(request, "/publishers", self.page_size))
    }

    /// How many partners the network has.
    pub(crate) async fn count_partners(&self) -> Result<u64, HttpError> {
        let body = self.get(Request::get(path(["network", &self.network_id, "publisher"])?).query("limit", 1)).await?;
        Ok(body.pointer("/hypermedia/pagination/total_item_count").and_then(Value::as_u64).unwrap_or(0))
    }

    /// Every partner id, in the network list's order.
    pub(crate) async fn partner_ids(&self) -> Result<Vec<String>, HttpError> {
        let items = self.collect(self.partners()?).await?;
        Ok(items.iter().filter_map(|item| item["publisher"]["publisher_id"].as_str().map(str::to_owned)).collect())
    }

    /// `GET /v2/networks/{id}/publishers` with one filter: the partners
    /// whose `filter` is `value` (v2 resources: `id`, `reporting_identifier`,
    /// `contact_email`).
    pub(crate) async fn search_partners(&self, filter: &str, value: &str) -> Result<Vec<Value>, HttpError> {
        let request = Request::get(path(["v2", "networks", &self.network_id, "publishers"])?)
            .query(filter, value)
            .query("fields", "id,reporting_identifier,contact_email");
        let items = self.collect(offset_pages(request, "/publishers", self.page_size)).await?;
        // A filter the API ignored would list every partner: keep the matches.
        Ok(items
            .into_iter()
            .filter(|item| {
                let field = if filter == "publisher_email" { "contact_email" } else { filter };
                item[field].as_str().is_some_and(|found| found.eq_ignore_ascii_case(value))
            })
            .collect())
    }

    /// `GET /user/publisher/{id}`: the v1 partner, `None` when there is none.
    pub(crate) async fn partner(&self, publisher_id: &str) -> Result<Option<Value>, HttpError> {
        match self.get(Request::get(path(["user", "publisher", publisher_id])?)).await {
            Ok(body) => Ok(Some(body["publisher"].clone())),
            Err(error) if error.kind() == HttpErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `POST /user/publisher`: a new partner without a login; its v1 object.
    pub(crate) async fn create_partner(&self, body: &Value) -> Result<Value, HttpError> {
        let answer = self.get(Request::post(path(["user", "publisher"])?).json(body)).await?;
        Ok(answer["publisher"].clone())
    }

    /// `POST /user/publisher/{id}`: changes the fields in `body`.
    pub(crate) async fn update_partner(&self, publisher_id: &str, body: &Value) -> Result<Value, HttpError> {
        let request = Request::post(path(["user", "publisher", publisher_id])?).json(body).retry_safe();
        Ok(self.get(request).await?["publisher"].clone())
    }

    /// `GET /user/publisher/{id}/payment_detail`: the partner's sets.
    pub(crate) async fn payment_details(&self, publisher_id: &str) -> Result<Vec<Value>, HttpError> {
        let body = self.get(Request::get(path(["user", "publisher", publisher_id, "payment_detail"])?)).await?;
        Ok(body["payment_details"]
            .as_array()
            .map(|sets| sets.iter().map(|set| set["payment_detail"].clone()).collect())
            .unwrap_or_default())
    }

    /// `POST /user/publisher/{id}/payment_detail`: a new set, or the one
    /// the body names changed.
    pub(crate) async fn set_payment_detail(&self, publisher_id: &str, body: &Value) -> Result<(), HttpError> {
        let request =
            Request::post(path(["user", "publisher", publisher_id, "payment_detail"])?).json(body).retry_safe();
        self.http.send(request).await.map(drop)
    }

    /// `GET /v3/network/{id}/commission-groups`: every group.
    pub(crate) async fn commission_groups(&self) -> Result<Vec<Value>, HttpError> {
        let request = Request::get(path(["v3", "network", &self.network_id, "commission-groups"])?);
        self.collect(offset_pages(request, "/data", self.page_size)).await
    }

    /// `POST /commission_group`: a new group of `publishers` on a campaign.
    pub(crate) async fn create_group(
        &self,
        campaign_id: &str,
        name: &str,
        publishers: &[String],
    ) -> Result<Value, HttpError> {
        let body = json!({"commission_groups": [{
            "campaign_id": campaign_id, "name": name,
            "description": "Partner tier, migrated by cutover", "publishers": publishers}]});
        let answer = self.get(Request::post("commission_group").json(&body)).await?;
        Ok(answer["commission_groups"][0]["commission_group"].clone())
    }

    /// `PUT /commission_group`: the group's members are `publishers`.
    pub(crate) async fn set_group_members(&self, group_id: &str, publishers: &[String]) -> Result<(), HttpError> {
        let body = json!({"commission_groups": [{"commission_group_id": group_id, "publishers": publishers}]});
        self.http.send(Request::put("commission_group").json(&body)).await.map(drop)
    }

    /// `GET /user/publisher/{id}/selfbill`: the partner's self-bills.
    pub(crate) fn selfbills(&self, publisher_id: &str) -> Result<Paginator, HttpError> {
        let request = Request::get(path(["user", "publisher", publisher_id, "selfbill"])?);
        Ok(offset_pages(request, "/selfbills", self.page_size))
    }

    // --- campaigns and participations --------------------------------------

    /// `GET /v3/brand/campaigns`.
    pub(crate) fn campaigns(&self) -> Paginator {
        offset_pages(Request::get("v3/brand/campaigns"), "/data", self.page_size)
    }

    /// Every campaign of the brand (v3 resources).
    pub(crate) async fn all_campaigns(&self) -> Result<Vec<Value>, HttpError> {
        self.collect(self.campaigns()).await
    }

    /// How many campaigns the brand has.
    pub(crate) async fn count_campaigns(&self) -> Result<u64, HttpError> {
        let body = self.get(Request::get("v3/brand/campaigns").query("limit", 1)).await?;
        Ok(body.pointer("/hypermedia/pagination/total_item_count").and_then(Value::as_u64).unwrap_or(0))
    }

    /// `POST /campaign`: a new campaign of the brand; its v1 object.
    pub(crate) async fn create_campaign(&self, body: &Value) -> Result<Value, HttpError> {
        Ok(self.get(Request::post("campaign").json(body)).await?["campaign"].clone())
    }

    /// `PATCH /v3/brand/campaigns/{id}`.
    pub(crate) async fn patch_campaign(&self, campaign_id: &str, patch: &CampaignPatch) -> Result<Value, HttpError> {
        let request = Request::patch(path(["v3", "brand", "campaigns", campaign_id])?).json(patch);
        Ok(self.get(request).await?["data"].clone())
    }

    /// `GET /campaign/{id}/publisher/{id}`: the participation with its
    /// `campaign_status` and `camref`, `None` when the partner has none.
    pub(crate) async fn participation(
        &self,
        campaign_id: &str,
        publisher_id: &str,
    ) -> Result<Option<Value>, HttpError> {
        match self.get(Request::get(path(["campaign", campaign_id, "publisher", publisher_id])?)).await {
            Ok(body) => Ok(Some(body["publisher"].clone())),
            Err(error) if error.kind() == HttpErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `POST /campaign/{id}/publisher`: the partner approved on the
    /// campaign; the participation.
    pub(crate) async fn approve_participation(
        &self,
        campaign_id: &str,
        publisher_id: &str,
    ) -> Result<Value, HttpError> {
        let body = json!({"publishers": [{"publisher_id": publisher_id, "campaign_status": "a"}]});
        let request = Request::post(path(["campaign", campaign_id, "publisher"])?).json(&body).retry_safe();
        Ok(self.get(request).await?["publishers"][0]["publisher"].clone())
    }

    // --- links and vouchers --------------------------------------------------

    /// `GET /v2/publishers/{id}/links`.
    pub(crate) fn links(&self, publisher_id: &str) -> Result<Paginator, HttpError> {
        let request = Request::get(path(["v2", "publishers", publisher_id, "links"])?);
        Ok(offset_pages(request, "/links", self.page_size))
    }

    /// Every link of a partner.
    pub(crate) async fn all_links(&self, publisher_id: &str) -> Result<Vec<Value>, HttpError> {
        self.collect(self.links(publisher_id)?).await
    }

    /// `POST /v2/publishers/{id}/links`: a new link.
    pub(crate) async fn create_link(&self, publisher_id: &str, body: &Value) -> Result<Value, HttpError> {
        let request = Request::post(path(["v2", "publishers", publisher_id, "links"])?).json(body);
        Ok(self.get(request).await?["link"].clone())
    }

    /// `PATCH /v2/publishers/{id}/links/{id}`.
    pub(crate) async fn patch_link(&self, publisher_id: &str, link_id: &str, body: &Value) -> Result<Value, HttpError> {
        let request = Request::patch(path(["v2", "publishers", publisher_id, "links", link_id])?).json(body);
        Ok(self.get(request).await?["link"].clone())
    }

    /// `GET /campaign/{id}/voucher_code`.
    pub(crate) fn vouchers(&self, campaign_id: &str) -> Result<Paginator, HttpError> {
        let request = Request::get(path(["campaign", campaign_id, "voucher_code"])?);
        Ok(offset_pages(request, "/voucher_codes", self.page_size))
    }

    /// Every voucher code of a campaign (v1 objects).
    pub(crate) async fn all_vouchers(&self, campaign_id: &str) -> Result<Vec<Value>, HttpError> {
        let items = self.collect(self.vouchers(campaign_id)?).await?;
        Ok(items.into_iter().map(|item| item["voucher_code"].clone()).collect())
    }

    /// `POST` (new) or `PUT` (changed) `/campaign/{id}/voucher_code` with
    /// one code; the code as stored.
    pub(crate) async fn write_voucher(&self, campaign_id: &str, entry: &Value, new: bool) -> Result<Value, HttpError> {
        let target = path(["campaign", campaign_id, "voucher_code"])?;
        let body = json!({"voucher_codes": [entry]});
        let request = if new { Request::post(target).json(&body) } else { Request::put(target).json(&body) };
        Ok(self.get(request).await?["voucher_codes"][0]["voucher_code"].clone())
    }

    // --- reports -------------------------------------------------------------

    fn report(&self, campaign_id: &str, file: &str, from: &str, until: &str) -> Result<Request, HttpError> {
        Ok(Request::get(path(["reporting", "report_advertiser", "campaign", campaign_id, file])?)
            .query("start_date", from)
            .query("end_date", until)
            .query("timezone", "UTC"))
    }

    /// The click report of a campaign between two v1 dates, by offset.
    pub(crate) fn clicks(&self, campaign_id: &str, from: &str, until: &str) -> Result<Paginator, HttpError> {
        Ok(offset_pages(self.report(campaign_id, "click.json", from, until)?, "/clicks", REPORT_PAGE))
    }

    /// The conversion report of a campaign between two v1 dates, with
    /// payment info, in cursor mode (`cursor_id`, `next_page`).
    pub(crate) fn conversions(&self, campaign_id: &str, from: &str, until: &str) -> Result<Paginator, HttpError> {
        let request = self
            .report(campaign_id, "conversion.json", from, until)?
            .query("include_payment_info", "true")
            .query("cursor_id", "");
        let style = PageStyle::NextLink {
            next_pointer: "/hypermedia/pagination/next_page".into(),
            size_param: Some("limit".into()),
        };
        Ok(Paginator::new(request, style, "/conversions", REPORT_PAGE))
    }

    /// The conversions of a campaign with these ids (`conversion_data`
    /// objects), by id; one that is not there is left out.
    pub(crate) async fn conversions_by_id(
        &self,
        campaign_id: &str,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, Value>, HttpError> {
        let mut found = std::collections::HashMap::new();
        for chunk in ids.chunks(IDS_PER_REQUEST) {
            let mut request = self
                .report(campaign_id, "conversion.json", "2000-01-01", "2100-01-01")?
                .query("include_payment_info", "true")
                .query("cursor_id", "");
            for id in chunk {
                request = request.query("conversion_id[]", id);
            }
            let style = PageStyle::NextLink {
                next_pointer: "/hypermedia/pagination/next_page".into(),
                size_param: Some("limit".into()),
            };
            for item in self.collect(Paginator::new(request, style, "/conversions", REPORT_PAGE)).await? {
                let data = &item["conversion_data"];
                // An API that ignored the filter gives others too: keep the asked.
                if let Some(id) = data["conversion_id"].as_str().filter(|id| chunk.iter().any(|asked| asked == id)) {
                    found.insert(id.to_owned(), data.clone());
                }
            }
        }
        Ok(found)
    }

    // --- transaction queries and jobs ----------------------------------------

    /// `GET /user/publisher/{id}/tq?campaign_id=`: the partner's
    /// transaction queries on a campaign (`transaction_query` objects).
    pub(crate) async fn transaction_queries(
        &self,
        publisher_id: &str,
        campaign_id: &str,
    ) -> Result<Vec<Value>, HttpError> {
        let request = Request::get(path(["user", "publisher", publisher_id, "tq"])?).query("campaign_id", campaign_id);
        let body = self.get(request).await?;
        Ok(body["transaction_queries"]
            .as_array()
            .map(|queries| {
                queries
                    .iter()
                    .map(|query| query["transaction_query"].clone())
                    .filter(|query| query["campaign_id"].as_str() == Some(campaign_id))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `POST /user/publisher/{id}/tq/create`, waited for: one answer per
    /// query, in order.
    pub(crate) async fn create_transaction_queries(
        &self,
        publisher_id: &str,
        queries: &[Value],
    ) -> Result<Vec<JobAnswer>, PluginError> {
        let request = Request::post(path(["user", "publisher", publisher_id, "tq", "create"])?)
            .json(&json!({"transaction_queries": queries}));
        let answer = self.get(request).await?;
        let Some(job_id) = answer["job"]["job_id"].as_str().map(str::to_owned) else {
            return Err(PluginError::new(
                ErrorCode::Other("platform".into()),
                "Partnerize answered a transaction query without a job",
            ));
        };
        self.wait(
            &job_id,
            |body| body["job"]["status"].as_str() == Some("complete"),
            |id| Ok(Request::get(path(["job", id])?)),
        )
        .await?;
        let body = self.get(Request::get(path(["job", &job_id, "response.json"])?)).await?;
        let responses = body["responses"].as_array().cloned().unwrap_or_default();
        if responses.len() != queries.len() {
            return Err(PluginError::new(
                ErrorCode::Other("platform".into()),
                format!(
                    "Partnerize's job {job_id} answered {} of {} transaction queries",
                    responses.len(),
                    queries.len()
                ),
            ));
        }
        Ok(responses
            .into_iter()
            .map(|response| match response.get("transaction_query") {
                Some(made) => Ok(made.clone()),
                None => Err(response["error"].clone()),
            })
            .collect())
    }

    /// `POST /campaign/{id}/tq/{id}/{approve|pend|reject}`.
    pub(crate) async fn decide(&self, campaign_id: &str, tq_id: &str, action: &str) -> Result<(), HttpError> {
        let request = Request::post(path(["campaign", campaign_id, "tq", tq_id, action])?).retry_safe();
        self.http.send(request).await.map(drop)
    }

    /// `POST /v3/brand/campaigns/{id}/conversions/bulk` with item changes,
    /// waited for; the failed entries' errors, by their index.
    pub(crate) async fn update_items(
        &self,
        campaign_id: &str,
        changes: &[ItemChange],
    ) -> Result<Vec<(usize, String)>, PluginError> {
        let body = ItemsBulk { conversion_items: changes, job_reference: "cutover migration".into() };
        let request =
            Request::post(path(["v3", "brand", "campaigns", campaign_id, "conversions", "bulk"])?).json(&body);
        let answer = self.get(request).await?;
        let Some(job_id) = answer["data"]["id"].as_str().map(str::to_owned) else {
            return Err(PluginError::new(
                ErrorCode::Other("platform".into()),
                "Partnerize accepted a bulk update without a job",
            ));
        };
        let done = self
            .wait(
                &job_id,
                |body| {
                    body["data"]["status"]
                        .as_str()
                        .is_some_and(|status| status.starts_with("complete") || status == "failed")
                },
                |id| Ok(Request::get(path(["v3", "jobs", id])?)),
            )
            .await?;
        if done["data"]["tasks"]["failed"].as_u64().unwrap_or(0) == 0 && done["data"]["status"] != "failed" {
            return Ok(Vec::new());
        }
        let tasks = self.get(Request::get(path(["v3", "jobs", &job_id, "tasks"])?)).await?;
        Ok(tasks["data"]
            .as_array()
            .map(|tasks| {
                tasks
                    .iter()
                    .enumerate()
                    .filter(|(_, task)| task["status"] != "complete")
                    .map(|(index, task)| {
                        let why = task["errors"][0]["message"].as_str().unwrap_or("the task failed").to_owned();
                        (index, why)
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Polls a job through the account's limiter until `done` says so, with
    /// growing pauses, until the job timeout.
    async fn wait(
        &self,
        job_id: &str,
        done: impl Fn(&Value) -> bool,
        request: impl Fn(&str) -> Result<Request, HttpError>,
    ) -> Result<Value, PluginError> {
        let started = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(40);
        loop {
            tokio::time::sleep(pause).await;
            let body = self.get(request(job_id)?).await?;
            if done(&body) {
                return Ok(body);
            }
            if started.elapsed() > self.job_timeout {
                return Err(PluginError::new(
                    ErrorCode::Network,
                    format!("Partnerize's job {job_id} did not finish in {} s", self.job_timeout.as_secs()),
                )
                .with_help("raise `job_timeout_secs`, or run again: finished work is not repeated"));
            }
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The properties v3 defines for a campaign (the facts file's campaign
    /// fields) and for a bulk entry of `conversion_items`; v3 answers 400 to
    /// any other, so nothing else may ever be sent.
    const CAMPAIGN_PROPERTIES: &[&str] = &[
        "title",
        "status",
        "default_currency",
        "cookie_period",
        "default_commission_rate",
        "default_commission_value",
        "destination_url",
        "description",
    ];
    const ITEM_PROPERTIES: &[&str] = &[
        "conversion_item_id",
        "status",
        "reason",
        "force_commission_recalculation",
        "publisher_reference",
        "advertiser_reference",
        "conversion_reference",
        "customer_reference",
        "customer_type",
        "traffic_source_id",
        "conversion_metric_id",
        "ref_partnership_model_id",
        "item_value",
        "sku",
        "category",
        "display_to_publisher",
    ];

    fn keys(value: &Value) -> Vec<String> {
        value.as_object().map(|object| object.keys().cloned().collect()).unwrap_or_default()
    }

    #[test]
    fn v3_bodies_hold_only_properties_v3_defines() {
        let full = CampaignPatch {
            title: Some("t".into()),
            status: Some("a".into()),
            default_currency: Some("EUR".into()),
            cookie_period: Some(30),
            default_commission_rate: Some("5".into()),
            default_commission_value: Some("2.50".into()),
            destination_url: Some("https://shop.example.com/".into()),
            description: Some(Localised { en: "terms".into() }),
        };
        let campaign = serde_json::to_value(&full).unwrap();
        assert!(keys(&campaign).iter().all(|key| CAMPAIGN_PROPERTIES.contains(&key.as_str())), "{campaign}");
        assert_eq!(keys(&campaign["description"]), ["en"]);
        assert_eq!(serde_json::to_value(CampaignPatch::default()).unwrap(), json!({}));
        let change = ItemChange {
            conversion_item_id: "111111l1".into(),
            status: Some("rejected"),
            reason: Some("reversed"),
            item_value: serde_json::Number::from_f64(39.9),
        };
        let body = serde_json::to_value(ItemsBulk { conversion_items: &[change], job_reference: "r".into() }).unwrap();
        let mut top = keys(&body);
        top.sort();
        assert_eq!(top, ["conversion_items", "job_reference"]);
        let entry = &body["conversion_items"][0];
        assert!(keys(entry).iter().all(|key| ITEM_PROPERTIES.contains(&key.as_str())), "{entry}");
    }

    #[test]
    fn a_refusal_names_the_vendors_reason_in_each_generations_shape() {
        let status = |body: &str| HttpError::Status {
            method: "POST".into(),
            path: "/x".into(),
            status: 400,
            vendor: cutover_http::VendorError::from_body(body.as_bytes()),
            attempts: 1,
        };
        let v1 = status(
            r#"{"error":{"message":"Validation failed","type":"Validation Fail","fields":{"contact_email":"required"}}}"#,
        );
        assert_eq!(refusal(&v1).unwrap().message, "Partnerize refused it: Validation failed (contact_email: required)");
        let v3 = status(
            r#"{"error":{"errors":[{"property":"title","type":"invalid_value","code":"x","message":"title cannot be empty"}],"code":"400","message":"Bad Request"}}"#,
        );
        assert_eq!(refusal(&v3).unwrap().message, "Partnerize refused it: title: title cannot be empty");
        let server = HttpError::Status {
            method: "GET".into(),
            path: "/x".into(),
            status: 503,
            vendor: cutover_http::VendorError::from_body(b"{}"),
            attempts: 3,
        };
        assert!(refusal(&server).is_none(), "a server error fails the batch");
    }
}
