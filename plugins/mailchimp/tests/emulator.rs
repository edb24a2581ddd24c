//! The plugin against the Mailchimp emulator: reads across pages through
//! injected 429s and 5xx, the consent rule on writes, idempotent writes,
//! and a migration from one audience to a new one.

mod support;

use cutover_emulators::FaultConfig;
use cutover_emulators::mailchimp::Status;
use cutover_plugin_mailchimp::Mailchimp;
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{Consent, ConsentState, ConsentStatus, Membership, Reference};
use std::collections::{HashMap, HashSet};
use support::{Server, read_all};

fn consent_of(status: Status) -> ConsentStatus {
    match status {
        Status::Subscribed => ConsentStatus::Subscribed,
        Status::Unsubscribed => ConsentStatus::Unsubscribed,
        Status::Cleaned => ConsentStatus::Cleaned,
        Status::Pending => ConsentStatus::Pending,
        Status::Transactional | Status::Archived => ConsentStatus::NonSubscribed,
    }
}

fn membership(record: &Record) -> &Membership {
    match &record.entity {
        Entity::Membership(membership) => membership,
        other => panic!("not a membership: {other:?}"),
    }
}

#[test]
fn every_member_is_read_once_across_pages_through_429s_and_5xx() {
    let faults =
        FaultConfig { rate_429: 0.08, rate_5xx: 0.08, fail_page_once: Some(1), burst_429: 2, ..FaultConfig::default() };
    let server = Server::start(5, 400, faults);
    let mut plugin = server.open(None);
    let read = read_all(&mut plugin, "members", 45);
    let faults_left = server.emulator.faults();
    assert_eq!(faults_left.burst_429, 0, "the faults were met");

    // What the emulator holds: every member of every audience, archived included.
    let mut expected = HashMap::new();
    for list in server.state().lists() {
        for member in server.state().members(&list.id) {
            expected.insert(format!("{}:{}", list.id, member.id), member);
        }
    }
    let mut seen = HashSet::new();
    for record in &read.records {
        assert!(seen.insert(record.source_id.to_string()), "read twice: {}", record.source_id);
        let stored = &expected[record.source_id.as_str()];
        let consent = membership(record).consent.email.as_ref().unwrap();
        assert_eq!(consent.status, consent_of(stored.status), "{}", record.source_id);
    }
    for reject in &read.rejects {
        assert_eq!(reject.reason.code, "invalid_email", "{reject:?}");
        let key = reject.location.trim_start_matches("lists/").replace("/members/", ":");
        assert!(seen.insert(key.clone()), "rejected twice: {key}");
    }
    assert_eq!(seen.len(), expected.len(), "every member is read or rejected, once");
    assert!(!read.rejects.is_empty(), "the seed holds invalid addresses");
    let statuses: HashSet<_> = expected.values().map(|member| member.status).collect();
    assert_eq!(statuses.len(), 6, "every status was read");

    // A read resumed from a cursor in the middle gives the same rest.
    let mut cursor = None;
    let mut before = 0;
    for _ in 0..5 {
        let batch = plugin.read("members", cursor.as_deref(), 45).unwrap();
        before += batch.records.len();
        cursor = batch.next_cursor;
    }
    let mut resumed = server.open(None);
    let mut rest = 0;
    loop {
        let batch = resumed.read("members", cursor.as_deref(), 100).unwrap();
        rest += batch.records.len();
        cursor = batch.next_cursor;
        if batch.done {
            break;
        }
    }
    assert_eq!(before + rest, read.records.len());
}

#[test]
fn contacts_are_one_per_person_over_every_audience() {
    let server = Server::start(3, 150, FaultConfig::default());
    let mut plugin = server.open(None);
    let read = read_all(&mut plugin, "contacts", 20);
    let mut people = HashSet::new();
    for list in server.state().lists() {
        for member in server.state().members(&list.id) {
            people.insert(member.id);
        }
    }
    let ids: HashSet<_> = read.records.iter().map(|record| record.source_id.to_string()).collect();
    assert_eq!(ids.len(), read.records.len(), "no person twice");
    assert!(ids.is_subset(&people));
    assert!(read.records.len() + read.rejects.len() >= people.len(), "every person is read");
}

fn member_record(source_id: &str, email: &str, status: ConsentStatus) -> Record {
    Record::new(
        "other",
        source_id,
        chrono::DateTime::UNIX_EPOCH,
        Entity::Membership(Membership {
            email: Some(email.into()),
            consent: Consent { email: Some(ConsentState::new(status)), ..Consent::default() },
            tags: vec!["migrated".into()],
            ..Membership::default()
        }),
    )
}

fn results(outcomes: &[WriteOutcome]) -> Vec<&'static str> {
    outcomes.iter().map(|outcome| outcome.result.as_str()).collect()
}

#[test]
fn unsubscribed_and_cleaned_members_stay_so_whatever_is_written() {
    let server = Server::start(9, 60, FaultConfig::default());
    let list_id = server.state().lists()[1].id.clone();
    let mut plugin = server.open(Some(&list_id));
    let people = ["ada@cutover-test.io", "grace@cutover-test.io", "edsger@cutover-test.io"];
    let first = vec![
        member_record("1", people[0], ConsentStatus::Unsubscribed),
        member_record("2", people[1], ConsentStatus::Cleaned),
        member_record("3", people[2], ConsentStatus::Subscribed),
    ];
    assert_eq!(results(&plugin.write("members", first.clone()).unwrap()), ["created", "created", "created"]);
    let held = server.state().members(&list_id).len();
    assert_eq!(results(&plugin.write("members", first).unwrap()), ["unchanged", "unchanged", "unchanged"]);
    assert_eq!(server.state().members(&list_id).len(), held, "the re-run added no member");

    // Another source now says they are all subscribed; a fresh instance, so
    // nothing is remembered from the first writes.
    let mut plugin = server.open(Some(&list_id));
    let resubscribe: Vec<Record> = people
        .iter()
        .enumerate()
        .map(|(index, email)| member_record(&index.to_string(), email, ConsentStatus::Subscribed))
        .collect();
    let outcomes = plugin.write("members", resubscribe).unwrap();
    assert!(outcomes.iter().all(|outcome| !matches!(outcome.result, WriteResult::Rejected { .. })), "{outcomes:?}");
    let status = |email: &str| server.state().member(&list_id, email).unwrap().status;
    assert_eq!(status(people[0]), Status::Unsubscribed);
    assert_eq!(status(people[1]), Status::Cleaned);
    assert_eq!(status(people[2]), Status::Subscribed);

    // A seeded member who unsubscribed stays unsubscribed too, and an
    // unsubscribe reaches a subscribed member.
    let seeded = server.state().members(&list_id);
    let unsubscribed = seeded.iter().find(|member| member.status == Status::Unsubscribed).unwrap();
    let subscribed =
        seeded.iter().find(|member| member.status == Status::Subscribed && member.email_address.contains('@')).unwrap();
    let outcomes = plugin
        .write(
            "members",
            vec![
                member_record("4", &unsubscribed.email_address, ConsentStatus::Subscribed),
                member_record("5", &subscribed.email_address, ConsentStatus::Unsubscribed),
            ],
        )
        .unwrap();
    assert_eq!(results(&outcomes), ["updated", "updated"], "{outcomes:?}");
    assert_eq!(status(&unsubscribed.email_address), Status::Unsubscribed);
    assert_eq!(status(&subscribed.email_address), Status::Unsubscribed);
}

#[test]
fn an_audience_migrates_to_a_new_audience_with_its_consent() {
    let server = Server::start(21, 200, FaultConfig::default());
    let source_list = server.state().lists()[1].clone();
    let mut source = server.open(Some(&source_list.id));
    let lists = read_all(&mut source, "lists", 10);
    let members = read_all(&mut source, "members", 50);
    assert_eq!(lists.records.len(), 1);

    // The target audience, created from the source's by the lists stream.
    let mut target = server.open(None);
    let mut list = lists.records[0].clone();
    if let Entity::List(body) = &mut list.entity {
        body.name = Some("Migrated customers".into());
    }
    let created = target.write("lists", vec![list.clone()]).unwrap();
    let WriteResult::Created { target_id } = &created[0].result else { panic!("{created:?}") };
    assert_eq!(results(&target.write("lists", vec![list]).unwrap()), ["unchanged"]);

    // The id map rewrites each membership's list reference to the new audience.
    let records: Vec<Record> = members
        .records
        .iter()
        .cloned()
        .map(|mut record| {
            if let Entity::Membership(body) = &mut record.entity {
                body.list = Some(Reference::new(EntityKind::List, target_id.as_str()));
            }
            record
        })
        .collect();
    let outcomes = target.write("members", records.clone()).unwrap();
    let rejected: Vec<_> =
        outcomes.iter().filter(|outcome| matches!(outcome.result, WriteResult::Rejected { .. })).collect();
    assert!(rejected.is_empty(), "{rejected:?}");
    let held = server.state().members(target_id).len();
    assert_eq!(held, records.len(), "one member per record written");
    let again = target.write("members", records).unwrap();
    assert!(again.iter().all(|outcome| outcome.result.as_str() == "unchanged"), "{again:?}");
    assert_eq!(server.state().members(target_id).len(), held, "the re-run added no member");

    let expected_status = |status: Status| match status {
        Status::Archived => Status::Transactional,
        other => other,
    };
    for record in &members.records {
        let source_member =
            server.state().member(&source_list.id, membership(record).email.as_deref().unwrap()).unwrap();
        let migrated = server.state().member(target_id, &source_member.email_address).unwrap();
        assert_eq!(migrated.status, expected_status(source_member.status), "{}", source_member.email_address);
        assert_eq!(migrated.merge_fields.get("FNAME"), source_member.merge_fields.get("FNAME"));
        let tags = |member: &cutover_emulators::mailchimp::Member| {
            member.tags.iter().map(|(name, _)| name.clone()).collect::<HashSet<_>>()
        };
        assert_eq!(tags(&migrated), tags(&source_member));
    }
}

#[test]
fn campaigns_and_their_activity_are_read() {
    let server = Server::start(2, 30, FaultConfig::default());
    let list_id = server.state().lists()[0].id.clone();
    let mut plugin: Mailchimp = server.open(Some(&list_id));
    let campaigns = read_all(&mut plugin, "campaigns", 10);
    assert_eq!(campaigns.records.len(), 24);
    let activity = read_all(&mut plugin, "email_activity", 100);
    let kinds: HashSet<_> = activity
        .records
        .iter()
        .filter_map(|record| match &record.entity {
            Entity::EngagementEvent(event) => event.kind,
            _ => None,
        })
        .collect();
    assert!(kinds.len() >= 3, "{kinds:?}");
    let ids: HashSet<_> = activity.records.iter().map(|record| record.source_id.clone()).collect();
    assert_eq!(ids.len(), activity.records.len());
}

#[test]
fn check_and_discover_describe_the_account_and_a_bad_key_is_an_auth_error() {
    let server = Server::start(4, 50, FaultConfig::default());
    let list_id = server.state().lists()[0].id.clone();
    let mut plugin = server.open(Some(&list_id));
    let report = plugin.check().unwrap();
    assert!(report.checks.iter().all(|check| check.ok), "{report:?}");
    assert_eq!(report.checks.len(), 2);
    let inventory = plugin.discover().unwrap();
    let count = |stream: &str| inventory.streams.iter().find(|count| count.stream == stream).unwrap().records;
    assert_eq!(count("lists"), Some(1));
    assert_eq!(count("members"), Some(server.state().members(&list_id).len() as u64));
    assert_eq!(count("campaigns"), Some(24));

    let mut config = server.config(None);
    let wrong_key = "0123456789abcdef0123456789abcdef-us21";
    config["api_key"] = serde_json::Value::from(wrong_key);
    let mut plugin =
        Mailchimp::open(serde_json::from_value(config).unwrap(), &Context::new(std::path::PathBuf::from("."))).unwrap();
    let report = plugin.check().unwrap();
    assert!(!report.checks[0].ok);
    let error = plugin.read("members", None, 10).unwrap_err();
    assert_eq!(error.code, ErrorCode::Auth, "{error:?}");
    let shown = format!("{error:?} {report:?}");
    assert!(!shown.contains(wrong_key), "{shown}");
}

#[test]
fn an_audience_is_created_only_with_list_defaults_and_matched_by_name() {
    let server = Server::start(6, 20, FaultConfig::default());
    let existing = server.state().lists()[0].clone();
    let list = |name: &str| {
        Record::new(
            "other",
            name,
            chrono::DateTime::UNIX_EPOCH,
            Entity::List(cutover_sdk::schema::List { name: Some(name.into()), ..Default::default() }),
        )
    };
    let mut config = server.config(None);
    config.as_object_mut().unwrap().remove("list_defaults");
    let mut plugin =
        Mailchimp::open(serde_json::from_value(config).unwrap(), &Context::new(std::path::PathBuf::from("."))).unwrap();
    let outcomes = plugin.write("lists", vec![list(&existing.name), list("Brand new")]).unwrap();
    assert_eq!(outcomes[0].result, WriteResult::Unchanged { target_id: existing.id.as_str().into() });
    let WriteResult::Rejected { reason } = &outcomes[1].result else { panic!("{outcomes:?}") };
    assert_eq!(reason.code, "missing_list_defaults");
    assert_eq!(server.state().lists().len(), 3, "nothing was created");
}
