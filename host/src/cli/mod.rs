//! One file per CLI verb: each parses nothing itself (clap did), calls into
//! the library, and prints results to stdout. Diagnostics go to stderr.

pub mod migrate;
pub mod plugins;
pub mod progress;
pub mod rejects;
pub mod status;

use crate::discovery::{self, Discovery};
use std::path::PathBuf;

/// Exit status: everything done.
pub const EXIT_OK: u8 = 0;
/// Exit status: an error, or a run in which a stream failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: the command line was wrong (clap's own code).
pub const EXIT_USAGE: u8 = 2;
/// Exit status: the run finished and balanced, but some records were rejected.
pub const EXIT_REJECTS: u8 = 3;

/// Finds and loads plugins from the flag folders, `CUTOVER_PLUGIN_PATH` and
/// the default folder, and reports each skipped file on stderr.
pub fn load_plugins(plugin_dirs: &[PathBuf]) -> Discovery {
    let environment = std::env::var("CUTOVER_PLUGIN_PATH").ok();
    let executable = std::env::current_exe().ok();
    let search = discovery::search_path(plugin_dirs, environment.as_deref(), executable.as_deref());
    let found = discovery::discover(&search);
    for problem in &found.problems {
        eprintln!("warning: {problem}");
    }
    found
}
