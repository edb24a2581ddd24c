//! `cutover migrate`.

use cutover_e2e::{Workspace, fixture_dir, run};

const GENERATOR_TO_JSONL: &str = r#"
[source]
plugin = "generator"
config = { records = 1234, seed = 5 }

[destination]
plugin = "jsonl"
config = { folder = "out" }

[run]
batch_size = 100

[[streams]]
source = "contacts"
"#;

fn report(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the report")).expect("JSON")
}

#[test]
fn a_migration_accounts_for_every_record_and_a_second_run_changes_nothing() {
    let workspace = Workspace::new();
    let config = workspace.write("cutover.toml", GENERATOR_TO_JSONL);
    let report_path = workspace.path().join("report.json");

    let (output, stdout, stderr) =
        run(workspace.cutover().arg("migrate").arg(&config).arg("--report-json").arg(&report_path));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("balanced"), "{stdout}");
    let first = report(&report_path);
    assert_eq!(first["streams"][0]["read"], 1234);
    assert_eq!(first["streams"][0]["created"], 1234);
    let output_file = workspace.path().join("out/contacts.jsonl");
    let after_first = std::fs::read_to_string(&output_file).expect("output");
    assert_eq!(after_first.lines().count(), 1234);
    let ids = source_ids(&after_first);
    assert_eq!(ids.len(), 1234, "one line per record: no duplicate");

    let (output, stdout, stderr) =
        run(workspace.cutover().arg("migrate").arg(&config).arg("--report-json").arg(&report_path));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    let second = report(&report_path);
    assert_eq!(second["streams"][0]["unchanged"], 1234, "{second}");
    assert_eq!(second["streams"][0]["created"], 0, "{second}");
    assert_ne!(first["run_id"], second["run_id"]);
    assert_eq!(second["resumed"], false, "the first run ended: the second starts afresh");
    // Not only what the report says: the target, read back, is as the first run left it.
    let after_second = std::fs::read_to_string(&output_file).expect("output");
    assert_eq!(source_ids(&after_second), ids, "the same records, none twice");
    assert!(after_second == after_first, "the second run changed the target file");
}

/// The source ids of a JSON Lines target, each once (a duplicate panics).
fn source_ids(lines: &str) -> std::collections::BTreeSet<String> {
    let mut ids = std::collections::BTreeSet::new();
    for line in lines.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let id = record["source_id"].as_str().expect("a source id").to_owned();
        assert!(ids.insert(id.clone()), "{id} is in the target twice");
    }
    ids
}

#[test]
fn malformed_source_lines_are_rejected_with_their_line_and_the_run_says_so() {
    let workspace = Workspace::new();
    let good = r#"{"source_platform":"old","source_id":"1","updated_at":"2026-01-01T00:00:00Z","entity":{"contact":{"email":"a@b.org"}}}"#;
    workspace.write("in/contacts.jsonl", format!("{good}\n{{\"broken\n{}\n", good.replace("\"1\"", "\"2\"")));
    let config = workspace.write(
        "cutover.toml",
        "[source]\nplugin = \"jsonl\"\nconfig = { folder = \"in\" }\n[destination]\nplugin = \"jsonl\"\nconfig = { folder = \"out\" }\n[[streams]]\nsource = \"contacts\"\n",
    );
    let report_path = workspace.path().join("report.json");
    let (output, stdout, stderr) =
        run(workspace.cutover().arg("migrate").arg(&config).arg("--report-json").arg(&report_path));
    assert_eq!(output.status.code(), Some(3), "finished with rejects:\n{stdout}{stderr}");
    let stream = &report(&report_path)["streams"][0];
    assert_eq!(
        (stream["read"].as_u64(), stream["created"].as_u64(), stream["rejected"].as_u64()),
        (Some(3), Some(2), Some(1))
    );
    assert!(stderr.contains("rejected: 1; `cutover rejects list"), "{stderr}");

    let (output, stdout, stderr) = run(workspace.cutover().args(["rejects", "list", "--json"]).arg(&config));
    assert!(output.status.success(), "{stderr}");
    let rejects: Vec<serde_json::Value> = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(rejects.len(), 1, "{stdout}");
    assert!(rejects[0]["location"].as_str().is_some_and(|location| location.ends_with("contacts.jsonl:2")), "{stdout}");
    assert_eq!(rejects[0]["code"], "malformed_record");
    assert_eq!(rejects[0]["raw"], "{\"broken");

    let (output, stdout, stderr) = run(workspace.cutover().args(["status", "--json"]).arg(&config));
    assert!(output.status.success(), "{stderr}");
    let status: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(status["finished"], true, "{stdout}");
    assert_eq!(status["streams"][0]["rejected"], 1, "{stdout}");
}

fn panicking_migration(side: &str, panic_in: &str) -> (std::process::Output, String, String, Workspace) {
    let workspace = Workspace::new();
    let fixture = r#"plugin = "fixture-panics"
config = { panic_in = "PANIC_IN" }"#
        .replace("PANIC_IN", panic_in);
    let (source, destination) = match side {
        "source" => (fixture, "plugin = \"jsonl\"\nconfig = { folder = \"out\" }".to_owned()),
        _ => ("plugin = \"generator\"\nconfig = { records = 50 }".to_owned(), fixture),
    };
    let config = workspace.write(
        "cutover.toml",
        format!("[source]\n{source}\n[destination]\n{destination}\n[[streams]]\nsource = \"contacts\"\n"),
    );
    let (output, stdout, stderr) =
        run(workspace.cutover().arg("--plugin-dir").arg(fixture_dir()).arg("migrate").arg(&config));
    (output, stdout, stderr, workspace)
}

#[test]
fn a_plugin_that_panics_in_read_fails_the_stream_with_plugin_and_stream_named() {
    let (output, stdout, stderr, _workspace) = panicking_migration("source", "read");
    assert_eq!(output.status.code(), Some(1), "a clean failure, not an abort:\n{stdout}{stderr}");
    assert!(stdout.contains("FAILED"), "{stdout}");
    assert!(
        stdout.contains("read of stream `contacts` by plugin `fixture-panics` failed (panic): plugin `fixture-panics` panicked during read: fixture: read always panics"),
        "{stdout}"
    );
    assert!(!stderr.contains("panicked at") && !stderr.contains("RUST_BACKTRACE"), "no panic trace:\n{stderr}");
}

#[test]
fn a_plugin_that_panics_in_write_fails_the_stream_with_plugin_and_stream_named() {
    let (output, stdout, stderr, _workspace) = panicking_migration("destination", "write");
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("write of stream `contacts` by plugin `fixture-panics` failed (panic)"), "{stdout}");
    assert!(stdout.contains("fixture: write always panics"), "{stdout}");
}

#[test]
fn a_destination_that_fails_to_close_leaves_the_run_open_to_resume() {
    let (output, stdout, stderr, workspace) = panicking_migration("destination", "close");
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("closing destination plugin `fixture-panics` failed, so the run is not finished"),
        "{stderr}"
    );
    let (_, stdout, _) = run(workspace.cutover().args(["status", "--json"]).arg(workspace.path().join("cutover.toml")));
    let status: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(status["finished"], false, "{stdout}");
}

#[test]
fn config_errors_name_file_line_and_field() {
    let workspace = Workspace::new();
    let config = workspace.write("cutover.toml", GENERATOR_TO_JSONL.replace("[run]", "[run]\nbatch_sise = 3"));
    let (output, _, stderr) = run(workspace.cutover().arg("migrate").arg(&config));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("cutover.toml:11:1: unknown field `batch_sise`"), "{stderr}");

    let config =
        workspace.write("bad-plugin-config.toml", GENERATOR_TO_JSONL.replace("records = 1234", "records = \"many\""));
    let (output, _, stderr) = run(workspace.cutover().arg("migrate").arg(&config));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr
            .contains("cannot open source plugin `generator`: invalid config for plugin `generator`: field `records`"),
        "{stderr}"
    );

    let config = workspace.write("unknown.toml", GENERATOR_TO_JSONL.replace("\"jsonl\"", "\"jsnol\""));
    let (output, _, stderr) = run(workspace.cutover().arg("migrate").arg(&config));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("destination plugin `jsnol`") && stderr.contains("is not installed"), "{stderr}");
}
