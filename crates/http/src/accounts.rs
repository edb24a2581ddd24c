//! One limiter registry per account: the account's own limiter and one per
//! endpoint that has its own windows on the platform's side, shared by every
//! stream of every instance in the process that names the same account.
//!
//! A migration often opens the same account twice (a source and a
//! destination instance, or a retry after a crash), and a platform counts
//! its quotas per account, not per connection: two limiters for one account
//! would together spend twice the quota. So the registry is process-wide and
//! keyed by the account (the platform, its base URL and a hash of the
//! credential, never the credential itself).

use crate::limiter::{RateLimiter, RateLimits};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

/// The limiters of one account. Clones share them.
#[derive(Clone)]
pub struct AccountLimiters {
    shared: Arc<Account>,
}

struct Account {
    /// The limiter of requests that name no endpoint.
    account: RateLimiter,
    /// One limiter per endpoint name, made on first use.
    endpoints: Mutex<HashMap<String, RateLimiter>>,
}

impl std::fmt::Debug for AccountLimiters {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("AccountLimiters").field("account", &self.shared.account).finish_non_exhaustive()
    }
}

impl AccountLimiters {
    /// The limiters of the account of `platform` at `base_url` with
    /// `credential`, made with `limits` for the account as a whole on first
    /// use in this process; later calls for the same account get the same
    /// limiters (their own `limits` are then ignored).
    pub fn of(platform: &str, base_url: &str, credential: &str, limits: RateLimits) -> AccountLimiters {
        static ACCOUNTS: OnceLock<Mutex<HashMap<u64, AccountLimiters>>> = OnceLock::new();
        let mut hasher = DefaultHasher::new();
        (platform, base_url.trim_end_matches('/'), credential).hash(&mut hasher);
        let key = hasher.finish();
        // Held only to look up or insert, never while a request waits.
        let mut accounts = ACCOUNTS.get_or_init(Mutex::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        accounts.entry(key).or_insert_with(|| AccountLimiters::new(limits)).clone()
    }

    /// Limiters of an account of their own, shared with no one else (tests,
    /// or a platform whose quotas are per connection).
    pub fn new(limits: RateLimits) -> AccountLimiters {
        AccountLimiters { shared: Arc::new(Account { account: RateLimiter::new(limits), endpoints: Mutex::default() }) }
    }

    /// The account's limiter, for requests of endpoints without windows of
    /// their own.
    pub fn account(&self) -> RateLimiter {
        self.shared.account.clone()
    }

    /// The limiter of the endpoint `name`, made with `limits` on first use
    /// (an endpoint with its own windows on the platform's side: Klaviyo's
    /// tiers). Every instance of the account shares it.
    pub fn endpoint(&self, name: &str, limits: impl FnOnce() -> RateLimits) -> RateLimiter {
        let mut endpoints = self.shared.endpoints.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        endpoints.entry(name.to_owned()).or_insert_with(|| RateLimiter::new(limits())).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limiter::Quota;

    #[test]
    fn one_account_shares_its_limiters_and_another_does_not() {
        let limits = || RateLimits::unlimited().max_concurrency(2);
        let first = AccountLimiters::of("test-platform", "https://api.example/", "key-one", limits());
        let again = AccountLimiters::of("test-platform", "https://api.example", "key-one", limits());
        let other = AccountLimiters::of("test-platform", "https://api.example", "key-two", limits());
        assert!(Arc::ptr_eq(&first.shared, &again.shared));
        assert!(!Arc::ptr_eq(&first.shared, &other.shared));
        let quota = || RateLimits::unlimited().quota(Quota::per_second(3));
        let endpoint = first.endpoint("profiles", quota);
        let shared = again.endpoint("profiles", || unreachable!("made once"));
        assert_eq!(endpoint.limits(), shared.limits());
        assert_eq!(format!("{:?}", endpoint), format!("{:?}", shared));
    }
}
