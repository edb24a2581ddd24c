//! What every API request passes before its route: HTTP Basic with both
//! keys (the user application key as the user name, the user API key as
//! the password), then the application key's token bucket, whose state
//! every answer reports in `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
//! `X-RateLimit-Reset` (seconds until the bucket is full again); a request
//! that finds it empty is a 429 in its generation's shape with
//! `X-RateLimit-Retry-After` (seconds until a token is back). The numbers
//! are not published \[NC\]: the emulator's are [`Bucket`]'s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use cutover_emulator_kit::AuthFailure;
use cutover_emulator_kit::auth::basic_user_and_password;
use cutover_emulator_kit::store::lock;

use crate::vendor;

/// A token bucket's size and refill rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Tokens when full (`X-RateLimit-Limit`).
    pub capacity: u32,
    /// Tokens added per second.
    pub refill_per_second: f64,
}

impl Default for Bucket {
    /// Roomy enough that tests are never throttled unless they ask.
    fn default() -> Bucket {
        Bucket { capacity: 1000, refill_per_second: 500.0 }
    }
}

/// The keys and the buckets, one per application key.
#[derive(Debug, Clone)]
pub struct Gate {
    application_key: Arc<str>,
    api_key: Arc<str>,
    bucket: Bucket,
    levels: Arc<Mutex<HashMap<String, (f64, Instant)>>>,
}

/// What the bucket said of one request.
enum Verdict {
    Go { remaining: u32, reset: u64 },
    Wait { retry_after: u64, reset: u64 },
}

impl Gate {
    /// A gate for these keys and this bucket.
    pub fn new(application_key: &str, api_key: &str, bucket: Bucket) -> Gate {
        Gate { application_key: application_key.into(), api_key: api_key.into(), bucket, levels: Arc::default() }
    }

    fn check(&self, request: &Request) -> Result<(), AuthFailure> {
        match basic_user_and_password(request.headers()) {
            None => Err(AuthFailure::Missing),
            Some((user, password)) if user.is_empty() || password.is_empty() => Err(AuthFailure::Missing),
            Some((user, password)) if *user == *self.application_key && *password == *self.api_key => Ok(()),
            Some(_) => Err(AuthFailure::Invalid),
        }
    }

    fn take(&self, key: &str) -> Verdict {
        let Bucket { capacity, refill_per_second } = self.bucket;
        let capacity = f64::from(capacity.max(1));
        let rate = refill_per_second.max(0.001);
        let now = Instant::now();
        let mut levels = lock(&self.levels);
        let (level, at) = levels.entry(key.to_owned()).or_insert((capacity, now));
        *level = (*level + now.duration_since(*at).as_secs_f64() * rate).min(capacity);
        *at = now;
        let reset = |level: f64| ((capacity - level) / rate).ceil() as u64;
        if *level >= 1.0 {
            *level -= 1.0;
            Verdict::Go { remaining: level.floor() as u32, reset: reset(*level) }
        } else {
            Verdict::Wait { retry_after: ((1.0 - *level) / rate).ceil().max(1.0) as u64, reset: reset(*level) }
        }
    }
}

fn header(response: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
        response.headers_mut().insert(name, value);
    }
}

/// Middleware: auth, then the bucket, then the route.
pub async fn gate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if let Err(failure) = gate.check(&request) {
        return vendor::unauthorized_at(&path, failure);
    }
    let mut response = match gate.take(&gate.application_key) {
        Verdict::Go { remaining, reset } => {
            let mut response = next.run(request).await;
            header(&mut response, "x-ratelimit-remaining", remaining);
            header(&mut response, "x-ratelimit-reset", reset);
            response
        }
        Verdict::Wait { retry_after, reset } => {
            let mut response = vendor::too_many_requests_at(&path, Some(retry_after));
            header(&mut response, "x-ratelimit-remaining", 0);
            header(&mut response, "x-ratelimit-reset", reset);
            response
        }
    };
    header(&mut response, "x-ratelimit-limit", gate.bucket.capacity);
    response
}
