//! `cutover plugins list|inspect`.

use cutover_e2e::{Workspace, plugin_library, run};

#[test]
fn list_json_shows_every_workspace_plugin_with_kind_streams_and_versions() {
    let workspace = Workspace::new();
    let (output, stdout, stderr) = run(workspace.cutover().args(["plugins", "list", "--json"]));
    assert!(output.status.success(), "{stderr}");
    let plugins: Vec<serde_json::Value> = serde_json::from_str(&stdout).expect("a JSON array");
    let names: Vec<&str> = plugins.iter().filter_map(|plugin| plugin["name"].as_str()).collect();
    // Every plugin of the workspace loads into one process: none is skipped
    // (each brings its own allocator and runtime, and must leave room for the next).
    for expected in ["csv", "generator", "jsonl", "mailchimp", "sqlite-archive"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    assert!(!stderr.contains("skipped"), "{stderr}");
    for plugin in &plugins {
        assert_eq!(plugin["abi_version"], 1, "{plugin}");
        assert_eq!(plugin["schema_version"], "1.0", "{plugin}");
        assert!(plugin["kind"].is_string() && plugin["path"].is_string() && plugin["version"].is_string(), "{plugin}");
        let streams = plugin["streams"].as_array().expect("streams");
        assert!(!streams.is_empty(), "{plugin}");
        for stream in streams {
            assert!(stream["name"].is_string() && stream["entity"].is_string(), "{stream}");
            assert!(
                ["source", "destination", "both"].contains(&stream["direction"].as_str().unwrap_or("")),
                "{stream}"
            );
        }
    }
}

#[test]
fn files_that_are_not_usable_plugins_get_one_line_each_and_the_rest_load() {
    let workspace = Workspace::new();
    workspace.copy_into(&plugin_library("cutover_plugin_generator"), "folder");
    workspace.write(&format!("folder/x.{}", std::env::consts::DLL_EXTENSION), "this is a text file, not a library\n");
    let mismatched = workspace.copy_into(&plugin_library("cutover_fixture_abi_mismatch"), "folder");
    let describe_panics = workspace.copy_into(&plugin_library("cutover_fixture_panic_describe"), "folder");

    let (output, stdout, stderr) = run(workspace
        .isolated_cutover()
        .args(["plugins", "list", "--plugin-dir"])
        .arg(workspace.path().join("folder")));

    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("generator"), "{stdout}");
    assert_eq!(stdout.lines().count(), 2, "a header and one plugin:\n{stdout}");
    let warnings: Vec<&str> = stderr.lines().collect();
    assert_eq!(warnings.len(), 3, "one line per unusable file:\n{stderr}");
    let line_for = |file: &std::path::Path| {
        let name = file.file_name().and_then(|name| name.to_str()).unwrap_or("?");
        warnings
            .iter()
            .find(|line| line.contains(name))
            .copied()
            .unwrap_or_else(|| panic!("no line names {name}:\n{stderr}"))
    };
    assert!(line_for(&workspace.path().join("folder/x.so")).contains("not a loadable library"), "{stderr}");
    let abi_line = line_for(&mismatched);
    assert!(abi_line.contains("built for plugin ABI 2, this cutover speaks ABI 1"), "{abi_line}");
    assert!(abi_line.contains("help: rebuild the plugin"), "{abi_line}");
    let panic_line = line_for(&describe_panics);
    assert!(panic_line.contains("panicked during describe: fixture: describe always panics"), "{panic_line}");
    assert!(!stderr.contains("panicked at") && !stderr.contains("RUST_BACKTRACE"), "no panic trace:\n{stderr}");
}

#[test]
fn of_two_plugins_with_one_name_the_first_in_search_order_wins_and_the_other_is_named() {
    let workspace = Workspace::new();
    let first = workspace.copy_into(&plugin_library("cutover_plugin_jsonl"), "first");
    let second = workspace.copy_into(&plugin_library("cutover_plugin_jsonl"), "second");

    let (output, stdout, stderr) = run(workspace
        .isolated_cutover()
        .args(["plugins", "list", "--json", "--plugin-dir"])
        .arg(workspace.path().join("first"))
        .env("CUTOVER_PLUGIN_PATH", workspace.path().join("second")));

    assert!(output.status.success(), "{stderr}");
    let plugins: Vec<serde_json::Value> = serde_json::from_str(&stdout).expect("a JSON array");
    assert_eq!(plugins.len(), 1, "{stdout}");
    assert_eq!(plugins[0]["path"], first.display().to_string());
    assert!(stderr.contains(&format!("skipped {}", second.display())), "{stderr}");
    assert!(stderr.contains(&format!("already loaded from {} (--plugin-dir)", first.display())), "{stderr}");
}

#[test]
fn inspect_shows_the_config_schema() {
    let workspace = Workspace::new();
    let (output, stdout, stderr) = run(workspace.cutover().args(["plugins", "inspect", "jsonl", "--json"]));
    assert!(output.status.success(), "{stderr}");
    let details: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(details["config_schema"]["required"], serde_json::json!(["folder"]), "{details}");

    let (output, _, stderr) = run(workspace.cutover().args(["plugins", "inspect", "no-such-plugin"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("no plugin named `no-such-plugin`"), "{stderr}");
}

#[test]
fn a_plugin_that_speaks_another_schema_major_is_refused_at_load_with_one_clear_line() {
    let workspace = Workspace::new();
    workspace.copy_into(&plugin_library("cutover_plugin_jsonl"), "folder");
    let future = workspace.copy_into(&plugin_library("cutover_fixture_schema_major"), "folder");

    let (output, stdout, stderr) = run(workspace
        .isolated_cutover()
        .args(["plugins", "list", "--json", "--plugin-dir"])
        .arg(workspace.path().join("folder")));

    assert_eq!(output.status.code(), Some(0), "the other plugins still load:\n{stderr}");
    let plugins: Vec<serde_json::Value> = serde_json::from_str(&stdout).expect("a JSON array");
    let names: Vec<&str> = plugins.iter().filter_map(|plugin| plugin["name"].as_str()).collect();
    assert_eq!(names, ["jsonl"], "the fixture is not listed:\n{stdout}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line for the refused file:\n{stderr}");
    let line = lines[0];
    assert!(line.starts_with(&format!("warning: skipped {}", future.display())), "{line}");
    let host = cutover_schema::SCHEMA_VERSION;
    let refusal = format!("it speaks canonical schema {}.0, this cutover speaks {host}", host.major + 1);
    assert!(line.contains(&refusal), "{line}");
    assert!(line.contains("help: rebuild the plugin against this cutover's SDK"), "{line}");
}
