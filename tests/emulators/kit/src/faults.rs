//! Fault injection: the knobs ([`FaultConfig`]) and the decisions taken from
//! them for each request. Random decisions come from a PCG stream seeded with
//! the emulator's seed, so a sequential client sees the same faults on every
//! run.
//!
//! The server ([`crate::EmulatorApp`]) takes every decision before a
//! vendor's routes run and answers in the vendor's shape
//! ([`crate::ErrorBody`]); only [`FaultConfig::paging_loop`] reaches the
//! routes, as the [`PagingLoop`] marker the paging styles' loop layers
//! ([`crate::paging`]) act on.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

use crate::store::lock;

/// Faults to inject. All zero (the default) means none. Sent as JSON to
/// `POST /__emulator/faults`, where missing fields take their default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Fraction of requests (0.0–1.0) answered with the vendor's 429.
    pub rate_429: f64,
    /// The next N requests are answered with the vendor's 429 (a storm);
    /// counts down as requests arrive.
    pub burst_429: u32,
    /// Fraction of requests answered with a 500 or 503 in the vendor's
    /// error shape.
    pub rate_5xx: f64,
    /// Milliseconds added before every request is handled.
    pub latency_ms: u64,
    /// Fraction of requests whose connection is closed without a response.
    pub drop_rate: f64,
    /// The next N requests have their connection closed without a response.
    pub drop_next: u32,
    /// Page K (0-based, as the vendor's [`crate::Vendor::page_index`] counts:
    /// Mailchimp `offset / count`, Klaviyo the page's position in a cursor
    /// walk) fails once with a 500 for each collection
    /// path; the retry of the same page succeeds.
    pub fail_page_once: Option<u64>,
    /// A hostile server's huge answer: every request to a vendor route is
    /// answered 200 with a body of this many bytes (JSON-shaped:
    /// `{"filler":"xxx…"}`), streamed in 64 KiB chunks with no
    /// `Content-Length`, so neither side holds it whole. Taken before
    /// `paging_loop` and the faults above, after `retry_after_secs`.
    pub huge_body_bytes: Option<u64>,
    /// An absurd wait: every request to a vendor route is answered with the
    /// vendor's 429 and `Retry-After: <this many seconds>` (any `u64`, e.g.
    /// `18446744073709551615`). Taken before every other fault.
    pub retry_after_secs: Option<u64>,
    /// Paging that never ends, as the vendor's paging style allows
    /// ([`crate::paging`]). Cursor links (Klaviyo): a collection's
    /// `links.next` goes round in a circle, the first page (A) pointing at the
    /// second (B) and B back at A. Offset paging (Mailchimp), which cannot
    /// loop: every page is the first page, full of the same items, and
    /// `total_items` claims far more than exist
    /// ([`FaultConfig::ENDLESS_TOTAL_ITEMS`]).
    pub paging_loop: bool,
}

impl FaultConfig {
    /// The `total_items` a Mailchimp collection claims under
    /// [`FaultConfig::paging_loop`]: a trillion.
    pub const ENDLESS_TOTAL_ITEMS: u64 = 1_000_000_000_000;
}

/// A fault chosen for one request, answered in the vendor's error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    /// Answer 429.
    TooManyRequests,
    /// Answer 500 (or 503 for every other injected server error).
    ServerError { status: u16 },
}

/// A hostile answer chosen for one request ([`FaultConfig::retry_after_secs`]
/// and [`FaultConfig::huge_body_bytes`]), given before any other fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hostile {
    /// The vendor's 429 with `Retry-After` of this many seconds.
    RetryAfter(u64),
    /// A 200 whose streamed body is this many bytes.
    HugeBody(u64),
}

/// Marks a request to answer under [`FaultConfig::paging_loop`]: the
/// server puts it in the request's extensions, the vendor's paging loop
/// layer ([`crate::paging::endless_offset_pages`],
/// [`crate::paging::circular_cursor_links`], or its own) rewrites the
/// next-page information when it finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagingLoop;

/// The faults in force and the state their decisions need.
#[derive(Debug)]
pub(crate) struct Faults {
    inner: Mutex<FaultRuntime>,
}

#[derive(Debug)]
struct FaultRuntime {
    config: FaultConfig,
    rng: Pcg64,
    failed_pages: HashSet<String>,
    server_errors: u64,
}

impl Faults {
    pub(crate) fn new(seed: u64, config: FaultConfig) -> Self {
        Faults {
            inner: Mutex::new(FaultRuntime {
                config,
                rng: Pcg64::seed_from_u64(seed ^ 0xfa17_5eed),
                failed_pages: HashSet::new(),
                server_errors: 0,
            }),
        }
    }

    pub(crate) fn config(&self) -> FaultConfig {
        lock(&self.inner).config.clone()
    }

    /// Replaces the knobs; pages that already failed once may fail again.
    pub(crate) fn set(&self, config: FaultConfig) {
        let mut runtime = lock(&self.inner);
        runtime.config = config;
        runtime.failed_pages.clear();
    }

    /// Whether this request's connection is closed without an answer.
    pub(crate) fn drop_connection(&self) -> bool {
        let mut runtime = lock(&self.inner);
        if runtime.config.drop_next > 0 {
            runtime.config.drop_next -= 1;
            return true;
        }
        let rate = runtime.config.drop_rate;
        rate > 0.0 && runtime.rng.random_bool(rate.min(1.0))
    }

    pub(crate) fn latency(&self) -> Option<Duration> {
        let millis = lock(&self.inner).config.latency_ms;
        (millis > 0).then(|| Duration::from_millis(millis))
    }

    /// The hostile answer to give instead of handling the request, if any.
    pub(crate) fn hostile(&self) -> Option<Hostile> {
        let runtime = lock(&self.inner);
        match (runtime.config.retry_after_secs, runtime.config.huge_body_bytes) {
            (Some(seconds), _) => Some(Hostile::RetryAfter(seconds)),
            (None, Some(bytes)) => Some(Hostile::HugeBody(bytes)),
            (None, None) => None,
        }
    }

    /// Whether next-page information goes round ([`FaultConfig::paging_loop`]).
    pub(crate) fn paging_loop(&self) -> bool {
        lock(&self.inner).config.paging_loop
    }

    /// The fault to answer with instead of handling the request, if any.
    /// `page` names the collection page the request asks for (path and
    /// page index), when it asks for one.
    pub(crate) fn inject(&self, page: Option<(&str, u64)>) -> Option<Injected> {
        let mut runtime = lock(&self.inner);
        if runtime.config.burst_429 > 0 {
            runtime.config.burst_429 -= 1;
            return Some(Injected::TooManyRequests);
        }
        let rate_429 = runtime.config.rate_429;
        if rate_429 > 0.0 && runtime.rng.random_bool(rate_429.min(1.0)) {
            return Some(Injected::TooManyRequests);
        }
        let rate_5xx = runtime.config.rate_5xx;
        if rate_5xx > 0.0 && runtime.rng.random_bool(rate_5xx.min(1.0)) {
            runtime.server_errors += 1;
            // Alternate 500 and 503: clients must retry both.
            let status = if runtime.server_errors % 2 == 1 { 500 } else { 503 };
            return Some(Injected::ServerError { status });
        }
        if let (Some(failing), Some((path, index))) = (runtime.config.fail_page_once, page)
            && failing == index
            && runtime.failed_pages.insert(path.to_owned())
        {
            return Some(Injected::ServerError { status: 500 });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decisions(seed: u64, config: FaultConfig, requests: usize) -> Vec<Option<Injected>> {
        let faults = Faults::new(seed, config);
        (0..requests).map(|_| faults.inject(None)).collect()
    }

    #[test]
    fn burst_counts_down_then_stops() {
        let config = FaultConfig { burst_429: 2, ..FaultConfig::default() };
        let expected = vec![Some(Injected::TooManyRequests), Some(Injected::TooManyRequests), None];
        assert_eq!(decisions(1, config, 3), expected);
    }

    #[test]
    fn random_faults_repeat_for_the_same_seed() {
        let config = FaultConfig { rate_429: 0.3, rate_5xx: 0.3, ..FaultConfig::default() };
        let first = decisions(9, config.clone(), 200);
        assert_eq!(first, decisions(9, config.clone(), 200));
        assert_ne!(first, decisions(10, config, 200));
        assert!(first.iter().any(Option::is_none));
        assert!(first.contains(&Some(Injected::TooManyRequests)));
    }

    #[test]
    fn a_page_fails_once_per_path() {
        let faults = Faults::new(1, FaultConfig { fail_page_once: Some(2), ..FaultConfig::default() });
        assert_eq!(faults.inject(Some(("/a", 1))), None);
        assert_eq!(faults.inject(Some(("/a", 2))), Some(Injected::ServerError { status: 500 }));
        assert_eq!(faults.inject(Some(("/a", 2))), None);
        assert_eq!(faults.inject(Some(("/b", 2))), Some(Injected::ServerError { status: 500 }));
    }

    #[test]
    fn an_absurd_wait_comes_before_a_huge_body() {
        let faults = Faults::new(1, FaultConfig { huge_body_bytes: Some(10), ..FaultConfig::default() });
        assert_eq!(faults.hostile(), Some(Hostile::HugeBody(10)));
        faults.set(FaultConfig {
            huge_body_bytes: Some(10),
            retry_after_secs: Some(u64::MAX),
            ..FaultConfig::default()
        });
        assert_eq!(faults.hostile(), Some(Hostile::RetryAfter(u64::MAX)));
        faults.set(FaultConfig::default());
        assert_eq!((faults.hostile(), faults.paging_loop()), (None, false));
    }

    #[test]
    fn the_new_knobs_default_when_left_out() {
        let config: FaultConfig = serde_json::from_str(r#"{"paging_loop": true}"#).expect("a fault config");
        assert_eq!(config, FaultConfig { paging_loop: true, ..FaultConfig::default() });
    }
}
