//! When a failed request is tried again, and after how long.
//!
//! Exponential backoff with full jitter (a random wait between zero and the
//! exponential ceiling, so that streams that failed together do not come back
//! together), never shorter than [`RetryPolicy::min_delay`]. A `Retry-After`
//! the platform sends wins over the backoff. Written here rather than taken
//! from `backon`: the wait depends on each answer's headers, and the loop
//! also pauses the shared limiter, which is simpler as one explicit loop.

use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use std::time::{Duration, SystemTime};

/// When and how often a failed request is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Sends of one request that may fail, the first included. Default 6.
    /// A 429 does not count: it is the platform asking to slow down, not a
    /// failure, and a storm of them is waited out up to `max_elapsed`.
    pub max_attempts: u32,
    /// Time from the first send after which no retry starts. Default 5 min.
    pub max_elapsed: Duration,
    /// The first backoff ceiling; it doubles with each retry. Default 500 ms.
    pub initial_delay: Duration,
    /// The backoff ceiling never grows past this. Default 60 s.
    pub max_delay: Duration,
    /// No wait is shorter, whatever the platform says or the jitter draws,
    /// so that a `Retry-After: 0` never becomes a hot loop. Default 100 ms.
    pub min_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 6,
            max_elapsed: Duration::from_secs(300),
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            min_delay: Duration::from_millis(100),
        }
    }
}

impl RetryPolicy {
    /// Never retries.
    pub fn never() -> RetryPolicy {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// The wait before the retry that follows failed attempt number
    /// `attempt` (1-based): the platform's hint if it gave one, else a
    /// random wait up to the exponential ceiling; never under
    /// [`RetryPolicy::min_delay`].
    pub fn delay(&self, attempt: u32, hint: Option<Duration>) -> Duration {
        let delay = match hint {
            Some(hint) => hint,
            None => {
                let exponent = attempt.saturating_sub(1).min(31);
                let ceiling = self.initial_delay.saturating_mul(1 << exponent).min(self.max_delay);
                let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
                Duration::from_nanos(rand::rng().random_range(0..=nanos))
            }
        };
        delay.max(self.min_delay)
    }
}

/// Why an answer or a failure may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Never: the answer is final.
    No,
    /// The platform refused for its rate limit (429) or a timeout (408): the
    /// request was not processed, so it may be sent again whatever its method.
    Refused,
    /// The platform or the connection failed and the request may have been
    /// processed: only idempotent requests, or those marked safe, go again.
    IfIdempotent,
}

impl Retry {
    pub(crate) fn for_status(status: StatusCode) -> Retry {
        match status.as_u16() {
            408 | 429 => Retry::Refused,
            500 | 502 | 503 | 504 => Retry::IfIdempotent,
            _ => Retry::No,
        }
    }
}

/// The `Retry-After` header as a wait: seconds or an HTTP date. `0`, a date
/// in the past and anything unreadable are no hint at all (the caller's
/// backoff applies).
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    // `X-RateLimit-Retry-After` (seconds) is Partnerize's name for it, sent
    // with its other `X-RateLimit-*` headers; the standard one wins.
    let value = headers.get(RETRY_AFTER).or_else(|| headers.get("x-ratelimit-retry-after"))?.to_str().ok()?.trim();
    let delay = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value).ok()?.duration_since(now).ok()?,
    };
    (!delay.is_zero()).then_some(delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn check(value: &str, expected: Option<Duration>) {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        assert_eq!(retry_after(&headers, now), expected, "Retry-After: {value}");
    }

    #[test]
    fn retry_after_forms() {
        check("120", Some(Duration::from_secs(120)));
        check(" 3 ", Some(Duration::from_secs(3)));
        check("Sun, 06 Nov 1994 08:49:47 GMT", Some(Duration::from_secs(10)));
        check("0", None);
        check("-5", None);
        check("soon", None);
        check("1.5", None);
        check("Sun, 06 Nov 1994 08:49:30 GMT", None);
        assert_eq!(retry_after(&HeaderMap::new(), SystemTime::now()), None);
    }

    #[test]
    fn x_ratelimit_retry_after_is_read_when_retry_after_is_absent() {
        let now = SystemTime::now();
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(3)), "the standard header wins");
        let mut bad = HeaderMap::new();
        bad.insert("x-ratelimit-retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&bad, now), None);
    }

    #[test]
    fn backoff_stays_between_the_floor_and_the_doubling_ceiling() {
        let policy = RetryPolicy::default();
        for attempt in 1..=12 {
            let ceiling = (policy.initial_delay * 2u32.pow(attempt - 1)).min(policy.max_delay);
            for _ in 0..200 {
                let delay = policy.delay(attempt, None);
                assert!(delay >= policy.min_delay && delay <= ceiling.max(policy.min_delay), "{attempt}: {delay:?}");
            }
        }
        // Full jitter: draws differ (200 equal draws out of 0..=32 s would be a broken generator).
        let draws: std::collections::HashSet<_> = (0..200).map(|_| policy.delay(7, None)).collect();
        assert!(draws.len() > 100);
    }

    #[test]
    fn a_hint_wins_but_never_under_the_floor() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(1, Some(Duration::from_secs(7))), Duration::from_secs(7));
        assert_eq!(policy.delay(1, Some(Duration::from_millis(1))), policy.min_delay);
        assert_eq!(policy.delay(u32::MAX, None).max(policy.max_delay), policy.max_delay);
    }

    #[test]
    fn which_statuses_are_retried() {
        let check = |status: u16, expected: Retry| {
            assert_eq!(Retry::for_status(StatusCode::from_u16(status).unwrap()), expected, "{status}")
        };
        check(429, Retry::Refused);
        check(408, Retry::Refused);
        for status in [500, 502, 503, 504] {
            check(status, Retry::IfIdempotent);
        }
        for status in [400, 401, 403, 404, 409, 422, 501] {
            check(status, Retry::No);
        }
    }
}
