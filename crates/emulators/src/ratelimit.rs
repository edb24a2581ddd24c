//! The two rate-limit models: Mailchimp's cap on simultaneous connections and
//! Klaviyo's fixed burst (1 s) and steady (1 min) windows per endpoint.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::sync::lock;

/// Requests in flight against a cap (Mailchimp: 10 per user).
#[derive(Debug)]
pub(crate) struct ConcurrencyLimit {
    max: usize,
    in_flight: Arc<AtomicUsize>,
}

/// Holds one slot of a [`ConcurrencyLimit`] until dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    in_flight: Arc<AtomicUsize>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ConcurrencyLimit {
    pub(crate) fn new(max: usize) -> Self {
        ConcurrencyLimit { max, in_flight: Arc::new(AtomicUsize::new(0)) }
    }

    /// A slot, or `None` when `max` requests are already in flight.
    pub(crate) fn try_acquire(&self) -> Option<Slot> {
        let taken = self
            .in_flight
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |current| (current < self.max).then_some(current + 1));
        taken.ok().map(|_| Slot { in_flight: Arc::clone(&self.in_flight) })
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

/// Requests allowed per burst second and per steady minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tier {
    pub(crate) burst: u32,
    pub(crate) steady: u32,
}

/// What the limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Go ahead; the values are for the `RateLimit-*` headers (steady window).
    Allowed { limit: u32, remaining: u32, reset_seconds: u64 },
    /// Over a window; try again after this many seconds.
    Throttled { retry_after_seconds: u64 },
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

impl Window {
    /// A fixed window opens with the first request after the last one closed.
    fn roll(&mut self, now: Instant, length: Duration) {
        if now.duration_since(self.started) >= length {
            self.started = now;
            self.count = 0;
        }
    }

    fn seconds_left(&self, now: Instant, length: Duration) -> u64 {
        let left = length.saturating_sub(now.duration_since(self.started));
        left.as_secs() + u64::from(left.subsec_nanos() > 0)
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    burst: Window,
    steady: Window,
}

const BURST: Duration = Duration::from_secs(1);
const STEADY: Duration = Duration::from_secs(60);

/// Fixed burst and steady windows, one pair per key (an endpoint).
#[derive(Debug, Default)]
pub(crate) struct WindowLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl WindowLimiter {
    pub(crate) fn check(&self, key: &str, tier: Tier, now: Instant) -> Verdict {
        let mut buckets = lock(&self.buckets);
        let bucket = buckets
            .entry(key.to_owned())
            .or_insert(Bucket { burst: Window { started: now, count: 0 }, steady: Window { started: now, count: 0 } });
        bucket.burst.roll(now, BURST);
        bucket.steady.roll(now, STEADY);
        if bucket.steady.count >= tier.steady {
            return Verdict::Throttled { retry_after_seconds: bucket.steady.seconds_left(now, STEADY).max(1) };
        }
        if bucket.burst.count >= tier.burst {
            return Verdict::Throttled { retry_after_seconds: bucket.burst.seconds_left(now, BURST).max(1) };
        }
        bucket.burst.count += 1;
        bucket.steady.count += 1;
        Verdict::Allowed {
            limit: tier.steady,
            remaining: tier.steady - bucket.steady.count,
            reset_seconds: bucket.steady.seconds_left(now, STEADY),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_window_throttles_then_reopens() {
        let limiter = WindowLimiter::default();
        let tier = Tier { burst: 2, steady: 10 };
        let start = Instant::now();
        assert!(matches!(limiter.check("k", tier, start), Verdict::Allowed { remaining: 9, .. }));
        assert!(matches!(limiter.check("k", tier, start), Verdict::Allowed { remaining: 8, .. }));
        assert_eq!(limiter.check("k", tier, start), Verdict::Throttled { retry_after_seconds: 1 });
        assert!(matches!(limiter.check("other", tier, start), Verdict::Allowed { .. }));
        let later = start + Duration::from_millis(1500);
        assert!(matches!(limiter.check("k", tier, later), Verdict::Allowed { remaining: 7, .. }));
    }

    #[test]
    fn steady_window_throttles_for_the_rest_of_the_minute() {
        let limiter = WindowLimiter::default();
        let tier = Tier { burst: 10, steady: 1 };
        let start = Instant::now();
        assert!(matches!(limiter.check("k", tier, start), Verdict::Allowed { .. }));
        let verdict = limiter.check("k", tier, start + Duration::from_secs(20));
        assert_eq!(verdict, Verdict::Throttled { retry_after_seconds: 40 });
    }

    #[test]
    fn concurrency_slots_are_returned_on_drop() {
        let limit = ConcurrencyLimit::new(1);
        let slot = limit.try_acquire();
        assert!(slot.is_some());
        assert!(limit.try_acquire().is_none());
        drop(slot);
        assert!(limit.try_acquire().is_some());
    }
}
