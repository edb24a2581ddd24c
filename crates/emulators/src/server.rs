//! Starting an emulator: binding, the accept loop, the network-level faults
//! and the `/__emulator` control routes.
//!
//! The accept loop is hyper's HTTP/1 connection driver around the axum
//! router instead of `axum::serve`, because a dropped connection is a
//! service error: hyper then closes the socket without writing a response,
//! which is the fault a client must survive.

use std::convert::Infallible;
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
use crate::{EmulatorConfig, Error, FaultConfig, KlaviyoState, MailchimpState, Platform};
use crate::{klaviyo, mailchimp};

/// Starts emulators; see [`Emulator::start`].
#[derive(Debug)]
pub struct Emulator;

/// The seeded state of a running emulator, by platform.
#[derive(Debug, Clone)]
pub enum EmulatorState {
    /// A Mailchimp emulator's audiences, members and campaigns.
    Mailchimp(MailchimpState),
    /// A Klaviyo emulator's profiles, lists, events and jobs.
    Klaviyo(KlaviyoState),
}

/// An emulator serving on 127.0.0.1 from a tokio task. Dropping it stops the
/// server; [`RunningEmulator::shutdown`] also waits for it to stop.
#[derive(Debug)]
pub struct RunningEmulator {
    /// `http://127.0.0.1:PORT`; Mailchimp paths start with `/3.0/`, Klaviyo
    /// paths with `/api/`.
    pub base_url: String,
    /// The API key the emulator accepts: Mailchimp's basic-auth password, or
    /// Klaviyo's `Klaviyo-API-Key` value.
    pub api_key: String,
    /// The platform served.
    pub platform: Platform,
    address: SocketAddr,
    state: EmulatorState,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// What the network layer shares with every request.
#[derive(Debug)]
struct Shared {
    platform: Platform,
    faults: Faults,
    concurrency: ConcurrencyLimit,
}

impl Emulator {
    /// Seeds the platform's state from `config`, binds 127.0.0.1 on
    /// `config.port` (0 picks a free port) and serves from a tokio task.
    pub async fn start(platform: Platform, config: EmulatorConfig) -> Result<RunningEmulator, Error> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
        let listener = TcpListener::bind(address).await.map_err(|source| Error::Bind { address, source })?;
        let address = listener.local_addr().map_err(|source| Error::Bind { address, source })?;
        let base_url = format!("http://{address}");
        let max_connections = match platform {
            Platform::Mailchimp => config.mailchimp_max_connections,
            Platform::Klaviyo => usize::MAX,
        };
        let shared = Arc::new(Shared {
            platform,
            faults: Faults::new(config.seed, config.faults.clone()),
            concurrency: ConcurrencyLimit::new(max_connections),
        });
        let (platform_router, state, api_key) = match platform {
            Platform::Mailchimp => {
                let state = MailchimpState::seeded(&config);
                let api_key = state.api_key();
                let router = mailchimp::router(state.clone(), base_url.clone());
                (router, EmulatorState::Mailchimp(state), api_key)
            }
            Platform::Klaviyo => {
                let state = KlaviyoState::seeded(&config);
                let api_key = state.api_key();
                let router = klaviyo::router(state.clone(), &config, base_url.clone());
                (router, EmulatorState::Klaviyo(state), api_key)
            }
        };
        let control =
            Router::new().route("/__emulator/faults", get(get_faults).post(set_faults)).with_state(Arc::clone(&shared));
        let router =
            platform_router.merge(control).layer(middleware::from_fn_with_state(Arc::clone(&shared), request_faults));
        let (shutdown, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, router, Arc::clone(&shared), stopped));
        tracing::info!(%platform, %base_url, "Emulator listening.");
        Ok(RunningEmulator {
            base_url,
            api_key,
            platform,
            address,
            state,
            shared,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }
}

impl RunningEmulator {
    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The state handle, whatever the platform.
    pub fn state(&self) -> &EmulatorState {
        &self.state
    }

    /// The Mailchimp state, if this emulator serves Mailchimp.
    pub fn mailchimp(&self) -> Option<&MailchimpState> {
        match &self.state {
            EmulatorState::Mailchimp(state) => Some(state),
            EmulatorState::Klaviyo(_) => None,
        }
    }

    /// The Klaviyo state, if this emulator serves Klaviyo.
    pub fn klaviyo(&self) -> Option<&KlaviyoState> {
        match &self.state {
            EmulatorState::Klaviyo(state) => Some(state),
            EmulatorState::Mailchimp(_) => None,
        }
    }

    /// The faults in force; bursts show what is left of them.
    pub fn faults(&self) -> FaultConfig {
        self.shared.faults.config()
    }

    /// Replaces the faults in force (as `POST /__emulator/faults` does).
    pub fn set_faults(&self, faults: FaultConfig) {
        self.shared.faults.set(faults);
    }

    /// Requests being handled right now (control routes included), so a test
    /// can wait for a request to be in flight instead of sleeping.
    pub fn requests_in_flight(&self) -> usize {
        self.shared.concurrency.in_flight()
    }

    /// Stops accepting, closes open connections and waits for the server
    /// task to end.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningEmulator {
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

async fn accept_loop(listener: TcpListener, router: Router, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
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
                    let request = without_trailing_slash(request.map(axum::body::Body::new));
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

/// Klaviyo writes resource links with a trailing slash (`/api/profiles/`)
/// and accepts paths either way; the routes are declared without one.
fn without_trailing_slash(mut request: Request) -> Request {
    let path = request.uri().path();
    if path.starts_with("/api/") && path.len() > 5 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let rebuilt = match request.uri().query() {
            Some(query) => format!("{trimmed}?{query}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = rebuilt.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    request
}

fn is_control(uri: &Uri) -> bool {
    uri.path().starts_with("/__emulator/")
}

/// Latency, the connection cap and the injected answers, before the
/// platform's own auth and rate limits.
async fn request_faults(State(shared): State<Arc<Shared>>, mut request: Request, next: Next) -> Response {
    if is_control(request.uri()) {
        return next.run(request).await;
    }
    let Some(_slot) = shared.concurrency.try_acquire() else {
        return match shared.platform {
            Platform::Mailchimp => mailchimp::too_many_connections(),
            Platform::Klaviyo => klaviyo::throttled(1),
        };
    };
    if let Some(latency) = shared.faults.latency() {
        tokio::time::sleep(latency).await;
    }
    match shared.faults.hostile() {
        Some(Hostile::RetryAfter(seconds)) => {
            return match shared.platform {
                Platform::Mailchimp => {
                    let mut response = mailchimp::too_many_connections();
                    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                    response
                }
                Platform::Klaviyo => klaviyo::throttled(seconds),
            };
        }
        Some(Hostile::HugeBody(bytes)) => return huge_body(bytes),
        None => {}
    }
    if shared.faults.paging_loop() {
        request.extensions_mut().insert(PagingLoop);
    }
    let path = request.uri().path().to_owned();
    let page = match shared.platform {
        Platform::Mailchimp => mailchimp::page_index(request.uri()),
        Platform::Klaviyo => klaviyo::page_index(request.uri()),
    };
    match shared.faults.inject(page.map(|index| (path.as_str(), index))) {
        None => next.run(request).await,
        Some(Injected::TooManyRequests) => match shared.platform {
            Platform::Mailchimp => mailchimp::too_many_connections(),
            Platform::Klaviyo => klaviyo::throttled(1),
        },
        Some(Injected::ServerError { status }) => match shared.platform {
            Platform::Mailchimp => mailchimp::server_error(status),
            Platform::Klaviyo => klaviyo::server_error(status),
        },
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
