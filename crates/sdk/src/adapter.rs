//! The bridge from the safe traits to the root module: one generic `extern "C"`
//! function per boundary call, each decoding its input, checking the stream,
//! calling the plugin inside the panic guard and encoding the answer.
//!
//! Instances live in a registry keyed by opaque handles, so no pointer ever
//! crosses the boundary. Each instance has its own lock: a source instance and
//! a destination instance of the same plugin run in parallel.

use crate::describe::{metadata_of, streams_of};
use crate::guard::guarded;
use crate::{Context, ErrorCode, Plugin, PluginError, StreamCount, Streams, config::parse_config};
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::std_types::{ROption, RResult, RSlice, RStr, RString, RVec};
use cutover_abi::ffi::{FfiError, Handle, PluginMod, PluginModRef};
use cutover_contract::metadata::{Direction, OpenContext, StreamInfo, stream_list};
use cutover_contract::wire::{self, ReadBatch, RejectReason, SourceReject};
use cutover_schema::Record;
use std::any::Any;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The root module for plugin `P`: what [`crate::export_plugin!`] exports, and
/// what `cutover-conformance` and in-process benchmarks call directly to go
/// through exactly the code a loaded plugin runs.
pub fn root_module<P: Plugin>() -> PluginModRef {
    PluginMod {
        describe: describe::<P>,
        open: open::<P>,
        check: check::<P>,
        discover: discover::<P>,
        read: read::<P>,
        write: write::<P>,
        stage: stage::<P>,
        write_staged: write_staged::<P>,
        close: close::<P>,
    }
    .leak_into_prefix()
}

type Instance = Arc<Mutex<Box<dyn Any + Send>>>;

fn registry() -> MutexGuard<'static, HashMap<Handle, Instance>> {
    static INSTANCES: OnceLock<Mutex<HashMap<Handle, Instance>>> = OnceLock::new();
    // The registry lock is held only to insert, look up or remove an entry,
    // never while plugin code runs, so it cannot be poisoned by a plugin panic.
    INSTANCES.get_or_init(Mutex::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What the registry keeps per open instance: the plugin and, computed once at
/// open, what every call needs for its checks and messages.
struct Opened<P: 'static> {
    plugin: P,
    name: String,
    streams: Vec<StreamInfo>,
    /// The streams written as units, with their per-instance state.
    registry: Streams<P>,
    /// Set when a call panicked: the plugin's state may be half-changed, so
    /// every later call is refused.
    panicked: bool,
}

fn plugin_name<P: Plugin>() -> String {
    // `describe` is the plugin's own code and may panic; the name is only for
    // messages, so fall back rather than fail.
    std::panic::catch_unwind(|| P::describe().name().to_owned()).unwrap_or_else(|_| "unnamed".into())
}

fn finish<T>(result: Result<T, PluginError>) -> RResult<T, FfiError> {
    result.map_err(FfiError::from).into()
}

/// Runs `call` on the instance behind `handle`, with its lock held, inside the
/// panic guard.
fn with_instance<P: Plugin, T>(
    handle: Handle,
    operation: &str,
    call: impl FnOnce(&mut Opened<P>) -> Result<T, PluginError>,
) -> Result<T, PluginError> {
    let instance = registry().get(&handle).cloned().ok_or_else(|| {
        PluginError::new(
            ErrorCode::UnknownHandle,
            format!("{operation} on plugin `{}`: handle {handle} is not open", plugin_name::<P>()),
        )
    })?;
    // The lock is never poisoned: panics are caught inside it, below.
    let mut guard = instance.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let opened = guard.downcast_mut::<Opened<P>>().ok_or_else(|| {
        PluginError::new(
            ErrorCode::UnknownHandle,
            format!("{operation} on plugin `{}`: handle {handle} belongs to another plugin", plugin_name::<P>()),
        )
    })?;
    if opened.panicked {
        return Err(PluginError::new(
            ErrorCode::Panic,
            format!("{operation} on plugin `{}`: the instance panicked earlier and cannot be used", opened.name),
        )
        .with_help("open a new instance (run the migration again)"));
    }
    let name = opened.name.clone();
    let result = guarded(&name, operation, || call(opened));
    if result.as_ref().is_err_and(|error| error.code == ErrorCode::Panic) {
        opened.panicked = true;
    }
    result
}

impl<P: Plugin> Opened<P> {
    /// Refuses a stream the plugin does not declare in that direction.
    fn check_stream(&self, stream: &str, wanted: Direction) -> Result<(), PluginError> {
        if self.streams.iter().any(|info| info.name == stream && info.direction.offers(wanted)) {
            return Ok(());
        }
        Err(PluginError::new(
            ErrorCode::Unsupported,
            format!(
                "plugin `{}` offers no {} stream `{stream}`; it offers: {}",
                self.name,
                wanted.as_str(),
                stream_list(&self.streams)
            ),
        ))
    }

    fn missing_impl(&self, trait_name: &str) -> PluginError {
        let method = trait_name.to_lowercase();
        PluginError::new(
            ErrorCode::Internal,
            format!("plugin `{}` declares {method} streams but implements no {trait_name}: a plugin bug", self.name),
        )
        .with_help(format!("return Some(self) from Plugin::{method}()"))
    }
}

extern "C" fn describe<P: Plugin>() -> RResult<RString, FfiError> {
    finish(guarded("unknown", "describe", || {
        serde_json::to_string(&metadata_of::<P>())
            .map(RString::from)
            .map_err(|error| PluginError::new(ErrorCode::Internal, format!("cannot encode plugin metadata: {error}")))
    }))
}

extern "C" fn open<P: Plugin>(config_json: RStr<'_>, context_json: RStr<'_>) -> RResult<Handle, FfiError> {
    let name = plugin_name::<P>();
    finish(guarded(&name, "open", || {
        let context: OpenContext = serde_json::from_str(context_json.as_str()).map_err(|error| {
            PluginError::new(ErrorCode::Encoding, format!("malformed open context from the host: {error}"))
        })?;
        if let Some(log) = &context.log {
            crate::logging::init(log);
        }
        let config = parse_config::<P::Config>(&name, config_json.as_str())?;
        let plugin = P::open(config, &Context::new(PathBuf::from(context.base_dir)))?;
        let opened = Opened {
            plugin,
            name: name.clone(),
            streams: streams_of::<P>(P::describe().into_streams()),
            registry: P::streams(),
            panicked: false,
        };
        static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);
        let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
        registry().insert(handle, Arc::new(Mutex::new(Box::new(opened))));
        Ok(handle)
    }))
}

extern "C" fn check<P: Plugin>(handle: Handle) -> RResult<RString, FfiError> {
    finish(with_instance::<P, _>(handle, "check", |opened| {
        let report = opened.plugin.check()?;
        to_json(&report)
    }))
}

extern "C" fn discover<P: Plugin>(handle: Handle) -> RResult<RString, FfiError> {
    finish(with_instance::<P, _>(handle, "discover", |opened| {
        let mut inventory = opened.plugin.discover()?;
        for entry in opened.registry.entries() {
            let stream = entry.info().name;
            if !inventory.streams.iter().any(|count| count.stream == stream) {
                let records = entry.count(&mut opened.plugin).map_err(|error| error.in_stream(&stream))?;
                inventory.streams.push(StreamCount { stream, records });
            }
        }
        to_json(&inventory)
    }))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<RString, PluginError> {
    serde_json::to_string(value)
        .map(RString::from)
        .map_err(|error| PluginError::new(ErrorCode::Internal, format!("cannot encode answer: {error}")))
}

extern "C" fn read<P: Plugin>(
    handle: Handle,
    stream: RStr<'_>,
    cursor: ROption<RStr<'_>>,
    max_records: u32,
) -> RResult<RVec<u8>, FfiError> {
    let stream = stream.as_str();
    let result = with_instance::<P, _>(handle, "read", |opened| {
        opened.check_stream(stream, Direction::Source)?;
        if max_records == 0 {
            return Err(PluginError::new(ErrorCode::Unsupported, "read of 0 records: ask for at least 1"));
        }
        let cursor = cursor.into_option().map(|c| c.as_str());
        let mut batch = match opened.registry.find(stream) {
            Some(entry) => entry.read(&mut opened.plugin, &opened.name, cursor, max_records as usize)?,
            None => {
                let missing = opened.missing_impl("Source");
                opened.plugin.source().ok_or(missing)?.read(stream, cursor, max_records as usize)?
            }
        };
        reject_invalid(stream, &mut batch);
        wire::encode_read(&batch)
            .map(RVec::from)
            .map_err(|error| PluginError::new(ErrorCode::Encoding, format!("cannot encode the batch read: {error}")))
    });
    finish(result.map_err(|error| error.in_stream(stream)))
}

/// Moves the records the canonical schema refuses ([`cutover_schema::validate`])
/// to the batch's rejects. Every read through the boundary does this, so that
/// no plugin has to remember to, and the check runs where the records already
/// are: decoded, in the source. Code that calls a [`crate::Source`] directly
/// (an in-process benchmark) calls it too.
pub fn reject_invalid(stream: &str, batch: &mut ReadBatch) {
    if batch.records.iter().all(|record| cutover_schema::validate::validate(record).is_ok()) {
        return;
    }
    let records = std::mem::take(&mut batch.records);
    for record in records {
        match cutover_schema::validate::validate(&record) {
            Ok(()) => batch.records.push(record),
            Err(invalid) => batch.rejects.push(SourceReject {
                location: format!("{stream} record {}", record.source_id),
                raw: serde_json::to_string(&record).unwrap_or_else(|_| record.source_id.to_string()),
                reason: RejectReason::new(invalid.reason().as_str(), invalid.to_string()),
            }),
        }
    }
}

fn decode_records(batch: &[u8]) -> Result<Vec<Record>, PluginError> {
    wire::decode(batch)
        .map_err(|error| PluginError::new(ErrorCode::Encoding, format!("cannot decode the batch to write: {error}")))
}

impl<P: Plugin> Opened<P> {
    fn write_records(&mut self, stream: &str, records: Vec<Record>) -> Result<RVec<u8>, PluginError> {
        let sent = records.len();
        let outcomes = match self.registry.find(stream) {
            Some(entry) => entry.write(&mut self.plugin, records)?,
            None => {
                let missing = self.missing_impl("Destination");
                self.plugin.destination().ok_or(missing)?.write(stream, records)?
            }
        };
        if outcomes.len() != sent {
            return Err(PluginError::new(
                ErrorCode::Internal,
                format!("write returned {} outcomes for {sent} records: a plugin bug", outcomes.len()),
            ));
        }
        wire::encode(&outcomes).map(RVec::from).map_err(|error| {
            PluginError::new(ErrorCode::Encoding, format!("cannot encode the write outcomes: {error}"))
        })
    }
}

extern "C" fn write<P: Plugin>(handle: Handle, stream: RStr<'_>, batch: RSlice<'_, u8>) -> RResult<RVec<u8>, FfiError> {
    let stream = stream.as_str();
    let result = with_instance::<P, _>(handle, "write", |opened| {
        opened.check_stream(stream, Direction::Destination)?;
        let records = decode_records(batch.as_slice())?;
        opened.write_records(stream, records)
    });
    finish(result.map_err(|error| error.in_stream(stream)))
}

/// Batches decoded by `stage`, waiting for `write_staged`, by token.
struct StagedBatch {
    handle: Handle,
    records: Vec<Record>,
}

fn staged() -> MutexGuard<'static, HashMap<u64, StagedBatch>> {
    static STAGED: OnceLock<Mutex<HashMap<u64, StagedBatch>>> = OnceLock::new();
    // Held only to insert or remove an entry, never while plugin code runs.
    STAGED.get_or_init(Mutex::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

extern "C" fn stage<P: Plugin>(handle: Handle, batch: RSlice<'_, u8>) -> RResult<u64, FfiError> {
    // No instance lock: staging runs beside a write in progress on the same
    // instance, which is its whole point.
    finish(guarded(&plugin_name::<P>(), "stage", || {
        let records = decode_records(batch.as_slice())?;
        static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);
        let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
        staged().insert(token, StagedBatch { handle, records });
        Ok(token)
    }))
}

extern "C" fn write_staged<P: Plugin>(handle: Handle, stream: RStr<'_>, token: u64) -> RResult<RVec<u8>, FfiError> {
    let stream = stream.as_str();
    let result = with_instance::<P, _>(handle, "write", |opened| {
        opened.check_stream(stream, Direction::Destination)?;
        let batch = {
            let mut staged = staged();
            // Only the handle that staged a batch may write it.
            match staged.get(&token) {
                Some(batch) if batch.handle == handle => staged.remove(&token),
                _ => None,
            }
        }
        .ok_or_else(|| {
            PluginError::new(ErrorCode::UnknownHandle, format!("no batch staged as {token} for handle {handle}"))
        })?;
        opened.write_records(stream, batch.records)
    });
    finish(result.map_err(|error| error.in_stream(stream)))
}

extern "C" fn close<P: Plugin>(handle: Handle) -> RResult<(), FfiError> {
    let result = with_instance::<P, _>(handle, "close", |opened| opened.plugin.close());
    registry().remove(&handle);
    staged().retain(|_, batch| batch.handle != handle);
    finish(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use cutover_abi::client::PluginClient;

    /// A destination that counts what it is given.
    struct Counting;

    impl Plugin for Counting {
        type Config = ();
        fn describe() -> Description {
            Description::new("counting", "1.0.0", PluginKind::File, "counts").stream(
                "contacts",
                EntityKind::Contact,
                Direction::Destination,
            )
        }
        fn open((): (), _context: &Context) -> Result<Self, PluginError> {
            Ok(Counting)
        }
        fn destination(&mut self) -> Option<&mut dyn Destination> {
            Some(self)
        }
    }

    impl Destination for Counting {
        fn write(&mut self, _stream: &str, records: Vec<Record>) -> Result<Vec<WriteOutcome>, PluginError> {
            Ok(records
                .into_iter()
                .map(|record| WriteOutcome {
                    result: WriteResult::Created { target_id: record.source_id.clone() },
                    source_id: record.source_id,
                })
                .collect())
        }
    }

    fn records() -> Vec<Record> {
        vec![Record::new("x", "1", chrono::DateTime::UNIX_EPOCH, Entity::Contact(Contact::default()))]
    }

    fn open(client: &PluginClient) -> Handle {
        client.open("null", &OpenContext::default()).unwrap()
    }

    #[test]
    fn a_staged_batch_is_written_once_by_its_own_handle_and_dropped_at_close() {
        let client = PluginClient::new(root_module::<Counting>());
        let (mine, other) = (open(&client), open(&client));
        let payload = wire::encode(&records()).unwrap();

        let token = client.stage(mine, &payload).unwrap();
        assert_eq!(client.write_staged(other, "contacts", token).unwrap_err().code, ErrorCode::UnknownHandle);
        assert_eq!(client.write_staged(mine, "contacts", token).unwrap().len(), 1);
        assert_eq!(client.write_staged(mine, "contacts", token).unwrap_err().code, ErrorCode::UnknownHandle);

        let forgotten = client.stage(mine, &payload).unwrap();
        client.close(mine).unwrap();
        assert!(!staged().contains_key(&forgotten), "closing drops what the handle staged");
        client.close(other).unwrap();
    }

    #[test]
    fn records_the_schema_refuses_become_rejects_in_the_source() {
        let good = Record::new(
            "x",
            "1",
            chrono::DateTime::UNIX_EPOCH,
            Entity::Contact(Contact { email: Some("ada@example.org".into()), ..Contact::default() }),
        );
        let mut bad = good.clone();
        bad.source_id = "2".into();
        bad.entity = Entity::Contact(Contact { email: Some("ada.example.org".into()), ..Contact::default() });
        let mut batch = ReadBatch { records: vec![good.clone(), bad], ..ReadBatch::default() };
        reject_invalid("contacts", &mut batch);
        assert_eq!(batch.records, vec![good]);
        assert_eq!(batch.rejects.len(), 1);
        assert_eq!(batch.rejects[0].location, "contacts record 2");
        assert_eq!(batch.rejects[0].reason.code, "invalid_email");
        assert!(batch.rejects[0].raw.contains("ada.example.org"), "{}", batch.rejects[0].raw);
    }

    #[test]
    fn garbage_to_stage_is_an_encoding_error() {
        let client = PluginClient::new(root_module::<Counting>());
        let handle = open(&client);
        assert_eq!(client.stage(handle, &[1, 0xc1]).unwrap_err().code, ErrorCode::Encoding);
        client.close(handle).unwrap();
    }
}
