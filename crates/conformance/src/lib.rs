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
//!     cutover_conformance::Kit::new::<MyPlugin>(r#"{"folder": "/tmp/x"}"#)
//!         // A stream the plugin only reads: the kit must be told what it holds.
//!         .source_ids("events", (0..20).map(|index| format!("e{index}")))
//!         .run();
//! }
//! ```
//!
//! Not here: the host, dlopen, or anything a platform-specific test needs. The
//! kit calls the plugin through [`cutover_sdk::root_module`], the same
//! `extern "C"` functions, encoding and panic guard a loaded plugin runs; only
//! the dynamic loading is left to the end-to-end tests.
//!
//! Start at [`Kit`]. The kit does not take the plugin's word: what a write
//! says it did is checked by reading the platform back through another
//! instance, and what a read gives is checked against a data set the kit
//! knows (the records it wrote, or what the test declared). Each guarantee is
//! a named check in its report, and a failure names the guarantee it broke:
//!
//! - *metadata is valid*; *bad config is refused with a clear error*.
//! - Every destination stream: *a write accepts every valid record with one
//!   outcome each, in order*; the same batch written again from a **new
//!   instance** (staged, as the host writes) gives *a write from a new
//!   instance creates nothing and keeps target ids* (`updated` is allowed:
//!   whether anything changed is judged by reading back).
//! - Every stream both read and written (same stream name) is read back
//!   through a new instance after each of those writes, while the writing
//!   instance is still open (as after a writer killed before it could
//!   close): *writes are stored* (every written record present exactly
//!   once, matched by its target id, every field of the entity and every
//!   custom field written equal to what reads back; a decimal custom field
//!   by value) and *a write from a new instance changes nothing* (the
//!   stream reads the same, record for record, before and after the second
//!   write). What a platform does not keep as written is declared with
//!   [`Kit::fields_not_kept`] or [`Kit::rewrites`], and the report lists
//!   every declaration in its notes.
//! - Every source stream: *a stream that reads nothing is declared empty*
//!   ([`Kit::empty_stream`]); *reads give the known data set, each record
//!   once*; *reads resume at their cursor* (what came before a cursor plus a
//!   read resumed from it holds every known record exactly once, equals the
//!   rest of an uninterrupted read, and a read in small batches equals one
//!   large read). The known data set of a stream the kit writes is what it
//!   wrote; a stream the plugin only reads must be declared
//!   ([`Kit::source_ids`], [`Kit::source_includes`], [`Kit::source_count`] or
//!   [`Kit::empty_stream`]), and is read before the kit writes anything, so
//!   that what the test declared is what the platform holds.
//! - *hostile input comes back as errors with context, never a panic*.
//!
//! **Matching a record read back to the record written**: a destination
//! answers each record with a target id; the record read back is that record
//! when its `source_id` equals the target id (platforms: the target's own id,
//! e.g. Mailchimp's `<audience id>:<subscriber hash>`, Klaviyo's profile id or
//! an event's `unique_id`, Mailman's `<list>@<domain>/<role>/<address>`) or when
//! `"{source_platform}:{source_id}"` equals it (files and archives, which
//! keep the record's own key: jsonl, csv, sqlite-archive). The same rule
//! matches a declared source id.
//!
//! Who depends on it: every plugin's tests, as a dev-dependency.

mod checks;
mod fields;
mod reads;
mod samples;
mod writes;

pub use checks::{Failure, Report};

use cutover_sdk::Plugin;
use std::collections::{BTreeMap, BTreeSet};

/// One conformance run for one plugin, configured with a working config.
pub struct Kit {
    client: cutover_abi::client::PluginClient,
    config: String,
    bad_config: String,
    batch_size: u32,
    max_resume_points: usize,
    email_domain: String,
    /// Per stream: what the test declared it holds.
    data_sets: BTreeMap<String, DataSet>,
    /// Per stream: how the platform may differ from what was written.
    leeway: BTreeMap<String, Leeway>,
}

/// What a test declared a platform does not keep as written, per stream.
#[derive(Debug, Clone, Default)]
pub(crate) struct Leeway {
    /// Field paths not compared (`fields_not_kept`).
    pub(crate) not_kept: BTreeSet<String>,
    /// Values a field may read back as instead of the one written (`rewrites`).
    pub(crate) rewrites: Vec<Rewrite>,
}

/// One value a platform stores as another.
#[derive(Debug, Clone)]
pub(crate) struct Rewrite {
    pub(crate) path: String,
    pub(crate) written: serde_json::Value,
    pub(crate) read: serde_json::Value,
}

/// What a test declared a stream holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct DataSet {
    /// Exactly these ids, each once (`source_ids`).
    pub(crate) exact: Option<BTreeSet<String>>,
    /// At least these ids, each once (`source_includes`).
    pub(crate) includes: BTreeSet<String>,
    /// Exactly this many records (`source_count`).
    pub(crate) count: Option<usize>,
    /// Reads no record at all (`empty_stream`).
    pub(crate) empty: bool,
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
            data_sets: BTreeMap::new(),
            leeway: BTreeMap::new(),
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

    /// Declares that `stream` yields exactly the records with these ids, each
    /// once, and nothing else. An id matches a record read when it equals the
    /// record's `source_id` or its `"{source_platform}:{source_id}"`. Items
    /// the plugin reads as rejects are not records: leave their ids out.
    pub fn source_ids<I, S>(mut self, stream: &str, ids: I) -> Kit
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.data_set(stream).exact = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Declares that `stream` yields each of these ids exactly once, among
    /// records the test does not know: for a platform other tests write to
    /// as well (a shared server).
    pub fn source_includes<I, S>(mut self, stream: &str, ids: I) -> Kit
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.data_set(stream).includes.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Declares that `stream` yields exactly `records` records, each once,
    /// when their ids cannot be known in advance.
    pub fn source_count(mut self, stream: &str, records: usize) -> Kit {
        self.data_set(stream).count = Some(records);
        self
    }

    /// Declares that `stream` holds nothing here, so that reading no record
    /// from it is not a failure. The report lists the streams declared empty.
    pub fn empty_stream(mut self, stream: &str) -> Kit {
        self.data_set(stream).empty = true;
        self
    }

    /// Declares fields of `stream`'s records that the platform does not keep
    /// as written (it drops them, sets them itself or normalises them), so the
    /// read-back comparison skips them; the report lists every one. A path is
    /// a field of the entity, dotted into nested objects (`email`,
    /// `consent.email.ip`, `list`), or `custom_fields.<name>`; a path covers
    /// everything under it. Say in a comment why the platform does not keep
    /// each one.
    pub fn fields_not_kept(mut self, stream: &str, paths: &[&str]) -> Kit {
        let leeway = self.leeway.entry(stream.to_owned()).or_default();
        leeway.not_kept.extend(paths.iter().map(|path| (*path).to_owned()));
        self
    }

    /// Declares that the platform stores the value `written` of field `path`
    /// (a path as for [`Kit::fields_not_kept`]) as `read`: a value it has no
    /// place for, such as a consent status it does not know (Klaviyo keeps a
    /// cleaned address as suppressed). Only that value is let through; the
    /// field is compared as usual otherwise, and the report lists the
    /// declaration. Values are JSON as the record serialises them (a status
    /// is its snake_case name).
    pub fn rewrites(
        mut self,
        stream: &str,
        path: &str,
        written: impl Into<serde_json::Value>,
        read: impl Into<serde_json::Value>,
    ) -> Kit {
        let rewrite = Rewrite { path: path.to_owned(), written: written.into(), read: read.into() };
        self.leeway.entry(stream.to_owned()).or_default().rewrites.push(rewrite);
        self
    }

    fn data_set(&mut self, stream: &str) -> &mut DataSet {
        self.data_sets.entry(stream.to_owned()).or_default()
    }

    /// Runs every check and returns the report.
    pub fn check(&self) -> Report {
        checks::run(self)
    }

    /// Runs every check, prints the report (the test harness shows it with
    /// the test's output) and panics with it if any check failed: what a
    /// plugin's `#[test]` calls.
    pub fn run(&self) {
        let report = self.check();
        println!("{report}");
        assert!(report.failures.is_empty(), "{report}");
    }
}
