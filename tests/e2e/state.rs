//! `cutover state purge CONFIG --before DATE`: the raw records the state
//! store keeps (rejected rows as read, records held back for a second pass)
//! are dropped for the finished runs started before DATE, and their bytes
//! are gone from the state files; every reject stays listed with its
//! reason, a purged one is not replayed (and the replay says why), the id
//! map still serves the next run, and an unfinished run is left alone and
//! resumes.

use cutover_e2e::{
    Workspace, last_run_state, migrate_killed_after_a_commit, run, state_files_containing, state_path, utc_now_rfc3339,
    workspace_root,
};

fn rejects_json(workspace: &Workspace, config: &std::path::Path) -> Vec<serde_json::Value> {
    let (output, stdout, stderr) = run(workspace.cutover().args(["rejects", "list", "--json"]).arg(config));
    assert!(output.status.success(), "{stderr}");
    serde_json::from_str(&stdout).expect("a JSON array")
}

/// A reject without its raw record: what a purge keeps.
fn reason(reject: &serde_json::Value) -> [&serde_json::Value; 4] {
    [&reject["stream"], &reject["location"], &reject["code"], &reject["message"]]
}

#[test]
fn a_purge_keeps_every_reject_and_its_reason_and_leaves_no_raw_byte_in_the_state_files() {
    let workspace = Workspace::new();
    let examples = workspace_root().join("examples");
    workspace.copy_into(&examples.join("esp-export/contacts.csv"), "examples/esp-export");
    let config = workspace.copy_into(&examples.join("esp-to-archive/cutover.toml"), "examples/esp-to-archive");
    // `[state] path` in the sample config.
    let state = workspace.path().join("examples/out/esp-to-archive.state.db");
    let (output, stdout, stderr) = run(workspace.cutover().arg("migrate").arg(&config));
    assert_eq!(output.status.code(), Some(3), "balanced, with rejects:\n{stdout}{stderr}");
    let before = rejects_json(&workspace, &config);
    assert_eq!(before.len(), 7, "{before:?}");

    // What only the raw records hold (a reject's message quotes the broken
    // address, and is kept): each rejected contact's phone, and the address
    // in the row that has no id.
    let mut planted = Vec::new();
    for reject in &before {
        let raw = reject["raw"].as_str().expect("a raw record");
        match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(record) => planted.extend(record["entity"]["contact"]["phone"].as_str().map(str::to_owned)),
            Err(_) => planted.push(raw.split(',').next().expect("a first field").to_owned()),
        }
    }
    assert!(planted.len() >= 5 && planted.iter().all(|value| value.len() >= 10), "{planted:?}");
    for value in &planted {
        assert!(!state_files_containing(&state, value.as_bytes()).is_empty(), "{value} is in the state before");
        assert!(before.iter().all(|reject| !reject["message"].as_str().unwrap_or("").contains(value.as_str())));
    }

    // A date before the run, and a dry run, change nothing.
    let (output, stdout, stderr) =
        run(workspace.cutover().args(["state", "purge"]).arg(&config).args(["--before", "2020-01-01"]));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("nothing to purge: no finished run started before 2020-01-01T00:00:00Z"), "{stdout}");
    assert_eq!(rejects_json(&workspace, &config), before);
    let now = utc_now_rfc3339();
    let (output, stdout, stderr) =
        run(workspace.cutover().args(["state", "purge", "--dry-run"]).arg(&config).args(["--before", &now]));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout
            .contains("dry run: would purge the raw records of 7 rejects and 0 held-back records from 1 finished run")
            && stdout.contains("nothing was changed (dry run)"),
        "{stdout}"
    );
    assert_eq!(rejects_json(&workspace, &config), before);

    let (output, stdout, stderr) =
        run(workspace.cutover().args(["state", "purge"]).arg(&config).args(["--before", &now]));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("purged the raw records of 7 rejects and 0 held-back records from 1 finished run")
            && stdout.contains("WAL emptied"),
        "{stdout}"
    );
    let after = rejects_json(&workspace, &config);
    let marker = format!("[purged {}]", &now[..10]);
    assert_eq!(after.len(), before.len(), "every reject is still listed: {after:?}");
    for (kept, was) in after.iter().zip(&before) {
        assert_eq!(reason(kept), reason(was), "with its reason");
        assert_eq!(kept["raw"], serde_json::json!(marker), "and no raw record: {kept}");
    }
    for value in &planted {
        assert_eq!(state_files_containing(&state, value.as_bytes()), Vec::<std::path::PathBuf>::new(), "{value}");
    }

    // A replay takes none of them, and says why.
    let (output, stdout, stderr) = run(workspace.cutover().args(["rejects", "replay"]).arg(&config));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("no rejected records to replay"), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "7 rejected records cannot be replayed: their raw records were purged (`cutover state purge`, on {})",
            &now[..10]
        )),
        "{stderr}"
    );
    assert_eq!(rejects_json(&workspace, &config), after, "still open, still listed");

    // Purged already: nothing more. The id map is whole: a new run changes nothing.
    let (output, stdout, stderr) =
        run(workspace.cutover().args(["state", "purge"]).arg(&config).args(["--before", &now]));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("nothing to purge") && stdout.contains("1 run purged before"), "{stdout}");
    let report_path = workspace.path().join("report.json");
    let (output, stdout, stderr) =
        run(workspace.cutover().arg("migrate").arg(&config).arg("--report-json").arg(&report_path));
    assert_eq!(output.status.code(), Some(3), "{stdout}{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("JSON");
    assert_eq!((&report["streams"][0]["created"], &report["streams"][0]["unchanged"]), (&0.into(), &293.into()));
}

/// `count` contacts as JSON Lines, every 50th with an address that is not
/// one (rejected, raw record kept) and a phone that only its raw record holds.
fn contacts(count: usize) -> String {
    let mut lines = String::new();
    for id in 1..=count {
        let contact = if id % 50 == 0 {
            format!("\"email\":\"bad-{id}\",\"phone\":\"+1 555 0{id:05} planted\"")
        } else {
            format!("\"email\":\"p{id}@example.org\"")
        };
        lines.push_str(&format!(
            "{{\"source_platform\":\"old\",\"source_id\":\"{id}\",\"updated_at\":\"2026-01-01T00:00:00Z\",\
             \"entity\":{{\"contact\":{{{contact}}}}}}}\n"
        ));
    }
    lines
}

#[test]
fn an_unfinished_run_is_left_alone_and_then_resumes() {
    const RECORDS: usize = 20_000;
    let workspace = Workspace::new();
    workspace.write("in/contacts.jsonl", contacts(RECORDS));
    let config = workspace.write(
        "cutover.toml",
        "[source]\nplugin = \"jsonl\"\nconfig = { folder = \"in\" }\n\
         [destination]\nplugin = \"jsonl\"\nconfig = { folder = \"out\" }\n\
         [run]\nbatch_size = 100\n[[streams]]\nsource = \"contacts\"\n",
    );
    let state = state_path(&config);
    let (output, stdout, stderr) = run(workspace.cutover().arg("migrate").arg(&config));
    assert_eq!(output.status.code(), Some(3), "{stdout}{stderr}");
    let finished = last_run_state(&state).expect("a run");
    let open = migrate_killed_after_a_commit(&workspace, &config, &state);
    assert_ne!(open.run_id, finished.run_id);
    let open_rejects = rejects_json(&workspace, &config);
    assert!(!open_rejects.is_empty(), "the killed run committed rejects");

    let now = utc_now_rfc3339();
    let (output, stdout, stderr) =
        run(workspace.cutover().args(["state", "purge"]).arg(&config).args(["--before", &now]));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "purged the raw records of {} rejects and 0 held-back records from 1 finished run",
            RECORDS / 50
        )) && stdout.contains(&format!("  {}  started ", finished.run_id)),
        "{stdout}"
    );
    assert!(
        stdout.contains("left alone 1 run started before")
            && stdout.contains(&format!("  {}  started ", open.run_id))
            && stdout.contains("unfinished: `cutover migrate` may still resume it; purge again once it has finished"),
        "{stdout}"
    );
    // The open run keeps its raw records; the finished one has none left.
    assert_eq!(rejects_json(&workspace, &config), open_rejects);
    let connection = rusqlite::Connection::open(&state).expect("the state store");
    let raws = |run_id: &str| -> Vec<String> {
        let mut statement = connection.prepare("SELECT raw FROM rejects WHERE run_id = ?1").expect("a query");
        statement.query_map([run_id], |row| row.get(0)).expect("rows").map(|raw| raw.expect("a raw")).collect()
    };
    let marker = format!("[purged {}]", &now[..10]);
    assert!(raws(&finished.run_id).iter().all(|raw| *raw == marker), "{:?}", raws(&finished.run_id));
    assert!(raws(&open.run_id).iter().all(|raw| raw.contains("planted")), "{:?}", raws(&open.run_id));
    drop(connection);

    let report_path = workspace.path().join("report.json");
    let (output, stdout, stderr) =
        run(workspace.cutover().arg("migrate").arg(&config).arg("--report-json").arg(&report_path));
    assert_eq!(output.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stderr.contains(&format!("resuming run {} from its checkpoints", open.run_id)), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("JSON");
    let stream = &report["streams"][0];
    assert_eq!((&stream["read"], &stream["rejected"]), (&RECORDS.into(), &(RECORDS / 50).into()), "{stream}");
    assert_eq!(stream["status"], "completed", "{stream}");
    assert!(last_run_state(&state).is_some_and(|run| run.finished && run.run_id == open.run_id));
}

#[test]
fn a_bad_date_exits_2_and_a_migration_that_never_ran_has_nothing_to_purge() {
    let workspace = Workspace::new();
    let config = workspace.write(
        "cutover.toml",
        "[source]\nplugin = \"generator\"\nconfig = { records = 10, seed = 1 }\n\
         [destination]\nplugin = \"jsonl\"\nconfig = { folder = \"out\" }\n[[streams]]\nsource = \"contacts\"\n",
    );
    for (date, says) in [("31/12/2025", "not a date: write YYYY-MM-DD"), ("2999-01-01", "is in the future")] {
        let (output, stdout, stderr) =
            run(workspace.cutover().args(["state", "purge"]).arg(&config).args(["--before", date]));
        assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
        assert!(
            stderr.contains(&format!("invalid value '{date}' for '--before <DATE>'")) && stderr.contains(says),
            "{stderr}"
        );
    }
    let (output, stdout, stderr) =
        run(workspace.cutover().args(["state", "purge"]).arg(&config).args(["--before", "2020-01-01"]));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("nothing to purge: ") && stdout.contains("does not exist"), "{stdout}");
    assert!(!state_path(&config).exists(), "and it is not created");
}
