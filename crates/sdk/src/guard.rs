//! Panics never cross the boundary: every exported function runs inside
//! [`guarded`], which turns a panic into a `panic` error carrying the panic's
//! message and location.
//!
//! The default panic hook would print a trace to the operator's terminal for a
//! panic the host handles cleanly, so while a guarded call runs, the hook
//! captures the message instead of printing it. Outside guarded calls the
//! previous hook runs unchanged (tests that link a plugin in-process keep their
//! usual panic output). Each plugin library has its own copy of std and so its
//! own hook: this never touches the host's.

use crate::{ErrorCode, PluginError};
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static GUARD_DEPTH: Cell<u32> = const { Cell::new(0) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn install_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if GUARD_DEPTH.with(Cell::get) == 0 {
                previous(info);
                return;
            }
            let message = payload_text(info.payload());
            let described = match info.location() {
                Some(location) => format!("{message} (at {}:{})", location.file(), location.line()),
                None => message,
            };
            LAST_PANIC.with(|last| *last.borrow_mut() = Some(described));
        }));
    });
}

fn payload_text(payload: &dyn std::any::Any) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

/// Runs `operation` so that a panic becomes a [`ErrorCode::Panic`] error that
/// says which operation of which plugin panicked, and why.
pub(crate) fn guarded<T>(
    plugin: &str,
    operation: &str,
    run: impl FnOnce() -> Result<T, PluginError>,
) -> Result<T, PluginError> {
    install_hook();
    GUARD_DEPTH.with(|depth| depth.set(depth.get() + 1));
    let outcome = panic::catch_unwind(AssertUnwindSafe(run));
    GUARD_DEPTH.with(|depth| depth.set(depth.get() - 1));
    outcome.unwrap_or_else(|payload| {
        let why = LAST_PANIC.with(|last| last.borrow_mut().take()).unwrap_or_else(|| payload_text(payload.as_ref()));
        Err(PluginError::new(ErrorCode::Panic, format!("plugin `{plugin}` panicked during {operation}: {why}"))
            .with_help("this is a bug in the plugin: report it to the plugin's author with this message"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_message_and_location() {
        let error = guarded::<()>("demo", "read", || panic!("index {} out of range", 9)).unwrap_err();
        assert_eq!(error.code, ErrorCode::Panic);
        assert!(
            error.message.starts_with("plugin `demo` panicked during read: index 9 out of range (at "),
            "{}",
            error.message
        );
        assert!(error.message.contains("guard.rs:"), "{}", error.message);
    }

    #[test]
    fn results_pass_through() {
        assert_eq!(guarded("demo", "read", || Ok(5)).unwrap(), 5);
        let refused = guarded::<()>("demo", "open", || Err(PluginError::new(ErrorCode::Config, "bad"))).unwrap_err();
        assert_eq!(refused.code, ErrorCode::Config);
    }
}
