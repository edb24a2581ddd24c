//! Rate limits and their headers, in the two models vendors document: a cap
//! on requests in flight (Mailchimp's simultaneous connections), which the
//! server applies to every vendor route
//! ([`crate::EmulatorApp::max_in_flight`]), and fixed burst (1 s) and steady
//! (1 min) windows per endpoint (Klaviyo's tiers), which a vendor puts in
//! front of its routes with [`limit_windows`]: allowed answers carry
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (the
//! steady window), refused ones are the vendor's 429 with `Retry-After`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::ErrorBody;
use crate::store::lock;

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
pub struct Tier {
    /// Requests in the 1-second burst window.
    pub burst: u32,
    /// Requests in the 1-minute steady window.
    pub steady: u32,
}

/// What the limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead; the values are for the `RateLimit-*` headers (steady window).
    Allowed {
        /// `RateLimit-Limit`: the steady window's size.
        limit: u32,
        /// `RateLimit-Remaining`: what is left of it.
        remaining: u32,
        /// `RateLimit-Reset`: seconds until it reopens.
        reset_seconds: u64,
    },
    /// Over a window; try again after this many seconds.
    Throttled {
        /// `Retry-After`: seconds until the window that refused reopens.
        retry_after_seconds: u64,
    },
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
pub struct WindowLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl WindowLimiter {
    /// Counts a request on `key`'s windows at `now`, unless a window is full.
    pub fn check(&self, key: &str, tier: Tier, now: Instant) -> Verdict {
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

/// Picks the tier of a request from the request and its route's path
/// pattern (`/api/profiles/{id}`, or the path itself when unrouted).
type TierOf = dyn Fn(&Request, &str) -> Tier + Send + Sync;

/// The state of [`limit_windows`]: a [`WindowLimiter`] keyed by method and
/// route, and the vendor's tiers.
#[derive(Clone)]
pub struct WindowLimit {
    limiter: Arc<WindowLimiter>,
    tier: Arc<TierOf>,
}

impl WindowLimit {
    /// Windows sized by `tier`, called once per request.
    pub fn new(tier: impl Fn(&Request, &str) -> Tier + Send + Sync + 'static) -> Self {
        WindowLimit { limiter: Arc::default(), tier: Arc::new(tier) }
    }
}

impl fmt::Debug for WindowLimit {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("WindowLimit").field("limiter", &self.limiter).finish_non_exhaustive()
    }
}

/// Middleware: counts the request on its endpoint's windows (`METHOD
/// /route/pattern`); answers the vendor's 429 with `Retry-After` when a
/// window is full, else runs it and adds the `RateLimit-*` headers. Use as a
/// `route_layer` (so the route's pattern is known) with
/// `axum::middleware::from_fn_with_state(limit, limit_windows::<Vendor>)`.
pub async fn limit_windows<E: ErrorBody>(State(limit): State<WindowLimit>, request: Request, next: Next) -> Response {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| request.uri().path().to_owned(), |matched| matched.as_str().to_owned());
    let tier = (limit.tier)(&request, &path);
    let key = format!("{} {path}", request.method());
    match limit.limiter.check(&key, tier, Instant::now()) {
        Verdict::Throttled { retry_after_seconds } => E::too_many_requests(Some(retry_after_seconds)),
        Verdict::Allowed { limit, remaining, reset_seconds } => {
            let mut response = next.run(request).await;
            let headers = response.headers_mut();
            headers.insert("ratelimit-limit", HeaderValue::from(limit));
            headers.insert("ratelimit-remaining", HeaderValue::from(remaining));
            headers.insert("ratelimit-reset", HeaderValue::from(reset_seconds));
            response
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
