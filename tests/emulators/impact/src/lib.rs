//! An emulator of impact.com's Brand (Advertiser) REST API on the cutover
//! emulator kit, written from `shared/platforms/impact.md`: the `impact`
//! plugin's tests and the fidelity suite (the public Singer tap
//! `tap-impact`) run against it.
//!
//! What it serves, under `/Advertisers/{AccountSID}/` (a trailing `.json`
//! on the last segment is accepted, as the API does; `.xml` is refused with
//! 406, the emulator speaks JSON only):
//! - HTTP Basic with the **Account SID as the user** and the Auth Token as
//!   the password (401 otherwise); a second, read-only token is refused
//!   every write with 403; a path naming another account is 403.
//! - The paged envelope (`@page`, `@numpages`, `@pagesize`, `@total`,
//!   `@start`, `@end`, `@uri`, `@firstpageuri`, `@previouspageuri`,
//!   `@nextpageuri`, `@lastpageuri`, all strings), 1-based `Page` and
//!   `PageSize` (1,000 by default; Actions 20,000, at least 2,000, and an
//!   error past 10× the page size). `@nextpageuri` keeps every filter, so a
//!   client walks it alone.
//! - The Actions date rules (since 2024-08-05): `StartDate` needs `EndDate`,
//!   at most 45 days apart and at most 3 years back; no dates → the last 7
//!   days by last update. The same rules hold for `ActionDateStart/End`
//!   (event time) and `LockingDateStart/End` and for `ActionUpdates` (not confirmed for
//!   the two other pairs). `CampaignId` is required.
//! - Rate limit: 1,000 requests an hour per account (documented), with
//!   `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
//!   (seconds until the window reopens, as the v13 page defines it) on every
//!   answer; over it, 429 in the error envelope with `"Message": "Too Many
//!   Requests"` (body not confirmed). Conversions are not counted (the older rate-limit
//!   page says so). `ClickExport` allows 10 jobs a day.
//! - Errors: `{"Status": "ERROR", "Message": …, "Errors": [{"Field",
//!   "Message"}]}`; the Conversions API's 400 uses lower-case
//!   `errors[{field, level, message}]`.
//! - Reads of every collection `tap-impact` syncs (see `routes`), and the
//!   migration's: `MediaPartners` (filters `Id`, `CampaignId`, `GroupId`,
//!   `Country`, `State`, `RelationshipState`, `startDate`/`endDate`),
//!   `Campaigns`, partner groups (tiers), `Ads`, `Deals`, `PromoCodes`,
//!   `UniqueUrls`, `Actions` with items, `ActionUpdates`,
//!   `ActionInquiries`, `Invoices`, one click by id and `ClickExport` jobs
//!   (`/Jobs/{id}`, `/Jobs/{id}/Download` as CSV or JSON).
//! - Writes: `POST /MediaPartners` (a direct partner on an active contract,
//!   its documented required fields checked), `PUT /MediaPartners/{id}`
//!   (only `MPValue1..3`), `POST /PromoCodes`, `DELETE /PromoCodes/{id}`
//!   (expires it), `POST /Programs/{id}/TrackingLinks`, and `POST
//!   /Conversions` (queued, processed at once into a `PENDING` action; a
//!   duplicate `OrderId` for the tracker makes the submission `FAILED`
//!   (not confirmed)).
//! - `GET /__emulator/impact/seeded`: what was seeded, counted from the
//!   store (per collection, per program, and the dates a client's
//!   incremental bookmark is compared with); `GET
//!   /__emulator/impact/credentials`: the SID and both tokens.
//! - Test knobs ([`ImpactConfig`]): the hourly budget, the daily click
//!   exports, a cap on page sizes (so a client asking 20,000 a page still
//!   walks pages), and how many of the three programs are seeded.
//!
//! Design choices where the facts file marks nothing confirmed: values are
//! strings, as the envelope's attributes are documented (the API's JSON is
//! its XML turned into JSON); dates are written in the account's time zone
//! (America/Phoenix, -07:00); a second-tier parent is kept the way a brand
//! keeps it, in `MPValue2` (impact.com has no parent field), and
//! `MPValue1` holds the previous platform's partner id; `TemplateTermsId`
//! names a program by its id; a partner's payout details are not readable
//! (they belong to the partner's account); a click export's rows carry
//! `SubId1..3` beside the documented `SharedId` (the facts list no sub-ids
//! for brands: they are partners' parameters), and its JSON download is
//! `{"Clicks": [...]}`; a conversion is processed as soon as it is queued.
//!
//! Deviations the public tap found, and what was done (the vendor's
//! documentation wins over a client; where the documentation is silent, the
//! tap's schemas are the evidence of what the API answers):
//! - A brand contact's `Accounts[].Id` was the Account SID; the tap's schema
//!   (integer) shows it is the account's numeric id: it is now
//!   `1234567`, the same id as `AccountId` in submissions and `AdvertiserId`
//!   in catalogs.
//! - `Resources.ExampleLandingPage` was misspelt; fixed.
//!
//! What the tap does that the emulator does not follow, because it is the
//! tap's own behaviour and not the API's: `tap-impact` 2.1.1 keeps a child stream's bookmark
//! across parents (so its `actions` of a second program start at the first
//! program's newest action), ends its date windows at midnight UTC of the
//! current day, and requests `PageSize=20000` on every collection; the
//! fidelity test models the first, seeded data lies before the second, and
//! the emulator serves the third (capped by [`ImpactConfig::page_size_cap`]
//! only when a test asks for small pages). The tap's schemas take
//! `MediaPartnerGroups` under `Groups` and an `APISubmissions` page under
//! `APISubmission`; the emulator answers under those keys, the only
//! evidence of them there is.
//!
//! Not here: the kit's mechanisms (faults, the server, `/__emulator/faults`)
//! and the facade (`cutover-emulators`, its `cutover-emulator impact`
//! binary). Seeded data is dated back from the kit's fixed anchor
//! (2026-10-01), so the 3-year rule will start refusing the oldest of it in
//! 2028-10.
//!
//! Start at [`start`]; the data is in `seed`, the routes in `routes`.

#![warn(missing_docs)]
// Handlers answer their errors as the axum `Response` the client gets;
// its size does not matter in a test double.
#![allow(clippy::result_large_err)]

mod envelope;
mod model;
mod routes;
mod seed;

use std::sync::{Arc, Mutex, RwLock};

use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::any;
use axum::{Json, Router};
use cutover_emulator_kit::query::Params;
use cutover_emulator_kit::{AuthFailure, EmulatorApp, ErrorBody, Vendor, store};
use serde_json::{Value, json};

pub use cutover_emulator_kit::{Error, FaultConfig, RunningEmulator, Settings};
pub use model::{Campaign, Store};
pub use seed::{CLICK_DAYS, TIERS, minor_units, partner_count};

/// The vendor, as the kit knows it.
pub struct ImpactApi;

impl Vendor for ImpactApi {
    const NAME: &'static str = "impact";

    /// `Page` is 1-based; a request names a page only with `Page`.
    fn page_index(uri: &Uri) -> Option<u64> {
        let page = Params::from_uri(uri).get("Page")?.parse::<u64>().ok()?;
        page.checked_sub(1)
    }
}

impl ErrorBody for ImpactApi {
    fn unauthorized(failure: AuthFailure) -> Response {
        let message = match failure {
            AuthFailure::Missing => "Authentication required: HTTP Basic with the Account SID and Auth Token",
            _ => "Invalid credentials",
        };
        envelope::error(StatusCode::UNAUTHORIZED, message, &[])
    }

    fn too_many_requests(retry_after: Option<u64>) -> Response {
        let mut response = envelope::error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests", &[]);
        if let Some(seconds) = retry_after
            && let Ok(value) = seconds.to_string().parse()
        {
            response.headers_mut().insert("x-ratelimit-reset", value);
            if let Ok(value) = seconds.to_string().parse() {
                response.headers_mut().insert("retry-after", value);
            }
        }
        response
    }

    fn server_error(status: u16) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        envelope::error(status, "An internal error occurred", &[])
    }
}

/// How the Impact emulator is started.
#[derive(Debug, Clone)]
pub struct ImpactConfig {
    /// Seed, number of records (actions and clicks; partners are a quarter
    /// of it, at least 8), port, faults. `api_key` sets the Auth Token.
    pub settings: Settings,
    /// Programs seeded, 1 to 3 (default 3: US in USD and CAD, Europe in
    /// EUR and GBP, Japan in JPY). Many brands run one.
    pub programs: usize,
    /// Requests an hour per account (documented: 1,000).
    pub requests_per_hour: u32,
    /// `ClickExport` jobs a day (documented: 10).
    pub click_exports_per_day: u32,
    /// Serves at most this many items a page whatever `PageSize` asks: a
    /// test knob, so a small data set spans pages for a client that always
    /// asks for 20,000 (`tap-impact`). `None`: the documented sizes.
    pub page_size_cap: Option<usize>,
}

impl ImpactConfig {
    /// Documented limits, no cap.
    pub fn new(seed: u64, records: usize) -> Self {
        ImpactConfig {
            settings: Settings::new(seed, records),
            programs: 3,
            requests_per_hour: 1000,
            click_exports_per_day: 10,
            page_size_cap: None,
        }
    }
}

/// The hourly request window.
#[derive(Debug)]
pub(crate) struct Window {
    pub(crate) started: std::time::Instant,
    pub(crate) count: u32,
}

/// The emulator's state: the account and its credentials.
#[derive(Debug, Clone)]
pub struct ImpactState {
    /// The account.
    pub store: Arc<RwLock<Store>>,
    /// The Account SID (the Basic user name, and the path's `{AccountSID}`).
    pub account_sid: String,
    /// The Auth Token (the Basic password).
    pub auth_token: String,
    /// A read-only token of the same account: reads only, writes are 403.
    pub read_only_token: String,
    pub(crate) config: Arc<ImpactConfig>,
    pub(crate) window: Arc<Mutex<Window>>,
}

impl ImpactState {
    /// What the store holds, counted (the `seeded` control route).
    pub fn seeded(&self) -> Value {
        routes::seeded(&store::read(&self.store))
    }

    /// The API root for this account: `{base_url}/Advertisers/{AccountSID}`.
    pub fn api_root(&self, base_url: &str) -> String {
        format!("{base_url}/Advertisers/{}", self.account_sid)
    }
}

/// The path under the base URL where the account's API is: `/Advertisers/`.
pub const API_ROOT: &str = "/Advertisers/";

/// Starts the emulator on the kit: seeded from `config`, on a free port
/// unless the settings name one.
pub async fn start(config: ImpactConfig) -> Result<RunningEmulator<ImpactState>, Error> {
    let app = EmulatorApp::<ImpactApi>::bind(&config.settings).await?;
    let (sid, derived_token, read_only_token) = seed::credentials(config.settings.seed);
    let auth_token = config.settings.api_key.clone().unwrap_or(derived_token);
    let store = seed::store(&sid, config.settings.seed, config.settings.records, config.programs);
    let state = ImpactState {
        store: Arc::new(RwLock::new(store)),
        account_sid: sid,
        auth_token: auth_token.clone(),
        read_only_token,
        config: Arc::new(config),
        window: Arc::new(Mutex::new(Window { started: std::time::Instant::now(), count: 0 })),
    };
    let api = Router::new()
        .route("/Advertisers/{sid}/{*rest}", any(routes::dispatch))
        .route("/Advertisers/{sid}", any(routes::root))
        .with_state(state.clone());
    let seeded_state = state.clone();
    let control: Router =
        Router::new().route("/seeded", axum::routing::get(move || async move { Json(seeded_state.seeded()) })).route(
            "/credentials",
            axum::routing::get({
                let state = state.clone();
                move || async move {
                    Json(json!({"account_sid": state.account_sid, "auth_token": state.auth_token,
                        "read_only_token": state.read_only_token}))
                }
            }),
        );
    Ok(app.control(control).serve(auth_token, state, api))
}
