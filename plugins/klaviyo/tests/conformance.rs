//! The klaviyo plugin passes the conformance kit against the Klaviyo
//! emulator. Every stream is read and written, so the kit reads back what
//! it wrote; what Klaviyo does not keep as written is declared below, each
//! with why.

use cutover_emulators::{Emulator, EmulatorConfig, Platform};
use cutover_plugin_klaviyo::Klaviyo;

#[test]
fn conformance() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let emulator = runtime.block_on(Emulator::start(Platform::Klaviyo, EmulatorConfig::new(7, 12))).unwrap();
    let config = serde_json::json!({"api_key": emulator.api_key, "base_url": emulator.base_url}).to_string();
    // The kit writes the lists and profiles that subscriptions and events
    // point at first, and points them at their Klaviyo ids, as the host does.
    cutover_conformance::Kit::new::<Klaviyo>(&config)
        .bad_config(r#"{"api_key": 12}"#)
        // Klaviyo sets a list's creation time itself, and a list has no
        // custom properties.
        .fields_not_kept("lists", &["created_at", "custom_fields"])
        // Klaviyo's consent is the person's, kept in its own terms: the
        // method and source are Klaviyo's (`single_opt_in`, `API: …`,
        // `UNSUBSCRIBE`), the time is when Klaviyo recorded it (seconds only),
        // the IP is not kept; the join time is when the profile joined the
        // Klaviyo list; a membership has no tags or custom properties.
        .fields_not_kept(
            "subscriptions",
            &[
                "consent.email.method",
                "consent.email.source",
                "consent.email.changed_at",
                "consent.email.ip",
                "joined_at",
                "tags",
                "custom_fields",
            ],
        )
        // Klaviyo has no cleaned status: a cleaned address is a suppression.
        .rewrites("subscriptions", "consent.email.status", "cleaned", "suppressed")
        // An event's time is kept to the second (the samples carry
        // milliseconds), and an event is tied to a profile and a metric, not
        // to a campaign (the plugin writes no campaigns to point at).
        .fields_not_kept("events", &["occurred_at", "campaign"])
        .run();
}
