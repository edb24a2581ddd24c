//! The cutover plugin boundary: what crosses between the host and a plugin
//! library, and nothing else.
//!
//! Not here: HTTP, tokio, platform knowledge, or the safe traits plugin authors
//! implement (those are in `cutover-sdk`, the only crate besides the host that
//! touches this one). Integrators never name a type from this crate.
//!
//! Start at [`ffi::PluginModRef`], the root module every plugin exports. It is a
//! handful of blocking functions that pass owned byte buffers and strings:
//! describe, open, check, discover, read a batch, write a batch, close.
//! Records cross in batches encoded by [`wire`]; metadata crosses as JSON
//! ([`metadata`]). Two versions are checked at load: [`ABI_VERSION`] (the
//! layout of the root module, checked by abi_stable) and the canonical-schema
//! version the plugin declares in its metadata. [`redact`] is what both
//! sides mean by a redacted secret (the host names the secrets a plugin's log
//! lines must not carry in [`metadata::LogSettings`]).
#![warn(missing_docs)]

pub mod client;
pub mod ffi;

// The contract's vocabulary, under the paths the boundary code names it by.
pub use cutover_contract::{ErrorCode, PluginError, error, metadata, redact, wire};

/// The plugin ABI this crate defines. Bump it when the root module changes in a
/// way old plugins cannot follow; adding a trailing field to the prefix module
/// does not need a bump (abi_stable prefix types tolerate it).
pub const ABI_VERSION: u32 = 1;
