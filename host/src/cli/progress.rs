//! Progress of a running migration on stderr: a bar per stream on a
//! terminal (indicatif), otherwise a plain line at most every few seconds, so
//! logs of long runs in CI or cron show that the run is alive.

use crate::report::StreamReport;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How often a plain progress line is printed when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Shows one stream's progress.
pub enum StreamProgressDisplay {
    /// A live bar.
    Bar(ProgressBar),
    /// Plain lines, with when the last one was printed.
    Plain(Instant),
}

impl StreamProgressDisplay {
    /// A display for a stream expected to hold `total` records, if known.
    pub fn start(stream: &str, total: Option<u64>) -> StreamProgressDisplay {
        if !std::io::stderr().is_terminal() {
            return StreamProgressDisplay::Plain(Instant::now());
        }
        let bar = match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::new_spinner(),
        };
        let template = if total.is_some() {
            "{prefix:>12} [{bar:30}] {human_pos}/{human_len} elapsed {elapsed} eta {eta} {msg}"
        } else {
            "{prefix:>12} {spinner} {human_pos} elapsed {elapsed} {msg}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(stream.to_owned());
        StreamProgressDisplay::Bar(bar)
    }

    /// Shows the stream's accounting after a batch.
    pub fn update(&mut self, report: &StreamReport) {
        match self {
            StreamProgressDisplay::Bar(bar) => {
                bar.set_position(report.read);
                bar.set_message(format!("{} rejected", report.rejected));
            }
            StreamProgressDisplay::Plain(last) => {
                if last.elapsed() >= PLAIN_EVERY {
                    *last = Instant::now();
                    eprintln!(
                        "progress: {} read {}, created {}, updated {}, unchanged {}, rejected {}",
                        report.name, report.read, report.created, report.updated, report.unchanged, report.rejected
                    );
                }
            }
        }
    }

    /// Clears the bar; the run summary follows on stdout.
    pub fn finish(self) {
        if let StreamProgressDisplay::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
