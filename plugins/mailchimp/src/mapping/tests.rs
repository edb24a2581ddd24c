//! Mapping both ways: every member status, consent provenance, merge field
//! types, the consent rule on writes, and idempotence of the comparison.

use super::*;
use chrono::TimeZone;
use cutover_sdk::schema::Membership;

const LIST: &str = "9e67587f52";

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, hour, 0, 0).unwrap()
}

fn member_json(status: &str) -> Value {
    json!({
        "id": crate::client::subscriber_hash("ada@cutover-test.io"),
        "email_address": "Ada@cutover-test.io",
        "status": status,
        "unsubscribe_reason": if status == "unsubscribed" { "Other" } else { "" },
        "sms_subscription_status": "",
        "merge_fields": {
            "FNAME": "Ada",
            "LNAME": "Lovelace",
            "ADDRESS": {"addr1": "1 Main St", "addr2": "", "city": "Springfield", "state": "IL", "zip": "62701", "country": "US"},
            "PHONE": "",
            "SCORE": 42,
            "RATIO": "12.50",
            "JOINED": "2024-05-06",
            "BIRTHDAY": "05/06",
        },
        "ip_signup": "203.0.113.7",
        "timestamp_signup": "2026-03-01T08:00:00+00:00",
        "ip_opt": "203.0.113.8",
        "timestamp_opt": "2026-03-01T09:00:00+00:00",
        "member_rating": 3,
        "last_changed": "2026-03-01T10:00:00+00:00",
        "language": "en",
        "vip": false,
        "email_type": "html",
        "marketing_permissions": [{"marketing_permission_id": "p1", "text": "Email", "enabled": true}],
        "source": "Hosted Signup Form",
        "tags": [{"id": 1, "name": "vip"}],
        "list_id": LIST,
    })
}

fn types() -> MergeTypes {
    [("FNAME", "text"), ("LNAME", "text"), ("ADDRESS", "address"), ("PHONE", "phone"), ("SCORE", "number")]
        .into_iter()
        .chain([("RATIO", "number"), ("JOINED", "date"), ("BIRTHDAY", "birthday")])
        .map(|(tag, kind)| (tag.to_owned(), kind.to_owned()))
        .collect()
}

fn api(raw: &Value) -> ApiMember {
    serde_json::from_value(raw.clone()).unwrap()
}

fn membership_of(record: &Record) -> &Membership {
    match &record.entity {
        Entity::Membership(membership) => membership,
        other => panic!("not a membership: {other:?}"),
    }
}

/// Reads a member of `status` and checks its email consent.
fn check_read(status: &str, expected: ConsentStatus, changed_at: DateTime<Utc>, consent_ip: Option<&str>) {
    let record = membership(LIST, &api(&member_json(status)), &member_json(status), &types()).unwrap();
    let membership = membership_of(&record);
    let consent = membership.consent.email.as_ref().unwrap();
    assert_eq!(consent.status, expected, "{status}");
    assert_eq!(consent.changed_at, Some(changed_at), "{status}");
    assert_eq!(consent.ip, consent_ip.map(|address| address.parse().unwrap()), "{status}");
    assert_eq!(consent.source.as_deref(), Some("Hosted Signup Form"), "{status}");
    assert_eq!(record.custom_fields.get(STATUS_FIELD), Some(&CustomValue::Text(status.into())), "{status}");
}

#[test]
fn every_member_status_reads_as_its_consent_with_provenance() {
    check_read("subscribed", ConsentStatus::Subscribed, at(9), Some("203.0.113.8"));
    check_read("pending", ConsentStatus::Pending, at(8), Some("203.0.113.7"));
    check_read("transactional", ConsentStatus::NonSubscribed, at(10), None);
    check_read("unsubscribed", ConsentStatus::Unsubscribed, at(10), None);
    check_read("cleaned", ConsentStatus::Cleaned, at(10), None);
    check_read("archived", ConsentStatus::NonSubscribed, at(10), None);
}

#[test]
fn no_member_status_reads_as_subscribed_except_subscribed() {
    for status in ["unsubscribed", "cleaned", "pending", "transactional", "archived"] {
        let consent = MemberStatus::parse(status).unwrap().consent();
        assert_ne!(consent, ConsentStatus::Subscribed, "{status}");
    }
    for status in ["unsubscribed", "cleaned"] {
        assert!(MemberStatus::parse(status).unwrap().consent().is_suppression(), "{status}");
    }
}

#[test]
fn a_member_reads_with_its_list_person_tags_and_typed_merge_fields() {
    let record = membership(LIST, &api(&member_json("unsubscribed")), &member_json("unsubscribed"), &types()).unwrap();
    let hash = crate::client::subscriber_hash("ada@cutover-test.io");
    assert_eq!(record.source_id, format!("{LIST}:{hash}"));
    assert_eq!(record.updated_at, at(10));
    let membership = membership_of(&record);
    assert_eq!(membership.list, Some(Reference::new(EntityKind::List, LIST)));
    assert_eq!(membership.contact, Some(Reference::new(EntityKind::Contact, hash.as_str())));
    assert_eq!(membership.email.as_deref(), Some("Ada@cutover-test.io"));
    assert_eq!(membership.tags, vec![CompactString::from("vip")]);
    assert_eq!(membership.joined_at, Some(at(8)));
    let field = |name: &str| record.custom_fields.get(name).cloned();
    assert_eq!(field("FNAME"), Some(CustomValue::Text("Ada".into())));
    assert_eq!(field("SCORE"), Some(CustomValue::Integer(42)));
    assert_eq!(field("RATIO"), Some(CustomValue::Decimal(Decimal::new(1250, 2))));
    assert_eq!(field("JOINED"), Some(CustomValue::Date(NaiveDate::from_ymd_opt(2024, 5, 6).unwrap())));
    assert_eq!(field("BIRTHDAY"), Some(CustomValue::Text("05/06".into())));
    assert_eq!(field("ADDRESS.city"), Some(CustomValue::Text("Springfield".into())));
    assert_eq!(field("ADDRESS.addr2"), None, "empty parts are left out");
    assert_eq!(field("PHONE"), None, "empty merge fields are left out");
    assert_eq!(field("marketing_permission.Email"), Some(CustomValue::Boolean(true)));
    assert_eq!(field("unsubscribe_reason"), Some(CustomValue::Text("Other".into())));
}

#[test]
fn a_member_with_an_invalid_address_is_a_reject_with_its_location() {
    let mut raw = member_json("subscribed");
    raw["email_address"] = Value::from("ada.cutover-test.io");
    for result in [membership(LIST, &api(&raw), &raw, &types()), contact(LIST, &api(&raw), &raw, &types())] {
        let reject = result.unwrap_err();
        assert_eq!(reject.reason.code, "invalid_email");
        assert_eq!(reject.location, format!("lists/{LIST}/members/{}", raw["id"].as_str().unwrap()));
        assert!(reject.raw.contains("ada.cutover-test.io"));
    }
    raw["email_address"] = Value::from("ada@cutover-test.io");
    raw["status"] = Value::from("frozen");
    assert_eq!(membership(LIST, &api(&raw), &raw, &types()).unwrap_err().reason.code, "unmappable_value");
}

#[test]
fn a_member_reads_as_a_contact_keyed_by_the_subscriber_hash() {
    let record = contact(LIST, &api(&member_json("subscribed")), &member_json("subscribed"), &types()).unwrap();
    assert_eq!(record.source_id, crate::client::subscriber_hash("ada@cutover-test.io"));
    let Entity::Contact(contact) = &record.entity else { panic!("not a contact") };
    assert_eq!(contact.first_name.as_deref(), Some("Ada"));
    assert_eq!(contact.last_name.as_deref(), Some("Lovelace"));
    assert_eq!(contact.created_at, Some(at(8)));
    assert!(!record.custom_fields.contains_key("FNAME"), "typed fields are not repeated");
    assert_eq!(record.custom_fields.get("SCORE"), Some(&CustomValue::Integer(42)));
}

#[test]
fn every_canonical_status_writes_as_a_mailchimp_status() {
    let check = |consent: Option<ConsentStatus>, expected: MemberStatus| {
        assert_eq!(write_status(consent), expected, "{consent:?}");
    };
    check(Some(ConsentStatus::Subscribed), MemberStatus::Subscribed);
    check(Some(ConsentStatus::Pending), MemberStatus::Pending);
    check(Some(ConsentStatus::NonSubscribed), MemberStatus::Transactional);
    check(None, MemberStatus::Transactional);
    check(Some(ConsentStatus::Unsubscribed), MemberStatus::Unsubscribed);
    check(Some(ConsentStatus::Suppressed), MemberStatus::Unsubscribed);
    check(Some(ConsentStatus::Bounced), MemberStatus::Cleaned);
    check(Some(ConsentStatus::Cleaned), MemberStatus::Cleaned);
}

fn canonical(status: Option<ConsentStatus>) -> Record {
    let consent = status.map(|status| ConsentState {
        status,
        source: None,
        method: None,
        changed_at: Some(at(9)),
        ip: Some("192.0.2.1".parse().unwrap()),
    });
    let mut record = Record::new(
        "other",
        "m1",
        at(10),
        Entity::Membership(Membership {
            email: Some(" Grace@Cutover-Test.io ".into()),
            consent: Consent { email: consent, ..Consent::default() },
            tags: vec!["vip".into()],
            joined_at: Some(at(8)),
            ..Membership::default()
        }),
    );
    record.custom_fields.insert("FNAME".into(), CustomValue::Text("Grace".into()));
    record.custom_fields.insert("SCORE".into(), CustomValue::Integer(7));
    record.custom_fields.insert("ADDRESS.city".into(), CustomValue::Text("Arlington".into()));
    record.custom_fields.insert("not_a_merge_field".into(), CustomValue::Text("kept out".into()));
    record.custom_fields.insert("marketing_permission.Email".into(), CustomValue::Boolean(true));
    record
}

fn existing(status: MemberStatus) -> Existing {
    Existing { status: Some(status), ..Existing::default() }
}

/// The `status` a batch item sends for `consent` over a member in `stored`
/// (`None`: a new member).
fn check_write(consent: Option<ConsentStatus>, stored: Option<MemberStatus>, expected_status: Option<MemberStatus>) {
    let write = member_write(&canonical(consent), &types()).unwrap();
    let stored = stored.map(existing);
    let item = batch_item(&write, stored.as_ref(), &BTreeMap::new());
    assert_eq!(item["status_if_new"], Value::from(write_status(consent).as_str()), "{consent:?} over {stored:?}");
    let sent = item.get("status").and_then(Value::as_str).and_then(MemberStatus::parse);
    assert_eq!(sent, expected_status, "{consent:?} over {stored:?}");
}

#[test]
fn an_existing_member_only_moves_towards_a_suppression() {
    use ConsentStatus as C;
    use MemberStatus as M;
    for stored in [M::Unsubscribed, M::Cleaned, M::Subscribed, M::Pending, M::Transactional, M::Archived] {
        check_write(Some(C::Subscribed), Some(stored), None);
        check_write(Some(C::Pending), Some(stored), None);
        check_write(Some(C::NonSubscribed), Some(stored), None);
        check_write(None, Some(stored), None);
        check_write(Some(C::Unsubscribed), Some(stored), Some(M::Unsubscribed));
        check_write(Some(C::Suppressed), Some(stored), Some(M::Unsubscribed));
        check_write(Some(C::Cleaned), Some(stored), Some(M::Cleaned));
        check_write(Some(C::Bounced), Some(stored), Some(M::Cleaned));
    }
}

#[test]
fn a_new_member_gets_its_status() {
    use ConsentStatus as C;
    use MemberStatus as M;
    check_write(Some(C::Subscribed), None, Some(M::Subscribed));
    check_write(Some(C::Pending), None, Some(M::Pending));
    check_write(Some(C::NonSubscribed), None, Some(M::Transactional));
    check_write(Some(C::Unsubscribed), None, Some(M::Unsubscribed));
    check_write(Some(C::Cleaned), None, Some(M::Cleaned));
}

#[test]
fn a_membership_writes_its_merge_fields_tags_permissions_and_provenance() {
    let write = member_write(&canonical(Some(ConsentStatus::Subscribed)), &types()).unwrap();
    assert_eq!(write.email, "Grace@Cutover-Test.io");
    assert_eq!(write.hash, crate::client::subscriber_hash("grace@cutover-test.io"));
    let permission_ids = BTreeMap::from([("Email".to_owned(), "p1".to_owned())]);
    let item = batch_item(&write, None, &permission_ids);
    assert_eq!(
        item,
        json!({
            "email_address": "Grace@Cutover-Test.io",
            "status_if_new": "subscribed",
            "status": "subscribed",
            "merge_fields": {"FNAME": "Grace", "SCORE": 7, "ADDRESS": {"city": "Arlington"}},
            "tags": ["vip"],
            "marketing_permissions": [{"marketing_permission_id": "p1", "enabled": true}],
            "timestamp_signup": "2026-03-01T08:00:00+00:00",
            "timestamp_opt": "2026-03-01T09:00:00+00:00",
            "ip_opt": "192.0.2.1",
        })
    );
    // An unsubscribe carries no opt-in evidence.
    let write = member_write(&canonical(Some(ConsentStatus::Unsubscribed)), &types()).unwrap();
    let item = batch_item(&write, None, &permission_ids);
    assert_eq!(item.get("timestamp_opt"), None);
    assert_eq!(item.get("ip_opt"), None);
}

#[test]
fn a_membership_without_a_usable_address_is_refused() {
    let mut record = canonical(Some(ConsentStatus::Subscribed));
    if let Entity::Membership(membership) = &mut record.entity {
        membership.email = Some("grace.example".into());
    }
    assert_eq!(member_write(&record, &types()).unwrap_err().code, "invalid_email");
    if let Entity::Membership(membership) = &mut record.entity {
        membership.email = None;
    }
    assert_eq!(member_write(&record, &types()).unwrap_err().code, "missing_email");
    record.entity = Entity::Contact(Contact::default());
    assert_eq!(member_write(&record, &types()).unwrap_err().code, "wrong_entity");
}

#[test]
fn a_member_read_back_is_unchanged_and_a_new_tag_is_a_change() {
    // What Mailchimp holds after the write, as it renders it.
    let stored: ApiMember = serde_json::from_value(json!({
        "id": crate::client::subscriber_hash("grace@cutover-test.io"),
        "email_address": "grace@cutover-test.io",
        "status": "subscribed",
        "merge_fields": {"FNAME": "Grace", "SCORE": "7", "ADDRESS": {"addr1": "", "city": "Arlington"}},
        "tags": [{"id": 1, "name": "vip"}],
        "marketing_permissions": [{"marketing_permission_id": "p1", "text": "Email", "enabled": true}],
        "timestamp_signup": "2026-03-01T08:00:00+00:00",
        "timestamp_opt": "2026-03-01T09:00:00+00:00",
        "ip_opt": "192.0.2.1",
    }))
    .unwrap();
    let stored = Existing::of(&stored);
    let mut record = canonical(Some(ConsentStatus::Subscribed));
    assert!(!changes(&member_write(&record, &types()).unwrap(), &stored));
    if let Entity::Membership(membership) = &mut record.entity {
        membership.tags.push("new".into());
    }
    assert!(changes(&member_write(&record, &types()).unwrap(), &stored));
    // A suppression over a subscribed member is a change.
    let record = canonical(Some(ConsentStatus::Unsubscribed));
    assert!(changes(&member_write(&record, &types()).unwrap(), &stored));
}

#[test]
fn merge_values_are_typed_by_the_field_type() {
    let check = |kind: Option<&str>, value: Value, expected: Option<CustomValue>| {
        assert_eq!(merge_value(kind, &value), expected, "{kind:?} {value}");
    };
    check(Some("number"), json!(5), Some(CustomValue::Integer(5)));
    check(Some("number"), json!("2.5"), Some(CustomValue::Decimal(Decimal::new(25, 1))));
    check(Some("number"), json!("lots"), Some(CustomValue::Text("lots".into())));
    check(Some("number"), json!(""), None);
    check(Some("date"), json!("2026-01-02"), Some(CustomValue::Date(NaiveDate::from_ymd_opt(2026, 1, 2).unwrap())));
    check(Some("text"), json!(12), Some(CustomValue::Text("12".into())));
    check(Some("text"), json!(null), None);
    check(None, json!(true), Some(CustomValue::Boolean(true)));
}

#[test]
fn activity_becomes_one_event_per_action_with_stable_ids() {
    let item: ApiEmailActivity = serde_json::from_value(json!({
        "email_id": "h1", "email_address": "ada@cutover-test.io", "list_id": LIST,
        "activity": [
            {"action": "open", "timestamp": "2026-03-01T11:00:00+00:00", "ip": "198.51.100.7"},
            {"action": "click", "timestamp": "2026-03-01T12:00:00+00:00", "url": "https://x.test/a"},
            {"action": "bounce", "type": "soft", "timestamp": "2026-03-01T09:00:00+00:00"},
        ],
    }))
    .unwrap();
    let events = activity_events("c1", Some(at(9)), &item);
    let summary: Vec<(String, Option<EngagementKind>, Option<DateTime<Utc>>)> = events
        .iter()
        .map(|record| match &record.entity {
            Entity::EngagementEvent(event) => (record.source_id.to_string(), event.kind, event.occurred_at),
            _ => panic!("not an event"),
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("c1:h1:sent".into(), Some(EngagementKind::Sent), Some(at(9))),
            ("c1:h1:0".into(), Some(EngagementKind::Open), Some(at(11))),
            ("c1:h1:1".into(), Some(EngagementKind::Click), Some(at(12))),
            ("c1:h1:2".into(), Some(EngagementKind::Bounce), Some(at(9))),
        ]
    );
    let Entity::EngagementEvent(click) = &events[2].entity else { panic!() };
    assert_eq!(click.url.as_deref(), Some("https://x.test/a"));
    assert_eq!(click.contact, Some(Reference::new(EntityKind::Contact, "h1")));
    assert_eq!(events[3].custom_fields.get("bounce_type"), Some(&CustomValue::Text("soft".into())));
    let unsubscribe: ApiUnsubscribe = serde_json::from_value(
        json!({"email_id": "h1", "timestamp": "2026-03-02T00:00:00+00:00", "reason": "Other", "list_id": LIST}),
    )
    .unwrap();
    let record = unsubscribe_event("c1", &unsubscribe);
    assert_eq!(record.source_id, "c1:h1:unsubscribe");
}
