//! The accounting as a proof: a stream whose items read do not add up to
//! what was created, updated, unchanged, rejected and skipped ends
//! UNBALANCED with exit status 4, never 0 or 3; a destination that answers
//! for fewer records than it was given is caught at the boundary.

use cutover_e2e::{Workspace, fixture_dir, last_run_state, run, state_path};

const GENERATOR_TO_JSONL: &str = "[source]\nplugin = \"generator\"\nconfig = { records = 500, seed = 9 }\n\
     [destination]\nplugin = \"jsonl\"\nconfig = { folder = \"out\" }\n\
     [run]\nbatch_size = 100\n[[streams]]\nsource = \"contacts\"\n";

#[test]
fn a_stream_that_does_not_balance_is_unbalanced_with_exit_status_4() {
    let workspace = Workspace::new();
    let config = workspace.write("cutover.toml", GENERATOR_TO_JSONL);
    let (output, stdout, stderr) = run(workspace.cutover().arg("migrate").arg(&config));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");

    // The state store says one more item was read than the destination ever
    // answered for (as a record lost between read and write would), and
    // that the run was interrupted: the next `migrate` resumes it to its end.
    let state = state_path(&config);
    let connection = rusqlite::Connection::open(&state).expect("the state store");
    connection
        .execute_batch(
            "UPDATE runs SET finished_at = NULL; UPDATE checkpoints SET status = 'running', read = read + 1;",
        )
        .expect("tampered");
    drop(connection);

    let report_path = workspace.path().join("report.json");
    let (output, stdout, stderr) =
        run(workspace.cutover().arg("migrate").arg(&config).arg("--report-json").arg(&report_path));
    assert_eq!(output.status.code(), Some(4), "unbalanced, not done:\n{stdout}{stderr}");
    assert!(stderr.contains("resuming run"), "{stderr}");
    assert!(stdout.contains("UNBALANCED"), "{stdout}");
    assert!(
        stdout.contains("stream contacts is UNBALANCED: the accounting does not balance: the source returned 501 items, but 500 are accounted for")
            && stdout.contains("1 item unaccounted for"),
        "{stdout}"
    );
    assert!(stderr.contains("error: the accounting does not balance"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("JSON");
    assert_eq!(report["streams"][0]["status"], "unbalanced", "{report}");
    let after = last_run_state(&state).expect("a run");
    assert!(after.finished && after.streams[0].status == "unbalanced", "the stream ended unbalanced: {after:?}");

    let (output, stdout, stderr) = run(workspace.cutover().args(["status", "--json"]).arg(&config));
    assert!(output.status.success(), "{stderr}");
    let status: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(status["streams"][0]["status"], "unbalanced", "{stdout}");
}

#[test]
fn a_destination_that_answers_for_fewer_records_than_it_was_given_fails_the_stream_naming_the_difference() {
    let workspace = Workspace::new();
    let config = workspace.write(
        "cutover.toml",
        GENERATOR_TO_JSONL
            .replace("plugin = \"jsonl\"\nconfig = { folder = \"out\" }", "plugin = \"fixture-drops-outcomes\""),
    );
    let (output, stdout, stderr) =
        run(workspace.cutover().arg("--plugin-dir").arg(fixture_dir()).arg("migrate").arg(&config));
    assert_eq!(output.status.code(), Some(1), "never 0 or 3:\n{stdout}{stderr}");
    assert!(stdout.contains("FAILED"), "{stdout}");
    assert!(
        stdout.contains("plugin `fixture-drops-outcomes` returned 99 outcomes for 100 records"),
        "the difference is named:\n{stdout}"
    );
    // Nothing of the batch was committed: a later run writes it again.
    let state = last_run_state(&state_path(&config)).expect("a run");
    assert_eq!((state.streams[0].read, state.streams[0].created), (0, 0), "{state:?}");
}
