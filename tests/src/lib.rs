//! The harness for cutover's end-to-end tests: where the built `cutover`
//! binary and plugin libraries are, and a workspace of files per test.
//!
//! Not here: the tests themselves (`e2e/`, one module per verb). The tests
//! run what `cargo build --workspace` and `cargo xtask plugins` built; `cargo
//! xtask ci` does both before running them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).to_owned()
}

/// `target/<profile>`, found from this test binary's own path
/// (`target/<profile>/deps/e2e-…`).
pub fn profile_dir() -> PathBuf {
    let executable = std::env::current_exe().unwrap_or_default();
    executable.ancestors().nth(2).unwrap_or(Path::new("target/debug")).to_owned()
}

fn built(path: PathBuf) -> PathBuf {
    assert!(path.exists(), "{} is missing: run `cargo build --workspace && cargo xtask plugins` first", path.display());
    path
}

/// The built `cutover` binary.
pub fn cutover_binary() -> PathBuf {
    built(profile_dir().join(format!("cutover{}", std::env::consts::EXE_SUFFIX)))
}

/// The library file of a workspace plugin crate (`cutover_plugin_jsonl`),
/// from the default plugin folder or the fixtures folder.
pub fn plugin_library(crate_name: &str) -> PathBuf {
    let file = format!("{}{crate_name}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    let folder = if crate_name.starts_with("cutover_fixture") { "fixture-plugins" } else { "plugins" };
    built(profile_dir().join(folder).join(file))
}

/// The folder of the misbehaving fixture plugins.
pub fn fixture_dir() -> PathBuf {
    built(profile_dir().join("fixture-plugins"))
}

/// A test's own folder, kept (and its path printed) when the test fails.
pub struct Workspace {
    folder: tempfile::TempDir,
}

impl Workspace {
    /// A new empty folder.
    pub fn new() -> Workspace {
        Workspace { folder: tempfile::Builder::new().prefix("cutover-e2e-").tempdir().expect("a temp folder") }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.folder.path()
    }

    /// Writes a file (and its folders) under the workspace.
    pub fn write(&self, relative: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folders");
        }
        std::fs::write(&path, content).expect("write file");
        path
    }

    /// Copies a file into a folder of the workspace.
    pub fn copy_into(&self, source: &Path, folder: &str) -> PathBuf {
        let target_folder = self.path().join(folder);
        std::fs::create_dir_all(&target_folder).expect("create folder");
        let target = target_folder.join(source.file_name().expect("a file name"));
        std::fs::copy(source, &target).expect("copy file");
        target
    }

    /// A copy of the `cutover` binary in `bin/`, whose default plugin folder
    /// (`bin/plugins`) is empty: for tests that must see only the plugin
    /// folders they name.
    pub fn isolated_cutover(&self) -> Command {
        let binary = self.copy_into(&cutover_binary(), "bin");
        let mut command = Command::new(binary);
        command.env_remove("CUTOVER_PLUGIN_PATH").current_dir(self.path());
        command
    }

    /// The built `cutover` binary, with its default plugin folder.
    pub fn cutover(&self) -> Command {
        let mut command = Command::new(cutover_binary());
        command.env_remove("CUTOVER_PLUGIN_PATH").current_dir(self.path());
        command
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace::new()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let kept = std::mem::replace(&mut self.folder, tempfile::tempdir().expect("a temp folder")).keep();
            eprintln!("test failed: its files are kept in {}", kept.display());
        }
    }
}

/// Runs a command and returns its output, with stdout and stderr as text.
pub fn run(command: &mut Command) -> (Output, String, String) {
    let output = command.output().expect("the command runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

/// Starts `cutover migrate CONFIG` in `workspace` `runs` times and kills it
/// with SIGKILL after a deterministic "random" delay (a small LCG from
/// `seed`) between `min_ms` and `min_ms + spread_ms`, unless it ended first.
/// Returns how many runs were killed.
pub fn migrate_killed_at_random_moments(
    workspace: &Workspace,
    config: &Path,
    runs: usize,
    mut seed: u64,
    (min_ms, spread_ms): (u64, u64),
) -> usize {
    let mut kills = 0;
    for _ in 0..runs {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let delay = std::time::Duration::from_millis(min_ms + (seed >> 33) % spread_ms.max(1));
        let mut child = workspace
            .cutover()
            .arg("migrate")
            .arg(config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("cutover starts");
        std::thread::sleep(delay);
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        child.wait().expect("reaped");
    }
    kills
}
