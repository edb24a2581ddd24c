//! The `klaviyo` plugin: a Klaviyo account (the dated-revision JSON:API under
//! `/api/`) as a source and a destination of lists, profiles, list
//! subscriptions with consent, and events.
//!
//! Not here: HTTP plumbing (auth, rate limits, retries, paging, resumable
//! paged reads are `cutover-http`'s), stream plumbing (dispatch by name,
//! typed cursors, walking each list's members are the SDK's), and
//! campaigns, flows, segments and webhooks, which this plugin neither reads
//! nor writes.
//!
//! Start at [`Klaviyo`] and its [`Plugin::streams`]: each stream is a type in
//! `streams/<stream>.rs` with its read (a request, a paginator and a mapping)
//! and its write; `mapping.rs` turns Klaviyo resources into canonical
//! records and back, with the consent rules; `client.rs` holds one HTTP
//! client per endpoint, paced by the account's limiter of its documented
//! rate-limit tier. The vendor facts followed are
//! `shared/platforms/klaviyo.md`.
//!
//! | stream | type | entity | read | write |
//! |---|---|---|---|---|
//! | `lists` | `Lists` | list | `GET /api/lists` | by name: `POST`/`PATCH /api/lists` |
//! | `profiles` | `Profiles` | contact | `GET /api/profiles` | `POST /api/profile-import`, compared first |
//! | `subscriptions` | `Subscriptions` (per list) | membership | `GET /api/lists/{id}/profiles` with subscriptions | subscribe, unsubscribe and suppression jobs, list relationships |
//! | `events` | `Events` | engagement event | `GET /api/events` + `GET /api/metrics` | `POST /api/event-bulk-create-jobs`, 1,000 a job, each with a `unique_id` |

mod client;
mod config;
mod mapping;
mod streams;

pub use config::{DEFAULT_REVISION, KlaviyoConfig};

use client::Api;
use cutover_http::PagedReader;
use cutover_sdk::RateLimitProfile;
use cutover_sdk::prelude::*;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use streams::{Events, Lists, Profiles, Subscriptions};

/// An opened `klaviyo` plugin: one account, and what its streams keep
/// between batches.
pub struct Klaviyo {
    api: Api,
    context: Context,
    revision: String,
    /// The last page read, so batches smaller than a page fetch it once.
    pages: PagedReader,
    /// The account's lists by lowercased name, once a list write loaded them.
    lists_by_name: Option<HashMap<String, streams::lists::KnownList>>,
    /// Whether a list id exists, for membership writes.
    list_exists: HashMap<String, bool>,
    metrics: streams::events::Metrics,
    /// What this instance wrote to `events`.
    events_written: streams::events::Written,
    /// The streams, for callers that read and write this instance
    /// in-process (its tests); the SDK keeps its own for the host.
    local_streams: Option<Streams<Klaviyo>>,
}

impl Plugin for Klaviyo {
    type Config = KlaviyoConfig;

    fn describe() -> Description {
        Description::new(
            "klaviyo",
            env!("CARGO_PKG_VERSION"),
            PluginKind::Esp,
            "Klaviyo lists, profiles, list subscriptions with consent, and events",
        )
        // The L tier most of the streams' endpoints are in: 75 a second
        // in bursts, 700 a minute steady (about 11 a second).
        .rate_limit(RateLimitProfile { requests_per_second: 11, max_concurrency: None, max_batch: Some(1000) })
    }

    fn streams() -> Streams<Klaviyo> {
        Streams::new().stream::<Lists>().stream::<Profiles>().children::<Subscriptions>().stream::<Events>()
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
            pages: PagedReader::new(),
            lists_by_name: None,
            list_exists: HashMap::new(),
            metrics: streams::events::Metrics::default(),
            events_written: streams::events::Written::default(),
            local_streams: None,
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
}

/// Read in-process, the instance goes through its registered streams as
/// the SDK dispatches the host's reads.
impl Source for Klaviyo {
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        let mut streams = self.local_streams.take().unwrap_or_else(Klaviyo::streams);
        let batch = streams.read(self, stream, cursor, max_records);
        self.local_streams = Some(streams);
        batch
    }
}

/// Written in-process, the instance goes through its registered streams as
/// the SDK dispatches the host's writes.
impl Destination for Klaviyo {
    fn write(&mut self, stream: &str, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let mut streams = self.local_streams.take().unwrap_or_else(Klaviyo::streams);
        let outcomes = streams.write(self, stream, records);
        self.local_streams = Some(streams);
        outcomes
    }
}

cutover_sdk::export_plugin!(Klaviyo);
