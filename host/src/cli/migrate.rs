//! `cutover migrate CONFIG`: moves every stream of the config from the source
//! plugin to the destination plugin and prints the accounting. `cutover
//! rejects replay CONFIG` runs the same way with the rejects ledger as the
//! source.
//!
//! A run that was interrupted (killed, or stopped by Ctrl-C) is resumed by
//! the same command, which says so on stderr (`resuming run … from its
//! checkpoints`) and in the report (`"resumed": true`). Ctrl-C stops after
//! the batch being committed and leaves the run open; a second Ctrl-C exits
//! at once (the state store loses nothing committed either way).

use crate::cli::progress::StreamProgressDisplay;
use crate::config::MigrationConfig;
use crate::discovery::Discovery;
use crate::engine::{self, StreamPlan, StreamRun};
use crate::ledger::LedgerSource;
use crate::mapping::StreamMapping;
use crate::plugin::{BatchSource, LoadedPlugin, PluginInstance};
use crate::report::{RunReport, StreamStatus};
use crate::secrets;
use crate::state::{self, OpenReject, RunKind, SqliteState, StateStore};
use cutover_contract::PluginError;
use cutover_contract::metadata::{Direction, PluginMetadata, stream_list};
use std::collections::{BTreeSet, HashSet};
use std::path::Path;

/// Why a migration could not start or finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The config is unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A plugin named in the config is not installed.
    #[error("{side} plugin `{name}` named in {config} is not installed (found: {found})")]
    UnknownPlugin {
        /// `source` or `destination`.
        side: &'static str,
        /// The name.
        name: String,
        /// The config file.
        config: String,
        /// The plugins found.
        found: String,
    },
    /// A stream named in the config is not offered that way.
    #[error("{side} plugin `{plugin}` offers no stream `{stream}` it can {verb} (streams: {offered})")]
    UnknownStream {
        /// `source` or `destination`.
        side: &'static str,
        /// The plugin.
        plugin: String,
        /// The stream.
        stream: String,
        /// `read` or `write`.
        verb: &'static str,
        /// What it offers.
        offered: String,
    },
    /// A plugin refused to open.
    #[error("cannot open {side} plugin `{plugin}`: {error}")]
    Open {
        /// `source` or `destination`.
        side: &'static str,
        /// The plugin.
        plugin: String,
        /// Its error.
        error: Box<PluginError>,
    },
    /// The destination failed to flush what it was given.
    #[error(
        "closing destination plugin `{plugin}` failed, so the run is not finished: {error}; run `cutover migrate` again to resume it"
    )]
    Close {
        /// The plugin.
        plugin: String,
        /// Its error.
        error: Box<PluginError>,
    },
    /// A secret reference could not be resolved, or a secret was inline.
    #[error("{config}: {error}")]
    Secret {
        /// The config file.
        config: String,
        /// What is wrong.
        error: secrets::SecretError,
    },
    /// A stream's mapping rules cannot be used.
    #[error("{config}: stream `{stream}`: {error}")]
    Mapping {
        /// The config file.
        config: String,
        /// The source stream.
        stream: String,
        /// What is wrong.
        error: crate::mapping::MappingError,
    },
    /// The state store failed.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// The report file could not be written.
    #[error("cannot write the report to {path}")]
    Report {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

fn find<'a>(
    discovery: &'a Discovery,
    name: &str,
    side: &'static str,
    config: &Path,
) -> Result<&'a LoadedPlugin, MigrateError> {
    discovery.find(name).ok_or_else(|| MigrateError::UnknownPlugin {
        side,
        name: name.to_owned(),
        config: config.display().to_string(),
        found: if discovery.plugins.is_empty() { "none".into() } else { discovery.names().join(", ") },
    })
}

fn check_stream(
    plugin: &LoadedPlugin,
    stream: &str,
    side: &'static str,
    wanted: Direction,
) -> Result<(), MigrateError> {
    if plugin.metadata.stream(stream).is_some_and(|info| info.direction.offers(wanted)) {
        return Ok(());
    }
    Err(MigrateError::UnknownStream {
        side,
        plugin: plugin.metadata.name.clone(),
        stream: stream.to_owned(),
        verb: if wanted == Direction::Source { "read" } else { "write" },
        offered: stream_list(&plugin.metadata.streams),
    })
}

/// The streams in dependency order ([`cutover_schema::EntityKind::LOAD_ORDER`]), so that what
/// a record references is written before it; streams of one kind keep the
/// config's order.
fn in_load_order(mut plans: Vec<StreamPlan>, source: &PluginMetadata) -> Vec<StreamPlan> {
    let rank =
        |plan: &StreamPlan| source.stream(&plan.source_stream).map_or(usize::MAX, |info| info.entity.load_rank());
    plans.sort_by_key(rank);
    plans
}

/// Makes Ctrl-C stop the run after the batch being committed
/// ([`engine::request_stop`]); a second Ctrl-C exits at once.
fn stop_on_ctrl_c() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            if engine::stop_requested() {
                eprintln!("interrupted again: stopping now; run the same command to resume");
                std::process::exit(i32::from(crate::cli::EXIT_INTERRUPTED));
            }
            eprintln!("interrupt: stopping after the batch being written (Ctrl-C again to stop at once)");
            engine::request_stop();
        });
        if let Err(error) = installed {
            tracing::warn!(error = %error, "Cannot handle Ctrl-C; it will end the process, and the run still resumes.");
        }
    });
}

/// Runs the migration described by the config at `config_path`.
pub fn run(discovery: &Discovery, config_path: &Path, report_json: Option<&Path>) -> Result<RunReport, MigrateError> {
    execute(discovery, config_path, report_json, RunKind::Migrate)
}

/// Moves the open rejects of the config's migration again, through its
/// current mapping, and nothing else.
pub fn replay(
    discovery: &Discovery,
    config_path: &Path,
    report_json: Option<&Path>,
) -> Result<RunReport, MigrateError> {
    execute(discovery, config_path, report_json, RunKind::Replay)
}

/// What a run reads from.
enum Reader {
    Plugin(PluginInstance),
    Ledger(LedgerSource),
}

impl Reader {
    fn source(&mut self) -> &mut dyn BatchSource {
        match self {
            Reader::Plugin(instance) => instance,
            Reader::Ledger(ledger) => ledger,
        }
    }
}

/// A replay serves no reject whose raw record `cutover state purge` dropped
/// (its marker is not a record, and the ledger never marks it taken); says
/// on stderr how many of the open rejects that leaves behind.
fn say_which_were_purged(open: &[OpenReject], current_run: &str) {
    let purged: Vec<&str> = open
        .iter()
        .filter(|reject| reject.run_id != current_run)
        .filter_map(|reject| state::purged_on(&reject.entry.raw))
        .collect();
    let count = purged.len();
    let days: BTreeSet<&str> = purged.into_iter().collect();
    if count > 0 {
        let (records, their) = if count == 1 {
            ("rejected record", "its raw record was")
        } else {
            ("rejected records", "their raw records were")
        };
        eprintln!(
            "{count} {records} cannot be replayed: {their} purged (`cutover state purge`, on {}); `cutover rejects \
             list` still shows each and why, and `cutover migrate` reads them from the source again",
            days.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
}

fn execute(
    discovery: &Discovery,
    config_path: &Path,
    report_json: Option<&Path>,
    kind: RunKind,
) -> Result<RunReport, MigrateError> {
    let config = MigrationConfig::load(config_path)?;
    let config_name = config_path.display().to_string();
    let base_dir = config_path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let source_plugin = find(discovery, &config.source.plugin, "source", config_path)?;
    let destination_plugin = find(discovery, &config.destination.plugin, "destination", config_path)?;
    let mut mappings = Vec::with_capacity(config.streams.len());
    for stream in &config.streams {
        check_stream(source_plugin, &stream.source, "source", Direction::Source)?;
        check_stream(destination_plugin, stream.destination_stream(), "destination", Direction::Destination)?;
        mappings.push(StreamMapping::compile(stream).map_err(|error| MigrateError::Mapping {
            config: config_name.clone(),
            stream: stream.source.clone(),
            error,
        })?);
    }
    // References resolve only in the fields the plugin's schema marks
    // secret; resolved before a run starts, so a bad one leaves no run open.
    let resolve = |plugin: &LoadedPlugin, table: &toml::Table, side: &'static str| {
        secrets::resolve(table, &plugin.metadata.config_schema, base_dir, &format!("{side}.config"))
            .map_err(|error| MigrateError::Secret { config: config_name.clone(), error })
    };
    let source_config = match kind {
        RunKind::Migrate => Some(resolve(source_plugin, &config.source.config, "source")?),
        RunKind::Replay => None,
    };
    let destination_config = resolve(destination_plugin, &config.destination.config, "destination")?;
    let mut state = SqliteState::open(&config.state_path(config_path))?;
    let prefix = if kind == RunKind::Migrate { "run" } else { "replay" };
    let new_run_id = format!("{prefix}-{}-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"), std::process::id());
    let (run, resumed) = state.resume_or_start_run(&new_run_id, kind)?;
    let span = tracing::info_span!("run", run_id = %run.run_id);
    let _entered = span.enter();
    if resumed {
        let read: u64 = state
            .last_run()?
            .filter(|(last, _)| last.run_id == run.run_id)
            .map_or(0, |(_, streams)| streams.iter().map(|stream| stream.report.read).sum());
        tracing::info!(read, "Resuming an interrupted run from its last checkpoints.");
        eprintln!("resuming run {} from its checkpoints ({read} items read before)", run.run_id);
    }
    stop_on_ctrl_c();
    let open = |plugin: &LoadedPlugin, config: &serde_json::Value, side: &'static str| {
        plugin.open(config, base_dir).map_err(|error| MigrateError::Open {
            side,
            plugin: plugin.metadata.name.clone(),
            error: Box::new(error),
        })
    };
    let mut reader = match &source_config {
        Some(source_config) => Reader::Plugin(open(source_plugin, source_config, "source")?),
        None => {
            let open = state.open_rejects()?;
            say_which_were_purged(&open, &run.run_id);
            Reader::Ledger(LedgerSource::new(open, &run.run_id))
        }
    };
    let mut destination = open(destination_plugin, &destination_config, "destination")?;
    let entity_of = |stream: &str| source_plugin.metadata.stream(stream).map(|info| info.entity);
    let migrated: HashSet<_> = config.streams.iter().filter_map(|stream| entity_of(&stream.source)).collect();
    let mut plans = Vec::with_capacity(config.streams.len());
    for (stream, mapping) in config.streams.iter().zip(mappings) {
        // `check_stream` made sure the source offers it.
        let Some(entity) = entity_of(&stream.source) else { continue };
        let plan = StreamPlan {
            source_plugin: source_plugin.metadata.name.clone(),
            source_stream: stream.source.clone(),
            entity,
            destination_plugin: destination_plugin.metadata.name.clone(),
            destination_stream: stream.destination_stream().to_owned(),
            batch_size: stream.batch_size.unwrap_or(config.run.batch_size).get(),
            mapping,
            migrated: migrated.clone(),
        };
        // A replay moves only the streams with rejects to take (or that it took already).
        if let Reader::Ledger(ledger) = &reader
            && ledger.count(&plan.source_stream) == 0
            && state.progress(&run.run_id, &plan.name())?.is_none()
        {
            continue;
        }
        plans.push(plan);
    }
    let plans = in_load_order(plans, &source_plugin.metadata);
    // Only for the progress display: a source that cannot count is fine.
    let inventory = match &reader {
        Reader::Plugin(instance) => instance.discover().unwrap_or_default(),
        Reader::Ledger(_) => Default::default(),
    };
    let mut report = RunReport { run_id: run.run_id.clone(), resumed, interrupted: false, streams: Vec::new() };
    for plan in &plans {
        if engine::stop_requested() {
            report.interrupted = true;
            break;
        }
        let start = state.progress(&run.run_id, &plan.name())?.unwrap_or_default();
        if start.finished {
            report.streams.push(start.report);
            continue;
        }
        let total = match &reader {
            Reader::Plugin(_) => inventory
                .streams
                .iter()
                .find(|count| count.stream == plan.source_stream)
                .and_then(|count| count.records),
            Reader::Ledger(ledger) => Some(ledger.count(&plan.source_stream) as u64),
        };
        let mut display = StreamProgressDisplay::start(&plan.name(), total);
        let stream_run = StreamRun {
            plan,
            run_id: &run.run_id,
            start,
            state: &mut state,
            on_batch: &mut |progress| display.update(progress),
            replay: kind == RunKind::Replay,
        };
        let stream = engine::run_stream(reader.source(), &mut destination, stream_run);
        display.finish();
        let interrupted = stream.status == StreamStatus::Interrupted;
        report.streams.push(stream);
        if interrupted {
            report.interrupted = true;
            break;
        }
    }
    // Close before the run is marked finished: a destination may still
    // flush or compact, and if that fails the run stays open and the next
    // `migrate` resumes it.
    // After a failed stream the destination may refuse even to close (it
    // panicked); the report says why the run failed, so that is only logged.
    if let Reader::Plugin(source) = reader
        && let Err(error) = source.close()
    {
        tracing::warn!(error = %error, "Closing the source plugin failed.");
    }
    match destination.close() {
        Err(error) if !report.failed() => {
            return Err(MigrateError::Close {
                plugin: destination_plugin.metadata.name.clone(),
                error: Box::new(error),
            });
        }
        Err(error) => tracing::warn!(error = %error, "Closing the destination plugin failed."),
        Ok(()) => {}
    }
    // Interrupted, the run stays open: the same command resumes it.
    if !report.interrupted {
        state.finish_run(&run.run_id)?;
    }
    if let Some(path) = report_json {
        let json = serde_json::to_string_pretty(&report).unwrap_or_default();
        std::fs::write(path, json)
            .map_err(|source| MigrateError::Report { path: path.display().to_string(), source })?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cutover_contract::metadata::{PluginKind, StreamInfo};
    use cutover_schema::EntityKind;

    fn plan(stream: &str) -> StreamPlan {
        StreamPlan {
            source_plugin: "old".into(),
            source_stream: stream.into(),
            entity: EntityKind::Contact,
            destination_plugin: "new".into(),
            destination_stream: stream.into(),
            batch_size: 10,
            mapping: StreamMapping::default(),
            migrated: HashSet::new(),
        }
    }

    #[test]
    fn streams_run_in_dependency_order_whatever_the_config_says() {
        let stream = |name: &str, entity| StreamInfo { name: name.into(), entity, direction: Direction::Source };
        let source = PluginMetadata {
            name: "old".into(),
            version: "1.0.0".into(),
            description: "an affiliate export".into(),
            kind: PluginKind::Affiliate,
            abi_version: 1,
            schema_version: cutover_schema::SCHEMA_VERSION,
            streams: vec![
                stream("commissions", EntityKind::Commission),
                stream("clicks", EntityKind::Click),
                stream("partners", EntityKind::Partner),
                stream("links", EntityKind::TrackingLink),
                stream("conversions", EntityKind::Conversion),
            ],
            config_schema: serde_json::json!({}),
            rate_limit: None,
        };
        let ordered = in_load_order(
            ["commissions", "conversions", "clicks", "partners", "links"].into_iter().map(plan).collect(),
            &source,
        );
        let names: Vec<&str> = ordered.iter().map(|plan| plan.source_stream.as_str()).collect();
        assert_eq!(names, ["partners", "links", "clicks", "conversions", "commissions"]);
    }
}
