//! The redirect server over real sockets on 127.0.0.1, spoken to in raw
//! HTTP/1.1 so that a test can send what no client library would: open
//! redirect attempts, doubled `Host` headers, oversize heads, slow heads.

use cutover_redirects::{Limits, MapEntry, Metrics, RedirectServer, Rewriter, Snapshot, Target};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const FALLBACK: &str = "https://shop.example.com/partners-moved";

fn entry(old: &str, new: &str, partner: &str) -> MapEntry {
    MapEntry {
        old_url: old.into(),
        new_url: new.into(),
        partner: partner.into(),
        source_id: String::new(),
        target_id: String::new(),
    }
}

fn links(prefix: &str) -> Vec<MapEntry> {
    vec![
        entry("https://go.example.com/r/5000", &format!("https://new.example.net/{prefix}/5000"), "A-1"),
        entry("https://go.example.com/r/5001", &format!("https://new.example.net/{prefix}/5001"), "A-2"),
        entry("https://trk.example.com/click?o=7&a=42", &format!("https://new.example.net/{prefix}/o7a42"), "42"),
    ]
}

fn snapshot(entries: &[MapEntry], metrics: &Metrics) -> Snapshot {
    let rewriter = Rewriter::new(&[], Some("scaleo-to-impact")).expect("the preset");
    let fallback = Target::parse(FALLBACK).expect("the fallback");
    Snapshot::build(entries, "map.csv", fallback, rewriter, metrics).expect("the map").0
}

struct Running {
    address: SocketAddr,
    server: RedirectServer,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start(limits: Limits) -> Running {
        let metrics = Arc::new(Metrics::default());
        let server = RedirectServer::new(snapshot(&links("a"), &metrics), metrics, limits, true);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let address = listener.local_addr().expect("its address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = server.clone();
        let task = tokio::spawn(async move {
            serving
                .serve(listener, async {
                    let _ = stopped.await;
                })
                .await
        });
        Running { address, server, stop: Some(stop), task }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let stopped = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
        assert!(matches!(stopped, Ok(Ok(Ok(())))), "the server stops when told");
    }
}

fn unlimited() -> Limits {
    Limits { per_client_per_second: 0, ..Limits::default() }
}

/// One answer: status, headers (lowercased names), body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    fn location(&self) -> &str {
        self.header("location").unwrap_or("")
    }
}

/// Reads one answer from a kept-alive connection; `None` if it closed first.
async fn read_answer(stream: &mut TcpStream) -> Option<Answer> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await.ok()?.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize =
        headers.iter().find(|(name, _)| name == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Some(Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// Sends `raw` on a new connection and reads one answer.
async fn exchange(address: SocketAddr, raw: &str) -> Option<Answer> {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(raw.as_bytes()).await.expect("send");
    read_answer(&mut stream).await
}

async fn get(address: SocketAddr, host: &str, target: &str) -> Answer {
    exchange(address, &format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"))
        .await
        .expect("an answer")
}

#[tokio::test]
async fn every_link_is_answered_with_its_new_link_and_sub_ids() {
    let running = Running::start(unlimited()).await;
    let address = running.address;
    for (host, target, status, location) in [
        ("go.example.com", "/r/5000", 301, "https://new.example.net/a/5000"),
        (
            "Go.Example.com:80",
            "/r/5001?sub_id1=spring&sub_id2=x%20y&aff_click_id=c1&email=me%40x.org",
            301,
            "https://new.example.net/a/5001?sharedid=c1&subId1=spring&subId2=x%20y",
        ),
        ("trk.example.com", "/click?sub_id3=3&a=42&o=7", 301, "https://new.example.net/a/o7a42?subId3=3"),
        ("trk.example.com", "/click?o=7&a=43", 302, FALLBACK),
        ("go.example.com", "/r/9999?sub_id1=x", 302, FALLBACK),
    ] {
        let answer = get(address, host, target).await;
        assert_eq!((answer.status, answer.location()), (status, location), "{host}{target}");
    }
    let head = exchange(address, "HEAD /r/5000 HTTP/1.1\r\nHost: go.example.com\r\n\r\n").await.expect("an answer");
    assert_eq!((head.status, head.location()), (301, "https://new.example.net/a/5000"));
    let post = exchange(address, "POST /r/5000 HTTP/1.1\r\nHost: go.example.com\r\nContent-Length: 0\r\n\r\n")
        .await
        .expect("an answer");
    assert_eq!((post.status, post.header("allow")), (405, Some("GET, HEAD")));
    running.stop().await;
}

#[tokio::test]
async fn no_request_gets_a_location_outside_the_map_or_the_fallback() {
    let running = Running::start(unlimited()).await;
    let address = running.address;
    let allowed: Vec<String> =
        links("a").iter().map(|entry| entry.new_url.clone()).chain([FALLBACK.to_owned()]).collect();
    let attempts = [
        "GET //evil.com HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET //evil.com/r/5000 HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET /\\evil.com HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET /%5Cevil.com HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET /%2F%2Fevil.com HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET /https://evil.com HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET /https:%2F%2Fevil.com/r/5000 HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET http://evil.com/ HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET http://go.example.com@evil.com/r/5000 HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET https://evil.com/r/5000 HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET /r/5000 HTTP/1.1\r\nHost: evil.com\r\n\r\n",
        "GET /r/5000 HTTP/1.1\r\nHost: go.example.com@evil.com\r\n\r\n",
        "GET /r/5000 HTTP/1.1\r\nHost: evil.com\r\nHost: go.example.com\r\n\r\n",
        "GET /r/5000 HTTP/1.1\r\nHost: go.example.com\r\nX-Forwarded-Host: evil.com\r\n\r\n",
        "GET /r/5000?url=https://evil.com&redirect=//evil.com&next=%2F%2Fevil.com HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET /r/5000?sub_id1=https://evil.com&aff_click_id=%0D%0ALocation:%20https://evil.com HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET /r/5000?sub_id1=x%23@evil.com HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET /r/5000/../../evil.com HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET /r/5000%0D%0ALocation:%20https://evil.com HTTP/1.1\r\nHost: go.example.com\r\n\r\n",
        "GET /r/5000 HTTP/1.1\r\nHost: go.example.com%0D%0ALocation:evil.com\r\n\r\n",
        "GET /r/5000 HTTP/1.0\r\n\r\n",
        "GET /r/5000 HTTP/1.1\r\nHost: \r\n\r\n",
    ];
    let mut answered = 0;
    for attempt in attempts {
        let Some(answer) = exchange(address, attempt).await else { continue };
        answered += 1;
        let locations: Vec<&str> =
            answer.headers.iter().filter(|(name, _)| name == "location").map(|(_, value)| value.as_str()).collect();
        assert!(locations.len() <= 1, "{attempt:?}: {locations:?}");
        if let Some(location) = locations.first() {
            let parsed = url::Url::parse(location).expect("an absolute Location");
            assert!(
                allowed.iter().any(|target| location == target || location.starts_with(&format!("{target}?"))),
                "{attempt:?} → {location}"
            );
            assert!(
                matches!(parsed.host_str(), Some("new.example.net" | "shop.example.com")),
                "{attempt:?} → {location}"
            );
            // "evil" may only be data in a sub-id's encoded value.
            assert!(!parsed.path().contains("evil") && parsed.fragment().is_none(), "{attempt:?} → {location}");
            assert!(parsed.query_pairs().all(|(name, _)| !name.contains("evil")), "{attempt:?} → {location}");
        } else {
            assert!(matches!(answer.status, 400 | 405 | 429 | 431), "{attempt:?}: {answer:?}");
        }
    }
    assert!(answered >= attempts.len() - 2, "hyper refused {} attempts outright", attempts.len() - answered);
    // The one sub-id that carries a URL is percent-encoded into a value.
    let answer = get(address, "go.example.com", "/r/5000?sub_id1=https://evil.com/x").await;
    assert_eq!(answer.location(), "https://new.example.net/a/5000?subId1=https%3A%2F%2Fevil.com%2Fx");
    // Two Host headers are refused outright.
    let doubled = exchange(address, "GET /r/5000 HTTP/1.1\r\nHost: evil.com\r\nHost: go.example.com\r\n\r\n").await;
    assert_eq!(doubled.map(|answer| answer.status), Some(400));
    running.stop().await;
}

#[tokio::test]
async fn a_reload_swaps_the_map_under_an_open_connection() {
    let running = Running::start(unlimited()).await;
    let mut stream = TcpStream::connect(running.address).await.expect("connect");
    let request = "GET /r/5000 HTTP/1.1\r\nHost: go.example.com\r\n\r\n";
    stream.write_all(request.as_bytes()).await.expect("send");
    assert_eq!(read_answer(&mut stream).await.expect("an answer").location(), "https://new.example.net/a/5000");
    // Swap back and forth under load: every answer is wholly one map's.
    let server = running.server.clone();
    let swapper = tokio::spawn(async move {
        for round in 0..200 {
            let prefix = if round % 2 == 0 { "b" } else { "a" };
            server.replace(snapshot(&links(prefix), server.metrics()));
            tokio::task::yield_now().await;
        }
        server.replace(snapshot(&links("b"), server.metrics()));
    });
    for _ in 0..200 {
        stream.write_all(request.as_bytes()).await.expect("the connection stays open");
        let answer = read_answer(&mut stream).await.expect("an answer on the same connection");
        assert!(
            matches!(answer.location(), "https://new.example.net/a/5000" | "https://new.example.net/b/5000"),
            "{answer:?}"
        );
    }
    swapper.await.expect("the swaps");
    stream.write_all(request.as_bytes()).await.expect("still open");
    assert_eq!(read_answer(&mut stream).await.expect("an answer").location(), "https://new.example.net/b/5000");
    let metrics = running.server.metrics().render();
    assert!(metrics.contains("cutover_redirects_reloads_total{result=\"ok\"} 201"), "{metrics}");
    running.stop().await;
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429() {
    let running = Running::start(Limits { per_client_per_second: 1, per_client_burst: 3, ..Limits::default() }).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(get(running.address, "go.example.com", "/r/5000").await);
    }
    let codes: Vec<u16> = statuses.iter().map(|answer| answer.status).collect();
    assert_eq!(codes, [301, 301, 301, 429, 429]);
    assert_eq!(statuses[3].header("retry-after"), Some("1"));
    let metrics = running.server.metrics().render();
    assert!(metrics.contains("cutover_redirects_rate_limited_total 2"), "{metrics}");
    running.stop().await;
}

#[tokio::test]
async fn an_oversize_head_is_refused_with_431() {
    let running = Running::start(Limits { max_header_bytes: 8192, ..unlimited() }).await;
    let big = "x".repeat(9000);
    let answer =
        exchange(running.address, &format!("GET /r/5000 HTTP/1.1\r\nHost: go.example.com\r\nX-Big: {big}\r\n\r\n"))
            .await;
    assert_eq!(answer.map(|answer| answer.status), Some(431));
    let long_path = format!("/r/{}", "5".repeat(9000));
    let answer = exchange(running.address, &format!("GET {long_path} HTTP/1.1\r\nHost: go.example.com\r\n\r\n")).await;
    assert!(matches!(answer.map(|answer| answer.status), Some(431 | 414) | None));
    // A head within the limit is answered.
    let answer = get(running.address, "go.example.com", "/r/5000").await;
    assert_eq!(answer.status, 301);
    running.stop().await;
}

#[tokio::test]
async fn a_slow_client_is_cut_off() {
    let running = Running::start(Limits { header_read_timeout: Duration::from_secs(1), ..unlimited() }).await;
    let mut stream = TcpStream::connect(running.address).await.expect("connect");
    stream.write_all(b"GET /r/5000 HTTP/1.1\r\nHost: go.exa").await.expect("send a part");
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the server closed the slow connection");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    // An idle kept-alive connection too.
    let mut idle = TcpStream::connect(running.address).await.expect("connect");
    idle.write_all(b"GET /r/5000 HTTP/1.1\r\nHost: go.example.com\r\n\r\n").await.expect("send");
    assert_eq!(read_answer(&mut idle).await.map(|answer| answer.status), Some(301));
    let read = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the server closed the idle connection");
    running.stop().await;
}

#[tokio::test]
async fn metrics_count_hits_by_partner_and_misses() {
    let running = Running::start(unlimited()).await;
    for target in ["/r/5000", "/r/5000?sub_id1=a", "/r/5001", "/nope", "/nope?x=1"] {
        get(running.address, "go.example.com", target).await;
    }
    get(running.address, "trk.example.com", "/click?o=7&a=42").await;
    let answer = get(running.address, "go.example.com", "/metrics").await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("content-type").is_some_and(|value| value.starts_with("text/plain; version=0.0.4")));
    for line in [
        "cutover_redirects_hits_total 4",
        "cutover_redirects_partner_hits_total{partner=\"A-1\"} 2",
        "cutover_redirects_partner_hits_total{partner=\"A-2\"} 1",
        "cutover_redirects_partner_hits_total{partner=\"42\"} 1",
        "cutover_redirects_misses_total 2",
        "cutover_redirects_links 3",
    ] {
        assert!(answer.body.lines().any(|candidate| candidate == line), "no {line:?} in\n{}", answer.body);
    }
    // The query of a request is in no counter.
    assert!(!answer.body.contains("x=1"));
    running.stop().await;
}
