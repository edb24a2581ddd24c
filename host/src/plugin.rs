//! A plugin library once loaded, and its opened instances.
//!
//! Loading goes: libloading opens the file; the abi_stable root-module symbol
//! is looked up; abi_stable checks its own version, then the plugin ABI
//! version and the layout of the root module; the plugin describes itself;
//! the host checks the canonical-schema version. Each refusal is one
//! [`LoadError`] that says what to do. Libraries are never unloaded: unloading
//! Rust libraries with thread-locals is unsound.

use abi_stable::library::{AbiHeaderRef, LibraryError, ROOT_MODULE_LOADER_NAME_WITH_NUL};
use cutover_abi::ABI_VERSION;
use cutover_abi::client::PluginClient;
use cutover_abi::ffi::{Handle, PluginModRef};
use cutover_contract::metadata::{LogSettings, OpenContext, PluginMetadata};
use cutover_contract::wire::{EncodedRecords, SourceReject, WireError, WriteOutcome};
use cutover_contract::{ErrorCode, PluginError};
use cutover_schema::{Record, SCHEMA_VERSION};
use std::path::{Path, PathBuf};

/// How opened plugins log: set once by the binary from `--log` and
/// `--log-format`; plugins stay quiet when it is not set.
static PLUGIN_LOG: std::sync::OnceLock<LogSettings> = std::sync::OnceLock::new();

/// Makes every plugin opened from now on log with `filter`, as text or JSON.
pub fn log_plugins_like_the_host(filter: &str, json: bool) {
    let _ = PLUGIN_LOG.set(LogSettings { filter: filter.to_owned(), json, redact: Vec::new() });
}

/// Why a file in a plugin folder was not loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file is not a dynamic library this system can load.
    #[error("not a loadable library ({reason})")]
    NotALibrary {
        /// What the system loader said.
        reason: String,
    },
    /// A library, but it exports no cutover root module.
    #[error("a library, but not a cutover plugin (it exports no plugin root module)")]
    NotAPlugin,
    /// Built with an abi_stable this host cannot talk to.
    #[error("built with an incompatible abi_stable ({detail})")]
    AbiStable {
        /// abi_stable's account.
        detail: String,
    },
    /// Built for another plugin ABI.
    #[error("built for plugin ABI {plugin}, this cutover speaks ABI {host}")]
    AbiVersion {
        /// The plugin's ABI major.
        plugin: u64,
        /// The host's.
        host: u32,
    },
    /// Same ABI version, different layout: the plugin was built from a
    /// modified boundary crate.
    #[error("its plugin interface layout differs from this cutover's ({detail})")]
    Layout {
        /// abi_stable's account.
        detail: String,
    },
    /// The plugin panicked or failed while describing itself.
    #[error("it failed while describing itself: {0}")]
    Describe(PluginError),
    /// The plugin speaks another major of the canonical schema.
    #[error("it speaks canonical schema {plugin}, this cutover speaks {host}")]
    Schema {
        /// The plugin's schema version.
        plugin: String,
        /// The host's.
        host: String,
    },
}

impl LoadError {
    /// What the operator can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            LoadError::NotALibrary { .. } | LoadError::NotAPlugin => {
                "remove the file from the plugin folder, or replace it with a built cutover plugin"
            }
            LoadError::AbiStable { .. }
            | LoadError::AbiVersion { .. }
            | LoadError::Layout { .. }
            | LoadError::Schema { .. } => {
                "rebuild the plugin against this cutover's SDK (cargo xtask plugins), or use the cutover it was built for"
            }
            LoadError::Describe(_) => {
                "this is a bug in the plugin: report it to the plugin's author, or remove the file"
            }
        }
    }
}

/// A loaded plugin library: its metadata and a way to open instances.
#[derive(Clone)]
pub struct LoadedPlugin {
    /// What the plugin declared.
    pub metadata: PluginMetadata,
    /// Where it was loaded from (empty for a plugin linked in-process).
    pub path: PathBuf,
    client: PluginClient,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin").field("name", &self.metadata.name).field("path", &self.path).finish()
    }
}

impl LoadedPlugin {
    /// Loads the plugin library at `path`.
    pub fn load(path: &Path) -> Result<LoadedPlugin, LoadError> {
        // SAFETY: loading a library runs its initialisers. That is the point
        // of a plugin folder: the operator chose to trust these files.
        let library = unsafe { libloading::Library::new(path) }
            .map_err(|error| LoadError::NotALibrary { reason: error_chain(&error) })?;
        // SAFETY: the symbol, when present, is the `LibHeader` static that
        // abi_stable's export writes; its first field is the `AbiHeader` that
        // `AbiHeaderRef` points at, and `upgrade` validates it before use.
        let header: AbiHeaderRef = unsafe {
            *library
                .get::<AbiHeaderRef>(ROOT_MODULE_LOADER_NAME_WITH_NUL.as_bytes())
                .map_err(|_| LoadError::NotAPlugin)?
        };
        let header = header.upgrade().map_err(|error| LoadError::AbiStable { detail: one_line(&error) })?;
        let module = header.init_root_module::<PluginModRef>().map_err(|error| match error {
            LibraryError::IncompatibleVersionNumber { actual_version, .. } => {
                LoadError::AbiVersion { plugin: u64::from(actual_version.major), host: ABI_VERSION }
            }
            LibraryError::AbiInstability(_) => LoadError::Layout { detail: one_line(&error) },
            other => LoadError::AbiStable { detail: one_line(&other) },
        })?;
        // Never unloaded: see the module docs.
        std::mem::forget(library);
        LoadedPlugin::from_module(module, path.to_owned())
    }

    /// A plugin from a root module already in this process (linked in).
    pub fn from_module(module: PluginModRef, path: PathBuf) -> Result<LoadedPlugin, LoadError> {
        let client = PluginClient::new(module);
        let metadata = client.describe().map_err(LoadError::Describe)?;
        if !SCHEMA_VERSION.can_exchange_with(metadata.schema_version) {
            return Err(LoadError::Schema {
                plugin: metadata.schema_version.to_string(),
                host: SCHEMA_VERSION.to_string(),
            });
        }
        Ok(LoadedPlugin { metadata, path, client })
    }

    /// Opens an instance with `config`; relative paths in it are anchored at
    /// `base_dir`. A plugin that logs is told the values of the fields its
    /// config schema marks secret, so its own log lines show them redacted.
    pub fn open(&self, config: &serde_json::Value, base_dir: &Path) -> Result<PluginInstance, PluginError> {
        let log = PLUGIN_LOG.get().map(|log| LogSettings {
            redact: crate::secrets::secret_values(&self.metadata.config_schema, config),
            ..log.clone()
        });
        let context = OpenContext { base_dir: base_dir.to_string_lossy().into_owned(), log };
        let handle = self.client.open(&config.to_string(), &context)?;
        Ok(PluginInstance { client: self.client, handle, plugin: self.metadata.name.clone(), closed: false })
    }
}

/// An error and its causes on one line (libloading's own message is only
/// "dlopen failed"; the system loader's reason is its source).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(inner.to_string().trim());
        cause = inner.source();
    }
    text
}

fn one_line(error: &LibraryError) -> String {
    error.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An opened plugin instance. Closed on drop if not closed explicitly.
pub struct PluginInstance {
    client: PluginClient,
    handle: Handle,
    plugin: String,
    closed: bool,
}

impl PluginInstance {
    /// Proves the instance can work.
    pub fn check(&self) -> Result<cutover_contract::metadata::CheckReport, PluginError> {
        self.client.check(self.handle)
    }

    /// What the platform holds, per stream.
    pub fn discover(&self) -> Result<cutover_contract::metadata::Inventory, PluginError> {
        self.client.discover(self.handle)
    }

    /// Flushes and releases the instance.
    pub fn close(mut self) -> Result<(), PluginError> {
        self.closed = true;
        self.client.close(self.handle)
    }
}

impl Drop for PluginInstance {
    fn drop(&mut self) {
        if !self.closed {
            let _ = self.client.close(self.handle);
        }
    }
}

/// The records of a batch, in whichever form they arrived: decoded (plugin
/// code linked in) or still encoded (a loaded plugin). The engine decodes only
/// when it must look inside; a batch it passes on unchanged crosses to the
/// destination as the source's own bytes.
#[derive(Debug)]
pub enum RecordBatch {
    /// Records as values.
    Decoded(Vec<Record>),
    /// Records as a wire payload.
    Encoded(EncodedRecords),
}

impl RecordBatch {
    /// How many records.
    pub fn len(&self) -> usize {
        match self {
            RecordBatch::Decoded(records) => records.len(),
            RecordBatch::Encoded(records) => records.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The records as values, decoding if needed.
    pub fn into_decoded(self) -> Result<Vec<Record>, WireError> {
        match self {
            RecordBatch::Decoded(records) => Ok(records),
            RecordBatch::Encoded(records) => records.decode(),
        }
    }

    /// The records as a wire payload, encoding if needed.
    pub fn into_encoded(self) -> Result<EncodedRecords, WireError> {
        match self {
            RecordBatch::Decoded(records) => EncodedRecords::encode(&records),
            RecordBatch::Encoded(records) => Ok(records),
        }
    }
}

/// One read: the records, the items the source could not read, and where the
/// next read starts.
#[derive(Debug)]
pub struct SourceBatch {
    /// The records read.
    pub records: RecordBatch,
    /// Items the source could not turn into records.
    pub rejects: Vec<SourceReject>,
    /// The cursor after this batch.
    pub next_cursor: Option<String>,
    /// Whether nothing follows.
    pub done: bool,
}

/// Reads batches of a stream: a plugin instance, or plugin code linked in.
pub trait BatchSource: Send {
    /// Reads up to `max_records` after `cursor`.
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: u32) -> Result<SourceBatch, PluginError>;
}

/// Writes batches of a stream: a plugin instance, or plugin code linked in.
///
/// Writing is split in two so that it pipelines: a [`BatchStager`], used on
/// the reader's thread, turns records into what the destination needs (for a
/// plugin: decodes them in the plugin), and `write`, on the writer's thread,
/// writes staged batches.
pub trait BatchDestination: Send {
    /// A stager for this destination, to use from another thread.
    fn stager(&self) -> Box<dyn BatchStager>;
    /// Writes a staged batch, returning one outcome per record in order.
    fn write(&mut self, stream: &str, batch: StagedBatch) -> Result<Vec<WriteOutcome>, PluginError>;
}

/// Prepares batches for a destination while it writes earlier ones.
pub trait BatchStager: Send {
    /// Stages `records` for a later write.
    fn stage(&self, stream: &str, records: RecordBatch) -> Result<StagedBatch, PluginError>;
}

/// A batch ready for its destination's `write`.
#[derive(Debug)]
pub enum StagedBatch {
    /// Decoded inside a plugin, named by its token.
    InPlugin {
        /// The plugin's token for it.
        token: u64,
        /// How many records.
        count: usize,
    },
    /// Records as values, for plugin code linked in.
    Records(Vec<Record>),
}

impl StagedBatch {
    /// How many records.
    pub fn len(&self) -> usize {
        match self {
            StagedBatch::InPlugin { count, .. } => *count,
            StagedBatch::Records(records) => records.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A wire error while handling a batch of `stream`, as a plugin error.
pub fn wire_error(stream: &str, error: &WireError) -> PluginError {
    PluginError::new(ErrorCode::Encoding, format!("cannot handle the batch: {error}")).in_stream(stream)
}

impl BatchSource for PluginInstance {
    fn read(&mut self, stream: &str, cursor: Option<&str>, max_records: u32) -> Result<SourceBatch, PluginError> {
        let (header, records) = self.client.read_encoded(self.handle, stream, cursor, max_records)?;
        Ok(SourceBatch {
            records: RecordBatch::Encoded(records),
            rejects: header.rejects,
            next_cursor: header.next_cursor,
            done: header.done,
        })
    }
}

struct PluginStager {
    client: PluginClient,
    handle: Handle,
}

impl BatchStager for PluginStager {
    fn stage(&self, stream: &str, records: RecordBatch) -> Result<StagedBatch, PluginError> {
        let records = records.into_encoded().map_err(|error| wire_error(stream, &error))?;
        let token = self.client.stage(self.handle, records.payload()).map_err(|error| error.in_stream(stream))?;
        Ok(StagedBatch::InPlugin { token, count: records.len() })
    }
}

impl BatchDestination for PluginInstance {
    fn stager(&self) -> Box<dyn BatchStager> {
        Box::new(PluginStager { client: self.client, handle: self.handle })
    }

    fn write(&mut self, stream: &str, batch: StagedBatch) -> Result<Vec<WriteOutcome>, PluginError> {
        let sent = batch.len();
        let outcomes = match batch {
            StagedBatch::InPlugin { token, .. } => self.client.write_staged(self.handle, stream, token)?,
            StagedBatch::Records(records) => self.client.write(self.handle, stream, &records)?,
        };
        if outcomes.len() != sent {
            return Err(PluginError::new(
                ErrorCode::Internal,
                format!("plugin `{}` returned {} outcomes for {sent} records", self.plugin, outcomes.len()),
            )
            .in_stream(stream));
        }
        Ok(outcomes)
    }
}
