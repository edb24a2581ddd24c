//! The `mailchimp` plugin: the Mailchimp Marketing API 3.0 as a source and a
//! destination of audiences, members with their consent, campaigns and
//! email activity.
//!
//! Not here: HTTP mechanics (auth, the 10-connection cap shared by the
//! account, retries, paging, batches that resume inside a page live in
//! `cutover-http`), dispatch by stream name, cursors and the walk over
//! audiences and campaigns (the SDK's stream layer), campaign content,
//! automations, and `/batches`.
//!
//! Start at [`Mailchimp`]. Each stream is a type in `streams/<name>.rs`,
//! registered in [`Plugin::streams`]; the ones read audience by audience or
//! campaign by campaign are the SDK's child streams, whose cursor inside one
//! audience (campaign) is which of its two listings (reports) is being read
//! and where in it:
//!
//! | stream | entity | direction | read from | source id |
//! | --- | --- | --- | --- | --- |
//! | `lists` | list | both | `/lists` | audience id |
//! | `contacts` | contact | source | each audience's members, then archived | subscriber hash (once per person) |
//! | `members` | membership | both | each audience's members, then archived | `<audience id>:<subscriber hash>` |
//! | `campaigns` | campaign | source | `/campaigns` | campaign id |
//! | `email_activity` | engagement event | source | each sent campaign's activity, then unsubscribes | `<campaign>:<subscriber hash>:{sent,<n>,unsubscribe}` |
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

use cutover_http::{HttpClient, PagedReader, Request};
use cutover_sdk::RateLimitProfile;
use cutover_sdk::prelude::*;
use serde_json::{Map, Value};
use std::collections::HashMap;
use streams::campaigns::{Campaigns, SentCampaign};
use streams::email_activity::EmailActivity;
use streams::lists::Lists;
use streams::members::{Contacts, EarlierMembers, Members, Target};

/// An opened `mailchimp` plugin: one account, optionally one audience, and
/// what the instance keeps between batches.
pub struct Mailchimp {
    context: Context,
    client: HttpClient,
    /// The configured audience, if any.
    list_filter: Option<String>,
    list_defaults: Option<Map<String, Value>>,
    /// The page kept for batches that end inside it.
    reader: PagedReader,
    /// The audiences read, in the API's order (filtered by `list_filter`).
    source_lists: Option<Vec<client::ApiList>>,
    /// Sent campaigns whose reports are read, in the API's order.
    sent_campaigns: Option<Vec<SentCampaign>>,
    /// Merge field types per audience.
    merge_types: HashMap<String, mapping::MergeTypes>,
    /// The members of the audiences a contacts read has passed.
    earlier_members: EarlierMembers,
    /// Audiences being written to.
    targets: HashMap<String, Target>,
    /// Audience ids by name, on the destination.
    target_lists: Option<HashMap<String, String>>,
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
        .rate_limit(RateLimitProfile {
            // No request quota is published, only the connection cap; this
            // is what 10 connections sustain at about a second per call.
            requests_per_second: client::MAX_CONNECTIONS,
            max_concurrency: Some(client::MAX_CONNECTIONS),
            max_batch: Some(client::MAX_BATCH as u32),
        })
    }

    fn streams() -> Streams<Self> {
        Streams::new()
            .stream::<Lists>()
            .children::<Contacts>()
            .children::<Members>()
            .stream::<Campaigns>()
            .children::<EmailActivity>()
    }

    fn open(config: MailchimpConfig, context: &Context) -> Result<Self, PluginError> {
        Ok(Mailchimp {
            context: context.clone(),
            client: client::connect(&config)?,
            list_filter: config.list_id.map(|id| id.trim().to_owned()).filter(|id| !id.is_empty()),
            list_defaults: config.list_defaults,
            reader: PagedReader::new(),
            source_lists: None,
            sent_campaigns: None,
            merge_types: HashMap::new(),
            earlier_members: EarlierMembers::default(),
            targets: HashMap::new(),
            target_lists: None,
        })
    }

    fn check(&mut self) -> Result<CheckReport, PluginError> {
        let client = self.client.clone();
        let list_filter = self.list_filter.clone();
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

    /// Each stream's count, as the SDK gives it behind the boundary; here
    /// too so that an instance driven in-process tells the same.
    fn discover(&mut self) -> Result<Inventory, PluginError> {
        Self::streams().discover(self)
    }
}

/// The streams driven in-process (tests, benchmarks), as the SDK drives
/// them behind the boundary. A registry per call is enough: the parents of
/// the child streams (audiences, sent campaigns) are kept by the instance.
impl Mailchimp {
    /// Reads up to `max_records` of `stream` after `cursor`.
    pub fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        Self::streams().read(self, stream, cursor, max_records)
    }

    /// Writes `records` to `stream`.
    pub fn write(&mut self, stream: &str, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        Self::streams().write(self, stream, records)
    }
}

cutover_sdk::export_plugin!(Mailchimp);
