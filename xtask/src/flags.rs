//! The commands and their flags: one variant of [`Command`] per command. To
//! add a command, add a variant here and a file beside this one.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// cutover's project chores.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
pub struct Xtask {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Every xtask command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build every plugin and fixture library and copy them into
    /// `target/<profile>/plugins/` and `target/<profile>/fixture-plugins/`.
    Plugins(Plugins),
    /// Scaffold a plugin crate that builds, loads and passes conformance.
    NewPlugin(NewPlugin),
    /// Run every check CI runs, in order, stopping at the first that fails.
    Ci,
    /// Build everything and run the sample migration in `examples/esp-to-archive/`.
    Demo,
    /// Benchmarks, never run in CI. `boundary`: records/s through loaded
    /// plugins and linked in-process, their ratio. `load`: a generated messy
    /// contacts CSV migrated by the release `cutover` (csv → sqlite-archive)
    /// against `sqlite3 .import`, dlt and sling: rows/s, ratios, peak RSS.
    /// `rate`: events written into a rate-limited Klaviyo emulator as a
    /// fraction of what the limit allows, clean and with 10 % faults. All
    /// three by default; each prints the machine.
    Bench(Bench),
}

/// Flags of `cargo xtask bench`.
#[derive(Debug, Args)]
pub struct Bench {
    /// Which benchmark to run.
    #[arg(value_enum, default_value_t = BenchMode::All)]
    pub mode: BenchMode,
    /// Rows in the CSV that every tool loads, for the rows/s table.
    #[arg(long, env = "CUTOVER_BENCH_ROWS", default_value_t = 1_000_000)]
    pub rows: u64,
    /// Also measure cutover's peak RSS on 10,000,000 rows (a ~1 GB file,
    /// minutes of run time); without it the memory table has 100k and 1M.
    #[arg(long, env = "CUTOVER_BENCH_10M")]
    pub with_10m: bool,
    /// Leave out dlt and sling (no virtualenv, no pip).
    #[arg(long)]
    pub no_python: bool,
    /// The rate limit R of the `rate` benchmark's emulator, in requests per
    /// second on every endpoint.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate: u32,
    /// How long the `rate` benchmark's migration would take at exactly the
    /// limit, in seconds: it writes `rate × 1000 × seconds` events.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub seconds: u64,
}

/// What `cargo xtask bench` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchMode {
    /// Every benchmark: boundary, load, rate.
    All,
    /// The plugin boundary (`host/benches/boundary.rs`).
    Boundary,
    /// The end-to-end load of a CSV file into SQLite, against other tools.
    Load,
    /// The write rate into a rate-limited emulator, as a fraction of the limit.
    Rate,
}

/// Flags of `cargo xtask plugins`.
#[derive(Debug, Args)]
pub struct Plugins {
    /// Build with the release profile (into `target/release/`).
    #[arg(long)]
    pub release: bool,
}

/// Flags of `cargo xtask new-plugin`.
#[derive(Debug, Args)]
pub struct NewPlugin {
    /// The plugin's name as operators write it in `cutover.toml`: lowercase
    /// letters and digits, words joined by `-` (e.g. `mailchimp`,
    /// `active-campaign`). The crate is `cutover-plugin-<NAME>`.
    pub name: String,
    /// The kind of platform the plugin connects to.
    #[arg(long, value_enum)]
    pub kind: PluginKind,
    /// Where to create the crate (default: `plugins/<NAME>` in this
    /// workspace). A folder outside the workspace gets a standalone crate
    /// that depends on this workspace's crates by path.
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// Make an HTTP plugin on the SDK's stream layer and the HTTP toolkit,
    /// with an emulator of its API on the emulator kit (in
    /// `tests/emulators/<NAME>`, or `emulator/` inside a crate outside the
    /// workspace) that its conformance test runs against. Without it the
    /// platform is a stand-in JSON file.
    #[arg(long)]
    pub http: bool,
}

/// The kinds of platform, as `cutover_sdk::PluginKind` names them. xtask does
/// not depend on the SDK (it must build when the SDK does not), so the list is
/// repeated here; a new kind needs a line in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PluginKind {
    /// Affiliate networks and partner platforms.
    Affiliate,
    /// Email service providers and list servers.
    Esp,
    /// Customer relationship management.
    Crm,
    /// Shops and order systems.
    Store,
    /// Files and generated data.
    File,
    /// Long-term archives of a retired platform.
    Archive,
}

impl PluginKind {
    /// The `PluginKind` variant, as written in Rust.
    pub fn variant(self) -> &'static str {
        match self {
            PluginKind::Affiliate => "Affiliate",
            PluginKind::Esp => "Esp",
            PluginKind::Crm => "Crm",
            PluginKind::Store => "Store",
            PluginKind::File => "File",
            PluginKind::Archive => "Archive",
        }
    }

    /// The stable lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            PluginKind::Affiliate => "affiliate",
            PluginKind::Esp => "esp",
            PluginKind::Crm => "crm",
            PluginKind::Store => "store",
            PluginKind::File => "file",
            PluginKind::Archive => "archive",
        }
    }
}
