//! The conformance kit: a plugin proves itself in a few lines of test.
//!
//! ```no_run
//! # struct MyPlugin;
//! # impl cutover_sdk::Plugin for MyPlugin {
//! #     type Config = ();
//! #     fn describe() -> cutover_sdk::Description { unreachable!() }
//! #     fn open(_: (), _: &cutover_sdk::Context) -> Result<Self, cutover_sdk::PluginError> { unreachable!() }
//! # }
//! #[test]
//! fn conformance() {
//!     cutover_conformance::Kit::new::<MyPlugin>(r#"{"folder": "/tmp/x"}"#).run();
//! }
//! ```
//!
//! Not here: the host, dlopen, or anything a platform-specific test needs. The
//! kit calls the plugin through [`cutover_sdk::root_module`], the same
//! `extern "C"` functions, encoding and panic guard a loaded plugin runs; only
//! the dynamic loading is left to the end-to-end tests.
//!
//! Start at [`Kit`]. What it proves, each as a named check in its report:
//! metadata is valid; bad config is refused with a clear error; every
//! destination stream accepts a batch and creates nothing twice when the same
//! batch comes again (the second time staged, as the host writes); every
//! source stream read across many batches, and resumed from every
//! intermediate cursor, gives exactly the same records, no gap, no duplicate;
//! hostile input (an unknown stream, a garbage cursor, garbage bytes, a closed
//! handle) comes back as an error, never a panic; and errors carry context
//! (plugin, stream, help).
//!
//! Who depends on it: every plugin's tests, as a dev-dependency.

mod checks;
mod samples;

pub use checks::{Failure, Report};

use cutover_sdk::Plugin;

/// One conformance run for one plugin, configured with a working config.
pub struct Kit {
    client: cutover_abi::client::PluginClient,
    config: String,
    bad_config: String,
    batch_size: u32,
    max_resume_points: usize,
    email_domain: String,
}

impl Kit {
    /// A kit for plugin `P` that opens it with `config` (JSON), which must
    /// work here (point files into a temporary folder, URLs at an emulator).
    pub fn new<P: Plugin>(config: &str) -> Kit {
        Kit {
            client: cutover_abi::client::PluginClient::new(cutover_sdk::root_module::<P>()),
            config: config.to_owned(),
            // An array is no plugin's config: every struct config refuses it.
            bad_config: "[]".to_owned(),
            batch_size: 7,
            max_resume_points: 40,
            email_domain: samples::EMAIL_DOMAIN.to_owned(),
        }
    }

    /// A config the plugin must refuse (by default a JSON array).
    pub fn bad_config(mut self, config: &str) -> Kit {
        self.bad_config = config.to_owned();
        self
    }

    /// Records per read in the many-batches pass (default 7: small, so even a
    /// short stream crosses many batch boundaries).
    pub fn batch_size(mut self, records: u32) -> Kit {
        self.batch_size = records.max(1);
        self
    }

    /// The domain of the sample records' email addresses (default
    /// `example.org`), for platforms that refuse reserved domains as fake.
    pub fn email_domain(mut self, domain: &str) -> Kit {
        domain.clone_into(&mut self.email_domain);
        self
    }

    /// Runs every check and returns the report.
    pub fn check(&self) -> Report {
        checks::run(self)
    }

    /// Runs every check and panics with the list of failures if any failed:
    /// what a plugin's `#[test]` calls.
    pub fn run(&self) {
        let report = self.check();
        assert!(report.failures.is_empty(), "{report}");
    }
}
