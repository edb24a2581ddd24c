//! The Klaviyo emulator: profiles with custom properties and consent,
//! lists and memberships, subscribe / unsubscribe / suppress and bulk import
//! jobs, events and metrics, under `/api/`, as JSON:API documents.
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

mod errors;
mod events_bulk;
mod filter;
mod jobs;
mod model;
mod routes;
mod seed;
mod state;
mod write;

pub use model::{Consent, Profile, Suppression};
pub use state::KlaviyoState;

pub(crate) use errors::{server_error, throttled};
pub(crate) use routes::{page_index, router};
