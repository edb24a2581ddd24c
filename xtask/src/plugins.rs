//! `cargo xtask plugins`: builds every plugin library and every misbehaving
//! fixture, and copies them where the host and its tests look for them.
//!
//! Real plugins (packages under `plugins/` that build a cdylib) go to
//! `target/<profile>/plugins/`, the host's default plugin folder (a `plugins`
//! folder beside the `cutover` binary); fixtures (under `plugins/fixtures/`)
//! go to `target/<profile>/fixture-plugins/`, where only tests load them.
//! Packages are found by manifest path in `cargo metadata`, so a new plugin
//! needs no change here.

use crate::flags;
use crate::metadata::{self, Package};
use crate::shell;
use anyhow::{Context, Result, bail};
use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const STEP: &str = "plugins";

pub fn run(flags: &flags::Plugins) -> Result<ExitCode> {
    build_and_install(flags.release)?;
    Ok(ExitCode::SUCCESS)
}

/// Builds the plugin and fixture libraries with the dev or release profile and
/// installs them; returns the plugin folder.
pub fn build_and_install(release: bool) -> Result<PathBuf> {
    let metadata = metadata::load(STEP)?;
    let plugins_root = metadata.workspace_root.join("plugins");
    let fixtures_root = plugins_root.join("fixtures");
    let (fixtures, plugins): (Vec<&Package>, Vec<&Package>) = metadata
        .packages
        .iter()
        .filter(|package| package.manifest_path.starts_with(&plugins_root) && package.cdylib().is_some())
        .partition(|package| package.manifest_path.starts_with(&fixtures_root));
    if plugins.is_empty() && fixtures.is_empty() {
        bail!("step `{STEP}` failed: no package under {} builds a cdylib", plugins_root.display());
    }

    let mut build = shell::cargo()?;
    build.arg("build");
    if release {
        build.arg("--release");
    }
    for package in plugins.iter().chain(&fixtures) {
        build.args(["--package", &package.name]);
    }
    shell::run(STEP, &mut build)?;

    let profile_dir = metadata.target_directory.join(if release { "release" } else { "debug" });
    let plugin_dir = profile_dir.join("plugins");
    install(&profile_dir, &plugin_dir, &plugins)?;
    install(&profile_dir, &profile_dir.join("fixture-plugins"), &fixtures)?;
    Ok(plugin_dir)
}

/// Empties `folder` of libraries (a plugin removed from the workspace must not
/// linger) and copies the libraries of `packages` into it.
fn install(profile_dir: &Path, folder: &Path, packages: &[&Package]) -> Result<()> {
    std::fs::create_dir_all(folder)
        .with_context(|| format!("step `{STEP}` failed: cannot create {}", folder.display()))?;
    let entries =
        std::fs::read_dir(folder).with_context(|| format!("step `{STEP}` failed: cannot list {}", folder.display()))?;
    for entry in entries {
        let path = entry.with_context(|| format!("step `{STEP}` failed: cannot list {}", folder.display()))?.path();
        if !(path.is_file() && path.to_string_lossy().ends_with(DLL_SUFFIX)) {
            continue;
        }
        match std::fs::remove_file(&path) {
            // Gone already (another `cargo xtask plugins` running): as wanted.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            outcome => {
                outcome.with_context(|| format!("step `{STEP}` failed: cannot remove stale {}", path.display()))?
            }
        }
    }
    for package in packages {
        let Some(library) = package.cdylib() else { continue };
        let file_name = format!("{DLL_PREFIX}{}{DLL_SUFFIX}", library.name.replace('-', "_"));
        let built = profile_dir.join(&file_name);
        let installed = folder.join(&file_name);
        std::fs::copy(&built, &installed).with_context(|| {
            format!("step `{STEP}` failed: cannot copy {} to {}", built.display(), installed.display())
        })?;
    }
    eprintln!("installed {} libraries into {}", packages.len(), folder.display());
    Ok(())
}
