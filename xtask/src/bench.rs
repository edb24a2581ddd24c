//! `cargo xtask bench [all|boundary|load|rate]`: the benchmarks, never part
//! of `ci`. All three run by default, in that order.
//!
//! - `boundary` builds the release plugins and runs `host/benches/boundary.rs`,
//!   which prints records/s through the loaded plugins and with the same code
//!   linked in-process, their ratio, and the machine.
//! - `load` (`load.rs`) migrates a generated messy contacts CSV
//!   (`generate.rs`) with the release `cutover` into SQLite and compares it
//!   with `sqlite3 .import`, dlt and sling (from a throwaway virtualenv,
//!   `python.rs`), each timed as its own process with its peak RSS
//!   (`measure.rs`).
//! - `rate` (`rate.rs`) writes generated engagement events into a Klaviyo
//!   emulator limited to R requests/s, clean and with 10 % of responses 429
//!   or 5xx, and prints the write rate as a fraction of what the limit allows.

mod generate;
mod load;
mod measure;
mod python;
mod rate;

use crate::flags::{self, BenchMode};
use crate::{plugins, shell};
use anyhow::Result;
use std::process::ExitCode;

pub fn run(flags: &flags::Bench) -> Result<ExitCode> {
    if matches!(flags.mode, BenchMode::All | BenchMode::Boundary) {
        boundary()?;
    }
    if matches!(flags.mode, BenchMode::All | BenchMode::Load) {
        load::run(flags)?;
    }
    if matches!(flags.mode, BenchMode::All | BenchMode::Rate) {
        rate::run(flags)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn boundary() -> Result<()> {
    let plugin_dir = plugins::build_and_install(true)?;
    shell::run(
        "bench",
        shell::cargo()?
            .args(["bench", "-p", "cutover", "--bench", "boundary"])
            .env("CUTOVER_BENCH_PLUGIN_DIR", plugin_dir),
    )
}
