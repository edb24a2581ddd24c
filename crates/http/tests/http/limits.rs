//! The limiter as the server sees it. The exact windows are checked on
//! paused time in the limiter's own tests; here each bound is one the server
//! measures and that cannot flake: requests can only arrive later than the
//! limiter lets them start.

use crate::support::{Log, client_with, quick_retry, serve};
use axum::Router;
use axum::routing::get;
use cutover_http::{HttpConfig, Quota, RateLimits};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_sharing_a_client_share_its_rate() {
    let log = Log::default();
    let server_log = log.clone();
    let router = Router::new().route(
        "/members",
        get(move || {
            let log = server_log.clone();
            async move {
                log.record("members");
                "{}"
            }
        }),
    );
    let base_url = serve(router).await;
    let limits = RateLimits::unlimited().quota(Quota::per_second(20));
    let client = client_with(HttpConfig::new(&base_url).limits(limits).retry(quick_retry()));
    let start = Instant::now();
    let streams: Vec<_> = (0..3)
        .map(|_| {
            let stream_client = client.clone();
            tokio::spawn(async move {
                for _ in 0..7 {
                    stream_client.get_json::<serde_json::Value>("members").await.unwrap();
                }
            })
        })
        .collect();
    for stream in streams {
        stream.await.unwrap();
    }
    let times = log.times("members");
    assert_eq!(times.len(), 21);
    // 21 requests at 20/s, evenly spaced: the last cannot start before 1 s.
    // (Unlimited, they take a few milliseconds.)
    assert!(*times.iter().max().unwrap() - start >= Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_requests_in_flight_than_the_cap() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    let (server_in_flight, server_most, server_served) =
        (Arc::clone(&in_flight), Arc::clone(&most), Arc::clone(&served));
    let router = Router::new().route(
        "/members",
        get(move || {
            let (in_flight, most, served) =
                (Arc::clone(&server_in_flight), Arc::clone(&server_most), Arc::clone(&server_served));
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                served.fetch_add(1, Ordering::SeqCst);
                "{}"
            }
        }),
    );
    let base_url = serve(router).await;
    // Mailchimp: 10 simultaneous connections; 2 here to keep the test small.
    let client = client_with(HttpConfig::new(&base_url).limits(RateLimits::unlimited().max_concurrency(2)));
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_json::<serde_json::Value>("members").await.unwrap() })
        })
        .collect();
    for request in requests {
        request.await.unwrap();
    }
    assert_eq!(served.load(Ordering::SeqCst), 8);
    assert!(most.load(Ordering::SeqCst) <= 2, "{} in flight at once", most.load(Ordering::SeqCst));
}
