//! The command line itself: exit status 2 on a bad one (with what is wrong
//! and where help is), the config's JSON
//! Schema, and a stream's own `batch_size`.

use cutover_e2e::{Workspace, run};

#[test]
fn a_bad_command_line_exits_2_saying_what_is_wrong() {
    let workspace = Workspace::new();
    let config = workspace.write("cutover.toml", "");
    for arguments in [
        vec!["migrate"],
        vec!["migrate", "cutover.toml", "--no-such-flag"],
        vec!["no-such-verb"],
        vec!["rejects", "list"],
        vec!["--log-format", "xml", "status", "cutover.toml"],
    ] {
        let (output, stdout, stderr) = run(workspace.cutover().args(&arguments));
        assert_eq!(output.status.code(), Some(2), "{arguments:?}:\n{stdout}{stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains("try '--help'"), "{arguments:?}:\n{stderr}");
        assert!(stdout.is_empty(), "{arguments:?}: nothing on stdout:\n{stdout}");
    }
    // Nothing ran: no state store beside the config.
    assert!(!config.with_file_name("cutover.state.db").exists());
}

#[test]
fn config_schema_prints_a_json_schema_naming_every_top_level_key() {
    let workspace = Workspace::new();
    let (output, stdout, stderr) = run(workspace.cutover().args(["config", "schema"]));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let schema: serde_json::Value = serde_json::from_str(&stdout).expect("the schema is JSON");
    assert!(schema["$schema"].as_str().is_some_and(|uri| uri.contains("json-schema.org")), "{schema}");
    assert_eq!(schema["type"], "object");
    let properties = schema["properties"].as_object().expect("properties");
    for key in ["source", "destination", "streams", "run", "state", "redirects", "tiers"] {
        assert!(properties.contains_key(key), "`{key}` missing from {:?}", properties.keys());
    }
    assert_eq!(schema["required"], serde_json::json!(["source", "destination", "streams"]));
    // Unknown keys are refused, as the config loader does.
    assert_eq!(schema["additionalProperties"], false, "{schema}");
}

#[test]
fn a_streams_own_batch_size_sets_its_batches() {
    let workspace = Workspace::new();
    let config = workspace.write(
        "cutover.toml",
        "[source]\nplugin = \"generator\"\nconfig = { records = 100, seed = 3 }\n\
         [destination]\nplugin = \"jsonl\"\nconfig = { folder = \"out\" }\n\
         [run]\nbatch_size = 1000\n\
         [[streams]]\nsource = \"contacts\"\nbatch_size = 7\n",
    );
    let (output, stdout, stderr) =
        run(workspace.cutover().args(["--log", "cutover_host::engine=debug", "migrate"]).arg(&config));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    // One "Batch written." per committed batch: 100 records in batches of 7
    // are 15 batches; the run's batch_size of 1000 would make one.
    let batches = stderr.lines().filter(|line| line.contains("Batch written.")).count();
    assert_eq!(batches, 100_usize.div_ceil(7), "{stderr}");
}
