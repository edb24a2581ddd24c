use super::*;
use chrono::TimeZone;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().unwrap()
}

fn profile() -> Value {
    json!({
        "type": "profile",
        "id": "01GDDKASAP8TKDDA2GRZDSVP4H",
        "attributes": {
            "email": "Zoe@Example.org",
            "phone_number": "+442079460018",
            "external_id": "crm-17",
            "first_name": "Zoë",
            "last_name": "O'Brien",
            "organization": "Acme",
            "locale": "en-GB",
            "title": null,
            "image": null,
            "created": "2024-01-02T03:04:05+00:00",
            "updated": "2025-06-07T08:09:10+00:00",
            "location": {"city": "London", "country": "GB", "zip": "", "latitude": 51.5, "longitude": -0.12},
            "properties": {
                "plan": "gold",
                "visits": 12,
                "ltv": 123.45,
                "vip": true,
                "birthday": "1990-05-17",
                "last_login": "2025-06-01T10:00:00Z",
                "interests": ["shoes", "bags"],
                "prefs": {"colour": "red"},
                "title": "Dr",
                "nothing": null,
            }
        }
    })
}

#[test]
fn a_profile_reads_as_a_contact_with_every_property_typed() {
    let record = profile_record(&profile()).unwrap();
    assert_eq!(record.source_platform, "klaviyo");
    assert_eq!(record.source_id, "01GDDKASAP8TKDDA2GRZDSVP4H");
    assert_eq!(record.updated_at, Utc.with_ymd_and_hms(2025, 6, 7, 8, 9, 10).unwrap());
    let Entity::Contact(contact) = &record.entity else { panic!("{record:?}") };
    assert_eq!(contact.email.as_deref(), Some("Zoe@Example.org"));
    assert_eq!(contact.phone.as_deref(), Some("+442079460018"));
    assert_eq!(contact.first_name.as_deref(), Some("Zoë"));
    assert_eq!(contact.company.as_deref(), Some("Acme"));
    assert_eq!(contact.created_at, Some(Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()));
    let field = |name: &str| record.custom_fields.get(name).cloned();
    assert_eq!(field("external_id"), Some(CustomValue::Text("crm-17".into())));
    assert_eq!(field("locale"), Some(CustomValue::Text("en-GB".into())));
    assert_eq!(field("title"), None);
    assert_eq!(field("location.city"), Some(CustomValue::Text("London".into())));
    assert_eq!(field("location.zip"), None);
    assert_eq!(field("location.latitude"), Some(CustomValue::Decimal(Decimal::new(515, 1))));
    assert_eq!(field("plan"), Some(CustomValue::Text("gold".into())));
    assert_eq!(field("visits"), Some(CustomValue::Integer(12)));
    assert_eq!(field("ltv"), Some(CustomValue::Decimal(Decimal::new(12345, 2))));
    assert_eq!(field("vip"), Some(CustomValue::Boolean(true)));
    assert_eq!(field("birthday"), Some(CustomValue::Date(NaiveDate::from_ymd_opt(1990, 5, 17).unwrap())));
    assert_eq!(field("last_login"), Some(CustomValue::DateTime(Utc.with_ymd_and_hms(2025, 6, 1, 10, 0, 0).unwrap())));
    assert_eq!(
        field("interests"),
        Some(CustomValue::List(vec![CustomValue::Text("shoes".into()), CustomValue::Text("bags".into())]))
    );
    assert_eq!(field("prefs"), Some(CustomValue::Text(r#"{"colour":"red"}"#.into())));
    // A property named like a standard attribute keeps its value apart.
    assert_eq!(field("properties.title"), Some(CustomValue::Text("Dr".into())));
    assert_eq!(field("nothing"), None);
}

#[test]
fn a_contact_read_from_klaviyo_writes_back_as_the_same_profile() {
    let original = profile();
    let record = profile_record(&original).unwrap();
    let attributes = profile_attributes(&record).unwrap();
    assert!(profile_holds(&original, &attributes), "{attributes:#?}");
    assert_eq!(attributes["properties"]["title"], json!("Dr"));
    assert_eq!(attributes["external_id"], json!("crm-17"));
    assert_eq!(attributes["location"]["latitude"], json!(51.5));
    // Something else changes the answer.
    let mut changed = original.clone();
    changed["attributes"]["properties"]["plan"] = json!("silver");
    assert!(!profile_holds(&changed, &attributes));
    changed = original.clone();
    changed["attributes"]["email"] = json!("zoe@example.org");
    assert!(profile_holds(&changed, &attributes), "emails compare without case");
    changed = original;
    changed["attributes"]["properties"]["last_login"] = json!("2025-06-01T10:00:00+00:00");
    assert!(profile_holds(&changed, &attributes), "instants compare as instants");
}

fn contact(email: Option<&str>, phone: Option<&str>) -> Record {
    Record::new(
        "mailchimp",
        "m1",
        at(1_700_000_000),
        Entity::Contact(Contact { email: email.map(Into::into), phone: phone.map(Into::into), ..Contact::default() }),
    )
}

#[test]
fn contacts_need_an_identifier_and_a_real_phone_number() {
    let check = |record: Record, expected: Result<Value, &str>| match (profile_attributes(&record), expected) {
        (Ok(attributes), Ok(expected)) => assert_eq!(Value::Object(attributes), expected),
        (Err(reason), Err(code)) => assert_eq!(reason.code, code, "{}", reason.message),
        (got, expected) => panic!("{got:?} but expected {expected:?}"),
    };
    check(contact(Some(" a@b.org "), None), Ok(json!({"email": "a@b.org"})));
    check(contact(None, Some("+44 20 7946 0018")), Ok(json!({"phone_number": "+442079460018"})));
    check(contact(None, Some("12")), Err("invalid_phone"));
    // With an email to find the profile by, an unreadable number is kept as given.
    check(
        contact(Some("ada@mailbox.org"), Some("+1 555 0105")),
        Ok(json!({"email": "ada@mailbox.org", "properties": {"phone_as_given": "+1 555 0105"}})),
    );
    check(contact(None, None), Err("no_identifier"));
    let mut by_external_id = contact(None, None);
    by_external_id.custom_fields.insert("external_id".into(), CustomValue::Integer(42));
    check(by_external_id, Ok(json!({"external_id": "42"})));
    let list = Record::new("x", "1", at(0), Entity::List(List::default()));
    check(list, Err("wrong_entity"));
}

#[test]
fn custom_values_round_trip_through_properties() {
    let check = |value: CustomValue, json: Value| {
        assert_eq!(property_value(&value), json, "{value:?}");
        assert_eq!(custom_value(&json), Some(value));
    };
    check(CustomValue::Text("plain".into()), json!("plain"));
    check(CustomValue::Integer(-3), json!(-3));
    check(CustomValue::Decimal(Decimal::new(1050, 2)), json!(10.5));
    check(CustomValue::Boolean(false), json!(false));
    check(CustomValue::Date(NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()), json!("2026-02-28"));
    check(CustomValue::DateTime(at(1_767_225_600)), json!("2026-01-01T00:00:00Z"));
    check(CustomValue::List(vec![CustomValue::Integer(1), CustomValue::Text("a".into())]), json!([1, "a"]));
    // More digits than a JSON number keeps: written as text.
    let exact = Decimal::from_str("12345678901234567890.123456789").unwrap();
    assert_eq!(property_value(&CustomValue::Decimal(exact)), json!("12345678901234567890.123456789"));
    assert_eq!(custom_value(&Value::Null), None);
}

fn marketing(value: Value) -> Value {
    json!({"id": "P1", "attributes": {"email": "a@b.org", "subscriptions": {"email": {"marketing": value}}}})
}

fn check_consent(
    marketing_block: Value,
    list: Option<&str>,
    expected: Result<Option<(ConsentStatus, Option<&str>)>, &str>,
) {
    let got = email_consent(&marketing(marketing_block.clone()), list)
        .map(|state| state.map(|state| (state.status, state.method.as_deref().map(str::to_owned))));
    let expected =
        expected.map(|state| state.map(|(status, method)| (status, method.map(str::to_owned)))).map_err(str::to_owned);
    assert_eq!(got.map_err(|reason| reason.code), expected, "{marketing_block}");
}

#[test]
fn every_klaviyo_consent_state_reads_as_its_canonical_status() {
    let suppressed = |reason: &str| {
        json!({"consent": "SUBSCRIBED", "method": "FORM", "consent_timestamp": "2024-01-01T00:00:00+00:00",
               "suppression": [{"reason": reason, "timestamp": "2025-01-01T00:00:00+00:00"}], "list_suppressions": []})
    };
    check_consent(
        json!({"consent": "SUBSCRIBED", "method": "FORM", "method_detail": "popup", "double_optin": true,
               "consent_timestamp": "2024-01-01T00:00:00+00:00", "suppression": [], "list_suppressions": []}),
        None,
        Ok(Some((ConsentStatus::Subscribed, Some("double_opt_in")))),
    );
    check_consent(
        json!({"consent": "SUBSCRIBED", "double_optin": false, "suppression": []}),
        None,
        Ok(Some((ConsentStatus::Subscribed, Some("single_opt_in")))),
    );
    check_consent(json!({"consent": "UNSUBSCRIBED"}), None, Ok(Some((ConsentStatus::Unsubscribed, None))));
    check_consent(json!({"consent": "NEVER_SUBSCRIBED"}), None, Ok(Some((ConsentStatus::NonSubscribed, None))));
    check_consent(suppressed("HARD_BOUNCE"), None, Ok(Some((ConsentStatus::Bounced, Some("HARD_BOUNCE")))));
    check_consent(suppressed("INVALID_EMAIL"), None, Ok(Some((ConsentStatus::Cleaned, Some("INVALID_EMAIL")))));
    check_consent(suppressed("SPAM_COMPLAINT"), None, Ok(Some((ConsentStatus::Suppressed, Some("SPAM_COMPLAINT")))));
    check_consent(suppressed("USER_SUPPRESSED"), None, Ok(Some((ConsentStatus::Suppressed, Some("USER_SUPPRESSED")))));
    check_consent(suppressed("UNSUBSCRIBE"), None, Ok(Some((ConsentStatus::Unsubscribed, Some("UNSUBSCRIBE")))));
    check_consent(suppressed("SOMETHING_NEW"), None, Ok(Some((ConsentStatus::Suppressed, Some("SOMETHING_NEW")))));
    // The strongest suppression wins, whatever the order.
    check_consent(
        json!({"consent": "UNSUBSCRIBED", "suppression": [
            {"reason": "UNSUBSCRIBE", "timestamp": "2025-01-01T00:00:00+00:00"},
            {"reason": "HARD_BOUNCE", "timestamp": "2025-02-01T00:00:00+00:00"}]}),
        None,
        Ok(Some((ConsentStatus::Bounced, Some("HARD_BOUNCE")))),
    );
    let on_list = json!({"consent": "SUBSCRIBED", "suppression": [], "list_suppressions": [
        {"list_id": "Y6nRLr", "reason": "UNSUBSCRIBE", "timestamp": "2025-01-01T00:00:00+00:00"}]});
    check_consent(on_list.clone(), Some("Y6nRLr"), Ok(Some((ConsentStatus::Unsubscribed, Some("LIST_UNSUBSCRIBE")))));
    check_consent(on_list, Some("Other1"), Ok(Some((ConsentStatus::Subscribed, None))));
    check_consent(json!({"consent": "MAYBE"}), None, Err("unknown_consent"));
    assert_eq!(email_consent(&json!({"id": "P1", "attributes": {}}), None), Ok(None));
}

#[test]
fn consent_keeps_its_provenance() {
    let state = email_consent(
        &marketing(json!({"consent": "SUBSCRIBED", "method": "FORM", "method_detail": "popup",
                          "consent_timestamp": "2024-01-01T00:00:00+00:00", "suppression": []})),
        None,
    )
    .unwrap()
    .unwrap();
    assert_eq!(state.source.as_deref(), Some("FORM: popup"));
    assert_eq!(state.changed_at, Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()));
    let bounced = email_consent(
        &marketing(json!({"consent": "SUBSCRIBED", "suppression": [
            {"reason": "HARD_BOUNCE", "timestamp": "2025-03-04T05:06:07+00:00"}]})),
        None,
    )
    .unwrap()
    .unwrap();
    assert_eq!(bounced.changed_at, Some(Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap()));
}

#[test]
fn sms_consent_is_read_where_it_says_something() {
    let check = |phone: Option<&str>, consent: &str, expected: Option<ConsentStatus>| {
        let profile = json!({"id": "P1", "attributes": {"phone_number": phone,
            "subscriptions": {"sms": {"marketing": {"consent": consent}}}}});
        assert_eq!(sms_consent(&profile).unwrap().map(|state| state.status), expected, "{phone:?} {consent}");
    };
    check(None, "NEVER_SUBSCRIBED", None);
    check(Some("+442079460018"), "NEVER_SUBSCRIBED", Some(ConsentStatus::NonSubscribed));
    check(Some("+442079460018"), "SUBSCRIBED", Some(ConsentStatus::Subscribed));
    check(None, "UNSUBSCRIBED", Some(ConsentStatus::Unsubscribed));
    // An SMS opt-out written by the subscriptions stream reads back as one.
    check(Some("+442079460018"), "UNSUBSCRIBED", Some(ConsentStatus::Unsubscribed));
}

#[test]
fn every_canonical_status_has_a_write_that_never_raises_consent() {
    let check = |status: Option<ConsentStatus>, expected: EmailAction| {
        let state = status.map(ConsentState::new);
        assert_eq!(email_action(state.as_ref()), expected, "{status:?}");
    };
    check(Some(ConsentStatus::Subscribed), EmailAction::Subscribe);
    check(Some(ConsentStatus::Pending), EmailAction::Keep);
    check(Some(ConsentStatus::NonSubscribed), EmailAction::Keep);
    check(Some(ConsentStatus::Unsubscribed), EmailAction::Unsubscribe);
    check(Some(ConsentStatus::Bounced), EmailAction::Suppress);
    check(Some(ConsentStatus::Cleaned), EmailAction::Suppress);
    check(Some(ConsentStatus::Suppressed), EmailAction::Suppress);
    check(None, EmailAction::Keep);
    for status in ConsentStatus::ALL {
        let action = email_action(Some(&ConsentState::new(status)));
        assert_eq!(action == EmailAction::Subscribe, status == ConsentStatus::Subscribed, "{status:?}");
    }
}

/// What Klaviyo holds after each consent write (the emulator's and the
/// reference's semantics), read back through the read mapping.
fn klaviyo_after(action: EmailAction) -> Value {
    match action {
        EmailAction::Subscribe => json!({"consent": "SUBSCRIBED", "double_optin": false, "suppression": []}),
        EmailAction::Unsubscribe => json!({"consent": "UNSUBSCRIBED", "suppression": [
            {"reason": "UNSUBSCRIBE", "timestamp": "2026-01-01T00:00:00+00:00"}]}),
        EmailAction::Suppress => json!({"consent": "NEVER_SUBSCRIBED", "suppression": [
            {"reason": "USER_SUPPRESSED", "timestamp": "2026-01-01T00:00:00+00:00"}]}),
        EmailAction::Keep => json!({"consent": "NEVER_SUBSCRIBED", "suppression": []}),
    }
}

#[test]
fn written_consent_reads_back_no_higher_and_suppressions_stay_suppressions() {
    for status in ConsentStatus::ALL {
        let action = email_action(Some(&ConsentState::new(status)));
        let read_back = email_consent(&marketing(klaviyo_after(action)), None).unwrap().unwrap();
        assert!(consent_holds(Some(&read_back), action), "{status:?}: {action:?} reads back as {read_back:?}");
        assert_eq!(read_back.status.is_suppression(), status.is_suppression(), "{status:?} → {read_back:?}");
        if status == ConsentStatus::Unsubscribed {
            assert_eq!(read_back.status, ConsentStatus::Unsubscribed);
        }
        if status != ConsentStatus::Subscribed {
            assert_ne!(read_back.status, ConsentStatus::Subscribed, "{status:?}");
        }
    }
}

#[test]
fn consent_that_already_holds_is_not_written_again() {
    let check = |current: Option<ConsentStatus>, action: EmailAction, expected: bool| {
        let state = current.map(ConsentState::new);
        assert_eq!(consent_holds(state.as_ref(), action), expected, "{current:?} {action:?}");
    };
    check(Some(ConsentStatus::Subscribed), EmailAction::Subscribe, true);
    check(Some(ConsentStatus::NonSubscribed), EmailAction::Subscribe, false);
    check(Some(ConsentStatus::Unsubscribed), EmailAction::Unsubscribe, true);
    check(Some(ConsentStatus::Bounced), EmailAction::Unsubscribe, true);
    check(Some(ConsentStatus::Subscribed), EmailAction::Unsubscribe, false);
    check(Some(ConsentStatus::Unsubscribed), EmailAction::Suppress, false);
    check(Some(ConsentStatus::Cleaned), EmailAction::Suppress, true);
    check(None, EmailAction::Suppress, false);
    check(None, EmailAction::Keep, true);
}

#[test]
fn a_list_member_reads_as_a_membership_with_both_channels() {
    let member = json!({"type": "profile", "id": "P1", "attributes": {
        "email": "a@b.org", "phone_number": "+442079460018", "updated": "2025-01-01T00:00:00+00:00",
        "joined_group_at": "2024-05-05T00:00:00+00:00",
        "subscriptions": {
            "email": {"marketing": {"consent": "UNSUBSCRIBED", "suppression": [
                {"reason": "UNSUBSCRIBE", "timestamp": "2024-06-01T00:00:00+00:00"}]}},
            "sms": {"marketing": {"consent": "SUBSCRIBED", "method": "TEXT"}}}}});
    let record = membership_record("Y6nRLr", &member).unwrap();
    assert_eq!(record.source_id, "Y6nRLr:P1");
    let Entity::Membership(membership) = &record.entity else { panic!("{record:?}") };
    assert_eq!(membership.list, Some(Reference::new(EntityKind::List, "Y6nRLr")));
    assert_eq!(membership.contact, Some(Reference::new(EntityKind::Contact, "P1")));
    assert_eq!(membership.email.as_deref(), Some("a@b.org"));
    assert_eq!(membership.joined_at, Some(Utc.with_ymd_and_hms(2024, 5, 5, 0, 0, 0).unwrap()));
    assert_eq!(membership.consent.email.as_ref().map(|state| state.status), Some(ConsentStatus::Unsubscribed));
    assert_eq!(membership.consent.sms.as_ref().map(|state| state.status), Some(ConsentStatus::Subscribed));
}

#[test]
fn lists_map_both_ways() {
    let resource = json!({"type": "list", "id": "Y6nRLr", "attributes": {"name": "Newsletter",
        "opt_in_process": "double_opt_in", "created": "2024-01-01T00:00:00+00:00", "updated": "2024-02-01T00:00:00+00:00"}});
    let record = list_record(&resource).unwrap();
    let Entity::List(list) = &record.entity else { panic!("{record:?}") };
    assert_eq!((list.name.as_deref(), list.double_opt_in), (Some("Newsletter"), Some(true)));
    assert_eq!(list_attributes(&record).unwrap(), ("Newsletter".to_owned(), Some("double_opt_in")));
    let nameless = Record::new("x", "1", at(0), Entity::List(List::default()));
    assert_eq!(list_attributes(&nameless).unwrap_err().code, "no_name");
}

fn event(kind: Option<EngagementKind>, contact: Option<&str>, email: Option<&str>, occurred: Option<i64>) -> Record {
    Record::new(
        "mailchimp",
        "e1",
        at(1_700_000_000),
        Entity::EngagementEvent(EngagementEvent {
            kind,
            occurred_at: occurred.map(at),
            contact: contact.map(|id| Reference::new(EntityKind::Contact, id)),
            email: email.map(Into::into),
            url: Some("https://example.org/x".into()),
            ..EngagementEvent::default()
        }),
    )
}

#[test]
fn engagement_kinds_and_klaviyo_metrics_map_both_ways() {
    for (kind, metric) in METRICS {
        let record = event(Some(kind), Some("P1"), None, Some(1_700_000_000));
        assert_eq!(event_metric(&record).unwrap(), metric);
        let metrics = BTreeMap::from([("M1".to_owned(), metric.to_owned())]);
        let resource = json!({"type": "event", "id": "E1", "attributes": {"datetime": "2023-11-14T22:13:20+00:00",
            "timestamp": 1_700_000_000, "event_properties": {"URL": "https://example.org/x", "Subject": "Hi"}},
            "relationships": {"metric": {"data": {"type": "metric", "id": "M1"}},
                              "profile": {"data": {"type": "profile", "id": "P1"}}}});
        let read = event_record(&resource, &metrics).unwrap();
        let Entity::EngagementEvent(read_event) = &read.entity else { panic!("{read:?}") };
        assert_eq!(read_event.kind, Some(kind));
        assert_eq!(read_event.occurred_at, Some(at(1_700_000_000)));
        assert_eq!(read_event.contact, Some(Reference::new(EntityKind::Contact, "P1")));
        assert_eq!(read_event.url.as_deref(), Some("https://example.org/x"));
        assert_eq!(read.custom_fields.get(METRIC_FIELD), Some(&CustomValue::Text(metric.into())));
        assert_eq!(read.custom_fields.get("Subject"), Some(&CustomValue::Text("Hi".into())));
        assert_eq!(event_metric(&read).unwrap(), metric);
    }
}

#[test]
fn event_bodies_carry_the_metric_time_profile_and_dedupe_key() {
    let (body, profile) =
        event_body(&event(Some(EngagementKind::Open), Some("P1"), None, Some(1_700_000_000))).unwrap();
    assert_eq!(profile, EventProfile { id: Some("P1".into()), email: None });
    assert_eq!(body["type"], json!("event"));
    let attributes = &body["attributes"];
    assert_eq!(attributes["metric"]["data"]["attributes"]["name"], json!("Opened Email"));
    assert_eq!(attributes["time"], json!("2023-11-14T22:13:20Z"));
    assert_eq!(attributes["unique_id"], json!("mailchimp:e1"));
    assert_eq!(attributes["properties"][EVENT_ID_FIELD], json!("mailchimp:e1"));
    assert!(attributes.get("profile").is_none());
    assert_eq!(event_profile_data(&profile), json!({"type": "profile", "id": "P1"}));
    assert_eq!(attributes["properties"]["URL"], json!("https://example.org/x"));
    let check_reject = |record: Record, code: &str| assert_eq!(event_body(&record).unwrap_err().code, code);
    check_reject(event(None, Some("P1"), None, Some(1)), "no_metric");
    check_reject(event(Some(EngagementKind::Click), Some("P1"), None, None), "no_time");
    check_reject(event(Some(EngagementKind::Click), None, None, Some(1)), "no_profile");
    let (_, profile) = event_body(&event(Some(EngagementKind::Click), None, Some("a@b.org"), Some(1))).unwrap();
    assert_eq!(event_profile_data(&profile), json!({"type": "profile", "attributes": {"email": "a@b.org"}}));
    // Read back, the dedupe property is not a custom field.
    let metrics = BTreeMap::from([("M1".to_owned(), "Opened Email".to_owned())]);
    let resource = json!({"type": "event", "id": "E1", "attributes": {"timestamp": 1_700_000_000,
        "event_properties": {EVENT_ID_FIELD: "mailchimp:e1", "Subject": "Hi"}},
        "relationships": {"metric": {"data": {"type": "metric", "id": "M1"}}}});
    let read = event_record(&resource, &metrics).unwrap();
    assert!(!read.custom_fields.contains_key(EVENT_ID_FIELD));
    // It reads back under the id its write answered, not Klaviyo's.
    assert_eq!(read.source_id, "mailchimp:e1");
}

#[test]
fn a_list_keeps_its_own_weaker_status_and_a_suppression_still_wins() {
    let person = |consent: &str, suppressed: bool, kept: Value| {
        let suppression = if suppressed { json!([{"reason": "HARD_BOUNCE"}]) } else { json!([]) };
        json!({"id": "P1", "attributes": {
            "email": "a@b.org",
            "properties": {"cutover_list_status_A": kept, "plan": "gold"},
            "subscriptions": {"email": {"marketing": {"consent": consent, "suppression": suppression}}}}})
    };
    let status = |profile: &Value, list: Option<&str>| email_consent(profile, list).unwrap().map(|state| state.status);
    let subscribed_elsewhere = person("SUBSCRIBED", false, json!("pending"));
    assert_eq!(status(&subscribed_elsewhere, Some("A")), Some(ConsentStatus::Pending));
    assert_eq!(status(&subscribed_elsewhere, Some("B")), Some(ConsentStatus::Subscribed));
    assert_eq!(status(&subscribed_elsewhere, None), Some(ConsentStatus::Subscribed));
    let never = person("NEVER_SUBSCRIBED", false, json!("non_subscribed"));
    assert_eq!(status(&never, Some("A")), Some(ConsentStatus::NonSubscribed));
    // A kept status never lowers a suppression, and `subscribed` keeps nothing.
    assert_eq!(status(&person("SUBSCRIBED", true, json!("pending")), Some("A")), Some(ConsentStatus::Bounced));
    assert_eq!(status(&person("UNSUBSCRIBED", false, json!("pending")), Some("A")), Some(ConsentStatus::Unsubscribed));
    assert_eq!(status(&person("SUBSCRIBED", false, json!("subscribed")), Some("A")), Some(ConsentStatus::Subscribed));
    // The property is the plugin's, not the person's: it is no custom field.
    let mut profile = profile();
    profile["attributes"]["properties"]["cutover_list_status_A"] = json!("pending");
    let record = profile_record(&profile).unwrap();
    assert!(record.custom_fields.keys().all(|name| !name.starts_with(LIST_STATUS_PREFIX)), "{record:?}");
    assert_eq!(list_status_value(ConsentStatus::Pending), Some("pending"));
    assert_eq!(list_status_value(ConsentStatus::Subscribed), None);
    assert_eq!(list_status_value(ConsentStatus::Unsubscribed), None);
}
