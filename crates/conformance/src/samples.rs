//! Records the kit writes to destination streams.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cutover_schema::{
    Address, Association, Campaign, CampaignStatus, Click, Commission, CommissionStatus, Company, Consent,
    ConsentState, ConsentStatus, Contact, Conversion, ConversionStatus, CouponCode, Currency, CustomFieldDefinition,
    CustomFieldType, CustomValue, Customer, Deal, DealStatus, Discount, DiscountCode, EngagementEvent, EngagementKind,
    Entity, EntityKind, FieldOption, Integration, IntegrationKind, LineItem, List, Membership, Money, Note, NoteKind,
    Order, OrderStatus, Owner, Partner, PartnerStatus, Payout, PayoutDetails, PayoutStatus, Program, ProgramKind,
    Record, Reference, Segment, Tag, TrackingLink, format_compact,
};
use rust_decimal::Decimal;

/// Names in several scripts, so that every stream carries non-ASCII text.
const NAMES: [&str; 4] = ["Zoë", "José", "美咲", "Дмитрий"];

/// Text that breaks naive CSV and JSON writers.
const AWKWARD: &str = "O'Brien, \"Jr\"\nline two";

/// The domain of the samples' email addresses, unless the kit is told another.
pub(crate) const EMAIL_DOMAIN: &str = "example.org";

/// `count` distinct records of `entity`, with UTF-8 text and typed custom
/// fields; email addresses are at `email_domain` (a platform may refuse the
/// reserved `example.org` as fake).
pub(crate) fn records(entity: EntityKind, count: usize, email_domain: &str) -> Vec<Record> {
    (0..count)
        .map(|index| {
            let updated_at = Utc.timestamp_opt(1_767_225_600 + index as i64, 0).single().unwrap_or_default();
            let mut record =
                Record::new("conformance", format!("k{index}"), updated_at, body(entity, index, updated_at));
            record.custom_fields.insert("score".into(), CustomValue::Decimal(Decimal::new(index as i64 * 125, 2)));
            record.custom_fields.insert("tags".into(), CustomValue::List(vec![CustomValue::Text("vip".into())]));
            if email_domain.eq_ignore_ascii_case(EMAIL_DOMAIN) {
                return record;
            }
            // Addresses only: a URL's host has no `@` before it.
            let json = serde_json::to_string(&record).unwrap_or_default();
            let moved = json
                .replace("@Example.org", &format!("@{email_domain}"))
                .replace("@example.org", &format!("@{email_domain}"));
            serde_json::from_str(&moved).unwrap_or(record)
        })
        .collect()
}

/// A reference to the sample record `index` of another stream.
fn to(entity: EntityKind, index: usize) -> Option<Reference> {
    Some(Reference::new(entity, format_compact!("k{index}")))
}

fn euros(cents: usize) -> Option<Money> {
    Some(Money::new(Decimal::new(cents as i64, 2), Currency::EUR))
}

/// The entity of sample `index`: every kind has its main fields, a reference
/// where it has one, and an instant with sub-second precision where it has one.
fn body(entity: EntityKind, index: usize, updated_at: DateTime<Utc>) -> Entity {
    use EntityKind as K;
    let name = NAMES[index % NAMES.len()];
    let at = Some(updated_at + chrono::Duration::milliseconds(index as i64 % 1000));
    match entity {
        K::Contact => Entity::Contact(Contact {
            email: Some(format_compact!("Conformance.{index}@Example.org")),
            first_name: Some(name.into()),
            last_name: Some(AWKWARD.into()),
            ..Contact::default()
        }),
        K::Company => Entity::Company(Company {
            name: Some(format_compact!("{name} {index} GmbH")),
            domain: Some(format_compact!("company{index}.example")),
            address: Some(Address { city: Some("Zürich".into()), country: Some("CH".into()), ..Address::default() }),
            annual_revenue: euros(100_000 * index),
            owner: to(K::Owner, index),
            created_at: at,
            ..Company::default()
        }),
        K::Deal => Entity::Deal(Deal {
            name: Some(format_compact!("Deal {index} with {name}")),
            pipeline: Some("Sales".into()),
            stage: Some("proposal".into()),
            status: Some(DealStatus::Open),
            amount: euros(1_999 + index),
            close_date: NaiveDate::from_ymd_opt(2026, 1 + (index % 12) as u32, 28),
            company: to(K::Company, index),
            contacts: vec![Reference::new(K::Contact, format_compact!("k{index}"))],
            created_at: at,
            ..Deal::default()
        }),
        K::Owner => Entity::Owner(Owner {
            email: Some(format_compact!("owner.{index}@example.org")),
            first_name: Some(name.into()),
            active: Some(index.is_multiple_of(2)),
            ..Owner::default()
        }),
        K::Note => Entity::Note(Note {
            kind: Some(NoteKind::Call),
            body: Some(format!("{AWKWARD} — note {index}")),
            occurred_at: at,
            attached_to: vec![Reference::new(K::Contact, format_compact!("k{index}"))],
            ..Note::default()
        }),
        K::Association => Entity::Association(Association {
            from: to(K::Contact, index),
            to: to(K::Company, index),
            label: Some("primary company".into()),
        }),
        K::List => Entity::List(List {
            name: Some(format_compact!("{name}'s list {index}")),
            double_opt_in: Some(true),
            created_at: at,
            ..List::default()
        }),
        K::Membership => Entity::Membership(Membership {
            list: to(K::List, 0),
            email: Some(format_compact!("Conformance.{index}@Example.org")),
            consent: Consent {
                email: Some(ConsentState {
                    status: [ConsentStatus::Subscribed, ConsentStatus::Unsubscribed, ConsentStatus::Cleaned][index % 3],
                    source: Some("signup form".into()),
                    method: Some("double_opt_in".into()),
                    changed_at: at,
                    ip: Some([192, 0, 2, (index % 250) as u8].into()),
                }),
                ..Consent::default()
            },
            tags: vec!["vip".into()],
            joined_at: at,
            ..Membership::default()
        }),
        K::Tag => Entity::Tag(Tag { name: Some(format_compact!("{name} tag {index}")), list: to(K::List, 0) }),
        K::Segment => Entity::Segment(Segment {
            name: Some(format_compact!("Segment {index}")),
            list: to(K::List, 0),
            definition: Some(serde_json::json!({"match": "all", "conditions": [{"field": "score", "gt": index}]})),
        }),
        K::Campaign => Entity::Campaign(Campaign {
            name: Some(format_compact!("Campaign {index}")),
            subject: Some(format_compact!("Hello {name}")),
            status: Some(CampaignStatus::Sent),
            lists: vec![Reference::new(K::List, "k0")],
            send_at: at,
            ..Campaign::default()
        }),
        K::EngagementEvent => Entity::EngagementEvent(EngagementEvent {
            kind: Some(EngagementKind::Click),
            occurred_at: at,
            campaign: to(K::Campaign, 0),
            contact: to(K::Contact, index),
            url: Some(format_compact!("https://example.org/offer?item={index}")),
            ..EngagementEvent::default()
        }),
        K::Partner => Entity::Partner(Partner {
            name: Some(format_compact!("{name} Media {index}")),
            email: Some(format_compact!("partner.{index}@example.org")),
            status: Some(PartnerStatus::Active),
            tier: Some("gold".into()),
            parent: if index == 0 { None } else { to(K::Partner, 0) },
            payout: Some(PayoutDetails {
                method: Some("paypal".into()),
                account_reference: Some(format_compact!("payouts.{index}@example.org")),
                currency: Some(Currency::USD),
            }),
            created_at: at,
            ..Partner::default()
        }),
        K::Program => Entity::Program(Program {
            name: Some(format_compact!("Program {index}")),
            kind: Some(ProgramKind::Program),
            commission_percent: Some(Decimal::new(125, 1)),
            cookie_days: Some(30),
            active: Some(true),
            ..Program::default()
        }),
        K::TrackingLink => Entity::TrackingLink(TrackingLink {
            url: Some(format_compact!("https://trk.example.org/{index}")),
            partner: to(K::Partner, index),
            program: to(K::Program, 0),
            created_at: at,
            ..TrackingLink::default()
        }),
        K::CouponCode => Entity::CouponCode(CouponCode {
            code: Some(format_compact!("PARTNER{index}")),
            partner: to(K::Partner, index),
            discount: Some(Discount::Percentage(Decimal::new(10, 0))),
            active: Some(true),
            ..CouponCode::default()
        }),
        K::Click => Entity::Click(Click {
            click_id: Some(format_compact!("clk-{index:06}")),
            sub_ids: vec!["newsletter".into(), "".into(), name.into()],
            clicked_at: at,
            partner: to(K::Partner, index),
            tracking_link: to(K::TrackingLink, index),
            user_agent: Some("Mozilla/5.0 (conformance)".into()),
            ..Click::default()
        }),
        K::Conversion => Entity::Conversion(Conversion {
            order_id: Some(format_compact!("{}", 1000 + index)),
            amount: euros(4_990 + index),
            status: Some(ConversionStatus::Approved),
            converted_at: at,
            click: to(K::Click, index),
            partner: to(K::Partner, index),
            ..Conversion::default()
        }),
        K::Commission => Entity::Commission(Commission {
            amount: euros(499 + index),
            status: Some(CommissionStatus::Approved),
            level: Some(1),
            conversion: to(K::Conversion, index),
            partner: to(K::Partner, index),
            created_at: at,
            ..Commission::default()
        }),
        K::Payout => Entity::Payout(Payout {
            partner: to(K::Partner, index),
            amount: euros(10_000 + index),
            status: Some(PayoutStatus::Paid),
            method: Some("paypal".into()),
            paid_at: at,
            ..Payout::default()
        }),
        K::Customer => Entity::Customer(Customer {
            email: Some(format_compact!("Customer.{index}@Example.org")),
            first_name: Some(name.into()),
            last_name: Some(AWKWARD.into()),
            total_spent: euros(12_345 + index),
            created_at: at,
            ..Customer::default()
        }),
        K::Order => Entity::Order(Order {
            order_number: Some(format_compact!("#{}", 1000 + index)),
            customer: to(K::Customer, index),
            status: Some(OrderStatus::Paid),
            total: Some(Money::new(Decimal::new(3_000 + index as i64, 0), Currency::JPY)),
            line_items: vec![LineItem {
                sku: Some(format_compact!("SKU-{index}")),
                name: Some(name.into()),
                quantity: Some(Decimal::new(15, 1)),
                unit_price: Some(Money::new(Decimal::new(2_000, 0), Currency::JPY)),
                ..LineItem::default()
            }],
            placed_at: at,
            ..Order::default()
        }),
        K::DiscountCode => Entity::DiscountCode(DiscountCode {
            code: Some(format_compact!("SAVE{index}")),
            discount: Some(Discount::FixedAmount(Money::new(Decimal::new(500, 2), Currency::GBP))),
            starts_at: at,
            usage_limit: Some(100),
            active: Some(true),
            ..DiscountCode::default()
        }),
        K::CustomFieldDefinition => Entity::CustomFieldDefinition(CustomFieldDefinition {
            name: Some(format_compact!("field_{index}")),
            label: Some(format_compact!("{name} field")),
            entity: Some(K::Contact),
            field_type: Some(CustomFieldType::Text),
            options: vec![FieldOption { value: "a".into(), label: Some(name.into()) }],
            ..CustomFieldDefinition::default()
        }),
        K::Integration => Entity::Integration(Integration {
            name: Some(format_compact!("Webhook {index}")),
            kind: Some(IntegrationKind::Webhook),
            target_url: Some(format_compact!("https://hooks.example.org/{index}")),
            events: vec!["subscribe".into(), "unsubscribe".into()],
            active: Some(true),
            created_at: at,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_kind_has_distinct_records_of_its_kind() {
        for &kind in EntityKind::ALL {
            let samples = records(kind, 5, EMAIL_DOMAIN);
            assert!(samples.iter().all(|record| record.entity.kind() == kind), "{}", kind.as_str());
            let bodies: HashSet<String> =
                samples.iter().map(|record| serde_json::to_string(&record.entity).unwrap()).collect();
            assert_eq!(bodies.len(), 5, "{}: every sample differs", kind.as_str());
        }
    }
}
