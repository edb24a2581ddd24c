//! Consent survives any mapping: a config whose value map would turn
//! unsubscribed, bounced, cleaned and pending people into subscribers (and
//! suppressed ones into non-subscribed) moves them with their consent as
//! read, and the run summary counts every status before and after: one
//! membership of each status there is. Suppressions are written before
//! subscriptions.

use cutover_e2e::{Workspace, run};
use cutover_schema::ConsentStatus;
use serde_json::{Value, json};

fn membership(id: &str, status: &str) -> String {
    json!({
        "source_platform": "old-esp",
        "source_id": id,
        "updated_at": "2026-01-01T00:00:00Z",
        "entity": { "membership": {
            "list": { "entity": "list", "source_id": "L1" },
            "email": format!("{id}@example.org"),
            "consent": { "email": { "status": status, "source": "signup form" } }
        } }
    })
    .to_string()
}

#[test]
fn no_mapping_makes_an_unsubscribed_bounced_or_cleaned_person_subscribed() {
    let workspace = Workspace::new();
    let list = json!({ "source_platform": "old-esp", "source_id": "L1", "updated_at": "2026-01-01T00:00:00Z",
        "entity": { "list": { "name": "Newsletter" } } });
    workspace.write("in/lists.jsonl", format!("{list}\n"));
    // Every status there is, by its name on the wire.
    let statuses: Vec<String> = ConsentStatus::ALL
        .iter()
        .map(|status| serde_json::to_value(status).expect("a status").as_str().expect("a name").to_owned())
        .collect();
    assert_eq!(
        statuses,
        ["subscribed", "pending", "non_subscribed", "unsubscribed", "bounced", "cleaned", "suppressed"],
        "a new status needs a line in the value map below"
    );
    let lines: Vec<String> = statuses.iter().map(|status| membership(status, status)).collect();
    workspace.write("in/memberships.jsonl", lines.join("\n") + "\n");
    let config = workspace.write(
        "cutover.toml",
        "[source]\nplugin = \"jsonl\"\nconfig = { folder = \"in\" }\n\
         [destination]\nplugin = \"jsonl\"\nconfig = { folder = \"out\" }\n\
         [[streams]]\nsource = \"memberships\"\n\
         [streams.values.\"consent.email.status\"]\nunsubscribed = \"subscribed\"\ncleaned = \"subscribed\"\n\
         bounced = \"subscribed\"\npending = \"subscribed\"\nnon_subscribed = \"pending\"\nsuppressed = \"non_subscribed\"\n\
         [[streams]]\nsource = \"lists\"\n",
    );
    let report_path = workspace.path().join("report.json");
    let (output, stdout, stderr) =
        run(workspace.cutover().arg("migrate").arg(&config).arg("--report-json").arg(&report_path));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    // Every status but subscribed was mapped upwards, and each was put back.
    let put_back = stderr.lines().filter(|line| line.contains("The mapping would have raised consent; kept as read."));
    assert_eq!(put_back.count(), statuses.len() - 1, "{stderr}");
    assert!(stdout.contains("consent (read → written)"), "{stdout}");

    let written = std::fs::read_to_string(workspace.path().join("out/memberships.jsonl")).expect("written");
    for line in written.lines() {
        let record: Value = serde_json::from_str(line).expect("JSON");
        let read_as = record["source_id"].as_str().unwrap_or_default();
        let membership = &record["entity"]["membership"];
        assert_eq!(membership["consent"]["email"]["status"], read_as, "{line}");
        assert_eq!(membership["consent"]["email"]["source"], "signup form", "provenance is kept: {line}");
        // Lists ran first (load order), so the reference points at the list's target id.
        assert_eq!(membership["list"]["source_id"], "old-esp:L1", "{line}");
    }
    assert_eq!(written.lines().count(), statuses.len());
    // Suppressions are written first: the jsonl destination appends in write order.
    let order: Vec<String> = written
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).expect("JSON")["source_id"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    let suppressions = ["unsubscribed", "bounced", "cleaned", "suppressed"];
    let first_others = order.iter().position(|id| !suppressions.contains(&id.as_str())).unwrap_or(order.len());
    assert_eq!(first_others, suppressions.len(), "suppressions come first: {order:?}");

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("JSON");
    let memberships =
        report["streams"].as_array().expect("streams").iter().find(|stream| stream["name"] == "memberships");
    let consent = memberships.expect("the memberships stream")["consent"].as_object().expect("consent counts").clone();
    assert_eq!(consent.len(), statuses.len(), "{consent:?}");
    for (state, count) in &consent {
        assert_eq!(count["before"], 1, "{state}: {count}");
        assert_eq!(count["after"], 1, "{state}: {count}");
    }
}
