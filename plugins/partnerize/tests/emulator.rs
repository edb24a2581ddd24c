//! The partnerize plugin against the Partnerize emulator: messy reports
//! read into records and rejects with their reasons, a partner from another
//! platform kept under its previous id, the conversion lifecycle through
//! transaction queries and bulk jobs, commissions corrected, references
//! that resolve or are refused, a throttled account read through its
//! `X-RateLimit-*` headers, endless paging stopped, and keys never shown.

use chrono::{TimeZone, Utc};
use cutover_emulator_partnerize::{Account, Bucket, FaultConfig, PartnerizeSettings, RunningEmulator, start_with};
use cutover_plugin_partnerize::PartnerizePlugin;
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{
    Commission, CommissionStatus, Conversion, ConversionStatus, Currency, Money, Partner, PartnerStatus, PayoutDetails,
    Reference,
};
use rust_decimal::Decimal;

struct Harness {
    emulator: RunningEmulator<Account>,
    // Declared last: dropped after the emulator it serves.
    _runtime: tokio::runtime::Runtime,
}

impl Harness {
    fn start(settings: PartnerizeSettings) -> Harness {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
        let emulator = runtime.block_on(start_with(settings)).expect("the emulator starts");
        Harness { emulator, _runtime: runtime }
    }

    fn campaign(&self) -> String {
        self.emulator.state().settled().campaigns[0].campaign_id.clone()
    }

    fn config(&self, api_key: &str) -> serde_json::Value {
        serde_json::json!({
            "base_url": self.emulator.base_url,
            "application_key": self.emulator.state().application_key(),
            "api_key": api_key,
            "network_id": "1l1000003",
            "advertiser_id": "10l110",
            "campaign_id": self.campaign(),
            "new_partners": {"entity_terms_id": "56"},
        })
    }

    fn open(&self) -> PartnerizePlugin {
        self.open_with(self.config(&self.emulator.api_key))
    }

    fn open_with(&self, config: serde_json::Value) -> PartnerizePlugin {
        let config = serde_json::from_value(config).expect("a valid config");
        PartnerizePlugin::open(config, &Context::new(std::path::PathBuf::new())).expect("the plugin opens")
    }
}

fn read_all(
    plugin: &mut PartnerizePlugin,
    stream: &str,
    batch: usize,
) -> Result<(Vec<Record>, Vec<SourceReject>), PluginError> {
    let (mut records, mut rejects, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
    for _ in 0..10_000 {
        let read = Source::read(plugin, stream, cursor.as_deref(), batch)?;
        records.extend(read.records);
        rejects.extend(read.rejects);
        if read.done {
            return Ok((records, rejects));
        }
        cursor = read.next_cursor;
    }
    panic!("`{stream}` never ended");
}

fn results(outcomes: &[WriteOutcome]) -> Vec<&'static str> {
    outcomes.iter().map(|outcome| outcome.result.as_str()).collect()
}

fn target(outcome: &WriteOutcome) -> String {
    match &outcome.result {
        WriteResult::Created { target_id }
        | WriteResult::Updated { target_id }
        | WriteResult::Unchanged { target_id } => target_id.to_string(),
        WriteResult::Rejected { reason } => panic!("rejected: {reason:?}"),
    }
}

#[test]
fn messy_conversions_are_rejects_with_their_reasons_and_everything_else_reads() {
    let harness = Harness::start(PartnerizeSettings::new(7, 60));
    let (seeded, bad): (usize, Vec<String>) = {
        let store = harness.emulator.state().settled();
        let bad = store
            .conversions
            .iter()
            .filter(|conversion| {
                conversion.currency.is_empty()
                    || conversion
                        .items
                        .iter()
                        .any(|item| item.item_value.scale > if conversion.currency == "JPY" { 0 } else { 2 })
            })
            .map(|conversion| conversion.conversion_id.clone())
            .collect();
        (store.conversions.len(), bad)
    };
    assert!(!bad.is_empty(), "the seed has malformed conversions");
    let mut plugin = harness.open();
    let (records, rejects) = read_all(&mut plugin, "conversions", 50).expect("a read");
    assert_eq!(records.len() + rejects.len(), seeded, "every conversion is a record or a reject");
    assert_eq!(rejects.len(), bad.len());
    for reject in &rejects {
        assert!(["amount_precision", "missing_currency"].contains(&reject.reason.code.as_str()), "{reject:?}");
        assert!(reject.location.starts_with("conversions of campaign"), "{}", reject.location);
        assert!(reject.raw.contains("conversion_data"));
    }
    let (partners, partner_rejects) = read_all(&mut plugin, "partners", 7).expect("a read");
    assert_eq!((partners.len(), partner_rejects.len()), (60, 0));
    // Tiers come from the commission groups; bank accounts never in full.
    assert!(partners.iter().any(|record| matches!(&record.entity, Entity::Partner(p) if p.tier.is_some())));
    for record in &partners {
        if let Entity::Partner(Partner {
            payout: Some(PayoutDetails { method: Some(method), account_reference: Some(reference), .. }),
            ..
        }) = &record.entity
            && method == "bank_transfer"
        {
            assert!(reference.starts_with("****"), "{reference}");
        }
    }
    let (clicks, _) = read_all(&mut plugin, "clicks", 100).expect("a read");
    assert_eq!(clicks.len(), harness.emulator.state().settled().clicks.len());
}

fn scaleo_partner(id: &str, email: &str) -> Record {
    Record::new(
        "scaleo",
        id,
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        Entity::Partner(Partner {
            name: Some("Łukasz Wójcik".into()),
            email: Some(email.into()),
            status: Some(PartnerStatus::Active),
            tier: Some("Platinum".into()),
            parent: Some(Reference::new(EntityKind::Partner, "3")),
            payout: Some(PayoutDetails {
                method: Some("bank_transfer".into()),
                account_reference: Some("PL61109010140000071219812874".into()),
                currency: Some(Currency::EUR),
            }),
            ..Partner::default()
        }),
    )
}

#[test]
fn a_partner_from_another_platform_keeps_its_previous_id_and_is_written_once() {
    let harness = Harness::start(PartnerizeSettings::new(5, 8));
    let record = scaleo_partner("4711", "lukasz@example.com");
    let first = Destination::write(&mut harness.open(), "partners", vec![record.clone()]).expect("a write");
    assert_eq!(results(&first), ["created"]);
    let again = Destination::write(&mut harness.open(), "partners", vec![record]).expect("a write");
    assert_eq!(results(&again), ["unchanged"]);
    let id = target(&first[0]);
    assert_eq!(target(&again[0]), id);
    let store = harness.emulator.state().settled();
    let stored = store.publisher(&id).expect("stored");
    assert_eq!(stored.foreign_identifier.as_deref(), Some("4711"));
    assert_eq!(stored.reporting_identifier.as_deref(), Some("scaleo:4711"));
    // A new tier is a new commission group, on the configured campaign.
    let group = store.commission_groups.iter().find(|group| group.name == "Platinum").expect("a group");
    assert_eq!(
        (group.publishers.clone(), group.campaign_id.clone()),
        (vec![id.clone()], store.campaigns[0].campaign_id.clone())
    );
    let set = store.payment_details.iter().find(|set| set.publisher_id == id).expect("payment details");
    assert_eq!(set.payment_type_code, "eft");
    assert_eq!(set.values.get("account_number").map(String::as_str), Some("PL61109010140000071219812874"));
}

#[test]
fn a_partner_a_dead_run_left_without_its_key_is_found_by_email() {
    let harness = Harness::start(PartnerizeSettings::new(5, 3));
    // What a run that died between create and update leaves: no identifiers.
    let orphan = {
        let mut store = harness.emulator.state().settled();
        let mut orphan = store.publishers[0].clone();
        orphan.publisher_id = "1l1999999".into();
        orphan.contact_email = Some("orphan@example.com".into());
        orphan.reporting_identifier = None;
        store.publishers.push(orphan);
        "1l1999999".to_owned()
    };
    let outcomes = Destination::write(&mut harness.open(), "partners", vec![scaleo_partner("9", "orphan@example.com")])
        .expect("a write");
    assert_eq!(results(&outcomes), ["updated"]);
    assert_eq!(target(&outcomes[0]), orphan);
}

fn conversion(partner: &str, status: ConversionStatus, cents: i64) -> Record {
    Record::new(
        "scaleo",
        "c-1",
        Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
        Entity::Conversion(Conversion {
            order_id: Some("SC-ORDER-1".into()),
            amount: Some(Money::new(Decimal::new(cents, 2), Currency::EUR)),
            status: Some(status),
            converted_at: Some(Utc.with_ymd_and_hms(2026, 1, 31, 12, 30, 0).unwrap()),
            partner: Some(Reference::new(EntityKind::Partner, partner)),
            ..Conversion::default()
        }),
    )
}

#[test]
fn a_conversion_is_raised_decided_and_later_changed_through_jobs() {
    let harness = Harness::start(PartnerizeSettings::new(9, 6));
    // A partner not yet on the campaign: it is approved on it first.
    let partner = {
        let store = harness.emulator.state().settled();
        let campaign = store.campaigns[0].campaign_id.clone();
        store
            .publishers
            .iter()
            .find(|publisher| {
                store.participation(&campaign, &publisher.publisher_id).is_none_or(|part| part.campaign_status != "a")
            })
            .map(|publisher| publisher.publisher_id.clone())
            .unwrap_or_else(|| store.publishers[0].publisher_id.clone())
    };
    let pending = Destination::write(
        &mut harness.open(),
        "conversions",
        vec![conversion(&partner, ConversionStatus::Pending, 4990)],
    )
    .expect("a write");
    assert_eq!(results(&pending), ["created"]);
    let id = target(&pending[0]);
    assert!(id.starts_with(&format!("{}:", harness.campaign())), "{id}");
    let approved = Destination::write(
        &mut harness.open(),
        "conversions",
        vec![conversion(&partner, ConversionStatus::Approved, 4990)],
    )
    .expect("a write");
    assert_eq!((results(&approved), target(&approved[0])), (vec!["updated"], id.clone()));
    // Decided: a reversal and a new value go through the v3 bulk job.
    let reversed = Destination::write(
        &mut harness.open(),
        "conversions",
        vec![conversion(&partner, ConversionStatus::Reversed, 3990)],
    )
    .expect("a write");
    assert_eq!(results(&reversed), ["updated"]);
    let unchanged = Destination::write(
        &mut harness.open(),
        "conversions",
        vec![conversion(&partner, ConversionStatus::Reversed, 3990)],
    )
    .expect("a write");
    assert_eq!(results(&unchanged), ["unchanged"]);
    {
        let store = harness.emulator.state().settled();
        let conversion_id = id.split_once(':').map(|(_, id)| id).unwrap_or_default();
        let stored = store.conversions.iter().find(|c| c.conversion_id == conversion_id).expect("stored");
        assert_eq!(stored.conversion_status, "rejected");
        assert_eq!(stored.items[0].reject_reason.as_deref(), Some("reversed"));
        assert_eq!(stored.value().to_string(), "39.9");
        assert!(
            store
                .jobs
                .iter()
                .any(|job| matches!(job.work, cutover_emulator_partnerize::model::JobWork::BulkConversions { .. }))
        );
    }
    // Its commission: corrected through an incorrect-commission query.
    let commission = Record::new(
        "scaleo",
        "m-1",
        Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
        Entity::Commission(Commission {
            amount: Some(Money::new(Decimal::new(399, 2), Currency::EUR)),
            status: Some(CommissionStatus::Rejected),
            level: Some(1),
            conversion: Some(Reference::new(EntityKind::Conversion, id.clone())),
            partner: Some(Reference::new(EntityKind::Partner, partner.clone())),
            ..Commission::default()
        }),
    );
    let mut second_level = commission.clone();
    if let Entity::Commission(body) = &mut second_level.entity {
        body.level = Some(2);
    }
    second_level.source_id = "m-2".into();
    let written = Destination::write(&mut harness.open(), "commissions", vec![commission.clone(), second_level])
        .expect("a write");
    assert_eq!(results(&written), ["updated", "rejected"]);
    let WriteResult::Rejected { reason } = &written[1].result else { panic!("rejected") };
    assert_eq!(reason.code, "unsupported_level");
    let again = Destination::write(&mut harness.open(), "commissions", vec![commission]).expect("a write");
    assert_eq!(results(&again), ["unchanged"]);
    let (commissions, _) = read_all(&mut harness.open(), "commissions", 100).expect("a read");
    let read = commissions.iter().find(|record| record.source_id.as_str() == target(&written[0])).expect("read back");
    let Entity::Commission(body) = &read.entity else { panic!("a commission") };
    assert_eq!(body.amount, Some(Money::new(Decimal::new(399, 2), Currency::EUR)));
}

#[test]
fn references_that_name_no_partnerize_record_are_refused_with_their_reason() {
    let harness = Harness::start(PartnerizeSettings::new(9, 4));
    let outcomes = Destination::write(
        &mut harness.open(),
        "conversions",
        vec![conversion("nobody", ConversionStatus::Approved, 100)],
    )
    .expect("a write");
    let WriteResult::Rejected { reason } = &outcomes[0].result else { panic!("rejected: {outcomes:?}") };
    assert_eq!(reason.code, "unresolved_reference");
    let mut yen = conversion("nobody", ConversionStatus::Approved, 100);
    if let Entity::Conversion(body) = &mut yen.entity {
        body.amount = Some(Money::new(Decimal::new(12005, 1), Currency::JPY));
    }
    let outcomes = Destination::write(&mut harness.open(), "conversions", vec![yen]).expect("a write");
    let WriteResult::Rejected { reason } = &outcomes[0].result else { panic!("rejected") };
    assert_eq!(reason.code, "amount_precision");
    let orphan_commission = Record::new(
        "scaleo",
        "m",
        Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
        Entity::Commission(Commission {
            conversion: Some(Reference::new(EntityKind::Conversion, "77")),
            ..Commission::default()
        }),
    );
    let outcomes = Destination::write(&mut harness.open(), "commissions", vec![orphan_commission]).expect("a write");
    let WriteResult::Rejected { reason } = &outcomes[0].result else { panic!("rejected") };
    assert_eq!(reason.code, "unresolved_reference");
}

#[test]
fn a_throttled_account_is_read_whole_through_its_rate_limit_headers() {
    let mut settings = PartnerizeSettings::new(3, 30);
    settings.bucket = Bucket { capacity: 4, refill_per_second: 40.0 };
    let harness = Harness::start(settings);
    let mut plugin = harness.open();
    let started = std::time::Instant::now();
    let (records, rejects) = read_all(&mut plugin, "partners", 10).expect("a throttled read completes");
    assert_eq!((records.len(), rejects.len()), (30, 0));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn endless_paging_is_an_error_not_a_hang() {
    let harness = Harness::start(PartnerizeSettings::new(3, 12));
    // Offset paging: the first page again and again.
    harness.emulator.set_faults(FaultConfig { paging_loop: true, ..FaultConfig::default() });
    let error = read_all(&mut harness.open(), "partners", 5).expect_err("a loop");
    assert!(error.message.contains("does not end"), "{}", error.message);
    // Cursor mode: a `next_page` that points back at its own page.
    harness.emulator.set_faults(FaultConfig::default());
    let mut plugin = harness.open();
    let first = Source::read(&mut plugin, "conversions", None, 1).expect("a first batch");
    harness.emulator.set_faults(FaultConfig { paging_loop: true, ..FaultConfig::default() });
    let mut cursor = first.next_cursor;
    let error = loop {
        match Source::read(&mut plugin, "conversions", cursor.as_deref(), 500) {
            Ok(batch) if batch.done => panic!("a loop read to its end"),
            Ok(batch) => cursor = batch.next_cursor,
            Err(error) => break error,
        }
    };
    assert!(error.message.contains("came round again"), "{}", error.message);
}

#[test]
fn wrong_keys_fail_the_check_and_never_show() {
    let harness = Harness::start(PartnerizeSettings::new(3, 2));
    let mut plugin = harness.open_with(harness.config("not-the-key-0123456789"));
    let report = plugin.check().expect("a report");
    assert!(report.checks.iter().all(|check| !check.ok), "{report:?}");
    let text = format!("{report:?}");
    assert!(!text.contains("not-the-key-0123456789"), "{text}");
    assert!(!text.contains(harness.emulator.state().application_key()), "{text}");
    let error = read_all(&mut plugin, "programs", 10).expect_err("refused");
    assert_eq!(error.code, ErrorCode::Auth);
    assert!(!error.message.contains("not-the-key"), "{}", error.message);
}
