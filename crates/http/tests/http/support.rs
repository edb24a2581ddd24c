//! Servers and clients for the tests.

use axum::Router;
use cutover_http::{HttpClient, HttpConfig, RetryPolicy, Timeouts};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Serves `router` on a free loopback port and returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}/")
}

/// Retries fast enough for tests; the floor is still there.
pub fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        max_elapsed: Duration::from_secs(30),
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        min_delay: Duration::from_millis(5),
    }
}

pub fn client(base_url: &str) -> HttpClient {
    HttpClient::new(HttpConfig::new(base_url).retry(quick_retry())).unwrap()
}

pub fn client_with(config: HttpConfig) -> HttpClient {
    HttpClient::new(config).unwrap()
}

pub fn short_timeouts() -> Timeouts {
    Timeouts { connect: Duration::from_secs(5), request: Duration::from_millis(300) }
}

/// When the server saw each request, and when it answered the ones that
/// matter to a test.
#[derive(Clone, Default)]
pub struct Log {
    entries: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl Log {
    pub fn record(&self, what: impl Into<String>) -> usize {
        let mut entries = self.entries.lock().unwrap();
        entries.push((what.into(), Instant::now()));
        entries.len()
    }

    pub fn count(&self, what: &str) -> usize {
        self.entries.lock().unwrap().iter().filter(|(entry, _)| entry == what).count()
    }

    pub fn times(&self, what: &str) -> Vec<Instant> {
        self.entries.lock().unwrap().iter().filter(|(entry, _)| entry == what).map(|(_, time)| *time).collect()
    }

    pub fn first(&self, what: &str) -> Instant {
        self.times(what)[0]
    }
}

/// A raw HTTP/1.1 server: connection number `n` (from 0) is read whole and
/// then dropped without an answer when `drop(n)`, else answered `200 {}`.
/// Returns its base URL and the number of requests it read.
pub async fn dropping_server(drop: fn(usize) -> bool) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                if !read_request(&mut stream).await {
                    return;
                }
                let number = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if drop(number) {
                    return;
                }
                let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
                stream.write_all(answer.as_bytes()).await.unwrap();
                stream.shutdown().await.ok();
            });
        }
    });
    (format!("http://{address}/"), seen)
}

/// Reads one request (headers and a `content-length` body).
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(read) = stream.read(&mut chunk).await else { return false };
        if read == 0 {
            return false;
        }
        buffer.extend_from_slice(&chunk[..read]);
        let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |value| value.trim().parse().unwrap());
        if buffer.len() >= end + 4 + length {
            return true;
        }
    }
}

/// Waits for a condition, up to 10 s (then the test fails on what follows).
pub async fn wait_for(mut condition: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
