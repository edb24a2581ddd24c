//! The harness for cutover's end-to-end tests: where the built `cutover`
//! binary and plugin libraries are, and a workspace of files per test.
//!
//! Not here: the tests themselves (`e2e/`, one module per verb). The tests
//! run what `cargo build --workspace` and `cargo xtask plugins` built; `cargo
//! xtask ci` does both before running them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".")).to_owned()
}

/// `target/<profile>`, found from this test binary's own path
/// (`target/<profile>/deps/e2e-…`).
pub fn profile_dir() -> PathBuf {
    let executable = std::env::current_exe().unwrap_or_default();
    executable.ancestors().nth(2).unwrap_or(Path::new("target/debug")).to_owned()
}

fn built(path: PathBuf) -> PathBuf {
    assert!(path.exists(), "{} is missing: run `cargo build --workspace && cargo xtask plugins` first", path.display());
    path
}

/// The built `cutover` binary.
pub fn cutover_binary() -> PathBuf {
    built(profile_dir().join(format!("cutover{}", std::env::consts::EXE_SUFFIX)))
}

/// The library file of a workspace plugin crate (`cutover_plugin_jsonl`),
/// from the default plugin folder or the fixtures folder.
pub fn plugin_library(crate_name: &str) -> PathBuf {
    let file = format!("{}{crate_name}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    let folder = if crate_name.starts_with("cutover_fixture") { "fixture-plugins" } else { "plugins" };
    built(profile_dir().join(folder).join(file))
}

/// The folder of the misbehaving fixture plugins.
pub fn fixture_dir() -> PathBuf {
    built(profile_dir().join("fixture-plugins"))
}

/// A test's own folder, kept (and its path printed) when the test fails.
pub struct Workspace {
    folder: tempfile::TempDir,
}

impl Workspace {
    /// A new empty folder.
    pub fn new() -> Workspace {
        Workspace { folder: tempfile::Builder::new().prefix("cutover-e2e-").tempdir().expect("a temp folder") }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.folder.path()
    }

    /// Writes a file (and its folders) under the workspace.
    pub fn write(&self, relative: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folders");
        }
        std::fs::write(&path, content).expect("write file");
        path
    }

    /// Copies a file into a folder of the workspace.
    pub fn copy_into(&self, source: &Path, folder: &str) -> PathBuf {
        let target_folder = self.path().join(folder);
        std::fs::create_dir_all(&target_folder).expect("create folder");
        let target = target_folder.join(source.file_name().expect("a file name"));
        std::fs::copy(source, &target).expect("copy file");
        target
    }

    /// A copy of the `cutover` binary in `bin/`, whose default plugin folder
    /// (`bin/plugins`) is empty: for tests that must see only the plugin
    /// folders they name.
    pub fn isolated_cutover(&self) -> Command {
        let binary = self.copy_into(&cutover_binary(), "bin");
        let mut command = Command::new(binary);
        command.env_remove("CUTOVER_PLUGIN_PATH").current_dir(self.path());
        command
    }

    /// The built `cutover` binary, with its default plugin folder.
    pub fn cutover(&self) -> Command {
        let mut command = Command::new(cutover_binary());
        command.env_remove("CUTOVER_PLUGIN_PATH").current_dir(self.path());
        command
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace::new()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let kept = std::mem::replace(&mut self.folder, tempfile::tempdir().expect("a temp folder")).keep();
            eprintln!("test failed: its files are kept in {}", kept.display());
        }
    }
}

/// Runs a command and returns its output, with stdout and stderr as text.
pub fn run(command: &mut Command) -> (Output, String, String) {
    let output = command.output().expect("the command runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

/// Starts `cutover migrate CONFIG` in `workspace` with its output discarded.
pub fn spawn_migrate(workspace: &Workspace, config: &Path) -> std::process::Child {
    workspace
        .cutover()
        .arg("migrate")
        .arg(config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("cutover starts")
}

/// Starts `cutover migrate CONFIG` in `workspace` `runs` times and kills it
/// with SIGKILL after a deterministic "random" delay (a small LCG from
/// `seed`) between `min_ms` and `min_ms + spread_ms`, unless it ended first.
/// Returns how many runs were killed.
pub fn migrate_killed_at_random_moments(
    workspace: &Workspace,
    config: &Path,
    runs: usize,
    mut seed: u64,
    (min_ms, spread_ms): (u64, u64),
) -> usize {
    let mut kills = 0;
    for _ in 0..runs {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let delay = std::time::Duration::from_millis(min_ms + (seed >> 33) % spread_ms.max(1));
        let mut child = spawn_migrate(workspace, config);
        std::thread::sleep(delay);
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        child.wait().expect("reaped");
    }
    kills
}

/// One stream of a run, as the state store (`<config>.state.db`) recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamState {
    /// `source → destination` stream name.
    pub name: String,
    /// Items read, as of the last committed batch.
    pub read: u64,
    /// Records created, as of the last committed batch.
    pub created: u64,
    /// `running` until the stream ends, then `completed`, `failed` or `unbalanced`.
    pub status: String,
}

/// The last run in a migration's state store, read straight from its SQLite
/// file (not through `cutover`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunState {
    /// Its id.
    pub run_id: String,
    /// Whether it ended; `false` for an interrupted run the next `migrate` resumes.
    pub finished: bool,
    /// Its streams, in the order they started.
    pub streams: Vec<StreamState>,
}

impl RunState {
    /// Items read by all its streams, as committed.
    pub fn read(&self) -> u64 {
        self.streams.iter().map(|stream| stream.read).sum()
    }
}

/// The state store beside `config` (`cutover.toml` → `cutover.state.db`),
/// where it is when the config does not name one in `[state] path`.
pub fn state_path(config: &Path) -> PathBuf {
    let stem = config.file_stem().map_or("cutover".into(), |stem| stem.to_string_lossy().into_owned());
    config.with_file_name(format!("{stem}.state.db"))
}

/// The last run in the state store `path` (see [`state_path`]), or `None`
/// when there is none yet (or the store cannot be read at this moment, e.g.
/// it is being created).
pub fn last_run_state(path: &Path) -> Option<RunState> {
    if !path.exists() {
        return None;
    }
    let connection = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    let (run_id, finished_at): (String, Option<String>) = connection
        .query_row("SELECT run_id, finished_at FROM runs ORDER BY rowid DESC LIMIT 1", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .ok()?;
    let mut statement = connection
        .prepare("SELECT stream, read, created, status FROM checkpoints WHERE run_id = ?1 ORDER BY position")
        .ok()?;
    let streams = statement
        .query_map([&run_id], |row| {
            Ok(StreamState {
                name: row.get(0)?,
                read: row.get::<_, i64>(1)?.try_into().unwrap_or(0),
                created: row.get::<_, i64>(2)?.try_into().unwrap_or(0),
                status: row.get(3)?,
            })
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .ok()?;
    Some(RunState { run_id, finished: finished_at.is_some(), streams })
}

/// Waits (up to a minute) until the state store `state` has an unfinished
/// run with more items committed than `more_than`, and returns it; `None` if
/// `child` ended first.
pub fn wait_for_a_commit(child: &mut std::process::Child, state: &Path, more_than: u64) -> Option<RunState> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if let Some(state) = last_run_state(state).filter(|state| !state.finished && state.read() > more_than) {
            return Some(state);
        }
        if child.try_wait().expect("wait").is_some() {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    panic!("no batch was committed to {} within a minute", state.display());
}

/// Sends SIGINT (what Ctrl-C sends) to a running process.
pub fn interrupt(child: &std::process::Child) {
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success(), "kill -INT {} failed", child.id());
}

/// Starts `cutover migrate CONFIG` and kills it with SIGKILL as soon as the
/// state store `state` shows a batch committed by this process (most likely
/// while it writes the next one), so that an open run with committed
/// batches is left to resume, however fast or slow the machine. A process
/// that ends before it commits anything (it had only the end of a run left)
/// is started again, a few times. Returns the open run, as left.
pub fn migrate_killed_after_a_commit(workspace: &Workspace, config: &Path, state: &Path) -> RunState {
    for _ in 0..3 {
        let before = last_run_state(state).filter(|run| !run.finished).map_or(0, |run| run.read());
        let mut child = spawn_migrate(workspace, config);
        let committed = wait_for_a_commit(&mut child, state, before);
        // Killing a process that already ended does nothing.
        let _ = child.kill();
        child.wait().expect("reaped");
        if committed.is_some()
            && let Some(open) = last_run_state(state).filter(|run| !run.finished)
        {
            return open;
        }
    }
    panic!("migrate {} never committed a batch before it ended: nothing to kill it after", config.display());
}

/// Standard base64 (with `=` padding) of `bytes`: the form a secret takes in
/// an HTTP Basic `Authorization` header.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::new();
    for chunk in bytes.chunks(3) {
        let word =
            chunk.iter().enumerate().fold(0u32, |word, (index, byte)| word | u32::from(*byte) << (16 - 8 * index));
        for index in 0..4 {
            if index <= chunk.len() {
                encoded.push(char::from(ALPHABET[(word >> (18 - 6 * index) & 63) as usize]));
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}

/// `text` percent-encoded as in a URL (RFC 3986: all but `A-Za-z0-9-._~`).
pub fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// `text` as it appears inside a JSON string.
pub fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).expect("a string encodes");
    quoted[1..quoted.len() - 1].to_owned()
}

/// Every form a secret is searched for in outputs and files: as it is,
/// JSON-escaped, percent-encoded, and base64 inside a Basic `Authorization`
/// header after each of `users` (`user:secret`); named, for messages.
pub fn secret_forms(secret: &str, users: &[&str]) -> Vec<(String, String)> {
    let mut forms = vec![
        ("raw".to_owned(), secret.to_owned()),
        ("JSON-escaped".to_owned(), json_escaped(secret)),
        ("percent-encoded".to_owned(), percent_encoded(secret)),
        ("base64".to_owned(), base64(secret.as_bytes())),
    ];
    for user in users {
        forms.push((format!("base64 of `{user}:…`"), base64(format!("{user}:{secret}").as_bytes())));
    }
    forms
}

/// The files under `folder` (recursively) whose bytes contain `needle`.
pub fn files_containing(folder: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_owned()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(
                std::fs::read_dir(&path).expect("read folder").filter_map(Result::ok).map(|entry| entry.path()),
            );
        } else if std::fs::read(&path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|window| window == needle)) {
            found.push(path);
        }
    }
    found
}

#[cfg(test)]
mod encoding_tests {
    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), encoded, "{plain}");
        }
        assert_eq!(super::base64(b"anystring:key-us21"), "YW55c3RyaW5nOmtleS11czIx");
    }

    #[test]
    fn percent_and_json_forms() {
        assert_eq!(super::percent_encoded("a b/é~"), "a%20b%2F%C3%A9~");
        assert_eq!(super::json_escaped("a\"b\\c/"), "a\\\"b\\\\c/");
    }
}

/// One run of a process, timed and measured by [`run_measured`].
#[derive(Debug)]
pub struct Measured {
    /// How it ended.
    pub status: std::process::ExitStatus,
    /// Its stdout, as text.
    pub stdout: String,
    /// Its stderr, as text.
    pub stderr: String,
    /// Wall time from spawn to exit.
    pub elapsed: std::time::Duration,
    /// Its peak resident set in bytes: this child's own (`wait4`), not the
    /// largest of every child the test process had, as
    /// `getrusage(RUSAGE_CHILDREN)` would give with tests running in parallel.
    pub peak_rss: u64,
    /// It was still running after the time limit and was killed.
    pub killed: bool,
}

/// Runs `command` with its stdout and stderr in `<name>.stdout` and
/// `<name>.stderr` in `workspace`, kills it (SIGKILL) if it is still
/// running after `limit`, and reaps it with `wait4` for its peak RSS.
pub fn run_measured(workspace: &Workspace, name: &str, command: &mut Command, limit: std::time::Duration) -> Measured {
    use std::os::unix::process::ExitStatusExt;
    let out_path = workspace.path().join(format!("{name}.stdout"));
    let err_path = workspace.path().join(format!("{name}.stderr"));
    let out = std::fs::File::create(&out_path).expect("create the stdout file");
    let err = std::fs::File::create(&err_path).expect("create the stderr file");
    let started = std::time::Instant::now();
    let mut child =
        command.stdin(std::process::Stdio::null()).stdout(out).stderr(err).spawn().expect("the command starts");
    let pid = libc::pid_t::try_from(child.id()).expect("a process id in range");
    let mut killed = false;
    let mut raw_status = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let options = if killed { 0 } else { libc::WNOHANG };
        // SAFETY: `pid` is our own child, not reaped yet (only this loop reaps
        // it); both pointers are valid for writes.
        let reaped = unsafe { libc::wait4(pid, &mut raw_status, options, &mut usage) };
        if reaped == pid {
            break;
        }
        if reaped < 0 {
            let error = std::io::Error::last_os_error();
            assert_eq!(error.kind(), std::io::ErrorKind::Interrupted, "wait4 failed: {error}");
            continue;
        }
        if started.elapsed() > limit {
            // Not reaped yet, so the pid is still this child's.
            child.kill().expect("SIGKILL");
            killed = true;
        } else {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    let elapsed = started.elapsed();
    // `child` is dropped without `wait`: the process is reaped already.
    drop(child);
    let read = |path: &Path| String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned();
    Measured {
        status: std::process::ExitStatus::from_raw(raw_status),
        stdout: read(&out_path),
        stderr: read(&err_path),
        elapsed,
        // ru_maxrss is in KiB on Linux.
        peak_rss: u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024,
        killed,
    }
}

/// `text` as a TOML basic string, quotes included, with every character but
/// ASCII letters, digits, `_`, `-` and `.` written as a `\u` escape: a
/// config naming a secret this way holds none of the forms
/// [`secret_forms`] searches for.
pub fn toml_string(text: &str) -> String {
    let mut quoted = String::from("\"");
    for character in text.chars() {
        if character.is_ascii_alphanumeric() || "_-.".contains(character) {
            quoted.push(character);
        } else if u32::from(character) <= 0xFFFF {
            quoted.push_str(&format!("\\u{:04X}", u32::from(character)));
        } else {
            quoted.push_str(&format!("\\U{:08X}", u32::from(character)));
        }
    }
    quoted.push('"');
    quoted
}

/// Sets the permission bits of `path` (`0o600`: readable by its owner only).
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("set the file's mode");
}

/// More forms a secret takes in a URL than [`secret_forms`] searches for
/// (named, for messages): percent-encoded keeping what a path segment may
/// hold as it is (RFC 3986 `pchar`: `+`, `=`, `&`, `:`, `@`…), as a form
/// is (a space as `+`), and with lowercase hex digits.
pub fn url_forms(secret: &str) -> Vec<(String, String)> {
    let encode = |keep: &dyn Fn(u8) -> bool, space: &str, lowercase: bool| -> String {
        secret
            .bytes()
            .map(|byte| match byte {
                b' ' if !space.is_empty() => space.to_owned(),
                _ if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || keep(byte) => {
                    char::from(byte).to_string()
                }
                _ if lowercase => format!("%{byte:02x}"),
                _ => format!("%{byte:02X}"),
            })
            .collect()
    };
    vec![
        ("percent-encoded as a path segment".to_owned(), encode(&|byte| b"!$&'()*+,;=:@".contains(&byte), "", false)),
        ("form-encoded".to_owned(), encode(&|_| false, "+", false)),
        ("percent-encoded in lowercase".to_owned(), encode(&|_| false, "", true)),
    ]
}

#[cfg(test)]
mod url_and_toml_tests {
    #[test]
    fn url_forms_and_toml_strings() {
        let forms: Vec<String> = super::url_forms("a b+c/é").into_iter().map(|(_, form)| form).collect();
        assert_eq!(forms, ["a%20b+c%2F%C3%A9", "a+b%2Bc%2F%C3%A9", "a%20b%2bc%2f%c3%a9"]);
        assert_eq!(super::toml_string("k\"e\\y\né-1_2.3"), "\"k\\u0022e\\u005Cy\\u000A\\u00E9-1_2.3\"");
    }
}

/// Now, in UTC, as RFC 3339 with milliseconds (`2026-12-05T18:10:57.123Z`),
/// by SQLite's clock: a `cutover state purge --before` that takes every run
/// started until now.
pub fn utc_now_rfc3339() -> String {
    let connection = rusqlite::Connection::open_in_memory().expect("an in-memory database");
    connection.query_row("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", [], |row| row.get(0)).expect("the time")
}

/// The files of the state store `state` (see [`state_path`]: the database,
/// its WAL and its shared memory, those that exist) whose bytes contain
/// `needle`.
pub fn state_files_containing(state: &Path, needle: &[u8]) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .into_iter()
        .map(|suffix| {
            let mut name = state.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        })
        .filter(|file| {
            std::fs::read(file).is_ok_and(|bytes| bytes.windows(needle.len()).any(|window| window == needle))
        })
        .collect()
}
