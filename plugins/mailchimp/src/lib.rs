//! The `mailchimp` plugin: the Mailchimp Marketing API 3.0 as a source and a
//! destination of audiences, members with their consent, campaigns and
//! email activity.
//!
//! Not here: HTTP mechanics (auth, the 10-connection cap, retries, paging
//! live in `cutover-http`), campaign content, automations, and `/batches`.
//!
//! Start at [`Mailchimp`]. Streams, each in `streams/<name>.rs`:
//!
//! | stream | entity | direction | source id |
//! | --- | --- | --- | --- |
//! | `lists` | list | both | audience id |
//! | `contacts` | contact | source | subscriber hash (once per person) |
//! | `members` | membership | both | `<audience id>:<subscriber hash>` |
//! | `campaigns` | campaign | source | campaign id |
//! | `email_activity` | engagement event | source | `<campaign>:<subscriber hash>:{sent,<n>,unsubscribe}` |
//!
//! A canonical [`Contact`] carries no consent:
//! consent is per audience, so it travels on the `members` stream's
//! [`Membership`](cutover_sdk::schema::Membership) records, mapped as
//! [`mapping`] describes. Writes never make an unsubscribed or cleaned member
//! subscribed.

mod client;
mod config;
mod events;
pub mod mapping;
mod streams;

pub use config::MailchimpConfig;

use cutover_http::Request;
use cutover_sdk::RateLimitProfile;
use cutover_sdk::prelude::*;
use streams::{State, Stream};

/// An opened `mailchimp` plugin: one account, optionally one audience.
pub struct Mailchimp {
    context: Context,
    state: State,
}

impl Plugin for Mailchimp {
    type Config = MailchimpConfig;

    fn describe() -> Description {
        Description::new(
            "mailchimp",
            env!("CARGO_PKG_VERSION"),
            PluginKind::Esp,
            "Mailchimp Marketing API 3.0: audiences, members with consent, campaigns, email activity",
        )
        .stream("lists", EntityKind::List, Direction::Both)
        .stream("contacts", EntityKind::Contact, Direction::Source)
        .stream("members", EntityKind::Membership, Direction::Both)
        .stream("campaigns", EntityKind::Campaign, Direction::Source)
        .stream("email_activity", EntityKind::EngagementEvent, Direction::Source)
        .rate_limit(RateLimitProfile {
            // No request quota is published, only the connection cap; this
            // is what 10 connections sustain at about a second per call.
            requests_per_second: client::MAX_CONNECTIONS,
            max_concurrency: Some(client::MAX_CONNECTIONS),
            max_batch: Some(client::MAX_BATCH as u32),
        })
    }

    fn open(config: MailchimpConfig, context: &Context) -> Result<Self, PluginError> {
        let client = client::connect(&config)?;
        let list_filter = config.list_id.map(|id| id.trim().to_owned()).filter(|id| !id.is_empty());
        Ok(Mailchimp { context: context.clone(), state: State::new(client, list_filter, config.list_defaults) })
    }

    fn check(&mut self) -> Result<CheckReport, PluginError> {
        let client = self.state.client.clone();
        let list_filter = self.state.list_filter.clone();
        self.context.block_on(async move {
            let mut checks = Vec::new();
            let ping = client.send(Request::get("ping")).await;
            checks.push(CheckItem {
                name: "api key and data center".into(),
                ok: ping.is_ok(),
                detail: ping.err().map(|error| PluginError::from(error).message),
            });
            if let Some(list_id) = list_filter {
                let list = match cutover_http::path(["lists", list_id.as_str()]) {
                    Ok(path) => client.send(Request::get(path).query("fields", "id,name")).await,
                    Err(error) => Err(error),
                };
                checks.push(CheckItem {
                    name: format!("audience {list_id}"),
                    ok: list.is_ok(),
                    detail: list.err().map(|error| PluginError::from(error).message),
                });
            }
            CheckReport { checks }
        })
    }

    fn discover(&mut self) -> Result<Inventory, PluginError> {
        let state = &mut self.state;
        self.context.block_on(async move {
            let lists = state.source_lists().await?.to_vec();
            let members: Option<u64> = lists
                .iter()
                .map(|list| {
                    list.stats
                        .as_ref()
                        .and_then(|stats| stats.get("total_contacts"))
                        .and_then(serde_json::Value::as_u64)
                })
                .sum();
            let mut campaigns = Request::get("campaigns").query("count", 1).query("fields", "total_items");
            if let Some(list_id) = &state.list_filter {
                campaigns = campaigns.query("list_id", list_id);
            }
            let campaign_count = state
                .client
                .send(campaigns)
                .await?
                .json::<serde_json::Value>()?
                .get("total_items")
                .and_then(serde_json::Value::as_u64);
            let count = |stream: &str, records: Option<u64>| StreamCount { stream: stream.into(), records };
            Ok(Inventory {
                streams: vec![
                    count("lists", Some(lists.len() as u64)),
                    count("contacts", None),
                    count("members", members),
                    count("campaigns", campaign_count),
                    count("email_activity", None),
                ],
            })
        })?
    }

    fn source(&mut self) -> Option<&mut dyn Source> {
        Some(self)
    }

    fn destination(&mut self) -> Option<&mut dyn Destination> {
        Some(self)
    }
}

impl Source for Mailchimp {
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        let stream = Stream::named(stream)?;
        self.context.block_on(self.state.read(stream, cursor, max_records))?
    }
}

impl Destination for Mailchimp {
    fn write(&mut self, stream: &str, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        match Stream::named(stream)? {
            Stream::Lists => self.context.block_on(self.state.write_lists(records))?,
            Stream::Members => self.context.block_on(self.state.write_members(records))?,
            other => Err(PluginError::new(
                ErrorCode::Unsupported,
                format!("plugin `mailchimp` does not write stream `{}`", other.name()),
            )),
        }
    }
}

cutover_sdk::export_plugin!(Mailchimp);
