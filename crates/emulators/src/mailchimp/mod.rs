//! The Mailchimp Marketing API 3.0 emulator: audiences, members, merge
//! fields, tags, marketing permissions, campaigns and their reports, under
//! `/3.0/`, with basic auth and problem-details errors.
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

mod batches;
mod errors;
mod fields;
mod model;
mod reports;
mod routes;
mod seed;
mod state;
mod write;

pub use model::{MarketingPermission, Member, Status};
pub use state::{CampaignActivity, ListSummary, MailchimpState};

pub(crate) use errors::{server_error, too_many_connections};
pub(crate) use routes::{page_index, router};
