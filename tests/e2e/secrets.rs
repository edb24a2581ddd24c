//! Secrets never reach logs, reports, the state store or error messages:
//! a known secret is planted through `${ENV_VAR}` in a plugin's secret
//! field, where the plugin's own trace-level log lines and errors carry it
//! back, where an HTTP plugin sends it on every request, and where a
//! reject's location quotes it; stdout, stderr and every file are searched
//! for it as it is and in the forms text takes (JSON-escaped,
//! percent-encoded, base64 in a Basic `Authorization` header). The secrets
//! hold characters each of those forms changes (`"`, `\`, a newline, `/`,
//! `+`, `=`, `%`, a space, `é`).
//!
//! References resolve only in the fields a plugin's config schema marks
//! secret: anywhere else `file:` and `${…}` are refused unread, and a
//! secret's file is taken from the config's folder and must be readable by
//! its owner only.

use crate::esp::serve;
use cutover_e2e::{Workspace, files_containing, run, secret_forms, set_mode, toml_string, url_forms};
use cutover_emulators::{EmulatorConfig, FaultConfig, Platform};
use serde_json::Value;

const SECRET: &str = "sk_e2e\"9f8e\\7d/6c+5b=4a%3f é\n2b-us21";

/// Every form of `secret` found in `text` or in a file under `workspace`, by
/// name and where.
fn leaks(secret: &str, users: &[&str], outputs: &[(&str, &str)], workspace: &Workspace) -> Vec<String> {
    let mut found = Vec::new();
    for (form, needle) in secret_forms(secret, users).into_iter().chain(url_forms(secret)) {
        for (what, text) in outputs {
            if text.contains(&needle) {
                found.push(format!("{form} in {what}"));
            }
        }
        for path in files_containing(workspace.path(), needle.as_bytes()) {
            found.push(format!("{form} in {}", path.display()));
        }
    }
    found
}

/// A migration that plants SECRET where the host and the plugin each quote
/// it back: the destination's API key is SECRET (`${CUTOVER_E2E_SECRET}`),
/// and the config also names SECRET, in TOML escapes (so the config file
/// holds none of its forms), as the source's folder and as the audience
/// the destination writes to. So the source's reject of a malformed line
/// has SECRET in its location; the mailchimp plugin's trace-level log line
/// of each request carries it, percent-encoded, in the path (a folder or
/// an audience is no secret field, so only the key tells the host and the
/// plugin what to mask); and the audience does not exist, so each member
/// written is a reject whose message quotes it. One membership is a
/// suppression, written in the first pass, the other is held back for the
/// second; each pass commits its rejects.
fn plant_secret(workspace: &Workspace, base_url: &str) -> std::path::PathBuf {
    let membership = |id: &str, status: &str| {
        serde_json::json!({
            "source_platform": "old-esp", "source_id": id, "updated_at": "2026-01-01T00:00:00Z",
            "entity": { "membership": {
                "list": { "entity": "list", "source_id": "L1" },
                "email": format!("{id}@example.org"),
                "consent": { "email": { "status": status, "source": "signup form" } }
            } }
        })
    };
    workspace.write(
        &format!("{SECRET}/memberships.jsonl"),
        format!("{{not json\n{}\n{}\n", membership("m1", "unsubscribed"), membership("m2", "subscribed")),
    );
    workspace.write(
        "cutover.toml",
        format!(
            "[source]\nplugin = \"jsonl\"\nconfig = {{ folder = {secret} }}\n\
             [destination]\nplugin = \"mailchimp\"\n\
             [destination.config]\napi_key = \"${{CUTOVER_E2E_SECRET}}\"\nbase_url = \"{base_url}/3.0/\"\nlist_id = {secret}\n\
             [[streams]]\nsource = \"memberships\"\ndestination = \"members\"\n",
            secret = toml_string(SECRET)
        ),
    )
}

#[test]
fn a_planted_secret_appears_in_no_output_and_no_file() {
    let mailchimp =
        serve(Platform::Mailchimp, EmulatorConfig { api_key: Some(SECRET.to_owned()), ..EmulatorConfig::new(43, 5) });
    let workspace = Workspace::new();
    let config = plant_secret(&workspace, &mailchimp.emulator.base_url);
    let mut outputs = Vec::new();
    for log_format in ["human", "json"] {
        let report = workspace.path().join(format!("report-{log_format}.json"));
        let (output, stdout, stderr) = run(workspace
            .cutover()
            .env("CUTOVER_E2E_SECRET", SECRET)
            .args(["--log", "trace", "--log-format", log_format, "migrate"])
            .arg(&config)
            .arg("--report-json")
            .arg(&report));
        assert_eq!(output.status.code(), Some(3), "{stdout}{stderr}");
        // The plugin logged its request for the audience, the audience masked.
        let requests: Vec<&str> =
            stderr.lines().filter(|line| line.contains("HTTP request answered.") && line.contains("404")).collect();
        assert!(!requests.is_empty(), "{stderr}");
        assert!(requests.iter().all(|line| line.contains("/3.0/lists/****")), "{log_format}: {requests:#?}");
        // The host logged the source's reject, the folder masked.
        let logged: Vec<&str> = stderr.lines().filter(|line| line.contains("Source item rejected.")).collect();
        assert_eq!(logged.len(), 1, "the host logged the reject: {stderr}");
        assert!(logged[0].contains("/****/memberships.jsonl:1"), "{log_format}: {}", logged[0]);
        outputs.push((format!("stdout ({log_format})"), stdout));
        outputs.push((format!("stderr ({log_format})"), stderr));
    }
    for command in [&["status"][..], &["status", "--json"], &["rejects", "list"], &["rejects", "list", "--json"]] {
        let (_, stdout, stderr) = run(workspace.cutover().args(command).arg(&config));
        outputs.push((command.join(" "), format!("{stdout}{stderr}")));
    }
    let outputs: Vec<(&str, &str)> = outputs.iter().map(|(what, text)| (what.as_str(), text.as_str())).collect();
    assert!(workspace.path().join("cutover.state.db").exists() && workspace.path().join("report-json.json").exists());
    assert_eq!(leaks(SECRET, &["cutover"], &outputs, &workspace), Vec::<String>::new());
}

/// The Mailchimp emulator's key, with a data center suffix and every
/// character the searched forms encode differently.
const HTTP_KEY: &str = "e2e\"key\\9f/8e+7d=6c&5b%4a é:1\n-us21";

#[test]
fn an_http_migration_at_trace_level_leaks_the_api_key_nowhere() {
    // 429s and 5xx, so retries are logged too.
    let faults = FaultConfig { burst_429: 2, rate_429: 0.05, rate_5xx: 0.05, ..FaultConfig::default() };
    let mailchimp = serve(
        Platform::Mailchimp,
        EmulatorConfig {
            api_key: Some(HTTP_KEY.to_owned()),
            invalid_email_fraction: 0.05,
            faults,
            ..EmulatorConfig::new(41, 120)
        },
    );
    let state = mailchimp.emulator.mailchimp().expect("a Mailchimp emulator");
    assert_eq!(mailchimp.emulator.api_key, HTTP_KEY);
    let workspace = Workspace::new();
    let config = workspace.write(
        "cutover.toml",
        format!(
            "[source]\nplugin = \"mailchimp\"\n\
             [source.config]\napi_key = \"${{CUTOVER_E2E_MAILCHIMP_KEY}}\"\nbase_url = \"{}/3.0/\"\n\
             [destination]\nplugin = \"sqlite-archive\"\nconfig = {{ path = \"archive.db\" }}\n\
             [[streams]]\nsource = \"lists\"\ndestination = \"list\"\n\
             [[streams]]\nsource = \"members\"\ndestination = \"membership\"\n",
            mailchimp.emulator.base_url
        ),
    );
    let mut outputs = Vec::new();
    for log_format in ["human", "json"] {
        let report = workspace.path().join(format!("report-{log_format}.json"));
        let (output, stdout, stderr) = run(workspace
            .cutover()
            .env("CUTOVER_E2E_MAILCHIMP_KEY", HTTP_KEY)
            .args(["--log", "trace", "--log-format", log_format, "migrate"])
            .arg(&config)
            .arg("--report-json")
            .arg(&report));
        let expected = if state.seeded_invalid_members().is_empty() { 0 } else { 3 };
        assert_eq!(output.status.code(), Some(expected), "{stdout}{}", &stderr[stderr.len().saturating_sub(3000)..]);
        // The trace level reached the host and the plugin: requests were logged.
        assert!(stderr.contains("HTTP request answered."), "{}", &stderr[..stderr.len().min(3000)]);
        assert!(stderr.contains("Batch written."), "{}", &stderr[..stderr.len().min(3000)]);
        outputs.push((format!("stdout ({log_format})"), stdout));
        outputs.push((format!("stderr ({log_format})"), stderr));
    }
    assert!(workspace.path().join("archive.db").exists() && workspace.path().join("cutover.state.db").exists());
    let outputs: Vec<(&str, &str)> = outputs.iter().map(|(what, text)| (what.as_str(), text.as_str())).collect();
    // The plugin's user name, and the ones Mailchimp's documentation uses.
    let users = ["cutover", "anystring", "user"];
    assert_eq!(leaks(HTTP_KEY, &users, &outputs, &workspace), Vec::<String>::new());
}

#[test]
fn a_reject_whose_location_carries_a_secret_is_stored_and_shown_redacted() {
    let mailchimp =
        serve(Platform::Mailchimp, EmulatorConfig { api_key: Some(SECRET.to_owned()), ..EmulatorConfig::new(45, 5) });
    let workspace = Workspace::new();
    let config = plant_secret(&workspace, &mailchimp.emulator.base_url);
    let (output, stdout, stderr) =
        run(workspace.cutover().env("CUTOVER_E2E_SECRET", SECRET).arg("migrate").arg(&config));
    assert_eq!(output.status.code(), Some(3), "{stdout}{stderr}");
    // The ledger as stored, read straight from the state store.
    let state = rusqlite::Connection::open(workspace.path().join("cutover.state.db")).expect("the state store opens");
    let stored: Vec<(String, String, String)> = state
        .prepare("SELECT location, code, message FROM rejects ORDER BY id")
        .and_then(|mut statement| statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?.collect())
        .expect("the rejects ledger reads");
    let shown: Vec<(&str, &str, &str)> = stored
        .iter()
        .map(|(location, code, message)| {
            let location = location.rsplit_once("/****/").map_or(location.as_str(), |(_, file)| file);
            (location, code.as_str(), message.as_str())
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "memberships.jsonl:1",
                "malformed_record",
                "not a canonical record: key must be a string at line 1 column 2"
            ),
            ("m1", "unknown_list", "mailchimp has no audience `****`"),
            ("m2", "unknown_list", "mailchimp has no audience `****`"),
        ]
    );
    // As `rejects list` shows it.
    let (_, listed, _) = run(workspace.cutover().args(["rejects", "list", "--json"]).arg(&config));
    let rejects: Value = serde_json::from_str(&listed).expect("rejects as JSON");
    assert_eq!(
        rejects[0]["location"].as_str().map(|location| location.ends_with("/****/memberships.jsonl:1")),
        Some(true),
        "{listed}"
    );
    assert_eq!(rejects[1]["message"], "mailchimp has no audience `****`", "{listed}");
    let outputs = [("migrate", stderr.as_str()), ("rejects list --json", listed.as_str())];
    assert_eq!(leaks(SECRET, &[], &outputs, &workspace), Vec::<String>::new());
}

#[test]
fn a_secret_written_inline_is_refused_naming_the_field() {
    let workspace = Workspace::new();
    let config = workspace.write(
        "cutover.toml",
        "[source]\nplugin = \"mailchimp\"\nconfig = { api_key = \"hunter2hunter2-us21\" }\n\
         [destination]\nplugin = \"jsonl\"\nconfig = { folder = \"out\" }\n[[streams]]\nsource = \"lists\"\n",
    );
    let (output, _, stderr) = run(workspace.cutover().arg("migrate").arg(&config));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("`source.config.api_key` holds a secret inline"), "{stderr}");
    assert!(!stderr.contains("hunter2hunter2"), "{stderr}");
}

/// Content planted in a file a config names where no secret goes.
const PLANTED: &str = "planted-content-7f3a9c";

#[test]
fn a_reference_in_a_field_that_is_not_secret_is_refused_and_never_resolved() {
    let workspace = Workspace::new();
    // Readable by its owner only, so nothing but the field refuses it.
    let planted = workspace.write("planted.txt", PLANTED);
    set_mode(&planted, 0o600);
    let hostname = std::fs::read_to_string("/etc/hostname").unwrap_or_default().trim().to_owned();
    let mailchimp = |base_url: &str| {
        format!(
            "plugin = \"mailchimp\"\nconfig = {{ api_key = \"${{CUTOVER_E2E_SECRET}}\", base_url = \"{base_url}\" }}"
        )
    };
    let jsonl = |folder: &str| format!("plugin = \"jsonl\"\nconfig = {{ folder = \"{folder}\" }}");
    let cases = [
        ("source.config.folder", "file:/etc/hostname", jsonl("file:/etc/hostname"), jsonl("out")),
        ("source.config.folder", "file:planted.txt", jsonl("file:planted.txt"), jsonl("out")),
        ("source.config.base_url", "file:planted.txt", mailchimp("file:planted.txt"), jsonl("out")),
        ("destination.config.folder", "${CUTOVER_E2E_SECRET}", jsonl("in"), jsonl("${CUTOVER_E2E_SECRET}")),
        (
            "source.config.records",
            "${CUTOVER_E2E_SECRET}",
            "plugin = \"generator\"\nconfig = { records = \"${CUTOVER_E2E_SECRET}\" }".to_owned(),
            jsonl("out"),
        ),
    ];
    for (field, reference, source, destination) in cases {
        let config = workspace.write(
            "cutover.toml",
            format!("[source]\n{source}\n[destination]\n{destination}\n[[streams]]\nsource = \"contacts\"\n"),
        );
        let (output, stdout, stderr) = run(workspace
            .cutover()
            .env("CUTOVER_E2E_SECRET", SECRET)
            .args(["--log", "trace", "migrate"])
            .arg(&config)
            .arg("--report-json")
            .arg(workspace.path().join("report.json")));
        assert_eq!(output.status.code(), Some(1), "{field}: {stdout}{stderr}");
        let expected = format!(
            "`{field}` is not a secret field, so it takes no reference (`{reference}`): only the fields the plugin's config schema marks secret"
        );
        assert!(stderr.contains(&expected), "{field}: {stderr}");
        for (what, content) in [("the planted file", PLANTED), ("/etc/hostname", hostname.as_str())] {
            if !content.is_empty() {
                assert!(!stdout.contains(content) && !stderr.contains(content), "{what} was read: {stderr}");
            }
        }
        for (form, needle) in secret_forms(SECRET, &[]) {
            assert!(!stdout.contains(&needle) && !stderr.contains(&needle), "{form} of the variable: {stderr}");
        }
    }
    let found = files_containing(workspace.path(), PLANTED.as_bytes());
    assert_eq!(found, [planted], "the planted content is in its own file only");
}

#[test]
fn a_file_reference_is_read_from_the_config_folder_whatever_the_working_folder() {
    let key = "0123456789abcdef0123456789abcdef-us21";
    let mailchimp =
        serve(Platform::Mailchimp, EmulatorConfig { api_key: Some(key.to_owned()), ..EmulatorConfig::new(44, 5) });
    let workspace = Workspace::new();
    set_mode(&workspace.write("conf/key.txt", format!("{key}\n")), 0o600);
    // The same name in the working folder holds a key the emulator refuses.
    set_mode(&workspace.write("elsewhere/key.txt", "fedcba9876543210fedcba9876543210-us21\n"), 0o600);
    workspace.write(
        "conf/cutover.toml",
        format!(
            "[source]\nplugin = \"mailchimp\"\nconfig = {{ api_key = \"file:key.txt\", base_url = \"{}/3.0/\" }}\n\
             [destination]\nplugin = \"jsonl\"\nconfig = {{ folder = \"out\" }}\n[[streams]]\nsource = \"lists\"\n",
            mailchimp.emulator.base_url
        ),
    );
    let (output, stdout, stderr) = run(workspace
        .cutover()
        .current_dir(workspace.path().join("elsewhere"))
        .args(["migrate", "../conf/cutover.toml"]));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    let lists = std::fs::read_to_string(workspace.path().join("conf/out/lists.jsonl")).expect("the lists are written");
    assert!(!lists.is_empty(), "{stdout}");
    assert!(!stderr.contains(key) && !stdout.contains(key), "{stdout}{stderr}");
}

#[test]
fn a_secret_file_other_users_can_access_is_refused() {
    let workspace = Workspace::new();
    let key = "0123456789abcdef0123456789abcdef-us21";
    let file = workspace.write("key.txt", key);
    let config = workspace.write(
        "cutover.toml",
        "[source]\nplugin = \"mailchimp\"\nconfig = { api_key = \"file:key.txt\", base_url = \"http://127.0.0.1:9/3.0/\" }\n\
         [destination]\nplugin = \"jsonl\"\nconfig = { folder = \"out\" }\n[[streams]]\nsource = \"lists\"\n",
    );
    for mode in [0o644, 0o640, 0o604, 0o660] {
        set_mode(&file, mode);
        let (output, stdout, stderr) = run(workspace.cutover().arg("migrate").arg(&config));
        assert_eq!(output.status.code(), Some(1), "{mode:o}: {stdout}{stderr}");
        let path = workspace.path().join("key.txt");
        let expected = format!(
            "`source.config.api_key` refers to file {}, which other users can access (mode {mode:04o}): a secret's file must be readable by its owner only; run `chmod 600 {}`",
            path.display(),
            path.display()
        );
        assert!(stderr.contains(&expected), "{mode:o}: {stderr}");
        assert!(!stderr.contains(key) && !stdout.contains(key), "{stdout}{stderr}");
    }
}

#[test]
fn every_plugin_marks_its_credentials_secret_in_its_config_schema() {
    let workspace = Workspace::new();
    for (plugin, field) in [("mailchimp", "api_key"), ("klaviyo", "api_key"), ("mailman", "password")] {
        let (output, stdout, stderr) = run(workspace.cutover().args(["plugins", "inspect", plugin, "--json"]));
        assert!(output.status.success(), "{stderr}");
        let inspected: Value = serde_json::from_str(&stdout).expect("JSON");
        let schema = &inspected["config_schema"];
        assert_eq!(schema["properties"][field]["writeOnly"], true, "{plugin}: {schema:#}");
    }
}
