//! Every tracing event this crate emits, in one place (as Vector's
//! `internal_events`). Fields carry the values, messages are constant. A path
//! is the URL path alone: never the query string, never a header.

use std::time::Duration;

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// An attempt got an answer (any status).
pub(crate) fn answered(method: &str, path: &str, status: u16, latency: Duration, attempt: u32) {
    tracing::debug!(method, path, status, latency_ms = millis(latency), attempt, "HTTP request answered.");
}

/// An attempt got no answer.
pub(crate) fn failed(method: &str, path: &str, error: &reqwest::Error, latency: Duration, attempt: u32) {
    tracing::debug!(method, path, latency_ms = millis(latency), attempt, error = %error, "HTTP request failed.");
}

/// A failed attempt will be tried again after `delay`.
pub(crate) fn retry_scheduled(method: &str, path: &str, attempt: u32, reason: &str, delay: Duration) {
    tracing::warn!(method, path, attempt, reason, delay_ms = millis(delay), "HTTP request will be retried.");
}

/// A 429 paused every stream of the account.
pub(crate) fn account_paused(method: &str, path: &str, pause: Duration) {
    tracing::warn!(method, path, pause_ms = millis(pause), "Rate limited; account paused.");
}
