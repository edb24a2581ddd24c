//! The root module every plugin library exports, declared with abi_stable as a
//! prefix type so that trailing functions can be added without breaking old
//! plugins, and its FFI-safe error.
//!
//! Every function is blocking and `extern "C"`. A plugin instance is named by
//! an opaque `u64` handle that the plugin hands out in `open`: no pointer ever
//! crosses, so a confused host cannot corrupt plugin memory through a handle.

use crate::{ErrorCode, PluginError};
use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    sabi_types::VersionStrings,
    std_types::{ROption, RResult, RSlice, RStr, RString, RVec},
};

/// An opened plugin instance, as handed out by [`PluginMod::open`].
pub type Handle = u64;

/// The functions a plugin exports. Plugin authors never write this by hand:
/// `cutover_sdk::export_plugin!` fills it in from their safe traits.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    /// Metadata as JSON (`metadata::PluginMetadata`).
    pub describe: extern "C" fn() -> RResult<RString, FfiError>,
    /// Opens an instance with the plugin's config (JSON) and the host's
    /// context (JSON `metadata::OpenContext`).
    pub open: extern "C" fn(config_json: RStr<'_>, context_json: RStr<'_>) -> RResult<Handle, FfiError>,
    /// Proves the config works (credentials, permissions); JSON `metadata::CheckReport`.
    pub check: extern "C" fn(handle: Handle) -> RResult<RString, FfiError>,
    /// Counts what the platform holds; JSON `metadata::Inventory`.
    pub discover: extern "C" fn(handle: Handle) -> RResult<RString, FfiError>,
    /// Reads up to `max_records` of `stream` after `cursor` (none: from the
    /// start); a [`crate::wire::ReadBatch`] encoded by [`crate::wire`].
    pub read: extern "C" fn(
        handle: Handle,
        stream: RStr<'_>,
        cursor: ROption<RStr<'_>>,
        max_records: u32,
    ) -> RResult<RVec<u8>, FfiError>,
    /// Writes a batch of records encoded by [`crate::wire`]; returns one
    /// [`crate::wire::WriteOutcome`] per record, in order, encoded the same way.
    pub write: extern "C" fn(handle: Handle, stream: RStr<'_>, batch: RSlice<'_, u8>) -> RResult<RVec<u8>, FfiError>,
    /// Decodes a batch for a later [`PluginMod::write_staged`] and returns its
    /// token. It takes no lock on the instance, so a host can stage the next
    /// batch on another thread while the current one is written: decoding
    /// then costs no time on the writing thread.
    pub stage: extern "C" fn(handle: Handle, batch: RSlice<'_, u8>) -> RResult<u64, FfiError>,
    /// Writes a staged batch, as [`PluginMod::write`] would. Closing the
    /// handle drops what it staged and did not write.
    pub write_staged: extern "C" fn(handle: Handle, stream: RStr<'_>, token: u64) -> RResult<RVec<u8>, FfiError>,
    /// Flushes and releases an instance. The handle is invalid afterwards.
    #[sabi(last_prefix_field)]
    pub close: extern "C" fn(handle: Handle) -> RResult<(), FfiError>,
}

/// The version string abi_stable compares at load: the major is
/// [`crate::ABI_VERSION`]. Pinned here rather than taken from the crate version
/// (`package_version_strings!`) so that a crate release never changes the ABI;
/// a unit test keeps the two in step.
const ABI_VERSION_STRINGS: VersionStrings = VersionStrings::new("1.0.0");

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "cutover_plugin";
    const NAME: &'static str = "cutover plugin";
    const VERSION_STRINGS: VersionStrings = ABI_VERSION_STRINGS;
}

/// A [`PluginError`] in FFI-safe form.
#[repr(C)]
#[derive(StableAbi, Debug, Clone)]
pub struct FfiError {
    /// [`ErrorCode`] by its stable name.
    pub code: RString,
    /// What failed and why.
    pub message: RString,
    /// The stream concerned.
    pub stream: ROption<RString>,
    /// The record (source id) concerned.
    pub record_id: ROption<RString>,
    /// What the user can do.
    pub help: ROption<RString>,
}

impl From<PluginError> for FfiError {
    fn from(error: PluginError) -> FfiError {
        FfiError {
            code: error.code.as_str().into(),
            message: error.message.into(),
            stream: error.stream.map(RString::from).into(),
            record_id: error.record_id.map(RString::from).into(),
            help: error.help.map(RString::from).into(),
        }
    }
}

impl From<FfiError> for PluginError {
    fn from(error: FfiError) -> PluginError {
        PluginError {
            code: ErrorCode::parse(error.code.as_str()),
            message: error.message.into_string(),
            stream: error.stream.into_option().map(RString::into_string),
            record_id: error.record_id.into_option().map(RString::into_string),
            help: error.help.into_option().map(RString::into_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ABI_VERSION;

    #[test]
    fn version_strings_follow_abi_version() {
        let parsed = abi_stable::sabi_types::VersionNumber::new(ABI_VERSION_STRINGS).unwrap();
        assert_eq!(parsed.major, ABI_VERSION);
    }

    #[test]
    fn errors_cross_without_losing_context() {
        let error = PluginError::new(ErrorCode::Other("quota".into()), "daily quota spent")
            .in_stream("contacts")
            .for_record("c-7")
            .with_help("wait until midnight UTC");
        let back = PluginError::from(FfiError::from(error.clone()));
        assert_eq!(back, error);
    }
}
