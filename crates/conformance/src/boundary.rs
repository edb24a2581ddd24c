//! Safe calls into a root module, decoding what comes back.

use abi_stable::std_types::{ROption, RResult, RSlice, RStr};
use cutover_abi::ffi::{Handle, PluginModRef};
use cutover_abi::metadata::{OpenContext, PluginMetadata};
use cutover_abi::wire::{self, ReadBatch, WriteOutcome};
use cutover_abi::{ErrorCode, PluginError};
use cutover_schema::Record;

pub(crate) struct Boundary {
    module: PluginModRef,
}

fn into_result<T>(result: RResult<T, cutover_abi::ffi::FfiError>) -> Result<T, PluginError> {
    result.into_result().map_err(PluginError::from)
}

fn decoding_error(what: &str, error: impl std::fmt::Display) -> PluginError {
    PluginError::new(ErrorCode::Encoding, format!("cannot decode {what}: {error}"))
}

impl Boundary {
    pub(crate) fn new(module: PluginModRef) -> Boundary {
        Boundary { module }
    }

    pub(crate) fn describe(&self) -> Result<PluginMetadata, PluginError> {
        let json = into_result((self.module.describe())())?;
        serde_json::from_str(json.as_str()).map_err(|error| decoding_error("metadata", error))
    }

    pub(crate) fn open(&self, config: &str) -> Result<Handle, PluginError> {
        let context = serde_json::to_string(&OpenContext { base_dir: ".".into() })
            .map_err(|error| decoding_error("context", error))?;
        into_result((self.module.open())(RStr::from(config), RStr::from(context.as_str())))
    }

    pub(crate) fn read(
        &self,
        handle: Handle,
        stream: &str,
        cursor: Option<&str>,
        max: u32,
    ) -> Result<ReadBatch, PluginError> {
        let cursor: ROption<RStr<'_>> = cursor.map(RStr::from).into();
        let payload = into_result((self.module.read())(handle, RStr::from(stream), cursor, max))?;
        wire::decode(&payload).map_err(|error| decoding_error("read batch", error))
    }

    pub(crate) fn write(
        &self,
        handle: Handle,
        stream: &str,
        records: &[Record],
    ) -> Result<Vec<WriteOutcome>, PluginError> {
        let payload = wire::encode(records).map_err(|error| decoding_error("records", error))?;
        self.write_raw(handle, stream, &payload)
    }

    pub(crate) fn write_raw(
        &self,
        handle: Handle,
        stream: &str,
        payload: &[u8],
    ) -> Result<Vec<WriteOutcome>, PluginError> {
        let answer = into_result((self.module.write())(handle, RStr::from(stream), RSlice::from(payload)))?;
        wire::decode(&answer).map_err(|error| decoding_error("write outcomes", error))
    }

    pub(crate) fn close(&self, handle: Handle) -> Result<(), PluginError> {
        into_result((self.module.close())(handle))
    }
}
