//! The `mailman` plugin: GNU Mailman 3 over its core REST API (3.1), as a
//! source and a destination of lists and memberships, and a source of
//! contacts.
//!
//! Streams:
//! - `lists` ([`EntityKind::List`]): every list in scope (the configured
//!   `domain`'s, or all), its source id the posting address
//!   (`ant@example.com`); written as create-if-missing with display name,
//!   description and subscription policy brought in line.
//! - `members` ([`EntityKind::Membership`]): each list's roster, every role,
//!   then its bans as suppressed memberships; the email consent follows the
//!   delivery status and bans, so a banned or bounce-disabled address never
//!   reads back as subscribed (rules in `mapping.rs`). Written as a
//!   pre-approved subscription without welcome message, a ban, or a role.
//! - `contacts` ([`EntityKind::Contact`], read only): every address.
//!
//! Not here: HTTP plumbing (`cutover-http` does auth, retries and paging),
//! digests, held messages, archives and list settings beyond the few a
//! migration carries; Mailman has no custom fields, so custom fields the
//! plugin does not name (`mapping::field`) are not stored.
//!
//! Start at [`Mailman`]. Every platform call is in `client.rs`, every
//! record mapping in `mapping.rs`, one file per stream in `streams/`.

mod client;
mod config;
mod mapping;
mod streams;

pub use config::MailmanConfig;

use client::MailmanClient;
use cutover_sdk::prelude::*;
use streams::{PageCache, lists::Known, members::Snapshot};

/// The streams this plugin offers, each with its entity and direction.
const STREAMS: &[(&str, EntityKind, Direction)] = &[
    ("lists", EntityKind::List, Direction::Both),
    ("members", EntityKind::Membership, Direction::Both),
    ("contacts", EntityKind::Contact, Direction::Source),
];

/// An opened `mailman` plugin: one Mailman installation.
pub struct Mailman {
    client: MailmanClient,
    context: Context,
    domain: Option<String>,
    pages: PageCache,
    /// Taken when `members` is read from its start, kept while its cursors
    /// follow (see `streams::members::Snapshot`).
    snapshot: Option<Snapshot>,
    known: Known,
}

impl Mailman {
    fn block_on<T>(&self, work: impl Future<Output = Result<T, PluginError>>) -> Result<T, PluginError> {
        self.context.block_on(work)?
    }
}

fn unknown_stream(stream: &str) -> PluginError {
    PluginError::new(ErrorCode::Unsupported, format!("the mailman plugin has no stream `{stream}`"))
        .in_stream(stream)
        .with_help("the streams are lists, members and contacts")
}

impl Plugin for Mailman {
    type Config = MailmanConfig;

    fn describe() -> Description {
        STREAMS.iter().fold(
            Description::new(
                "mailman",
                env!("CARGO_PKG_VERSION"),
                PluginKind::Esp,
                "GNU Mailman 3 lists, memberships and addresses over the core REST API",
            ),
            |description, (name, entity, direction)| description.stream(name, *entity, *direction),
        )
    }

    fn open(config: MailmanConfig, context: &Context) -> Result<Self, PluginError> {
        let client = MailmanClient::new(&config).map_err(|error| {
            PluginError::from(error).with_help("set `base_url` to the REST root, e.g. http://127.0.0.1:8001")
        })?;
        let domain = config.domain.as_deref().map(str::trim).filter(|domain| !domain.is_empty());
        if let Some(domain) = domain
            && domain.contains(['@', '/', '?', '#', ' '])
        {
            return Err(PluginError::new(
                ErrorCode::Config,
                format!("field `domain`: `{domain}` is not a mail host such as lists.example.org"),
            ));
        }
        Ok(Mailman {
            client,
            context: context.clone(),
            domain: domain.map(str::to_lowercase),
            pages: PageCache::default(),
            snapshot: None,
            known: Known::default(),
        })
    }

    fn check(&mut self) -> Result<CheckReport, PluginError> {
        let client = &self.client;
        let domain = self.domain.as_deref();
        self.block_on(async {
            let mut checks = Vec::new();
            let versions = client.versions().await;
            let reached = versions.is_ok();
            checks.push(match versions {
                Ok(versions) => CheckItem {
                    name: format!("REST API at {} accepts the credentials", client.root()),
                    ok: versions.api_version == client::API_VERSION
                        && versions.mailman_version.starts_with("GNU Mailman 3."),
                    detail: Some(format!("{}, API {}", versions.mailman_version, versions.api_version)),
                },
                Err(error) => {
                    let help = error.help();
                    CheckItem {
                        name: format!("REST API at {} accepts the credentials", client.root()),
                        ok: false,
                        detail: Some(format!("{error}; {help}")),
                    }
                }
            });
            if reached && let Some(domain) = domain {
                let exists = client.domain_exists(domain).await?;
                checks.push(CheckItem {
                    name: format!("domain {domain}"),
                    ok: true,
                    detail: (!exists).then(|| "does not exist yet: it is created on the first list write".into()),
                });
            }
            Ok(CheckReport { checks })
        })
    }

    fn discover(&mut self) -> Result<Inventory, PluginError> {
        let client = &self.client;
        let domain = self.domain.as_deref();
        self.block_on(async {
            let lists = if streams::lists::scope_exists(client, domain).await? {
                client.collection_size(streams::lists::collection(domain)?).await?
            } else {
                0
            };
            let members = streams::members::count(client, domain).await?;
            let contacts = client.collection_size(streams::contacts::collection()).await?;
            Ok(Inventory {
                streams: vec![
                    StreamCount { stream: "lists".into(), records: Some(lists) },
                    StreamCount { stream: "members".into(), records: Some(members) },
                    StreamCount { stream: "contacts".into(), records: Some(contacts) },
                ],
            })
        })
    }

    fn source(&mut self) -> Option<&mut dyn Source> {
        Some(self)
    }

    fn destination(&mut self) -> Option<&mut dyn Destination> {
        Some(self)
    }
}

impl Source for Mailman {
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        let Mailman { client, context, domain, pages, snapshot, .. } = self;
        let domain = domain.as_deref();
        let max_records = max_records.max(1);
        if cursor.is_none() {
            // A read from the start sees the platform as it is now, not as
            // an earlier read of this instance left it.
            *snapshot = None;
            pages.clear();
        }
        let batch = context.block_on(async {
            match stream {
                "lists" => streams::lists::read(client, domain, pages, cursor, max_records).await,
                "contacts" => streams::contacts::read(client, pages, cursor, max_records).await,
                "members" => {
                    let snapshot = match snapshot {
                        Some(snapshot) => snapshot,
                        None => snapshot.insert(Snapshot::take(client, domain).await?),
                    };
                    streams::members::read(client, snapshot, pages, cursor, max_records).await
                }
                other => Err(unknown_stream(other)),
            }
        })??;
        tracing::debug!(stream, records = batch.records.len(), rejects = batch.rejects.len(), "Batch read.");
        Ok(batch)
    }
}

impl Destination for Mailman {
    fn write(&mut self, stream: &str, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        let Mailman { client, context, domain, known, .. } = self;
        let domain = domain.as_deref();
        if !matches!(stream, "lists" | "members") {
            return Err(unknown_stream(stream));
        }
        let outcomes = context.block_on(async {
            let mut outcomes = Vec::with_capacity(records.len());
            for record in records {
                let result = match stream {
                    "lists" => streams::lists::write(client, domain, known, &record).await,
                    _ => streams::members::write(client, domain, known, &record).await,
                }
                .map_err(|error| error.for_record(record.source_id.as_str()))?;
                outcomes.push(streams::outcome(record.source_id, result));
            }
            Ok::<_, PluginError>(outcomes)
        })??;
        tracing::debug!(stream, records = outcomes.len(), "Batch written.");
        Ok(outcomes)
    }
}

cutover_sdk::export_plugin!(Mailman);
