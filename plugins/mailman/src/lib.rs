//! The `mailman` plugin: GNU Mailman 3 over its core REST API (3.1), as a
//! source and a destination of lists and memberships, and a source of
//! contacts.
//!
//! Its streams are units (one type each in `streams/`), registered in
//! [`Mailman`]'s `Plugin::streams`; the SDK declares them, dispatches to
//! them by name, keeps their typed cursors and counts them for `discover`:
//! - `lists` ([`EntityKind::List`]): every list in scope (the configured
//!   `domain`'s, or all), read page by page, its source id the posting
//!   address (`ant@example.com`); written as create-if-missing with display
//!   name, description and subscription policy brought in line.
//! - `members` ([`EntityKind::Membership`]): a child stream of the lists in
//!   scope, which the SDK walks in order of posting address: each list's
//!   roster, every role, then its bans as suppressed memberships; the email
//!   consent follows the delivery status and bans, so a banned or
//!   bounce-disabled address never reads back as subscribed (rules in
//!   `mapping.rs`). Written as a pre-approved subscription without welcome
//!   message, a ban, or a role.
//! - `contacts` ([`EntityKind::Contact`], read only): every address.
//!
//! Not here: HTTP plumbing (`cutover-http` does auth, retries, the
//! installation's concurrency cap and resumable paged reads), digests, held
//! messages, archives and list settings beyond the few a migration carries;
//! Mailman has no custom fields, so custom fields the plugin does not name
//! (`mapping::field`) are not stored.
//!
//! Start at [`Mailman`]. Every platform call is in `client.rs`, every
//! record mapping in `mapping.rs`, one file per stream in `streams/`.

mod client;
mod config;
mod mapping;
mod streams;

pub use config::MailmanConfig;

use client::MailmanClient;
use cutover_http::PagedReader;
use cutover_sdk::prelude::*;
use streams::{contacts::Contacts, lists::Known, lists::Lists, members::Members, members::Snapshot};

/// An opened `mailman` plugin: one Mailman installation.
pub struct Mailman {
    client: MailmanClient,
    context: Context,
    domain: Option<String>,
    /// The last page read, for every paged read of the instance.
    pages: PagedReader,
    /// Taken with the lists when `members` is read from its start, kept
    /// while its cursors follow (see `streams::members::Snapshot`).
    snapshot: Option<Snapshot>,
    known: Known,
    /// The registry in-process callers go through (see `impl Source`),
    /// made on their first call.
    registry: Option<Streams<Mailman>>,
}

impl Plugin for Mailman {
    type Config = MailmanConfig;

    fn describe() -> Description {
        Description::new(
            "mailman",
            env!("CARGO_PKG_VERSION"),
            PluginKind::Esp,
            "GNU Mailman 3 lists, memberships and addresses over the core REST API",
        )
    }

    fn streams() -> Streams<Mailman> {
        Streams::new().stream::<Lists>().children::<Members>().stream::<Contacts>()
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
            pages: PagedReader::new(),
            snapshot: None,
            known: Known::default(),
            registry: None,
        })
    }

    fn check(&mut self) -> Result<CheckReport, PluginError> {
        let client = &self.client;
        let domain = self.domain.as_deref();
        self.context.block_on(async {
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
            Ok::<_, PluginError>(CheckReport { checks })
        })?
    }

    /// Every stream's count. The SDK would add them all to `discover`
    /// anyway; answering them here keeps `discover` whole for in-process
    /// callers too.
    fn discover(&mut self) -> Result<Inventory, PluginError> {
        Mailman::streams().discover(self)
    }
}

impl Mailman {
    /// Runs `call` with the instance's own registry, so that a
    /// [`ChildStream`]'s parent list lives from call to call as it does
    /// behind the boundary.
    fn in_process<T>(&mut self, call: impl FnOnce(&mut Streams<Mailman>, &mut Mailman) -> T) -> T {
        let mut registry = self.registry.take().unwrap_or_else(Mailman::streams);
        let answer = call(&mut registry, self);
        self.registry = Some(registry);
        answer
    }
}

/// For callers that link the plugin in (its tests): the registered streams,
/// by name. The host goes through the SDK's own registry instead, so
/// `Plugin::source` stays `None`.
impl Source for Mailman {
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError> {
        self.in_process(|registry, plugin| registry.read(plugin, stream, cursor, max_records))
    }
}

/// See `impl Source`.
impl Destination for Mailman {
    fn write(&mut self, stream: &str, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
        self.in_process(|registry, plugin| registry.write(plugin, stream, records))
    }
}

cutover_sdk::export_plugin!(Mailman);
