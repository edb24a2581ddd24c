//! `cargo xtask demo`: builds the workspace and the plugins, then runs the
//! sample migration (`examples/esp-to-archive/cutover.toml`) with the freshly built
//! `cutover` and exits with its exit code.

use crate::{plugins, shell};
use anyhow::{Context, Result, bail};
use std::process::{Command, ExitCode};

const STEP: &str = "demo";

pub fn run() -> Result<ExitCode> {
    shell::run("build", shell::cargo()?.args(["build", "--workspace"]))?;
    let plugin_dir = plugins::build_and_install(false)?;
    // The host looks for plugins in a `plugins` folder beside its binary.
    let binary = plugin_dir.with_file_name(format!("cutover{}", std::env::consts::EXE_SUFFIX));
    if !binary.is_file() {
        bail!(
            "step `{STEP}` failed: {} does not exist: the workspace built no `cutover` binary (is `host` a workspace \
             member?)",
            binary.display()
        );
    }
    let mut migrate = Command::new(&binary);
    migrate.args(["migrate", "examples/esp-to-archive/cutover.toml"]).current_dir(shell::project_root()?);
    let shown = shell::show(&migrate);
    eprintln!("$ {shown}");
    let status = migrate.status().with_context(|| format!("step `{STEP}` failed: cannot start `{shown}`"))?;
    match status.code() {
        // 3: finished and balanced, with rejected records; the sample export
        // is messy on purpose, so that is the expected ending.
        Some(0 | 3) => Ok(ExitCode::SUCCESS),
        Some(code) => {
            eprintln!("xtask: step `{STEP}`: `{shown}` {}", shell::describe(status));
            Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
        }
        None => bail!("step `{STEP}` failed: `{shown}` {}", shell::describe(status)),
    }
}
