//! A plugin's logs on the host's stderr: the host says, when it opens an
//! instance, which filter and format it logs with, and the plugin library
//! installs the same (once: a library has one global subscriber), so its
//! `tracing` events (the HTTP toolkit's requests and retries, say) appear
//! among the host's own lines.
//!
//! The host also names the secrets it resolved into the instance's config
//! ([`LogSettings::redact`]); every line the library logs is written with
//! those of every instance opened so far masked, in every form
//! [`cutover_contract::redact`] covers, as the host masks its own lines.

use cutover_contract::metadata::LogSettings;
use cutover_contract::redact::{RedactedLines, Redactor};
use std::io::IsTerminal;
use std::sync::{OnceLock, RwLock};

/// The secrets of every instance opened in this library.
fn redactor() -> &'static RwLock<Redactor> {
    static SECRETS: OnceLock<RwLock<Redactor>> = OnceLock::new();
    SECRETS.get_or_init(RwLock::default)
}

/// `text` with the secrets of every instance opened so far masked.
fn redact(text: &str) -> String {
    redactor().read().unwrap_or_else(|poisoned| poisoned.into_inner()).redact(text)
}

/// The library's log writer: stderr, each event's lines [redacted](redact).
#[derive(Debug, Clone, Copy, Default)]
struct RedactingStderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactingStderr {
    type Writer = RedactedLines<std::io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactedLines::new(std::io::stderr(), redact)
    }
}

/// Takes in the instance's secrets, and installs the library's subscriber
/// the first time only.
pub(crate) fn init(settings: &LogSettings) {
    if !settings.redact.is_empty() {
        let mut secrets = redactor().write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for secret in &settings.redact {
            secrets.add(secret);
        }
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_new(&settings.filter)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(RedactingStderr)
            .with_ansi(std::io::stderr().is_terminal());
        // Another subscriber already set (a plugin linked into a test) is fine.
        let _ = if settings.json { builder.json().try_init() } else { builder.try_init() };
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instance_s_secrets_are_masked_in_the_library_s_lines() {
        // `"`, `\`, a newline and `é` are escaped in JSON and `{:?}`; `/`, `+`, `=`, a space in URLs.
        let first = "pk\"se\\cr/et+k=ey\n é-42";
        let second = "second-instance-key";
        // The subscriber is installed by the first open only; every open adds its secrets.
        init(&LogSettings { filter: "off".into(), json: false, redact: vec![first.into()] });
        init(&LogSettings { filter: "trace".into(), json: true, redact: vec![second.into()] });
        let mut forms = cutover_contract::redact::forms(first);
        // As a URL path segment and a form encode it.
        forms.push("pk%22se%5Ccr%2Fet+k=ey%0A%20%C3%A9-42".into());
        forms.push("pk%22se%5Ccr%2Fet%2Bk%3Dey%0A+%C3%A9-42".into());
        forms.push(second.into());
        for form in &forms {
            let line = format!("HTTP request answered. path=\"/lists/{form}/members\"\n");
            assert_eq!(redact(&line), "HTTP request answered. path=\"/lists/****/members\"\n", "{form}");
        }
    }
}
