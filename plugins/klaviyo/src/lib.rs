//! The `klaviyo` plugin: a Klaviyo account (the dated-revision JSON:API under
//! `/api/`) as a source and a destination of lists, profiles, list
//! subscriptions with consent, and events.
//!
//! Not here: HTTP plumbing (auth, rate limits, retries, paging are
//! `cutover-http`'s), and campaigns, flows, segments and webhooks, which
//! this plugin neither reads nor writes.
//!
//! Start at [`Klaviyo`]. `mapping.rs` turns Klaviyo resources into canonical
//! records and back, with the consent rules; each stream's reads and writes
//! are in `streams/<stream>.rs`; `client.rs` holds one HTTP client per
//! documented rate-limit tier. The vendor facts followed are
//! `shared/platforms/klaviyo.md`.
//!
//! | stream | entity | read | write |
//! |---|---|---|---|
//! | `lists` | list | `GET /api/lists` | by name: `POST`/`PATCH /api/lists` |
//! | `profiles` | contact | `GET /api/profiles` | `POST /api/profile-import`, compared first |
//! | `subscriptions` | membership | `GET /api/lists/{id}/profiles` with subscriptions | subscribe, unsubscribe and suppression jobs, list relationships |
//! | `events` | engagement event | `GET /api/events` + `GET /api/metrics` | `POST /api/event-bulk-create-jobs`, 1,000 a job, each with a `unique_id` |

mod client;
mod config;
mod mapping;
mod streams;

pub use config::{DEFAULT_REVISION, KlaviyoConfig};

use client::Api;
use cutover_sdk::RateLimitProfile;
use cutover_sdk::prelude::*;
use secrecy::ExposeSecret;
use std::collections::HashMap;

/// The streams this plugin offers, each with its entity.
const STREAMS: &[(&str, EntityKind)] = &[
    ("lists", EntityKind::List),
    ("profiles", EntityKind::Contact),
    ("subscriptions", EntityKind::Membership),
    ("events", EntityKind::EngagementEvent),
];

/// An opened `klaviyo` plugin: one account.
pub struct Klaviyo {
    api: Api,
    context: Context,
    revision: String,
    /// The account's lists by lowercased name, once a list write loaded them.
    lists_by_name: Option<HashMap<String, streams::lists::KnownList>>,
    /// Whether a list id exists, for membership writes.
    list_exists: HashMap<String, bool>,
    /// The account's list ids in order, between membership reads.
    list_ids: Option<Vec<String>>,
    metrics: streams::events::Metrics,
    /// What this instance wrote to `events`.
    events_written: streams::events::Written,
}

impl Plugin for Klaviyo {
    type Config = KlaviyoConfig;

    fn describe() -> Description {
        STREAMS
            .iter()
            .fold(
                Description::new(
                    "klaviyo",
                    env!("CARGO_PKG_VERSION"),
                    PluginKind::Esp,
                    "Klaviyo lists, profiles, list subscriptions with consent, and events",
                ),
                |description, (name, entity)| description.stream(name, *entity, Direction::Both),
            )
            // The L tier most of the streams' endpoints are in: 75 a second
            // in bursts, 700 a minute steady (about 11 a second).
            .rate_limit(RateLimitProfile { requests_per_second: 11, max_concurrency: None, max_batch: Some(1000) })
    }

    fn open(config: KlaviyoConfig, context: &Context) -> Result<Self, PluginError> {
        let key = config.api_key.expose_secret();
        if !key.starts_with("pk_") || key.len() < 4 {
            return Err(PluginError::new(
                ErrorCode::Config,
                "plugin `klaviyo`: field `api_key`: a private API key starts with `pk_`",
            )
            .with_help("create a private key under Settings → API keys on Klaviyo, with the scopes the streams need"));
        }
        if !config::is_revision(config.revision()) {
            return Err(PluginError::new(
                ErrorCode::Config,
                format!("plugin `klaviyo`: field `revision`: `{}` is not YYYY-MM-DD", config.revision()),
            ));
        }
        Ok(Klaviyo {
            api: Api::new(&config)?,
            context: context.clone(),
            revision: config.revision().to_owned(),
            lists_by_name: None,
            list_exists: HashMap::new(),
            list_ids: None,
            metrics: streams::events::Metrics::default(),
            events_written: streams::events::Written::default(),
        })
    }

    fn check(&mut self) -> Result<CheckReport, PluginError> {
        let answer = self.context.block_on(self.api.account())?;
        let item = match answer {
            Ok(_) => CheckItem { name: "credentials and revision".into(), ok: true, detail: None },
            Err(error) => CheckItem {
                name: "credentials and revision".into(),
                ok: false,
                detail: Some(PluginError::from(error).message),
            },
        };
        Ok(CheckReport { checks: vec![item] })
    }

    fn discover(&mut self) -> Result<Inventory, PluginError> {
        let lists = self.context.block_on(streams::lists::all_lists(&self.api))??;
        let streams = STREAMS
            .iter()
            .map(|(stream, _)| StreamCount {
                stream: (*stream).into(),
                records: (*stream == "lists").then_some(lists.len() as u64),
            })
            .collect();
        Ok(Inventory { streams })
    }

    fn source(&mut self) -> Option<&mut dyn Source> {
        Some(self)
    }

    fn destination(&mut self) -> Option<&mut dyn Destination> {
        Some(self)
    }
}

fn unknown_stream(stream: &str) -> PluginError {
    PluginError::new(ErrorCode::Unsupported, format!("plugin `klaviyo` has no stream `{stream}`")).in_stream(stream)
}

impl Source for Klaviyo {
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        let Klaviyo { api, context, revision, metrics, list_ids, .. } = self;
        let batch = match stream {
            "lists" => context.block_on(streams::lists::read(api, cursor, max_records))?,
            "profiles" => context.block_on(streams::profiles::read(api, cursor, max_records))?,
            "subscriptions" => context.block_on(streams::subscriptions::read(api, list_ids, cursor, max_records))?,
            "events" => context.block_on(streams::events::read(api, revision, metrics, cursor, max_records))?,
            _ => return Err(unknown_stream(stream)),
        };
        batch.map_err(|error| error.in_stream(stream))
    }
}

impl Destination for Klaviyo {
    fn write(&mut self, stream: &str, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let Klaviyo { api, context, revision, lists_by_name, list_exists, list_ids, events_written, metrics: _ } = self;
        let outcomes = match stream {
            "lists" => {
                // New lists change the order memberships are read in.
                *list_ids = None;
                context.block_on(streams::lists::write(api, lists_by_name, records))?
            }
            "profiles" => context.block_on(streams::profiles::write(api, records))?,
            "subscriptions" => context.block_on(streams::subscriptions::write(api, list_exists, records))?,
            "events" => context.block_on(streams::events::write(api, revision, events_written, records))?,
            _ => return Err(unknown_stream(stream)),
        };
        outcomes.map_err(|error| error.in_stream(stream))
    }
}

cutover_sdk::export_plugin!(Klaviyo);
