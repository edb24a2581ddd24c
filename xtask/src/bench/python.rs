//! The throwaway Python virtualenv the load benchmark runs dlt and sling
//! from (`target/bench-load/venv`), and installing each tool into it.
//!
//! Packages are named in `xtask/bench-load/requirements-<tool>.txt` and
//! installed with the venv's own pip, by name, from whatever index pip is
//! configured with. A tool that is importable already is not installed again.
//! Every failure is returned as the reason to skip that tool, never as an
//! error: the benchmark goes on without it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A virtualenv that exists and has a Python.
pub struct Venv {
    folder: PathBuf,
}

impl Venv {
    /// The venv in `folder`, created with `python3 -m venv` when it has none.
    pub fn ensure(folder: &Path) -> Result<Venv, String> {
        let venv = Venv { folder: folder.to_owned() };
        if !venv.python().is_file() {
            let mut create = Command::new("python3");
            create.args(["-m", "venv"]).arg(folder);
            run_quietly(&mut create).map_err(|why| format!("cannot create a virtualenv: {why}"))?;
        }
        Ok(venv)
    }

    /// The venv's `python`.
    pub fn python(&self) -> PathBuf {
        self.folder.join("bin").join("python")
    }

    /// What `code` prints when run by the venv's Python, or why it failed.
    pub fn eval(&self, code: &str) -> Result<String, String> {
        let output = Command::new(self.python())
            .args(["-c", code])
            .stdin(Stdio::null())
            .output()
            .map_err(|error| format!("cannot start {}: {error}", self.python().display()))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        } else {
            Err(last_line(&output.stderr))
        }
    }

    /// Makes `probe` (Python code) succeed, installing `requirements` when it
    /// does not yet; returns what the probe prints.
    pub fn provide(&self, requirements: &Path, probe: &str) -> Result<String, String> {
        if let Ok(found) = self.eval(probe) {
            return Ok(found);
        }
        let mut install = Command::new(self.python());
        install
            .args(["-m", "pip", "install", "--disable-pip-version-check", "--quiet", "--timeout", "30", "--retries"])
            .args(["1", "-r"])
            .arg(requirements);
        run_quietly(&mut install).map_err(|why| format!("pip install -r {} failed: {why}", requirements.display()))?;
        self.eval(probe).map_err(|why| format!("installed, but `{probe}` fails: {why}"))
    }
}

/// Runs `command` with its output captured, which is shown (its last line)
/// only when it fails.
fn run_quietly(command: &mut Command) -> Result<(), String> {
    eprintln!("$ {}", crate::shell::show(command));
    let output = command.stdin(Stdio::null()).output().map_err(|error| format!("cannot start: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    let mut why = last_line(&output.stderr);
    if why.is_empty() {
        why = last_line(&output.stdout);
    }
    Err(format!("{} ({why})", crate::shell::describe(output.status)))
}

fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("").trim().to_owned()
}
