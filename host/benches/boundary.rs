//! The cost of the plugin boundary, end to end: the same generator → jsonl
//! migration, once through the plugin libraries loaded from disk (FFI calls,
//! batches encoded and decoded on each side) and once with the same plugin
//! code linked into this binary and called directly. Prints both rates, their
//! ratio, and the machine.
//!
//! Run with `cargo xtask bench` (which builds the release plugins first).
//! `CUTOVER_BENCH_RECORDS` (default 200000) and `CUTOVER_BENCH_RUNS`
//! (default 5) change the size; the median run of each variant is reported.

use cutover_host::engine::{StreamPlan, StreamRun, run_stream};
use cutover_host::mapping::StreamMapping;
use cutover_host::plugin::{
    BatchDestination, BatchSource, BatchStager, LoadedPlugin, RecordBatch, SourceBatch, StagedBatch, wire_error,
};
use cutover_host::report::StreamReport;
use cutover_host::state::{RunKind, SqliteState, StateStore, StreamProgress};
use cutover_plugin_generator::{Generator, GeneratorConfig};
use cutover_plugin_jsonl::{Jsonl, JsonlConfig};
use cutover_sdk::schema::EntityKind;
use cutover_sdk::{Context, Destination, Plugin, PluginError, Source, WriteOutcome};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

// No `#[global_allocator]` here: linking cutover-sdk brings its mimalloc, the
// allocator of the `cutover` binary and of every plugin library too.

/// Plugin code called directly, without the boundary.
struct Linked<P>(P);

impl<P: Plugin> BatchSource for Linked<P> {
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: u32) -> Result<SourceBatch, PluginError> {
        let source: &mut dyn Source =
            self.0.source().ok_or_else(|| PluginError::new(cutover_sdk::ErrorCode::Unsupported, "no source"))?;
        let mut batch = source.read(stream, cursor, max_records as usize)?;
        // What every read through the boundary does too.
        cutover_sdk::reject_invalid(stream, &mut batch);
        Ok(SourceBatch {
            records: RecordBatch::Decoded(batch.records),
            rejects: batch.rejects,
            next_cursor: batch.next_cursor,
            done: batch.done,
        })
    }
}

/// Linked-in code needs no staging beyond having the records as values.
struct DecodeOnly;

impl BatchStager for DecodeOnly {
    fn stage(&self, stream: &str, records: RecordBatch) -> Result<StagedBatch, PluginError> {
        records.into_decoded().map(StagedBatch::Records).map_err(|error| wire_error(stream, &error))
    }
}

impl<P: Plugin> BatchDestination for Linked<P> {
    fn stager(&self) -> Box<dyn BatchStager> {
        Box::new(DecodeOnly)
    }

    fn write(&mut self, stream: &str, batch: StagedBatch) -> Result<Vec<WriteOutcome>, PluginError> {
        let StagedBatch::Records(records) = batch else {
            return Err(PluginError::new(cutover_sdk::ErrorCode::Internal, "a batch staged in a plugin"));
        };
        let destination: &mut dyn Destination = self
            .0
            .destination()
            .ok_or_else(|| PluginError::new(cutover_sdk::ErrorCode::Unsupported, "no destination"))?;
        destination.write(stream, records)
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

fn plan() -> StreamPlan {
    StreamPlan {
        source_plugin: "generator".into(),
        source_stream: "contacts".into(),
        entity: EntityKind::Contact,
        destination_plugin: "jsonl".into(),
        destination_stream: "contacts".into(),
        batch_size: 1000,
        mapping: StreamMapping::default(),
        migrated: [EntityKind::Contact].into(),
    }
}

/// CPU time this process has used (user + system), from `/proc/self/stat`,
/// in clock ticks of 10 ms; zero where there is no procfs.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let field = |index: usize| fields.get(index).and_then(|value| value.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

/// Wall time and CPU time of one run.
fn time_run(records: u64, folder: &Path, run: impl FnOnce(&Path) -> u64) -> (Duration, Duration) {
    let _ = std::fs::remove_dir_all(folder);
    let (started, ticks) = (Instant::now(), cpu_ticks());
    let created = run(folder);
    let (elapsed, cpu) = (started.elapsed(), Duration::from_millis((cpu_ticks() - ticks) * 10));
    assert_eq!(created, records, "every record must be created");
    (elapsed, cpu)
}

/// Runs the stream with a fresh state store in the run's folder: both
/// variants keep the same checkpoints and id map, as a real migration does.
fn run_with_state(source: &mut dyn BatchSource, destination: &mut dyn BatchDestination, folder: &Path) -> StreamReport {
    let _ = std::fs::create_dir_all(folder);
    let mut state = SqliteState::open(&folder.join("state.db"))
        .unwrap_or_else(|error| panic!("cannot open the state store: {error}"));
    let (run, _) = state
        .resume_or_start_run("bench", RunKind::Migrate)
        .unwrap_or_else(|error| panic!("cannot start a run: {error}"));
    let plan = plan();
    let stream_run = StreamRun {
        plan: &plan,
        run_id: &run.run_id,
        start: StreamProgress::default(),
        state: &mut state,
        on_batch: &mut |_| {},
        replay: false,
    };
    run_stream(source, destination, stream_run)
}

fn linked(records: u64, folder: &Path) -> u64 {
    let context = Context::new(PathBuf::from("."));
    let generator = Generator::open(GeneratorConfig::new(records, 1), &context);
    let jsonl = Jsonl::open(JsonlConfig::new(folder.to_owned()), &context);
    let (Ok(generator), Ok(jsonl)) = (generator, jsonl) else { panic!("linked plugins refused to open") };
    let (mut source, mut destination) = (Linked(generator), Linked(jsonl));
    let report = run_with_state(&mut source, &mut destination, folder);
    let _ = destination.0.close();
    report.created
}

fn loaded(generator: &LoadedPlugin, jsonl: &LoadedPlugin, records: u64, folder: &Path) -> u64 {
    let open = |plugin: &LoadedPlugin, config: serde_json::Value| match plugin.open(&config, Path::new(".")) {
        Ok(instance) => instance,
        Err(error) => panic!("cannot open {}: {error}", plugin.metadata.name),
    };
    let mut source = open(generator, serde_json::json!({ "records": records, "seed": 1 }));
    let mut destination = open(jsonl, serde_json::json!({ "folder": folder }));
    let report = run_with_state(&mut source, &mut destination, folder);
    let _ = destination.close();
    report.created
}

fn plugin_folder() -> PathBuf {
    if let Ok(folder) = std::env::var("CUTOVER_BENCH_PLUGIN_DIR") {
        return PathBuf::from(folder);
    }
    // target/release/deps/boundary-… → target/release/plugins
    let executable = std::env::current_exe().unwrap_or_default();
    executable.ancestors().nth(2).unwrap_or(Path::new(".")).join("plugins")
}

fn load(folder: &Path, crate_name: &str) -> LoadedPlugin {
    let path = folder.join(format!("{}{crate_name}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX));
    LoadedPlugin::load(&path)
        .unwrap_or_else(|error| panic!("cannot load {}: {error} (run `cargo xtask plugins --release`)", path.display()))
}

/// The run with the median wall time.
fn median(mut times: Vec<(Duration, Duration)>) -> (Duration, Duration) {
    times.sort();
    times[times.len() / 2]
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .map(|line| line.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown cpu".into());
    let cores = std::thread::available_parallelism().map_or(0, |cores| cores.get());
    format!("{cpu}, {cores} cores, {} {}", std::env::consts::OS, std::env::consts::ARCH)
}

fn main() {
    // `cargo bench` passes `--bench`; a plain `cargo test` run of benches must not take minutes.
    if !std::env::args().any(|argument| argument == "--bench") {
        return;
    }
    let records = env_number("CUTOVER_BENCH_RECORDS", 200_000);
    let runs = env_number("CUTOVER_BENCH_RUNS", 5).max(1);
    let folder = plugin_folder();
    let generator = load(&folder, "cutover_plugin_generator");
    let jsonl = load(&folder, "cutover_plugin_jsonl");
    let scratch = tempfile::tempdir().unwrap_or_else(|error| panic!("cannot make a scratch folder: {error}"));
    let output = scratch.path().join("out");

    let (mut linked_times, mut loaded_times) = (Vec::new(), Vec::new());
    // Interleaved, so drift in the machine's load hits both variants alike.
    // `CUTOVER_BENCH_ONLY=linked|loaded` runs one variant, for a profiler.
    let only = std::env::var("CUTOVER_BENCH_ONLY").unwrap_or_default();
    for _ in 0..runs {
        if only != "loaded" {
            linked_times.push(time_run(records, &output, |folder| linked(records, folder)));
        }
        if only != "linked" {
            loaded_times.push(time_run(records, &output, |folder| loaded(&generator, &jsonl, records, folder)));
        }
    }
    if !only.is_empty() {
        let times = if only == "linked" { linked_times } else { loaded_times };
        let (time, cpu) = median(times);
        println!("{only}: {:.0} records/s, {cpu:?} CPU", records as f64 / time.as_secs_f64());
        return;
    }
    let ((linked_time, linked_cpu), (loaded_time, loaded_cpu)) = (median(linked_times), median(loaded_times));
    let rate = |time: Duration| records as f64 / time.as_secs_f64();
    let cpu_per_record = |cpu: Duration| cpu.as_secs_f64() * 1e6 / records as f64;
    println!("boundary bench: generator → jsonl, {records} contacts, median of {runs} runs");
    println!("machine: {}", machine());
    println!(
        "  linked in-process : {:>12.0} records/s ({linked_time:?}; {:.2} µs CPU per record)",
        rate(linked_time),
        cpu_per_record(linked_cpu)
    );
    println!(
        "  loaded plugins    : {:>12.0} records/s ({loaded_time:?}; {:.2} µs CPU per record)",
        rate(loaded_time),
        cpu_per_record(loaded_cpu)
    );
    println!(
        "  ratio loaded/linked: {:.3} (boundary cost {:.1} % of the end-to-end time; target < 10 %)",
        rate(loaded_time) / rate(linked_time),
        (loaded_time.as_secs_f64() / linked_time.as_secs_f64() - 1.0) * 100.0
    );
}
