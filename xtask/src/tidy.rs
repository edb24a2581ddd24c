//! The tidy check: conventions no compiler enforces. Every crate root of a
//! workspace package opens with a `//!` doc (within its first lines); no
//! source file under the project folders keeps a `dbg!(` or `todo!(`; the
//! layering holds (a crate does not reach, through its normal dependencies,
//! a package its layer must not know: [`LAYERS`]); and `crates/` holds only
//! the product (no emulator, which is a test double under `tests/`).
//!
//! This file is the one exception to the second rule, since it names both.

use crate::metadata::Metadata;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

const STEP: &str = "tidy";

/// How far down a crate root its `//!` doc may start (after a licence line or
/// an attribute, say).
const CRATE_DOC_WITHIN_LINES: usize = 5;

/// Folders whose `.rs` files are searched for leftovers.
const SOURCE_FOLDERS: &[&str] = &["crates", "plugins", "host", "tests", "xtask"];

/// Macros that must not be committed.
const LEFTOVERS: &[&str] = &["dbg!(", "todo!("];

/// What a crate must not reach through its normal dependencies, with why.
const LAYERS: &[(&str, &[&str], &str)] = &[
    ("cutover-schema", &["abi_stable", "reqwest", "tokio"], "the canonical schema knows nothing of FFI or I/O"),
    ("cutover-contract", &["abi_stable", "reqwest", "tokio"], "the contract's vocabulary has no FFI in it"),
    ("cutover-http", &["abi_stable"], "the HTTP toolkit speaks the contract's vocabulary, not the FFI"),
    ("cutover-abi", &["reqwest", "tokio"], "the boundary knows nothing of HTTP or async"),
    (
        "cutover-redirects",
        &["abi_stable", "rusqlite", "cutover-schema"],
        "the redirect map and server know no plugin, no state store and no record",
    ),
];

/// Runs every tidy rule over the workspace `metadata` describes.
pub fn check(metadata: &Metadata) -> Result<()> {
    let root = &metadata.workspace_root;
    let mut problems = layering(metadata);
    for package in &metadata.packages {
        if package.name.contains("emulator") && package.dir().starts_with(root.join("crates")) {
            problems.push(format!(
                "{}: package `{}` is an emulator, a test double: move it under tests/emulators/",
                relative(root, package.dir()),
                package.name
            ));
        }
    }
    for package in &metadata.packages {
        for crate_root in ["src/lib.rs", "src/main.rs"] {
            let path = package.dir().join(crate_root);
            if path.is_file() && !opens_with_crate_doc(&read(&path)?) {
                problems.push(format!(
                    "{}: no `//!` crate doc in the first {CRATE_DOC_WITHIN_LINES} lines: say what the crate is, \
                     what it is not, and where to start reading",
                    relative(root, &path)
                ));
            }
        }
    }
    let own_source = root.join("xtask").join("src").join("tidy.rs");
    for folder in SOURCE_FOLDERS {
        for path in rust_files(&root.join(folder))? {
            if path == own_source {
                continue;
            }
            for (number, line) in read(&path)?.lines().enumerate() {
                for leftover in LEFTOVERS.iter().filter(|leftover| line.contains(*leftover)) {
                    problems.push(format!("{}:{}: `{leftover}` left in the code", relative(root, &path), number + 1));
                }
            }
        }
    }
    if !problems.is_empty() {
        bail!("step `{STEP}` failed: {} problem(s):\n  {}", problems.len(), problems.join("\n  "));
    }
    eprintln!("tidy: ok");
    Ok(())
}

/// Breaches of [`LAYERS`]: each names the crate, what it reaches and the
/// path of packages it reaches it through.
fn layering(metadata: &Metadata) -> Vec<String> {
    let mut problems = Vec::new();
    for (package, forbidden, why) in LAYERS {
        for reached in forbidden.iter() {
            if let Some(path) = dependency_path(metadata, package, reached) {
                problems.push(format!("{package} depends on {reached} (through {}): {why}", path.join(" → ")));
            }
        }
    }
    problems
}

/// The chain of normal dependencies from workspace package `from` to the
/// package `to`, if there is one (dependencies outside the workspace are
/// not followed: `--no-deps` does not describe them).
fn dependency_path(metadata: &Metadata, from: &str, to: &str) -> Option<Vec<String>> {
    let mut pending = vec![vec![from.to_owned()]];
    let mut seen = std::collections::HashSet::new();
    while let Some(path) = pending.pop() {
        let last = path.last()?.clone();
        if !seen.insert(last.clone()) {
            continue;
        }
        let Some(package) = metadata.packages.iter().find(|package| package.name == last) else {
            continue;
        };
        for dependency in package.dependencies.iter().filter(|dependency| dependency.kind.is_none()) {
            let mut next = path.clone();
            next.push(dependency.name.clone());
            if dependency.name == to {
                return Some(next);
            }
            pending.push(next);
        }
    }
    None
}

fn opens_with_crate_doc(source: &str) -> bool {
    source.lines().take(CRATE_DOC_WITHIN_LINES).any(|line| line.trim_start().starts_with("//!"))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("step `{STEP}` failed: cannot read {}", path.display()))
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Every `.rs` file under `folder`, skipping build output and hidden folders;
/// nothing if `folder` does not exist.
fn rust_files(folder: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(folder) = pending.pop() {
        if !folder.is_dir() {
            continue;
        }
        let entries = std::fs::read_dir(&folder)
            .with_context(|| format!("step `{STEP}` failed: cannot list {}", folder.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("step `{STEP}` failed: cannot list {}", folder.display()))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let file_type =
                entry.file_type().with_context(|| format!("step `{STEP}` failed: cannot stat {}", path.display()))?;
            if file_type.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    pending.push(path);
                }
            } else if name.ends_with(".rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(source: &str, expected: bool) {
        assert_eq!(opens_with_crate_doc(source), expected, "{source:?}");
    }

    fn package(name: &str, dependencies: &[(&str, Option<&str>)]) -> crate::metadata::Package {
        crate::metadata::Package {
            name: name.into(),
            manifest_path: PathBuf::from(format!("/w/{name}/Cargo.toml")),
            targets: Vec::new(),
            dependencies: dependencies
                .iter()
                .map(|(name, kind)| crate::metadata::Dependency { name: (*name).into(), kind: kind.map(str::to_owned) })
                .collect(),
        }
    }

    #[test]
    fn a_layer_breach_is_found_through_other_packages_and_dev_dependencies_do_not_count() {
        let metadata = Metadata {
            packages: vec![
                package("cutover-http", &[("cutover-contract", None), ("cutover-sdk", Some("dev"))]),
                package("cutover-contract", &[("cutover-abi", None)]),
                package("cutover-abi", &[("abi_stable", None)]),
                package("cutover-sdk", &[("abi_stable", None)]),
            ],
            target_directory: PathBuf::from("/w/target"),
            workspace_root: PathBuf::from("/w"),
        };
        let path = dependency_path(&metadata, "cutover-http", "abi_stable").unwrap();
        assert_eq!(path, ["cutover-http", "cutover-contract", "cutover-abi", "abi_stable"]);
        assert!(dependency_path(&metadata, "cutover-sdk", "reqwest").is_none());
        let problems = layering(&metadata);
        assert!(
            problems.iter().any(|problem| problem.starts_with("cutover-http depends on abi_stable")),
            "{problems:?}"
        );
    }

    #[test]
    fn crate_docs_must_open_the_file() {
        check("//! The crate.\nmod a;\n", true);
        check("// SPDX-License-Identifier: MIT\n\n//! The crate.\n", true);
        check("mod a;\nmod b;\nmod c;\nmod d;\nmod e;\n//! Too late.\n", false);
        check("/// An item doc is not a crate doc.\npub struct A;\n", false);
        check("", false);
    }
}
