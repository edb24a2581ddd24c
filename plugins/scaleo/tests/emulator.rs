//! The scaleo plugin against the Scaleo emulator, beyond the conformance
//! kit: the messy seeded network read as it is (rejects with their reasons,
//! payout details blanked in them), a partner moved from another platform
//! found by its email, secrets in no log line or error, a wrong key, and
//! 429 storms and server errors waited out.

use cutover_emulator_scaleo::{FaultConfig, RunningEmulator, ScaleoConfig, ScaleoState, start};
use cutover_plugin_scaleo::ScaleoPlugin;
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{ConversionStatus, Partner, PartnerStatus, PayoutDetails};
use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A running emulator; dropping it stops it.
struct Harness {
    emulator: RunningEmulator<ScaleoState>,
    // Declared last: dropped after the emulator it serves.
    _runtime: tokio::runtime::Runtime,
}

impl Harness {
    fn start(affiliates: usize) -> Harness {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
        let emulator = runtime.block_on(start(ScaleoConfig::new(11, affiliates))).expect("the emulator starts");
        Harness { emulator, _runtime: runtime }
    }

    fn open_with(&self, key: &str) -> Result<ScaleoPlugin, PluginError> {
        let config = serde_json::json!({
            "base_url": self.emulator.base_url, "api_key": key, "page_size": 25,
            "fallback_offer_id": self.emulator.state().offers()[0].id,
            "rate_limit": {"per_second": 200},
        });
        let config = serde_json::from_value(config).expect("a valid config");
        ScaleoPlugin::open(config, &Context::new(std::path::PathBuf::new()))
    }

    fn open(&self) -> ScaleoPlugin {
        self.open_with(&self.emulator.api_key).expect("the plugin opens")
    }
}

/// Every record and reject of `stream`, read in batches of `batch` through
/// the plugin's registered streams.
fn read_all(plugin: &mut ScaleoPlugin, stream: &str, batch: usize) -> (Vec<Record>, Vec<SourceReject>) {
    let mut streams = ScaleoPlugin::streams();
    let (mut records, mut rejects, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let read = streams.read(plugin, stream, cursor.as_deref(), batch).expect("a read");
        records.extend(read.records);
        rejects.extend(read.rejects);
        if read.done {
            return (records, rejects);
        }
        cursor = read.next_cursor;
    }
}

fn write(plugin: &mut ScaleoPlugin, stream: &str, records: Vec<Record>) -> Vec<WriteOutcome> {
    ScaleoPlugin::streams().write(plugin, stream, records).expect("a write")
}

#[test]
fn the_seeded_network_reads_as_it_is_with_every_reject_explained() {
    let harness = Harness::start(60);
    let state = harness.emulator.state();
    let mut plugin = harness.open();
    let (partners, rejects) = read_all(&mut plugin, "partners", 13);
    assert_eq!(partners.len() + rejects.len(), state.affiliates().len());
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0].reason.code, "invalid_payment_details");
    assert!(rejects[0].raw.contains("[redacted]") && !rejects[0].raw.contains("paypal_email"), "{}", rejects[0].raw);
    let tiers: BTreeSet<String> = partners
        .iter()
        .filter_map(|record| match &record.entity {
            Entity::Partner(partner) => partner.tier.as_deref().map(str::to_owned),
            _ => None,
        })
        .collect();
    assert_eq!(tiers, BTreeSet::from(["bronze".into(), "gold".into(), "silver".into()]));
    let known: BTreeSet<&str> = partners.iter().map(|record| record.source_id.as_str()).collect();
    let orphans = partners.iter().filter(|record| match &record.entity {
        Entity::Partner(partner) => {
            partner.parent.as_ref().is_some_and(|parent| !known.contains(parent.source_id.as_str()))
        }
        _ => false,
    });
    assert_eq!(orphans.count(), 1, "the partner whose sponsor was deleted keeps its reference");

    let (conversions, rejects) = read_all(&mut plugin, "conversions", 50);
    assert_eq!(conversions.len() + rejects.len(), state.conversions().len());
    let codes: BTreeSet<&str> = rejects.iter().map(|reject| reject.reason.code.as_str()).collect();
    assert_eq!(codes, BTreeSet::from(["amount_precision", "unknown_currency"]));
    let statuses: BTreeSet<String> = conversions
        .iter()
        .filter_map(|record| match record.custom_fields.get("scaleo_status") {
            Some(CustomValue::Text(word)) => Some(word.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(statuses.len(), 5, "{statuses:?}");
    let canonical: BTreeSet<_> = conversions
        .iter()
        .filter_map(|record| match &record.entity {
            Entity::Conversion(conversion) => conversion.status.map(|status| format!("{status:?}")),
            _ => None,
        })
        .collect();
    assert_eq!(canonical.len(), 3, "pending, approved and rejected: {canonical:?}");

    let (links, rejects) = read_all(&mut plugin, "tracking_links", 9);
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(links.len(), state.access().len());
    let (clicks, _) = read_all(&mut plugin, "clicks", 200);
    assert_eq!(clicks.len(), state.clicks().len());
    let linked =
        clicks.iter().filter(|record| matches!(&record.entity, Entity::Click(click) if click.tracking_link.is_some()));
    assert_eq!(linked.count(), clicks.len(), "every click names its tracking link");
    let (_, rejects) = read_all(&mut plugin, "coupon_codes", 10);
    assert_eq!(rejects.iter().map(|reject| reject.reason.code.as_str()).collect::<Vec<_>>(), ["missing_currency"]);
    let inventory = ScaleoPlugin::streams().discover(&mut plugin).expect("counts");
    let partners_count =
        inventory.streams.iter().find(|count| count.stream == "partners").and_then(|count| count.records);
    assert_eq!(partners_count, Some(state.affiliates().len() as u64));
}

fn partner(email: &str, account: &str) -> Record {
    let partner = Partner {
        name: Some("Søren Eriksen".into()),
        email: Some(email.into()),
        status: Some(PartnerStatus::Active),
        tier: Some("gold".into()),
        payout: Some(PayoutDetails {
            method: Some("bank_transfer".into()),
            account_reference: Some(account.into()),
            currency: None,
        }),
        ..Partner::default()
    };
    Record::new("partnerize", "pz-1001", chrono::DateTime::UNIX_EPOCH, Entity::Partner(partner))
}

#[test]
fn a_partner_from_another_platform_is_found_by_its_email_and_keeps_its_id() {
    let harness = Harness::start(20);
    let seeded = harness
        .emulator
        .state()
        .affiliates()
        .into_iter()
        .find(|affiliate| affiliate.external_id.is_none())
        .expect("one");
    let email = seeded.email.to_uppercase();
    let first = write(&mut harness.open(), "partners", vec![partner(&email, "****9876")]);
    assert_eq!(first[0].result, WriteResult::updated(seeded.id.to_string()), "the same person, by email");
    let again = write(&mut harness.open(), "partners", vec![partner(&email, "****9876")]);
    assert_eq!(again[0].result, WriteResult::unchanged(seeded.id.to_string()), "from a new instance: nothing changes");
    let stored = harness.emulator.state().affiliate(seeded.id).expect("still there");
    assert_eq!(stored.external_id.as_deref(), Some("partnerize:pz-1001"), "the previous platform's id is kept");
    assert_eq!(stored.tags, ["tier:gold"]);
    assert_eq!(harness.emulator.state().affiliates().len(), 20, "nothing created");
}

/// Everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn payout_details_and_the_key_show_in_no_log_line_or_error() {
    let harness = Harness::start(20);
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    const ACCOUNT: &str = "DE89SECRETACCOUNT3000";
    let mut plugin = harness.open();
    let written = write(&mut plugin, "partners", vec![partner("soren.eriksen@example.org", ACCOUNT)]);
    assert!(matches!(written[0].result, WriteResult::Created { .. }), "{written:?}");
    let refused = write(&mut plugin, "partners", vec![partner("not an address", ACCOUNT)]);
    let WriteResult::Rejected { reason } = &refused[0].result else { panic!("{refused:?}") };
    assert!(reason.message.contains("email"), "{}", reason.message);
    read_all(&mut plugin, "partners", 50);
    let wrong = harness.open_with("0000000000000000000000000000000000000000").expect("opens");
    let mut wrong = wrong;
    let error = ScaleoPlugin::streams().read(&mut wrong, "partners", None, 10).expect_err("a wrong key");
    assert_eq!(error.code, ErrorCode::Auth);
    assert!(error.message.contains("invalid credentials"), "{}", error.message);
    let logs = String::from_utf8_lossy(&captured.0.lock().expect("logs")).into_owned();
    assert!(logs.contains("HTTP request answered"), "the client logged its requests: {logs}");
    let texts = [logs, format!("{refused:?}"), format!("{error:?}")];
    for text in &texts {
        assert!(!text.contains(ACCOUNT), "a payout account shows: {text}");
        assert!(!text.contains(&harness.emulator.api_key), "the key shows: {text}");
    }
}

#[test]
fn a_wrong_key_fails_the_check_with_what_to_do() {
    let harness = Harness::start(5);
    let mut plugin = harness.open_with("0123456789abcdef0123456789abcdef01234567").expect("opens");
    let report = plugin.check().expect("a report");
    assert!(!report.checks[0].ok);
    let detail = report.checks[0].detail.clone().unwrap_or_default();
    assert!(detail.contains("401") && detail.contains("credentials"), "{detail}");
    let mut good = harness.open();
    assert!(good.check().expect("a report").checks[0].ok);
}

#[test]
fn storms_and_server_errors_are_waited_out() {
    let harness = Harness::start(40);
    let mut plugin = harness.open();
    let (clean, _) = read_all(&mut plugin, "partners", 7);
    harness.emulator.set_faults(FaultConfig { burst_429: 4, fail_page_once: Some(1), ..FaultConfig::default() });
    let (stormy, _) = read_all(&mut harness.open(), "partners", 7);
    assert_eq!(stormy, clean);
    harness.emulator.set_faults(FaultConfig { rate_5xx: 0.2, ..FaultConfig::default() });
    let (flaky, _) = read_all(&mut harness.open(), "conversions", 100);
    harness.emulator.set_faults(FaultConfig::default());
    let (steady, _) = read_all(&mut harness.open(), "conversions", 100);
    assert_eq!(flaky, steady, "report POSTs are retried like GETs");
}

/// A record of `entity` from `partnerize`.
fn from_partnerize(id: &str, entity: Entity) -> Record {
    Record::new("partnerize", id, chrono::DateTime::UNIX_EPOCH, entity)
}

/// The target id of a write's outcome.
fn target(outcome: &WriteOutcome) -> String {
    match &outcome.result {
        WriteResult::Created { target_id }
        | WriteResult::Updated { target_id }
        | WriteResult::Unchanged { target_id } => target_id.to_string(),
        WriteResult::Rejected { reason } => panic!("rejected: {reason:?}"),
    }
}

fn result_names(outcomes: &[WriteOutcome]) -> Vec<&'static str> {
    outcomes.iter().map(|outcome| outcome.result.as_str()).collect()
}

#[test]
fn a_changed_record_is_updated_in_place_on_every_stream_scaleo_writes() {
    use cutover_sdk::schema::{
        Conversion, CouponCode, Currency, Discount, Money, Payout, PayoutStatus, Program, Reference, TrackingLink,
    };
    use rust_decimal::Decimal;
    let harness = Harness::start(10);
    let state = harness.emulator.state();
    let mut plugin = harness.open();
    let program = |days| Program {
        name: Some("Nordlight Pro".into()),
        commission_percent: Some(Decimal::new(10, 0)),
        cookie_days: Some(days),
        active: Some(true),
        ..Program::default()
    };
    let created = write(&mut plugin, "programs", vec![from_partnerize("c-1", Entity::Program(program(30)))]);
    let offer = target(&created[0]);
    let changed = write(&mut harness.open(), "programs", vec![from_partnerize("c-1", Entity::Program(program(60)))]);
    assert_eq!(changed[0].result, WriteResult::updated(offer.clone()));
    assert_eq!(
        state.offers().iter().find(|known| known.id.to_string() == offer).and_then(|known| known.c_lifespan),
        Some(60)
    );

    let affiliate = state.affiliates()[0].id.to_string();
    let mut suspended = partner(&state.affiliates()[0].email, "****1234");
    if let Entity::Partner(partner) = &mut suspended.entity {
        partner.status = Some(PartnerStatus::Suspended);
    }
    assert_eq!(result_names(&write(&mut plugin, "partners", vec![suspended])), ["updated"]);
    assert_eq!(state.affiliates()[0].status, 2);

    let link = |status: &str| {
        let mut record = from_partnerize(
            "l-1",
            Entity::TrackingLink(TrackingLink {
                partner: Some(Reference::new(EntityKind::Partner, affiliate.as_str())),
                program: Some(Reference::new(EntityKind::Program, offer.as_str())),
                destination_url: Some("https://nordlight.example/pro".into()),
                ..TrackingLink::default()
            }),
        );
        record.custom_fields.insert("access_status".into(), CustomValue::Text(status.into()));
        record
    };
    assert_eq!(result_names(&write(&mut plugin, "tracking_links", vec![link("pending")])), ["created"]);
    assert_eq!(result_names(&write(&mut harness.open(), "tracking_links", vec![link("approved")])), ["updated"]);
    assert_eq!(result_names(&write(&mut harness.open(), "tracking_links", vec![link("approved")])), ["unchanged"]);
    let landing = state
        .offers()
        .into_iter()
        .find(|known| known.id.to_string() == offer)
        .map(|known| known.links)
        .unwrap_or_default();
    assert_eq!(
        landing.iter().map(|page| page.url.as_str()).collect::<Vec<_>>(),
        ["https://nordlight.example/pro"],
        "made once"
    );

    let coupon = |active| {
        from_partnerize(
            "cc-1",
            Entity::CouponCode(CouponCode {
                code: Some("SOREN15".into()),
                partner: Some(Reference::new(EntityKind::Partner, affiliate.as_str())),
                discount: Some(Discount::Percentage(Decimal::new(15, 0))),
                active: Some(active),
                ..CouponCode::default()
            }),
        )
    };
    assert_eq!(result_names(&write(&mut plugin, "coupon_codes", vec![coupon(true)])), ["created"]);
    assert_eq!(result_names(&write(&mut harness.open(), "coupon_codes", vec![coupon(false)])), ["updated"]);

    let conversion = |status, cents| {
        from_partnerize(
            "cv-1",
            Entity::Conversion(Conversion {
                order_id: Some("ORD-1".into()),
                amount: Some(Money::new(Decimal::new(cents, 2), Currency::EUR)),
                status: Some(status),
                converted_at: Some(chrono::DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default()),
                partner: Some(Reference::new(EntityKind::Partner, affiliate.as_str())),
                program: Some(Reference::new(EntityKind::Program, offer.as_str())),
                ..Conversion::default()
            }),
        )
    };
    let first = write(&mut plugin, "conversions", vec![conversion(ConversionStatus::Pending, 4990)]);
    assert_eq!(result_names(&first), ["created"]);
    let approved = write(&mut harness.open(), "conversions", vec![conversion(ConversionStatus::Approved, 4990)]);
    assert_eq!(approved[0].result, WriteResult::updated(target(&first[0])));
    let resold = write(&mut harness.open(), "conversions", vec![conversion(ConversionStatus::Approved, 5990)]);
    let WriteResult::Rejected { reason } = &resold[0].result else { panic!("{resold:?}") };
    assert_eq!(reason.code, "immutable_on_platform", "Scaleo cannot change a sale");

    let payout = |status| {
        from_partnerize(
            "po-1",
            Entity::Payout(Payout {
                partner: Some(Reference::new(EntityKind::Partner, affiliate.as_str())),
                amount: Some(Money::new(Decimal::new(12_050, 2), Currency::EUR)),
                status: Some(status),
                ..Payout::default()
            }),
        )
    };
    assert_eq!(result_names(&write(&mut plugin, "payouts", vec![payout(PayoutStatus::Pending)])), ["created"]);
    assert_eq!(result_names(&write(&mut harness.open(), "payouts", vec![payout(PayoutStatus::Paid)])), ["updated"]);
    assert_eq!(result_names(&write(&mut harness.open(), "payouts", vec![payout(PayoutStatus::Paid)])), ["unchanged"]);
    assert!(state.invoices().iter().any(|invoice| invoice.internal_notes.as_deref()
        == Some("cutover:partnerize:po-1")
        && invoice.status == "paid"));
}
