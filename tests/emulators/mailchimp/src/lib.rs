//! An in-memory emulator of the Mailchimp Marketing API 3.0 on the emulator
//! kit (`cutover-emulator-kit`): audiences, members, merge fields, tags,
//! marketing permissions, campaigns and their reports, and batches, under
//! `/3.0/`, with basic auth (or an OAuth token) and problem-details errors.
//!
//! Not here: the machinery every emulator shares (the server, faults,
//! auth schemes, offset paging, error-body shapes, seeding helpers), which
//! is the kit's; nor the facade and the `cutover-emulator` binary, which are
//! `cutover-emulators`'. This crate is Mailchimp's routes, models and quirks.
//!
//! Start at [`start`]: it seeds a [`MailchimpState`] from a
//! [`MailchimpConfig`], serves it on 127.0.0.1 and returns the kit's
//! [`RunningEmulator`]. Then `vendor` (what the kit knows of Mailchimp),
//! `routes` (the router and handlers), `write` (the member write rules every
//! write path shares), `batches`, `reports` (activity recomputed from the
//! seed), `model` and `seed`. Modules depend downwards only: `routes` on
//! `batches` on `app` on `state`/`model`, never back.
//!
//! Choices where `shared/platforms/mailchimp.md` marks a fact unconfirmed:
//! archived members are left out of a member listing unless
//! `status=archived` is asked for; a syntactically broken address gets the
//! same "looks fake or invalid" detail as a fake one; the 429 title is
//! "Too Many Requests"; `count` above 1000 is a 400 rather than a silent cap;
//! a PUT whose body address does not match the path hash is a 400
//! "Invalid Resource". `POST /batches` runs its operations when submitted;
//! the batch then reports `pending`, `started` and `finished` on successive
//! reads, and its `response_body_url` serves a gzipped tar (stored, not
//! compressed) holding one JSON file with every result.
//!
//! `GET /__emulator/mailchimp/seeded` (unauthenticated, read-only) gives
//! counts from the store, per audience (members by status, members in the
//! default listing, merge fields, tags) and per campaign (recipients,
//! email-activity items and actions, unsubscribes), so that a harness that
//! drives the emulator from outside knows what a full read returns.
//!
//! Fixes from the fidelity suite (`tests/fidelity/test_mailchimp.py`, which
//! drives the emulator with `mailchimp-marketing`, `mailchimp3` and
//! `tap-mailchimp`), where the emulator disagreed with the vendor:
//! - items of `reports/{id}/unsubscribed` and `reports/{id}/sent-to` had no
//!   `_links` (every resource carries them; tap-mailchimp deletes
//!   `item["_links"]` and stopped with a `KeyError`);
//! - a batched `GET` of a collection that names no page (no `count`, no
//!   `offset`) gave only its first 10 items; the batch schema counts "each
//!   page" of a paginated GET as an operation, so it is now read whole, one
//!   result per page under the same `operation_id`, each counted in
//!   `total_operations` (tap-mailchimp reads email activity this way and got
//!   under half of it);
//! - `Authorization: OAuth <token>` (Mailchimp's OAuth guide; what mailchimp3
//!   and tap-mailchimp send) was refused; it is accepted like `Bearer`;
//! - `GET /lists` ignored `sort_field=date_created` / `sort_dir` (an unknown
//!   `sort_field` is now a 400, as on members);
//! - `GET /lists/{id}/merge-fields` ignored the documented `required` filter.
//!
//! None of these was relied on by the mailchimp plugin.

#![warn(missing_docs)]

mod app;
mod batches;
mod errors;
mod fields;
mod model;
mod reports;
mod routes;
mod seed;
mod state;
mod vendor;
mod write;

use cutover_emulator_kit::{EmulatorApp, Error, RunningEmulator, Settings};

pub use model::{MarketingPermission, Member, Status};
pub use state::{CampaignActivity, ListSummary, MailchimpState};

/// Where the API is served: `{base_url}/3.0/`.
pub const API_ROOT: &str = "/3.0/";

/// How a Mailchimp emulator is started.
#[derive(Debug, Clone)]
pub struct MailchimpConfig {
    /// Seed, records (members, counted over all audiences), port, key (a
    /// `<32 hex>-us21` derived from the seed when `None`), invalid addresses
    /// (held by members imported long ago: the API refuses such addresses on
    /// write, so only seeding can produce them) and faults.
    pub settings: Settings,
    /// Mailchimp's cap on simultaneous connections per user (documented: 10).
    /// The emulator counts requests in flight, which is what a pooled client
    /// sees as connections.
    pub max_connections: usize,
}

impl MailchimpConfig {
    /// The documented limits, no faults, 1 % invalid addresses.
    pub fn new(seed: u64, records: usize) -> Self {
        MailchimpConfig { settings: Settings::new(seed, records), max_connections: 10 }
    }
}

/// Seeds the state from `config`, binds 127.0.0.1 on its port (0 picks a
/// free one) and serves from a tokio task.
pub async fn start(config: MailchimpConfig) -> Result<RunningEmulator<MailchimpState>, Error> {
    let app = EmulatorApp::<vendor::Mailchimp>::bind(&config.settings).await?;
    let state = MailchimpState::seeded(&config.settings);
    let api_key = state.api_key();
    let (api, control) = routes::router(state.clone(), app.base_url().to_owned());
    Ok(app.max_in_flight(config.max_connections).control(control).serve(api_key, state, api))
}
