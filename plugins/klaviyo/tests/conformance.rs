//! The klaviyo plugin passes the conformance kit against the Klaviyo
//! emulator.

use cutover_emulators::{Emulator, EmulatorConfig, Platform};
use cutover_plugin_klaviyo::Klaviyo;

#[test]
fn conformance() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let emulator = runtime.block_on(Emulator::start(Platform::Klaviyo, EmulatorConfig::new(7, 12))).unwrap();
    let config = serde_json::json!({"api_key": emulator.api_key, "base_url": emulator.base_url}).to_string();
    // The kit writes the lists and profiles that subscriptions and events
    // point at first, and points them at their Klaviyo ids, as the host does.
    cutover_conformance::Kit::new::<Klaviyo>(&config).bad_config(r#"{"api_key": 12}"#).run();
}
