//! The shipped affiliate export (partners with parents, links, clicks,
//! conversions, commissions) into a SQLite archive: every foreign key is
//! rewritten through the id map, a partner's parent by the stream's second
//! pass, the referral cycle in the export is reported and broken at one link,
//! and after the mapping is fixed `cutover rejects replay` moves only the
//! rejected records.

use cutover_e2e::{
    Workspace, last_run_state, migrate_killed_after_a_commit, migrate_killed_at_random_moments, run, workspace_root,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const STREAMS: [&str; 5] = ["partners", "links", "clicks", "conversions", "commissions"];
/// Each stream's entity, as the archive names its table.
const TABLES: [&str; 5] = ["partner", "tracking_link", "click", "conversion", "commission"];
/// The items (rows the csv plugin reads or rejects) of each file of the
/// sample export, in stream order.
const ITEMS_IN_THE_EXPORT: [u64; 5] = [150, 200, 400, 200, 262];

/// The sample export and its config in a new workspace; the config's text
/// passes through `edit` first.
fn sample(edit: impl Fn(String) -> String) -> (Workspace, std::path::PathBuf) {
    let workspace = Workspace::new();
    let examples = workspace_root().join("examples");
    for stream in STREAMS {
        workspace.copy_into(&examples.join(format!("affiliate-export/{stream}.csv")), "examples/affiliate-export");
    }
    let config = std::fs::read_to_string(examples.join("affiliate-to-archive/cutover.toml")).expect("the config");
    let path = workspace.write("examples/affiliate-to-archive/cutover.toml", edit(config));
    (workspace, path)
}

fn report(workspace: &Workspace, args: &[&str], config: &std::path::Path, expected_exit: i32) -> Value {
    report_and_stderr(workspace, args, config, expected_exit).0
}

fn report_and_stderr(
    workspace: &Workspace,
    args: &[&str],
    config: &std::path::Path,
    expected_exit: i32,
) -> (Value, String) {
    let report_path = workspace.path().join("report.json");
    let (output, stdout, stderr) =
        run(workspace.cutover().args(args).arg(config).arg("--report-json").arg(&report_path));
    assert_eq!(output.status.code(), Some(expected_exit), "{stdout}{stderr}");
    (serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("JSON"), stderr)
}

fn rejects(workspace: &Workspace, config: &std::path::Path) -> Vec<Value> {
    let (output, stdout, stderr) = run(workspace.cutover().args(["rejects", "list", "--json"]).arg(config));
    assert!(output.status.success(), "{stderr}");
    serde_json::from_str(&stdout).expect("JSON")
}

fn sum(report: &Value, field: &str) -> u64 {
    report["streams"].as_array().expect("streams").iter().map(|stream| stream[field].as_u64().unwrap_or(0)).sum()
}

/// An archived row: column → value as text.
type Row = BTreeMap<String, Option<String>>;

/// The archive, straight from its SQLite file: per table, each row by source id.
fn archive(workspace: &Workspace) -> BTreeMap<&'static str, BTreeMap<String, Row>> {
    let path = workspace.path().join("examples/out/affiliate-archive.db");
    let connection = rusqlite::Connection::open(&path).expect("the archive opens");
    TABLES
        .iter()
        .map(|table| {
            let mut statement = connection.prepare(&format!("SELECT * FROM \"{table}\"")).expect("a table");
            let columns: Vec<String> = statement.column_names().into_iter().map(str::to_owned).collect();
            let rows = statement
                .query_map([], |row| {
                    let mut values = Row::new();
                    for (index, column) in columns.iter().enumerate() {
                        let value = match row.get_ref(index)? {
                            rusqlite::types::ValueRef::Null => None,
                            rusqlite::types::ValueRef::Integer(number) => Some(number.to_string()),
                            rusqlite::types::ValueRef::Real(number) => Some(number.to_string()),
                            rusqlite::types::ValueRef::Text(text) | rusqlite::types::ValueRef::Blob(text) => {
                                Some(String::from_utf8_lossy(text).into_owned())
                            }
                        };
                        values.insert(column.clone(), value);
                    }
                    Ok(values)
                })
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .expect("rows");
            let by_id = rows.into_iter().map(|row| (row["source_id"].clone().unwrap_or_default(), row)).collect();
            (*table, by_id)
        })
        .collect()
}

/// The source id a reference column of an archived row holds (after the
/// move: the target id of the record it points at).
fn reference(row: &Row, field: &str) -> Option<String> {
    let json: Value = serde_json::from_str(row.get(field)?.as_deref()?).expect("a reference as JSON");
    json["source_id"].as_str().map(str::to_owned)
}

#[test]
fn every_link_survives_the_move_and_the_referral_cycle_is_reported() {
    let (workspace, config) = sample(|config| config);
    let first = report(&workspace, &["migrate"], &config, 3);
    for stream in first["streams"].as_array().expect("streams") {
        let accounted = ["created", "updated", "unchanged", "rejected", "skipped"]
            .iter()
            .map(|field| stream[field].as_u64().unwrap_or(0))
            .sum::<u64>();
        assert_eq!(stream["read"].as_u64(), Some(accounted), "{stream}");
    }
    assert_eq!(first["streams"][0]["read"], 150);
    let warnings = first["streams"][0]["warnings"].to_string();
    assert!(warnings.contains("reference cycle partner A-1040 → A-1041 → A-1040"), "{warnings}");

    let rejected = rejects(&workspace, &config);
    assert_eq!(rejected.len() as u64, sum(&first, "rejected"));
    let codes: BTreeSet<&str> = rejected.iter().filter_map(|reject| reject["code"].as_str()).collect();
    assert_eq!(codes, BTreeSet::from(["ambiguous_amount", "invalid_value", "unresolved_reference"]));
    assert!(rejected.iter().any(|reject| reject["location"] == "partners record A-1077"
        && reject["message"].as_str().is_some_and(|message| message.contains("partner A-0999"))));

    // Every reference in the archive points at an archived record's target id.
    let archived = archive(&workspace);
    let target = |table: &str, id: &str| {
        let source_id = id.strip_prefix("old-affiliate:").unwrap_or_else(|| panic!("{id} is not a target id"));
        assert!(archived[table].contains_key(source_id), "{table} {id} is not in the archive");
    };
    let mut parents = 0;
    for (id, partner) in &archived["partner"] {
        if let Some(parent) = reference(partner, "parent") {
            target("partner", &parent);
            parents += 1;
        } else {
            assert_ne!(id, "A-1040", "A-1040's parent was not the link that closed the cycle");
        }
    }
    assert!(parents > 30, "{parents} partners kept their parent");
    assert_eq!(reference(&archived["partner"]["A-1040"], "parent").as_deref(), Some("old-affiliate:A-1041"));
    assert_eq!(reference(&archived["partner"]["A-1041"], "parent"), None);
    for (table, field, points_at) in [
        ("tracking_link", "partner", "partner"),
        ("click", "tracking_link", "tracking_link"),
        ("conversion", "click", "click"),
        ("commission", "conversion", "conversion"),
        ("commission", "partner", "partner"),
    ] {
        for record in archived[table].values() {
            if let Some(id) = reference(record, field) {
                target(points_at, &id);
            }
        }
    }
    assert_eq!(archived["partner"]["A-1003"]["status"].as_deref(), Some("pending"), "statuses are mapped");

    // Run again: nothing changes, the second pass included, as the report
    // says and as the archive itself shows when read back.
    let second = report(&workspace, &["migrate"], &config, 3);
    assert_eq!(sum(&second, "unchanged"), sum(&first, "created"), "{second}");
    assert_eq!(sum(&second, "created") + sum(&second, "updated"), 0, "{second}");
    assert_eq!(sum(&second, "rejected"), sum(&first, "rejected"), "{second}");
    let again = archive(&workspace);
    let rows =
        |archive: &BTreeMap<&'static str, BTreeMap<String, Row>>| archive.values().map(BTreeMap::len).sum::<usize>();
    assert_eq!(rows(&again) as u64, sum(&first, "created"), "one row per created record: no duplicate");
    assert_eq!(again, archived, "the second run left every row as the first wrote it");
}

#[test]
fn after_the_mapping_is_fixed_a_replay_moves_only_the_rejected_records() {
    let unmapped = |config: String| config.replace("\"On Hold\" = \"suspended\"\n", "");
    let (workspace, config) = sample(unmapped);
    let first = report(&workspace, &["migrate"], &config, 3);
    let before = rejects(&workspace, &config);
    let on_hold = before.iter().filter(|reject| reject["code"] == "unmappable").count();
    assert!(on_hold > 3, "some partners are On Hold: {on_hold}");
    let cascaded = before.iter().filter(|reject| reject["code"] == "unresolved_reference").count();
    // The csv plugin could not read these rows at all: fixing them is fixing the file.
    let unreadable = before
        .iter()
        .filter(|reject| reject["code"] != "unmappable" && reject["code"] != "unresolved_reference")
        .count();

    // Fix the mapping and replay.
    workspace.write("examples/affiliate-to-archive/cutover.toml", {
        std::fs::read_to_string(workspace_root().join("examples/affiliate-to-archive/cutover.toml")).expect("config")
    });
    let replay = report(&workspace, &["rejects", "replay"], &config, 3);
    assert_eq!(sum(&replay, "read") as usize, on_hold + cascaded, "only the replayable rejects are read: {replay}");
    assert_eq!(sum(&replay, "unchanged") + sum(&replay, "updated"), 0, "nothing else is touched: {replay}");
    assert!(sum(&replay, "created") as usize > on_hold, "{replay}");

    // The archive now is what a migration with the fixed mapping makes.
    let after = rejects(&workspace, &config);
    assert!(after.iter().all(|reject| reject["code"] != "unmappable"), "{after:?}");
    let (clean, clean_config) = sample(|config| config);
    let clean_report = report(&clean, &["migrate"], &clean_config, 3);
    let locations = |rejects: &[Value]| -> BTreeSet<String> {
        // A file's location names the workspace's own path: compare from the file name on.
        let place = |reject: &Value| {
            reject["location"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_owned()
        };
        rejects.iter().map(|reject| format!("{} {}", place(reject), reject["code"])).collect()
    };
    assert_eq!(locations(&after), locations(&rejects(&clean, &clean_config)));
    assert_eq!(
        sum(&first, "created") + sum(&replay, "created"),
        sum(&clean_report, "created"),
        "first run + replay = one clean run"
    );
    let counts = |workspace: &Workspace| archive(workspace).values().map(BTreeMap::len).collect::<Vec<_>>();
    assert_eq!(counts(&workspace), counts(&clean));
    assert!(unreadable > 0);

    // Nothing left that a replay can fix: a second replay takes the rest and rejects them again.
    let again = report(&workspace, &["rejects", "replay"], &config, 3);
    assert_eq!(sum(&again, "created"), 0, "{again}");
    assert_eq!(locations(&rejects(&workspace, &config)), locations(&after));
}

/// The archive without the columns that depend on when the files were copied
/// (a row with no `updated_at` takes its file's modification time).
fn stable(archive: BTreeMap<&'static str, BTreeMap<String, Row>>) -> BTreeMap<&'static str, BTreeMap<String, Row>> {
    archive
        .into_iter()
        .map(|(table, rows)| {
            let rows = rows
                .into_iter()
                .map(|(id, mut row)| {
                    row.remove("updated_at");
                    row.remove("fingerprint");
                    (id, row)
                })
                .collect();
            (table, rows)
        })
        .collect()
}

#[test]
fn killed_during_the_second_pass_or_anywhere_else_the_archive_matches_an_uninterrupted_run() {
    let small_batches = |config: String| format!("{config}\n[run]\nbatch_size = 7\n");
    let (reference, reference_config) = sample(small_batches);
    let expected_report = report(&reference, &["migrate"], &reference_config, 3);
    // The reference is itself checked against the export, not only against
    // another run of the same binary: a record lost in every run alike would
    // otherwise go unseen.
    let reads: Vec<u64> = expected_report["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter_map(|stream| stream["read"].as_u64())
        .collect();
    assert_eq!(reads, ITEMS_IN_THE_EXPORT, "{expected_report}");
    let expected = stable(archive(&reference));

    let (workspace, config) = sample(small_batches);
    let kills = migrate_killed_at_random_moments(&workspace, &config, 10, 0xaff1, (30, 600));
    assert!(kills > 0, "no run was interrupted: the moments are too late for this machine");
    // The sample config keeps its state store in `[state] path`.
    let state = workspace.path().join("examples/out/affiliate-to-archive.state.db");
    // Whatever those moments did on this machine, the last kill comes right
    // after a commit (likely in the middle of the next batch's write), so
    // there is an open run with committed batches to resume.
    let interrupted = migrate_killed_after_a_commit(&workspace, &config, &state);
    assert_eq!(last_run_state(&state).as_ref(), Some(&interrupted));
    assert!(!interrupted.finished && interrupted.read() > 0, "an open run with committed batches: {interrupted:?}");
    let (last, stderr) = report_and_stderr(&workspace, &["migrate"], &config, 3);
    assert!(stderr.contains(&format!("resuming run {} from its checkpoints", interrupted.run_id)), "{stderr}");
    assert_eq!((&last["run_id"], &last["resumed"]), (&serde_json::json!(interrupted.run_id), &Value::Bool(true)));
    assert_eq!(stable(archive(&workspace)), expected, "no duplicate, no gap, every link as in one run");
    for (stream, expected_stream) in
        last["streams"].as_array().expect("streams").iter().zip(expected_report["streams"].as_array().expect("streams"))
    {
        assert_eq!(stream["read"], expected_stream["read"], "every item read once: {stream}");
        assert_eq!(stream["rejected"], expected_stream["rejected"], "{stream}");
    }
    assert_eq!(rejects(&workspace, &config).len(), rejects(&reference, &reference_config).len());
}
