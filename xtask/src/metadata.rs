//! The workspace as `cargo metadata` describes it: which packages exist, where
//! their manifests are, what they build, and where the target folder is.

use crate::shell;
use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The part of `cargo metadata --format-version 1 --no-deps` xtask reads.
#[derive(Debug, Deserialize)]
pub struct Metadata {
    /// The workspace's own packages (`--no-deps` leaves out dependencies).
    pub packages: Vec<Package>,
    /// Where `target/` is (honours `CARGO_TARGET_DIR`).
    pub target_directory: PathBuf,
    /// The folder of the root `Cargo.toml`.
    pub workspace_root: PathBuf,
}

/// One workspace package.
#[derive(Debug, Deserialize)]
pub struct Package {
    /// The package name (`cutover-plugin-jsonl`).
    pub name: String,
    /// Absolute path of its `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// What it builds.
    pub targets: Vec<Target>,
    /// What it depends on directly (in the workspace or not).
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
}

/// One direct dependency of a package.
#[derive(Debug, Deserialize)]
pub struct Dependency {
    /// The package depended on (`abi_stable`, `cutover-contract`).
    pub name: String,
    /// `None` for a normal dependency, `dev` or `build` otherwise.
    pub kind: Option<String>,
}

/// One build target of a package.
#[derive(Debug, Deserialize)]
pub struct Target {
    /// The crate name (`cutover_plugin_jsonl`).
    pub name: String,
    /// The crate types (`cdylib`, `rlib`, `bin`).
    pub crate_types: Vec<String>,
}

impl Package {
    /// The package's folder.
    pub fn dir(&self) -> &Path {
        self.manifest_path.parent().unwrap_or(&self.manifest_path)
    }

    /// The crate built as a dynamic library, if the package builds one.
    pub fn cdylib(&self) -> Option<&Target> {
        self.targets.iter().find(|target| target.crate_types.iter().any(|kind| kind == "cdylib"))
    }
}

/// Reads the workspace's metadata, as part of `step`.
pub fn load(step: &str) -> Result<Metadata> {
    let stdout =
        shell::output(step, shell::cargo()?.args(["metadata", "--format-version", "1", "--no-deps", "--quiet"]))?;
    serde_json::from_slice(&stdout)
        .with_context(|| format!("step `{step}` failed: cannot parse `cargo metadata` output"))
}
