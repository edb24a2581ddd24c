//! The `scaleo` plugin passes the conformance kit against the Scaleo
//! emulator: it reads the seeded network (the streams it only reads are
//! declared from the emulator's own state, not through the plugin), writes
//! the kit's samples to every stream Scaleo can take, reads them back
//! through a new instance and writes them again, creating nothing twice.
//! What Scaleo does not keep as written is declared below, each with why.

use cutover_emulator_scaleo::{ScaleoConfig, ScaleoRateLimit, ScaleoState, start};
use cutover_plugin_scaleo::ScaleoPlugin;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::HashMap;

/// Whether `currency` is one a record can carry, and the digits after its
/// decimal point.
fn minor_units(currency: &str) -> Option<u32> {
    match currency.to_ascii_uppercase().as_str() {
        "USD" | "EUR" | "GBP" => Some(2),
        "JPY" => Some(0),
        _ => None,
    }
}

/// The seeded clicks: every one is a record.
fn click_ids(state: &ScaleoState) -> Vec<String> {
    state.clicks().into_iter().map(|click| click.transaction_id).collect()
}

/// The commissions the seeded conversions carry, worked out from the
/// emulator's state: a level-1 commission per readable conversion with a
/// payout, and a level-2 one when its affiliate's sponsor still exists and
/// the share rounds above zero.
fn commission_ids(state: &ScaleoState) -> Vec<String> {
    let affiliates: HashMap<u64, _> =
        state.affiliates().into_iter().map(|affiliate| (affiliate.id, affiliate)).collect();
    let mut ids = Vec::new();
    for conversion in state.conversions() {
        let Some(units) = minor_units(&conversion.currency) else { continue };
        let readable = |amount: Decimal| amount.normalize().scale() <= units;
        if !readable(conversion.amount) || !readable(conversion.payout) || !readable(conversion.revenue) {
            continue;
        }
        if conversion.payout <= Decimal::ZERO {
            continue;
        }
        ids.push(format!("{}:1", conversion.transaction_id));
        let affiliate = &affiliates[&conversion.affiliate_id];
        if affiliate.referred_by.is_some_and(|sponsor| affiliates.contains_key(&sponsor)) {
            let share = (conversion.payout * affiliate.referral_commission / Decimal::ONE_HUNDRED)
                .round_dp_with_strategy(units, RoundingStrategy::MidpointNearestEven);
            if share > Decimal::ZERO {
                ids.push(format!("{}:2", conversion.transaction_id));
            }
        }
    }
    ids
}

#[test]
fn conformance() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    // The kit reads every stream again from dozens of cursors, each through
    // a new instance: the emulator and the plugin are let run far faster
    // than a real network would be asked to.
    let mut emulator_config = ScaleoConfig::new(7, 24);
    emulator_config.rate_limit = ScaleoRateLimit { burst_per_second: 1000, steady_per_minute: 60_000 };
    let emulator = runtime.block_on(start(emulator_config)).unwrap();
    let state = emulator.state();
    let fallback_offer = state.offers()[0].id;
    let config = serde_json::json!({
        "base_url": emulator.base_url,
        "api_key": emulator.api_key,
        // Small pages, so reads cross page boundaries.
        "page_size": 10,
        // The kit's conversions name no program: Scaleo records each one
        // on an offer's goal.
        "fallback_offer_id": fallback_offer,
        "rate_limit": {"per_second": 500, "max_concurrency": 4},
    })
    .to_string();
    cutover_conformance::Kit::new::<ScaleoPlugin>(&config)
        .bad_config(r#"{"base_url": 12}"#)
        // Read only: clicks are the tracker's, commissions Scaleo's own
        // computation; declared from what the emulator seeded.
        .source_ids("clicks", click_ids(state))
        .source_ids("commissions", commission_ids(state))
        // Scaleo sets an affiliate's creation time itself. The kit leaves a
        // reference to the stream's own kind as its sample id (the host
        // rewrites it through the id map): the plugin finds that parent by
        // the key it wrote it under, and Scaleo keeps the sponsor as its own
        // affiliate id. Scaleo's custom fields hold text, so a decimal
        // reads back as text.
        .fields_not_kept("partners", &["created_at", "parent.source_id", "custom_fields.score"])
        // Scaleo calls every program an offer, and offers have no custom
        // fields.
        .rewrites("programs", "kind", "program", "offer")
        .fields_not_kept("programs", &["custom_fields"])
        // Scaleo makes the tracking URL (`/click?o=&a=`) and records when
        // access was granted; an access has no custom fields.
        .fields_not_kept("tracking_links", &["url", "created_at", "custom_fields.score", "custom_fields.tags"])
        // A promo code has no custom fields.
        .fields_not_kept("coupon_codes", &["custom_fields"])
        // The kit's click references name clicks of another platform, which
        // Scaleo cannot hold (clicks cannot be written); Scaleo keeps a
        // conversion's time to the second (the samples carry milliseconds)
        // and has no custom fields on conversions beyond its own (payout,
        // promo code, sub ids). The samples name no program: they are
        // recorded under the fallback offer, which reads back as theirs.
        .fields_not_kept("conversions", &["click", "converted_at", "custom_fields.score", "custom_fields.tags"])
        // An invoice's payment method is the affiliate's own, and Scaleo
        // records when it is marked paid; invoices have no custom fields.
        .fields_not_kept("payouts", &["method", "paid_at", "custom_fields.score", "custom_fields.tags"])
        .run();
}
