//! `cutover migrate` killed with SIGKILL at many moments, then run again:
//! the target ends identical to an uninterrupted run, with no duplicate and
//! no gap, and the accounting of the resumed run covers every record once.
//! The kills must leave a run to resume (open, with batches committed), and
//! the last run must say it resumed it: a test whose kills all came too early
//! or too late would prove nothing, so it fails.

use cutover_e2e::{
    Workspace, last_run_state, migrate_killed_after_a_commit, migrate_killed_at_random_moments, run, state_path,
};
use std::collections::BTreeSet;

const RECORDS: usize = 30_000;

fn config() -> String {
    format!(
        "[source]\nplugin = \"generator\"\nconfig = {{ records = {RECORDS}, seed = 11 }}\n\
         [destination]\nplugin = \"jsonl\"\nconfig = {{ folder = \"out\" }}\n\
         [run]\nbatch_size = 250\n[[streams]]\nsource = \"contacts\"\n"
    )
}

fn lines(workspace: &Workspace) -> Vec<String> {
    let text = std::fs::read_to_string(workspace.path().join("out/contacts.jsonl")).expect("the output file");
    text.lines().map(str::to_owned).collect()
}

#[test]
fn killed_at_random_moments_then_resumed_the_target_matches_an_uninterrupted_run() {
    let reference = Workspace::new();
    let reference_config = reference.write("cutover.toml", config());
    let (output, stdout, stderr) = run(reference.cutover().arg("migrate").arg(&reference_config));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    let expected: BTreeSet<String> = lines(&reference).into_iter().collect();
    assert_eq!(expected.len(), RECORDS);

    let workspace = Workspace::new();
    let config = workspace.write("cutover.toml", config());
    // Deterministic "random" moments, from early in the run to late.
    let kills = migrate_killed_at_random_moments(&workspace, &config, 12, 0x5eed, (20, 400));
    assert!(kills > 0, "no run was interrupted: the moments are too late for this machine");
    // Whatever those moments did on this machine, the last kill comes right
    // after a commit (likely in the middle of the next batch's write), so
    // there is an open run with committed batches to resume.
    let interrupted = migrate_killed_after_a_commit(&workspace, &config, &state_path(&config));
    assert_eq!(last_run_state(&state_path(&config)).as_ref(), Some(&interrupted));
    assert!(!interrupted.finished && interrupted.read() > 0, "an open run with committed batches: {interrupted:?}");

    let report_path = workspace.path().join("report.json");
    let (output, stdout, stderr) =
        run(workspace.cutover().arg("migrate").arg(&config).arg("--report-json").arg(&report_path));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!("resuming run {} from its checkpoints", interrupted.run_id)),
        "the last run says it resumed the interrupted one:\n{stderr}"
    );

    let got = lines(&workspace);
    let unique: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(got.len(), unique.len(), "no duplicate lines");
    assert_eq!(unique, expected, "no gap and nothing different");

    // This run resumed the interrupted one, and its accounting covers every
    // record exactly once.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("JSON");
    assert_eq!(
        (&report["run_id"], &report["resumed"]),
        (&serde_json::json!(interrupted.run_id), &serde_json::json!(true))
    );
    assert!(last_run_state(&state_path(&config)).is_some_and(|state| state.finished), "the resumed run is finished");
    let stream = &report["streams"][0];
    let total = ["created", "updated", "unchanged", "rejected", "skipped"]
        .iter()
        .map(|field| stream[field].as_u64().unwrap_or(0))
        .sum::<u64>();
    assert_eq!(stream["read"].as_u64(), Some(total), "{stream}");
    // A resumed stream that re-read from the start, or skipped a batch,
    // would count more or fewer than every record once.
    assert_eq!(stream["read"].as_u64(), Some(RECORDS as u64), "{stream}");
    assert_eq!(stream["rejected"], 0, "{stream}");
}
