//! The redirect server: hyper's HTTP/1 on tokio, one hash lookup per
//! request, the map swapped whole on reload.
//!
//! What it answers:
//!
//! | request | answer |
//! |---|---|
//! | `GET`/`HEAD` of an old link | `301`, `Location`: its new link with the sub-ids the rules carry |
//! | `GET`/`HEAD` of anything else | `302` to the fallback (`Cache-Control: no-store`) |
//! | `GET /metrics`, no link there, metrics on this listener | `200`, Prometheus text |
//! | another method | `405` |
//! | two `Host` headers, or one that is not text | `400` |
//! | a client over its rate | `429` with `Retry-After` |
//! | a request head over the limit | `431`, connection closed (hyper) |
//! | a head not sent in time | connection closed (hyper) |
//!
//! The `Location` of every answer is a new link of the map or the fallback,
//! both checked absolute `http(s)` URLs when the map was loaded: nothing in
//! the request (path, query, `Host`) can make it point elsewhere. Requests
//! are never logged with their query.

use crate::config::LimitsConfig;
use crate::limit::RateLimiter;
use crate::map::{Resolution, Snapshot};
use crate::metrics::Metrics;
use arc_swap::ArcSwap;
use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, HOST, LOCATION, RETRY_AFTER};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpListener;

/// The body of every answer.
pub type Body = Full<Bytes>;

/// The limits a server enforces (see [`LimitsConfig`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Requests per second per client; 0: no limit.
    pub per_client_per_second: u32,
    /// Burst per client.
    pub per_client_burst: u32,
    /// Largest request head in bytes.
    pub max_header_bytes: usize,
    /// Time to send a request head, and the longest idle keep-alive.
    pub header_read_timeout: Duration,
    /// Connections at once.
    pub max_connections: usize,
}

impl From<&LimitsConfig> for Limits {
    fn from(config: &LimitsConfig) -> Limits {
        Limits {
            per_client_per_second: config.per_client_per_second,
            per_client_burst: config.per_client_burst,
            max_header_bytes: config.max_header_bytes.max(256),
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs.max(1)),
            max_connections: config.max_connections.max(1),
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::from(&LimitsConfig::default())
    }
}

struct Inner {
    snapshot: ArcSwap<Snapshot>,
    metrics: Arc<Metrics>,
    limiter: RateLimiter,
    limits: Limits,
    metrics_here: bool,
}

/// The redirect server: cheap to clone (one `Arc`), shared by every
/// connection.
#[derive(Clone)]
pub struct RedirectServer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RedirectServer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RedirectServer")
            .field("links", &self.inner.snapshot.load().len())
            .field("limits", &self.inner.limits)
            .finish()
    }
}

fn answer(status: StatusCode) -> http::response::Builder {
    Response::builder().status(status)
}

fn finish(builder: http::response::Builder, body: Bytes) -> Response<Body> {
    // Every header set here is valid, so this cannot fail; an empty 500 if it did.
    builder.body(Full::new(body)).unwrap_or_else(|_| {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response
    })
}

impl RedirectServer {
    /// A server answering from `snapshot`, counting into `metrics`; with
    /// `metrics_here`, `GET /metrics` (when no link has that path) answers
    /// the counters.
    pub fn new(snapshot: Snapshot, metrics: Arc<Metrics>, limits: Limits, metrics_here: bool) -> RedirectServer {
        metrics.links.store(snapshot.len() as u64, Ordering::Relaxed);
        RedirectServer {
            inner: Arc::new(Inner {
                snapshot: ArcSwap::from_pointee(snapshot),
                limiter: RateLimiter::new(limits.per_client_per_second, limits.per_client_burst),
                metrics,
                limits,
                metrics_here,
            }),
        }
    }

    /// The counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The map answered from now.
    pub fn current(&self) -> Arc<Snapshot> {
        self.inner.snapshot.load_full()
    }

    /// Replaces the map at once: each request sees the old one or the new
    /// one, never a mix; open connections stay open.
    pub fn replace(&self, snapshot: Snapshot) {
        self.inner.metrics.links.store(snapshot.len() as u64, Ordering::Relaxed);
        self.inner.snapshot.store(Arc::new(snapshot));
        self.inner.metrics.reloads_ok.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a reload that failed (the map in use stays).
    pub fn reload_failed(&self) {
        self.inner.metrics.reloads_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// The answer to `request` from `client`. Reads only the request's head.
    pub fn answer<B>(&self, client: IpAddr, request: &Request<B>) -> Response<Body> {
        let inner = &*self.inner;
        if let Err(wait) = inner.limiter.check(client) {
            inner.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return finish(answer(StatusCode::TOO_MANY_REQUESTS).header(RETRY_AFTER, seconds.max(1)), Bytes::new());
        }
        if request.method() != Method::GET && request.method() != Method::HEAD {
            inner.metrics.refused.fetch_add(1, Ordering::Relaxed);
            return finish(
                answer(StatusCode::METHOD_NOT_ALLOWED).header(ALLOW, HeaderValue::from_static("GET, HEAD")),
                Bytes::new(),
            );
        }
        // An absolute request target's authority wins over `Host` (RFC 9112 §3.2.2).
        let host = match request.uri().host() {
            Some(host) => Some(host),
            None => {
                let mut hosts = request.headers().get_all(HOST).iter();
                match (hosts.next(), hosts.next()) {
                    (None, _) => None,
                    (Some(host), None) => match host.to_str() {
                        Ok(host) => Some(host),
                        Err(_) => return self.refuse(),
                    },
                    (Some(_), Some(_)) => return self.refuse(),
                }
            }
        };
        let snapshot = inner.snapshot.load();
        let uri = request.uri();
        match snapshot.resolve(host, uri.path(), uri.query()) {
            Resolution::Hit { location, hits } => {
                hits.fetch_add(1, Ordering::Relaxed);
                finish(answer(StatusCode::MOVED_PERMANENTLY).header(LOCATION, location), Bytes::new())
            }
            Resolution::Miss { location } => {
                if inner.metrics_here && uri.path() == "/metrics" {
                    return self.metrics_answer();
                }
                inner.metrics.misses.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(host = host.unwrap_or(""), path = uri.path(), "No link here: sent to the fallback.");
                finish(
                    answer(StatusCode::FOUND)
                        .header(LOCATION, location)
                        .header(CACHE_CONTROL, HeaderValue::from_static("no-store")),
                    Bytes::new(),
                )
            }
        }
    }

    fn refuse(&self) -> Response<Body> {
        self.inner.metrics.refused.fetch_add(1, Ordering::Relaxed);
        finish(answer(StatusCode::BAD_REQUEST), Bytes::new())
    }

    fn metrics_answer(&self) -> Response<Body> {
        finish(
            answer(StatusCode::OK)
                .header(CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))
                .header(CACHE_CONTROL, HeaderValue::from_static("no-store")),
            Bytes::from(self.inner.metrics.render()),
        )
    }

    /// The answer of a metrics-only listener: `/metrics`, else 404.
    fn answer_metrics_only<B>(&self, request: &Request<B>) -> Response<Body> {
        if request.uri().path() == "/metrics" && (request.method() == Method::GET || request.method() == Method::HEAD) {
            self.metrics_answer()
        } else {
            finish(answer(StatusCode::NOT_FOUND), Bytes::new())
        }
    }

    /// Answers connections on `listener` until `shutdown` completes, then
    /// stops accepting and lets open connections finish their request (at
    /// most 5 s).
    pub async fn serve(&self, listener: TcpListener, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        self.accept_loop(listener, shutdown, false).await
    }

    /// Answers only `GET /metrics` on `listener` (e.g. a private address),
    /// until `shutdown` completes.
    pub async fn serve_metrics(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        self.accept_loop(listener, shutdown, true).await
    }

    async fn accept_loop(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
        metrics_only: bool,
    ) -> std::io::Result<()> {
        let limits = &self.inner.limits;
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_header_size(limits.max_header_bytes)
            .max_buf_size(limits.max_header_bytes.max(8 * 1024))
            .keep_alive(true);
        let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut shutdown => break,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before
                    // it was accepted: wait a little, go on.
                    tracing::warn!(error = %error, "Cannot accept a connection.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = connections.clone().try_acquire_owned() else {
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let server = self.clone();
            let client = peer.ip();
            let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                let response =
                    if metrics_only { server.answer_metrics_only(&request) } else { server.answer(client, &request) };
                std::future::ready(Ok::<_, Infallible>(response))
            });
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                let _ = connection.await;
                drop(permit);
            });
        }
        drop(listener);
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        Ok(())
    }

    /// Calls `reload` on each `SIGHUP` (on a blocking thread: it reads
    /// files) and swaps in the map it returns; a failed reload keeps the map
    /// in use and is counted. The handler is installed before this returns
    /// (so a `SIGHUP` from then on never ends the process); the future it
    /// returns does the reloading, until the signal stream ends. Must be
    /// called inside a tokio runtime.
    pub fn reload_on_hangup<F>(&self, reload: F) -> std::io::Result<impl Future<Output = ()> + Send + 'static>
    where
        F: Fn() -> Result<Snapshot, String> + Send + Sync + 'static,
    {
        let reload = Arc::new(reload);
        let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let server = self.clone();
        Ok(async move {
            while hangups.recv().await.is_some() {
                let reload = reload.clone();
                match tokio::task::spawn_blocking(move || reload()).await {
                    Ok(Ok(snapshot)) => server.replace(snapshot),
                    Ok(Err(error)) => {
                        tracing::error!(error = %error, "Reloading the map failed; the map in use stays.");
                        server.reload_failed();
                    }
                    Err(error) => {
                        tracing::error!(error = %error, "Reloading the map panicked; the map in use stays.");
                        server.reload_failed();
                    }
                }
            }
        })
    }
}

/// Completes on `SIGINT` (Ctrl-C) or `SIGTERM`.
pub async fn terminated() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
