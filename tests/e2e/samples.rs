//! The shipped sample migration (the README's first command): a messy ESP
//! export into a SQLite archive. Nothing is silently dropped: every bad row
//! is in the rejects ledger with its reason, and the accounting balances.
//! Which rows are bad is what `examples/generate_samples.py` planted (read
//! from the export by the shapes it plants), not what the validator says.

use cutover_e2e::{Workspace, run, workspace_root};
use std::collections::BTreeSet;

/// The records of a CSV text, as fields, each with the line it starts on
/// (1-based); quoted fields may hold commas, newlines and doubled quotes.
fn csv_records(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut records = Vec::new();
    let (mut fields, mut field, mut quoted, mut line, mut start) = (Vec::new(), String::new(), false, 1, 1);
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '"' if quoted && characters.peek() == Some(&'"') => {
                field.push('"');
                characters.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            '\n' if !quoted => {
                fields.push(std::mem::take(&mut field));
                records.push((start, std::mem::take(&mut fields)));
                line += 1;
                start = line;
            }
            '\n' => {
                field.push('\n');
                line += 1;
            }
            '\r' if !quoted => {}
            other => field.push(other),
        }
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((start, fields));
    }
    records
}

/// Whether `email` is one of the broken addresses the sample generator
/// plants for member `N`: `memberN.example.com`, `memberN@`, `not an email`,
/// `m N@example.com`.
fn planted_bad_email(email: &str) -> bool {
    let digits = |text: &str| !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
    email == "not an email"
        || email.strip_prefix("member").and_then(|rest| rest.strip_suffix(".example.com")).is_some_and(digits)
        || email.strip_prefix("member").and_then(|rest| rest.strip_suffix('@')).is_some_and(digits)
        || email.strip_prefix("m ").and_then(|rest| rest.strip_suffix("@example.com")).is_some_and(digits)
}

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

    // What the generator planted: rows with a broken address (by their
    // `LEID`, the source id, and address) and the row with no id (by line).
    let export = std::fs::read_to_string(examples.join("esp-export/contacts.csv")).expect("the export");
    let records = csv_records(&export);
    assert_eq!(records.len() as u64, rows + 1, "a header and {rows} rows");
    let mut planted_bad = BTreeSet::new();
    let mut planted_no_id = BTreeSet::new();
    for (line, fields) in &records[1..] {
        let (email, leid) = (fields[0].as_str(), fields[fields.len() - 1].as_str());
        if leid.is_empty() {
            planted_no_id.insert(format!("contacts.csv:{line}"));
        } else if planted_bad_email(email) {
            planted_bad.insert((leid.to_owned(), email.to_owned()));
        }
    }
    assert!(planted_bad.len() >= 3 && planted_no_id.len() == 1, "{planted_bad:?} {planted_no_id:?}");
    let mut bad = BTreeSet::new();
    let mut no_id = BTreeSet::new();
    for reject in &rejects {
        let location = reject["location"].as_str().unwrap_or("");
        match reject["code"].as_str() {
            Some("invalid_email") => {
                let raw: serde_json::Value =
                    serde_json::from_str(reject["raw"].as_str().unwrap_or("")).expect("the record");
                let email = raw["entity"]["contact"]["email"].as_str().unwrap_or("").to_owned();
                assert!(bad.insert((raw["source_id"].as_str().unwrap_or("").to_owned(), email)), "twice: {reject}");
            }
            Some("missing_source_id") => {
                let at = location.rsplit_once('/').map_or(location, |(_, file)| file);
                assert!(no_id.insert(at.to_owned()), "twice: {reject}");
                assert!(!reject["raw"].as_str().unwrap_or("").is_empty(), "{reject}");
            }
            _ => panic!("an unexpected reject: {reject}"),
        }
    }
    assert_eq!(bad, planted_bad, "the rejected addresses are exactly the broken ones planted");
    assert_eq!(no_id, planted_no_id, "the row without an id, by its line");

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
