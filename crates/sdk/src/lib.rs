//! Write a cutover plugin in safe Rust.
//!
//! This is the crate integrators depend on, and it changes slowly. Implement
//! [`Plugin`] (with [`Source`] and/or [`Destination`]), then turn the type into
//! a loadable plugin with one line: `cutover_sdk::export_plugin!(MyPlugin);`.
//! Build the crate as a `cdylib` and drop the library into a plugin folder.
//!
//! Not here: anything a plugin author should not have to think about. The
//! boundary types (`cutover-abi`, abi_stable) stay behind [`export_plugin!`];
//! the macro catches every panic and returns it to the host as an error, and
//! the SDK owns the plugin's tokio runtime ([`Context::block_on`]), because a
//! runtime cannot be shared across a library boundary.
//!
//! Start at [`Plugin`]. `docs/PLUGIN_GUIDE.md` walks through a whole plugin and
//! `cutover-conformance` proves it.
//!
//! ```
//! use cutover_sdk::prelude::*;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! #[serde(deny_unknown_fields)]
//! struct Config {
//!     /// How many contacts to make.
//!     count: u64,
//! }
//!
//! struct Counter { count: u64 }
//!
//! impl Plugin for Counter {
//!     type Config = Config;
//!     fn describe() -> Description {
//!         Description::new("counter", env!("CARGO_PKG_VERSION"), PluginKind::File, "counts to n")
//!             .stream("contacts", EntityKind::Contact, Direction::Source)
//!     }
//!     fn open(config: Config, _context: &Context) -> Result<Self, PluginError> {
//!         Ok(Counter { count: config.count })
//!     }
//!     fn source(&mut self) -> Option<&mut dyn Source> { Some(self) }
//! }
//!
//! impl Source for Counter {
//!     fn read(&mut self, _stream: &str, cursor: Option<&str>, max: usize) -> Result<ReadBatch, PluginError> {
//!         let start: u64 = cursor.map_or(Ok(0), |c| c.parse())
//!             .map_err(|_| PluginError::new(ErrorCode::InvalidCursor, "cursor is not a number"))?;
//!         let end = (start + max as u64).min(self.count);
//!         let records = (start..end)
//!             .map(|i| Record::new("counter", i.to_string(), chrono::DateTime::UNIX_EPOCH,
//!                 Entity::Contact(Contact::default())))
//!             .collect();
//!         Ok(ReadBatch { records, rejects: vec![], next_cursor: Some(end.to_string()), done: end == self.count })
//!     }
//! }
//!
//! // In a cdylib crate: cutover_sdk::export_plugin!(Counter);
//! # let _ = cutover_sdk::root_module::<Counter>;
//! ```
#![warn(missing_docs)]

mod adapter;
mod config;
mod context;
mod describe;
mod guard;
mod logging;
mod streams;

pub use adapter::{reject_invalid, root_module};
pub use config::parse_config;
pub use context::Context;
pub use cutover_contract::metadata::{
    CheckItem, CheckReport, Direction, Inventory, PluginKind, PluginMetadata, RateLimitProfile, StreamCount, StreamInfo,
};
pub use cutover_contract::stream::Batch;
pub use cutover_contract::wire::{ReadBatch, RejectReason, SourceReject, WriteOutcome, WriteResult};
pub use cutover_contract::{ErrorCode, PluginError};
pub use cutover_schema as schema;
pub use describe::Description;
pub use streams::{ChildStream, Stream, Streams, write_each};

use cutover_schema::Record;

/// Everything a plugin file usually needs, in one import.
pub mod prelude {
    pub use crate::{
        Batch, CheckItem, CheckReport, ChildStream, Context, Description, Destination, Direction, ErrorCode, Inventory,
        Plugin, PluginError, PluginKind, ReadBatch, RejectReason, Source, SourceReject, Stream, StreamCount, Streams,
        WriteOutcome, WriteResult, write_each,
    };
    pub use cutover_schema::{CompactString, Contact, CustomValue, Entity, EntityKind, Record};
}

/// A connector to one platform. One value of this type is one opened
/// instance: the host opens it with the operator's config, calls it from one
/// thread at a time, and closes it.
pub trait Plugin: Send + Sized + 'static {
    /// The plugin's config, as the operator writes it in `cutover.toml`. Its
    /// JSON Schema is published in the plugin's metadata; doc comments on the
    /// fields become the schema's descriptions. Use
    /// `#[serde(deny_unknown_fields)]` so typos are refused.
    type Config: serde::de::DeserializeOwned + schemars::JsonSchema;

    /// Name, version, kind and the streams implemented by hand (in
    /// [`Plugin::source`] and [`Plugin::destination`]). Called without an
    /// instance, so it must not do I/O.
    fn describe() -> Description;

    /// The streams written as units ([`Stream`], [`ChildStream`]): the SDK
    /// declares them in the metadata after those of [`Plugin::describe`],
    /// dispatches reads and writes to them by name, keeps their cursors and
    /// counts them in `discover`. Called once per opened instance and for
    /// the metadata, so it must not do I/O. The default registers none.
    fn streams() -> Streams<Self> {
        Streams::new()
    }

    /// Opens an instance. Refuse a config that cannot work here, with an error
    /// that names the field and what was expected.
    fn open(config: Self::Config, context: &Context) -> Result<Self, PluginError>;

    /// Proves the instance can do its job (credentials, permissions, paths)
    /// without changing anything. The default says only that the config was
    /// accepted.
    fn check(&mut self) -> Result<CheckReport, PluginError> {
        Ok(CheckReport { checks: vec![CheckItem { name: "config accepted".into(), ok: true, detail: None }] })
    }

    /// Counts what the platform holds, per stream. The SDK adds the count of
    /// every registered stream ([`Stream::count`]) this does not list.
    fn discover(&mut self) -> Result<Inventory, PluginError> {
        Ok(Inventory::default())
    }

    /// This instance as a source, if the plugin reads any stream.
    fn source(&mut self) -> Option<&mut dyn Source> {
        None
    }

    /// This instance as a destination, if the plugin writes any stream.
    fn destination(&mut self) -> Option<&mut dyn Destination> {
        None
    }

    /// Flushes anything buffered. Called once, before the instance is dropped.
    fn close(&mut self) -> Result<(), PluginError> {
        Ok(())
    }
}

/// Reads a stream in batches from an opaque cursor.
pub trait Source {
    /// Reads up to `max_records` records of `stream` after `cursor` (`None`:
    /// from the start). The returned `next_cursor` must resume exactly after
    /// the last item returned, so that a read resumed from any cursor gives
    /// the same records as an uninterrupted one: no gap, no duplicate. Items
    /// that cannot be made into records go in `rejects`, never dropped.
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: usize) -> Result<ReadBatch, PluginError>;
}

/// Writes batches of records and says what happened to each.
pub trait Destination {
    /// Writes `records` to `stream` and returns one outcome per record, in the
    /// same order. Writes must be upserts on a natural or external key: the
    /// same batch written twice creates nothing twice, also from another
    /// instance (a new process after a crash), so find what the platform
    /// holds rather than remembering what this instance wrote, and answer
    /// each record with the same target id every time. A record the platform
    /// refuses is a `Rejected` outcome, not an error; return an error only
    /// when the whole batch failed. An outcome other than `Rejected` means
    /// the record is stored: readable from another instance once `write`
    /// returns, without waiting for `close`.
    ///
    /// The target id is the record's id on the platform, and a stream that is
    /// also read must give the record back under it: the record read has
    /// the target id as its `source_id` (a platform's own id: Mailchimp's
    /// audience id or `<audience id>:<subscriber hash>`, Klaviyo's list or
    /// profile id, `<list id>:<profile id>` or an event's `unique_id`,
    /// Mailman's `<list>@<domain>/<role>/<address>`), or `"{source_platform}:{source_id}"`
    /// equal to it (a file or archive that keeps the record's own key, as
    /// jsonl, csv and sqlite-archive answer `<source platform>:<source id>`).
    /// `cutover-conformance` writes, then reads back through a new instance
    /// and matches records by this rule.
    fn write(&mut self, stream: &str, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError>;
}

/// Turns a [`Plugin`] into a loadable plugin library by exporting its root
/// module. Use it once, in a crate built as a `cdylib`.
///
/// The plugin crate does not depend on abi_stable: the export is written out
/// here against the SDK's re-exports.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        // The symbol name abi_stable 0.11 looks up in every library; a unit
        // test in cutover-sdk checks it against abi_stable's own constant.
        #[doc(hidden)]
        #[unsafe(export_name = "_1as_0lib_1header_0root_bmodule_bloader")]
        pub static CUTOVER_PLUGIN_ROOT_MODULE: $crate::__private::LibHeader = {
            extern "C" fn erased_root_module() -> $crate::__private::RootModuleResult {
                $crate::__private::call_root_module_loader($crate::root_module::<$plugin>)
            }
            // SAFETY: the constructor returns the module built for
            // `PluginModRef`, the type named here.
            unsafe {
                $crate::__private::LibHeader::from_constructor::<$crate::__private::PluginModRef>(
                    erased_root_module,
                    $crate::__private::CheckTypeLayout::Yes,
                )
            }
        };
    };
}

/// Every plugin library has its own allocator (a cdylib carries its own copy
/// of std), and the host's staging decodes a batch on its reader thread while
/// the plugin frees those records on the writer thread. glibc's allocator
/// serialises such cross-thread frees on arena locks; mimalloc does not. With
/// glibc the generator → jsonl boundary bench ran at 0.81-0.83 of the linked
/// speed, with mimalloc at 0.98-1.04. The SDK sets it so that no plugin has to;
/// turn off the `mimalloc` feature to choose another allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static PLUGIN_ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[doc(hidden)]
pub mod __private {
    pub use abi_stable::library::{
        __call_root_module_loader as call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult,
    };
    pub use cutover_abi::ffi::PluginModRef;
}

#[cfg(test)]
mod tests {
    #[test]
    fn export_macro_uses_the_symbol_abi_stable_looks_up() {
        assert_eq!(abi_stable::library::ROOT_MODULE_LOADER_NAME, "_1as_0lib_1header_0root_bmodule_bloader");
    }
}
