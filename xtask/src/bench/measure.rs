//! Timing one process and reading its peak memory.
//!
//! Each measured process is spawned on its own and reaped with `wait4`, whose
//! resource usage is that child's alone (with the descendants it waited for,
//! e.g. the `sqlite3` that sling starts), so a peak RSS is per run, not the
//! maximum over every child xtask ever had, as `getrusage(RUSAGE_CHILDREN)`
//! would give. Output goes to a log file, so a progress bar or a chatty tool
//! costs nothing on the terminal.

use crate::shell;
use anyhow::{Context, Result, bail};
use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What one run of a process took.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
    /// Peak resident set, in bytes.
    pub peak_rss: u64,
    /// User plus system CPU time: unlike wall time, barely moved by other
    /// processes sharing the machine.
    pub cpu: Duration,
    /// How it ended.
    pub status: ExitStatus,
}

/// Runs `command` with its stdout and stderr in `log`, and measures it.
pub fn run(command: &mut Command, log: &Path) -> Result<Measured> {
    let shown = shell::show(command);
    eprintln!("$ {shown}  (output in {})", log.display());
    let out = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
    let err = out.try_clone().with_context(|| format!("cannot open {} twice", log.display()))?;
    let started = Instant::now();
    let child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("cannot start `{shown}`"))?;
    let pid = libc::pid_t::try_from(child.id()).context("a process id out of range")?;
    let (raw_status, usage) = wait(pid).with_context(|| format!("cannot wait for `{shown}`"))?;
    let elapsed = started.elapsed();
    // `child` is dropped without `wait`: the process is reaped already.
    drop(child);
    // ru_maxrss is in KiB on Linux.
    let peak_rss = u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024;
    let cpu = duration(usage.ru_utime) + duration(usage.ru_stime);
    Ok(Measured { elapsed, peak_rss, cpu, status: ExitStatus::from_raw(raw_status) })
}

fn duration(time: libc::timeval) -> Duration {
    let seconds = u64::try_from(time.tv_sec).unwrap_or(0);
    let micros = u32::try_from(time.tv_usec).unwrap_or(0);
    Duration::from_secs(seconds) + Duration::from_micros(u64::from(micros))
}

fn wait(pid: libc::pid_t) -> std::io::Result<(i32, libc::rusage)> {
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own unreaped child; both pointers are valid for writes.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return Ok((status, usage));
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// The last lines of a log, for an error message.
pub fn tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Fails with the log's tail unless the process exited with one of `accepted`.
pub fn expect_status(measured: &Measured, accepted: &[i32], what: &str, log: &Path) -> Result<()> {
    match measured.status.code() {
        Some(code) if accepted.contains(&code) => Ok(()),
        _ => bail!("{what} {}; the end of {}:\n{}", shell::describe(measured.status), log.display(), tail(log, 20)),
    }
}
