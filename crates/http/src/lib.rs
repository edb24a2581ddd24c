//! The HTTP toolkit of cutover's platform plugins: one [`HttpClient`] per
//! account, with auth, a rate limiter shared by every stream, retries,
//! pagination and tracing done the same way for every platform.
//!
//! Not here: any platform's endpoints or record mapping (those live in
//! `plugins/<platform>`), and no runtime: requests are async and run on the
//! plugin's own tokio runtime (`cutover_sdk::Context::block_on`). Plugins
//! depend on this crate; the host, the SDK and the ABI do not.
//!
//! Start at [`HttpClient`], built from an [`HttpConfig`]:
//! - [`Auth`]: Basic (Mailchimp: any user and the API key; Mailman: the REST
//!   admin), bearer, or a key in a header (Klaviyo:
//!   `Authorization: Klaviyo-API-Key …`, plus its `revision` header as a
//!   default header). Secrets are [`secrecy::SecretString`]s: `Debug`, errors
//!   and traces never show them.
//! - [`RateLimits`]: the platform's documented quotas and concurrency cap,
//!   enforced by a [`RateLimiter`] that every clone of the client shares,
//!   tightened live from `RateLimit-*`/`X-RateLimit-*` headers and paused
//!   for the whole account on a 429.
//! - [`RetryPolicy`]: exponential backoff with full jitter on 429, 408, 5xx,
//!   timeouts and dropped connections; `Retry-After` (seconds or date) wins.
//!   Requests that are not idempotent (POST, PATCH) are retried only when
//!   the connection failed before sending, when the platform refused them
//!   unprocessed (429, 408), or when marked [`Request::retry_safe`].
//! - [`Paginator`]: offset (Mailchimp), page number (Mailman), JSON:API
//!   `links.next` (Klaviyo) and `Link` header paging, resumable from a cursor
//!   string.
//!
//! - [`AccountLimiters`]: one limiter registry per account, process-wide,
//!   with a limiter per endpoint where the platform keeps windows per
//!   endpoint; give each client its limiter with
//!   [`HttpClient::with_limiter`].
//! - [`PagedReader`]: a paged collection read as a stream: a paginator and a
//!   mapping from one JSON item to a record or a reject reason, read in
//!   batches that resume inside a page ([`PageCursor`]), rejects with their
//!   location and raw JSON.
//!
//! - [`path`]: request paths from segments, each percent-encoded, `.` and
//!   `..` refused, so an id can never point a request at another endpoint.
//!
//! Answers are read up to [`HttpConfig::max_body_bytes`]; a `Retry-After`
//! longer than the time left in the budget ends the request at once; a
//! paginator that sees its links go in a circle, or passes its page limit,
//! stops with an error; plain `http://` is refused except to loopback.
//!
//! Every failure is an [`HttpError`] naming the request (method and URL path,
//! never the query string), the status and the vendor's error summary, with
//! [`HttpError::help`]; it converts into a `PluginError` with `?`.
//!
//! ```no_run
//! use cutover_http::{Auth, HttpClient, HttpConfig, Paginator, Quota, RateLimits, Request};
//! use secrecy::SecretString;
//!
//! # async fn read(api_key: SecretString, saved_cursor: Option<&str>) -> Result<(), cutover_http::HttpError> {
//! let client = HttpClient::new(
//!     HttpConfig::new("https://us21.api.mailchimp.com/3.0/")
//!         .auth(Auth::basic("cutover", api_key))
//!         .limits(RateLimits::unlimited().max_concurrency(10).quota(Quota::per_second(10))),
//! )?;
//! let mut pages = Paginator::offset(Request::get("lists/9e67587f52/members"), "/members", 1000)
//!     .resume(saved_cursor)?;
//! if let Some(page) = pages.next_page(&client).await? {
//!     // map page.items to records, hand page.cursor back as the next cursor,
//!     // and page.done as whether the stream is finished
//! }
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod accounts;
mod client;
mod config;
mod error;
mod events;
mod limiter;
mod pagination;
mod path;
mod retry;
mod stream;

pub use accounts::AccountLimiters;
pub use client::{HttpClient, Request, Response};
pub use config::{Auth, HttpConfig, Timeouts};
pub use error::{HttpError, HttpErrorKind, TransportKind, VendorError};
pub use limiter::{Permit, Quota, RateLimiter, RateLimits};
pub use pagination::{Page, PageStyle, Paginator};
pub use path::path;
pub use reqwest::{Method, StatusCode, header};
pub use retry::RetryPolicy;
pub use secrecy::SecretString;
pub use stream::{PageCursor, PagedReader, Taken};
