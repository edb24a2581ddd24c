//! A plugin's logs on the host's stderr: the host says, when it opens an
//! instance, which filter and format it logs with, and the plugin library
//! installs the same (once: a library has one global subscriber), so its
//! `tracing` events (the HTTP toolkit's requests and retries, say) appear
//! among the host's own lines.

use cutover_abi::metadata::LogSettings;
use std::io::IsTerminal;

/// Installs the library's subscriber, the first time only.
pub(crate) fn init(settings: &LogSettings) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_new(&settings.filter)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal());
        // Another subscriber already set (a plugin linked into a test) is fine.
        let _ = if settings.json { builder.json().try_init() } else { builder.try_init() };
    });
}
