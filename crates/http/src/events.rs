//! Every tracing event this crate emits, in one place (as Vector's
//! `internal_events`). Fields carry the values, messages are constant. A path
//! is the URL path alone: never the query string, never a header, and a
//! segment that holds an email address (Mailman's `lists/{list}/member/{address}`)
//! is shown as `<address>`: logs carry no personal data.

use std::borrow::Cow;
use std::time::Duration;

/// `path` with every segment that holds an email address (`@`, or `%40`
/// as encoded) replaced by `<address>`.
fn shown(path: &str) -> Cow<'_, str> {
    let is_address = |segment: &str| segment.contains('@') || segment.to_ascii_lowercase().contains("%40");
    if !path.split('/').any(is_address) {
        return Cow::Borrowed(path);
    }
    Cow::Owned(
        path.split('/')
            .map(|segment| if is_address(segment) { "<address>" } else { segment })
            .collect::<Vec<_>>()
            .join("/"),
    )
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// An attempt got an answer (any status).
pub(crate) fn answered(method: &str, path: &str, status: u16, latency: Duration, attempt: u32) {
    tracing::debug!(method, path = %shown(path), status, latency_ms = millis(latency), attempt, "HTTP request answered.");
}

/// An attempt got no answer.
pub(crate) fn failed(method: &str, path: &str, error: &reqwest::Error, latency: Duration, attempt: u32) {
    tracing::debug!(method, path = %shown(path), latency_ms = millis(latency), attempt, error = %error, "HTTP request failed.");
}

/// A failed attempt will be tried again after `delay`.
pub(crate) fn retry_scheduled(method: &str, path: &str, attempt: u32, reason: &str, delay: Duration) {
    tracing::warn!(method, path = %shown(path), attempt, reason, delay_ms = millis(delay), "HTTP request will be retried.");
}

/// A 429 paused every stream of the account.
pub(crate) fn account_paused(method: &str, path: &str, pause: Duration) {
    tracing::warn!(method, path = %shown(path), pause_ms = millis(pause), "Rate limited; account paused.");
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn addresses_in_paths_are_not_logged() {
        assert_eq!(
            shown("/3.1/lists/ant.example.com/member/zoë+1@example.org"),
            "/3.1/lists/ant.example.com/member/<address>"
        );
        assert_eq!(shown("/3.1/lists/a/bans/zo%40example.org/x"), "/3.1/lists/a/bans/<address>/x");
        assert_eq!(shown("/3.0/lists/9e67587f52/members"), "/3.0/lists/9e67587f52/members");
    }
}
