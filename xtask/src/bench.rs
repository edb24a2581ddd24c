//! `cargo xtask bench`: builds the release plugins, then runs the boundary
//! benchmark (`host/benches/boundary.rs`), which prints records/s through the
//! loaded plugins and with the same code linked in-process, their ratio, and
//! the machine. Never part of `ci`.

use crate::{plugins, shell};
use anyhow::Result;
use std::process::ExitCode;

pub fn run() -> Result<ExitCode> {
    let plugin_dir = plugins::build_and_install(true)?;
    shell::run(
        "bench",
        shell::cargo()?
            .args(["bench", "-p", "cutover", "--bench", "boundary"])
            .env("CUTOVER_BENCH_PLUGIN_DIR", plugin_dir),
    )?;
    Ok(ExitCode::SUCCESS)
}
