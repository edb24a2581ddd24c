//! Safe calls into a plugin's root module: the host side of the boundary,
//! shared by the host and the conformance kit. Every answer is decoded here,
//! and every failure (including a payload that does not decode) comes back as
//! a [`PluginError`].

use crate::ffi::{FfiError, Handle, PluginModRef};
use crate::metadata::{OpenContext, PluginMetadata};
use crate::wire::{self, EncodedRecords, ReadBatch, ReadHeader, WriteOutcome};
use crate::{ErrorCode, PluginError};
use abi_stable::std_types::{ROption, RResult, RSlice, RStr, RVec};
use cutover_schema::Record;

/// A root module, called safely.
#[derive(Clone, Copy)]
pub struct PluginClient {
    module: PluginModRef,
}

fn into_result<T>(result: RResult<T, FfiError>) -> Result<T, PluginError> {
    result.into_result().map_err(PluginError::from)
}

fn decoding_error(what: &str, error: impl std::fmt::Display) -> PluginError {
    PluginError::new(ErrorCode::Encoding, format!("cannot decode {what}: {error}"))
}

impl PluginClient {
    /// A client for a module obtained from a loaded library or linked in.
    pub fn new(module: PluginModRef) -> PluginClient {
        PluginClient { module }
    }

    /// The plugin's metadata.
    pub fn describe(&self) -> Result<PluginMetadata, PluginError> {
        let json = into_result((self.module.describe())())?;
        serde_json::from_str(json.as_str()).map_err(|error| decoding_error("metadata", error))
    }

    /// Opens an instance with a JSON config.
    pub fn open(&self, config: &str, context: &OpenContext) -> Result<Handle, PluginError> {
        let context = serde_json::to_string(context).map_err(|error| decoding_error("context", error))?;
        into_result((self.module.open())(RStr::from(config), RStr::from(context.as_str())))
    }

    /// Reads a batch.
    pub fn read(&self, handle: Handle, stream: &str, cursor: Option<&str>, max: u32) -> Result<ReadBatch, PluginError> {
        let payload = self.read_payload(handle, stream, cursor, max)?;
        wire::decode_read_batch(&payload).map_err(|error| decoding_error("read batch", error).in_stream(stream))
    }

    /// Reads a batch, leaving its records encoded (to hand them on as they are).
    pub fn read_encoded(
        &self,
        handle: Handle,
        stream: &str,
        cursor: Option<&str>,
        max: u32,
    ) -> Result<(ReadHeader, EncodedRecords), PluginError> {
        let payload = self.read_payload(handle, stream, cursor, max)?;
        wire::decode_read(&payload).map_err(|error| decoding_error("read batch", error).in_stream(stream))
    }

    fn read_payload(
        &self,
        handle: Handle,
        stream: &str,
        cursor: Option<&str>,
        max: u32,
    ) -> Result<RVec<u8>, PluginError> {
        let cursor: ROption<RStr<'_>> = cursor.map(RStr::from).into();
        into_result((self.module.read())(handle, RStr::from(stream), cursor, max))
    }

    /// Writes a batch of records.
    pub fn write(&self, handle: Handle, stream: &str, records: &[Record]) -> Result<Vec<WriteOutcome>, PluginError> {
        let payload = wire::encode(records).map_err(|error| decoding_error("records", error))?;
        self.write_raw(handle, stream, &payload)
    }

    /// Writes an already encoded batch (the conformance kit sends garbage).
    pub fn write_raw(&self, handle: Handle, stream: &str, payload: &[u8]) -> Result<Vec<WriteOutcome>, PluginError> {
        let answer = into_result((self.module.write())(handle, RStr::from(stream), RSlice::from(payload)))?;
        wire::decode(&answer).map_err(|error| decoding_error("write outcomes", error))
    }

    /// Decodes a batch in the plugin for a later [`PluginClient::write_staged`].
    pub fn stage(&self, handle: Handle, payload: &[u8]) -> Result<u64, PluginError> {
        into_result((self.module.stage())(handle, RSlice::from(payload)))
    }

    /// Writes a staged batch.
    pub fn write_staged(&self, handle: Handle, stream: &str, token: u64) -> Result<Vec<WriteOutcome>, PluginError> {
        let answer = into_result((self.module.write_staged())(handle, RStr::from(stream), token))?;
        wire::decode(&answer).map_err(|error| decoding_error("write outcomes", error))
    }

    /// Checks that the instance can work.
    pub fn check(&self, handle: Handle) -> Result<crate::metadata::CheckReport, PluginError> {
        let json = into_result((self.module.check())(handle))?;
        serde_json::from_str(json.as_str()).map_err(|error| decoding_error("check report", error))
    }

    /// Counts what the platform holds.
    pub fn discover(&self, handle: Handle) -> Result<crate::metadata::Inventory, PluginError> {
        let json = into_result((self.module.discover())(handle))?;
        serde_json::from_str(json.as_str()).map_err(|error| decoding_error("inventory", error))
    }

    /// Closes an instance.
    pub fn close(&self, handle: Handle) -> Result<(), PluginError> {
        into_result((self.module.close())(handle))
    }
}
