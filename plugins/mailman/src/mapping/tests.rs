use super::*;
use cutover_sdk::schema::Consent;

fn member(role: &str, email: &str) -> MemberResource {
    MemberResource {
        member_id: "12eb5b56b91a48d9a7b330c43b9ea33e".into(),
        list_id: "ant.example.com".into(),
        email: email.into(),
        role: role.into(),
        display_name: Some("Ada L".into()),
        delivery_mode: Some("mime_digests".into()),
        moderation_action: None,
        bounce_score: Some(2),
    }
}

fn read_consent(role: &str, status: DeliveryStatus, banned: bool) -> Option<ConsentStatus> {
    let record =
        member_record(&member(role, "ada@example.org"), "ant@example.com", status, banned, DateTime::UNIX_EPOCH)
            .unwrap();
    let Entity::Membership(membership) = record.entity else { panic!("not a membership") };
    membership.consent.email.map(|consent| consent.status)
}

#[test]
fn read_consent_follows_delivery_status_and_bans() {
    let check = |role, status, banned, expected| {
        assert_eq!(read_consent(role, status, banned), expected, "{role} {status:?} banned={banned}");
    };
    check("member", DeliveryStatus::Enabled, false, Some(ConsentStatus::Subscribed));
    check("member", DeliveryStatus::ByUser, false, Some(ConsentStatus::Unsubscribed));
    check("member", DeliveryStatus::ByBounces, false, Some(ConsentStatus::Bounced));
    check("member", DeliveryStatus::ByModerator, false, Some(ConsentStatus::Suppressed));
    check("member", DeliveryStatus::Unknown, false, Some(ConsentStatus::Suppressed));
    check("member", DeliveryStatus::Enabled, true, Some(ConsentStatus::Suppressed));
    check("nonmember", DeliveryStatus::Enabled, false, Some(ConsentStatus::NonSubscribed));
    check("owner", DeliveryStatus::Enabled, false, None);
    check("moderator", DeliveryStatus::Enabled, false, None);
}

#[test]
fn a_disabled_or_banned_address_never_reads_back_as_subscribed() {
    for status in DeliveryStatus::DISABLED {
        for banned in [false, true] {
            assert_ne!(read_consent("member", status, banned), Some(ConsentStatus::Subscribed), "{status:?}");
        }
    }
    for status in [DeliveryStatus::Enabled].into_iter().chain(DeliveryStatus::DISABLED) {
        assert_ne!(read_consent("member", status, true), Some(ConsentStatus::Subscribed));
    }
}

#[test]
fn a_member_record_carries_role_delivery_and_keys() {
    let record = member_record(
        &member("member", "Ada@Example.org"),
        "ant@example.com",
        DeliveryStatus::ByBounces,
        false,
        DateTime::UNIX_EPOCH,
    )
    .unwrap();
    assert_eq!(record.source_id, "ant@example.com/member/ada@example.org");
    let text = |name: &str| match record.custom_fields.get(name) {
        Some(CustomValue::Text(text)) => Some(text.to_string()),
        _ => None,
    };
    assert_eq!(text(field::ROLE).as_deref(), Some("member"));
    assert_eq!(text(field::DELIVERY_STATUS).as_deref(), Some("by_bounces"));
    assert_eq!(text(field::DELIVERY_MODE).as_deref(), Some("mime_digests"));
    assert_eq!(text(field::DISPLAY_NAME).as_deref(), Some("Ada L"));
    assert_eq!(record.custom_fields.get(field::BOUNCE_SCORE), Some(&CustomValue::Integer(2)));
    let Entity::Membership(membership) = &record.entity else { panic!("not a membership") };
    assert_eq!(membership.list, Some(Reference::new(EntityKind::List, "ant@example.com")));
    assert_eq!(membership.email.as_deref(), Some("Ada@Example.org"));
}

#[test]
fn unknown_roles_are_rejects() {
    let error = member_record(
        &member("janitor", "a@example.org"),
        "ant@example.com",
        DeliveryStatus::Enabled,
        false,
        DateTime::UNIX_EPOCH,
    )
    .unwrap_err();
    assert_eq!(error.code(), "unknown_role");
}

#[test]
fn pattern_bans_are_rejects_and_address_bans_are_suppressions() {
    assert_eq!(
        ban_record("ant@example.com", "^.*@spam.example", DateTime::UNIX_EPOCH).unwrap_err().code(),
        "pattern_ban"
    );
    let record = ban_record("ant@example.com", "eve@example.org", DateTime::UNIX_EPOCH).unwrap();
    assert_eq!(record.source_id, "ant@example.com/ban/eve@example.org");
    let plan = membership_plan(&record, None).unwrap();
    assert_eq!(plan.action, MembershipAction::Ban(DeliveryStatus::ByModerator));
    assert_eq!(plan.target_id(), record.source_id);
}

fn membership(status: Option<ConsentStatus>, role: Option<&str>) -> Record {
    let consent = Consent { email: status.map(ConsentState::new), ..Consent::default() };
    let mut record = Record::new(
        "source",
        "m1",
        DateTime::UNIX_EPOCH,
        Entity::Membership(Membership {
            list: Some(Reference::new(EntityKind::List, "k0")),
            email: Some("Zoë.Doe@Example.org".into()),
            consent,
            ..Membership::default()
        }),
    );
    if let Some(role) = role {
        record.custom_fields.insert(field::ROLE.into(), CustomValue::Text(role.into()));
    }
    record
}

#[test]
fn write_consent_rules() {
    let check = |status: Option<ConsentStatus>, role: Option<&str>, expected: Result<MembershipAction, &str>| {
        let got = membership_plan(&membership(status, role), Some("lists.example.org"))
            .map(|plan| plan.action)
            .map_err(|reject| reject.code());
        assert_eq!(got, expected, "{status:?} {role:?}");
    };
    use ConsentStatus as S;
    check(Some(S::Subscribed), None, Ok(MembershipAction::Subscribe(DeliveryStatus::Enabled)));
    check(Some(S::Bounced), None, Ok(MembershipAction::Subscribe(DeliveryStatus::ByBounces)));
    check(Some(S::Cleaned), None, Ok(MembershipAction::Subscribe(DeliveryStatus::ByBounces)));
    check(Some(S::Unsubscribed), None, Ok(MembershipAction::Ban(DeliveryStatus::ByUser)));
    check(Some(S::Suppressed), None, Ok(MembershipAction::Ban(DeliveryStatus::ByModerator)));
    check(Some(S::Pending), None, Err("consent_pending"));
    check(Some(S::NonSubscribed), None, Err("not_subscribed"));
    check(None, None, Err("no_consent"));
    check(None, Some("owner"), Ok(MembershipAction::AddRole));
    check(Some(S::Unsubscribed), Some("moderator"), Ok(MembershipAction::AddRole));
    check(Some(S::Subscribed), Some("member"), Ok(MembershipAction::Subscribe(DeliveryStatus::Enabled)));
    check(Some(S::Subscribed), Some("janitor"), Err("unknown_role"));
}

#[test]
fn no_suppression_is_ever_planned_as_an_enabled_subscription() {
    for status in [S::Unsubscribed, S::Bounced, S::Cleaned, S::Suppressed] {
        let plan = membership_plan(&membership(Some(status), None), Some("lists.example.org")).unwrap();
        assert_ne!(plan.action, MembershipAction::Subscribe(DeliveryStatus::Enabled), "{status:?}");
    }
}
use ConsentStatus as S;

#[test]
fn membership_plans_refuse_what_mailman_cannot_hold() {
    let mut record = membership(Some(ConsentStatus::Subscribed), None);
    record.custom_fields.insert(field::DELIVERY_MODE.into(), CustomValue::Text("weekly".into()));
    assert_eq!(membership_plan(&record, Some("x.org")).unwrap_err().code(), "invalid_value");
    let mut record = membership(Some(ConsentStatus::Subscribed), None);
    record.custom_fields.insert(field::ROLE.into(), CustomValue::Integer(1));
    assert_eq!(membership_plan(&record, Some("x.org")).unwrap_err().code(), "invalid_field_type");
    let record = membership(Some(ConsentStatus::Subscribed), None);
    assert_eq!(membership_plan(&record, None).unwrap_err().code(), "no_domain");
    let mut record = membership(Some(ConsentStatus::Subscribed), None);
    if let Entity::Membership(membership) = &mut record.entity {
        membership.email = Some("not an address".into());
    }
    assert_eq!(membership_plan(&record, Some("x.org")).unwrap_err().code(), "invalid_email");
    let list = Record::new("s", "k0", DateTime::UNIX_EPOCH, Entity::List(List::default()));
    assert_eq!(membership_plan(&list, Some("x.org")).unwrap_err().code(), "wrong_entity");
}

#[test]
fn list_addresses() {
    let check = |id: &str, domain: Option<&str>, expected: Result<&str, &str>| {
        let got = list_address(id, domain).map(|address| address.fqdn_listname).map_err(|reject| reject.code());
        assert_eq!(got.as_deref().map_err(|code| *code), expected, "{id} {domain:?}");
    };
    check("ant@example.com", None, Ok("ant@example.com"));
    check("Ant@Example.com", None, Ok("ant@example.com"));
    check("ant@old.example.com", Some("lists.example.org"), Ok("ant@lists.example.org"));
    check("k0", Some("lists.example.org"), Ok("k0@lists.example.org"));
    check("Zoë's List 0", Some("x.org"), Ok("zo-s-list-0@x.org"));
    check("9e67587f52", Some("x.org"), Ok("9e67587f52@x.org"));
    check("--", Some("x.org"), Err("invalid_list_name"));
    check("k0", None, Err("no_domain"));
    check("bad name@x.org", None, Err("invalid_list_name"));
    assert_eq!(list_address("ant@example.com", None).unwrap().list_id, "ant.example.com");
}

fn settings(policy: &str) -> ListSettings {
    ListSettings {
        display_name: Some("Ant".into()),
        description: Some(String::new()),
        subscription_policy: Some(policy.into()),
        advertised: Some(true),
        created_at: Some("2026-11-23T21:43:31.804159".into()),
    }
}

#[test]
fn lists_round_trip_through_a_plan() {
    let list = ListResource {
        list_id: "ant.example.com".into(),
        fqdn_listname: "ant@example.com".into(),
        mail_host: "example.com".into(),
        display_name: Some("Ant".into()),
        description: None,
        advertised: Some(true),
    };
    let current = settings("confirm");
    let record = list_record(&list, &current);
    assert_eq!(record.source_id, "ant@example.com");
    assert_eq!(record.updated_at.to_rfc3339(), "2026-11-23T21:43:31.804159+00:00");
    let Entity::List(canonical) = &record.entity else { panic!("not a list") };
    assert_eq!(canonical.double_opt_in, Some(true));
    assert_eq!(canonical.name.as_deref(), Some("Ant"));
    let plan = list_plan(&record, None).unwrap();
    assert_eq!(plan.address.fqdn_listname, "ant@example.com");
    assert!(plan.changes(&current).is_empty(), "{:?}", plan.changes(&current));
}

#[test]
fn list_plans_change_only_what_differs() {
    let record = |double_opt_in: Option<bool>, policy: Option<&str>| {
        let mut record = Record::new(
            "s",
            "k1",
            DateTime::UNIX_EPOCH,
            Entity::List(List { name: Some("Zoë's list".into()), double_opt_in, ..List::default() }),
        );
        if let Some(policy) = policy {
            record.custom_fields.insert(field::SUBSCRIPTION_POLICY.into(), CustomValue::Text(policy.into()));
        }
        list_plan(&record, Some("x.org")).unwrap()
    };
    let keys = |plan: &ListPlan, policy: &str| {
        let mut keys: Vec<String> = plan.changes(&settings(policy)).keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&record(Some(true), None), "confirm"), ["display_name"]);
    assert_eq!(keys(&record(Some(true), None), "confirm_then_moderate"), ["display_name"]);
    assert_eq!(keys(&record(Some(false), None), "confirm"), ["display_name", "subscription_policy"]);
    assert_eq!(keys(&record(Some(false), None), "moderate"), ["display_name"]);
    assert_eq!(keys(&record(None, Some("moderate")), "open"), ["display_name", "subscription_policy"]);
    let multiline = Record::new(
        "s",
        "k1",
        DateTime::UNIX_EPOCH,
        Entity::List(List { description: Some("one\ntwo".into()), ..List::default() }),
    );
    assert_eq!(list_plan(&multiline, Some("x.org")).unwrap_err().code(), "invalid_value");
}

#[test]
fn instants() {
    let check = |text: &str, expected: Option<&str>| {
        assert_eq!(parse_instant(text).map(|instant| instant.to_rfc3339()).as_deref(), expected, "{text}");
    };
    check("2026-11-23T21:43:31.804159", Some("2026-11-23T21:43:31.804159+00:00"));
    check("2026-11-23T21:43:31", Some("2026-11-23T21:43:31+00:00"));
    check("0001-01-01T00:00:00", None);
    check("yesterday", None);
}

#[test]
fn contacts_split_the_display_name_and_keep_it() {
    let address = AddressResource {
        email: "ada@example.org".into(),
        original_email: Some("Ada@Example.org".into()),
        display_name: Some("Ada King Lovelace".into()),
        registered_on: Some("2026-01-02T03:04:05".into()),
        verified_on: None,
    };
    let record = contact_record(&address).unwrap();
    assert_eq!(record.source_id, "ada@example.org");
    let Entity::Contact(contact) = &record.entity else { panic!("not a contact") };
    assert_eq!(contact.email.as_deref(), Some("Ada@Example.org"));
    assert_eq!(contact.first_name.as_deref(), Some("Ada King"));
    assert_eq!(contact.last_name.as_deref(), Some("Lovelace"));
    assert_eq!(record.custom_fields.get(field::DISPLAY_NAME), Some(&CustomValue::Text("Ada King Lovelace".into())));
}
