//! One rate limiter per account, shared by every stream that talks to it.
//!
//! Each [`Quota`] is a GCRA (the token bucket written as one "theoretical
//! arrival time"). It is written here rather than taken from `governor`
//! because it must read tokio's clock (so that tests run on paused time), be
//! tightened live from the platform's `RateLimit-*` headers, and pause the
//! whole account on a 429; governor's quotas are fixed once built and it
//! reads its own clock.

use reqwest::header::HeaderMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// At most `requests` per `per`, evenly spaced, with up to `burst` requests
/// at once. Over any span of `per`, at most `requests + burst - 1` requests
/// start; with the default burst of 1 that is exactly `requests`, which is
/// what a platform's fixed window allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Requests per period.
    pub requests: u32,
    /// The period.
    pub per: Duration,
    /// Requests that may start at once after a quiet spell (at least 1).
    pub burst: u32,
}

impl Quota {
    /// `requests` per second, evenly spaced.
    pub fn per_second(requests: u32) -> Quota {
        Quota { requests, per: Duration::from_secs(1), burst: 1 }
    }

    /// `requests` per minute, evenly spaced.
    pub fn per_minute(requests: u32) -> Quota {
        Quota { requests, per: Duration::from_secs(60), burst: 1 }
    }

    /// Allows `burst` requests at once.
    pub fn with_burst(mut self, burst: u32) -> Quota {
        self.burst = burst;
        self
    }

    fn interval(&self) -> Duration {
        self.per / self.requests.max(1)
    }
}

/// An account's limits: any number of quotas (Klaviyo has a per-second burst
/// window and a per-minute steady one) and a cap on requests in flight
/// (Mailchimp allows 10 simultaneous connections).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Every quota must allow a request before it starts.
    pub quotas: Vec<Quota>,
    /// Requests in flight at once, `None` for no cap.
    pub max_concurrency: Option<usize>,
}

impl RateLimits {
    /// No quota and no concurrency cap (Mailman, which has no rate limit).
    /// 429s and `RateLimit-*` headers are still obeyed.
    pub fn unlimited() -> RateLimits {
        RateLimits::default()
    }

    /// The limits a plugin declares in its metadata: requests per second,
    /// evenly spaced, and the concurrency cap.
    pub fn from_profile(profile: &cutover_contract::metadata::RateLimitProfile) -> RateLimits {
        let limits = RateLimits::unlimited().quota(Quota::per_second(profile.requests_per_second));
        match profile.max_concurrency {
            Some(max) => limits.max_concurrency(usize::try_from(max).unwrap_or(usize::MAX)),
            None => limits,
        }
    }

    /// Adds a quota.
    pub fn quota(mut self, quota: Quota) -> RateLimits {
        self.quotas.push(quota);
        self
    }

    /// Caps the requests in flight.
    pub fn max_concurrency(mut self, max: usize) -> RateLimits {
        self.max_concurrency = Some(max.max(1));
        self
    }
}

/// 429s in a row that pause the whole account: one or two are what a
/// platform answers now and then under load, and pausing everything for each
/// would waste the limit; a window that is really spent refuses every
/// request, and with several in flight that shows within a fraction of a
/// second.
const PAUSE_AFTER: u32 = 3;

/// The limiter of one account. Clones share it: give each stream's client a
/// clone (cloning an [`crate::HttpClient`] does), and a pause after 429s on
/// one stream holds back all of them.
#[derive(Clone)]
pub struct RateLimiter {
    shared: Arc<Shared>,
}

struct Shared {
    limits: RateLimits,
    state: Mutex<State>,
    concurrency: Option<Arc<Semaphore>>,
}

struct State {
    quotas: Vec<Gcra>,
    /// Pacing the platform asked for in its headers, until its window ends.
    advised: Option<(Gcra, Instant)>,
    paused_until: Option<Instant>,
    /// 429s answered in a row, over every request of the account.
    throttled_in_a_row: u32,
}

#[derive(Debug, Clone, Copy)]
struct Gcra {
    interval: Duration,
    tolerance: Duration,
    /// When the next request would be due if requests were evenly spaced.
    theoretical_arrival: Instant,
}

impl Gcra {
    fn new(interval: Duration, burst: u32, now: Instant) -> Gcra {
        Gcra { interval, tolerance: interval * burst.max(1).saturating_sub(1), theoretical_arrival: now }
    }

    /// When a request may start, `now` at the earliest.
    fn earliest(&self, now: Instant) -> Instant {
        self.theoretical_arrival.checked_sub(self.tolerance).map_or(now, |allowed| allowed.max(now))
    }

    fn take(&mut self, now: Instant) {
        self.theoretical_arrival = self.theoretical_arrival.max(now) + self.interval;
    }
}

/// Held while a request is in flight; frees its concurrency slot when
/// dropped.
#[derive(Debug)]
pub struct Permit {
    _slot: Option<OwnedSemaphorePermit>,
}

impl RateLimiter {
    /// A limiter for `limits`.
    pub fn new(limits: RateLimits) -> RateLimiter {
        let now = Instant::now();
        let quotas = limits.quotas.iter().map(|quota| Gcra::new(quota.interval(), quota.burst, now)).collect();
        // A cap of 0 would hold every request forever.
        let concurrency = limits.max_concurrency.map(|max| Arc::new(Semaphore::new(max.max(1))));
        RateLimiter {
            shared: Arc::new(Shared {
                limits,
                state: Mutex::new(State { quotas, advised: None, paused_until: None, throttled_in_a_row: 0 }),
                concurrency,
            }),
        }
    }

    /// The limits this limiter was built from.
    pub fn limits(&self) -> &RateLimits {
        &self.shared.limits
    }

    /// Waits until a request may start: a concurrency slot is free, every
    /// quota allows it and the account is not paused.
    pub async fn acquire(&self) -> Permit {
        // The slot first: a rate token taken while waiting for a slot would
        // be wasted.
        let slot = match &self.shared.concurrency {
            // The semaphore is never closed, so acquiring cannot fail.
            Some(semaphore) => Arc::clone(semaphore).acquire_owned().await.ok(),
            None => None,
        };
        loop {
            let now = Instant::now();
            let ready_at = {
                let mut state = self.lock();
                let ready_at = state.ready_at(now);
                if ready_at <= now {
                    state.take(now);
                }
                ready_at
            };
            if ready_at <= now {
                return Permit { _slot: slot };
            }
            tokio::time::sleep_until(ready_at).await;
        }
    }

    /// Records a 429 whose request will be retried at `retry_at`. A 429
    /// delays its own request (the retry waits; the other requests keep their
    /// pace), since a platform also refuses now and then under its own load;
    /// three of them in a row, over every request of the account,
    /// mean its window is spent, and the whole account pauses until
    /// `retry_at`. Returns whether it did.
    pub fn throttled(&self, retry_at: Instant) -> bool {
        let mut state = self.lock();
        state.throttled_in_a_row = state.throttled_in_a_row.saturating_add(1);
        let pause = state.throttled_in_a_row >= PAUSE_AFTER;
        if pause {
            state.paused_until = Some(state.paused_until.map_or(retry_at, |paused| paused.max(retry_at)));
        }
        pause
    }

    /// Records an answer other than a 429: the next 429 is a lone one again.
    pub fn answered(&self) {
        self.lock().throttled_in_a_row = 0;
    }

    /// Holds back every request of the account until `until`.
    pub fn pause_until(&self, until: Instant) {
        let mut state = self.lock();
        state.paused_until = Some(state.paused_until.map_or(until, |paused| paused.max(until)));
    }

    /// When the account is paused until, if it is.
    pub fn paused_until(&self) -> Option<Instant> {
        self.lock().paused_until.filter(|until| *until > Instant::now())
    }

    /// Reads the platform's rate-limit headers from an answer and tightens
    /// the pacing to match: `RateLimit-Limit/Remaining/Reset` (IETF draft,
    /// Klaviyo) or `X-RateLimit-*`. With nothing left, the account pauses
    /// until the window resets; otherwise the remaining requests are spread
    /// over what is left of the window.
    pub fn observe(&self, headers: &HeaderMap) {
        let Some(mut advice) = Advice::read(headers) else { return };
        // A reset hours or years away (a broken or hostile server) would
        // hold every request that long: the wait is capped, and a request
        // still refused after it fails with the platform's own answer.
        advice.reset = advice.reset.map(|reset| reset.min(MAX_ADVISED_WAIT));
        let now = Instant::now();
        let mut state = self.lock();
        match advice {
            Advice { remaining: 0, reset } => {
                let until = now + reset.unwrap_or(Duration::from_secs(1));
                state.paused_until = Some(state.paused_until.map_or(until, |paused| paused.max(until)));
            }
            Advice { remaining, reset: Some(reset) } if !reset.is_zero() => {
                let interval = reset / u32::try_from(remaining).unwrap_or(u32::MAX);
                let mut pacing = Gcra::new(interval, 1, now);
                if let Some((previous, _)) = state.advised {
                    pacing.theoretical_arrival = previous.theoretical_arrival;
                }
                state.advised = Some((pacing, now + reset));
            }
            Advice { .. } => {}
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // No code panics while holding the lock; if one ever did, the state
        // is still a set of instants and safe to keep using.
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn ready_at(&mut self, now: Instant) -> Instant {
        if self.advised.is_some_and(|(_, expires)| expires <= now) {
            self.advised = None;
        }
        let quotas = self.quotas.iter().chain(self.advised.iter().map(|(pacing, _)| pacing));
        let ready_at = quotas.map(|quota| quota.earliest(now)).fold(now, Instant::max);
        self.paused_until.map_or(ready_at, |paused| paused.max(ready_at))
    }

    fn take(&mut self, now: Instant) {
        for quota in self.quotas.iter_mut().chain(self.advised.iter_mut().map(|(pacing, _)| pacing)) {
            quota.take(now);
        }
    }
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("RateLimiter").field("limits", &self.shared.limits).finish_non_exhaustive()
    }
}

/// The longest the limiter holds requests back on a platform's rate-limit
/// headers: the default retry budget.
const MAX_ADVISED_WAIT: Duration = Duration::from_secs(300);

/// What a platform's rate-limit headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Advice {
    remaining: u64,
    reset: Option<Duration>,
}

impl Advice {
    fn read(headers: &HeaderMap) -> Option<Advice> {
        let number = |names: &[&str]| {
            names.iter().find_map(|name| headers.get(*name)?.to_str().ok()?.trim().parse::<u64>().ok())
        };
        let remaining = number(&["ratelimit-remaining", "x-ratelimit-remaining"])?;
        let reset = number(&["ratelimit-reset", "x-ratelimit-reset"]).map(reset_delay);
        Some(Advice { remaining, reset })
    }
}

/// `RateLimit-Reset` is seconds until the reset; some `X-RateLimit-Reset`
/// headers are a Unix time instead. A value past 2001-09-09 (1e9 s) cannot
/// be a window length, so it is read as a time.
fn reset_delay(value: u64) -> Duration {
    const UNIX_TIME_THRESHOLD: u64 = 1_000_000_000;
    if value < UNIX_TIME_THRESHOLD {
        return Duration::from_secs(value);
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Duration::from_secs(value).saturating_sub(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// Starts `count` requests through `limiter` from `tasks` tasks at once
    /// and returns when each started, relative to the test's start.
    async fn start_times(limiter: &RateLimiter, tasks: usize, count: usize) -> Vec<Duration> {
        let start = Instant::now();
        let times = Arc::new(Mutex::new(Vec::new()));
        let per_task = count / tasks;
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let limiter = limiter.clone();
                let times = Arc::clone(&times);
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        let _permit = limiter.acquire().await;
                        times.lock().unwrap().push(start.elapsed());
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        let mut times = times.lock().unwrap().clone();
        times.sort();
        times
    }

    /// The most starts in any half-open window `[t, t + window)`.
    fn most_in_window(times: &[Duration], window: Duration) -> usize {
        times
            .iter()
            .map(|first| times.iter().filter(|time| **time >= *first && **time < *first + window).count())
            .max()
            .unwrap_or(0)
    }

    #[tokio::test(start_paused = true)]
    async fn an_even_quota_never_exceeds_its_rate_in_any_window() {
        let limiter = RateLimiter::new(RateLimits::unlimited().quota(Quota::per_second(5)));
        let times = start_times(&limiter, 4, 40).await;
        assert_eq!(times.len(), 40);
        assert_eq!(most_in_window(&times, Duration::from_secs(1)), 5);
        // 40 requests at 5/s: the last starts at 7.8 s, not before.
        assert_eq!(times[39], Duration::from_millis(7800));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_starts_at_once_then_the_rate_holds() {
        let limiter = RateLimiter::new(RateLimits::unlimited().quota(Quota::per_second(10).with_burst(5)));
        let times = start_times(&limiter, 5, 30).await;
        assert_eq!(times.iter().filter(|time| time.is_zero()).count(), 5);
        // requests + burst - 1 in any period, as documented.
        assert!(most_in_window(&times, Duration::from_secs(1)) <= 14);
        assert!(most_in_window(&times, Duration::from_secs(2)) <= 24);
    }

    #[tokio::test(start_paused = true)]
    async fn two_windows_both_hold() {
        // Klaviyo's tiers have a burst (per second) and a steady (per minute) window.
        let limiter = RateLimiter::new(
            RateLimits::unlimited().quota(Quota::per_second(3).with_burst(3)).quota(Quota::per_minute(60)),
        );
        let times = start_times(&limiter, 3, 90).await;
        assert!(most_in_window(&times, Duration::from_secs(1)) <= 3);
        assert!(most_in_window(&times, Duration::from_secs(60)) <= 60);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_back_every_clone() {
        let limiter = RateLimiter::new(RateLimits::unlimited());
        let other_stream = limiter.clone();
        let start = Instant::now();
        limiter.pause_until(start + Duration::from_secs(30));
        let _permit = other_stream.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(30));
        assert!(limiter.paused_until().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_concurrency_cap_holds() {
        let limiter = RateLimiter::new(RateLimits::unlimited().max_concurrency(2));
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (limiter, in_flight, most) = (limiter.clone(), Arc::clone(&in_flight), Arc::clone(&most));
                tokio::spawn(async move {
                    let _permit = limiter.acquire().await;
                    let now = in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_remaining_pauses_until_the_reset() {
        let limiter = RateLimiter::new(RateLimits::unlimited());
        let start = Instant::now();
        limiter.observe(&headers(&[
            ("RateLimit-Limit", "700"),
            ("RateLimit-Remaining", "0"),
            ("RateLimit-Reset", "12"),
        ]));
        let _permit = limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(12));
    }

    #[tokio::test(start_paused = true)]
    async fn an_absurd_reset_is_capped_without_overflow() {
        for reset in ["999999999", "18446744073709551615"] {
            let limiter = RateLimiter::new(RateLimits::unlimited());
            let start = Instant::now();
            limiter.observe(&headers(&[("RateLimit-Remaining", "0"), ("RateLimit-Reset", reset)]));
            limiter.observe(&headers(&[("X-RateLimit-Remaining", "3"), ("X-RateLimit-Reset", reset)]));
            let _permit = limiter.acquire().await;
            assert!(start.elapsed() <= MAX_ADVISED_WAIT, "{reset}: {:?}", start.elapsed());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn what_remains_is_spread_over_the_window() {
        let limiter = RateLimiter::new(RateLimits::unlimited());
        limiter.observe(&headers(&[("X-RateLimit-Remaining", "4"), ("X-RateLimit-Reset", "2")]));
        let times = start_times(&limiter, 1, 6).await;
        // 4 left in 2 s: one every 500 ms until the window ends, then free again.
        assert_eq!(&times[..4], &[0, 500, 1000, 1500].map(Duration::from_millis));
        assert_eq!(times[4], Duration::from_millis(2000));
        assert_eq!(times[5], Duration::from_millis(2000));
    }

    #[test]
    fn a_declared_profile_becomes_limits() {
        let profile = cutover_contract::metadata::RateLimitProfile {
            requests_per_second: 10,
            max_concurrency: Some(10),
            max_batch: None,
        };
        let limits = RateLimits::from_profile(&profile);
        assert_eq!(limits, RateLimits { quotas: vec![Quota::per_second(10)], max_concurrency: Some(10) });
    }

    #[test]
    fn headers_without_remaining_say_nothing() {
        assert_eq!(Advice::read(&headers(&[("RateLimit-Reset", "3")])), None);
        assert_eq!(Advice::read(&headers(&[("RateLimit-Remaining", "lots")])), None);
        assert_eq!(Advice::read(&headers(&[("ratelimit-remaining", "7")])), Some(Advice { remaining: 7, reset: None }));
    }

    #[test]
    fn a_reset_given_as_a_unix_time_is_read_as_one() {
        let in_a_minute = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 60;
        let delay = reset_delay(in_a_minute);
        assert!(delay <= Duration::from_secs(60) && delay >= Duration::from_secs(50), "{delay:?}");
        assert_eq!(reset_delay(30), Duration::from_secs(30));
    }
}
