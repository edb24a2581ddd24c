//! The `cutover` binary: parses the command line, calls the verb, reports an
//! error once with its cause and what to do, and exits with a fixed status.
//!
//! Exit statuses: 0 done; 1 an error or a failed stream; 2 a bad command line;
//! 3 finished and balanced, with rejected records; 4 a stream that does not
//! balance (a record unaccounted for); 130 interrupted (Ctrl-C), to resume.

// Records are decoded on the reader thread and freed on the writer thread;
// glibc's allocator serialises such cross-thread frees on an arena lock (seen
// as futex time in `cargo xtask bench` profiles), mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand, ValueEnum};
use cutover_host::cli::{self, EXIT_FAILED, EXIT_OK, EXIT_UNBALANCED};
use cutover_host::secrets::{RedactingWriter, redact};
use miette::IntoDiagnostic;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Move a business's data between affiliate, ESP, CRM and store platforms
/// without losing a record, and prove it.
#[derive(Debug, Parser)]
#[command(
    name = "cutover",
    version,
    after_help = "Exit status: 0 done, 1 error or failed stream, 2 bad command line, 3 finished with rejected records, 4 unbalanced (a record unaccounted for), 130 interrupted (run the same command to resume)."
)]
struct Cli {
    /// A folder of plugin libraries; searched before CUTOVER_PLUGIN_PATH and the
    /// plugins folder beside cutover. Repeatable.
    #[arg(long = "plugin-dir", global = true, value_name = "DIR")]
    plugin_dirs: Vec<PathBuf>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "human")]
    log_format: LogFormat,
    /// Log filter (tracing's EnvFilter syntax), e.g. `debug`.
    #[arg(long, global = true, env = "CUTOVER_LOG", default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// What the plugin folders hold.
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// Show the last run of a migration: per-stream progress and accounting.
    Status {
        /// The migration config (`cutover.toml`).
        config: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// About `cutover.toml` itself.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The records a migration rejected.
    #[command(subcommand)]
    Rejects(RejectsCommand),
    /// The state store beside a migration config (`<config>.state.db`).
    #[command(subcommand)]
    State(StateCommand),
    /// Old tracking links → new links, for the cut-over: the map, and a
    /// redirect server that answers old links.
    #[command(subcommand)]
    Redirects(RedirectsCommand),
    /// The program's partners: who brings the revenue.
    #[command(subcommand)]
    Partners(PartnersCommand),
    /// Move every stream of a migration config and print the accounting. An
    /// interrupted run is resumed from its last checkpoints.
    Migrate {
        /// The migration config (`cutover.toml`).
        config: PathBuf,
        /// Also write the run report as JSON to this file.
        #[arg(long, value_name = "FILE")]
        report_json: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum PartnersCommand {
    /// Rank the source platform's partners by revenue into top, mid and
    /// long-tail tiers, by the config's `[tiers]` rule.
    ///
    /// Reads every partner and conversion the source plugin offers (it
    /// writes nothing), counts the conversions in the rule's window and
    /// statuses in the rule's currency, and cuts the partners by cumulative
    /// share of revenue: top while the revenue ranked before a partner is
    /// under `top_share` (default 0.5), mid under `mid_share` (default 0.8),
    /// then the long tail. Every conversion not counted is counted by why.
    Tiers {
        /// The migration config (`cutover.toml`) with a `[tiers]` section.
        config: PathBuf,
        /// Print the whole ranking (every partner, its revenue, share and
        /// tier, and every conversion not counted) as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum RedirectsCommand {
    /// Write the map from each old tracking link to its new link, as CSV and
    /// as an nginx `map` file.
    ///
    /// Reads the tracking-link stream the config moves from the source (the
    /// old platform, still live) and back from the destination, and joins
    /// them through the id map of the migration (run `cutover migrate`
    /// first). Writes `[redirects] csv` and `[redirects] nginx` (default:
    /// `<config name>.redirects.csv` and `.redirects.nginx.conf` beside the
    /// config), and says on stderr which links it left out and why.
    #[command(after_help = concat!(
        "A request matches an old link on its host (any case, no port) and path (exact, after ",
        "percent-encoding is normalised); the query is ignored, except the parameters the old link ",
        "itself carries (e.g. `?o=12&a=345`), which must have the same values."
    ))]
    Export {
        /// The migration config (`cutover.toml`).
        config: PathBuf,
    },
    /// Answer each old link with a 301 to its new link, carrying the sub-ids
    /// the config's `[redirects]` rules name; anything else gets a 302 to
    /// `[redirects] fallback`.
    ///
    /// Serves the CSV map `export` wrote. SIGHUP loads it (and the config's
    /// `[redirects]` section) again without dropping a connection; a map
    /// that does not load is refused and the one in use stays. Prometheus
    /// counters on `/metrics` (or on --metrics-listen). Prints `listening on
    /// http://ADDR` on stdout; stops on Ctrl-C or SIGTERM.
    #[command(after_help = concat!(
        "Limits (per-client rate, request head size, slow clients, connections) are set in ",
        "`[redirects.limits]`; `cutover config schema` lists them with their defaults."
    ))]
    Serve {
        /// The migration config (`cutover.toml`) with a `[redirects]` section.
        config: PathBuf,
        /// The address to listen on, e.g. `0.0.0.0:8080` or `127.0.0.1:0`
        /// (a free port, printed).
        #[arg(long, value_name = "ADDR")]
        listen: std::net::SocketAddr,
        /// The CSV map to serve, in place of the config's.
        #[arg(long, value_name = "FILE")]
        map: Option<PathBuf>,
        /// Serve `/metrics` on this address only (e.g. a private one), not
        /// beside the redirects.
        #[arg(long, value_name = "ADDR")]
        metrics_listen: Option<std::net::SocketAddr>,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the JSON Schema of `cutover.toml`, for editors.
    Schema,
}

#[derive(Debug, Subcommand)]
enum RejectsCommand {
    /// Every record still rejected: by the last migration, or by a replay
    /// since. Stream, location, reason.
    List {
        /// The migration config (`cutover.toml`).
        config: PathBuf,
        /// Print a JSON array (with each record as read).
        #[arg(long)]
        json: bool,
    },
    /// Move the rejected records again, through the config's current
    /// mapping, and nothing else; print the accounting of what they became.
    Replay {
        /// The migration config (`cutover.toml`).
        config: PathBuf,
        /// Also write the run report as JSON to this file.
        #[arg(long, value_name = "FILE")]
        report_json: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum StateCommand {
    /// Drop the personal data kept as read for the finished runs started
    /// before DATE, and compact the file so its bytes are gone.
    ///
    /// Drops each reject's raw record (the reject itself, with its stream,
    /// location, reason and message, stays listed, and can no longer be
    /// replayed) and the records held back for a second pass. Unfinished
    /// runs are left alone (they may be resumed); the id map, checkpoints and
    /// run reports are never touched.
    Purge {
        /// The migration config (`cutover.toml`).
        config: PathBuf,
        /// Purge runs that started before this: `YYYY-MM-DD` (midnight UTC)
        /// or an RFC 3339 time; not in the future (a bad DATE exits 2).
        #[arg(long, value_name = "DATE", value_parser = cli::state::parse_before)]
        before: chrono::DateTime<chrono::Utc>,
        /// Say what would be purged, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum PluginsCommand {
    /// List every plugin found, one line each; skipped files are reported on stderr.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one plugin's streams and config schema.
    Inspect {
        /// The plugin's name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pin the plugins a migration config names to the SHA-256 of their
    /// files, in `cutover.lock` beside the config; every run of that config
    /// then refuses a plugin whose file changed.
    Lock {
        /// The migration config (`cutover.toml`).
        config: PathBuf,
    },
}

/// The host's log lines on stderr, each with every secret the config
/// resolved redacted ([`RedactingWriter`]).
fn init_logging(format: LogFormat, filter: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(RedactingWriter(std::io::stderr))
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn run(cli: Cli) -> miette::Result<u8> {
    // Only the verbs that use plugins load them (and warn about bad files).
    let plugins = || cli::load_plugins(&cli.plugin_dirs);
    match &cli.command {
        Command::Plugins(PluginsCommand::List { json }) => {
            println!("{}", cli::plugins::list(&plugins(), *json));
            Ok(EXIT_OK)
        }
        Command::Plugins(PluginsCommand::Inspect { name, json }) => {
            let discovery = plugins();
            let plugin = discovery.find(name).ok_or_else(|| {
                miette::miette!(
                    help = "`cutover plugins list` shows what is installed",
                    "no plugin named `{name}` (found: {})",
                    discovery.names().join(", ")
                )
            })?;
            println!("{}", cli::plugins::inspect(plugin, *json));
            Ok(EXIT_OK)
        }
        Command::Config(ConfigCommand::Schema) => {
            let schema = cutover_host::config::json_schema();
            println!("{}", serde_json::to_string_pretty(&schema).into_diagnostic()?);
            Ok(EXIT_OK)
        }
        Command::Status { config, json } => {
            println!("{}", cli::status::render(cli::status::last_run(config).into_diagnostic()?, *json));
            Ok(EXIT_OK)
        }
        Command::Rejects(RejectsCommand::List { config, json }) => {
            println!("{}", cli::rejects::render(&cli::rejects::list(config).into_diagnostic()?, *json));
            Ok(EXIT_OK)
        }
        Command::State(StateCommand::Purge { config, before, dry_run }) => {
            print!("{}", cli::state::render(&cli::state::purge(config, *before, *dry_run).into_diagnostic()?));
            Ok(EXIT_OK)
        }
        Command::Plugins(PluginsCommand::Lock { config }) => {
            let (path, lock) = cli::lock_plugins(&cli.plugin_dirs, config).map_err(plugins_error)?;
            println!("wrote {}:", path.display());
            for plugin in &lock.plugins {
                println!("  {} {}  sha256 {}", plugin.name, plugin.version, plugin.sha256);
            }
            Ok(EXIT_OK)
        }
        Command::Rejects(RejectsCommand::Replay { config, report_json }) => {
            let plugins = cli::load_plugins_for(&cli.plugin_dirs, config).map_err(plugins_error)?;
            let report = cli::migrate::replay(&plugins, config, report_json.as_deref()).into_diagnostic()?;
            if report.streams.is_empty() {
                println!("no rejected records to replay");
                return Ok(EXIT_OK);
            }
            Ok(finish(&report, config))
        }
        Command::Redirects(RedirectsCommand::Export { config }) => {
            let plugins = cli::load_plugins_for(&cli.plugin_dirs, config).map_err(plugins_error)?;
            let summary = cli::redirects::export(&plugins, config).map_err(redirects_error)?;
            println!(
                "wrote {} of {} old links to {} and {}",
                summary.entries,
                summary.read,
                summary.csv.display(),
                summary.nginx.display()
            );
            for reason in cli::redirects::reasons(&summary.skipped) {
                eprintln!("warning: left out {reason}");
            }
            for (old_url, why) in summary.nginx_report.left_out.iter().take(5) {
                eprintln!("warning: not in the nginx map: {old_url}: {why}");
            }
            if summary.nginx_report.left_out.len() > 5 {
                eprintln!("warning: {} more links are not in the nginx map", summary.nginx_report.left_out.len() - 5);
            }
            Ok(EXIT_OK)
        }
        Command::Redirects(RedirectsCommand::Serve { config, listen, map, metrics_listen }) => {
            cli::redirects::serve(config, *listen, map.as_deref(), *metrics_listen).map_err(redirects_error)?;
            Ok(EXIT_OK)
        }
        Command::Partners(PartnersCommand::Tiers { config, json }) => {
            let plugins = cli::load_plugins_for(&cli.plugin_dirs, config).map_err(plugins_error)?;
            let tiers = cli::partners::tiers(&plugins, config).map_err(partners_error)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&tiers.ranking).into_diagnostic()?);
            } else {
                println!("{}", cli::partners::render(&tiers));
            }
            Ok(EXIT_OK)
        }
        Command::Migrate { config, report_json } => {
            let plugins = cli::load_plugins_for(&cli.plugin_dirs, config).map_err(plugins_error)?;
            let report = cli::migrate::run(&plugins, config, report_json.as_deref()).into_diagnostic()?;
            Ok(finish(&report, config))
        }
    }
}

/// A failure to load a config's plugins, with what to do about it.
fn plugins_error(error: cli::PluginsForConfigError) -> miette::Report {
    match error.help() {
        Some(help) => miette::miette!(help = help, "{error}"),
        None => miette::Report::msg(error.to_string()),
    }
}

/// A `partners` failure, with its causes and what to do about it.
fn partners_error(error: cli::partners::PartnersError) -> miette::Report {
    let help = error.help();
    miette::Report::new(WithHelp { error, help })
}

/// A `redirects` failure, with its causes and what to do about it.
fn redirects_error(error: cli::redirects::RedirectsError) -> miette::Report {
    let help = error.help();
    miette::Report::new(WithHelp { error, help })
}

/// An error whose causes stay a chain (printed one per line) and whose help
/// is miette's.
#[derive(Debug)]
struct WithHelp<E> {
    error: E,
    help: Option<String>,
}

impl<E: std::fmt::Display> std::fmt::Display for WithHelp<E> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(formatter)
    }
}

impl<E: std::error::Error> std::error::Error for WithHelp<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

impl<E: std::error::Error> miette::Diagnostic for WithHelp<E> {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help.as_ref().map(|help| Box::new(help) as Box<dyn std::fmt::Display + 'a>)
    }
}

/// Prints a run's report and picks the exit status ([`cli::exit_status`]).
fn finish(report: &cutover_host::report::RunReport, config: &std::path::Path) -> u8 {
    print!("{report}");
    let rejected: u64 = report.streams.iter().map(|stream| stream.rejected).sum();
    if rejected > 0 {
        eprintln!("rejected: {rejected}; `cutover rejects list {}` shows each record and why", config.display());
    }
    let status = cli::exit_status(report);
    if status == EXIT_UNBALANCED {
        eprintln!(
            "error: the accounting does not balance: the run cannot prove that every record read was written, rejected or skipped (see the stream's line above)"
        );
    }
    if report.interrupted {
        eprintln!("interrupted; run the same command to resume");
    }
    status
}

fn main() -> ExitCode {
    // Everything cutover writes (state, archives, outputs, reports, the
    // lock) holds personal data or vouches for what runs: readable by the
    // owner only, whatever the shell's umask. Plugins share the process, so
    // their files too.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = Cli::parse();
    init_logging(cli.log_format, &cli.log);
    cutover_host::plugin::log_plugins_like_the_host(&cli.log, matches!(cli.log_format, LogFormat::Json));
    match run(cli) {
        Ok(status) => ExitCode::from(status),
        Err(report) => {
            // One line per cause, unwrapped, so the message survives logs and greps.
            // Plugin messages can quote config values; secrets never leave the host.
            eprintln!("error: {}", redact(&report.to_string()));
            for cause in report.chain().skip(1) {
                eprintln!("  caused by: {}", redact(&cause.to_string()));
            }
            if let Some(help) = report.help() {
                eprintln!("help: {}", redact(&help.to_string()));
            }
            ExitCode::from(EXIT_FAILED)
        }
    }
}
