//! `cutover migrate` stopped with Ctrl-C (SIGINT) once batches are committed:
//! it stops cleanly after the batch it is writing, says how to go on, exits
//! 130 and leaves the run open; the same command resumes it, says so, and the
//! target ends as an uninterrupted run leaves it.

use cutover_e2e::{Workspace, interrupt, last_run_state, run, state_path, wait_for_a_commit};
use std::collections::BTreeSet;

const RECORDS: u64 = 20_000;

fn config() -> String {
    format!(
        "[source]\nplugin = \"generator\"\nconfig = {{ records = {RECORDS}, seed = 21 }}\n\
         [destination]\nplugin = \"jsonl\"\nconfig = {{ folder = \"out\" }}\n\
         [run]\nbatch_size = 200\n[[streams]]\nsource = \"contacts\"\n"
    )
}

/// The target's lines; a line there twice panics.
fn lines(workspace: &Workspace) -> BTreeSet<String> {
    let text = std::fs::read_to_string(workspace.path().join("out/contacts.jsonl")).expect("the output file");
    let mut lines = BTreeSet::new();
    for line in text.lines() {
        assert!(lines.insert(line.to_owned()), "a line is in the target twice: {line}");
    }
    lines
}

fn report(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the report")).expect("JSON")
}

#[test]
fn ctrl_c_stops_after_a_committed_batch_and_the_same_command_resumes_to_an_identical_target() {
    let reference = Workspace::new();
    let reference_config = reference.write("cutover.toml", config());
    let (output, stdout, stderr) = run(reference.cutover().arg("migrate").arg(&reference_config));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    let expected = lines(&reference);
    assert_eq!(expected.len() as u64, RECORDS);

    let workspace = Workspace::new();
    let config = workspace.write("cutover.toml", config());
    let state = state_path(&config);
    let report_path = workspace.path().join("report.json");
    let mut child = workspace
        .cutover()
        .arg("migrate")
        .arg(&config)
        .arg("--report-json")
        .arg(&report_path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cutover starts");
    let committed = wait_for_a_commit(&mut child, &state, 0).expect("a batch committed before the run ended");
    interrupt(&child);
    let output = child.wait_with_output().expect("cutover ends");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));

    assert_eq!(output.status.code(), Some(130), "a clean stop, not a death by signal:\n{stdout}{stderr}");
    assert!(stderr.contains("interrupted; run the same command to resume"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let stopped = report(&report_path);
    assert_eq!((&stopped["interrupted"], &stopped["resumed"]), (&true.into(), &false.into()), "{stopped}");
    assert_eq!(stopped["streams"][0]["status"], "interrupted", "{stopped}");
    assert!(stdout.contains("interrupted"), "the table says so:\n{stdout}");
    let open = last_run_state(&state).expect("a run");
    assert_eq!(open.run_id, committed.run_id);
    assert!(!open.finished, "the run stays open to resume: {open:?}");
    assert!(open.read() >= committed.read() && open.read() < RECORDS, "{open:?}");
    assert_eq!(open.streams[0].status, "running", "{open:?}");
    // What the report says was done is what the state store committed: the
    // stop came after a commit, not in the middle of a batch.
    assert_eq!(stopped["streams"][0]["read"].as_u64(), Some(open.read()), "{stopped}");
    assert_eq!(stopped["streams"][0]["created"].as_u64(), Some(open.streams[0].created), "{stopped}");

    let (output, stdout, stderr) =
        run(workspace.cutover().arg("migrate").arg(&config).arg("--report-json").arg(&report_path));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stderr.contains(&format!("resuming run {} from its checkpoints", open.run_id)), "{stderr}");
    let resumed = report(&report_path);
    assert_eq!((&resumed["resumed"], &resumed["interrupted"]), (&true.into(), &false.into()), "{resumed}");
    let stream = &resumed["streams"][0];
    assert_eq!(stream["read"].as_u64(), Some(RECORDS), "every record read once over both runs: {stream}");
    assert_eq!(stream["created"].as_u64(), Some(RECORDS), "every record created once: {stream}");
    assert!(last_run_state(&state).is_some_and(|run| run.finished));
    assert_eq!(lines(&workspace), expected, "no gap, no duplicate, nothing different");
}
