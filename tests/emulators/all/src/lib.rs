//! In-memory emulators of the vendor APIs cutover's ESP plugins talk to:
//! Mailchimp Marketing API 3.0 and Klaviyo's dated-revision JSON:API. This
//! crate is the facade plugin tests and end-to-end tests use: one
//! [`Emulator::start`] for every vendor, one [`EmulatorConfig`], and the
//! `cutover-emulator` binary.
//!
//! Not here: the emulators themselves. Each vendor is its own crate on the
//! emulator kit: `cutover-emulator-mailchimp` and `cutover-emulator-klaviyo`
//! (routes, models, quirks), and `cutover-emulator-kit` (the server, auth
//! schemes, paging styles, rate limits, faults, seeded stores, error
//! bodies, `/__emulator` control). Nor anything a plugin links against:
//! plugins and end-to-end tests talk to an emulator over HTTP, exactly as
//! they would to the vendor. The kit knows no vendor, the vendors know no
//! facade.
//!
//! impact.com's Brand API (`cutover-emulator-impact`) is served beside
//! them through [`Emulator::start_impact`], which returns the kit's handle
//! with an [`ImpactState`] (Account SID, tokens, store): it is started on
//! its own entry point so that [`Platform`] and [`EmulatorState`] keep the
//! variants they had.
//!
//! Start at [`Emulator::start`]; it binds `127.0.0.1:0`, serves from a tokio
//! task and hands back a [`RunningEmulator`] with the base URL, the API key to
//! use, a handle on the faults ([`FaultConfig`]) and a handle on the state
//! ([`MailchimpState`] or [`KlaviyoState`]). The `cutover-emulator` binary
//! serves the same emulators from the command line.
//!
//! What the emulators follow is `shared/platforms/{mailchimp,klaviyo}.md`:
//! endpoints, limits, status codes and error bodies marked confirmed there.
//! Where those notes mark a fact unconfirmed, the emulator makes a choice and
//! the vendor crate's docs say so.
//!
//! Data is seeded from `(seed, records)` and is the same for the same pair.
//! Everything written through the API is kept and can be read back through
//! the API or through the state handle.
//!
//! Faults ([`FaultConfig`]): a fraction of 429s or a storm of N, a fraction
//! of 500/503s, added latency, dropped connections (closed without an
//! answer), and a page that fails once. They are set in
//! [`EmulatorConfig::faults`], changed with [`RunningEmulator::set_faults`],
//! or over HTTP with `GET`/`POST /__emulator/faults` (JSON, no auth). Random
//! faults draw from the seed. Rate limits are the documented ones unless
//! [`EmulatorConfig`] lowers them: Mailchimp's simultaneous-connection cap,
//! Klaviyo's burst and steady windows per endpoint with `RateLimit-*` and
//! `Retry-After` headers.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cutover_emulators::Error> {
//! use cutover_emulators::{Emulator, EmulatorConfig, FaultConfig, Platform};
//!
//! let emulator = Emulator::start(Platform::Mailchimp, EmulatorConfig::new(7, 500)).await?;
//! let url = format!("{}/3.0/ping", emulator.base_url);
//! // ... call `url` with basic auth `anystring:{emulator.api_key}` ...
//! emulator.set_faults(FaultConfig { burst_429: 3, ..FaultConfig::default() });
//! let members = emulator.mailchimp().map(|state| state.member_count());
//! emulator.shutdown().await;
//! # let _ = (url, members);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod config;
mod error;
mod server;

pub use config::{EmulatorConfig, Platform};
pub use cutover_emulator_impact::{ImpactConfig, ImpactState};
pub use cutover_emulator_kit::FaultConfig;
pub use cutover_emulator_klaviyo::{KlaviyoRateLimit, KlaviyoState};
pub use cutover_emulator_mailchimp::MailchimpState;
pub use error::Error;
pub use server::{Emulator, EmulatorState, RunningEmulator};

/// The Mailchimp emulator's state and the types it hands out.
pub mod mailchimp {
    pub use cutover_emulator_mailchimp::{
        CampaignActivity, ListSummary, MailchimpState, MarketingPermission, Member, Status,
    };
}

/// The impact.com emulator's state, configuration and store.
pub mod impact {
    pub use cutover_emulator_impact::{API_ROOT, Campaign, ImpactConfig, ImpactState, Store};
}

/// The Klaviyo emulator's state and the types it hands out.
pub mod klaviyo {
    pub use cutover_emulator_klaviyo::{Consent, KlaviyoState, Profile, Suppression};
}
