//! `cargo xtask ci`: every check CI runs, in a fixed order, stopping at the
//! first that fails and naming it. `.ci/run` installs what is missing and
//! calls this; run it locally before pushing.

use crate::{demo, metadata, plugins, shell, tidy};
use anyhow::{Context, Result};
use std::process::ExitCode;

type Step = (&'static str, fn() -> Result<()>);

/// The steps, in order: cheap checks first, so a formatting slip fails in
/// seconds rather than after the build.
const STEPS: &[Step] = &[
    ("fmt", || shell::run("fmt", shell::cargo()?.args(["fmt", "--all", "--", "--check"]))),
    ("clippy", || {
        shell::run("clippy", shell::cargo()?.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))
    }),
    // The host binary and every plugin cdylib, so the end-to-end tests find them.
    ("build", || shell::run("build", shell::cargo()?.args(["build", "--workspace"]))),
    ("plugins", || plugins::build_and_install(false).map(drop)),
    // The README's first command, on the shipped sample data, so it stays true.
    ("demo", || match demo::run()? {
        code if code == std::process::ExitCode::SUCCESS => Ok(()),
        _ => anyhow::bail!("step `demo` failed: `cargo xtask demo` did not finish (see its output above)"),
    }),
    ("test", || shell::run("test", shell::cargo()?.args(["nextest", "run", "--workspace", "--no-fail-fast"]))),
    // The emulators driven by the vendors' own clients and Singer taps,
    // installed from PyPI into target/fidelity (needs the built emulator).
    ("fidelity", || {
        let mut suite = std::process::Command::new("bash");
        suite.arg("tests/fidelity/run.sh").current_dir(shell::project_root()?);
        shell::run("fidelity", &mut suite)
    }),
    // nextest does not run doctests: the examples in the docs are run here.
    ("doctest", || shell::run("doctest", shell::cargo()?.args(["test", "--workspace", "--doc"]))),
    ("doc", || {
        shell::run("doc", shell::cargo()?.env("RUSTDOCFLAGS", "-Dwarnings").args(["doc", "--workspace", "--no-deps"]))
    }),
    ("tidy", || tidy::check(&metadata::load("tidy")?)),
];

pub fn run() -> Result<ExitCode> {
    for (number, (name, step)) in STEPS.iter().enumerate() {
        eprintln!("==> ci step {}/{}: {name}", number + 1, STEPS.len());
        step().with_context(|| format!("ci stopped at step {}/{} `{name}`", number + 1, STEPS.len()))?;
    }
    eprintln!("==> ci: all {} steps passed", STEPS.len());
    Ok(ExitCode::SUCCESS)
}
