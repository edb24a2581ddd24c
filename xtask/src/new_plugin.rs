//! `cargo xtask new-plugin NAME --kind KIND [--path DIR] [--http]`: scaffolds
//! a plugin crate that builds, loads in the host and passes conformance with
//! no edits. With `--http` the plugin speaks HTTP on the SDK's stream layer
//! and comes with an emulator crate of its API on the emulator kit.
//!
//! The files come from `xtask/templates/new-plugin/` and
//! `xtask/templates/new-plugin-http/` (built into xtask), with
//! `{{placeholder}}`s filled in. Inside this workspace the crate uses
//! `workspace = true` dependencies and is added to the root `members`;
//! anywhere else it is a workspace of its own that depends on this
//! workspace's crates by absolute path.

use crate::flags;
use crate::metadata;
use crate::shell;
use anyhow::{Context, Result, bail};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

const STEP: &str = "new-plugin";

/// Each template, by the path it is written to in the new crate.
const TEMPLATES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/new-plugin/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("../templates/new-plugin/src/lib.rs.tmpl")),
    ("src/config.rs", include_str!("../templates/new-plugin/src/config.rs.tmpl")),
    ("src/client.rs", include_str!("../templates/new-plugin/src/client.rs.tmpl")),
    ("src/mapping.rs", include_str!("../templates/new-plugin/src/mapping.rs.tmpl")),
    ("src/streams/mod.rs", include_str!("../templates/new-plugin/src/streams/mod.rs.tmpl")),
    ("src/streams/contacts.rs", include_str!("../templates/new-plugin/src/streams/contacts.rs.tmpl")),
    ("tests/conformance.rs", include_str!("../templates/new-plugin/tests/conformance.rs.tmpl")),
];

/// The `--http` plugin's templates, by the path each is written to.
const HTTP_TEMPLATES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/new-plugin-http/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("../templates/new-plugin-http/src/lib.rs.tmpl")),
    ("src/config.rs", include_str!("../templates/new-plugin-http/src/config.rs.tmpl")),
    ("src/client.rs", include_str!("../templates/new-plugin-http/src/client.rs.tmpl")),
    ("src/mapping.rs", include_str!("../templates/new-plugin-http/src/mapping.rs.tmpl")),
    ("src/streams/mod.rs", include_str!("../templates/new-plugin-http/src/streams/mod.rs.tmpl")),
    ("src/streams/contacts.rs", include_str!("../templates/new-plugin-http/src/streams/contacts.rs.tmpl")),
    ("tests/conformance.rs", include_str!("../templates/new-plugin-http/tests/conformance.rs.tmpl")),
];

/// The `--http` emulator's templates.
const EMULATOR_TEMPLATES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/new-plugin-http/emulator/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("../templates/new-plugin-http/emulator/src/lib.rs.tmpl")),
];

/// What the scaffold depends on, by name in `[workspace.dependencies]`.
const DEPENDENCIES: &[&str] = &["chrono", "cutover-sdk", "schemars", "serde", "serde_json"];
const DEV_DEPENDENCIES: &[&str] = &["cutover-conformance", "serde_json", "tempfile"];
const HTTP_DEPENDENCIES: &[&str] =
    &["chrono", "cutover-http", "cutover-sdk", "schemars", "secrecy", "serde", "serde_json"];
const HTTP_DEV_DEPENDENCIES: &[&str] = &["cutover-conformance", "serde_json", "tokio"];
const EMULATOR_DEPENDENCIES: &[&str] = &["axum", "chrono", "cutover-emulator-kit", "serde_json"];

/// How a crate outside this workspace starts saying it is a workspace of
/// its own.
const STANDALONE_WORKSPACE: &str = "\n# Built outside the cutover workspace";

/// The `[workspace.package]` fields a plugin inherits, as the existing plugins do.
const PACKAGE_FIELDS: &[&str] = &["version", "edition", "rust-version", "license", "publish"];

pub fn run(flags: &flags::NewPlugin) -> Result<ExitCode> {
    let name = flags.name.as_str();
    check_name(name)?;
    let root = shell::project_root()?;
    let root_manifest_path = root.join("Cargo.toml");
    let root_manifest_text = std::fs::read_to_string(&root_manifest_path)
        .with_context(|| format!("step `{STEP}` failed: cannot read {}", root_manifest_path.display()))?;
    let root_manifest: toml::Table = root_manifest_text
        .parse()
        .with_context(|| format!("step `{STEP}` failed: cannot parse {}", root_manifest_path.display()))?;

    let package = format!("cutover-plugin-{name}");
    let emulator_package = format!("cutover-emulator-{name}");
    let metadata = metadata::load(STEP)?;
    let taken: &[&str] = if flags.http { &[&package, &emulator_package] } else { &[&package] };
    if let Some(existing) = metadata.packages.iter().find(|existing| taken.contains(&existing.name.as_str())) {
        bail!(
            "step `{STEP}` failed: plugin name `{name}` is taken: package `{}` already exists in {}",
            existing.name,
            existing.dir().display()
        );
    }
    let folder = match &flags.path {
        Some(path) => resolve(path)?,
        None => root.join("plugins").join(name),
    };
    let member = folder.strip_prefix(&root).ok().map(|relative| relative.to_string_lossy().replace('\\', "/"));
    // The emulator is a test double: under `tests/emulators/` in this
    // workspace, beside the plugin's own files in a crate outside it.
    let emulator_folder = flags.http.then(|| match &member {
        Some(_) => root.join("tests").join("emulators").join(name),
        None => folder.join("emulator"),
    });
    for made in std::iter::once(&folder).chain(emulator_folder.as_ref()) {
        if made.exists() {
            bail!("step `{STEP}` failed: {} already exists: choose another NAME or --path", made.display());
        }
    }

    let (templates, dependencies, dev_dependencies) = match flags.http {
        true => (HTTP_TEMPLATES, HTTP_DEPENDENCIES, HTTP_DEV_DEPENDENCIES),
        false => (TEMPLATES, DEPENDENCIES, DEV_DEPENDENCIES),
    };
    let mut manifest = match member {
        Some(_) => ManifestParts::workspace_member(&root_manifest, dependencies, dev_dependencies),
        None => ManifestParts::standalone(&root_manifest, &root, dependencies, dev_dependencies)?,
    };
    let mut emulator_manifest = match member {
        Some(_) => ManifestParts::workspace_member(&root_manifest, EMULATOR_DEPENDENCIES, &[]),
        None => ManifestParts::standalone(&root_manifest, &root, EMULATOR_DEPENDENCIES, &[])?,
    };
    if let Some(emulator_folder) = &emulator_folder {
        let relative = match emulator_folder.strip_prefix(&folder) {
            Ok(inside) => inside.to_string_lossy().replace('\\', "/"),
            Err(_) => {
                let depth = folder.strip_prefix(&root).map_or(0, |relative| relative.components().count());
                let below_root = emulator_folder.strip_prefix(&root).unwrap_or(emulator_folder);
                format!("{}{}", "../".repeat(depth), below_root.to_string_lossy().replace('\\', "/"))
            }
        };
        manifest.dev_dependencies.push_str(&format!("\n{emulator_package} = {{ path = \"{relative}\" }}"));
        if member.is_none() {
            // The emulator is a member of the plugin's own workspace, and
            // only the plugin's manifest says `[workspace]`.
            manifest.tail.push_str("\nmembers = [\"emulator\"]");
            if let Some(own_workspace) = emulator_manifest.tail.find(STANDALONE_WORKSPACE) {
                emulator_manifest.tail.truncate(own_workspace);
            }
        }
    }
    let replacements = [
        ("{{name}}", name.to_owned()),
        ("{{package}}", package.clone()),
        ("{{crate_name}}", package.replace('-', "_")),
        ("{{type}}", type_prefix(name)),
        ("{{kind}}", flags.kind.name().to_owned()),
        ("{{kind_variant}}", flags.kind.variant().to_owned()),
        ("{{package_fields}}", manifest.package_fields),
        ("{{dependencies}}", manifest.dependencies),
        ("{{dev_dependencies}}", manifest.dev_dependencies),
        ("{{tail}}", manifest.tail),
        ("{{emulator_package}}", emulator_package.clone()),
        ("{{emulator_crate}}", emulator_package.replace('-', "_")),
        ("{{emulator_dependencies}}", emulator_manifest.dependencies),
        ("{{emulator_tail}}", emulator_manifest.tail),
    ];

    let written = write_crate(&folder, templates, &replacements).and_then(|()| match &emulator_folder {
        Some(emulator_folder) => write_crate(emulator_folder, EMULATOR_TEMPLATES, &replacements),
        None => Ok(()),
    });
    if let Err(error) = written {
        // The folders did not exist before: leave nothing half-made behind.
        for made in std::iter::once(&folder).chain(emulator_folder.as_ref()) {
            let _ = std::fs::remove_dir_all(made);
        }
        return Err(error);
    }
    match &member {
        Some(member) => {
            add_member(&root_manifest_path, &root_manifest_text, &root_manifest, member)?;
            if let Some(emulator_folder) = &emulator_folder {
                let emulator_member = emulator_folder.strip_prefix(&root).unwrap_or(emulator_folder);
                let text = std::fs::read_to_string(&root_manifest_path)
                    .with_context(|| format!("step `{STEP}` failed: cannot read {}", root_manifest_path.display()))?;
                let manifest: toml::Table = text
                    .parse()
                    .with_context(|| format!("step `{STEP}` failed: cannot parse {}", root_manifest_path.display()))?;
                let emulator_member = emulator_member.to_string_lossy().replace('\\', "/");
                add_member(&root_manifest_path, &text, &manifest, &emulator_member)?;
            }
        }
        None => {
            // The workspace's Cargo.lock, so a standalone build resolves the
            // versions the workspace already tested (and reuses a shared
            // target folder; cargo prunes what this crate does not use), and
            // its formatting and lint settings, so the crate reads the same.
            for file in ["Cargo.lock", "rustfmt.toml", "clippy.toml"] {
                let source = root.join(file);
                if source.is_file() {
                    std::fs::copy(&source, folder.join(file)).with_context(|| {
                        format!("step `{STEP}` failed: cannot copy {} into {}", source.display(), folder.display())
                    })?;
                }
            }
        }
    }
    // The templates are formatted already; a long NAME can still push a line
    // past the width, and CI checks formatting.
    for made in std::iter::once(&folder).chain(emulator_folder.as_ref()) {
        let mut format = shell::cargo()?;
        format.arg("fmt").arg("--manifest-path").arg(made.join("Cargo.toml"));
        if let Err(error) = shell::run(STEP, &mut format) {
            eprintln!("warning: {error:#}: run `cargo fmt` in {} before committing", made.display());
        }
    }

    eprintln!("created {package} in {}", folder.display());
    if let Some(emulator_folder) = &emulator_folder {
        eprintln!("created {emulator_package} (an emulator of its API on the kit) in {}", emulator_folder.display());
    }
    match &member {
        Some(_) => eprintln!("next: cargo test --package {package} && cargo xtask plugins"),
        None => eprintln!("next: cd {} && cargo test", folder.display()),
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses a name operators could not write, or that would not make a crate.
fn check_name(name: &str) -> Result<()> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .split('-')
            .all(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    if !valid {
        bail!(
            "step `{STEP}` failed: invalid plugin name `{name}`: use lowercase ASCII letters and digits, starting with \
             a letter, words joined by single `-` (e.g. `mailchimp`, `active-campaign`)"
        );
    }
    Ok(())
}

/// `demo-scaffold` → `DemoScaffold`, the prefix of the crate's type names.
fn type_prefix(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut characters = word.chars();
            characters
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + characters.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `path` made absolute with symlinks resolved as far as it exists, so it can
/// be compared with the workspace root.
fn resolve(path: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(path)
        .with_context(|| format!("step `{STEP}` failed: cannot make {} absolute", path.display()))?;
    let mut existing = absolute.as_path();
    let mut missing = Vec::new();
    while !existing.exists() {
        let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
            bail!("step `{STEP}` failed: no part of {} exists", absolute.display());
        };
        missing.push(name);
        existing = parent;
    }
    if Path::new(&missing.iter().collect::<PathBuf>()).components().any(|part| !matches!(part, Component::Normal(_))) {
        bail!("step `{STEP}` failed: cannot resolve {}: `..` after a folder that does not exist", absolute.display());
    }
    let mut resolved = std::fs::canonicalize(existing)
        .with_context(|| format!("step `{STEP}` failed: cannot resolve {}", existing.display()))?;
    resolved.extend(missing.iter().rev());
    Ok(resolved)
}

fn write_crate(folder: &Path, templates: &[(&str, &str)], replacements: &[(&str, String)]) -> Result<()> {
    for (relative, template) in templates {
        let mut text = (*template).to_owned();
        for (placeholder, value) in replacements {
            text = text.replace(placeholder, value);
        }
        if let Some(placeholder) = leftover_placeholder(&text) {
            bail!(
                "step `{STEP}` failed: template for {relative} has an unknown placeholder {placeholder}: an xtask bug"
            );
        }
        let path = folder.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("step `{STEP}` failed: cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text)
            .with_context(|| format!("step `{STEP}` failed: cannot write {}", path.display()))?;
    }
    Ok(())
}

/// A `{{placeholder}}` left after substitution, if any. Rust format strings
/// in the templates use `{{` too, but never around a bare lowercase word.
fn leftover_placeholder(text: &str) -> Option<&str> {
    text.match_indices("{{").find_map(|(start, _)| {
        let rest = &text[start + 2..];
        let word = &rest[..rest.find("}}")?];
        (!word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .then(|| &text[start..start + word.len() + 4])
    })
}

/// The parts of the new `Cargo.toml` that depend on where the crate lives.
struct ManifestParts {
    package_fields: String,
    dependencies: String,
    dev_dependencies: String,
    /// What follows `[dev-dependencies]`: the lints, and for a standalone
    /// crate its own `[workspace]`.
    tail: String,
}

impl ManifestParts {
    fn workspace_member(
        root_manifest: &toml::Table,
        dependencies: &[&str],
        dev_dependencies: &[&str],
    ) -> ManifestParts {
        let inherited =
            |key: &&str| table_at(root_manifest, &["workspace", "package"]).is_some_and(|t| t.contains_key(*key));
        let lines =
            |keys: &[&str]| keys.iter().map(|key| format!("{key}.workspace = true")).collect::<Vec<_>>().join("\n");
        let package_fields: Vec<&str> = PACKAGE_FIELDS.iter().copied().filter(|key| inherited(key)).collect();
        ManifestParts {
            package_fields: lines(&package_fields),
            dependencies: lines(dependencies),
            dev_dependencies: lines(dev_dependencies),
            tail: "\n[lints]\nworkspace = true".to_owned(),
        }
    }

    fn standalone(
        root_manifest: &toml::Table,
        root: &Path,
        dependencies: &[&str],
        dev_dependencies: &[&str],
    ) -> Result<ManifestParts> {
        let empty = toml::Table::new();
        let package = table_at(root_manifest, &["workspace", "package"]).unwrap_or(&empty);
        let package_fields = PACKAGE_FIELDS
            .iter()
            .filter_map(|key| Some(format!("{key} = {}", inline(package.get(*key)?))))
            .collect::<Vec<_>>()
            .join("\n");
        let available = table_at(root_manifest, &["workspace", "dependencies"]).unwrap_or(&empty);
        let dependency_lines = |names: &[&str]| -> Result<String> {
            let mut lines = Vec::new();
            for name in names {
                let mut declared = available.get(*name).cloned().with_context(|| {
                    format!("step `{STEP}` failed: `{name}` is not in the root [workspace.dependencies]: an xtask bug")
                })?;
                // Paths in the root manifest are relative to the root.
                if let Some(path) = declared.get_mut("path") {
                    let absolute = root.join(path.as_str().unwrap_or_default());
                    *path = toml::Value::String(absolute.to_string_lossy().into_owned());
                }
                lines.push(format!("{} = {}", key(name), inline(&declared)));
            }
            Ok(lines.join("\n"))
        };
        let mut tail = String::new();
        if let Some(lints) = table_at(root_manifest, &["workspace", "lints"]) {
            for (tool, levels) in lints {
                tail.push_str(&format!("\n[lints.{}]\n", key(tool)));
                for (lint, level) in levels.as_table().into_iter().flatten() {
                    tail.push_str(&format!("{} = {}\n", key(lint), inline(level)));
                }
            }
        }
        tail.push_str(&format!("{STANDALONE_WORKSPACE} ({}), so a workspace of its own.\n[workspace]", root.display()));
        Ok(ManifestParts {
            package_fields,
            dependencies: dependency_lines(dependencies)?,
            dev_dependencies: dependency_lines(dev_dependencies)?,
            tail,
        })
    }
}

fn table_at<'a>(table: &'a toml::Table, keys: &[&str]) -> Option<&'a toml::Table> {
    keys.iter().try_fold(table, |table, key| table.get(*key)?.as_table())
}

/// A TOML key, quoted only when it must be.
fn key(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        name.to_owned()
    } else {
        toml::Value::String(name.to_owned()).to_string()
    }
}

/// A TOML value on one line (tables inline), as written in a manifest.
fn inline(value: &toml::Value) -> String {
    match value {
        toml::Value::Table(table) => {
            // `version` or `path` first, as people write dependencies.
            let mut fields: Vec<(&String, &toml::Value)> = table.iter().collect();
            fields.sort_by_key(|(name, _)| !matches!(name.as_str(), "version" | "path"));
            let fields: Vec<String> =
                fields.iter().map(|(name, value)| format!("{} = {}", key(name), inline(value))).collect();
            format!("{{ {} }}", fields.join(", "))
        }
        toml::Value::Array(items) => format!("[{}]", items.iter().map(inline).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

/// Adds `member` to the root `members` list, keeping the file's layout, unless
/// a glob there already covers it.
fn add_member(manifest_path: &Path, text: &str, manifest: &toml::Table, member: &str) -> Result<()> {
    let members: Vec<&str> = manifest
        .get("workspace")
        .and_then(|workspace| workspace.get("members"))
        .and_then(toml::Value::as_array)
        .map(|members| members.iter().filter_map(toml::Value::as_str).collect())
        .unwrap_or_default();
    let parent = member.rsplit_once('/').map_or("", |(parent, _)| parent);
    if members.iter().any(|existing| *existing == member || existing.strip_suffix("/*") == Some(parent)) {
        return Ok(());
    }
    let failed = || {
        format!(
            "step `{STEP}` failed: cannot find the `members = [...]` list in {}: add \"{member}\" to it by hand",
            manifest_path.display()
        )
    };
    let start = text.find("members = [").with_context(failed)? + "members = [".len();
    let end = start + text[start..].find(']').with_context(failed)?;
    // After the last plugin listed, so plugins stay together; else last.
    let last_plugin_line_end = text[start..end]
        .match_indices("\"plugins/")
        .last()
        .and_then(|(offset, _)| text[start + offset..end].find(",\n").map(|comma| start + offset + comma + 1));
    let updated = match last_plugin_line_end {
        Some(line_end) => format!("{}\n    \"{member}\",{}", &text[..line_end], &text[line_end..]),
        None => {
            let listed = text[start..end].trim_end();
            let separator = if listed.trim().is_empty() || listed.ends_with(',') { "" } else { "," };
            format!("{}{separator}\n    \"{member}\",\n{}", &text[..start + listed.len()], &text[end..])
        }
    };
    let check: toml::Table = updated.parse().with_context(failed)?;
    if table_at(&check, &["workspace"]).and_then(|workspace| workspace.get("members")).is_none() {
        bail!(failed());
    }
    std::fs::write(manifest_path, updated)
        .with_context(|| format!("step `{STEP}` failed: cannot write {}", manifest_path.display()))?;
    eprintln!("added \"{member}\" to the workspace members in {}", manifest_path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_type_prefixes() {
        assert_eq!(type_prefix("demo-scaffold"), "DemoScaffold");
        assert_eq!(type_prefix("mailchimp"), "Mailchimp");
        assert_eq!(type_prefix("x2-api"), "X2Api");
    }

    #[test]
    fn names_are_checked() {
        for good in ["mailchimp", "active-campaign", "x2-api"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Mailchimp", "2go", "a--b", "a-", "-a", "a_b", "a b", "ünï"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_bare_words_in_double_braces_are_placeholders() {
        assert_eq!(leftover_placeholder("struct {{type}}Plugin;"), Some("{{type}}"));
        assert_eq!(leftover_placeholder(r#"format!("{{\"id\": 2}}")"#), None);
        assert_eq!(leftover_placeholder("{{}} and {{ spaced }}"), None);
    }

    fn check_member(before: &str, member: &str, after: &str) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("Cargo.toml");
        let text = format!("[workspace]\nmembers = [{before}]\n\n[workspace.package]\n");
        add_member(&path, &text, &text.parse().unwrap(), member).unwrap();
        let written = std::fs::read_to_string(&path).unwrap_or(text);
        assert_eq!(written, format!("[workspace]\nmembers = [{after}]\n\n[workspace.package]\n"));
    }

    #[test]
    fn members_are_added_keeping_the_layout() {
        check_member(
            "\n    \"host\",\n    \"plugins/jsonl\",\n    \"xtask\",\n",
            "plugins/demo",
            "\n    \"host\",\n    \"plugins/jsonl\",\n    \"plugins/demo\",\n    \"xtask\",\n",
        );
        check_member(
            "\n    \"host\",\n    \"xtask\"\n",
            "plugins/demo",
            "\n    \"host\",\n    \"xtask\",\n    \"plugins/demo\",\n",
        );
        check_member("\"host\"", "plugins/demo", "\"host\",\n    \"plugins/demo\",\n");
        // Covered by a glob: nothing to add.
        check_member("\n    \"plugins/*\",\n", "plugins/demo", "\n    \"plugins/*\",\n");
    }
}
