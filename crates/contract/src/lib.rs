//! The vocabulary of the cutover plugin contract: the words the host, the SDK,
//! the HTTP toolkit and plugin authors share, with no FFI in them.
//!
//! Not here: abi_stable, the root module or the loader (those are in
//! `cutover-abi`, which only the host's loader and the SDK's export touch),
//! HTTP, tokio or platform knowledge. Because this crate has no FFI in it,
//! `cutover-http` and plugin code depend on it without pulling abi_stable in.
//!
//! - [`error`]: [`PluginError`] and its [`ErrorCode`], what every call answers
//!   on failure.
//! - [`metadata`]: what a plugin says about itself and what the host tells it
//!   at open (JSON across the boundary).
//! - [`wire`]: batches of records, rejects and write outcomes, and their
//!   versioned binary encoding.
//! - [`stream`]: a stream's [`Batch`](stream::Batch) with its typed cursor,
//!   before the SDK renders the cursor for the host.
//! - [`redact`]: what both sides mean by a redacted secret.
#![warn(missing_docs)]

pub mod error;
pub mod metadata;
pub mod redact;
pub mod stream;
pub mod wire;

pub use error::{ErrorCode, PluginError};
