//! The shipped sample migration (the README's first command): a messy ESP
//! export into a SQLite archive. Nothing is silently dropped: every bad row
//! is in the rejects ledger with its reason, and the accounting balances.

use cutover_e2e::{Workspace, run, workspace_root};

#[test]
fn the_sample_export_lands_in_the_archive_and_every_bad_row_is_in_the_ledger() {
    let workspace = Workspace::new();
    let examples = workspace_root().join("examples");
    workspace.copy_into(&examples.join("esp-export/contacts.csv"), "examples/esp-export");
    let config = workspace.copy_into(&examples.join("esp-to-archive/cutover.toml"), "examples/esp-to-archive");
    let report_path = workspace.path().join("report.json");

    let (output, stdout, stderr) =
        run(workspace.cutover().arg("migrate").arg(&config).arg("--report-json").arg(&report_path));
    assert_eq!(output.status.code(), Some(3), "balanced, with rejects:\n{stdout}{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("JSON");
    let stream = &report["streams"][0];
    let rows = 300;
    assert_eq!(stream["read"], rows, "{stream}");
    let created = stream["created"].as_u64().unwrap_or(0);
    let rejected = stream["rejected"].as_u64().unwrap_or(0);
    assert_eq!(created + rejected, rows, "{stream}");

    let (output, stdout, stderr) = run(workspace.cutover().args(["rejects", "list", "--json"]).arg(&config));
    assert!(output.status.success(), "{stderr}");
    let rejects: Vec<serde_json::Value> = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(rejects.len() as u64, rejected, "{stdout}");
    for reject in &rejects {
        let code = reject["code"].as_str().unwrap_or("");
        assert!(["invalid_email", "missing_source_id"].contains(&code), "{reject}");
        assert!(!reject["raw"].as_str().unwrap_or("").is_empty(), "{reject}");
    }
    assert!(rejects.iter().any(|reject| reject["code"] == "missing_source_id"
        && reject["location"].as_str().is_some_and(|location| location.ends_with("contacts.csv:146"))));

    // The archive holds exactly the created records: read it back out.
    let read_back = workspace.write(
        "examples/read-back.toml",
        "[source]\nplugin = \"sqlite-archive\"\nconfig = { path = \"out/esp-archive.db\" }\n\
         [destination]\nplugin = \"jsonl\"\nconfig = { folder = \"out/read-back\" }\n\
         [[streams]]\nsource = \"contact\"\ndestination = \"contacts\"\n",
    );
    let (output, stdout, stderr) = run(workspace.cutover().arg("migrate").arg(&read_back));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    let lines =
        std::fs::read_to_string(workspace.path().join("examples/out/read-back/contacts.jsonl")).expect("read back");
    assert_eq!(lines.lines().count() as u64, created);
    assert!(lines.contains("\"source_platform\":\"mailchimp-export\""), "{}", &lines[..200.min(lines.len())]);

    // A second run changes nothing and rejects the same rows.
    let (output, stdout, stderr) =
        run(workspace.cutover().arg("migrate").arg(&config).arg("--report-json").arg(&report_path));
    assert_eq!(output.status.code(), Some(3), "{stdout}{stderr}");
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("JSON");
    assert_eq!(again["streams"][0]["unchanged"], created, "{again}");
    assert_eq!(again["streams"][0]["created"], 0, "{again}");
}
