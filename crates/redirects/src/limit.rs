//! The per-client rate limit: a GCRA token bucket per client in a fixed
//! table of atomics, so memory stays bounded whatever the number of clients
//! and a check takes no lock and allocates nothing.
//!
//! A client is an IPv4 address or an IPv6 /64 (one host usually has a whole
//! /64). Clients are hashed with a per-process random seed into
//! [`SLOTS`] buckets; two clients that land in one bucket share its budget,
//! which can only make the limit stricter for them, never lift it.

use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Buckets in the table (512 KiB).
pub const SLOTS: usize = 1 << 16;

/// A keyed rate limiter: `per_second` requests on average per client, with
/// bursts of `burst`.
#[derive(Debug)]
pub struct RateLimiter {
    /// Each bucket's theoretical arrival time, in nanoseconds since `start`.
    slots: Box<[AtomicU64]>,
    hasher: foldhash::fast::RandomState,
    /// Nanoseconds between requests at the steady rate; 0 when off.
    interval: u64,
    /// How far ahead of now a bucket may run: `(burst - 1) × interval`.
    tolerance: u64,
    start: Instant,
}

impl RateLimiter {
    /// A limiter of `per_second` requests per client and bursts of `burst`;
    /// `per_second == 0` lets everything through.
    pub fn new(per_second: u32, burst: u32) -> RateLimiter {
        let interval = if per_second == 0 { 0 } else { 1_000_000_000 / u64::from(per_second) };
        let slots = if per_second == 0 { 0 } else { SLOTS };
        RateLimiter {
            slots: (0..slots).map(|_| AtomicU64::new(0)).collect(),
            hasher: foldhash::fast::RandomState::default(),
            interval,
            tolerance: interval.saturating_mul(u64::from(burst.max(1) - 1)),
            start: Instant::now(),
        }
    }

    fn slot(&self, client: IpAddr) -> &AtomicU64 {
        let mut hasher = self.hasher.build_hasher();
        match client {
            IpAddr::V4(address) => hasher.write_u32(u32::from(address)),
            IpAddr::V6(address) => match address.to_ipv4_mapped() {
                Some(mapped) => hasher.write_u32(u32::from(mapped)),
                None => hasher.write_u64((u128::from(address) >> 64) as u64),
            },
        }
        &self.slots[(hasher.finish() as usize) & (self.slots.len() - 1)]
    }

    /// Whether `client` may make a request now; counts it if so. `Err`
    /// holds how long until it may.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let now = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.check_at(client, now)
    }

    fn check_at(&self, client: IpAddr, now: u64) -> Result<(), Duration> {
        if self.interval == 0 {
            return Ok(());
        }
        // Offset so that a fresh bucket (0) is never ahead of now.
        let now = now.saturating_add(self.interval);
        let slot = self.slot(client);
        let mut arrival = slot.load(Ordering::Relaxed);
        loop {
            let base = arrival.max(now);
            if base - now > self.tolerance {
                return Err(Duration::from_nanos(base - now - self.tolerance));
            }
            match slot.compare_exchange_weak(arrival, base + self.interval, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Ok(()),
                Err(current) => arrival = current,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    #[test]
    fn a_client_gets_its_burst_then_the_steady_rate() {
        let limiter = RateLimiter::new(10, 5);
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..5 {
            assert!(limiter.check_at(client, 0).is_ok());
        }
        let wait = limiter.check_at(client, 0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(100));
        // Another client is not held back.
        assert!(limiter.check_at("198.51.100.1".parse().unwrap(), 0).is_ok());
        // A tenth of a second later, one more.
        assert!(limiter.check_at(client, SECOND / 10).is_ok());
        assert!(limiter.check_at(client, SECOND / 10).is_err());
        // After a quiet second the burst is back.
        for _ in 0..5 {
            assert!(limiter.check_at(client, 2 * SECOND).is_ok());
        }
        assert!(limiter.check_at(client, 2 * SECOND).is_err());
    }

    #[test]
    fn an_ipv6_64_is_one_client_and_zero_turns_it_off() {
        let limiter = RateLimiter::new(1, 1);
        assert!(limiter.check_at("2001:db8::1".parse().unwrap(), 0).is_ok());
        assert!(limiter.check_at("2001:db8::ffff:2".parse().unwrap(), 0).is_err());
        let off = RateLimiter::new(0, 1);
        for _ in 0..1000 {
            assert!(off.check("203.0.113.7".parse().unwrap()).is_ok());
        }
    }
}
