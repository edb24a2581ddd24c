//! The mappings on messy values: missing fields, bad currencies, amounts
//! with more decimals than their currency, unknown statuses, and the
//! round trips the writes rely on.

use super::*;
use chrono::TimeZone;
use cutover_sdk::schema::Reference;
use serde_json::json;

fn partner_item() -> Value {
    json!({
        "publisher_id": "1l1007802", "account_name": "Zoë Müller", "company_name": "Müller Media",
        "contact_email": "zoe@example.com", "network_status": "a", "created": "2019-10-30 11:08:41",
        "last_modified": "2020-01-02 03:04:05", "reporting_identifier": "AFF-1", "contact_locale": "de",
        "websites": [{"website_url": "https://zoe.example.net/"}],
    })
}

#[test]
fn a_partner_reads_with_its_tier_payout_and_partnerize_fields() {
    let set = json!({"payment_type_code": "eft", "paid_currency": "GBP",
        "payment_detail_values": {"account_number": "12345678", "bank_name": "Barclays"}});
    let record = partner_record(&partner_item(), Some("Gold"), Some(&set)).unwrap();
    assert_eq!(record.source_id, "1l1007802");
    assert_eq!(record.updated_at, Utc.with_ymd_and_hms(2020, 1, 2, 3, 4, 5).unwrap());
    let Entity::Partner(partner) = &record.entity else { panic!("a partner") };
    assert_eq!(partner.name.as_deref(), Some("Zoë Müller"));
    assert_eq!(partner.status, Some(PartnerStatus::Active));
    assert_eq!(partner.tier.as_deref(), Some("Gold"));
    assert_eq!(partner.created_at, Some(Utc.with_ymd_and_hms(2019, 10, 30, 11, 8, 41).unwrap()));
    let payout = partner.payout.as_ref().unwrap();
    // A bank account is never read in full.
    assert_eq!(payout.account_reference.as_deref(), Some("****5678"));
    assert_eq!(payout.method.as_deref(), Some("bank_transfer"));
    assert_eq!(payout.currency, Some(Currency::GBP));
    assert_eq!(record.custom_fields.get("website"), Some(&CustomValue::Text("https://zoe.example.net/".into())));
    assert_eq!(record.custom_fields.get("reporting_identifier"), Some(&CustomValue::Text("AFF-1".into())));
}

#[test]
fn a_messy_partner_reads_what_it_has_and_keeps_an_unknown_status() {
    let item = json!({"publisher_id": "1l9", "account_name": "", "network_status": "x", "created": "not a date"});
    let record = partner_record(&item, None, None).unwrap();
    let Entity::Partner(partner) = &record.entity else { panic!("a partner") };
    assert_eq!((partner.name.clone(), partner.status, partner.created_at), (None, None, None));
    assert_eq!(record.updated_at, DateTime::UNIX_EPOCH);
    assert_eq!(record.custom_fields.get("network_status"), Some(&CustomValue::Text("x".into())));
    assert_eq!(partner_record(&json!({"account_name": "x"}), None, None).unwrap_err().code, "malformed_record");
}

fn partner(partner: Partner) -> Record {
    Record::new("scaleo", "17", DateTime::UNIX_EPOCH, Entity::Partner(partner))
}

#[test]
fn a_partner_write_keeps_the_previous_id_and_the_external_key() {
    let write = partner_write(&partner(Partner {
        name: Some(" Zoë ".into()),
        email: Some("zoe@example.com".into()),
        status: Some(PartnerStatus::Suspended),
        tier: Some("gold".into()),
        ..Partner::default()
    }))
    .unwrap();
    assert_eq!(write.key, "scaleo:17");
    assert_eq!(write.fields["reporting_identifier"], "scaleo:17");
    assert_eq!(write.fields["foreign_identifier"], "17");
    assert_eq!(write.account_name, "Zoë");
    // No suspension on Partnerize: not a member.
    assert_eq!(write.fields["network_status"], "n");
    assert_eq!(write.tier.as_deref(), Some("gold"));
}

#[test]
fn a_partner_without_a_name_or_with_an_unpaid_currency_is_refused_with_its_reason() {
    let nameless = partner_write(&partner(Partner::default())).unwrap_err();
    assert_eq!(nameless.code, "missing_name");
    let named_by_email =
        partner_write(&partner(Partner { email: Some("ana@example.com".into()), ..Partner::default() })).unwrap();
    assert_eq!(named_by_email.account_name, "ana");
    let chf = partner_write(&partner(Partner {
        name: Some("Ana".into()),
        payout: Some(PayoutDetails { currency: Currency::from_code("CHF"), ..PayoutDetails::default() }),
        ..Partner::default()
    }))
    .unwrap_err();
    assert_eq!(chf.code, "unsupported_currency");
    let contact = Record::new("x", "1", DateTime::UNIX_EPOCH, Entity::Contact(Contact::default()));
    assert_eq!(partner_write(&contact).unwrap_err().code, "wrong_entity");
}

#[test]
fn payment_details_change_only_when_they_differ_and_a_masked_number_is_never_sent() {
    let current = json!({"publisher_payment_detail_set_id": "111l5", "payment_type_code": "paypal", "paid_currency": "USD",
        "payment_detail_values": {"account_number": "p@example.com"}});
    let same = PayoutDetails {
        method: Some("paypal".into()),
        account_reference: Some("p@example.com".into()),
        currency: Some(Currency::USD),
    };
    assert_eq!(payment_detail_change(&same, Some(&current)), None);
    let masked = PayoutDetails {
        method: Some("bank_transfer".into()),
        account_reference: Some("****5678".into()),
        currency: None,
    };
    let body = payment_detail_change(&masked, Some(&current)).unwrap();
    assert_eq!(body["payment_type_code"], "eft");
    assert_eq!(body["payment_detail_values"]["account_number"], "p@example.com", "the stored number stays");
    assert_eq!(body["publisher_payment_detail_set_id"], "111l5");
    let fresh = payment_detail_change(&same, None).unwrap();
    assert_eq!(fresh["payment_detail_values"]["account_number"], "p@example.com");
    assert!(fresh.get("publisher_payment_detail_set_id").is_none());
}

#[test]
fn money_is_exact_scaled_to_its_currency_and_refused_past_its_minor_units() {
    let euros = money(&json!(49.9), Currency::EUR, "value").unwrap();
    assert_eq!(euros.amount.to_string(), "49.90");
    let yen = money(&json!(1200), Currency::JPY, "value").unwrap();
    assert_eq!(yen.amount.to_string(), "1200");
    let too_fine = money(&json!(1200.5), Currency::JPY, "value").unwrap_err();
    assert_eq!(too_fine.code, "amount_precision");
    assert!(too_fine.message.contains("1200.5 JPY"), "{}", too_fine.message);
    assert_eq!(money(&json!(10.555), Currency::EUR, "value").unwrap_err().code, "amount_precision");
    assert_eq!(money(&json!("12.30"), Currency::GBP, "value").unwrap().amount.to_string(), "12.30");
    assert_eq!(money(&json!("twelve"), Currency::GBP, "value").unwrap_err().code, "invalid_amount");
    assert_eq!(currency(Some(""), "currency").unwrap_err().code, "missing_currency");
    assert_eq!(currency(Some("XYZ"), "currency").unwrap_err().code, "invalid_currency");
    assert_eq!(currency(Some("eur"), "currency").unwrap_err().code, "invalid_currency");
    assert_eq!(number(Decimal::new(4990, 2)), json!(49.9));
    assert_eq!(number(Decimal::new(1200, 0)), json!(1200));
}

fn conversion_data() -> Value {
    json!({
        "conversion_id": "111111l10", "campaign_id": "10l176", "publisher_id": "1l1007802",
        "conversion_time": "2026-01-02 03:04:05", "last_modified": "2026-01-03 00:00:00",
        "currency": "EUR", "conversion_reference": "ORD-1", "clickref": "newsletter", "was_disputed": "n",
        "click": {"click_id": "1100l90001"},
        "conversion_value": {"conversion_status": "approved", "value": 59.9, "commission": 6, "publisher_commission": 4.8},
        "conversion_items": [
            {"conversion_item_id": "111111l1", "item_value": 49.9, "item_publisher_commission": 4.0, "item_status": "approved", "payment_status": "paid"},
            {"conversion_item_id": "111111l2", "item_value": 10, "item_publisher_commission": 0.8, "item_status": "pending"},
        ],
    })
}

#[test]
fn a_conversion_reads_with_composite_ids_and_its_references() {
    let record = conversion_record(&conversion_data()).unwrap();
    assert_eq!(record.source_id, "10l176:111111l10");
    let Entity::Conversion(conversion) = &record.entity else { panic!("a conversion") };
    assert_eq!(conversion.order_id.as_deref(), Some("ORD-1"));
    assert_eq!(conversion.amount, Some(Money::new(Decimal::new(5990, 2), Currency::EUR)));
    assert_eq!(conversion.status, Some(ConversionStatus::Approved));
    assert_eq!(conversion.click, Some(Reference::new(EntityKind::Click, "1100l90001")));
    assert_eq!(conversion.program, Some(Reference::new(EntityKind::Program, "10l176")));
    assert_eq!(record.custom_fields.get("was_disputed"), Some(&CustomValue::Boolean(false)));
}

#[test]
fn a_conversion_with_a_bad_currency_amount_or_status_is_refused_with_its_reason() {
    let mut blank = conversion_data();
    blank["currency"] = json!("");
    assert_eq!(conversion_record(&blank).unwrap_err().code, "missing_currency");
    let mut yen = conversion_data();
    yen["currency"] = json!("JPY");
    yen["conversion_value"]["value"] = json!(1200.5);
    assert_eq!(conversion_record(&yen).unwrap_err().code, "amount_precision");
    let mut odd = conversion_data();
    odd["conversion_value"]["conversion_status"] = json!("on_hold");
    assert_eq!(conversion_record(&odd).unwrap_err().code, "invalid_status");
    assert_eq!(conversion_record(&json!({"conversion_id": "1"})).unwrap_err().code, "malformed_record");
}

#[test]
fn commissions_are_one_per_item_paid_when_the_item_was() {
    let records: Vec<Record> = commission_records(&conversion_data()).into_iter().map(Result::unwrap).collect();
    let ids: Vec<&str> = records.iter().map(|record| record.source_id.as_str()).collect();
    assert_eq!(ids, ["10l176:111111l1", "10l176:111111l2"]);
    let Entity::Commission(first) = &records[0].entity else { panic!("a commission") };
    assert_eq!(first.status, Some(CommissionStatus::Paid));
    assert_eq!(first.amount.map(|amount| amount.amount.to_string()), Some("4.00".into()));
    assert_eq!(first.level, Some(1));
    assert_eq!(first.conversion, Some(Reference::new(EntityKind::Conversion, "10l176:111111l10")));
    let Entity::Commission(second) = &records[1].entity else { panic!("a commission") };
    assert_eq!(second.status, Some(CommissionStatus::Pending));
    let mut blank = conversion_data();
    blank["currency"] = json!(null);
    let rejects = commission_records(&blank);
    assert_eq!(rejects.len(), 2);
    assert!(rejects.iter().all(|item| item.as_ref().is_err_and(|reason| reason.code == "missing_currency")));
}

#[test]
fn statuses_partnerize_lacks_are_written_as_their_nearest_with_a_reason() {
    assert_eq!(status_word(ConversionStatus::Reversed), ("rejected", Some("reversed")));
    assert_eq!(commission_word(CommissionStatus::Paid), ("approved", None));
    assert_eq!(commission_word(CommissionStatus::Reversed), ("rejected", Some("reversed")));
    assert_eq!(status_letter(PartnerStatus::Suspended), "n");
    assert_eq!(partner_status("n"), Some(PartnerStatus::Inactive));
    assert_eq!(payment_type_code("Bank Transfer"), "eft");
    assert_eq!(payment_type_code("PayPal"), "paypal");
}

#[test]
fn a_campaign_reads_and_writes_its_commission_and_window() {
    let item = json!({"campaign_id": "10l176", "title": "Été", "status": "r", "default_currency": "EUR",
        "cookie_period": 30, "default_commission_rate": "12.5", "default_commission_value": null,
        "description": {"en": "Terms"}, "created_at": "2024-01-01T00:00:00+00:00", "updated_at": "2024-02-01T00:00:00+00:00"});
    let record = program_record(&item).unwrap();
    let Entity::Program(program) = &record.entity else { panic!("a program") };
    assert_eq!(program.kind, Some(ProgramKind::Campaign));
    assert_eq!(program.commission_percent, Some(Decimal::new(125, 1)));
    assert_eq!((program.cookie_days, program.active), (Some(30), Some(false)));
    let written = Record::new("scaleo", "p1", DateTime::UNIX_EPOCH, record.entity.clone());
    let patch = campaign_patch(&written).unwrap();
    assert!(campaign_changes(&patch, &item).is_empty(), "{:?}", campaign_changes(&patch, &item));
    let mut renamed = item.clone();
    renamed["cookie_period"] = json!(45);
    let changes = campaign_changes(&patch, &renamed);
    assert_eq!(serde_json::to_value(&changes).unwrap(), json!({"cookie_period": 30}));
    let both = Record::new(
        "s",
        "p",
        DateTime::UNIX_EPOCH,
        Entity::Program(Program {
            name: Some("x".into()),
            commission_percent: Some(Decimal::ONE),
            commission_flat: Some(Money::new(Decimal::ONE, Currency::EUR)),
            ..Program::default()
        }),
    );
    assert_eq!(campaign_patch(&both).unwrap_err().code, "unsupported_commission");
    let nameless = Record::new("s", "p", DateTime::UNIX_EPOCH, Entity::Program(Program::default()));
    assert_eq!(campaign_patch(&nameless).unwrap_err().code, "missing_name");
}

#[test]
fn clicks_and_self_bills_read_what_they_have() {
    let click = json!({"click": {"click_id": "1100l1", "set_time": "2026-03-04 05:06:07", "set_ip": "unknown",
        "publisher_id": "1l1", "campaign_id": "10l176", "clickref": "ig_story", "referer": "https://blog.example.org/"}});
    let record = click_record(&click).unwrap();
    let Entity::Click(body) = &record.entity else { panic!("a click") };
    assert_eq!(body.sub_ids, ["ig_story"]);
    assert_eq!(body.ip, None);
    assert_eq!(record.custom_fields.get("set_ip"), Some(&CustomValue::Text("unknown".into())));
    let bill = json!({"selfbill": {"publisher_self_bill_id": "111l2000", "status": "paid", "total_value": 120.5,
        "paid_currency": "GBP", "payment_date": "2026-05-01 00:00:00", "self_bill_reference": "S-1l1-111l2000"}});
    let record = payout_record(&bill, "1l1").unwrap();
    let Entity::Payout(payout) = &record.entity else { panic!("a payout") };
    assert_eq!(payout.amount.map(|amount| amount.amount.to_string()), Some("120.50".into()));
    assert_eq!(payout.status, Some(PayoutStatus::Paid));
    let mut bad = bill.clone();
    bad["selfbill"]["status"] = json!("lost");
    assert_eq!(payout_record(&bad, "1l1").unwrap_err().code, "invalid_status");
}
