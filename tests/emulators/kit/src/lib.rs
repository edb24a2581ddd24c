//! The emulator kit: what every vendor emulator in cutover's tests shares,
//! so that a vendor emulator is only its routes, models and quirks.
//!
//! - auth schemes ([`auth`]): Basic with any user, a key in a header behind
//!   a prefix (`Bearer`, `OAuth`, `Klaviyo-API-Key`), as a layer;
//! - paging styles ([`paging`]): offset/count with a total, page number,
//!   JSON:API cursor links, each with its never-ending variant;
//! - rate limits with their headers ([`ratelimit`]): a cap on requests in
//!   flight, and burst/steady windows with `RateLimit-*` and `Retry-After`;
//! - fault knobs ([`FaultConfig`]): 429s and 5xx (random or in a storm),
//!   latency, dropped connections, a page that fails once, a huge body, an
//!   absurd `Retry-After`, paging that never ends;
//! - seeded deterministic stores ([`seed`], [`people`], [`store`]);
//! - error bodies ([`ErrorBody`], [`error_body`]): problem+json and JSON:API
//!   `errors[]`;
//! - the `/__emulator` control routes (`GET`/`POST /__emulator/faults`, and
//!   the vendor's own under `/__emulator/<vendor>/`) and the server
//!   ([`EmulatorApp`]), which binds `127.0.0.1:0` and returns a
//!   [`RunningEmulator`] (base URL, API key, faults, state, shutdown).
//!
//! Not here: any vendor. The vendors are `cutover-emulator-mailchimp` and
//! `cutover-emulator-klaviyo` (read either as a worked example), and
//! `cutover-emulators` is the facade plugins and end-to-end tests use. The
//! kit depends on no vendor; vendors depend on the kit; the facade on both.
//! These are test doubles: nothing of cutover's product depends on them.
//!
//! Start at [`EmulatorApp`] and [`Vendor`]. A new vendor emulator is a unit
//! struct implementing [`Vendor`] and [`ErrorBody`], a store seeded from
//! [`Settings`], routes, and a `start` function:
//!
//! ```no_run
//! use std::sync::{Arc, RwLock};
//!
//! use axum::extract::State;
//! use axum::http::{StatusCode, Uri};
//! use axum::response::{IntoResponse, Response};
//! use axum::routing::get;
//! use axum::{Json, Router, middleware};
//! use cutover_emulator_kit::auth::{ApiKey, Scheme, require_key};
//! use cutover_emulator_kit::paging::{OffsetCount, endless_offset_pages};
//! use cutover_emulator_kit::query::Params;
//! use cutover_emulator_kit::{AuthFailure, EmulatorApp, Error, ErrorBody, RunningEmulator, Settings, Vendor};
//! use cutover_emulator_kit::{people, seed, store};
//! use serde_json::json;
//!
//! /// The vendor: its name, its paging style and its error bodies.
//! struct Acme;
//!
//! const PAGING: OffsetCount = OffsetCount { default_count: 10, max_count: 100 };
//!
//! impl Vendor for Acme {
//!     const NAME: &'static str = "acme";
//!     fn page_index(uri: &Uri) -> Option<u64> {
//!         PAGING.page_index(uri)
//!     }
//! }
//!
//! impl ErrorBody for Acme {
//!     fn unauthorized(_: AuthFailure) -> Response {
//!         (StatusCode::UNAUTHORIZED, Json(json!({"error": "unauthorized"}))).into_response()
//!     }
//!     fn too_many_requests(retry_after: Option<u64>) -> Response {
//!         let wait = retry_after.unwrap_or(1).to_string();
//!         (StatusCode::TOO_MANY_REQUESTS, [("retry-after", wait)], Json(json!({"error": "slow down"}))).into_response()
//!     }
//!     fn server_error(status: u16) -> Response {
//!         let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
//!         (status, Json(json!({"error": "oops"}))).into_response()
//!     }
//! }
//!
//! /// Its model: contacts' addresses, seeded.
//! type Contacts = Arc<RwLock<Vec<String>>>;
//!
//! fn seeded(settings: &Settings) -> Contacts {
//!     let emails = (0..settings.records).map(|index| {
//!         let mut rng = seed::record_rng(settings.seed, 1, index as u64);
//!         people::person(&mut rng, index, settings.invalid_email_fraction).email
//!     });
//!     Arc::new(RwLock::new(emails.collect()))
//! }
//!
//! /// Its routes.
//! async fn list_contacts(State(contacts): State<Contacts>, uri: Uri) -> Response {
//!     let Ok((offset, count)) = PAGING.parse(&Params::from_uri(&uri)) else {
//!         return StatusCode::BAD_REQUEST.into_response();
//!     };
//!     let contacts = store::read(&contacts);
//!     let (page, total) = PAGING.page(contacts.iter(), offset, count);
//!     Json(json!({"contacts": page, "total_items": total})).into_response()
//! }
//!
//! /// Started on the kit.
//! async fn start(settings: Settings) -> Result<RunningEmulator<Contacts>, Error> {
//!     let app = EmulatorApp::<Acme>::bind(&settings).await?;
//!     let key = settings.api_key.clone().unwrap_or_else(|| seed::hex(&mut seed::record_rng(settings.seed, 0, 0), 32));
//!     let contacts = seeded(&settings);
//!     let api = Router::new()
//!         .route("/v1/contacts", get(list_contacts))
//!         .layer(middleware::from_fn_with_state(ApiKey::new(key.as_str(), [Scheme::Token("Bearer")]), require_key::<Acme>))
//!         .layer(middleware::from_fn(endless_offset_pages::<Acme>))
//!         .with_state(Arc::clone(&contacts));
//!     let seeded_count = store::read(&contacts).len();
//!     let control = Router::new().route("/seeded", get(move || async move { Json(json!({"contacts": seeded_count})) }));
//!     Ok(app.control(control).serve(key, contacts, api))
//! }
//! ```
//!
//! The kit's own tests (`tests/acme/`) run a vendor like this one through
//! every fault.

#![warn(missing_docs)]

mod app;
pub mod auth;
mod error;
pub mod error_body;
mod faults;
pub mod paging;
pub mod people;
pub mod query;
pub mod ratelimit;
pub mod seed;
mod settings;
pub mod store;

pub use app::{EmulatorApp, RunningEmulator, Vendor};
pub use error::Error;
pub use error_body::{AuthFailure, ErrorBody};
pub use faults::{FaultConfig, PagingLoop};
pub use settings::Settings;
