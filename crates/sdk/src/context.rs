//! What the host tells a plugin at open, and the plugin's own async runtime.

use crate::{ErrorCode, PluginError};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Handed to [`crate::Plugin::open`]: where relative paths are anchored, and
/// the way into the plugin's async runtime.
#[derive(Debug, Clone)]
pub struct Context {
    base_dir: PathBuf,
}

impl Context {
    /// A context anchored at `base_dir`. The SDK makes one for every `open`;
    /// tests and benchmarks that link a plugin in-process make their own.
    pub fn new(base_dir: PathBuf) -> Context {
        Context { base_dir }
    }

    /// The folder relative paths in the config are relative to (the folder of
    /// the operator's `cutover.toml`).
    pub fn base_dir(&self) -> &Path {
        &self.base_dir
    }

    /// `path` anchored at [`Context::base_dir`] unless it is absolute.
    pub fn resolve(&self, path: impl AsRef<Path>) -> PathBuf {
        self.base_dir.join(path)
    }

    /// Runs a future to completion on the plugin's own tokio runtime.
    ///
    /// The boundary is blocking and each plugin library has its own copy of
    /// tokio (thread-locals do not cross a dylib boundary), so the runtime
    /// lives here, on the plugin's side, created on first use and shared by
    /// every instance of the plugin.
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output, PluginError> {
        block_on(future)
    }
}

/// Runs a future on the plugin's runtime; what [`Context::block_on`] and
/// the stream layer use.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output, PluginError> {
    Ok(runtime()?.block_on(future))
}

fn runtime() -> Result<&'static tokio::runtime::Runtime, PluginError> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("cutover-plugin")
        .enable_all()
        .build()
        .map_err(|error| {
            PluginError::new(ErrorCode::Internal, format!("cannot start the plugin's async runtime: {error}"))
        })?;
    Ok(RUNTIME.get_or_init(|| runtime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_anchored_and_absolute_ones_kept() {
        let context = Context::new(PathBuf::from("/migrations/acme"));
        assert_eq!(context.resolve("out/x.jsonl"), PathBuf::from("/migrations/acme/out/x.jsonl"));
        assert_eq!(context.resolve("/data/x.jsonl"), PathBuf::from("/data/x.jsonl"));
    }

    #[test]
    fn futures_run_on_the_plugin_runtime() {
        let context = Context::new(PathBuf::new());
        let answer = context.block_on(async { tokio::task::spawn(async { 6 * 7 }).await }).unwrap().unwrap();
        assert_eq!(answer, 42);
    }
}
