//! The tidy check: conventions no compiler enforces. Every crate root of a
//! workspace package opens with a `//!` doc (within its first lines), and no
//! source file under the project folders keeps a `dbg!(` or `todo!(`.
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

/// Runs every tidy rule over the workspace `metadata` describes.
pub fn check(metadata: &Metadata) -> Result<()> {
    let root = &metadata.workspace_root;
    let mut problems = Vec::new();
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

    #[test]
    fn crate_docs_must_open_the_file() {
        check("//! The crate.\nmod a;\n", true);
        check("// SPDX-License-Identifier: MIT\n\n//! The crate.\n", true);
        check("mod a;\nmod b;\nmod c;\nmod d;\nmod e;\n//! Too late.\n", false);
        check("/// An item doc is not a crate doc.\npub struct A;\n", false);
        check("", false);
    }
}
