//! The `impact` plugin (affiliate): impact.com's Brand (Advertiser) API,
//! as a source and a destination.
//!
//! Streams (`streams/mod.rs` has the table): `partners` (both; revenue
//! tiers are partner groups, the second-tier parent is kept in `MPValue2`
//! and the previous platform's id in `MPValue1`, the upsert key),
//! `programs` (source: campaigns are read-only in the API),
//! `tracking_links` (source: unique URLs), `coupon_codes` (both: promo
//! codes), `clicks` (source: impact.com cannot import historic clicks; read
//! through daily `ClickExport` jobs), `conversions` (both: actions, written
//! through the Conversions API with the partner forced), `commissions`
//! (source: actions' payouts, which impact.com computes), `payouts`
//! (source: invoices). What cannot be written is refused with its reason,
//! never dropped; partners' payout details are theirs in impact.com and
//! never read, sent or logged.
//!
//! Not here: anything the SDK and the HTTP toolkit already do (config
//! parsing and its errors, dispatch by stream, cursors, parent walking,
//! resuming inside a page, rejects with their location, Basic auth, the
//! account's hourly budget and `X-RateLimit-*`, retries, catching panics,
//! the boundary encoding). The emulator it is tested against is
//! `tests/emulators/impact` (crate `cutover-emulator-impact`).
//!
//! Start at [`ImpactPlugin`], then `client.rs`, `mapping.rs` and
//! `streams/`.

mod client;
mod config;
mod mapping;
mod streams;

pub use config::{ImpactConfig, PartnerDefaults};

use std::collections::HashMap;

use client::ImpactClient;
use cutover_http::{PagedReader, Request};
use cutover_sdk::prelude::*;

/// The name operators write in `cutover.toml`, and the `source_platform` of
/// every record this plugin reads.
pub const NAME: &str = "impact";

/// An opened `impact` plugin: one brand account.
pub struct ImpactPlugin {
    client: ImpactClient,
    config: ImpactConfig,
    /// The way into the plugin's async runtime, for calls outside streams.
    context: Context,
    /// Each stream's page cache, kept across batches.
    readers: HashMap<&'static str, PagedReader>,
    /// Each partner's tier (partner group name), loaded with a read.
    tiers: Option<HashMap<String, String>>,
    /// Clicks downloaded, by program and day.
    clicks: HashMap<streams::clicks::Day, Vec<serde_json::Value>>,
}

impl Plugin for ImpactPlugin {
    type Config = ImpactConfig;

    fn describe() -> Description {
        Description::new(
            NAME,
            env!("CARGO_PKG_VERSION"),
            PluginKind::Affiliate,
            "impact.com Brand API: partners, promo codes and conversions read and written; programs, unique URLs, \
             clicks (no API imports historic clicks), commissions and invoices (payouts) read only",
        )
    }

    fn streams() -> Streams<Self> {
        Streams::new()
            .stream::<streams::partners::Partners>()
            .stream::<streams::simple::Programs>()
            .stream::<streams::simple::TrackingLinks>()
            .stream::<streams::coupon_codes::CouponCodes>()
            .children::<streams::clicks::Clicks>()
            .children::<streams::actions::Conversions>()
            .children::<streams::actions::Commissions>()
            .stream::<streams::simple::Payouts>()
    }

    fn open(config: ImpactConfig, context: &Context) -> Result<Self, PluginError> {
        let client = ImpactClient::new(&config).map_err(|error| {
            PluginError::from(error).with_help("set `base_url` to the API's root, e.g. https://api.impact.com")
        })?;
        Ok(ImpactPlugin {
            client,
            config,
            context: context.clone(),
            readers: HashMap::new(),
            tiers: None,
            clicks: HashMap::new(),
        })
    }

    fn check(&mut self) -> Result<CheckReport, PluginError> {
        let answer = self.context.block_on(self.client.get(Request::get("CompanyInformation")))?;
        let item = match answer {
            Ok(company) => CheckItem {
                name: "the API accepts the Account SID and Auth Token".into(),
                ok: true,
                detail: company["CompanyName"].as_str().map(|name| format!("brand account of {name}")),
            },
            Err(error) => CheckItem {
                name: "the API accepts the Account SID and Auth Token".into(),
                ok: false,
                detail: Some(format!("{error}; {}", error.help())),
            },
        };
        Ok(CheckReport { checks: vec![item] })
    }
}

cutover_sdk::export_plugin!(ImpactPlugin);
