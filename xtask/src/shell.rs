//! Running processes the same way in every command: each one is printed
//! (`$ cargo build ...`, on stderr) before it runs, and a failure names the
//! step it belongs to.

use anyhow::{Context, Result, bail};
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};

/// The workspace root: xtask lives in `<root>/xtask`.
pub fn project_root() -> Result<PathBuf> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    std::fs::canonicalize(root).with_context(|| format!("cannot find the workspace root at {root}"))
}

/// `cargo`, run in the workspace root. Under `cargo xtask`, `$CARGO` names the
/// cargo that started us, so every step uses the same toolchain.
pub fn cargo() -> Result<Command> {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(project_root()?);
    Ok(command)
}

/// Runs `command` with inherited output as part of `step`.
pub fn run(step: &str, command: &mut Command) -> Result<()> {
    let shown = show(command);
    eprintln!("$ {shown}");
    let status = command.status().with_context(|| format!("step `{step}` failed: cannot start `{shown}`"))?;
    if !status.success() {
        bail!("step `{step}` failed: `{shown}` {}", describe(status));
    }
    Ok(())
}

/// Runs `command` as part of `step` and returns what it printed on stdout;
/// its stderr goes to ours.
pub fn output(step: &str, command: &mut Command) -> Result<Vec<u8>> {
    let shown = show(command);
    eprintln!("$ {shown}");
    let output = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("step `{step}` failed: cannot start `{shown}`"))?;
    if !output.status.success() {
        bail!("step `{step}` failed: `{shown}` {}", describe(output.status));
    }
    Ok(output.stdout)
}

/// Why a process failed, for a message.
pub fn describe(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => "was killed by a signal".to_owned(),
    }
}

/// The command as a person would type it, with the variables it sets first.
pub fn show(command: &Command) -> String {
    let variables = command.get_envs().filter_map(|(name, value)| {
        let shown = if is_secret(name) { "<redacted>".to_owned() } else { quote(value?) };
        value.map(|_| format!("{}={shown}", quote(name)))
    });
    // `$CARGO` is an absolute path into the toolchain; `cargo` says the same.
    let program = command.get_program();
    let program =
        if std::env::var_os("CARGO").as_deref() == Some(program) { "cargo".to_owned() } else { quote(program) };
    let arguments = command.get_args().map(quote);
    variables.chain(std::iter::once(program)).chain(arguments).collect::<Vec<_>>().join(" ")
}

/// Whether a variable's name says it holds a credential, whose value is
/// then never printed.
fn is_secret(name: &OsStr) -> bool {
    let name = name.to_string_lossy().to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD"].iter().any(|word| name.contains(word))
}

fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@".contains(c)) {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shown_command_never_prints_a_credential() {
        let mut command = Command::new("cutover");
        command.arg("migrate").env("BENCH_API_KEY", "pk_secret").env("RUST_LOG", "info");
        let shown = show(&command);
        assert!(!shown.contains("pk_secret"), "{shown}");
        assert!(shown.contains("BENCH_API_KEY=<redacted>") && shown.contains("RUST_LOG=info"), "{shown}");
    }
}
