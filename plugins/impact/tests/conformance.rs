//! The `impact` plugin passes the conformance kit against the impact.com
//! emulator: the read-only streams against what the emulator seeded (taken
//! from its store, not from the API under test), and `partners`,
//! `coupon_codes` and `conversions` written, read back through a new
//! instance and written again, creating nothing twice. What impact.com does
//! not keep as written is declared below, each with why.

use cutover_emulator_impact::{ImpactConfig, start};
use cutover_plugin_impact::ImpactPlugin;
use serde_json::{Value, json};

fn ids(items: &[Value], field: &str) -> Vec<String> {
    items.iter().filter_map(|item| item[field].as_str().map(str::to_owned)).collect()
}

#[test]
fn conformance() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let mut settings = ImpactConfig::new(7, 60);
    // The kit reads every stream many times over (batches of 7, resumed
    // from every cursor): lift the hourly budget and the 10 click exports a
    // day, which the emulator's own tests hold it to.
    settings.requests_per_hour = 1_000_000;
    settings.click_exports_per_day = 1_000_000;
    let emulator = runtime.block_on(start(settings)).unwrap();
    let state = emulator.state().clone();
    let seeded = state.seeded();
    let click_days: Vec<&str> = seeded["click_days"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let store = cutover_emulator_kit_store(&state);
    let config = json!({
        "account_sid": state.account_sid,
        "auth_token": emulator.api_key,
        "base_url": emulator.base_url,
        // Small pages, so reads cross page boundaries (Actions are asked
        // 2,000 at least, their documented minimum).
        "page_size": 7,
        "requests_per_hour": 1_000_000,
        // The seeded actions are the 300 days before 2026-10-01.
        "actions_since": "2025-11-01",
        "clicks_since": click_days.first().copied().unwrap_or("2026-09-28"),
        "clicks_until": click_days.last().copied().unwrap_or("2026-09-30"),
        "default_program": "11842",
        "action_trackers": {"11842": "4636", "11843": "4637", "24017": "5120"},
        "partner_defaults": {
            "template_terms_id": "11842",
            "website": "https://partners.example.org",
            "address_line1": "1 Main St",
            "city": "Austin",
            "postal_code": "78701",
            "country": "US",
            "phone_country": "US",
            "phone_number": "5125550100",
            "primary_promotional_method": "CONTENT",
            "currency": "USD"
        },
    })
    .to_string();
    cutover_conformance::Kit::new::<ImpactPlugin>(&config)
        .bad_config(r#"{"account_sid": 12}"#)
        .source_ids("programs", store.campaigns)
        .source_ids("tracking_links", store.unique_urls)
        .source_ids("clicks", store.clicks)
        .source_ids("commissions", store.actions)
        .source_ids("payouts", store.invoices)
        // impact.com sets a partner's creation date itself; payout details
        // are the partner's own (withdrawal settings), which a brand can
        // neither write nor read; a partner has no custom fields beyond
        // MPValue1..3, which the plugin uses for the upsert key and the
        // parent.
        .fields_not_kept("partners", &["created_at", "payout", "custom_fields"])
        // The tier is the program's partner group of that name, as
        // impact.com spells it.
        .rewrites("partners", "tier", "gold", "Gold")
        // A promo code's discount lives on a deal, not on the code; codes
        // have no custom fields.
        .fields_not_kept("coupon_codes", &["discount", "custom_fields"])
        // impact.com makes every new action pending (it approves at the
        // locking date); a forced conversion has no click; event dates are
        // kept to the second (the samples carry milliseconds); actions have
        // no custom fields the brand can set.
        .rewrites("conversions", "status", "approved", "pending")
        .fields_not_kept("conversions", &["click", "converted_at", "custom_fields"])
        .run();
    drop(emulator);
}

/// The ids the emulator seeded, read from its store.
struct Seeded {
    campaigns: Vec<String>,
    unique_urls: Vec<String>,
    clicks: Vec<String>,
    actions: Vec<String>,
    invoices: Vec<String>,
}

fn cutover_emulator_kit_store(state: &cutover_emulator_impact::ImpactState) -> Seeded {
    let store = state.store.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    Seeded {
        campaigns: store.campaigns.iter().map(|campaign| campaign.id.to_string()).collect(),
        unique_urls: ids(&store.unique_urls, "Id"),
        clicks: ids(&store.clicks, "Id"),
        actions: ids(&store.actions, "Id"),
        invoices: ids(&store.invoices, "Id"),
    }
}
