//! Starting an emulator: the [`Vendor`] a server answers for, the
//! [`EmulatorApp`] builder (binding, the accept loop, the network-level
//! faults and the `/__emulator` control routes) and the
//! [`RunningEmulator`] handle it returns.
//!
//! The accept loop is hyper's HTTP/1 connection driver around the axum
//! router instead of `axum::serve`, because a dropped connection is a
//! service error: hyper then closes the socket without writing a response,
//! which is the fault a client must survive.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hyper::body::{Frame, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

use crate::faults::{Faults, Hostile, Injected, PagingLoop};
use crate::ratelimit::ConcurrencyLimit;
use crate::{Error, ErrorBody, FaultConfig, Settings};

/// What the kit must know of a vendor to serve it: its name, its error
/// bodies (for the answers the kit gives before the vendor's routes run),
/// which page a request asks for, and how it treats trailing slashes.
/// Implement it on a unit struct; it is only ever a type parameter.
pub trait Vendor: ErrorBody {
    /// Lowercase name (`mailchimp`): logs, and the vendor's control routes
    /// under `/__emulator/{NAME}/`.
    const NAME: &'static str;

    /// Under this prefix (`/api/`), a path ending in `/` is served as the
    /// path without it, for vendors whose own links end in a slash; `None`
    /// serves paths as they come.
    const TRAILING_SLASH_UNDER: Option<&'static str> = None;

    /// The 0-based collection page a request asks for, `None` when it asks
    /// for none: what [`FaultConfig::fail_page_once`] counts and the paging
    /// loop layers ([`crate::paging`]) act on. Use the vendor's paging style:
    /// [`crate::paging::OffsetCount::page_index`],
    /// [`crate::paging::Cursor::page_index`], …
    fn page_index(_uri: &Uri) -> Option<u64> {
        None
    }
}

/// Builds and starts one emulator of vendor `V`: [`EmulatorApp::bind`]
/// first (the base URL is then known, for the links routes write), then
/// [`EmulatorApp::serve`] with the vendor's routes.
///
/// Every request to a vendor route goes through, in order: a dropped
/// connection, the concurrency cap ([`EmulatorApp::max_in_flight`]), added
/// latency, the hostile answers (absurd `Retry-After`, huge body), the
/// paging-loop marker, injected 429s and 5xx and the page that fails once;
/// then the vendor's own layers (auth, limits) and routes. Control routes
/// (`/__emulator/…`) go through none of it.
#[derive(Debug)]
pub struct EmulatorApp<V> {
    listener: TcpListener,
    address: SocketAddr,
    base_url: String,
    seed: u64,
    faults: FaultConfig,
    max_in_flight: usize,
    control: Option<Router>,
    vendor: PhantomData<fn() -> V>,
}

impl<V: Vendor> EmulatorApp<V> {
    /// Binds 127.0.0.1 on `settings.port` (0 picks a free port); the faults
    /// and their seed are taken from `settings`.
    pub async fn bind(settings: &Settings) -> Result<Self, Error> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, settings.port));
        let listener = TcpListener::bind(address).await.map_err(|source| Error::Bind { address, source })?;
        let address = listener.local_addr().map_err(|source| Error::Bind { address, source })?;
        Ok(EmulatorApp {
            listener,
            address,
            base_url: format!("http://{address}"),
            seed: settings.seed,
            faults: settings.faults.clone(),
            max_in_flight: usize::MAX,
            control: None,
            vendor: PhantomData,
        })
    }

    /// `http://127.0.0.1:PORT`, what the vendor's links start with.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Caps the requests in flight (the vendor's simultaneous connections);
    /// one more is answered [`ErrorBody::too_many_requests`]`(None)`.
    /// Unlimited by default.
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max;
        self
    }

    /// The vendor's own control routes, served unauthenticated and without
    /// faults under `/__emulator/{NAME}` (a route `/seeded` answers
    /// `/__emulator/{NAME}/seeded`), next to the kit's
    /// `GET`/`POST /__emulator/faults`.
    pub fn control(mut self, routes: Router) -> Self {
        self.control = Some(routes);
        self
    }

    /// Serves `api` (the vendor's routes with their own layers) from a tokio
    /// task, accepting `api_key`, and hands back the handle with `state`.
    pub fn serve<S>(self, api_key: String, state: S, api: Router) -> RunningEmulator<S> {
        let shared = Arc::new(Shared {
            faults: Faults::new(self.seed, self.faults),
            concurrency: ConcurrencyLimit::new(self.max_in_flight),
        });
        let mut control =
            Router::new().route("/__emulator/faults", get(get_faults).post(set_faults)).with_state(Arc::clone(&shared));
        if let Some(routes) = self.control {
            control = control.nest(&format!("/__emulator/{}", V::NAME), routes);
        }
        let router = api.merge(control).layer(middleware::from_fn_with_state(Arc::clone(&shared), request_faults::<V>));
        let (shutdown, stopped) = oneshot::channel();
        let task =
            tokio::spawn(accept_loop(self.listener, router, Arc::clone(&shared), stopped, V::TRAILING_SLASH_UNDER));
        tracing::info!(platform = V::NAME, base_url = %self.base_url, "Emulator listening.");
        RunningEmulator {
            base_url: self.base_url,
            api_key,
            state,
            server: Server { address: self.address, shared, shutdown: Some(shutdown), task: Some(task) },
        }
    }
}

/// An emulator serving on 127.0.0.1 from a tokio task, with the vendor's
/// state handle `S`. Dropping it stops the server;
/// [`RunningEmulator::shutdown`] also waits for it to stop.
#[derive(Debug)]
pub struct RunningEmulator<S> {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The API key the emulator accepts.
    pub api_key: String,
    state: S,
    server: Server,
}

/// The server task and what the network layer shares with every request.
#[derive(Debug)]
struct Server {
    address: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    faults: Faults,
    concurrency: ConcurrencyLimit,
}

impl<S> RunningEmulator<S> {
    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.server.address
    }

    /// The vendor's state handle.
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The same emulator with its state handle turned into another type
    /// (a facade's enum of vendors).
    pub fn map_state<T>(self, change: impl FnOnce(S) -> T) -> RunningEmulator<T> {
        RunningEmulator {
            base_url: self.base_url,
            api_key: self.api_key,
            state: change(self.state),
            server: self.server,
        }
    }

    /// The faults in force; bursts show what is left of them.
    pub fn faults(&self) -> FaultConfig {
        self.server.shared.faults.config()
    }

    /// Replaces the faults in force (as `POST /__emulator/faults` does).
    pub fn set_faults(&self, faults: FaultConfig) {
        self.server.shared.faults.set(faults);
    }

    /// Requests to vendor routes being handled right now, so a test can wait
    /// for a request to be in flight instead of sleeping.
    pub fn requests_in_flight(&self) -> usize {
        self.server.shared.concurrency.in_flight()
    }

    /// Stops accepting, closes open connections and waits for the server
    /// task to end.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.server.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.server.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The error that makes hyper close a connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
struct DroppedConnection;

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
    trailing_slash_under: Option<&'static str>,
) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(error = %error, "Accept failed.");
                continue;
            }
        };
        let router = router.clone();
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<_>| {
                let router = router.clone();
                let shared = Arc::clone(&shared);
                async move {
                    if !is_control(request.uri()) && shared.faults.drop_connection() {
                        tracing::debug!(path = request.uri().path(), "Connection dropped.");
                        return Err(DroppedConnection);
                    }
                    let mut request = request.map(axum::body::Body::new);
                    if let Some(prefix) = trailing_slash_under {
                        without_trailing_slash(&mut request, prefix);
                    }
                    match router.oneshot(request).await {
                        Ok(response) => Ok(response),
                        Err(never) => match never {},
                    }
                }
            });
            let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, "Connection ended with an error.");
            }
        });
    }
    connections.abort_all();
}

/// `/api/profiles/` becomes `/api/profiles` under `prefix` `/api/`, before
/// routing (a layer would run after it).
fn without_trailing_slash(request: &mut Request, prefix: &str) {
    let path = request.uri().path();
    if path.starts_with(prefix) && path.len() > prefix.len() && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let rebuilt = match request.uri().query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = rebuilt.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
}

fn is_control(uri: &Uri) -> bool {
    uri.path().starts_with("/__emulator/")
}

/// Latency, the connection cap and the injected answers, before the
/// vendor's own auth and rate limits.
async fn request_faults<V: Vendor>(State(shared): State<Arc<Shared>>, mut request: Request, next: Next) -> Response {
    if is_control(request.uri()) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let Some(_slot) = shared.concurrency.try_acquire() else {
        return V::too_many_requests_at(&path, None);
    };
    if let Some(latency) = shared.faults.latency() {
        tokio::time::sleep(latency).await;
    }
    match shared.faults.hostile() {
        Some(Hostile::RetryAfter(seconds)) => return V::too_many_requests_at(&path, Some(seconds)),
        Some(Hostile::HugeBody(bytes)) => return huge_body(bytes),
        None => {}
    }
    if shared.faults.paging_loop() {
        request.extensions_mut().insert(PagingLoop);
    }
    let page = V::page_index(request.uri());
    match shared.faults.inject(page.map(|index| (path.as_str(), index))) {
        None => next.run(request).await,
        Some(Injected::TooManyRequests) => V::too_many_requests_at(&path, None),
        Some(Injected::ServerError { status }) => V::server_error_at(&path, status),
    }
}

/// A 200 whose body is `bytes` long, streamed with no `Content-Length`.
fn huge_body(bytes: u64) -> Response {
    let mut response = axum::body::Body::new(HugeBody::new(bytes)).into_response();
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Bytes of one chunk of a [`HugeBody`].
const CHUNK: usize = 64 * 1024;
/// What a [`HugeBody`] is made of, shared by every chunk (never copied).
static FILLER: [u8; CHUNK] = [b'x'; CHUNK];

/// `{"filler":"xxx…"}`, exactly `len` bytes long (only `x`s when shorter
/// than the braces), produced a chunk at a time as the client reads.
#[derive(Debug)]
struct HugeBody {
    head: &'static [u8],
    filler_left: u64,
    tail: &'static [u8],
}

impl HugeBody {
    const HEAD: &'static [u8] = br#"{"filler":""#;
    const TAIL: &'static [u8] = br#""}"#;

    fn new(len: u64) -> HugeBody {
        let braces = (HugeBody::HEAD.len() + HugeBody::TAIL.len()) as u64;
        if len < braces {
            HugeBody { head: &[], filler_left: len, tail: &[] }
        } else {
            HugeBody { head: HugeBody::HEAD, filler_left: len - braces, tail: HugeBody::TAIL }
        }
    }

    fn left(&self) -> u64 {
        self.head.len() as u64 + self.filler_left + self.tail.len() as u64
    }
}

impl hyper::body::Body for HugeBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let chunk = if !self.head.is_empty() {
            Bytes::from_static(std::mem::take(&mut self.head))
        } else if self.filler_left > 0 {
            let len = usize::try_from(self.filler_left).map_or(CHUNK, |left| left.min(CHUNK));
            self.filler_left -= len as u64;
            Bytes::from_static(&FILLER[..len])
        } else if !self.tail.is_empty() {
            Bytes::from_static(std::mem::take(&mut self.tail))
        } else {
            return Poll::Ready(None);
        };
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.left() == 0
    }

    /// Unknown, so the answer is chunked: a client cannot refuse it from
    /// its headers and must count what it reads.
    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Json<FaultConfig> {
    Json(shared.faults.config())
}

async fn set_faults(State(shared): State<Arc<Shared>>, Json(faults): Json<FaultConfig>) -> impl IntoResponse {
    shared.faults.set(faults);
    Json(shared.faults.config())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slashes_go_under_the_prefix_only() {
        let rewritten = |path: &str| {
            let mut request = Request::new(axum::body::Body::empty());
            *request.uri_mut() = path.parse().unwrap_or_default();
            without_trailing_slash(&mut request, "/api/");
            request.uri().to_string()
        };
        assert_eq!(rewritten("/api/profiles/?page%5Bsize%5D=1"), "/api/profiles?page%5Bsize%5D=1");
        assert_eq!(rewritten("/api/profiles//"), "/api/profiles");
        assert_eq!(rewritten("/api/"), "/api/");
        assert_eq!(rewritten("/3.0/lists/"), "/3.0/lists/");
    }
}
