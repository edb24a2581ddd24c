//! `cargo xtask bench rate`: how close the release `cutover` comes to a
//! target's rate limit. A Klaviyo emulator (`cutover-emulator klaviyo
//! --rate-limit R`) allows R requests per second on every endpoint; the
//! klaviyo plugin is told the same rate; the generator's engagement events
//! are written to it through the bulk event job, 1,000 events a request. The
//! limit then allows `R × 1000` events per second, and the figure is the
//! achieved rate (events written over the wall time of the whole `cutover
//! migrate`, start-up included) as a fraction of that: clean and with 5 % of
//! the responses 429 and 5 % 5xx, each with the host handing the plugin one
//! job's worth of events per batch (1,000: one request in flight), ten and
//! fifty (10,000 and 50,000, set per stream with `batch_size`: the plugin
//! sends the jobs together, paced by its limiter, so a job waiting out a
//! retry leaves the limit to the others).
//!
//! Everything lives in `target/bench-rate/`, one folder per scenario with its
//! config, state, report and logs.

use super::load::{fresh, machine};
use super::measure;
use crate::{flags, plugins, shell};
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Events in a full bulk job (Klaviyo's documented maximum).
const FULL_BATCH: u64 = 1000;
/// Events per host batch: one full job, ten and fifty. The host commits a
/// batch before it hands over the next, so the jobs of a batch wait for its
/// slowest one: the more jobs a batch has, the less a retry at its end costs.
const HOST_BATCHES: [u64; 3] = [FULL_BATCH, 10 * FULL_BATCH, 50 * FULL_BATCH];
/// People the generated events happen to.
const CONTACTS: u64 = 20_000;
/// The environment variable that carries the emulator's key to the config.
const KEY_VARIABLE: &str = "CUTOVER_BENCH_KLAVIYO_KEY";

/// One way of breaking the target.
struct Scenario {
    name: &'static str,
    /// Fraction of responses answered 429.
    rate_429: f64,
    /// Fraction of responses answered 500 or 503.
    rate_5xx: f64,
    /// The aim the issue sets for it.
    aim: f64,
}

const SCENARIOS: [Scenario; 2] = [
    Scenario { name: "clean", rate_429: 0.0, rate_5xx: 0.0, aim: 0.95 },
    Scenario { name: "10% faults", rate_429: 0.05, rate_5xx: 0.05, aim: 0.85 },
];

/// What one scenario measured.
struct Outcome {
    scenario: &'static Scenario,
    host_batch: u64,
    written: u64,
    seconds: f64,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.written as f64 / self.seconds
    }
}

pub fn run(flags: &flags::Bench) -> Result<()> {
    let rate = u64::from(flags.rate);
    let events = rate * FULL_BATCH * flags.seconds;
    shell::run(
        "bench",
        shell::cargo()?.args(["build", "--release", "--package", "cutover", "--package", "cutover-emulators"]),
    )?;
    let plugin_dir = plugins::build_and_install(true)?;
    let release = plugin_dir.parent().context("the plugin folder has no parent")?.to_owned();
    let cutover = release.join(format!("cutover{}", std::env::consts::EXE_SUFFIX));
    let emulator = release.join(format!("cutover-emulator{}", std::env::consts::EXE_SUFFIX));
    for binary in [&cutover, &emulator] {
        if !binary.is_file() {
            bail!("step `bench` failed: the release build made no {}", binary.display());
        }
    }
    let scratch = release.parent().context("the release folder has no parent")?.join("bench-rate");
    let machine = machine();
    let mut outcomes = Vec::new();
    for host_batch in HOST_BATCHES {
        for scenario in &SCENARIOS {
            let folder = scratch.join(format!("{}-batch{host_batch}", scenario.name.replace(['%', ' '], "")));
            fresh(&folder)?;
            let served = Emulator::start(&emulator, flags.rate, scenario, &folder)?;
            let written = migrate(&cutover, &served, &folder, flags.rate, events, host_batch);
            drop(served);
            let (written, seconds) = written?;
            outcomes.push(Outcome { scenario, host_batch, written, seconds });
        }
    }

    let allowed = (rate * FULL_BATCH) as f64;
    println!();
    println!(
        "rate-limit benchmark: {events} generated engagement events → klaviyo emulator at {rate} requests/s \
         per endpoint, bulk event jobs of {FULL_BATCH}; the limit allows {allowed:.0} events/s"
    );
    println!("machine: {machine}");
    println!();
    println!(
        "{:<12}  {:>10}  {:>9}  {:>9}  {:>10}  {:>9}  {:>5}",
        "scenario", "host batch", "written", "seconds", "events/s", "fraction", "aim"
    );
    for outcome in &outcomes {
        let fraction = outcome.rate() / allowed;
        println!(
            "{:<12}  {:>10}  {:>9}  {:>9.2}  {:>10.0}  {:>9.3}  {:>5.2} {}",
            outcome.scenario.name,
            outcome.host_batch,
            outcome.written,
            outcome.seconds,
            outcome.rate(),
            fraction,
            outcome.scenario.aim,
            if fraction >= outcome.scenario.aim { "met" } else { "missed" }
        );
    }
    Ok(())
}

/// A running `cutover-emulator klaviyo`, stopped when dropped.
struct Emulator {
    child: Child,
    base_url: String,
    api_key: String,
}

impl Emulator {
    fn start(binary: &Path, rate: u32, scenario: &Scenario, folder: &Path) -> Result<Emulator> {
        let log = folder.join("emulator.log");
        let stderr = std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
        let mut command = Command::new(binary);
        command
            .args(["klaviyo", "--port", "0", "--records", "0", "--seed", "1"])
            .arg("--rate-limit")
            .arg(rate.to_string())
            .arg("--fault-429")
            .arg(scenario.rate_429.to_string())
            .arg("--fault-5xx")
            .arg(scenario.rate_5xx.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let shown = shell::show(&command);
        eprintln!("$ {shown}");
        let mut child = command.spawn().with_context(|| format!("cannot start `{shown}`"))?;
        let Some(stdout) = child.stdout.take() else { bail!("`{shown}` has no stdout") };
        let mut emulator = Emulator { child, base_url: String::new(), api_key: String::new() };
        // It prints `base_url=…`, `api_root=…`, `api_key=…`, `faults=…` once listening.
        for line in BufReader::new(stdout).lines().take(4) {
            let line = line.with_context(|| format!("cannot read what `{shown}` printed"))?;
            if let Some(url) = line.strip_prefix("base_url=") {
                emulator.base_url = url.to_owned();
            } else if let Some(key) = line.strip_prefix("api_key=") {
                emulator.api_key = key.to_owned();
            }
        }
        if emulator.base_url.is_empty() || emulator.api_key.is_empty() {
            bail!(
                "`{shown}` did not print its address and key; the end of {}:\n{}",
                log.display(),
                measure::tail(&log, 20)
            );
        }
        Ok(emulator)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Best effort: the bench is over either way.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cutover migrate` of `events` generated events into the emulator: what
/// it wrote and how long the whole run took.
fn migrate(
    binary: &Path,
    emulator: &Emulator,
    folder: &Path,
    rate: u32,
    events: u64,
    host_batch: u64,
) -> Result<(u64, f64)> {
    let config = folder.join("cutover.toml");
    let text = format!(
        r#"[source]
plugin = "generator"
config = {{ records = {CONTACTS}, events = {events}, seed = 1 }}

[destination]
plugin = "klaviyo"
config = {{ api_key = "${{{KEY_VARIABLE}}}", base_url = "{base_url}", rate_limit = {{ per_second = {rate} }} }}

[[streams]]
source = "events"
destination = "events"
batch_size = {host_batch}
"#,
        base_url = emulator.base_url,
    );
    std::fs::write(&config, text).with_context(|| format!("cannot write {}", config.display()))?;
    let report_path: PathBuf = folder.join("report.json");
    let log = folder.join("cutover.log");
    let mut command = Command::new(binary);
    command
        .arg("migrate")
        .arg(&config)
        .arg("--report-json")
        .arg(&report_path)
        .env_remove("CUTOVER_PLUGIN_PATH")
        .env(KEY_VARIABLE, &emulator.api_key);
    let measured = measure::run(&mut command, &log)?;
    measure::expect_status(&measured, &[0], "cutover migrate", &log)?;
    let report =
        std::fs::read_to_string(&report_path).with_context(|| format!("cannot read {}", report_path.display()))?;
    let report: serde_json::Value =
        serde_json::from_str(&report).with_context(|| format!("{} is not JSON", report_path.display()))?;
    let count = |field: &str| report.pointer(&format!("/streams/0/{field}")).and_then(serde_json::Value::as_u64);
    let (Some(read), Some(created)) = (count("read"), count("created")) else {
        bail!("{} has no read/created counts for its stream", report_path.display());
    };
    if read != events || created != events {
        bail!("the run did not write every event: {events} generated, read {read}, created {created}");
    }
    Ok((created, measured.elapsed.as_secs_f64()))
}
