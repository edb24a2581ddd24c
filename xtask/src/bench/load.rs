//! `cargo xtask bench load`: the end-to-end load of a messy contacts CSV into
//! SQLite by the release `cutover` (csv → sqlite-archive, with validation,
//! accounting, id map, rejects ledger and checkpoints in its state store),
//! against the raw limit (`sqlite3 .import --csv`) and two common loaders
//! (dlt, sling), each timed as its own process with its peak RSS.
//!
//! Everything lives in `target/bench-load/`: the generated CSV files (one
//! per row count, written again by every run), one folder per run with its
//! database and logs, and the Python virtualenv for dlt and sling. A tool that cannot
//! be installed or run is skipped with the reason; the rest still runs.
//! Then cutover runs again at 100k, 1M (and, with `--with-10m`, 10M) rows
//! for its peak memory as the row count grows.

use super::generate::{self, Mess};
use super::measure::{self, Measured};
use super::python::Venv;
use crate::{flags, plugins, shell};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `sqlite3` whose `.import` is the raw limit, and which sling uses to load.
const SQLITE3: &str = "/usr/bin/sqlite3";
/// Bump when the generator's output changes, so cached files are not reused.
const GENERATOR_VERSION: u32 = 1;
/// A MiB, for printing.
const MIB: f64 = 1024.0 * 1024.0;

/// One tool's measured load of the benchmark file.
struct Outcome {
    tool: &'static str,
    /// What the tool put in the database (cutover: created; others: rows in the table).
    loaded: u64,
    /// What cutover rejected with a reason (none for the others).
    rejected: Option<u64>,
    measured: Measured,
}

/// A tool that did not run, and why.
struct Skipped {
    tool: &'static str,
    why: String,
}

pub fn run(flags: &flags::Bench) -> Result<()> {
    let root = shell::project_root()?;
    shell::run("bench", shell::cargo()?.args(["build", "--release", "--package", "cutover"]))?;
    let plugin_dir = plugins::build_and_install(true)?;
    let release = plugin_dir.parent().context("the plugin folder has no parent")?.to_owned();
    let binary = release.join(format!("cutover{}", std::env::consts::EXE_SUFFIX));
    if !binary.is_file() {
        bail!("step `bench` failed: the release build made no {}", binary.display());
    }
    let scratch = release.parent().context("the release folder has no parent")?.join("bench-load");
    std::fs::create_dir_all(&scratch).with_context(|| format!("cannot create {}", scratch.display()))?;
    let machine = machine();
    if plugin_dir != release.join("plugins") {
        bail!("step `bench` failed: the plugins are in {}, not beside {}", plugin_dir.display(), binary.display());
    }
    let cutover = Cutover { binary, scratch: scratch.clone() };

    let rows = flags.rows;
    let (csv, mess) = input(&scratch, rows)?;
    let mut outcomes = Vec::new();
    let mut skipped = Vec::new();
    outcomes.push(cutover.load(&csv, rows, &mess)?);
    match sqlite_import(&scratch, &csv, rows) {
        Ok(outcome) => outcomes.push(outcome),
        Err(error) => skipped.push(Skipped { tool: "sqlite3 .import", why: format!("{error:#}") }),
    }
    if flags.no_python {
        for tool in ["dlt", "sling"] {
            skipped.push(Skipped { tool, why: "--no-python".into() });
        }
    } else {
        let bench_load = root.join("xtask").join("bench-load");
        match Venv::ensure(&scratch.join("venv")) {
            Err(why) => {
                for tool in ["dlt", "sling"] {
                    skipped.push(Skipped { tool, why: why.clone() });
                }
            }
            Ok(venv) => {
                match dlt(&venv, &bench_load, &scratch, &csv, rows) {
                    Ok(outcome) => outcomes.push(outcome),
                    Err(why) => skipped.push(Skipped { tool: "dlt", why }),
                }
                match sling(&venv, &bench_load, &scratch, &csv, rows) {
                    Ok(outcome) => outcomes.push(outcome),
                    Err(why) => skipped.push(Skipped { tool: "sling", why }),
                }
            }
        }
    }

    let mut sizes = vec![100_000, 1_000_000];
    if flags.with_10m {
        sizes.push(10_000_000);
    }
    let mut memory = Vec::new();
    for size in sizes {
        if size == rows {
            memory.push((size, outcomes[0].measured));
            continue;
        }
        let (csv, mess) = input(&scratch, size)?;
        memory.push((size, cutover.load(&csv, size, &mess)?.measured));
    }

    println!();
    println!("load benchmark: {rows} rows of messy contacts CSV ({}), seed {}", describe_mess(&mess), generate::SEED);
    println!("machine: {machine}");
    println!();
    print_table(rows, &outcomes);
    for skip in &skipped {
        println!("skipped {}: {}", skip.tool, skip.why);
    }
    println!();
    println!("cutover peak RSS by row count:");
    println!("{:>12}  {:>9}  {:>10}  {:>9}  {:>12}", "rows", "seconds", "rows/s", "CPU s", "peak RSS");
    for (size, measured) in &memory {
        let seconds = measured.elapsed.as_secs_f64();
        println!(
            "{size:>12}  {seconds:>9.2}  {:>10.0}  {:>9.2}  {:>8.1} MiB",
            *size as f64 / seconds,
            measured.cpu.as_secs_f64(),
            measured.peak_rss as f64 / MIB
        );
    }
    println!();
    print_aims(rows, &outcomes, &memory);
    Ok(())
}

/// The machine, for the record: CPU, cores, load when the bench started.
pub(super) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown cpu".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    format!("{cpu}, {cores} cores, {} {}, load average {load} at start", std::env::consts::OS, std::env::consts::ARCH)
}

/// The generated CSV of `rows` rows, written unless a finished one is there.
fn input(scratch: &Path, rows: u64) -> Result<(PathBuf, Mess)> {
    let name = format!("contacts-v{GENERATOR_VERSION}-{}-{rows}.csv", generate::SEED);
    let path = scratch.join(&name);
    let partial = scratch.join(format!("{name}.partial"));
    eprintln!("generating {} ({rows} rows)", path.display());
    // Writing the file is cheap next to loading it, and its mess counts come
    // from writing it; the same seed writes the same bytes again.
    let mess = generate::write(&partial, rows)?;
    std::fs::rename(&partial, &path)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), path.display()))?;
    Ok((path, mess))
}

fn describe_mess(mess: &Mess) -> String {
    format!(
        "{} bad emails, {} upper-case duplicates, {} quoted newlines, {} without id",
        mess.bad_email, mess.case_duplicate, mess.quoted_newline, mess.missing_id
    )
}

/// A fresh, empty folder for one run.
pub(super) fn fresh(folder: &Path) -> Result<()> {
    if folder.exists() {
        std::fs::remove_dir_all(folder).with_context(|| format!("cannot empty {}", folder.display()))?;
    }
    std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))
}

/// The release `cutover` and its plugins.
struct Cutover {
    binary: PathBuf,
    scratch: PathBuf,
}

impl Cutover {
    /// `cutover migrate` of `csv` into a fresh archive and state store.
    fn load(&self, csv: &Path, rows: u64, mess: &Mess) -> Result<Outcome> {
        let folder = self.scratch.join(format!("cutover-{rows}"));
        fresh(&folder)?;
        let config = folder.join("cutover.toml");
        std::fs::write(&config, migration_config(csv)?)
            .with_context(|| format!("cannot write {}", config.display()))?;
        let report_path = folder.join("report.json");
        let log = folder.join("cutover.log");
        // The plugins are in the folder beside the binary, which the host
        // searches anyway (naming it with `--plugin-dir` too would load each twice).
        let mut migrate = Command::new(&self.binary);
        migrate.arg("migrate").arg(&config).arg("--report-json").arg(&report_path).env_remove("CUTOVER_PLUGIN_PATH");
        let measured = measure::run(&mut migrate, &log)?;
        // 3: finished and balanced, with rejects, as a messy file should.
        measure::expect_status(&measured, &[0, 3], "cutover migrate", &log)?;
        let report =
            std::fs::read_to_string(&report_path).with_context(|| format!("cannot read {}", report_path.display()))?;
        let report: serde_json::Value =
            serde_json::from_str(&report).with_context(|| format!("{} is not JSON", report_path.display()))?;
        let count = |field: &str| report.pointer(&format!("/streams/0/{field}")).and_then(serde_json::Value::as_u64);
        let (Some(read), Some(created), Some(rejected)) = (count("read"), count("created"), count("rejected")) else {
            bail!("{} has no read/created/rejected counts for its stream", report_path.display());
        };
        if read != rows || created + rejected != rows {
            bail!("cutover's accounting is off: {rows} rows, read {read}, created {created}, rejected {rejected}");
        }
        if rejected != mess.rejectable {
            eprintln!(
                "note: cutover rejected {rejected} rows; the file has {} with a bad email or no id",
                mess.rejectable
            );
        }
        Ok(Outcome { tool: "cutover", loaded: created, rejected: Some(rejected), measured })
    }
}

/// The migration config: the sample's mapping (`examples/esp-to-archive`),
/// reading `csv`, into `archive.db` beside the config, state beside it too.
fn migration_config(csv: &Path) -> Result<String> {
    let folder = csv.parent().context("the CSV has no folder")?;
    let file = csv.file_name().context("the CSV has no file name")?;
    // A JSON string is a valid TOML basic string.
    let quoted = |path: &Path| serde_json::to_string(&path.to_string_lossy()).context("cannot quote a path");
    Ok(format!(
        r#"[source]
plugin = "csv"

[source.config]
folder = {folder}
platform = "mailchimp-export"

[source.config.streams.contacts]
file = {file}

[source.config.streams.contacts.columns]
"Email Address" = "email"
"Last Changed" = "updated_at"
"LEID" = "source_id"
"Status" = "custom.status"
"Tags" = "custom.tags"
"Lifetime Value" = "custom.lifetime_value"
"Notes" = "custom.notes"

[destination]
plugin = "sqlite-archive"
config = {{ path = "archive.db" }}

[[streams]]
source = "contacts"
destination = "contact"
"#,
        folder = quoted(folder)?,
        file = quoted(Path::new(file))?,
    ))
}

/// Rows in `table` of the SQLite file `database` (not timed).
fn count_rows(database: &Path, table: &str) -> Result<u64> {
    let output = Command::new(SQLITE3)
        .arg(database)
        .arg(format!("SELECT count(*) FROM {table}"))
        .output()
        .with_context(|| format!("cannot start {SQLITE3}"))?;
    if !output.status.success() {
        bail!(
            "cannot count the rows of {table} in {}: {}",
            database.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim().parse().with_context(|| format!("`{}` is not a row count", text.trim()))
}

/// `sqlite3 DB '.import --csv CSV contacts'` into a fresh database.
fn sqlite_import(scratch: &Path, csv: &Path, rows: u64) -> Result<Outcome> {
    if !Path::new(SQLITE3).is_file() {
        bail!("{SQLITE3} is not installed");
    }
    let folder = scratch.join(format!("sqlite3-{rows}"));
    fresh(&folder)?;
    let database = folder.join("import.db");
    let log = folder.join("sqlite3.log");
    let mut import = Command::new(SQLITE3);
    import.arg(&database).arg(format!(".import --csv {} contacts", csv.display()));
    let measured = measure::run(&mut import, &log)?;
    measure::expect_status(&measured, &[0], "sqlite3 .import", &log)?;
    Ok(Outcome { tool: "sqlite3 .import", loaded: count_rows(&database, "contacts")?, rejected: None, measured })
}

/// dlt (`xtask/bench-load/dlt_load.py`) into a fresh database.
fn dlt(venv: &Venv, bench_load: &Path, scratch: &Path, csv: &Path, rows: u64) -> Result<Outcome, String> {
    venv.provide(&bench_load.join("requirements-dlt.txt"), "import dlt, sqlalchemy; print(dlt.__version__)")?;
    let folder = scratch.join(format!("dlt-{rows}"));
    fresh(&folder).map_err(|error| format!("{error:#}"))?;
    let database = folder.join("dlt.db");
    let log = folder.join("dlt.log");
    let mut load = Command::new(venv.python());
    load.arg(bench_load.join("dlt_load.py")).arg(csv).arg(&database).arg(folder.join("pipelines"));
    load.env("RUNTIME__DLTHUB_TELEMETRY", "false");
    let outcome = (|| {
        let measured = measure::run(&mut load, &log)?;
        measure::expect_status(&measured, &[0], "dlt", &log)?;
        Ok(Outcome { tool: "dlt", loaded: count_rows(&database, "contacts")?, rejected: None, measured })
    })();
    outcome.map_err(|error: anyhow::Error| format!("{error:#}"))
}

/// sling, the binary of the `sling-linux-amd64` wheel, into a fresh database.
fn sling(venv: &Venv, bench_load: &Path, scratch: &Path, csv: &Path, rows: u64) -> Result<Outcome, String> {
    let binary = venv.provide(
        &bench_load.join("requirements-sling.txt"),
        "import sling_linux_amd64; print(sling_linux_amd64.SLING_BIN)",
    )?;
    if binary.is_empty() || !Path::new(&binary).is_file() {
        return Err(format!("the sling-linux-amd64 wheel has no program for this platform (`{binary}`)"));
    }
    if !Path::new(SQLITE3).is_file() {
        return Err(format!("{SQLITE3} is not installed, and without it sling inserts row by row"));
    }
    let folder = scratch.join(format!("sling-{rows}"));
    fresh(&folder).map_err(|error| format!("{error:#}"))?;
    let database = folder.join("sling.db");
    let log = folder.join("sling.log");
    let mut load = Command::new(&binary);
    load.args(["run", "--src-stream"])
        .arg(format!("file://{}", csv.display()))
        .args(["--tgt-conn", "BENCH_SQLITE", "--tgt-object", "main.contacts", "--mode", "full-refresh"])
        .env("BENCH_SQLITE", format!("sqlite://{}", database.display()))
        .env("SQLITE_PATH", SQLITE3)
        .env("SLING_HOME_DIR", folder.join("home"))
        .env("SLING_DISABLE_TELEMETRY", "true");
    let outcome = (|| {
        let measured = measure::run(&mut load, &log)?;
        measure::expect_status(&measured, &[0], "sling", &log)?;
        Ok(Outcome { tool: "sling", loaded: count_rows(&database, "contacts")?, rejected: None, measured })
    })();
    outcome.map_err(|error: anyhow::Error| format!("{error:#}"))
}

fn rate(rows: u64, outcome: &Outcome) -> f64 {
    rows as f64 / outcome.measured.elapsed.as_secs_f64()
}

fn print_table(rows: u64, outcomes: &[Outcome]) {
    let cutover = outcomes.iter().find(|outcome| outcome.tool == "cutover").map(|outcome| rate(rows, outcome));
    println!(
        "{:<16} {:>10} {:>10} {:>9} {:>9} {:>10} {:>10} {:>10} {:>12}",
        "tool", "rows", "loaded", "rejected", "seconds", "rows/s", "cutover ×", "CPU s", "peak RSS"
    );
    for outcome in outcomes {
        let ratio = cutover.map_or("-".to_owned(), |cutover| format!("{:.2}", cutover / rate(rows, outcome)));
        println!(
            "{:<16} {rows:>10} {:>10} {:>9} {:>9.2} {:>10.0} {ratio:>10} {:>10.2} {:>8.1} MiB",
            outcome.tool,
            outcome.loaded,
            outcome.rejected.map_or("-".to_owned(), |rejected| rejected.to_string()),
            outcome.measured.elapsed.as_secs_f64(),
            rate(rows, outcome),
            outcome.measured.cpu.as_secs_f64(),
            outcome.measured.peak_rss as f64 / MIB,
        );
    }
    println!(
        "(rows/s: rows in the file over wall seconds; `cutover ×`: cutover's rows/s over the tool's; CPU s: user +"
    );
    println!(" system; peak RSS: the process's, or its largest child's, e.g. the sqlite3 that sling starts)");
}

/// The issue's aims, against what was measured.
fn print_aims(rows: u64, outcomes: &[Outcome], memory: &[(u64, Measured)]) {
    let rate_of = |tool: &str| outcomes.iter().find(|outcome| outcome.tool == tool).map(|outcome| rate(rows, outcome));
    if let (Some(cutover), Some(sqlite)) = (rate_of("cutover"), rate_of("sqlite3 .import")) {
        let share = cutover / sqlite;
        let verdict = if share >= 0.5 { "met" } else { "NOT met" };
        println!("aim: cutover ≥ 0.5 × sqlite3 .import's rate: {share:.2} × — {verdict}");
    }
    let peak = memory.iter().map(|(_, measured)| measured.peak_rss).max().unwrap_or(0);
    let verdict = if peak < 64 * 1024 * 1024 { "met" } else { "NOT met" };
    println!("aim: cutover's peak RSS < 64 MiB at every size: largest {:.1} MiB — {verdict}", peak as f64 / MIB);
}
