//! An in-memory emulator of Klaviyo's dated-revision JSON:API on the
//! emulator kit (`cutover-emulator-kit`): profiles with custom properties
//! and consent, lists and memberships, subscribe / unsubscribe / suppress
//! and bulk import jobs, events and metrics, under `/api/`, as JSON:API
//! documents, with the documented rate-limit tiers.
//!
//! Not here: the machinery every emulator shares (the server, faults, auth
//! schemes, cursor paging, rate-limit windows, error-body shapes, seeding
//! helpers), which is the kit's; nor the facade and the `cutover-emulator`
//! binary, which are `cutover-emulators`'. This crate is Klaviyo's routes,
//! models and quirks.
//!
//! Start at [`start`]: it seeds a [`KlaviyoState`] from a [`KlaviyoConfig`],
//! serves it on 127.0.0.1 and returns the kit's [`RunningEmulator`]. Then
//! `vendor` (what the kit knows of Klaviyo), `routes` (the router, revision
//! checks, tiers and most resources), `events`, `jobs`, `events_bulk`,
//! `write` (the profile write rules every write path shares), `filter`,
//! `model` and `seed`. Modules depend downwards only: `routes` on `jobs`,
//! `events_bulk` and `events`, which depend on `app` and `write`, never
//! back; `model` does not know `seed`.
//!
//! Choices where `shared/platforms/klaviyo.md` marks a fact unconfirmed: a
//! missing key is 401 `not_authenticated`; a missing or malformed
//! `revision` header, or a revision older than 2023-01-24 or later than
//! today, is 400 `invalid` with `source.parameter` `revision`; a bad email is
//! 400 `invalid` with detail "Invalid email address" pointing at the email
//! attribute; a bulk import body over 5 MB is 413 `payload_too_large`; event
//! ids are ULID-shaped like profile ids; metric ids are 6 characters like
//! list ids. Jobs take effect when they are submitted; a job then reports
//! `queued`, `processing` and `complete` on successive reads, so clients
//! exercise their polling. Revisions from 2026-01-15 on use the 750/min L
//! tier; revisions from 2026-07-15 on accept `page[size]` up to 1000 on
//! events (older ones return a fixed 200), 400 event property keys (300
//! before) and event times after 1990 (2000 before).
//!
//! `POST /api/event-bulk-create-jobs` (M tier) checks each event as
//! `POST /api/events` does and refuses the whole job (400, nothing stored)
//! when any part is invalid or it holds over 1,000 events or 5 MB; events
//! are kept once per (profile, metric, unique id), through an index.
//!
//! `GET /__emulator/klaviyo/seeded` (no key, no revision) answers how many
//! profiles, lists, list members, metrics, events (per metric) and
//! suppressed profiles (per reason) the store holds, for suites that check a
//! client's counts.
//!
//! Fixes from the fidelity suite (`tests/fidelity/test_klaviyo.py`: Klaviyo's
//! own Python SDK, `klaviyo-api`, parsing every answer into its models, and
//! singer-io's `tap-klaviyo`), the vendor's spec winning each time:
//! - account attributes carry the required `test_account` (boolean);
//! - `subscriptions.mobile_push.marketing` names its flag
//!   `can_receive_push_marketing` (it was `can_send`);
//! - `PATCH /api/lists/{id}` exists (renames a list or changes its opt-in
//!   process; the plugin's list writes use it, and it answered 405);
//! - profile filters accept `equals` on
//!   `subscriptions.email.marketing.suppression.reason` (tap-klaviyo's
//!   `global_exclusions` stream) and on `list_suppressions.reason` /
//!   `list_suppressions.list_id`, and comparisons on
//!   `list_suppressions.timestamp`, as the spec lists them;
//! - the events filter's `timestamp` is a number, Unix seconds, as the spec
//!   types it and tap-klaviyo sends it (`greater-or-equal(timestamp,946684800)`);
//!   ISO datetimes stay accepted there, and `datetime` takes ISO only.

#![warn(missing_docs)]

mod app;
mod errors;
mod events;
mod events_bulk;
mod filter;
mod jobs;
mod model;
mod routes;
mod seed;
mod state;
#[cfg(test)]
mod testing;
mod vendor;
mod write;

use cutover_emulator_kit::{EmulatorApp, Error, RunningEmulator, Settings};

pub use model::{Consent, Profile, Suppression};
pub use state::KlaviyoState;

/// Where the API is served: `{base_url}/api/`.
pub const API_ROOT: &str = "/api/";

/// One rate that replaces every documented Klaviyo tier, so a test can reach
/// the limit with a handful of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlaviyoRateLimit {
    /// Requests allowed in the 1-second burst window.
    pub burst_per_second: u32,
    /// Requests allowed in the 1-minute steady window.
    pub steady_per_minute: u32,
}

/// How a Klaviyo emulator is started.
#[derive(Debug, Clone)]
pub struct KlaviyoConfig {
    /// Seed, records (profiles), port, key (a `pk_<34 hex>` derived from the
    /// seed when `None`), invalid addresses (held on profiles suppressed with
    /// `INVALID_EMAIL`) and faults.
    pub settings: Settings,
    /// Replaces the documented per-endpoint tiers with one rate; `None`
    /// keeps the documented tiers.
    pub rate_limit: Option<KlaviyoRateLimit>,
}

impl KlaviyoConfig {
    /// The documented tiers, no faults, 1 % invalid addresses.
    pub fn new(seed: u64, records: usize) -> Self {
        KlaviyoConfig { settings: Settings::new(seed, records), rate_limit: None }
    }
}

/// Seeds the state from `config`, binds 127.0.0.1 on its port (0 picks a
/// free one) and serves from a tokio task.
pub async fn start(config: KlaviyoConfig) -> Result<RunningEmulator<KlaviyoState>, Error> {
    let app = EmulatorApp::<vendor::Klaviyo>::bind(&config.settings).await?;
    let state = KlaviyoState::seeded(&config.settings);
    let api_key = state.api_key();
    let (api, control) = routes::router(state.clone(), config.rate_limit, app.base_url().to_owned());
    Ok(app.control(control).serve(api_key, state, api))
}
