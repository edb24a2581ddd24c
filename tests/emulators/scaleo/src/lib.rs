//! An in-memory emulator of Scaleo's network API v2 on the emulator kit
//! (`cutover-emulator-kit`): a seeded affiliate network (affiliates in
//! three revenue tiers with their sponsors, offers with goals and landing
//! pages, offer access with its tracking links, promo codes, clicks,
//! conversions in every status and several currencies, and invoices),
//! under `/api/v2/`, from `shared/platforms/scaleo.md`.
//!
//! Not here: the machinery every emulator shares (the server, faults,
//! rate-limit windows, the `api-key` query parameter reader, Yii2 paging
//! headers, seeding helpers), which is the kit's; nor a facade or binary.
//! This crate is Scaleo's routes, models and quirks.
//!
//! Start at [`start`]: it seeds a [`ScaleoState`] from a [`ScaleoConfig`],
//! serves it on 127.0.0.1 and returns the kit's [`RunningEmulator`]. Then
//! `vendor` (the envelope and what the kit knows of Scaleo), `gate` (key,
//! role and rate limit), `routes` (affiliates, offers, access, promo
//! codes), `reports` (clicks, conversions and their writes), `billing`
//! (invoices), `query` (paging, sorting, filters), `body` (write
//! validation), `model` and `seed`. Modules depend downwards only.
//!
//! What it does as Scaleo documents it:
//! - **Auth**: `?api-key=<40 hex>` on every request, POST and PUT included
//!   (bodies are JSON); a missing or wrong key is 401, a key of the
//!   affiliate role on `/api/v2/network/...` (or the network key on
//!   `/api/v2/affiliate/...`) is 403, a user whose `api_status` is 2 is 401.
//! - **Envelope**: `{"status","code","name","message","info"}` on every
//!   answer, errors included; a 422 lists `info.errors` (field → messages).
//! - **Paging**: `page` and `perPage` (default 10, at most 1000: more is cut
//!   to 1000), the metadata only in `X-Pagination-Current-Page`,
//!   `-Page-Count`, `-Per-Page` and `-Total-Count`; as Yii2 does, a page
//!   past the last answers the last page again. `sortField` /
//!   `sortDirection`; filters `field=value`, `field[]=a`, `field_from`,
//!   `field_to`, `q`; an unknown filter or sort field is a 400.
//! - **Values**: ids are integers (conversions: UUIDs, clicks: 32 hex);
//!   money is written with four decimals (`"12.5000"`); times ISO 8601 UTC
//!   to the second on resources, Unix seconds in report rows and on landing
//!   pages; absent optional fields are `null`, empty lists `[]`; in a write
//!   `null` clears a field and a key left out leaves it. `contacts` and
//!   `payment_details` are JSON held in a string. Statuses: affiliates 1
//!   active, 2 disabled, 3 pending, 4 rejected; offers 1 testing, 3 live,
//!   4 inactive; conversions `approved`, `pending`, `hold`, `rejected`,
//!   `trash` (writes also take the legacy 2, 3, 4); invoices `draft`,
//!   `unpaid`, `paid`, `canceled`.
//! - **Clicks** are only read (the reports); nothing creates one.
//!
//! Choices where the facts file marks a fact unconfirmed \[NC\]: tiers are
//! tags (`tier:gold`); `tags` and `external_id` are the affiliate's keys
//! for tags and an outside identifier, and offers take an `external_id`
//! too; the write-only switches are `send_welcome_email` and
//! `send_verification_email` (1/2); offers are created and changed at
//! `/api/v2/network/offers[/{id}]` with their `goals` (matched by `alias`
//! on a change); landing pages are added at `/offers/{id}/links`; an
//! affiliate's access to an offer (and its tracking link,
//! `https://nordlight.scaletrk.com/click?o=&a=[&link_id=]`) lives at
//! `/offers/{id}/affiliates-access`, upserted on offer, affiliate and
//! landing page; promo codes at `/api/v2/network/promo-codes`, unique
//! across the network; reports of the network role at
//! `/api/v2/network/reports/{clicks,conversions}`, rows naming the
//! affiliate, offer, goal and landing page as `{id, title|name}` and
//! carrying `invoice_id` and `advertiser_track_id`; conversions are created
//! at `/api/v2/network/tracking/conversion` with their time in `date`;
//! invoices are read and changed one by one at `.../invoices/{id}` and
//! record `paid_at`; the rate limit is a bucket per key (20 a second, 1200
//! a minute by default) answered 429 with `Retry-After`.
//!
//! `GET /__emulator/scaleo/seeded` (no key) answers the counts per resource
//! and status, for checks that must not ask the API what it holds.
//!
//! No fidelity suite yet: the only client library found
//! (`jakuborava/scaleo-io-client`, PHP on Packagist) is for the affiliate
//! role and is not on a registry the suite installs from.

#![warn(missing_docs)]

mod billing;
mod body;
mod gate;
mod model;
mod query;
mod reports;
mod routes;
mod seed;
mod state;
mod vendor;

use cutover_emulator_kit::EmulatorApp;
use cutover_emulator_kit::ratelimit::Tier;

pub use cutover_emulator_kit::{Error, FaultConfig, RunningEmulator, Settings};
pub use gate::KEY_PARAMETER;
pub use model::{
    Access, Affiliate, CONVERSION_STATUSES, Click, Conversion, Goal, Invoice, LandingPage, Offer, PAYMENT_METHODS,
    PayoutType, PromoCode, TRACKING_DOMAIN, goal_type_name, money, tracking_link,
};
pub use state::ScaleoState;
pub use vendor::Scaleo;

/// Where the API is served: `{base_url}/api/v2/`.
pub const API_ROOT: &str = "/api/v2/";

/// The rate limit per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleoRateLimit {
    /// Requests allowed in a 1-second window.
    pub burst_per_second: u32,
    /// Requests allowed in a 1-minute window.
    pub steady_per_minute: u32,
}

impl Default for ScaleoRateLimit {
    fn default() -> ScaleoRateLimit {
        ScaleoRateLimit { burst_per_second: 20, steady_per_minute: 1200 }
    }
}

/// How a Scaleo emulator is started.
#[derive(Debug, Clone)]
pub struct ScaleoConfig {
    /// Seed, records (affiliates), port, key (40 hex derived from the seed
    /// when `None`), the fraction of broken addresses among the seeded
    /// affiliates (an old import) and faults.
    pub settings: Settings,
    /// The rate limit per key.
    pub rate_limit: ScaleoRateLimit,
}

impl ScaleoConfig {
    /// `records` affiliates seeded from `seed`, the default rate limit, no
    /// faults, 1 % broken addresses.
    pub fn new(seed: u64, records: usize) -> ScaleoConfig {
        ScaleoConfig { settings: Settings::new(seed, records), rate_limit: ScaleoRateLimit::default() }
    }
}

/// Seeds the state from `config`, binds 127.0.0.1 on its port (0 picks a
/// free one) and serves from a tokio task.
pub async fn start(config: ScaleoConfig) -> Result<RunningEmulator<ScaleoState>, Error> {
    let app = EmulatorApp::<Scaleo>::bind(&config.settings).await?;
    let state = ScaleoState::seeded(&config.settings);
    let tier = Tier { burst: config.rate_limit.burst_per_second, steady: config.rate_limit.steady_per_minute };
    let (api, control) = routes::router(state.clone(), tier);
    Ok(app.control(control).serve(state.api_key(), state, api))
}
