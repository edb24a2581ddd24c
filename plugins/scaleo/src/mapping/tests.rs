//! Mapping tests: messy values in, records or reasons out.

use super::{clicks, conversions, coupons, links, partners, payouts, programs};
use chrono::{DateTime, TimeZone, Utc};
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{
    CommissionStatus, ConversionStatus, Currency, Discount, Money, Partner, PartnerStatus, PayoutDetails, PayoutStatus,
    Reference,
};
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().unwrap_or_default()
}

fn affiliate() -> Value {
    json!({
        "id": 1042, "email": "Chloé.Dubois7@gmail.com", "firstname": "Chloé", "lastname": "Dubois", "company_name": null,
        "phone": "0049 (0)30-1234 567", "website_url": null, "status": 1, "api_status": 2, "country": 3017382,
        "city": "Łódź", "timezone": "Europe/Paris", "contacts": null, "notes": null, "internal_notes": "VIP",
        "payment_details": "{\"method\":\"bank_transfer\",\"beneficiary_name\":\"Chloé Dubois\",\"iban\":\"DE89 3704 0044 0532 0130 00\",\"currency\":\"EUR\"}",
        "referred_by": 1007, "referral_commission": "7.5000", "managers_assigned": [8],
        "custom_fields": {"traffic_source": "YouTube", "monthly_visitors": 120000, "verified": true},
        "tags": ["tier:gold", "influencer"], "external_id": "impact:55004",
        "created_at": "2024-03-02T10:15:00Z", "updated_at": "2026-09-30T08:00:00Z"
    })
}

#[test]
fn an_affiliate_reads_with_tier_sponsor_and_masked_payout() {
    let record = partners::to_record(&affiliate(), "tier:").expect("a partner");
    assert_eq!((record.source_platform.as_str(), record.source_id.as_str()), ("scaleo", "1042"));
    assert_eq!(record.updated_at, at(1_790_755_200));
    let Entity::Partner(partner) = &record.entity else { panic!("{record:?}") };
    assert_eq!(partner.name.as_deref(), Some("Chloé Dubois"));
    assert_eq!(partner.status, Some(PartnerStatus::Active));
    assert_eq!(partner.tier.as_deref(), Some("gold"));
    assert_eq!(partner.parent, Some(Reference::new(EntityKind::Partner, "1007")));
    let payout = partner.payout.as_ref().expect("payout details");
    assert_eq!(payout.method.as_deref(), Some("bank_transfer"));
    assert_eq!(payout.account_reference.as_deref(), Some("****3000"), "an IBAN is masked");
    assert_eq!(payout.currency, Some(Currency::EUR));
    assert!(!format!("{record:?}").contains("0532"), "the IBAN is not carried");
    let custom = &record.custom_fields;
    assert_eq!(custom["tags"], CustomValue::List(vec![CustomValue::Text("influencer".into())]));
    assert_eq!(custom["monthly_visitors"], CustomValue::Integer(120_000));
    assert_eq!(custom["verified"], CustomValue::Boolean(true));
    assert_eq!(custom["referral_commission"], CustomValue::Decimal(Decimal::new(75, 1)));
    assert_eq!(custom["external_id"], CustomValue::Text("impact:55004".into()));
    assert_eq!(custom["country"], CustomValue::Integer(3_017_382));
}

#[test]
fn a_sparse_affiliate_reads_with_what_it_has() {
    let sparse = json!({"id": "7", "email": "x@example.org", "firstname": null, "lastname": null,
                        "company_name": "日本アフィリエイト株式会社", "status": 3, "payment_details": null, "tags": "vip, ",
                        "created_at": "2025-01-01T00:00:00Z", "updated_at": null});
    let record = partners::to_record(&sparse, "tier:").expect("a partner");
    let Entity::Partner(partner) = &record.entity else { panic!("{record:?}") };
    assert_eq!((partner.name.as_deref(), partner.company.as_deref()), (None, Some("日本アフィリエイト株式会社")));
    assert_eq!(
        (partner.status, partner.tier.as_deref(), partner.payout.as_ref()),
        (Some(PartnerStatus::Pending), None, None)
    );
    assert_eq!(record.updated_at, at(1_735_689_600), "no updated_at: created_at");
    let crypto = json!({"id": 8, "status": 1, "updated_at": "2026-01-01T00:00:00Z",
                        "payment_details": "{\"method\":\"crypto\",\"wallet\":\"TXYZabcd1234\",\"currency\":\"USDT\"}"});
    let record = partners::to_record(&crypto, "tier:").expect("a partner");
    let Entity::Partner(partner) = &record.entity else { panic!("{record:?}") };
    let payout = partner.payout.as_ref().expect("details");
    assert_eq!((payout.account_reference.as_deref(), payout.currency), (Some("****1234"), None));
    assert_eq!(record.custom_fields["payout_currency"], CustomValue::Text("USDT".into()), "kept, not dropped");
}

#[test]
fn a_broken_affiliate_is_refused_with_a_reason_that_shows_no_secret() {
    let mut broken = affiliate();
    broken["payment_details"] = json!(r#"{"method": "paypal", "paypal_email": "secret@example.org"#);
    let reason = partners::to_record(&broken, "tier:").expect_err("not JSON");
    assert_eq!(reason.code, "invalid_payment_details");
    assert!(!reason.message.contains("secret@"), "{}", reason.message);
    let raw = partners::redacted(&broken.to_string());
    assert!(raw.contains("[redacted]") && !raw.contains("secret@") && raw.contains("Chloé"), "{raw}");
    for (field, value, code) in [
        ("status", json!(9), "unmappable_value"),
        ("id", json!(null), "malformed_record"),
        ("created_at", json!("yesterday"), "invalid_date"),
    ] {
        let mut item = affiliate();
        item[field] = value;
        assert_eq!(partners::to_record(&item, "tier:").expect_err(field).code, code, "{field}");
    }
    let mut timeless = affiliate();
    timeless["updated_at"] = Value::Null;
    timeless["created_at"] = Value::Null;
    assert_eq!(partners::to_record(&timeless, "tier:").expect_err("no time").code, "malformed_record");
}

fn partner_record(partner: Partner) -> Record {
    Record::new("partnerize", "p-1", at(1_767_225_600), Entity::Partner(partner))
}

#[test]
fn a_partner_is_written_as_scaleo_takes_an_affiliate() {
    let mut record = partner_record(Partner {
        name: Some("Zoë  van Dijk".into()),
        email: Some(" zoe@example.org ".into()),
        status: Some(PartnerStatus::Inactive),
        tier: Some("silver".into()),
        parent: Some(Reference::new(EntityKind::Partner, "1007")),
        payout: Some(PayoutDetails {
            method: Some("paypal".into()),
            account_reference: Some("zoe@pay.example".into()),
            currency: Some(Currency::GBP),
        }),
        ..Partner::default()
    });
    record.custom_fields.insert("tags".into(), CustomValue::List(vec![CustomValue::Text("coupon".into())]));
    record.custom_fields.insert("phone".into(), CustomValue::Text("+44 20 7946 0018".into()));
    record.custom_fields.insert("score".into(), CustomValue::Decimal(Decimal::new(125, 2)));
    record.custom_fields.insert("external_id".into(), CustomValue::Text("impact:1".into()));
    let write = partners::from_record(&record, "tier:").expect("an affiliate");
    let body = &write.body;
    assert_eq!(write.email, "zoe@example.org");
    assert_eq!((body["firstname"].as_str(), body["lastname"].as_str()), (Some("Zoë"), Some("van Dijk")));
    assert_eq!(body["status"], 2, "inactive is written as disabled");
    assert_eq!(body["tags"], json!(["tier:silver", "coupon"]));
    assert_eq!(body["phone"], "+44 20 7946 0018", "a custom field that is a Scaleo field goes to it");
    assert_eq!(body["custom_fields"], json!({"score": "1.25"}), "decimals as text, the key slot left to the write");
    let details: Value =
        serde_json::from_str(body["payment_details"].as_str().unwrap_or("")).expect("JSON in a string");
    assert_eq!(details, json!({"method": "paypal", "account": "zoe@pay.example", "currency": "GBP"}));
    assert_eq!(write.parent, Some(Reference::new(EntityKind::Partner, "1007")));
    let mut held = Value::Object(body.clone());
    held["email"] = json!("ZOE@example.org");
    held["payment_details"] = json!("{\"currency\":\"GBP\",\"account\":\"zoe@pay.example\",\"method\":\"paypal\"}");
    assert!(partners::holds(&held, body), "compared by content, email case aside");
    held["tags"] = json!(["tier:silver"]);
    assert!(!partners::holds(&held, body));
    let nameless = partner_record(Partner { email: None, ..Partner::default() });
    assert_eq!(partners::from_record(&nameless, "tier:").expect_err("no email").code, "missing_email");
    let contact = Record::new("x", "1", at(0), Entity::Contact(Contact::default()));
    assert_eq!(partners::from_record(&contact, "tier:").expect_err("a contact").code, "wrong_entity");
}

#[test]
fn offers_read_their_default_goal_as_the_commission() {
    let offer = json!({"id": 3, "title": "Sakura Cosmetics 🌸 Trial Kit", "description": "", "status": 1, "visible_type": 2,
        "currency": "JPY", "c_lifespan": 45, "url": "https://sakura.example/?utm_source=scaleo", "preview_url": null,
        "goals": [{"id": 9, "title": "Upsell", "payout_type": "percent", "payout": "5.0000", "currency": "JPY", "is_default": 0},
                  {"id": 8, "title": "Lead", "payout_type": "fixed", "payout": "1500.0000", "currency": "JPY", "is_default": 1}],
        "created_at": "2024-01-01T00:00:00Z", "updated_at": "2026-02-02T00:00:00Z"});
    let record = programs::to_record(&offer).expect("a program");
    let Entity::Program(program) = &record.entity else { panic!("{record:?}") };
    assert_eq!(program.commission_flat, Some(Money::new(Decimal::new(1500, 0), Currency::JPY)));
    assert_eq!((program.commission_percent, program.active, program.cookie_days), (None, Some(false), Some(45)));
    assert_eq!(program.description, None, "an empty description is none");
    assert_eq!(record.custom_fields["offer_status"], CustomValue::Text("testing".into()));
    assert_eq!(record.custom_fields["visibility"], CustomValue::Text("by_request".into()));
    let mut cents = offer.clone();
    cents["goals"][1]["payout"] = json!("1500.5000");
    assert_eq!(programs::to_record(&cents).expect_err("yen have no cents").code, "amount_precision");
    let body = programs::from_record(&record).expect("an offer");
    assert_eq!(body["goals"][0]["payout_type"], "fixed");
    assert_eq!((body["currency"].as_str(), body["status"].as_u64()), (Some("JPY"), Some(1)), "testing survives");
    assert!(programs::holds(&offer, &body), "an offer read and written back is unchanged");
}

fn conversion_row() -> Value {
    json!({"transaction_id": "0f6e4c1a-2b3c-4d5e-a6f7-8091a2b3c4d5", "click_id": "8c0a0fda0318fe8ad26ee3638dd808e6",
           "added_timestamp": 1_767_225_600, "conversion_status": "hold", "affiliate": {"id": 1042, "name": "Chloé"},
           "offer": {"id": 3, "title": "Sakura"}, "goal": {"id": 8, "title": "Sale"}, "currency": "eur",
           "advertiser_amount": "49.9000", "payout": "7.4900", "revenue": "9.9800", "advertiser_order_id": "#1043",
           "promo_code": "CHLOÉ20", "sub_id1": "", "sub_id2": null, "sub_id3": "größe-test", "sub_id4": null, "sub_id5": null,
           "invoice_id": null})
}

#[test]
fn conversions_read_in_every_status_and_refuse_bad_money() {
    let record = conversions::to_record(&conversion_row()).expect("a conversion");
    let Entity::Conversion(conversion) = &record.entity else { panic!("{record:?}") };
    assert_eq!(conversion.status, Some(ConversionStatus::Pending), "hold is pending");
    assert_eq!(
        conversion.amount,
        Some(Money::new(Decimal::new(4990, 2), Currency::EUR)),
        "lower-case eur reads as EUR"
    );
    assert_eq!(conversion.click, Some(Reference::new(EntityKind::Click, "8c0a0fda0318fe8ad26ee3638dd808e6")));
    assert_eq!(conversion.order_id.as_deref(), Some("#1043"));
    assert_eq!(record.custom_fields["scaleo_status"], CustomValue::Text("hold".into()));
    let sub_ids = CustomValue::List(["", "", "größe-test"].map(|id| CustomValue::Text(id.into())).into());
    assert_eq!(record.custom_fields["sub_ids"], sub_ids, "gaps kept, trailing ones off");
    for (status, expected) in [
        ("approved", ConversionStatus::Approved),
        ("trash", ConversionStatus::Rejected),
        ("rejected", ConversionStatus::Rejected),
    ] {
        let mut row = conversion_row();
        row["conversion_status"] = json!(status);
        let Entity::Conversion(read) = conversions::to_record(&row).expect(status).entity else { panic!() };
        assert_eq!(read.status, Some(expected), "{status}");
    }
    for (field, value, code) in [
        ("currency", json!("XBT"), "unknown_currency"),
        ("conversion_status", json!("paid"), "unmappable_value"),
        ("advertiser_amount", json!("49.905"), "amount_precision"),
        ("advertiser_amount", json!("49,90"), "invalid_amount"),
    ] {
        let mut row = conversion_row();
        row[field] = value;
        assert_eq!(conversions::to_record(&row).expect_err(field).code, code, "{field}");
    }
    let mut yen = conversion_row();
    yen["currency"] = json!("JPY");
    yen["advertiser_amount"] = json!("1200.5000");
    let reason = conversions::to_record(&yen).expect_err("yen have no cents");
    assert_eq!(reason.code, "amount_precision");
    assert!(reason.message.contains("1200.5 JPY"), "{}", reason.message);
}

#[test]
fn commissions_come_from_the_payout_and_the_sponsors_share() {
    let sponsor =
        |affiliate: u64| (affiliate == 1042).then_some(conversions::Sponsor { id: 1007, rate: Decimal::new(75, 1) });
    let unpaid = |_: u64| false;
    let mut row = conversion_row();
    row["conversion_status"] = json!("approved");
    let records: Vec<Record> =
        conversions::commissions(&row, &sponsor, &unpaid).into_iter().map(|made| made.expect("made")).collect();
    let ids: Vec<&str> = records.iter().map(|record| record.source_id.as_str()).collect();
    assert_eq!(ids, ["0f6e4c1a-2b3c-4d5e-a6f7-8091a2b3c4d5:1", "0f6e4c1a-2b3c-4d5e-a6f7-8091a2b3c4d5:2"]);
    let Entity::Commission(own) = &records[0].entity else { panic!() };
    assert_eq!(
        (own.amount, own.status, own.level),
        (Some(Money::new(Decimal::new(749, 2), Currency::EUR)), Some(CommissionStatus::Approved), Some(1))
    );
    let Entity::Commission(share) = &records[1].entity else { panic!() };
    // 7.49 × 7.5 % = 0.56175, half to even at cents: 0.56.
    assert_eq!(share.amount, Some(Money::new(Decimal::new(56, 2), Currency::EUR)));
    assert_eq!(share.partner, Some(Reference::new(EntityKind::Partner, "1007")));
    row["invoice_id"] = json!(77);
    let paid = |invoice: u64| invoice == 77;
    let records: Vec<Record> =
        conversions::commissions(&row, &sponsor, &paid).into_iter().map(|made| made.expect("made")).collect();
    let Entity::Commission(own) = &records[0].entity else { panic!() };
    assert_eq!(
        (own.status, own.payout.as_ref().map(|payout| payout.source_id.as_str())),
        (Some(CommissionStatus::Paid), Some("77"))
    );
    let Entity::Commission(share) = &records[1].entity else { panic!() };
    assert_eq!(
        (share.status, share.payout.as_ref()),
        (Some(CommissionStatus::Approved), None),
        "a referral share is not on the invoice"
    );
    row["payout"] = json!("0.0000");
    assert!(conversions::commissions(&row, &sponsor, &paid).is_empty(), "no payout, no commission");
    row["currency"] = json!("XBT");
    row["payout"] = json!("1.0000");
    let made = conversions::commissions(&row, &sponsor, &paid);
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].as_ref().expect_err("not ISO").code, "unknown_currency");
}

#[test]
fn a_conversion_is_written_on_its_offer_with_its_key() {
    let conversion = cutover_sdk::schema::Conversion {
        order_id: Some("1000".into()),
        amount: Some(Money::new(Decimal::new(4990, 2), Currency::EUR)),
        status: Some(ConversionStatus::Reversed),
        converted_at: Some(at(1_767_225_600) + chrono::Duration::milliseconds(250)),
        click: Some(Reference::new(EntityKind::Click, "clk-000001")),
        partner: Some(Reference::new(EntityKind::Partner, "1042")),
        ..cutover_sdk::schema::Conversion::default()
    };
    let mut record = Record::new("partnerize", "c-1", at(0), Entity::Conversion(conversion));
    assert_eq!(conversions::from_record(&record, None).expect_err("no offer").code, "missing_program");
    let write = conversions::from_record(&record, Some(3)).expect("a conversion");
    assert_eq!((write.offer_id, write.status), (3, "rejected"));
    assert_eq!(write.body["date"], "2026-01-01 00:00:00", "Y-m-d H:i:s, to the second");
    assert_eq!((write.body["amount"].as_str(), write.body["currency"].as_str()), (Some("49.9"), Some("EUR")));
    assert_eq!(write.body["adv_track_id"], "partnerize:c-1");
    assert!(write.body.get("click_id").is_none(), "a click of another platform is not sent");
    record.custom_fields.insert("scaleo_status".into(), CustomValue::Text("trash".into()));
    assert_eq!(conversions::from_record(&record, Some(3)).expect("trash").status, "trash", "Scaleo's own word wins");
    let row = json!({"advertiser_amount": "49.9000", "currency": "EUR"});
    assert!(conversions::same_sale(&row, &write.body));
}

#[test]
fn clicks_keep_sub_id_gaps_and_an_address_that_is_not_one() {
    let row = json!({"transaction_id": "8c0a0fda0318fe8ad26ee3638dd808e6", "added_timestamp": "1767225600",
        "affiliate": {"id": 1042}, "offer": {"id": 3}, "link": {"id": 12, "title": "LP"}, "sub_id1": null, "sub_id2": "bf2026",
        "sub_id3": null, "sub_id4": null, "sub_id5": null, "ip": "unknown", "geo": {"code": "DE"}, "browser": "Firefox 133"});
    let link_of = |offer: u64, affiliate: u64, link: Option<u64>| {
        (offer == 3 && affiliate == 1042 && link == Some(12)).then_some(501)
    };
    let record = clicks::to_record(&row, &link_of).expect("a click");
    let Entity::Click(click) = &record.entity else { panic!() };
    assert_eq!(click.sub_ids, ["", "bf2026"]);
    assert_eq!((click.ip, click.clicked_at), (None, Some(at(1_767_225_600))));
    assert_eq!(click.tracking_link, Some(Reference::new(EntityKind::TrackingLink, "501")));
    assert_eq!(record.custom_fields["ip_raw"], CustomValue::Text("unknown".into()));
    assert_eq!(record.custom_fields["geo"], CustomValue::Text("DE".into()));
    let mut v6 = row.clone();
    v6["ip"] = json!("2001:db8::1");
    let Entity::Click(click) = clicks::to_record(&v6, &link_of).expect("a click").entity else { panic!() };
    assert!(click.ip.is_some_and(|ip| ip.is_ipv6()));
    let mut untimed = row;
    untimed["added_timestamp"] = Value::Null;
    assert_eq!(clicks::to_record(&untimed, &link_of).expect_err("no time").code, "malformed_record");
}

#[test]
fn promo_codes_need_a_currency_for_a_fixed_discount() {
    let code = json!({"id": 5, "code": "SØREN15", "offer_id": null, "affiliate_id": 1042, "status": 2, "discount_type": "fixed",
                      "discount_value": "7.5000", "currency": null, "updated_at": "2026-01-01T00:00:00Z"});
    assert_eq!(coupons::to_record(&code).expect_err("no currency").code, "missing_currency");
    let mut percent = code.clone();
    percent["discount_type"] = json!("percent");
    let record = coupons::to_record(&percent).expect("a coupon");
    let Entity::CouponCode(coupon) = &record.entity else { panic!() };
    assert_eq!(
        (coupon.discount, coupon.active, coupon.program.clone()),
        (Some(Discount::Percentage(Decimal::new(75, 1))), Some(false), None)
    );
    let mut free = record.clone();
    if let Entity::CouponCode(coupon) = &mut free.entity {
        coupon.discount = Some(Discount::FreeShipping);
    }
    let body = coupons::from_record(&free).expect("a promo code");
    assert_eq!(
        (&body["discount_type"], &body["offer_id"]),
        (&Value::Null, &Value::Null),
        "free shipping has no place in Scaleo"
    );
    let body = coupons::from_record(&record).expect("a promo code");
    assert!(coupons::holds(&percent, &body));
}

#[test]
fn access_items_are_links_with_their_landing_page() {
    let item = json!({"id": 501, "offer_id": 3, "affiliate_id": 1042, "link_id": 12, "status": "pending",
        "tracking_link": "https://nordlight.scaletrk.com/click?o=3&a=1042&link_id=12",
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z"});
    let record = links::to_record(&item, &[(12, "https://sakura.example/lp/1".into())]).expect("a link");
    let Entity::TrackingLink(link) = &record.entity else { panic!() };
    assert_eq!(link.destination_url.as_deref(), Some("https://sakura.example/lp/1"));
    assert_eq!(record.custom_fields["access_status"], CustomValue::Text("pending".into()));
    let write = links::from_record(&record, None).expect("an access");
    assert_eq!((write.affiliate_id, write.offer_id, write.status.as_str()), (1042, 3, "pending"));
    let mut orphan = record;
    if let Entity::TrackingLink(link) = &mut orphan.entity {
        link.partner = Some(Reference::new(EntityKind::Partner, "k7"));
    }
    assert_eq!(links::from_record(&orphan, None).expect_err("not a Scaleo id").code, "unresolved_reference");
}

#[test]
fn invoices_read_as_payouts_and_are_written_with_their_key() {
    let invoice = json!({"id": 77, "invoice_number": "INV-2026-00077", "date": "2026-09-01", "status": "draft",
        "amount": {"value": "1234.5600", "currency": "EUR"}, "referral_commission": {"value": "0.0000", "currency": "EUR"},
        "period": {"start_date": "2026-08-01", "end_date": "2026-08-31"}, "affiliate": {"id": 1042, "name": "Chloé"},
        "payment_method": {"id": 2, "title": "Bank Transfer (SEPA)"}, "paid_at": null, "internal_notes": null,
        "created_at": "2026-09-01T06:00:00Z", "updated_at": "2026-09-01T06:00:00Z"});
    let record = payouts::to_record(&invoice).expect("a payout");
    let Entity::Payout(payout) = &record.entity else { panic!() };
    assert_eq!((payout.status, payout.method.as_deref()), (Some(PayoutStatus::Pending), Some("Bank Transfer (SEPA)")));
    assert_eq!(payout.amount, Some(Money::new(Decimal::new(123_456, 2), Currency::EUR)));
    assert_eq!(record.custom_fields["scaleo_status"], CustomValue::Text("draft".into()));
    let write = payouts::from_record(&record).expect("an invoice");
    assert_eq!((write.body["status"].as_str(), write.body["start_date"].as_str()), (Some("draft"), Some("2026-08-01")));
    assert_eq!(write.body["internal_notes"], "cutover:scaleo:77");
    let mut sent = invoice.clone();
    sent["status"] = json!("draft");
    assert_eq!(payouts::holds(&sent, &write.body), (true, true));
    let mut odd = invoice;
    odd["status"] = json!("refunded");
    assert_eq!(payouts::to_record(&odd).expect_err("unknown status").code, "unmappable_value");
}
