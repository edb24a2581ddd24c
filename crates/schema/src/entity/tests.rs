//! Entity tests: every kind round-trips in JSON and binary, its references
//! are listed and rewritten, and the reference table matches the types.

use super::*;
use crate::{Currency, CustomFieldType, Money, Record, format_compact};
use chrono::{NaiveDate, TimeZone};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn instant() -> DateTime<Utc> {
    Utc.timestamp_opt(1_767_225_600, 123_456_789).unwrap()
}

fn money(cents: i64) -> Option<Money> {
    Some(Money::new(Decimal::new(cents, 2), Currency::EUR))
}

fn to(entity: EntityKind, source_id: &str) -> Option<Reference> {
    Some(Reference::new(entity, source_id))
}

/// An entity of `kind` with its references, instants and decimals filled in.
fn sample(kind: EntityKind) -> Entity {
    use EntityKind as K;
    let at = Some(instant());
    match kind {
        K::Contact => {
            Entity::Contact(Contact { email: Some("Ada@Example.com".into()), created_at: at, ..Contact::default() })
        }
        K::Company => Entity::Company(Company {
            name: Some("Analytical Engines".into()),
            annual_revenue: money(100_000_000),
            owner: to(K::Owner, "o1"),
            parent: to(K::Company, "co0"),
            created_at: at,
            ..Company::default()
        }),
        K::Deal => Entity::Deal(Deal {
            stage: Some("proposal".into()),
            status: Some(DealStatus::Open),
            amount: money(1_250_000),
            close_date: NaiveDate::from_ymd_opt(2026, 3, 31),
            owner: to(K::Owner, "o1"),
            company: to(K::Company, "co1"),
            contacts: vec![Reference::new(K::Contact, "c1"), Reference::new(K::Contact, "c2")],
            created_at: at,
            ..Deal::default()
        }),
        K::Owner => {
            Entity::Owner(Owner { email: Some("sales@example.com".into()), active: Some(true), ..Owner::default() })
        }
        K::Note => Entity::Note(Note {
            kind: Some(NoteKind::Call),
            body: Some("Called about the renewal.".into()),
            occurred_at: at,
            owner: to(K::Owner, "o1"),
            attached_to: vec![Reference::new(K::Deal, "d1")],
            ..Note::default()
        }),
        K::Association => Entity::Association(Association {
            from: to(K::Contact, "c1"),
            to: to(K::Company, "co1"),
            label: Some("primary company".into()),
        }),
        K::List => Entity::List(List { name: Some("Newsletter".into()), created_at: at, ..List::default() }),
        K::Membership => Entity::Membership(Membership {
            list: to(K::List, "l1"),
            contact: to(K::Contact, "c1"),
            consent: Consent {
                email: Some(ConsentState {
                    status: ConsentStatus::Subscribed,
                    source: Some("signup form".into()),
                    method: Some("double_opt_in".into()),
                    changed_at: at,
                    ip: Some("192.0.2.7".parse().unwrap()),
                }),
                sms: Some(ConsentState::new(ConsentStatus::Unsubscribed)),
                ..Consent::default()
            },
            tags: vec!["vip".into()],
            joined_at: at,
            ..Membership::default()
        }),
        K::Tag => Entity::Tag(Tag { name: Some("vip".into()), list: to(K::List, "l1") }),
        K::Segment => Entity::Segment(Segment {
            name: Some("Engaged".into()),
            list: to(K::List, "l1"),
            definition: Some(json!({"match": "all", "conditions": [{"field": "opened", "op": "within", "days": 30}]})),
        }),
        K::Campaign => Entity::Campaign(Campaign {
            subject: Some("Spring".into()),
            status: Some(CampaignStatus::Sent),
            lists: vec![Reference::new(K::List, "l1")],
            segments: vec![Reference::new(K::Segment, "s1")],
            send_at: at,
            ..Campaign::default()
        }),
        K::EngagementEvent => Entity::EngagementEvent(EngagementEvent {
            kind: Some(EngagementKind::Click),
            occurred_at: at,
            campaign: to(K::Campaign, "cm1"),
            contact: to(K::Contact, "c1"),
            list: to(K::List, "l1"),
            url: Some("https://example.com/spring".into()),
            ..EngagementEvent::default()
        }),
        K::Partner => Entity::Partner(Partner {
            name: Some("Byron Media".into()),
            status: Some(PartnerStatus::Active),
            tier: Some("gold".into()),
            parent: to(K::Partner, "p0"),
            payout: Some(PayoutDetails {
                method: Some("paypal".into()),
                account_reference: Some("payouts@byron.example".into()),
                currency: Some(Currency::USD),
            }),
            created_at: at,
            ..Partner::default()
        }),
        K::Program => Entity::Program(Program {
            name: Some("Spring offer".into()),
            kind: Some(ProgramKind::Offer),
            commission_percent: Some(Decimal::new(125, 1)),
            commission_flat: money(5_00),
            ..Program::default()
        }),
        K::TrackingLink => Entity::TrackingLink(TrackingLink {
            url: Some("https://trk.example/p1".into()),
            partner: to(K::Partner, "p1"),
            program: to(K::Program, "pr1"),
            created_at: at,
            ..TrackingLink::default()
        }),
        K::CouponCode => Entity::CouponCode(CouponCode {
            code: Some("BYRON10".into()),
            partner: to(K::Partner, "p1"),
            program: to(K::Program, "pr1"),
            discount_code: to(K::DiscountCode, "dc1"),
            discount: Some(Discount::Percentage(Decimal::new(10, 0))),
            active: Some(true),
        }),
        K::Click => Entity::Click(Click {
            click_id: Some("clk-9f2".into()),
            sub_ids: vec!["newsletter".into(), "".into(), "spring".into()],
            clicked_at: at,
            partner: to(K::Partner, "p1"),
            tracking_link: to(K::TrackingLink, "tl1"),
            program: to(K::Program, "pr1"),
            ip: Some("2001:db8::1".parse().unwrap()),
            ..Click::default()
        }),
        K::Conversion => Entity::Conversion(Conversion {
            order_id: Some("1001".into()),
            amount: money(99_90),
            status: Some(ConversionStatus::Approved),
            converted_at: at,
            click: to(K::Click, "clk-9f2"),
            partner: to(K::Partner, "p1"),
            program: to(K::Program, "pr1"),
            customer: to(K::Customer, "cu1"),
            order: to(K::Order, "or1"),
        }),
        K::Commission => Entity::Commission(Commission {
            amount: money(9_99),
            status: Some(CommissionStatus::Paid),
            level: Some(2),
            conversion: to(K::Conversion, "cv1"),
            partner: to(K::Partner, "p0"),
            payout: to(K::Payout, "po1"),
            created_at: at,
        }),
        K::Payout => Entity::Payout(Payout {
            partner: to(K::Partner, "p0"),
            amount: money(9_99),
            status: Some(PayoutStatus::Paid),
            paid_at: at,
            ..Payout::default()
        }),
        K::Customer => Entity::Customer(Customer {
            email: Some("ada@example.com".into()),
            contact: to(K::Contact, "c1"),
            total_spent: money(99_90),
            created_at: at,
            ..Customer::default()
        }),
        K::Order => Entity::Order(Order {
            order_number: Some("#1001".into()),
            customer: to(K::Customer, "cu1"),
            status: Some(OrderStatus::Paid),
            total: money(99_90),
            line_items: vec![LineItem {
                sku: Some("ENG-1".into()),
                quantity: Some(Decimal::new(15, 1)),
                unit_price: money(66_60),
                ..LineItem::default()
            }],
            shipping_address: Some(Address {
                city: Some("London".into()),
                country: Some("GB".into()),
                ..Address::default()
            }),
            placed_at: at,
            ..Order::default()
        }),
        K::DiscountCode => Entity::DiscountCode(DiscountCode {
            code: Some("SPRING".into()),
            discount: Some(Discount::FixedAmount(Money::new(Decimal::new(500, 0), Currency::JPY))),
            starts_at: at,
            ends_at: at,
            ..DiscountCode::default()
        }),
        K::CustomFieldDefinition => Entity::CustomFieldDefinition(CustomFieldDefinition {
            name: Some("plan".into()),
            entity: Some(K::Contact),
            field_type: Some(CustomFieldType::Text),
            options: vec![FieldOption { value: "pro".into(), label: Some("Pro".into()) }],
            ..CustomFieldDefinition::default()
        }),
        K::Integration => Entity::Integration(Integration {
            kind: Some(IntegrationKind::Webhook),
            target_url: Some("https://hooks.example.com/orders".into()),
            events: vec!["order.created".into()],
            created_at: at,
            ..Integration::default()
        }),
    }
}

fn record(kind: EntityKind) -> Record {
    Record::new("x", "1", instant(), sample(kind))
}

fn check(kind: EntityKind, expected: &[(&str, EntityKind, &str)]) {
    let entity = sample(kind);
    let found: Vec<(&str, EntityKind, &str)> = entity
        .references()
        .into_iter()
        .map(|(field, reference)| (field, reference.entity, reference.source_id.as_str()))
        .collect();
    assert_eq!(found, expected, "{}", kind.as_str());
}

#[test]
fn references_are_listed_with_their_fields() {
    use EntityKind as K;
    check(K::Contact, &[]);
    check(K::Company, &[("owner", K::Owner, "o1"), ("parent", K::Company, "co0")]);
    check(
        K::Deal,
        &[
            ("owner", K::Owner, "o1"),
            ("company", K::Company, "co1"),
            ("contacts", K::Contact, "c1"),
            ("contacts", K::Contact, "c2"),
        ],
    );
    check(K::Association, &[("from", K::Contact, "c1"), ("to", K::Company, "co1")]);
    check(K::Membership, &[("list", K::List, "l1"), ("contact", K::Contact, "c1")]);
    check(K::Campaign, &[("lists", K::List, "l1"), ("segments", K::Segment, "s1")]);
    check(K::Partner, &[("parent", K::Partner, "p0")]);
    check(
        K::Click,
        &[("partner", K::Partner, "p1"), ("tracking_link", K::TrackingLink, "tl1"), ("program", K::Program, "pr1")],
    );
    check(
        K::Commission,
        &[("conversion", K::Conversion, "cv1"), ("partner", K::Partner, "p0"), ("payout", K::Payout, "po1")],
    );
    check(K::Order, &[("customer", K::Customer, "cu1")]);
    check(K::Integration, &[]);
}

#[test]
fn references_are_rewritten_in_place() {
    for &kind in EntityKind::ALL {
        let mut entity = sample(kind);
        let count = entity.references().len();
        for (_, reference) in entity.references_mut() {
            reference.source_id = format_compact!("target-{}", reference.source_id);
        }
        let rewritten = entity.references();
        assert_eq!(rewritten.len(), count);
        assert!(rewritten.iter().all(|(_, reference)| reference.source_id.starts_with("target-")), "{}", kind.as_str());
    }
}

#[test]
fn every_kind_round_trips_in_json_and_binary() {
    for &kind in EntityKind::ALL {
        let record = record(kind);
        assert_eq!(record.entity.kind(), kind);
        let json = serde_json::to_string(&record).unwrap();
        assert!(json.contains(&format!(r#""entity":{{"{}":"#, kind.as_str())), "{json}");
        assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), record, "{json}");
        let bytes = rmp_serde::to_vec_named(&record).unwrap();
        assert_eq!(rmp_serde::from_slice::<Record>(&bytes).unwrap(), record, "{}", kind.as_str());
        assert!(
            !String::from_utf8_lossy(&bytes).contains("2026-01-01"),
            "{}: instants take their binary form",
            kind.as_str()
        );
    }
}

#[test]
fn an_empty_entity_is_an_empty_object() {
    let json = r#"{"source_platform":"x","source_id":"1","updated_at":"2026-01-01T00:00:00Z","entity":{"deal":{}}}"#;
    let record: Record = serde_json::from_str(json).unwrap();
    assert_eq!(record.entity, Entity::Deal(Deal::default()));
    assert_eq!(serde_json::to_string(&record).unwrap(), json);
}

#[test]
fn money_and_consent_have_stable_json() {
    let Entity::Membership(membership) = sample(EntityKind::Membership) else { unreachable!() };
    assert_eq!(
        serde_json::to_value(&membership.consent).unwrap(),
        json!({
            "email": {
                "status": "subscribed",
                "source": "signup form",
                "method": "double_opt_in",
                "changed_at": "2026-01-01T00:00:00.123456789Z",
                "ip": "192.0.2.7",
            },
            "sms": {"status": "unsubscribed"},
        })
    );
    let Entity::Order(order) = sample(EntityKind::Order) else { unreachable!() };
    assert_eq!(serde_json::to_value(order.total).unwrap(), json!({"amount": "99.90", "currency": "EUR"}));
    assert_eq!(serde_json::to_value(Discount::Percentage(Decimal::new(15, 1))).unwrap(), json!({"percentage": "1.5"}));
    assert_eq!(serde_json::to_value(Discount::FreeShipping).unwrap(), json!("free_shipping"));
}

#[test]
fn suppressions_are_the_statuses_that_forbid_marketing() {
    use ConsentStatus as S;
    let all = [S::Subscribed, S::Pending, S::NonSubscribed, S::Unsubscribed, S::Bounced, S::Cleaned, S::Suppressed];
    let suppressions: Vec<ConsentStatus> = all.into_iter().filter(|status| status.is_suppression()).collect();
    assert_eq!(suppressions, [S::Unsubscribed, S::Bounced, S::Cleaned, S::Suppressed]);
}

/// The serialized name of each variant in an enum's schema: the constant of a
/// unit variant, the single property of a newtype variant.
fn variant_names(schema: &Value) -> Vec<String> {
    schema["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| variant.get("const").unwrap_or(&variant["required"][0]).as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn kinds_all_as_str_and_serde_agree() {
    let names: Vec<&str> = EntityKind::ALL.iter().map(|kind| kind.as_str()).collect();
    let kind_schema = serde_json::to_value(schemars::schema_for!(EntityKind)).unwrap();
    assert_eq!(variant_names(&kind_schema), names, "EntityKind::ALL lists every kind, in order");
    let entity_schema = serde_json::to_value(schemars::schema_for!(Entity)).unwrap();
    assert_eq!(variant_names(&entity_schema), names, "Entity and EntityKind have the same variants");
    for &kind in EntityKind::ALL {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
    }
}

/// Whether a property's schema holds a `Reference`, alone, optional or in a list.
fn holds_reference(property: &Value) -> bool {
    property.to_string().contains("#/$defs/Reference")
}

#[test]
fn the_reference_table_lists_every_reference_field() {
    let schema = serde_json::to_value(schemars::schema_for!(Entity)).unwrap();
    let mut from_types = BTreeMap::new();
    for variant in schema["oneOf"].as_array().unwrap() {
        let name = variant["required"][0].as_str().unwrap();
        let target = variant["properties"][name]["$ref"].as_str().unwrap().trim_start_matches("#/$defs/");
        let properties = schema["$defs"][target]["properties"].as_object().unwrap();
        let mut fields: Vec<&str> = properties
            .iter()
            .filter(|(_, property)| holds_reference(property))
            .map(|(field, _)| field.as_str())
            .collect();
        fields.sort_unstable();
        from_types.insert(target.to_owned(), fields);
    }
    let from_table: BTreeMap<String, Vec<&str>> = REFERENCE_FIELDS
        .iter()
        .map(|(entity, fields)| {
            let mut fields = fields.to_vec();
            fields.sort_unstable();
            ((*entity).to_owned(), fields)
        })
        .collect();
    assert_eq!(from_table, from_types);
}

#[test]
fn the_load_order_holds_every_kind_once() {
    let mut ordered: Vec<EntityKind> = EntityKind::LOAD_ORDER.to_vec();
    ordered.sort();
    let mut all: Vec<EntityKind> = EntityKind::ALL.to_vec();
    all.sort();
    assert_eq!(ordered, all);
}

#[test]
fn the_load_order_puts_referenced_kinds_first() {
    let before = |first: EntityKind, then: EntityKind| {
        assert!(first.load_rank() < then.load_rank(), "{first:?} before {then:?}")
    };
    before(EntityKind::Owner, EntityKind::Company);
    before(EntityKind::Company, EntityKind::Contact);
    before(EntityKind::Contact, EntityKind::Membership);
    before(EntityKind::List, EntityKind::Membership);
    before(EntityKind::Membership, EntityKind::Deal);
    before(EntityKind::Deal, EntityKind::EngagementEvent);
    before(EntityKind::Partner, EntityKind::TrackingLink);
    before(EntityKind::TrackingLink, EntityKind::Click);
    before(EntityKind::Click, EntityKind::Conversion);
    before(EntityKind::Order, EntityKind::Conversion);
    before(EntityKind::Conversion, EntityKind::Commission);
    before(EntityKind::Payout, EntityKind::Commission);
}

#[test]
fn references_can_be_removed_by_field_and_kinds_know_whether_they_have_any() {
    let mut deal = Entity::Deal(Deal {
        company: Some(Reference::new(EntityKind::Company, "c1")),
        contacts: vec![Reference::new(EntityKind::Contact, "p1"), Reference::new(EntityKind::Contact, "p2")],
        ..Deal::default()
    });
    let removed = deal.retain_references(|field, reference| field == "company" || reference.source_id != "p1");
    assert_eq!(removed, 1);
    let left: Vec<&str> = deal.references().into_iter().map(|(_, reference)| reference.source_id.as_str()).collect();
    assert_eq!(left, ["c1", "p2"]);
    assert_eq!(deal.retain_references(|field, _| field != "company"), 1);
    assert!(EntityKind::Partner.has_references());
    assert!(!EntityKind::Contact.has_references());
    assert!(!EntityKind::Integration.has_references());
}
