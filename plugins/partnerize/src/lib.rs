//! The `partnerize` plugin (affiliate): a Partnerize network and brand as
//! a source and a destination of partners, campaigns, tracking links,
//! voucher codes, conversions and commissions, and as a source of clicks
//! and self-bills, over Partnerize's v1, v2 and v3 APIs.
//!
//! | stream | type | entity | read | write |
//! |---|---|---|---|---|
//! | `partners` | `Partners` | partner | v1 network list, tiers from commission groups, payment details | v1 create + update, upsert on `reporting_identifier` = `{platform}:{id}` (the previous id also in `foreign_identifier`); tier → commission group; payout → payment details |
//! | `programs` | `Programs` | program | v3 campaigns | v1 create, v3 PATCH; upsert on the title |
//! | `tracking_links` | `TrackingLinks` (per partner) | tracking link | v2 links | v2 create/PATCH; upsert on the link's description `{platform}:{id}`; the partner is approved on the campaign first |
//! | `coupon_codes` | `CouponCodes` (per campaign) | coupon code | v1 voucher codes | v1 POST/PUT; upsert on the code |
//! | `clicks` | `Clicks` (per campaign) | click | v1 click report | **source only**: Partnerize records clicks only when people follow `prf.hn` links; no API imports a click |
//! | `conversions` | `Conversions` (per campaign) | conversion | v1 conversion report, cursor mode | untracked transaction queries (the documented way to add a sale Partnerize did not track), decided by the brand, then v3 bulk updates (jobs) for later status and value changes; upsert on the order id |
//! | `commissions` | `Commissions` (per campaign) | commission (one per conversion item) | the conversion report's items | the amount through an incorrect-commission transaction query, the status through the v3 bulk update of items |
//! | `payouts` | `Payouts` (per partner) | payout | v1 self-bills | **source only**: Partnerize makes self-bills itself from approved commissions on its payment runs; no API imports a payment |
//!
//! What Partnerize does not keep: a partner's parent (it has no second
//! tier or multi-level commission), custom fields (no API stores them), a
//! commission level other than 1, a conversion's click (a sale added by
//! transaction query has none), the old platform's link URL (Partnerize
//! makes its own `prf.hn` link), a coupon's discount, times to the
//! sub-second. Each is declared in `tests/conformance.rs`.
//!
//! Not here: HTTP plumbing (auth, the account's limiter, retries, paging,
//! resumable reads are `cutover-http`'s) and stream plumbing (dispatch,
//! typed cursors, walking parents are the SDK's). Start at
//! [`PartnerizePlugin`] and `streams/`; `mapping.rs` holds every field and
//! status translation, `client.rs` every endpoint. The vendor facts followed
//! are `shared/platforms/partnerize.md`.

mod client;
mod config;
mod mapping;
mod streams;

pub use config::{DEFAULT_BASE_URL, NewPartners, PartnerizeConfig};

use client::Api;
use cutover_http::PagedReader;
use cutover_sdk::prelude::*;
use std::collections::HashMap;

/// The name operators write in `cutover.toml`, and the `source_platform` of
/// every record this plugin reads.
pub const NAME: &str = "partnerize";

const SUMMARY: &str = "Partnerize partners, campaigns, links, voucher codes, conversions and commissions (both ways); \
    clicks and self-bills as a source only: Partnerize cannot import them";

/// An opened `partnerize` plugin: one network and brand, and what its
/// streams keep between batches.
pub struct PartnerizePlugin {
    api: Api,
    context: Context,
    config: PartnerizeConfig,
    /// The last page read, so batches smaller than a page fetch it once.
    pages: PagedReader,
    /// Each partner's tier (its first commission group's name), once a
    /// partner read loaded the groups.
    tiers: Option<HashMap<String, String>>,
    /// The streams, for callers that read and write this instance
    /// in-process (its tests); the SDK keeps its own for the host.
    local_streams: Option<Streams<PartnerizePlugin>>,
}

impl Plugin for PartnerizePlugin {
    type Config = PartnerizeConfig;

    fn describe() -> Description {
        Description::new(NAME, env!("CARGO_PKG_VERSION"), PluginKind::Affiliate, SUMMARY)
    }

    fn streams() -> Streams<Self> {
        Streams::new()
            .stream::<streams::partners::Partners>()
            .stream::<streams::programs::Programs>()
            .children::<streams::links::TrackingLinks>()
            .children::<streams::coupons::CouponCodes>()
            .children::<streams::clicks::Clicks>()
            .children::<streams::conversions::Conversions>()
            .children::<streams::commissions::Commissions>()
            .children::<streams::payouts::Payouts>()
    }

    fn open(config: PartnerizeConfig, context: &Context) -> Result<Self, PluginError> {
        for (field, value) in [("network_id", &config.network_id), ("advertiser_id", &config.advertiser_id)] {
            if value.trim().is_empty() {
                return Err(PluginError::new(
                    ErrorCode::Config,
                    format!("plugin `partnerize`: field `{field}` is empty"),
                )
                .with_help("copy the id from the Partnerize console (e.g. `1l1000003`)"));
            }
        }
        let api = Api::new(&config).map_err(|error| {
            PluginError::from(error).with_help("set `base_url` to the API's root, e.g. https://api.partnerize.com")
        })?;
        Ok(PartnerizePlugin {
            api,
            context: context.clone(),
            config,
            pages: PagedReader::new(),
            tiers: None,
            local_streams: None,
        })
    }

    fn check(&mut self) -> Result<CheckReport, PluginError> {
        let partners = self.context.block_on(self.api.count_partners())?;
        let campaigns = self.context.block_on(self.api.count_campaigns())?;
        let item = |name: &str, answer: Result<u64, cutover_http::HttpError>, what: &str| match answer {
            Ok(count) => CheckItem { name: name.into(), ok: true, detail: Some(format!("{count} {what}")) },
            Err(error) => {
                CheckItem { name: name.into(), ok: false, detail: Some(format!("{error}; {}", error.help())) }
            }
        };
        Ok(CheckReport {
            checks: vec![
                item("the keys open the network's partners", partners, "partners"),
                item("the keys open the brand's campaigns", campaigns, "campaigns"),
            ],
        })
    }
}

/// Read in-process, the instance goes through its registered streams as
/// the SDK dispatches the host's reads.
impl Source for PartnerizePlugin {
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        let mut streams = self.local_streams.take().unwrap_or_else(PartnerizePlugin::streams);
        let batch = streams.read(self, stream, cursor, max_records);
        self.local_streams = Some(streams);
        batch
    }
}

/// Written in-process, the instance goes through its registered streams.
impl Destination for PartnerizePlugin {
    fn write(&mut self, stream: &str, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let mut streams = self.local_streams.take().unwrap_or_else(PartnerizePlugin::streams);
        let outcomes = streams.write(self, stream, records);
        self.local_streams = Some(streams);
        outcomes
    }
}

cutover_sdk::export_plugin!(PartnerizePlugin);
