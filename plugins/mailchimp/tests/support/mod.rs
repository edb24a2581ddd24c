//! A Mailchimp emulator on a runtime of its own, and the plugin opened on it.

use cutover_emulators::{Emulator, EmulatorConfig, FaultConfig, MailchimpState, Platform, RunningEmulator};
use cutover_plugin_mailchimp::{Mailchimp, MailchimpConfig};
use cutover_sdk::prelude::*;
use serde_json::{Value, json};
use std::path::PathBuf;

/// A running emulator. The runtime serves it from its own threads while the
/// test thread calls the plugin, which blocks on the SDK's runtime.
pub struct Server {
    pub emulator: RunningEmulator,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    pub fn start(seed: u64, records: usize, faults: FaultConfig) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the emulator");
        let config = EmulatorConfig { faults, ..EmulatorConfig::new(seed, records) };
        let emulator = runtime.block_on(Emulator::start(Platform::Mailchimp, config)).expect("the emulator starts");
        Server { emulator, _runtime: runtime }
    }

    pub fn state(&self) -> &MailchimpState {
        self.emulator.mailchimp().expect("a Mailchimp emulator")
    }

    /// The plugin config for this emulator; `list_id` as given.
    pub fn config(&self, list_id: Option<&str>) -> Value {
        let mut config = json!({
            "api_key": self.emulator.api_key,
            "base_url": format!("{}/3.0/", self.emulator.base_url),
            "list_defaults": {
                "contact": {"company": "Cutover Test Co", "address1": "1 Main Street", "city": "Atlanta", "state": "GA",
                            "zip": "30308", "country": "US"},
                "permission_reminder": "You signed up on our website.",
                "campaign_defaults": {"from_name": "Cutover Test Co", "from_email": "news@cutover-test.io",
                                      "subject": "", "language": "en"},
                "email_type_option": false,
            },
        });
        if let Some(list_id) = list_id {
            config["list_id"] = Value::from(list_id);
        }
        config
    }

    /// The plugin, opened in-process on this emulator.
    pub fn open(&self, list_id: Option<&str>) -> Mailchimp {
        let config: MailchimpConfig = serde_json::from_value(self.config(list_id)).expect("a valid config");
        Mailchimp::open(config, &Context::new(PathBuf::from("."))).expect("the plugin opens")
    }
}

/// Every item of `stream`, read in batches of `batch`, as the boundary
/// would give them (records the schema refuses become rejects).
pub fn read_all(plugin: &mut Mailchimp, stream: &str, batch: usize) -> ReadBatch {
    let mut all = ReadBatch::default();
    let mut cursor: Option<String> = None;
    loop {
        let mut page = plugin.read(stream, cursor.as_deref(), batch).expect("a batch");
        cutover_sdk::reject_invalid(stream, &mut page);
        assert!(page.records.len() + page.rejects.len() <= batch);
        all.records.extend(page.records);
        all.rejects.extend(page.rejects);
        cursor = page.next_cursor;
        if page.done {
            all.next_cursor = cursor;
            all.done = true;
            return all;
        }
    }
}
