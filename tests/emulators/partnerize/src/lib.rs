//! An emulator of the Partnerize (formerly Performance Horizon) API on the
//! cutover emulator kit, for the `partnerize` plugin's tests: the vendor's
//! routes, models and quirks, following `shared/platforms/partnerize.md`
//! (each fact there is marked documented or not; where it is not, the
//! design here is the emulator's, marked \[NC\] in these docs).
//!
//! What it does:
//! - **Auth**: HTTP Basic on every call, the user application key as the
//!   user name and the user API key as the password; both are checked
//!   ([`gate`]). A missing or wrong pair is a 401 in the generation's shape.
//! - **Three URL generations** with their envelopes and error bodies
//!   ([`vendor`], [`envelope`]): v1 (`/network/…`, `/user/publisher/…`,
//!   `/campaign/…`, `/reporting/…`: items wrapped in their singular key,
//!   `{"error": {"message", "type"}}`), v2 (`/v2/…`: `execution_time`,
//!   `count` and a plural key; `{"error": {"errors": [...]}}`) and v3
//!   (`/v3/…`: `data`, UUID error codes, **400 for any body property it does
//!   not define**).
//! - **Paging**: `offset` + `limit` with `offset`, `limit`, `count` and
//!   `hypermedia.pagination` (relative URIs of the first, last, next and
//!   previous pages); the conversion report's cursor mode (`cursor_id`,
//!   at most 300 a page, `next_page` carrying the next `cursor_id`, no
//!   totals).
//! - **Rate limits**: a token bucket per application key, every answer
//!   with `X-RateLimit-Limit`, `-Remaining`, `-Reset`, a 429 (in the
//!   generation's shape) with `X-RateLimit-Retry-After` ([`gate::Bucket`]).
//! - **Jobs**: transaction queries and the v3 bulk conversion update run as
//!   jobs (200 with a v1 job, 202 with a v3 job), polled at `/job/{id}`
//!   (with `/job/{id}/response.json`) and `/v3/jobs/{id}` (with `/tasks`
//!   and `/replay`); a job runs when it is due, polled or not ([`jobs`]).
//! - **Data** seeded from the kit's [`Settings`] ([`seeding`]): one
//!   network and brand, campaigns in four currencies (one retired),
//!   partners of every network status in revenue-tier commission groups,
//!   payment details, participations with camrefs, links, voucher codes,
//!   clicks, conversions with items in every status (and a few malformed
//!   amounts), transaction queries, self-bills paid and pending.
//!   `GET /__emulator/partnerize/seeded` gives the counts per entity.
//!
//! What it does not: partners' parents (Partnerize has no second tier),
//! clicks or conversions created through tracking (`prf.hn`), XML and CSV
//! formats, exports, communications, creatives, invoices.
//!
//! Start at [`start`] (or [`start_with`] for a tighter bucket or slower
//! jobs); [`Account`] is the state handle tests look behind the API with.

#![warn(missing_docs)]
// A handler refuses a request by returning the whole answer early
// (`Err(response)`); it is an emulator, and the size of that error is no cost.
#![allow(clippy::result_large_err)]

pub mod envelope;
pub mod gate;
pub mod jobs;
pub mod model;
pub mod routes;
pub mod seeding;
pub mod vendor;

use std::sync::{Arc, RwLock, RwLockWriteGuard};
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use cutover_emulator_kit::{EmulatorApp, seed, store};
use serde_json::Value;

pub use cutover_emulator_kit::{Error, FaultConfig, RunningEmulator, Settings};
pub use gate::Bucket;
pub use model::Store;
pub use vendor::PartnerizeApi;

/// How an emulator is started: the kit's settings, the token bucket, and
/// how long a job takes.
#[derive(Debug, Clone)]
pub struct PartnerizeSettings {
    /// Seed, records (partners), port, user API key, faults.
    pub settings: Settings,
    /// The application key's token bucket.
    pub bucket: Bucket,
    /// How long after its creation a job runs.
    pub job_delay: Duration,
}

impl PartnerizeSettings {
    /// `records` partners seeded from `seed`, a roomy bucket, jobs that run
    /// after 30 ms.
    pub fn new(seed: u64, records: usize) -> PartnerizeSettings {
        PartnerizeSettings::from(Settings::new(seed, records))
    }
}

impl From<Settings> for PartnerizeSettings {
    fn from(settings: Settings) -> PartnerizeSettings {
        PartnerizeSettings { settings, bucket: Bucket::default(), job_delay: Duration::from_millis(30) }
    }
}

/// The emulated account: its store, its application key, and what was
/// seeded. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Account {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: RwLock<Store>,
    application_key: String,
    job_delay: Duration,
    seeded: Value,
}

impl Account {
    /// The store, with every job that is due run first.
    pub fn settled(&self) -> RwLockWriteGuard<'_, Store> {
        let mut store = store::write(&self.inner.store);
        jobs::settle(&mut store);
        store
    }

    /// The user application key (the Basic user name).
    pub fn application_key(&self) -> &str {
        &self.inner.application_key
    }

    /// The counts per entity the account was seeded with.
    pub fn seeded(&self) -> &Value {
        &self.inner.seeded
    }

    pub(crate) fn job_delay(&self) -> Duration {
        self.inner.job_delay
    }
}

/// Starts the emulator with the kit's `settings` and the defaults of
/// [`PartnerizeSettings`].
pub async fn start(settings: Settings) -> Result<RunningEmulator<Account>, Error> {
    start_with(PartnerizeSettings::from(settings)).await
}

/// Starts the emulator: seeded, on a free port unless the settings name
/// one. The running emulator's `api_key` is the user API key; the
/// application key is [`Account::application_key`].
pub async fn start_with(config: PartnerizeSettings) -> Result<RunningEmulator<Account>, Error> {
    let settings = &config.settings;
    let app = EmulatorApp::<PartnerizeApi>::bind(settings).await?;
    let api_key = settings.api_key.clone().unwrap_or_else(|| seed::hex(&mut seed::record_rng(settings.seed, 0, 0), 32));
    let application_key = seed::hex(&mut seed::record_rng(settings.seed, 0, 1), 24);
    let store = seeding::store(settings.seed, settings.records);
    let seeded = store.counts();
    let account = Account {
        inner: Arc::new(Inner {
            store: RwLock::new(store),
            application_key: application_key.clone(),
            job_delay: config.job_delay,
            seeded: seeded.clone(),
        }),
    };
    let keys = gate::Gate::new(&application_key, &api_key, config.bucket);
    let api = routes::api(account.clone(), keys);
    let counts = account.clone();
    let control: Router = Router::new()
        .route("/seeded", get(move || async move { Json(seeded) }))
        .route("/counts", get(move || async move { Json(counts.settled().counts()) }));
    Ok(app.control(control).serve(api_key, account, api))
}
