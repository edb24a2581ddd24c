//! The `cutover` host: plugin discovery and loading, the migration config, the
//! engine that moves records between two plugins, and the reports.
//!
//! Not here: any platform. The host knows no plugin by name; it routes by the
//! metadata plugins declare. `main.rs` only parses arguments and reports
//! errors; each CLI verb is one file in [`cli`].
//!
//! Start at [`discovery::discover`] (how plugins are found and loaded) and
//! [`engine::run_stream`] (how one stream moves).

pub mod cli;
pub mod config;
pub mod consent;
pub mod discovery;
pub mod engine;
pub mod ledger;
pub mod lock;
pub mod mapping;
pub mod plugin;
pub mod references;
pub mod report;
pub mod secrets;
pub mod state;
pub mod trust;
