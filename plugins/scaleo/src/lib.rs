//! The `scaleo` plugin (affiliate): a Scaleo network, through its API v2
//! (`/api/v2/network/...` on the network's own host, the key in the
//! `api-key` query parameter), as a source and a destination of partners,
//! offers, tracking links, promo codes, conversions and invoices, and as a
//! source of clicks and commissions.
//!
//! Not here: HTTP plumbing (auth, the account's rate limiter, retries,
//! Yii2 paging in headers, resumable paged reads are `cutover-http`'s),
//! stream plumbing (dispatch by name, typed cursors, walking each offer's
//! access are the SDK's), and what Scaleo has beyond the canonical
//! entities: advertisers, creatives, postbacks, webhooks, billing
//! preferences.
//!
//! Start at [`ScaleoPlugin`] and its [`Plugin::streams`]: each stream is a
//! type in `streams/<stream>.rs` with its read (a request, a paginator and
//! a mapping) and its write (an upsert on a key Scaleo holds); `mapping/`
//! turns Scaleo's resources into canonical records and back; `client.rs`
//! unwraps Scaleo's envelope and pages its lists and reports; `values.rs`
//! reads its ids, amounts, currencies and times. The vendor facts followed
//! are `shared/platforms/scaleo.md`.
//!
//! | stream | entity | read | write (upsert on) |
//! |---|---|---|---|
//! | `programs` | program | `GET /network/offers` | `external_id`, then a unique title |
//! | `partners` | partner | `GET /network/affiliates` | `external_id`, then the email |
//! | `tracking_links` | tracking link | each offer's `affiliates-access` | offer, affiliate, landing page |
//! | `coupon_codes` | coupon code | `GET /network/promo-codes` | the code |
//! | `clicks` | click | clicks report | — (Scaleo's tracker makes clicks) |
//! | `conversions` | conversion | conversions report | `adv_track_id`, then order id, affiliate and offer |
//! | `commissions` | commission | derived from the conversions report | — (Scaleo computes them) |
//! | `payouts` | payout | `GET /network/aff-billing/invoices` | the key in `internal_notes` |

mod client;
mod config;
mod mapping;
mod streams;
mod values;

pub use config::{RateLimit, ScaleoConfig};

use client::ScaleoClient;
use cutover_http::PagedReader;
use cutover_sdk::RateLimitProfile;
use cutover_sdk::prelude::*;
use std::collections::HashMap;
use streams::clicks::{AccessIndex, Clicks};
use streams::commissions::{Commissions, Referrals};
use streams::conversions::Conversions;
use streams::coupon_codes::CouponCodes;
use streams::partners::Partners;
use streams::payouts::Payouts;
use streams::programs::Programs;
use streams::tracking_links::TrackingLinks;

/// The name operators write in `cutover.toml`, and the `source_platform` of
/// every record this plugin reads.
pub const NAME: &str = "scaleo";

/// An opened `scaleo` plugin: one network, and what its streams keep
/// between batches.
pub struct ScaleoPlugin {
    client: ScaleoClient,
    /// The way into the plugin's async runtime, for calls outside streams.
    context: Context,
    /// The page being read, kept across batches.
    pages: PagedReader,
    tier_prefix: String,
    fallback_offer: Option<u64>,
    /// Each offer's landing pages, `(id, url)`, while its links are read.
    landing_pages: HashMap<u64, Vec<(u64, String)>>,
    /// Each offer's default goal, for conversion writes.
    offer_goals: HashMap<u64, Option<u64>>,
    /// Accesses by offer, affiliate and landing page, for clicks.
    access_index: Option<AccessIndex>,
    /// Sponsors and paid invoices, for commissions.
    referrals: Option<Referrals>,
}

impl Plugin for ScaleoPlugin {
    type Config = ScaleoConfig;

    fn describe() -> Description {
        Description::new(
            NAME,
            env!("CARGO_PKG_VERSION"),
            PluginKind::Affiliate,
            "a Scaleo network: partners, offers, tracking links, promo codes, conversions and invoices both ways; \
             clicks and commissions read only (Scaleo's tracker makes clicks and Scaleo computes commissions, \
             neither can be written)",
        )
        // Scaleo publishes no limit; the plugin keeps to 10 a second by
        // default (see the config's `rate_limit`).
        .rate_limit(RateLimitProfile { requests_per_second: 10, max_concurrency: Some(4), max_batch: None })
    }

    fn streams() -> Streams<Self> {
        Streams::new()
            .stream::<Programs>()
            .stream::<Partners>()
            .children::<TrackingLinks>()
            .stream::<CouponCodes>()
            .stream::<Clicks>()
            .stream::<Conversions>()
            .stream::<Commissions>()
            .stream::<Payouts>()
    }

    fn open(config: ScaleoConfig, context: &Context) -> Result<Self, PluginError> {
        let client = ScaleoClient::new(&config).map_err(|error| {
            PluginError::from(error)
                .with_help("set `base_url` to the network's own host, e.g. https://yournetwork.scaletrk.com")
        })?;
        Ok(ScaleoPlugin {
            client,
            context: context.clone(),
            pages: PagedReader::new(),
            tier_prefix: config.tier_prefix().to_owned(),
            fallback_offer: config.fallback_offer_id,
            landing_pages: HashMap::new(),
            offer_goals: HashMap::new(),
            access_index: None,
            referrals: None,
        })
    }

    fn check(&mut self) -> Result<CheckReport, PluginError> {
        let offers = self.client.list("network/offers", "offers", &[]);
        let answer = self.context.block_on(self.client.total(offers))?;
        let item = match answer {
            Ok(offers) => CheckItem {
                name: "the network API accepts the key".into(),
                ok: true,
                detail: Some(format!("{} offers", offers.unwrap_or_default())),
            },
            Err(error) => CheckItem {
                name: "the network API accepts the key".into(),
                ok: false,
                detail: Some(format!("{error}; {}", error.help())),
            },
        };
        Ok(CheckReport { checks: vec![item] })
    }
}

cutover_sdk::export_plugin!(ScaleoPlugin);
