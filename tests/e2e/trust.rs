//! Only the plugins you trust, and files only you can read: untrusted
//! plugin files are refused before the system loader runs a line of them, a
//! plugin whose file changed since `cutover plugins lock` is refused, a name
//! two files answer to is an error, and everything a migration writes is
//! readable by its owner only, whatever the umask.

use cutover_e2e::{Workspace, plugin_library, run, set_mode};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const MARKER_LIBRARY: &str = "cutover_fixture_load_marker";

/// `cutover plugins list` over `folder` alone, with the marker library's
/// constructor told to write to `marker`.
fn list_with_marker(workspace: &Workspace, folder: &Path, marker: &Path) -> (i32, String, String) {
    let (output, stdout, stderr) = run(workspace
        .isolated_cutover()
        .env("CUTOVER_FIXTURE_MARKER", marker)
        .args(["plugins", "list", "--plugin-dir"])
        .arg(folder));
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn a_library_in_a_trusted_folder_runs_its_constructor_so_the_marker_works() {
    let workspace = Workspace::new();
    workspace.copy_into(&plugin_library(MARKER_LIBRARY), "trusted");
    let marker = workspace.path().join("marker");
    let (code, stdout, stderr) = list_with_marker(&workspace, &workspace.path().join("trusted"), &marker);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("fixture-load-marker"), "{stdout}");
    assert!(marker.exists(), "the constructor ran: the marker is what the refusals below are judged by");
}

#[test]
fn a_library_in_a_world_writable_folder_is_refused_without_being_loaded() {
    let workspace = Workspace::new();
    workspace.copy_into(&plugin_library(MARKER_LIBRARY), "shared");
    let folder = workspace.path().join("shared");
    set_mode(&folder, 0o777);
    let marker = workspace.path().join("marker");
    let (code, stdout, stderr) = list_with_marker(&workspace, &folder, &marker);
    assert_eq!(code, 0, "{stderr}");
    assert!(!marker.exists(), "the library was loaded:\n{stderr}");
    assert!(!stdout.contains("fixture-load-marker"), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
    assert!(stderr.contains(&format!("skipped {}: anyone may write the plugin folder (mode 777)", folder.display())));
    assert!(stderr.contains("help: "), "{stderr}");

    // The same with only the file writable by its group.
    set_mode(&folder, 0o755);
    let file = folder.join(format!("lib{MARKER_LIBRARY}.so"));
    set_mode(&file, 0o775);
    let (_, _, stderr) = list_with_marker(&workspace, &folder, &marker);
    assert!(!marker.exists(), "the library was loaded:\n{stderr}");
    assert!(stderr.contains("its group may write the plugin file (mode 775)"), "{stderr}");
}

#[test]
fn a_symbolic_link_to_a_library_is_refused_without_being_loaded() {
    let workspace = Workspace::new();
    let real = workspace.copy_into(&plugin_library(MARKER_LIBRARY), "real");
    let links = workspace.path().join("links");
    std::fs::create_dir(&links).expect("folder");
    std::os::unix::fs::symlink(&real, links.join(format!("lib{MARKER_LIBRARY}.so"))).expect("symlink");
    let marker = workspace.path().join("marker");
    let (_, stdout, stderr) = list_with_marker(&workspace, &links, &marker);
    assert!(!marker.exists(), "the library was loaded through the link:\n{stderr}");
    assert!(!stdout.contains("fixture-load-marker"), "{stdout}");
    assert!(stderr.contains("the plugin file is a symbolic link"), "{stderr}");

    // A folder that is a link is refused too.
    let linked_folder = workspace.path().join("linked-folder");
    std::os::unix::fs::symlink(workspace.path().join("real"), &linked_folder).expect("symlink");
    let (_, _, stderr) = list_with_marker(&workspace, &linked_folder, &marker);
    assert!(!marker.exists(), "the library was loaded through a linked folder:\n{stderr}");
    assert!(stderr.contains("the plugin folder is a symbolic link"), "{stderr}");
}

#[test]
fn a_relative_plugin_folder_is_refused() {
    let workspace = Workspace::new();
    workspace.copy_into(&plugin_library(MARKER_LIBRARY), "folder");
    let marker = workspace.path().join("marker");
    let (_, _, stderr) = list_with_marker(&workspace, Path::new("folder"), &marker);
    assert!(!marker.exists(), "{stderr}");
    assert!(stderr.contains("a relative plugin folder from --plugin-dir is refused"), "{stderr}");
    assert!(stderr.contains("give the folder as an absolute path"), "{stderr}");
}

/// A workspace whose `plugins/` holds the generator and jsonl plugins, and a
/// config moving generated contacts into JSON Lines.
fn migration() -> (Workspace, PathBuf, PathBuf) {
    let workspace = Workspace::new();
    workspace.copy_into(&plugin_library("cutover_plugin_generator"), "plugins");
    workspace.copy_into(&plugin_library("cutover_plugin_jsonl"), "plugins");
    let config = workspace.write(
        "cutover.toml",
        "[source]\nplugin = \"generator\"\nconfig = { records = 40, seed = 3 }\n\
         [destination]\nplugin = \"jsonl\"\nconfig = { folder = \"out\" }\n\
         [[streams]]\nsource = \"contacts\"\n",
    );
    let plugins = workspace.path().join("plugins");
    (workspace, config, plugins)
}

fn migrate(workspace: &Workspace, plugins: &Path, config: &Path) -> (i32, String, String) {
    let (output, stdout, stderr) =
        run(workspace.isolated_cutover().arg("--plugin-dir").arg(plugins).arg("migrate").arg(config));
    (output.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn a_plugin_whose_file_changed_since_the_lock_is_refused_naming_both_hashes() {
    let (workspace, config, plugins) = migration();
    let (output, stdout, stderr) =
        run(workspace.isolated_cutover().arg("--plugin-dir").arg(&plugins).args(["plugins", "lock"]).arg(&config));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("generator") && stdout.contains("jsonl"), "{stdout}");
    let lock = std::fs::read_to_string(workspace.path().join("cutover.lock")).expect("the lock beside the config");
    assert_eq!(lock.matches("sha256 = ").count(), 2, "{lock}");

    let (code, _, stderr) = migrate(&workspace, &plugins, &config);
    assert_eq!(code, 0, "the locked plugins load:\n{stderr}");
    assert!(!stderr.contains("no plugin lock"), "{stderr}");

    // Someone replaces the jsonl plugin with another library of the same name.
    let jsonl = plugins.join("libcutover_plugin_jsonl.so");
    let marker = workspace.path().join("marker");
    std::fs::copy(plugin_library(MARKER_LIBRARY), &jsonl).expect("replace");
    let (output, stdout, stderr) = run(workspace
        .isolated_cutover()
        .env("CUTOVER_FIXTURE_MARKER", &marker)
        .arg("--plugin-dir")
        .arg(&plugins)
        .arg("migrate")
        .arg(&config));
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(!marker.exists(), "the replaced library was loaded before its hash was checked:\n{stderr}");
    let locked = lock.lines().filter(|line| line.starts_with("sha256")).nth(1).unwrap_or_default();
    let locked = locked.trim_start_matches("sha256 = ").trim_matches('"');
    assert!(
        stderr.contains(&format!("error: plugin `jsonl` at {} has SHA-256 ", jsonl.display()))
            && stderr.contains(&format!("but {} pins {locked}", workspace.path().join("cutover.lock").display())),
        "{stderr}"
    );
    assert!(stderr.contains("help: if you changed the plugin on purpose"), "{stderr}");
}

#[test]
fn a_migration_without_a_lock_says_how_to_write_one() {
    let (workspace, config, plugins) = migration();
    let (code, _, stderr) = migrate(&workspace, &plugins, &config);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("warning: no plugin lock beside the config: `cutover plugins lock"), "{stderr}");
}

#[test]
fn two_files_named_for_the_plugin_a_config_names_are_an_error() {
    let (workspace, config, plugins) = migration();
    workspace.copy_into(&plugin_library("cutover_plugin_jsonl"), "more-plugins");
    let (output, stdout, stderr) = run(workspace
        .isolated_cutover()
        .arg("--plugin-dir")
        .arg(&plugins)
        .arg("--plugin-dir")
        .arg(workspace.path().join("more-plugins"))
        .arg("migrate")
        .arg(&config));
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("error: two plugin files are named for plugin `jsonl`"), "{stderr}");
    assert!(!workspace.path().join("out").exists(), "nothing ran");
}

#[test]
fn a_migration_leaves_every_file_it_writes_readable_by_its_owner_only_under_umask_022() {
    let (workspace, config, plugins) = migration();
    let binary = workspace.path().join("bin").join("cutover");
    // `isolated_cutover` copies the binary into bin/; run it through a shell
    // whose umask is the usual 022.
    drop(workspace.isolated_cutover());
    let report = workspace.path().join("report.json");
    let (output, _, stderr) = run(std::process::Command::new("sh")
        .current_dir(workspace.path())
        .arg("-c")
        .arg("umask 022 && exec \"$@\"")
        .arg("sh")
        .arg(&binary)
        .arg("--plugin-dir")
        .arg(&plugins)
        .args(["plugins", "lock"])
        .arg(&config));
    assert!(output.status.success(), "{stderr}");
    let (output, _, stderr) = run(std::process::Command::new("sh")
        .current_dir(workspace.path())
        .arg("-c")
        .arg("umask 022 && exec \"$@\"")
        .arg("sh")
        .arg(&binary)
        .arg("--plugin-dir")
        .arg(&plugins)
        .arg("migrate")
        .arg(&config)
        .arg("--report-json")
        .arg(&report));
    assert!(output.status.success(), "{stderr}");
    let mut written = vec![
        workspace.path().join("cutover.lock"),
        workspace.path().join("cutover.state.db"),
        report,
        workspace.path().join("out"),
        workspace.path().join("out/contacts.jsonl"),
    ];
    written.extend(std::fs::read_dir(workspace.path()).expect("list").filter_map(|entry| {
        let path = entry.ok()?.path();
        path.file_name()?.to_str()?.starts_with("cutover.state.db").then_some(path)
    }));
    for path in written {
        let metadata = std::fs::metadata(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let mode = metadata.permissions().mode() & 0o777;
        let private = if metadata.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, private, "{} is {mode:o}", path.display());
    }
}
