//! The mailman plugin against a real Mailman 3 core: the conformance kit, and
//! lists and memberships written, read back and written again.
//!
//! Start one with `eval "$(.ci/mailman.sh start)"` (it prints `MAILMAN_URL`,
//! `MAILMAN_USER` and `MAILMAN_PASSWORD`). The build script compiles the
//! server tests in only when `MAILMAN_URL` is set when they are built
//! (`cfg(mailman_server)`); without it they are ignored, so the test runner
//! reports them as skipped, and only the offline checks run. With
//! `CUTOVER_REQUIRE_MAILMAN` set (`.ci/run` sets it) a missing server is a
//! failure instead. The server tests are one `#[test]`, because they share
//! one server and the `contacts` stream reads every address on it.
#![expect(clippy::unwrap_used, reason = "helpers outside #[test] functions: a failed unwrap is a failed test")]

use cutover_http::{Auth, HttpClient, HttpConfig, Request, SecretString};
use cutover_plugin_mailman::Mailman;
use cutover_sdk::prelude::*;
use cutover_sdk::schema::{Consent, ConsentState, ConsentStatus, List, Membership, Reference};
use std::collections::BTreeMap;

struct Server {
    url: String,
    user: String,
    password: String,
}

fn server() -> Option<Server> {
    let url = std::env::var("MAILMAN_URL").ok().filter(|url| !url.is_empty())?;
    Some(Server {
        url,
        user: std::env::var("MAILMAN_USER").unwrap_or_else(|_| "restadmin".into()),
        password: std::env::var("MAILMAN_PASSWORD").unwrap_or_else(|_| "restpass".into()),
    })
}

fn config(server: &Server, domain: &str) -> serde_json::Value {
    serde_json::json!({
        "base_url": server.url,
        "username": server.user,
        "password": server.password,
        "domain": domain,
        "page_size": 4,
    })
}

#[test]
fn metadata_and_config_refusal_hold_without_a_server() {
    // Port 9 (discard) is closed here: only the checks that need no server
    // can pass, and those must.
    let config = r#"{"base_url": "http://127.0.0.1:9", "username": "restadmin", "password": "x"}"#;
    let report = cutover_conformance::Kit::new::<Mailman>(config).bad_config(r#"{"base_url": 12}"#).check();
    for check in ["metadata is valid", "bad config is refused with a clear error"] {
        assert!(report.passed.iter().any(|passed| passed == check), "{check} did not pass: {report}");
    }
}

#[test]
fn a_server_is_there_when_one_is_required() {
    if std::env::var_os("CUTOVER_REQUIRE_MAILMAN").is_none() {
        return;
    }
    assert!(
        server().is_some() && cfg!(mailman_server),
        "CUTOVER_REQUIRE_MAILMAN is set (.ci/run sets it) but MAILMAN_URL was not set when the tests were built and \
         run: the server did not start, and the server tests were skipped"
    );
}

#[test]
#[cfg_attr(not(mailman_server), ignore = "needs a Mailman 3 server: MAILMAN_URL (see .ci/mailman.sh)")]
fn against_a_real_mailman() {
    let Some(server) = server() else {
        panic!(
            "MAILMAN_URL was set when this test was built but is not set now: export what `.ci/mailman.sh start` \
             prints"
        );
    };
    conformance(&server);
    round_trip(&server);
}

fn conformance(server: &Server) {
    let config = config(server, "conformance.cutover.test").to_string();
    // `contacts` are every address on the server, which other tests write to
    // too: the kit reads it before writing anything, and must find the
    // addresses put there just now, each once, among the others.
    let contacts = seed_addresses(server);
    cutover_conformance::Kit::new::<Mailman>(&config)
        .bad_config(r#"{"base_url": 12}"#)
        .source_includes("contacts", contacts)
        // Mailman sets a list's creation time itself, and a list has no
        // custom fields.
        .fields_not_kept("lists", &["created_at", "custom_fields"])
        // A membership holds a role and a delivery status, not consent
        // provenance (time, IP, method, source), a join time, tags or custom
        // fields; its address is the one Mailman keys members by, in lower
        // case (the case as given is kept on the address, see `contacts`).
        .fields_not_kept(
            "members",
            &[
                "consent.email.changed_at",
                "consent.email.ip",
                "consent.email.method",
                "consent.email.source",
                "joined_at",
                "tags",
                "custom_fields",
                "email",
            ],
        )
        // An unsubscribe is written as a ban, so that no later subscription
        // lifts it, and reads back as suppressed; a cleaned address is a
        // member whose delivery is disabled by bounces.
        .rewrites("members", "consent.email.status", "unsubscribed", "suppressed")
        .rewrites("members", "consent.email.status", "cleaned", "bounced")
        .run();
}

/// Puts a few addresses on the server through the REST admin, and returns
/// the source ids the `contacts` stream must give them (the address in
/// lower case).
fn seed_addresses(server: &Server) -> Vec<String> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_nanos());
    let admin = admin(server);
    let context = Context::new(".".into());
    (0..5)
        .map(|index| {
            let email = format!("Seed{index}.{}-{nanos}@Contacts.cutover.test", std::process::id());
            let user = Request::post("users").json(&serde_json::json!({ "email": email, "display_name": "Seed" }));
            context.block_on(admin.send(user)).unwrap().unwrap();
            email.to_lowercase()
        })
        .collect()
}

fn at() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::UNIX_EPOCH
}

fn list(id: &str, name: &str, double_opt_in: bool) -> Record {
    Record::new(
        "test",
        id,
        at(),
        Entity::List(List { name: Some(name.into()), double_opt_in: Some(double_opt_in), ..List::default() }),
    )
}

fn member(list: &str, email: &str, status: Option<ConsentStatus>, custom: &[(&str, &str)]) -> Record {
    let consent = Consent { email: status.map(ConsentState::new), ..Consent::default() };
    let mut record = Record::new(
        "test",
        format!("{list}/{email}/{}", custom.first().map_or("member", |(_, value)| value)),
        at(),
        Entity::Membership(Membership {
            list: Some(Reference::new(EntityKind::List, list)),
            email: Some(email.into()),
            consent,
            ..Membership::default()
        }),
    );
    for (name, value) in custom {
        record.custom_fields.insert((*name).into(), CustomValue::Text((*value).into()));
    }
    record
}

fn results(outcomes: &[WriteOutcome]) -> Vec<(String, String)> {
    outcomes
        .iter()
        .map(|outcome| {
            let result = match &outcome.result {
                WriteResult::Rejected { reason } => format!("rejected {}", reason.code),
                other => other.as_str().to_owned(),
            };
            (outcome.source_id.to_string(), result)
        })
        .collect()
}

fn read_all(plugin: &mut Mailman, stream: &str) -> (Vec<Record>, Vec<SourceReject>) {
    let mut records = Vec::new();
    let mut rejects = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let batch = plugin.read(stream, cursor.as_deref(), 3).unwrap();
        records.extend(batch.records);
        rejects.extend(batch.rejects);
        if batch.done {
            return (records, rejects);
        }
        cursor = batch.next_cursor;
    }
}

/// What a membership read back says: email consent, role, delivery status.
fn summary(record: &Record) -> (Option<ConsentStatus>, Option<String>, Option<String>) {
    let Entity::Membership(membership) = &record.entity else { panic!("not a membership: {record:?}") };
    let text = |name: &str| match record.custom_fields.get(name) {
        Some(CustomValue::Text(text)) => Some(text.to_string()),
        _ => None,
    };
    (membership.consent.email.as_ref().map(|consent| consent.status), text("role"), text("delivery_status"))
}

fn round_trip(server: &Server) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_nanos());
    let domain = format!("rt{}-{nanos}.cutover.test", std::process::id());
    let context = Context::new(".".into());
    let mut plugin = Mailman::open(serde_json::from_value(config(server, &domain)).unwrap(), &context).unwrap();

    let check = plugin.check().unwrap();
    assert!(check.checks.iter().all(|item| item.ok), "{check:?}");

    let lists = vec![list("news", "News & Events", true), list("ops", "Ops", false)];
    let members = vec![
        {
            let mut ada = member("news", "Ada@Example.org", Some(ConsentStatus::Subscribed), &[]);
            ada.custom_fields.insert("delivery_mode".into(), CustomValue::Text("mime_digests".into()));
            ada.custom_fields.insert("display_name".into(), CustomValue::Text("Ada L".into()));
            ada
        },
        member("news", "bob@example.org", Some(ConsentStatus::Bounced), &[]),
        member("news", "cleo@example.org", Some(ConsentStatus::Unsubscribed), &[]),
        member("news", "dan@example.org", Some(ConsentStatus::Pending), &[]),
        member("news", "eve@example.org", None, &[("role", "owner")]),
        member("news", "fay@example.org", None, &[("role", "nonmember")]),
        member("news", "gus@example.org", Some(ConsentStatus::Suppressed), &[]),
        member("ops", "ada@example.org", Some(ConsentStatus::Cleaned), &[]),
        member("nowhere", "ada@example.org", Some(ConsentStatus::Subscribed), &[]),
    ];

    let first_lists = plugin.write("lists", lists.clone()).unwrap();
    assert_eq!(
        results(&first_lists),
        [("news".into(), "created".into()), ("ops".into(), "created".into())],
        "{first_lists:?}"
    );
    let first = results(&plugin.write("members", members.clone()).unwrap());
    let expected_first: Vec<(String, String)> = [
        ("news/Ada@Example.org/member", "created"),
        ("news/bob@example.org/member", "created"),
        ("news/cleo@example.org/member", "created"),
        ("news/dan@example.org/member", "rejected consent_pending"),
        ("news/eve@example.org/owner", "created"),
        ("news/fay@example.org/nonmember", "created"),
        ("news/gus@example.org/member", "created"),
        ("ops/ada@example.org/member", "created"),
        ("nowhere/ada@example.org/member", "rejected unknown_list"),
    ]
    .into_iter()
    .map(|(id, result)| (id.to_owned(), result.to_owned()))
    .collect();
    assert_eq!(first, expected_first);

    // The same batches again, from a fresh instance: nothing changes.
    let mut again = Mailman::open(serde_json::from_value(config(server, &domain)).unwrap(), &context).unwrap();
    let second_lists = results(&again.write("lists", lists).unwrap());
    assert!(second_lists.iter().all(|(_, result)| result == "unchanged"), "{second_lists:?}");
    let second = results(&again.write("members", members).unwrap());
    for ((id, first_result), (_, second_result)) in first.iter().zip(&second) {
        let expected = if first_result.starts_with("rejected") { first_result.as_str() } else { "unchanged" };
        assert_eq!(second_result, expected, "{id}");
    }

    // Read back: roles, delivery status and consent survive.
    let (read_lists, list_rejects) = read_all(&mut plugin, "lists");
    assert!(list_rejects.is_empty(), "{list_rejects:?}");
    let names: BTreeMap<String, (Option<String>, Option<bool>)> = read_lists
        .iter()
        .map(|record| match &record.entity {
            Entity::List(list) => {
                (record.source_id.to_string(), (list.name.as_ref().map(ToString::to_string), list.double_opt_in))
            }
            other => panic!("not a list: {other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        BTreeMap::from([
            (format!("news@{domain}"), (Some("News & Events".to_owned()), Some(true))),
            (format!("ops@{domain}"), (Some("Ops".to_owned()), Some(false))),
        ])
    );
    let (read_members, member_rejects) = read_all(&mut plugin, "members");
    assert!(member_rejects.is_empty(), "{member_rejects:?}");
    let by_id: BTreeMap<String, _> =
        read_members.iter().map(|record| (record.source_id.to_string(), summary(record))).collect();
    let news = |key: &str| format!("news@{domain}/{key}");
    let s = |text: &str| Some(text.to_owned());
    let expected = BTreeMap::from([
        (news("member/ada@example.org"), (Some(ConsentStatus::Subscribed), s("member"), s("enabled"))),
        (news("member/bob@example.org"), (Some(ConsentStatus::Bounced), s("member"), s("by_bounces"))),
        (news("ban/cleo@example.org"), (Some(ConsentStatus::Suppressed), None, None)),
        (news("owner/eve@example.org"), (None, s("owner"), s("enabled"))),
        (news("nonmember/fay@example.org"), (Some(ConsentStatus::NonSubscribed), s("nonmember"), s("enabled"))),
        (news("ban/gus@example.org"), (Some(ConsentStatus::Suppressed), None, None)),
        (format!("ops@{domain}/member/ada@example.org"), (Some(ConsentStatus::Bounced), s("member"), s("by_bounces"))),
    ]);
    assert_eq!(by_id, expected);
    let ada = read_members.iter().find(|record| record.source_id == news("member/ada@example.org")).unwrap();
    assert_eq!(ada.custom_fields.get("delivery_mode"), Some(&CustomValue::Text("mime_digests".into())));

    // An opt-out for a subscriber bans them and stops delivery; a later
    // subscription does not lift it.
    let opt_out = member("news", "ada@example.org", Some(ConsentStatus::Unsubscribed), &[]);
    assert_eq!(results(&plugin.write("members", vec![opt_out]).unwrap())[0].1, "updated");
    let resubscribe = member("news", "ada@example.org", Some(ConsentStatus::Subscribed), &[]);
    assert_eq!(results(&plugin.write("members", vec![resubscribe]).unwrap())[0].1, "rejected destination_suppressed");
    let (read_members, _) = read_all(&mut plugin, "members");
    let ada = read_members.iter().find(|record| record.source_id == news("member/ada@example.org")).unwrap();
    assert_eq!(summary(ada), (Some(ConsentStatus::Suppressed), s("member"), s("by_user")));
    assert!(read_members.iter().any(|record| record.source_id == news("ban/ada@example.org")));

    // What was read, written back to the same server, changes nothing.
    let relists = results(&plugin.write("lists", read_lists).unwrap());
    assert!(relists.iter().all(|(_, result)| result == "unchanged"), "{relists:?}");
    let rewritten = results(&plugin.write("members", read_members.clone()).unwrap());
    assert!(
        rewritten.iter().all(|(_, result)| result == "unchanged" || result == "rejected not_subscribed"),
        "{rewritten:?}"
    );

    let inventory = plugin.discover().unwrap();
    let members_count =
        inventory.streams.iter().find(|count| count.stream == "members").and_then(|count| count.records);
    assert_eq!(members_count, Some(read_members.len() as u64));

    // A pattern ban is Mailman's to judge: the subscriber it covers reads as
    // suppressed, and the pattern itself, which names nobody, is a reject.
    let zed = member("ops", "zed@pattern.example", Some(ConsentStatus::Subscribed), &[]);
    assert_eq!(results(&plugin.write("members", vec![zed]).unwrap())[0].1, "created");
    let admin = admin(server);
    let pattern_ban = Request::post(format!("lists/ops.{domain}/bans"))
        .json(&serde_json::json!({ "email": "^.*@pattern\\.example$" }));
    context.block_on(admin.send(pattern_ban)).unwrap().unwrap();
    let (read_members, member_rejects) = read_all(&mut plugin, "members");
    let zed = read_members.iter().find(|record| record.source_id == format!("ops@{domain}/member/zed@pattern.example"));
    assert_eq!(summary(zed.unwrap()), (Some(ConsentStatus::Suppressed), s("member"), s("enabled")));
    let reject_codes: Vec<&str> = member_rejects.iter().map(|reject| reject.reason.code.as_str()).collect();
    assert_eq!(reject_codes, ["pattern_ban"], "{member_rejects:?}");

    // Deleting the domain deletes its lists and memberships with it.
    context.block_on(admin.send(Request::delete(format!("domains/{domain}")))).unwrap().unwrap();
}

/// A client of the REST admin, for what the plugin does not do.
fn admin(server: &Server) -> HttpClient {
    HttpClient::new(
        HttpConfig::new(format!("{}/3.1/", server.url.trim_end_matches('/')))
            .auth(Auth::basic(server.user.clone(), SecretString::from(server.password.clone()))),
    )
    .unwrap()
}
