//! cutover's project chores, in Rust instead of shell scripts: `cargo xtask
//! <command>` (the alias lives in `.cargo/config.toml`).
//!
//! Not here: anything the `cutover` binary or a plugin needs at run time;
//! nothing in the workspace depends on this crate, and it depends on none of
//! the workspace's crates, so it builds even when they do not.
//!
//! Start at [`flags::Command`]: one variant per command, each implemented in
//! its own file. Every command prints each process it runs (`$ cargo ...`, on
//! stderr) and, on failure, names the step that failed.

mod bench;
mod ci;
mod demo;
mod flags;
mod metadata;
mod new_plugin;
mod plugins;
mod shell;
mod tidy;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let flags = flags::Xtask::parse();
    let outcome = match flags.command {
        flags::Command::Plugins(plugins) => plugins::run(&plugins),
        flags::Command::NewPlugin(new_plugin) => new_plugin::run(&new_plugin),
        flags::Command::Ci => ci::run(),
        flags::Command::Demo => demo::run(),
        flags::Command::Bench(bench) => bench::run(&bench),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}
