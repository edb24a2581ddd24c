//! Secrets never reach logs, reports, the state store or error messages:
//! a known secret is planted through `${ENV_VAR}` where a plugin's error
//! quotes it back, and every output and file is searched for it.

use cutover_e2e::{Workspace, run};

const SECRET: &str = "sk_e2e_9f8e7d6c5b4a";

fn files_containing(folder: &std::path::Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_owned()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(
                std::fs::read_dir(&path).expect("read folder").filter_map(Result::ok).map(|entry| entry.path()),
            );
        } else if std::fs::read(&path)
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|window| window == needle.as_bytes()))
        {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn a_planted_secret_appears_in_no_output_and_no_file() {
    let workspace = Workspace::new();
    // The generator refuses a string for `records` and quotes it: the host
    // must redact it from the error, the report and the logs.
    let config = workspace.write(
        "cutover.toml",
        "[source]\nplugin = \"generator\"\nconfig = { records = \"${CUTOVER_E2E_SECRET}\" }\n\
         [destination]\nplugin = \"jsonl\"\nconfig = { folder = \"out\" }\n[[streams]]\nsource = \"contacts\"\n",
    );
    let report = workspace.path().join("report.json");
    for log_format in ["human", "json"] {
        let (output, stdout, stderr) = run(workspace
            .cutover()
            .env("CUTOVER_E2E_SECRET", SECRET)
            .args(["--log", "trace", "--log-format", log_format, "migrate"])
            .arg(&config)
            .arg("--report-json")
            .arg(&report));
        assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
        assert!(stderr.contains("invalid config for plugin `generator`: field `records`"), "{stderr}");
        assert!(stderr.contains("****"), "the value is shown redacted: {stderr}");
        assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET), "leaked:\n{stdout}{stderr}");
    }
    assert_eq!(files_containing(workspace.path(), SECRET), Vec::<String>::new());
}

#[test]
fn a_secret_written_inline_is_refused_naming_the_field() {
    let workspace = Workspace::new();
    let config = workspace.write(
        "cutover.toml",
        "[source]\nplugin = \"generator\"\nconfig = { records = 5, api_key = \"hunter2hunter2\" }\n\
         [destination]\nplugin = \"jsonl\"\nconfig = { folder = \"out\" }\n[[streams]]\nsource = \"contacts\"\n",
    );
    let (output, _, stderr) = run(workspace.cutover().arg("migrate").arg(&config));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("`source.config.api_key` holds a secret inline"), "{stderr}");
    assert!(!stderr.contains("hunter2hunter2"), "{stderr}");
}
