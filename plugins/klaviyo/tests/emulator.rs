//! The klaviyo plugin against the Klaviyo emulator: paged reads, idempotent
//! writes, consent that stays as strong as it was, rate-limit storms, and
//! events through bulk create jobs (grouped per profile, named by id or by
//! email, truthful outcomes on a re-run, a refused job halved until only its
//! bad events are rejected).

use chrono::{TimeZone, Utc};
use cutover_emulators::{Emulator, EmulatorConfig, FaultConfig, Platform, RunningEmulator};
use cutover_plugin_klaviyo::Klaviyo;
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{
    Consent, ConsentState, ConsentStatus, EngagementEvent, EngagementKind, Membership, Reference,
};
use std::collections::{BTreeMap, HashSet};

/// A running emulator; dropping it stops it.
pub struct Harness {
    pub emulator: RunningEmulator,
    // Declared last: dropped after the emulator it serves.
    _runtime: tokio::runtime::Runtime,
}

impl Harness {
    /// An emulator seeded with `profiles` profiles.
    pub fn start(profiles: usize) -> Harness {
        Harness::with(EmulatorConfig::new(7, profiles))
    }

    /// An emulator started with `config`.
    pub fn with(config: EmulatorConfig) -> Harness {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a test runtime");
        let emulator = runtime.block_on(Emulator::start(Platform::Klaviyo, config)).expect("the emulator starts");
        Harness { emulator, _runtime: runtime }
    }

    /// The plugin's config for this emulator.
    pub fn config(&self) -> String {
        serde_json::json!({"api_key": self.emulator.api_key, "base_url": self.emulator.base_url}).to_string()
    }

    /// The plugin, opened on this emulator.
    pub fn open(&self) -> Klaviyo {
        let config = serde_json::from_str(&self.config()).expect("a valid config");
        Klaviyo::open(config, &Context::new(std::path::PathBuf::new())).expect("the plugin opens")
    }

    /// The plugin, opened on this emulator at API `revision`.
    pub fn open_at(&self, revision: &str) -> Klaviyo {
        let config = serde_json::json!({
            "api_key": self.emulator.api_key,
            "base_url": self.emulator.base_url,
            "revision": revision,
        });
        let config = serde_json::from_value(config).expect("a valid config");
        Klaviyo::open(config, &Context::new(std::path::PathBuf::new())).expect("the plugin opens")
    }
}

/// Every record of `stream`, read in batches of `batch`.
pub fn read_all(plugin: &mut Klaviyo, stream: &str, batch: usize) -> (Vec<Record>, Vec<SourceReject>) {
    let mut records = Vec::new();
    let mut rejects = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let read = Source::read(plugin, stream, cursor.as_deref(), batch).expect("a read");
        assert!(read.records.len() + read.rejects.len() <= batch);
        records.extend(read.records);
        rejects.extend(read.rejects);
        if read.done {
            return (records, rejects);
        }
        cursor = read.next_cursor;
    }
}

/// The results of a write, by name.
pub fn results(outcomes: &[WriteOutcome]) -> Vec<&'static str> {
    outcomes.iter().map(|outcome| outcome.result.as_str()).collect()
}

#[test]
fn seeded_profiles_are_read_in_pages_and_resume_from_any_cursor() {
    let harness = Harness::start(230);
    let mut plugin = harness.open();
    let (records, rejects) = read_all(&mut plugin, "profiles", 40);
    assert_eq!(records.len() + rejects.len(), 230);
    let ids: HashSet<&str> = records.iter().map(|record| record.source_id.as_str()).collect();
    assert_eq!(ids.len(), records.len(), "no profile is read twice");
    assert!(records.iter().all(|record| matches!(record.entity, Entity::Contact(_))));
    assert!(records.iter().any(|record| !record.custom_fields.is_empty()), "custom properties are kept");

    // A cursor from the middle of a page, resumed by another instance with
    // another batch size, gives exactly the rest.
    let first = Source::read(&mut plugin, "profiles", None, 33).unwrap();
    let mut other = harness.open();
    let mut rest = Vec::new();
    let mut cursor = first.next_cursor.clone();
    loop {
        let batch = Source::read(&mut other, "profiles", cursor.as_deref(), 50).unwrap();
        rest.extend(batch.records);
        if batch.done {
            break;
        }
        cursor = batch.next_cursor;
    }
    let expected: Vec<&str> = records[33..].iter().map(|record| record.source_id.as_str()).collect();
    let got: Vec<&str> = rest.iter().map(|record| record.source_id.as_str()).collect();
    assert_eq!(got, expected);
}

fn contact(id: &str, email: &str, plan: &str) -> Record {
    let mut record = Record::new(
        "mailchimp",
        id,
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
        Entity::Contact(Contact { email: Some(email.into()), first_name: Some("Zoë".into()), ..Contact::default() }),
    );
    record.custom_fields.insert("plan".into(), CustomValue::Text(plan.into()));
    record.custom_fields.insert("visits".into(), CustomValue::Integer(3));
    record
}

#[test]
fn profiles_are_upserted_once_and_compared_before_writing() {
    let harness = Harness::start(5);
    let mut plugin = harness.open();
    let batch = vec![contact("a", "Ada@Example.org", "pro"), contact("b", "bob@example.org", "free")];
    let first = plugin.write("profiles", batch.clone()).unwrap();
    assert_eq!(results(&first), ["created", "created"]);
    assert_eq!(results(&plugin.write("profiles", batch).unwrap()), ["unchanged", "unchanged"]);
    let changed = plugin.write("profiles", vec![contact("b", "bob@example.org", "business")]).unwrap();
    assert_eq!(results(&changed), ["updated"]);

    let state = harness.emulator.klaviyo().unwrap();
    let bob = state.profile_by_email("bob@example.org").unwrap();
    assert_eq!(bob.properties["plan"], serde_json::json!("business"));
    assert_eq!(bob.properties["visits"], serde_json::json!(3));
    assert_eq!(bob.email_consent.consent, "NEVER_SUBSCRIBED", "a profile write never grants consent");

    let invalid = plugin.write("profiles", vec![contact("c", "not-an-email", "free")]).unwrap();
    match &invalid[0].result {
        WriteResult::Rejected { reason } => {
            assert_eq!(reason.code, "invalid");
            assert!(reason.message.contains("Invalid email address"), "{}", reason.message);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn many_profiles_go_through_a_bulk_import_job_with_per_record_outcomes() {
    let harness = Harness::start(5);
    let state = harness.emulator.klaviyo().expect("a klaviyo emulator");
    let before = state.profile_count();
    let mut batch: Vec<Record> =
        (0..130).map(|index| contact(&format!("c{index}"), &format!("bulk{index}@example.org"), "pro")).collect();
    batch[17] = contact("c17", "bulk17-at-example.org", "pro");
    let mut plugin = harness.open();
    let first = plugin.write("profiles", batch.clone()).unwrap();
    let mut expected = vec!["created"; 130];
    expected[17] = "rejected";
    assert_eq!(results(&first), expected, "{:?}", first[17]);
    match &first[17].result {
        WriteResult::Rejected { reason } => assert_eq!(reason.code, "invalid", "{}", reason.message),
        other => panic!("{other:?}"),
    }
    assert_eq!(state.profile_count(), before + 129);
    let target = match &first[3].result {
        WriteResult::Created { target_id } => target_id.to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(state.profile_by_email("bulk3@example.org").map(|profile| profile.id), Some(target));

    let second = plugin.write("profiles", batch).unwrap();
    let mut expected = vec!["unchanged"; 130];
    expected[17] = "rejected";
    assert_eq!(results(&second), expected);
}

fn membership(id: &str, list_id: &str, email: &str, status: ConsentStatus) -> Record {
    let changed_at = Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap();
    Record::new(
        "mailchimp",
        id,
        changed_at,
        Entity::Membership(Membership {
            list: Some(Reference::new(EntityKind::List, list_id)),
            email: Some(email.into()),
            consent: Consent {
                email: Some(ConsentState {
                    status,
                    source: Some("signup form".into()),
                    method: Some("single_opt_in".into()),
                    changed_at: Some(changed_at),
                    ip: None,
                }),
                ..Consent::default()
            },
            ..Membership::default()
        }),
    )
}

/// Email consent of the memberships of `list_id` read back, by email.
/// Each member of `list_id` as read back, by email, with what `channel`
/// takes of their consent; members it takes nothing of are left out.
fn read_back<T>(harness: &Harness, list_id: &str, channel: impl Fn(Consent) -> Option<T>) -> BTreeMap<String, T> {
    let (records, rejects) = read_all(&mut harness.open(), "subscriptions", 25);
    assert!(rejects.is_empty(), "{rejects:?}");
    records
        .into_iter()
        .filter_map(|record| match record.entity {
            Entity::Membership(membership)
                if membership.list.as_ref().is_some_and(|list| list.source_id == list_id) =>
            {
                Some((membership.email?.to_string(), channel(membership.consent)?))
            }
            _ => None,
        })
        .collect()
}

/// Email consent of each member of `list_id` as read back.
fn consent_read_back(harness: &Harness, list_id: &str) -> BTreeMap<String, ConsentStatus> {
    read_back(harness, list_id, |consent| consent.email.map(|state| state.status))
}

#[test]
fn written_consent_reads_back_as_strong_as_it_was() {
    let harness = Harness::start(8);
    let state = harness.emulator.klaviyo().unwrap();
    let (list_id, _) = state.lists().into_iter().next().unwrap();
    let statuses = ConsentStatus::ALL;
    let batch: Vec<Record> = statuses
        .iter()
        .enumerate()
        .map(|(index, status)| {
            membership(&format!("m{index}"), &list_id, &format!("person{index}@example.org"), *status)
        })
        .collect();
    let mut plugin = harness.open();
    let first = plugin.write("subscriptions", batch.clone()).unwrap();
    assert_eq!(results(&first), ["created"; 7], "{first:?}");
    let again = plugin.write("subscriptions", batch).unwrap();
    assert_eq!(results(&again), ["unchanged"; 7], "{again:?}");

    let read_back = consent_read_back(&harness, &list_id);
    // Pending is kept for the list (the `cutover_list_status_` property).
    let expected = [
        ConsentStatus::Subscribed,
        ConsentStatus::Pending,
        ConsentStatus::NonSubscribed,
        ConsentStatus::Unsubscribed,
        ConsentStatus::Suppressed,
        ConsentStatus::Suppressed,
        ConsentStatus::Suppressed,
    ];
    for (index, (written, expected)) in statuses.iter().zip(expected).enumerate() {
        let email = format!("person{index}@example.org");
        assert_eq!(read_back.get(&email), Some(&expected), "{written:?} written for {email}");
        assert_eq!(expected.is_suppression(), written.is_suppression(), "{written:?}");
    }
    let suppressed = state.profile_by_email("person6@example.org").unwrap();
    assert!(suppressed.email_consent.suppression.iter().any(|item| item.reason == "USER_SUPPRESSED"));
    assert!(!suppressed.email_consent.can_receive_email_marketing());

    // A later subscription does not lift an unsubscribe or a suppression.
    let resubscribe = vec![
        membership("again3", &list_id, "person3@example.org", ConsentStatus::Subscribed),
        membership("again6", &list_id, "person6@example.org", ConsentStatus::Subscribed),
    ];
    let refused = plugin.write("subscriptions", resubscribe).unwrap();
    for outcome in &refused {
        match &outcome.result {
            WriteResult::Rejected { reason } => assert_eq!(reason.code, "suppressed_on_target"),
            other => panic!("{other:?}"),
        }
    }
    let read_back = consent_read_back(&harness, &list_id);
    assert_eq!(read_back.get("person3@example.org"), Some(&ConsentStatus::Unsubscribed));
    assert_eq!(read_back.get("person6@example.org"), Some(&ConsentStatus::Suppressed));

    let unknown =
        plugin.write("subscriptions", vec![membership("x", "NoSuch", "x@example.org", ConsentStatus::Subscribed)]);
    match &unknown.unwrap()[0].result {
        WriteResult::Rejected { reason } => assert_eq!(reason.code, "unknown_list"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn seeded_consent_reads_in_every_state() {
    let harness = Harness::start(60);
    let mut plugin = harness.open();
    let (records, rejects) = read_all(&mut plugin, "subscriptions", 30);
    assert!(rejects.is_empty(), "{rejects:?}");
    let statuses: HashSet<ConsentStatus> = records
        .iter()
        .filter_map(|record| match &record.entity {
            Entity::Membership(membership) => membership.consent.email.as_ref().map(|state| state.status),
            _ => None,
        })
        .collect();
    for status in [ConsentStatus::Subscribed, ConsentStatus::Unsubscribed, ConsentStatus::Bounced] {
        assert!(statuses.contains(&status), "{status:?} not in {statuses:?}");
    }
}

fn event(id: &str, profile_id: &str, kind: EngagementKind, seconds: i64) -> Record {
    let at = Utc.timestamp_opt(seconds, 0).single().expect("a valid time");
    let mut record = Record::new(
        "mailchimp",
        id,
        at,
        Entity::EngagementEvent(EngagementEvent {
            kind: Some(kind),
            occurred_at: Some(at),
            contact: Some(Reference::new(EntityKind::Contact, profile_id)),
            url: (kind == EngagementKind::Click).then(|| "https://example.org/offer".into()),
            ..EngagementEvent::default()
        }),
    );
    record.custom_fields.insert("Subject".into(), CustomValue::Text("Spring sale".into()));
    record
}

#[test]
fn events_and_subscriptions_write_idempotently() {
    let harness = Harness::start(6);
    let state = harness.emulator.klaviyo().unwrap();
    let profile_id = state.profiles()[0].id.clone();
    let before = state.events_of(&profile_id).len();
    let year_ago = Utc::now().timestamp() - 360 * 24 * 3600;
    let batch = vec![
        event("e1", &profile_id, EngagementKind::Sent, year_ago),
        event("e2", &profile_id, EngagementKind::Open, year_ago + 600),
        event("e3", &profile_id, EngagementKind::Click, year_ago + 660),
    ];
    let mut plugin = harness.open();
    assert_eq!(results(&plugin.write("events", batch.clone()).unwrap()), ["created"; 3]);
    assert_eq!(results(&plugin.write("events", batch.clone()).unwrap()), ["unchanged"; 3]);
    // A fresh instance compares with what Klaviyo holds, not with memory.
    assert_eq!(results(&harness.open().write("events", batch).unwrap()), ["unchanged"; 3]);
    let events = state.events_of(&profile_id);
    assert_eq!(events.len(), before + 3);
    assert!(events.iter().any(|(metric, _, properties)| metric == "Clicked Email"
        && properties["URL"] == serde_json::json!("https://example.org/offer")));

    // Read back: the written click comes out as a click with its URL.
    let (records, _) = read_all(&mut plugin, "events", 200);
    let click = records
        .iter()
        .find_map(|record| match &record.entity {
            Entity::EngagementEvent(event)
                if event.kind == Some(EngagementKind::Click)
                    && event.occurred_at.map(|at| at.timestamp()) == Some(year_ago + 660) =>
            {
                Some(event.clone())
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(click.url.as_deref(), Some("https://example.org/offer"));
    assert_eq!(click.contact, Some(Reference::new(EntityKind::Contact, profile_id.as_str())));

    // Memberships by contact id, as the host writes them after its id map.
    let (list_id, _) = state.lists().into_iter().nth(1).unwrap();
    let mut by_contact = membership("c1", &list_id, "ignored@example.org", ConsentStatus::NonSubscribed);
    if let Entity::Membership(membership) = &mut by_contact.entity {
        membership.email = None;
        membership.contact = Some(Reference::new(EntityKind::Contact, profile_id.as_str()));
    }
    let expected = if state.list_members(&list_id).contains(&profile_id) { "unchanged" } else { "created" };
    let first = plugin.write("subscriptions", vec![by_contact.clone()]).unwrap();
    assert_eq!(results(&first), [expected]);
    assert_eq!(results(&plugin.write("subscriptions", vec![by_contact]).unwrap()), ["unchanged"]);
    assert!(state.list_members(&list_id).contains(&profile_id));
}

#[test]
fn lists_are_written_by_name() {
    let harness = Harness::start(3);
    let mut plugin = harness.open();
    let list = |id: &str, name: &str| {
        Record::new(
            "mailchimp",
            id,
            Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
            Entity::List(cutover_sdk::schema::List {
                name: Some(name.into()),
                double_opt_in: Some(false),
                ..Default::default()
            }),
        )
    };
    let batch = vec![list("l1", "Spring buyers"), list("l2", "Webinar leads")];
    let first = plugin.write("lists", batch.clone()).unwrap();
    assert_eq!(results(&first), ["created", "unchanged"], "{first:?}");
    assert_eq!(results(&harness.open().write("lists", batch).unwrap()), ["unchanged", "unchanged"]);
    let names: Vec<String> = harness.emulator.klaviyo().unwrap().lists().into_iter().map(|(_, name)| name).collect();
    assert_eq!(names.iter().filter(|name| *name == "Spring buyers").count(), 1);
}

#[test]
fn a_storm_of_429s_is_waited_out() {
    let harness = Harness::start(30);
    harness.emulator.set_faults(FaultConfig { burst_429: 3, ..FaultConfig::default() });
    let mut plugin = harness.open();
    let (records, rejects) = read_all(&mut plugin, "profiles", 100);
    assert_eq!(records.len() + rejects.len(), 30);
    assert_eq!(harness.emulator.faults().burst_429, 0, "the storm was met and waited out");
}

#[test]
fn a_failing_page_and_dropped_connections_are_retried() {
    let harness = Harness::start(30);
    let mut plugin = harness.open();
    let (clean, _) = read_all(&mut plugin, "profiles", 10);
    harness.emulator.set_faults(FaultConfig { fail_page_once: Some(1), drop_next: 2, ..FaultConfig::default() });
    let (faulty, _) = read_all(&mut harness.open(), "profiles", 10);
    assert_eq!(faulty, clean);
    assert_eq!(harness.emulator.faults().drop_next, 0);
}

#[test]
fn a_wrong_key_is_an_auth_error_and_check_says_so() {
    let harness = Harness::start(1);
    let config = serde_json::json!({"api_key": "pk_wrong", "base_url": harness.emulator.base_url});
    let mut plugin = cutover_plugin_klaviyo::Klaviyo::open(
        serde_json::from_value(config).unwrap(),
        &Context::new(std::path::PathBuf::new()),
    )
    .unwrap();
    let error = Source::read(&mut plugin, "lists", None, 10).unwrap_err();
    assert_eq!(error.code, ErrorCode::Auth, "{error:?}");
    assert_eq!(error.stream.as_deref(), Some("lists"));
    assert!(!error.message.contains("pk_wrong"), "{}", error.message);
    let report = plugin.check().unwrap();
    assert!(!report.checks[0].ok);
    assert!(harness.open().check().unwrap().checks[0].ok);

    for (config, field) in [
        (serde_json::json!({"api_key": "sk_live_123"}), "api_key"),
        (serde_json::json!({"api_key": "pk_123", "revision": "last tuesday"}), "revision"),
        (serde_json::json!({"api_key": "pk_123", "base_url": "ftp://a.klaviyo.com"}), "ftp"),
    ] {
        let opened = cutover_plugin_klaviyo::Klaviyo::open(
            serde_json::from_value(config).unwrap(),
            &Context::new(std::path::PathBuf::new()),
        );
        let error = opened.err().expect("the config is refused");
        assert_eq!(error.code, ErrorCode::Config, "{error:?}");
        assert!(error.message.contains(field), "{}", error.message);
    }
}

#[test]
fn each_list_keeps_its_own_status_where_the_person_is_subscribed_through_another() {
    let harness = Harness::start(8);
    let state = harness.emulator.klaviyo().unwrap();
    let lists = state.lists();
    assert!(lists.len() >= 2, "the seed has two lists: {lists:?}");
    let (pending_list, subscribed_list) = (lists[0].0.clone(), lists[1].0.clone());
    let mut plugin = harness.open();
    let email = "zoe.two-lists@example.org";
    let first = plugin
        .write(
            "subscriptions",
            vec![
                membership("a", &pending_list, email, ConsentStatus::Pending),
                membership("b", &subscribed_list, email, ConsentStatus::Subscribed),
            ],
        )
        .unwrap();
    assert_eq!(results(&first), ["created", "created"], "{first:?}");
    assert_eq!(consent_read_back(&harness, &pending_list).get(email), Some(&ConsentStatus::Pending));
    assert_eq!(consent_read_back(&harness, &subscribed_list).get(email), Some(&ConsentStatus::Subscribed));
    let profile = state.profile_by_email(email).unwrap();
    assert!(profile.email_consent.can_receive_email_marketing(), "the person is subscribed on Klaviyo");

    // Once subscribed on that list too, the kept status gives way.
    let confirmed =
        plugin.write("subscriptions", vec![membership("a", &pending_list, email, ConsentStatus::Subscribed)]);
    assert_eq!(results(&confirmed.unwrap()), ["updated"]);
    assert_eq!(consent_read_back(&harness, &pending_list).get(email), Some(&ConsentStatus::Subscribed));
}

/// `record` (a membership) with SMS consent `status`.
fn with_sms(mut record: Record, status: ConsentStatus) -> Record {
    if let Entity::Membership(membership) = &mut record.entity {
        membership.consent.sms = Some(ConsentState {
            status,
            source: Some("keyword".into()),
            method: None,
            changed_at: Some(Utc.with_ymd_and_hms(2024, 5, 1, 9, 0, 0).unwrap()),
            ip: None,
        });
    }
    record
}

/// SMS consent of the memberships of `list_id` read back, by email.
/// SMS consent (or none) of each member of `list_id` as read back.
fn sms_read_back(harness: &Harness, list_id: &str) -> BTreeMap<String, Option<ConsentStatus>> {
    read_back(harness, list_id, |consent| Some(consent.sms.map(|state| state.status)))
}

#[test]
fn an_sms_opt_out_reaches_klaviyo_whatever_the_email_consent() {
    let harness = Harness::start(6);
    let state = harness.emulator.klaviyo().unwrap();
    let (list_id, _) = state.lists().into_iter().next().unwrap();
    let mut plugin = harness.open();
    // Two people with phone numbers, SMS- and email-subscribed on Klaviyo
    // before the opt-outs arrive (the overlap period).
    let people = [("texted.stop@example.org", "+442079460018"), ("left.both@example.org", "+442079460019")];
    let contacts: Vec<Record> = people
        .iter()
        .enumerate()
        .map(|(index, (email, phone))| {
            let mut record = contact(&format!("p{index}"), email, "pro");
            if let Entity::Contact(contact) = &mut record.entity {
                contact.phone = Some((*phone).into());
            }
            record
        })
        .collect();
    assert_eq!(results(&plugin.write("profiles", contacts).unwrap()), ["created", "created"]);
    let subscribed: Vec<Record> = people
        .iter()
        .enumerate()
        .map(|(index, (email, _))| {
            with_sms(
                membership(&format!("m{index}"), &list_id, email, ConsentStatus::Subscribed),
                ConsentStatus::Subscribed,
            )
        })
        .collect();
    let first = plugin.write("subscriptions", subscribed).unwrap();
    assert_eq!(results(&first), ["created", "created"], "{first:?}");
    for (email, _) in people {
        assert_eq!(state.profile_by_email(email).unwrap().sms_consent, "SUBSCRIBED", "{email}");
    }

    // One texted STOP and stays an email subscriber; the other left both
    // channels, their number bouncing.
    let opted_out = vec![
        with_sms(membership("m0", &list_id, people[0].0, ConsentStatus::Subscribed), ConsentStatus::Unsubscribed),
        with_sms(membership("m1", &list_id, people[1].0, ConsentStatus::Unsubscribed), ConsentStatus::Bounced),
    ];
    let written = plugin.write("subscriptions", opted_out.clone()).unwrap();
    assert_eq!(results(&written), ["updated", "updated"], "{written:?}");
    let stop = state.profile_by_email(people[0].0).unwrap();
    assert_eq!(stop.sms_consent, "UNSUBSCRIBED");
    assert!(stop.email_consent.can_receive_email_marketing(), "the email subscription is kept");
    let both = state.profile_by_email(people[1].0).unwrap();
    assert_eq!((both.sms_consent.as_str(), both.email_consent.consent.as_str()), ("UNSUBSCRIBED", "UNSUBSCRIBED"));
    assert_eq!(results(&plugin.write("subscriptions", opted_out.clone()).unwrap()), ["unchanged", "unchanged"]);
    // A fresh instance compares with what Klaviyo holds, not with memory.
    assert_eq!(results(&harness.open().write("subscriptions", opted_out).unwrap()), ["unchanged", "unchanged"]);

    let sms = sms_read_back(&harness, &list_id);
    assert_eq!(sms.get(people[0].0), Some(&Some(ConsentStatus::Unsubscribed)));
    assert_eq!(sms.get(people[1].0), Some(&Some(ConsentStatus::Unsubscribed)));
    let email = consent_read_back(&harness, &list_id);
    assert_eq!(email.get(people[0].0), Some(&ConsentStatus::Subscribed));
    assert_eq!(email.get(people[1].0), Some(&ConsentStatus::Unsubscribed));

    // An opt-out is never written as a subscription: SMS stays unsubscribed
    // when a later record says subscribed by email only.
    let email_only = membership("m0", &list_id, people[0].0, ConsentStatus::Subscribed);
    assert_eq!(results(&plugin.write("subscriptions", vec![email_only]).unwrap()), ["unchanged"]);
    assert_eq!(state.profile_by_email(people[0].0).unwrap().sms_consent, "UNSUBSCRIBED");
    // Nor does a record that says SMS-subscribed lift the opt-out Klaviyo holds.
    let resubscribe =
        with_sms(membership("m0", &list_id, people[0].0, ConsentStatus::Subscribed), ConsentStatus::Subscribed);
    let refused = plugin.write("subscriptions", vec![resubscribe]).unwrap();
    match &refused[0].result {
        WriteResult::Rejected { reason } => assert_eq!(reason.code, "suppressed_on_target"),
        other => panic!("{other:?}"),
    }
    assert_eq!(state.profile_by_email(people[0].0).unwrap().sms_consent, "UNSUBSCRIBED");
}

#[test]
fn an_sms_opt_out_without_a_phone_number_writes_nothing_for_sms() {
    let harness = Harness::start(6);
    let state = harness.emulator.klaviyo().unwrap();
    let (list_id, _) = state.lists().into_iter().next().unwrap();
    let mut plugin = harness.open();
    let email = "no.number@example.org";
    let record = with_sms(membership("m", &list_id, email, ConsentStatus::Subscribed), ConsentStatus::Unsubscribed);
    let first = plugin.write("subscriptions", vec![record.clone()]).unwrap();
    assert_eq!(results(&first), ["created"], "{first:?}");
    assert_eq!(results(&plugin.write("subscriptions", vec![record]).unwrap()), ["unchanged"]);
    let profile = state.profile_by_email(email).unwrap();
    assert_eq!(profile.phone_number, None);
    assert_eq!(profile.sms_consent, "NEVER_SUBSCRIBED", "Klaviyo holds no SMS consent without a number");
    assert!(profile.email_consent.can_receive_email_marketing());
    assert_eq!(sms_read_back(&harness, &list_id).get(email), Some(&None));
}

/// An event for the bulk writer: its profile by id, by email, or neither.
fn bulk_event(id: &str, profile_id: Option<&str>, email: Option<&str>, kind: EngagementKind, seconds: i64) -> Record {
    let at = Utc.timestamp_opt(seconds, 0).single().expect("a valid time");
    Record::new(
        "mailchimp",
        id,
        at,
        Entity::EngagementEvent(EngagementEvent {
            kind: Some(kind),
            occurred_at: Some(at),
            contact: profile_id.map(|id| Reference::new(EntityKind::Contact, id)),
            email: email.map(Into::into),
            ..EngagementEvent::default()
        }),
    )
}

#[test]
fn many_events_go_through_jobs_and_a_rerun_is_unchanged() {
    let harness = Harness::start(5);
    let state = harness.emulator.klaviyo().expect("klaviyo");
    let profile_id = state.profiles()[0].id.clone();
    let before = state.event_count();
    let batch = many_events(&profile_id, Utc::now().timestamp() - 200 * 24 * 3600);
    let mut plugin = harness.open();
    let outcomes = plugin.write("events", batch.clone()).expect("a write");
    assert!(results(&outcomes).iter().all(|result| *result == "created"), "{:?}", results(&outcomes));
    assert_eq!(state.event_count(), before + 2500);
    let reader = state.profile_by_email("reader7@example.org").expect("the profile is upserted by email");
    assert_eq!(state.events_of(&reader.id).len(), 10);
    // A fresh instance sent a batch again (a resume) finds what Klaviyo
    // holds through the events' `cutover_id`: people 100 to 199, alone in
    // their time span.
    let again = harness.open().write("events", batch[1000..2000].to_vec()).expect("a write");
    assert!(results(&again).iter().all(|result| *result == "unchanged"), "{:?}", results(&again));
    assert_eq!(state.event_count(), before + 2500);
    assert_eq!(sorted(state.event_unique_ids()), unique_ids(&batch), "each event once, under its own unique id");
}

/// The unique ids the plugin gives `events` on Klaviyo, sorted.
fn unique_ids(events: &[Record]) -> Vec<String> {
    sorted(events.iter().map(|record| format!("{}:{}", record.source_platform, record.source_id)).collect())
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// 2,400 events of 240 people named by email, and 100 of `profile_id` by id,
/// from `start` on: more than two jobs' worth, and a time span more than one
/// page of `GET /api/events` holds.
fn many_events(profile_id: &str, start: i64) -> Vec<Record> {
    let mut batch = Vec::new();
    for person in 0..240 {
        for n in 0..10 {
            let email = format!("reader{person}@example.org");
            let id = format!("e{person}-{n}");
            batch.push(bulk_event(&id, None, Some(&email), EngagementKind::Open, start + person * 60 + n));
        }
    }
    for n in 0..100 {
        batch.push(bulk_event(&format!("k{n}"), Some(profile_id), None, EngagementKind::Click, start + n * 7));
    }
    batch
}

#[test]
fn a_rerun_of_events_klaviyo_holds_is_all_unchanged_and_stores_none_twice() {
    let harness = Harness::start(5);
    let state = harness.emulator.klaviyo().expect("klaviyo");
    let profile_id = state.profiles()[0].id.clone();
    let before = state.event_count();
    let batch = many_events(&profile_id, Utc::now().timestamp() - 200 * 24 * 3600);
    let first = harness.open().write("events", batch.clone()).expect("a write");
    assert!(results(&first).iter().all(|result| *result == "created"), "{:?}", results(&first));
    // The whole set again, by a fresh instance (a resumed run): Klaviyo
    // holds every event, so every one is `unchanged`; and Klaviyo still
    // holds each exactly once.
    let again = harness.open().write("events", batch.clone()).expect("a write");
    let not_unchanged: Vec<(&str, &str)> = again
        .iter()
        .filter(|outcome| outcome.result.as_str() != "unchanged")
        .map(|outcome| (outcome.source_id.as_str(), outcome.result.as_str()))
        .collect();
    assert_eq!(not_unchanged.len(), 0, "reported as written again, though Klaviyo held them: {not_unchanged:?}");
    assert_eq!(state.event_count(), before + batch.len());
    assert_eq!(sorted(state.event_unique_ids()), unique_ids(&batch), "each event once, under its own unique id");
}

/// The results of a write that are not `result`, by source id.
fn other_than(outcomes: &[WriteOutcome], result: &str) -> Vec<(String, &'static str)> {
    outcomes
        .iter()
        .filter(|outcome| outcome.result.as_str() != result)
        .map(|outcome| (outcome.source_id.to_string(), outcome.result.as_str()))
        .collect()
}

/// `events` again, under their own unique ids, as events of `metric`.
fn as_metric(events: &[Record], metric: &str) -> Vec<Record> {
    let mut events = events.to_vec();
    for record in &mut events {
        record.custom_fields.insert("metric".into(), CustomValue::Text(metric.into()));
    }
    events
}

/// `events` again, under their own unique ids, as other people's: those
/// named by email as `other.<email>`, those named by id as `profile_id`'s.
fn of_others(events: &[Record], profile_id: &str) -> Vec<Record> {
    let mut events = events.to_vec();
    for record in &mut events {
        if let Entity::EngagementEvent(event) = &mut record.entity {
            if event.contact.is_some() {
                event.contact = Some(Reference::new(EntityKind::Contact, profile_id));
            }
            event.email = event.email.as_ref().map(|email| format!("other.{email}").into());
        }
    }
    events
}

#[test]
fn a_crowded_span_is_read_to_its_end_and_other_events_there_are_not_the_batchs() {
    let harness = Harness::start(5);
    let state = harness.emulator.klaviyo().expect("klaviyo");
    let profiles = state.profiles();
    let (profile_id, other_id) = (profiles[0].id.clone(), profiles[1].id.clone());
    let before = state.event_count();
    // On a revision whose event pages hold 200: the batch's 2,500 events
    // alone fill thirteen pages of their span.
    let open = || harness.open_at("2024-10-15");
    let start = Utc::now().timestamp() - 200 * 24 * 3600;
    let batch = many_events(&profile_id, start);
    // The span is crowded first: the batch's events under their own unique
    // ids as another metric's and as other people's (Klaviyo keeps each
    // apart from the batch's: its key is profile, metric and unique id),
    // other events of the batch's metric at every other one of its seconds,
    // and a campaign's worth of them at one second between two of its
    // (person 150's last at `start + 9009`, person 151's first at
    // `start + 9060`): more than two pages, read past.
    let strangers: Vec<Record> = batch
        .iter()
        .step_by(2)
        .enumerate()
        .map(|(n, record)| {
            let email = format!("stranger{n}@example.org");
            bulk_event(&format!("s{n}"), None, Some(&email), EngagementKind::Open, record.updated_at.timestamp())
        })
        .collect();
    let burst: Vec<Record> = (0..450)
        .map(|n| {
            let email = format!("burst{n}@example.org");
            bulk_event(&format!("b{n}"), None, Some(&email), EngagementKind::Open, start + 150 * 60 + 30)
        })
        .collect();
    let crowd = [as_metric(&batch, "Viewed Page"), of_others(&batch, &other_id), strangers.clone(), burst.clone()];
    for events in &crowd {
        let written = open().write("events", events.clone()).expect("a write");
        assert_eq!(other_than(&written, "created"), [], "none of these is held");
    }
    let crowded = state.event_count();
    assert_eq!(crowded, before + 2 * batch.len() + strangers.len() + burst.len());

    // A fresh instance's first write: 6,700 events in the span, 5,000 of
    // them under the batch's unique ids, none of them the batch's.
    let first = open().write("events", batch.clone()).expect("a write");
    assert_eq!(other_than(&first, "created"), [], "reported as held, though Klaviyo held none of them");
    assert_eq!(state.event_count(), crowded + batch.len());
    // Again from a fresh instance (a resumed run): every event is found
    // held, past the pages of the others.
    let again = open().write("events", batch.clone()).expect("a write");
    assert_eq!(other_than(&again, "unchanged"), [], "reported as written again, though Klaviyo held them");
    assert_eq!(state.event_count(), crowded + batch.len());
    // Each of the batch's unique ids three times (its own event, the other
    // metric's, the other person's), each of the others' once.
    let ids = unique_ids(&batch);
    let expected = [ids.clone(), ids.clone(), ids, unique_ids(&strangers), unique_ids(&burst)].concat();
    assert_eq!(sorted(state.event_unique_ids()), sorted(expected));
    // And the whole crowd again, from fresh instances: held, every event.
    for events in &crowd {
        let written = open().write("events", events.clone()).expect("a write");
        assert_eq!(other_than(&written, "unchanged"), []);
    }
    assert_eq!(state.event_count(), crowded + batch.len());
}

#[test]
fn a_refused_job_is_halved_until_only_the_bad_events_are_rejected() {
    let harness = Harness::start(4);
    let state = harness.emulator.klaviyo().expect("klaviyo");
    let profile_id = state.profiles()[1].id.clone();
    let start = Utc::now().timestamp() - 30 * 24 * 3600;
    let before = state.event_count();
    let mut batch: Vec<Record> = (0..12)
        .map(|n| bulk_event(&format!("g{n}"), Some(&profile_id), None, EngagementKind::Open, start + n * 60))
        .collect();
    // Klaviyo refuses these, so the whole job: an unknown profile id and an
    // address it does not take.
    batch.insert(3, bulk_event("no-such", Some("01NOSUCHPROFILE00000000000"), None, EngagementKind::Open, start));
    batch.insert(9, bulk_event("bad-email", None, Some("not an address"), EngagementKind::Open, start + 5));
    // And these the plugin rejects before sending: no metric, a time before 1990 (the default revision takes 1990 on).
    let mut no_metric = bulk_event("no-metric", Some(&profile_id), None, EngagementKind::Open, start);
    if let Entity::EngagementEvent(event) = &mut no_metric.entity {
        event.kind = None;
    }
    batch.push(no_metric);
    batch.push(bulk_event("ancient", Some(&profile_id), None, EngagementKind::Open, 500_000_000));
    let outcomes = harness.open().write("events", batch).expect("a write");
    let rejected: Vec<(&str, String)> = outcomes
        .iter()
        .filter_map(|outcome| match &outcome.result {
            WriteResult::Rejected { reason } => Some((outcome.source_id.as_str(), reason.code.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        rejected,
        [
            ("no-such", "invalid".to_owned()),
            ("bad-email", "invalid".to_owned()),
            ("no-metric", "no_metric".to_owned()),
            ("ancient", "time_out_of_range".to_owned()),
        ]
    );
    assert_eq!(results(&outcomes).iter().filter(|result| **result == "created").count(), 12);
    assert_eq!(state.event_count(), before + 12);
}

#[test]
fn tmp_cost() {
    for revision in ["2026-07-15", "2024-10-15"] {
        let harness = Harness::start(5);
        let state = harness.emulator.klaviyo().expect("klaviyo");
        let profile_id = state.profiles()[0].id.clone();
        let batch = many_events(&profile_id, Utc::now().timestamp() - 200 * 24 * 3600);
        eprintln!("{revision}: first write of 1000");
        harness.open_at(revision).write("events", batch[..1000].to_vec()).unwrap();
        harness.open_at(revision).write("events", batch[1000..].to_vec()).unwrap();
        eprintln!("{revision}: rerun of 2500");
        harness.open_at(revision).write("events", batch.clone()).unwrap();
    }
}
