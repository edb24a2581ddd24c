//! ESP migrations through the real binary and the real HTTP plugins, against
//! the platform emulators run in this process: Mailchimp members (5,000 by
//! default, `CUTOVER_E2E_MAILCHIMP_MEMBERS=50000` for the full size) with 1 %
//! bad addresses, every status, tags and merge fields, read through injected
//! 429s and 5xx; every consent state arrives as read, every bad address is in
//! the rejects ledger, and the API key appears in no output, report, state or
//! archive. Then Mailchimp → Klaviyo → Mailchimp, with 429 storms and
//! faults on the way (1,500 members by default, `CUTOVER_E2E_ESP_MEMBERS`
//! for more): lists, profiles, memberships and a year of email activity as
//! Klaviyo events there, lists and memberships back (Mailchimp's API cannot
//! take activity); every account balances, the rejects are exactly the
//! addresses the emulator seeded broken (known from the seeding, not from
//! the validator under test), every activity item arrives on Klaviyo once or
//! is a reject (counted exactly from the emulator's reports), no membership
//! is missing on the way back unless a reject names it, and each person's
//! consent on each list comes back as it was, short of Klaviyo's global
//! opt-out.

use cutover_e2e::{Workspace, run};
use cutover_emulators::{Emulator, EmulatorConfig, FaultConfig, MailchimpState, Platform, RunningEmulator};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// An emulator served by a runtime of its own while the test runs `cutover`.
pub struct Served {
    pub emulator: RunningEmulator,
    _runtime: tokio::runtime::Runtime,
}

pub fn serve(platform: Platform, config: EmulatorConfig) -> Served {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the emulator");
    let emulator = runtime.block_on(Emulator::start(platform, config)).expect("the emulator starts");
    Served { emulator, _runtime: runtime }
}

/// The members the emulator seeded with a broken address, as the source ids
/// the mailchimp plugin gives them (`<list id>:<member id>`): known from the
/// seeding, not from the validator under test.
fn seeded_bad_members(state: &MailchimpState) -> BTreeSet<String> {
    state.seeded_invalid_members().into_iter().map(|(list, member)| format!("{list}:{member}")).collect()
}

/// The source id of the record a reject holds: its `raw` is the canonical
/// record (refused by the schema or the destination) or, for a member the
/// mailchimp plugin refused itself, the API's member (`list_id`, `id`).
pub fn rejected_source_id(reject: &Value) -> String {
    let raw: Value = serde_json::from_str(reject["raw"].as_str().unwrap_or("{}")).unwrap_or_default();
    if let Some(source_id) = raw["source_id"].as_str() {
        return source_id.to_owned();
    }
    match (raw["list_id"].as_str(), raw["id"].as_str()) {
        (Some(list), Some(member)) => format!("{list}:{member}"),
        _ => panic!("a reject without its record: {reject}"),
    }
}

/// The canonical consent a Mailchimp status is read as.
pub fn canonical(status: &str) -> &'static str {
    match status {
        "subscribed" => "subscribed",
        "pending" => "pending",
        "unsubscribed" => "unsubscribed",
        "cleaned" => "cleaned",
        _ => "non_subscribed",
    }
}

#[test]
fn mailchimp_members_keep_their_consent_through_429s_and_5xx() {
    let member_count: usize =
        std::env::var("CUTOVER_E2E_MAILCHIMP_MEMBERS").ok().and_then(|value| value.parse().ok()).unwrap_or(5_000);
    // A 429 storm to start with, a page that fails once, then 5 % of each at random.
    let faults =
        FaultConfig { burst_429: 4, fail_page_once: Some(1), rate_429: 0.05, rate_5xx: 0.05, ..FaultConfig::default() };
    let mailchimp = serve(Platform::Mailchimp, EmulatorConfig { faults, ..EmulatorConfig::new(7, member_count) });
    let state: &MailchimpState = mailchimp.emulator.mailchimp().expect("a Mailchimp emulator");
    let key = mailchimp.emulator.api_key.clone();

    let workspace = Workspace::new();
    let config = workspace.write(
        "cutover.toml",
        format!(
            "[source]\nplugin = \"mailchimp\"\n\
             [source.config]\napi_key = \"${{CUTOVER_E2E_MAILCHIMP_KEY}}\"\nbase_url = \"{}/3.0/\"\n\
             [destination]\nplugin = \"sqlite-archive\"\nconfig = {{ path = \"archive.db\" }}\n\
             [[streams]]\nsource = \"lists\"\ndestination = \"list\"\n\
             [[streams]]\nsource = \"members\"\ndestination = \"membership\"\n",
            mailchimp.emulator.base_url
        ),
    );
    let report_path = workspace.path().join("report.json");
    let (output, stdout, stderr) = run(workspace
        .cutover()
        .env("CUTOVER_E2E_MAILCHIMP_KEY", &key)
        .args(["--log", "warn", "migrate"])
        .arg(&config)
        .arg("--report-json")
        .arg(&report_path));
    assert_eq!(
        output.status.code(),
        Some(3),
        "finished with rejects:\n{stdout}{}",
        &stderr[stderr.len().saturating_sub(3000)..]
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("JSON");
    let streams: BTreeMap<String, &Value> = report["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|stream| (stream["name"].as_str().unwrap_or_default().to_owned(), stream))
        .collect();
    for stream in streams.values() {
        let accounted = ["created", "updated", "unchanged", "rejected", "skipped"]
            .iter()
            .map(|field| stream[field].as_u64().unwrap_or(0))
            .sum::<u64>();
        assert_eq!(stream["read"].as_u64(), Some(accounted), "{stream}");
        assert_eq!(stream["status"], "completed", "{stream}");
    }
    let members = streams["members → membership"];
    assert_eq!(members["read"].as_u64(), Some(state.member_count() as u64), "every member read once: {members}");

    // Every consent state as read; every bad address in the ledger.
    let archive = rusqlite::Connection::open(workspace.path().join("archive.db")).expect("the archive");
    let mut statement = archive.prepare("SELECT source_id, consent FROM membership").expect("memberships");
    let archived: BTreeMap<String, String> = statement
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?.unwrap_or_default())))
        .and_then(|rows| rows.collect())
        .expect("rows");
    let (listed, listed_out, listed_err) = run(workspace.cutover().args(["rejects", "list", "--json"]).arg(&config));
    assert!(listed.status.success(), "{listed_err}");
    let rejects: Vec<Value> = serde_json::from_str(&listed_out).expect("JSON");
    let bad_members = seeded_bad_members(state);
    let mut statuses = BTreeMap::<String, usize>::new();
    for list in state.lists() {
        for member in state.members(&list.id) {
            let id = format!("{}:{}", list.id, member.id);
            if bad_members.contains(&id) {
                assert!(!archived.contains_key(&id), "a bad address was archived: {}", member.email_address);
                continue;
            }
            let Some(consent) = archived.get(&id) else { panic!("{id} ({}) was not archived", member.email_address) };
            let consent: Value = serde_json::from_str(consent).expect("consent as JSON");
            let status = member.status.as_str().to_owned();
            assert_eq!(consent["email"]["status"], canonical(&status), "{id} was {status}");
            *statuses.entry(status).or_default() += 1;
        }
    }
    assert_eq!(statuses.len(), 6, "every Mailchimp status is in the data: {statuses:?}");
    assert!(bad_members.len() >= member_count / 200, "about 1 % bad addresses: {}", bad_members.len());
    // The rejects are exactly the members seeded with a broken address, each for that reason.
    let member_rejects: Vec<&Value> = rejects.iter().filter(|reject| reject["stream"] == "members").collect();
    assert!(member_rejects.iter().all(|reject| reject["code"] == "invalid_email"), "{member_rejects:?}");
    let rejected: BTreeSet<String> = member_rejects.iter().map(|reject| rejected_source_id(reject)).collect();
    assert_eq!(rejected, bad_members, "each bad address is a reject, nothing else is");
    assert_eq!(member_rejects.len(), bad_members.len(), "each once");
    assert_eq!(members["rejected"].as_u64(), Some(bad_members.len() as u64));
    assert!(
        stderr.contains("HTTP request will be retried."),
        "the faults were met and retried:\n{}",
        &stderr[..stderr.len().min(3000)]
    );

    // The key is nowhere: not in any output, report, state or archive.
    for (what, text) in [("stdout", stdout.as_bytes().to_vec()), ("stderr", stderr.into_bytes())] {
        assert!(!contains(&text, key.as_bytes()), "the API key leaked into {what}");
    }
    for entry in std::fs::read_dir(workspace.path()).expect("the workspace") {
        let path = entry.expect("an entry").path();
        if path.is_file() {
            let bytes = std::fs::read(&path).expect("a file");
            assert!(!contains(&bytes, key.as_bytes()), "the API key leaked into {}", path.display());
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// The Mailchimp plugin's `list_defaults`: what Mailchimp needs to create an audience.
const LIST_DEFAULTS: &str = r#"{ contact = { company = "Cutover Test Co", address1 = "1 Main Street", city = "Atlanta", state = "GA", zip = "30308", country = "US" }, permission_reminder = "You signed up on our website.", campaign_defaults = { from_name = "Cutover Test Co", from_email = "news@cutover-test.io", subject = "", language = "en" }, email_type_option = false }"#;

/// Runs one migration and returns its report; the exit status must be 0 or 3.
pub fn migrate(workspace: &Workspace, name: &str, config: String, keys: &[(&str, &str)]) -> Value {
    let path = workspace.write(name, config);
    let report_path = workspace.path().join(format!("{name}.report.json"));
    let mut command = workspace.cutover();
    for (variable, value) in keys {
        command.env(variable, value);
    }
    let (output, stdout, stderr) =
        run(command.args(["--log", "warn", "migrate"]).arg(&path).arg("--report-json").arg(&report_path));
    assert!(
        matches!(output.status.code(), Some(0 | 3)),
        "{name}: {stdout}{}",
        &stderr[stderr.len().saturating_sub(3000)..]
    );
    for (_, value) in keys {
        assert!(!stdout.contains(value) && !stderr.contains(value), "a key leaked into the output of {name}");
    }
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("JSON");
    for stream in report["streams"].as_array().expect("streams") {
        let accounted = ["created", "updated", "unchanged", "rejected", "skipped"]
            .iter()
            .map(|field| stream[field].as_u64().unwrap_or(0))
            .sum::<u64>();
        assert_eq!(stream["read"].as_u64(), Some(accounted), "{name}: {stream}");
        assert_eq!(stream["status"], "completed", "{name}: {stream}");
    }
    report
}

/// Whether a Mailchimp status keeps a person from being mailed.
fn suppressed(status: &str) -> bool {
    matches!(status, "unsubscribed" | "cleaned")
}

#[test]
fn mailchimp_to_klaviyo_and_back_never_raises_consent_through_429s_and_5xx() {
    let members: usize =
        std::env::var("CUTOVER_E2E_ESP_MEMBERS").ok().and_then(|value| value.parse().ok()).unwrap_or(1_500);
    let source = serve(Platform::Mailchimp, EmulatorConfig::new(21, members));
    // A 429 storm to start with, then 5 % of each fault at random.
    let faults = FaultConfig { burst_429: 6, rate_429: 0.05, rate_5xx: 0.05, ..FaultConfig::default() };
    let klaviyo = serve(Platform::Klaviyo, EmulatorConfig { faults, ..EmulatorConfig::new(22, 0) });
    // Mailchimp's creates are not all safe to send twice: its side gets 429s only.
    let throttled = FaultConfig { burst_429: 6, rate_429: 0.1, ..FaultConfig::default() };
    let target = serve(Platform::Mailchimp, EmulatorConfig { faults: throttled, ..EmulatorConfig::new(23, 0) });
    let keys = [
        ("E2E_MAILCHIMP_KEY", source.emulator.api_key.as_str()),
        ("E2E_KLAVIYO_KEY", klaviyo.emulator.api_key.as_str()),
        ("E2E_TARGET_KEY", target.emulator.api_key.as_str()),
    ];
    let workspace = Workspace::new();

    let there = migrate(
        &workspace,
        "to-klaviyo.toml",
        format!(
            "[source]\nplugin = \"mailchimp\"\nconfig = {{ api_key = \"${{E2E_MAILCHIMP_KEY}}\", base_url = \"{}/3.0/\" }}\n\
             [destination]\nplugin = \"klaviyo\"\nconfig = {{ api_key = \"${{E2E_KLAVIYO_KEY}}\", base_url = \"{}\" }}\n\
             [[streams]]\nsource = \"lists\"\n\
             [[streams]]\nsource = \"contacts\"\ndestination = \"profiles\"\n\
             [[streams]]\nsource = \"members\"\ndestination = \"subscriptions\"\n\
             [[streams]]\nsource = \"email_activity\"\ndestination = \"events\"\nbatch_size = 5000\n",
            source.emulator.base_url, klaviyo.emulator.base_url
        ),
        &keys,
    );
    // Every bad address is a reject of its member, with its reason, and nothing else is.
    let from = source.emulator.mailchimp().expect("Mailchimp");
    let bad_members = seeded_bad_members(from);
    assert!(bad_members.len() >= members / 200, "about 1 % bad addresses: {}", bad_members.len());
    let stream = |report: &Value, name: &str| -> Value {
        report["streams"]
            .as_array()
            .and_then(|streams| {
                streams.iter().find(|stream| stream["name"].as_str().is_some_and(|n| n.starts_with(name)))
            })
            .cloned()
            .unwrap_or_else(|| panic!("no stream {name} in {report}"))
    };
    let rejects_of = |config: &str| -> Vec<Value> {
        let (listed, listed_out, listed_err) =
            run(workspace.cutover().args(["rejects", "list", "--json"]).arg(workspace.path().join(config)));
        assert!(listed.status.success(), "{listed_err}");
        serde_json::from_str(&listed_out).expect("JSON")
    };
    let rejects = rejects_of("to-klaviyo.toml");
    let member_rejects: Vec<&Value> = rejects.iter().filter(|reject| reject["stream"] == "members").collect();
    assert_eq!(stream(&there, "members")["rejected"].as_u64(), Some(member_rejects.len() as u64), "{there}");
    // Each bad address is a reject. So is a subscription of someone who opted
    // out on another list: Klaviyo's opt-out is the person's, and
    // subscribing would lift it.
    let opted_out_somewhere: BTreeSet<String> = from
        .lists()
        .iter()
        .flat_map(|list| from.members(&list.id))
        .filter(|member| suppressed(member.status.as_str()))
        .map(|member| member.email_address.to_lowercase())
        .collect();
    let mut invalid = BTreeSet::new();
    // Memberships that did not reach Klaviyo, by source id, and why.
    let mut rejected_there = BTreeMap::<String, String>::new();
    for reject in &member_rejects {
        let raw: Value = serde_json::from_str(reject["raw"].as_str().unwrap_or("{}")).unwrap_or_default();
        let source_id = rejected_source_id(reject);
        match reject["code"].as_str() {
            Some("invalid_email") => {
                invalid.insert(source_id.clone());
            }
            Some("suppressed_on_target") => {
                // Rejected by the destination: the raw record is the canonical one.
                let membership = &raw["entity"]["membership"];
                assert_eq!(membership["consent"]["email"]["status"], "subscribed", "{reject}");
                let email = membership["email"].as_str().unwrap_or_default().to_lowercase();
                assert!(opted_out_somewhere.contains(&email), "{reject}");
            }
            _ => panic!("an unexpected reject: {reject}"),
        }
        let code = reject["code"].as_str().unwrap_or_default().to_owned();
        assert!(rejected_there.insert(source_id, code).is_none(), "rejected twice: {reject}");
    }
    assert_eq!(invalid, bad_members, "the bad addresses are rejects, exactly");
    // Contacts too: the people with a bad address, and no one else.
    let bad_addresses: BTreeSet<String> = from
        .lists()
        .iter()
        .flat_map(|list| from.members(&list.id).into_iter().map(move |member| (list.id.clone(), member)))
        .filter(|(list, member)| bad_members.contains(&format!("{list}:{}", member.id)))
        .map(|(_, member)| member.email_address.to_lowercase())
        .collect();
    let contact_rejects: Vec<&Value> = rejects.iter().filter(|reject| reject["stream"] == "contacts").collect();
    let rejected_addresses: BTreeSet<String> = contact_rejects
        .iter()
        .map(|reject| {
            assert_eq!(reject["code"], "invalid_email", "{reject}");
            let raw: Value = serde_json::from_str(reject["raw"].as_str().unwrap_or("{}")).unwrap_or_default();
            // The canonical contact, or the API's member the plugin refused.
            let email = raw["entity"]["contact"]["email"].as_str().or(raw["email_address"].as_str());
            email.unwrap_or_else(|| panic!("a reject naming no address: {reject}")).to_lowercase()
        })
        .collect();
    assert_eq!(rejected_addresses, bad_addresses, "the contacts with a bad address are rejects, exactly");
    assert_eq!(contact_rejects.len(), bad_addresses.len(), "each person once");

    // A year of activity, exactly: every item of the emulator's reports was
    // read (a `sent` per recipient, then each bounce, open, click and
    // unsubscribe), the bad addresses' items are rejects, and Klaviyo holds
    // each of the others once, short of those a batch held twice (same
    // person, metric and second), counted `unchanged`.
    let events = stream(&there, "email_activity");
    let count = |field: &str| events[field].as_u64().unwrap_or(0);
    let mut expected = BTreeMap::<String, u64>::new();
    let mut expected_rejected = BTreeMap::<String, u64>::new();
    for item in from.campaign_activity() {
        let items =
            1 + [item.bounced, item.opened, item.clicked, item.unsubscribed].into_iter().map(u64::from).sum::<u64>();
        let recipient = format!("{}:{}", item.campaign_id, item.member_id);
        if bad_members.contains(&format!("{}:{}", item.list_id, item.member_id)) {
            *expected_rejected.entry(recipient).or_default() += items;
        } else {
            *expected.entry(recipient).or_default() += items;
        }
    }
    let expected_read = expected.values().sum::<u64>() + expected_rejected.values().sum::<u64>();
    assert!(expected_read >= members as u64 * 10, "a year of activity: {expected_read}");
    assert_eq!(count("read"), expected_read, "every activity item read once: {events}");
    assert_eq!(count("rejected"), expected_rejected.values().sum::<u64>(), "{events}");
    // The ledger names each rejected item's recipient, as many times as they had items.
    let mut rejected_items = BTreeMap::<String, u64>::new();
    for reject in rejects.iter().filter(|reject| reject["stream"] == "email_activity") {
        // Refused for its address, or for its contact, which was refused for it.
        assert!(matches!(reject["code"].as_str(), Some("invalid_email" | "unresolved_reference")), "{reject}");
        let source_id = rejected_source_id(reject);
        let recipient = source_id.rsplit_once(':').map_or(source_id.as_str(), |(recipient, _)| recipient);
        *rejected_items.entry(recipient.to_owned()).or_default() += 1;
    }
    assert_eq!(rejected_items, expected_rejected, "the rejected items are the bad addresses' items");
    // Klaviyo's events, by recipient: each cutover id once, no recipient
    // with an item more than read, and what is missing is what was `unchanged`.
    let klaviyo_state = klaviyo.emulator.klaviyo().expect("Klaviyo");
    let unique_ids = klaviyo_state.event_unique_ids();
    assert_eq!(unique_ids.len(), klaviyo_state.event_count(), "Klaviyo was seeded empty: every event is written");
    let distinct: BTreeSet<&String> = unique_ids.iter().collect();
    assert_eq!(distinct.len(), unique_ids.len(), "an event stored twice");
    let mut held = BTreeMap::<String, u64>::new();
    for unique_id in &unique_ids {
        // `mailchimp:<campaign>:<member>:<item>`
        let recipient = unique_id
            .strip_prefix("mailchimp:")
            .and_then(|id| id.rsplit_once(':'))
            .map(|(recipient, _)| recipient.to_owned())
            .unwrap_or_else(|| panic!("an event cutover did not write: {unique_id}"));
        *held.entry(recipient).or_default() += 1;
    }
    let mut missing = 0;
    for (recipient, held) in &held {
        let read = expected.get(recipient).copied().unwrap_or(0);
        assert!(*held <= read, "{recipient}: Klaviyo holds {held} events, {read} were read");
    }
    for (recipient, read) in &expected {
        missing += read - held.get(recipient).copied().unwrap_or(0);
    }
    assert_eq!(count("created"), unique_ids.len() as u64, "{events}");
    assert_eq!(
        missing,
        count("unchanged"),
        "every item read and not on Klaviyo is a duplicate within its batch: {events}"
    );
    assert_eq!(count("updated") + count("skipped"), 0, "{events}");

    let back = migrate(
        &workspace,
        "back-to-mailchimp.toml",
        format!(
            "[source]\nplugin = \"klaviyo\"\nconfig = {{ api_key = \"${{E2E_KLAVIYO_KEY}}\", base_url = \"{}\" }}\n\
             [destination]\nplugin = \"mailchimp\"\n\
             [destination.config]\napi_key = \"${{E2E_TARGET_KEY}}\"\nbase_url = \"{}/3.0/\"\nlist_defaults = {LIST_DEFAULTS}\n\
             [[streams]]\nsource = \"lists\"\n\
             [[streams]]\nsource = \"subscriptions\"\ndestination = \"members\"\n",
            klaviyo.emulator.base_url, target.emulator.base_url
        ),
        &keys,
    );
    assert!(back["streams"][1]["consent"].as_object().is_some_and(|counts| !counts.is_empty()), "{back}");

    // Every person with a valid address, on every list, made the round trip
    // without being raised: a subscriber is still one, an opt-out is still an
    // opt-out; and none is missing unless a reject in a ledger names them.
    let to = target.emulator.mailchimp().expect("Mailchimp");
    let target_lists: BTreeMap<String, String> = to.lists().into_iter().map(|list| (list.name, list.id)).collect();
    // The memberships the way back rejected, as (address, list name); their
    // list is Klaviyo's (as read) or the target's (as written).
    let list_names: BTreeMap<String, String> =
        klaviyo_state.lists().into_iter().chain(to.lists().into_iter().map(|list| (list.id, list.name))).collect();
    let mut rejected_back = BTreeSet::<(String, String)>::new();
    for reject in rejects_of("back-to-mailchimp.toml") {
        let raw: Value = serde_json::from_str(reject["raw"].as_str().unwrap_or("{}")).unwrap_or_default();
        let membership = &raw["entity"]["membership"];
        let (Some(email), Some(list)) = (membership["email"].as_str(), membership["list"]["source_id"].as_str()) else {
            panic!("a reject on the way back that names no membership: {reject}")
        };
        let Some(list) = list_names.get(list) else { panic!("a reject naming an unknown list: {reject}") };
        rejected_back.insert((email.to_lowercase(), list.clone()));
    }
    // Klaviyo keeps consent per person and the plugin keeps a list's own
    // weaker status beside it; what holds across the trip, per person and
    // list: an opt-out anywhere is an opt-out everywhere (Klaviyo's
    // unsubscribe is global) and comes back as one on its own list; short of
    // that, each list comes back with its own canonical status.
    let mut before = BTreeMap::<String, Vec<(String, &'static str, String)>>::new();
    for list in from.lists() {
        for member in from.members(&list.id) {
            let source_id = format!("{}:{}", list.id, member.id);
            if !bad_members.contains(&source_id) {
                before.entry(member.email_address.to_lowercase()).or_default().push((
                    list.name.clone(),
                    member.status.as_str(),
                    source_id,
                ));
            }
        }
    }
    let mut checked = BTreeMap::<String, usize>::new();
    let mut named_by_a_reject = 0;
    for (email, lists) in &before {
        let after: Vec<(String, Option<String>)> = lists
            .iter()
            .map(|(list, _, _)| {
                let Some(target_list) = target_lists.get(list) else { panic!("list {list} did not arrive") };
                (list.clone(), to.member(target_list, email).map(|member| member.status.as_str().to_owned()))
            })
            .collect();
        let opted_out = lists.iter().any(|(_, status, _)| suppressed(status));
        for ((list, status, source_id), (_, came_back)) in lists.iter().zip(&after) {
            let Some(came_back) = came_back.as_deref() else {
                let named = rejected_there.get(source_id).cloned().or_else(|| {
                    rejected_back
                        .contains(&(email.clone(), list.clone()))
                        .then(|| "rejected on the way back".to_owned())
                });
                assert!(named.is_some(), "{email} ({source_id}) was {lists:?}, is missing, and no reject names it");
                named_by_a_reject += 1;
                continue;
            };
            if suppressed(status) {
                assert!(suppressed(came_back), "{email} was {lists:?}, came back {after:?}");
            } else if opted_out {
                assert_ne!(came_back, "subscribed", "{email} was {lists:?}, came back {after:?}");
            } else {
                assert_eq!(canonical(came_back), canonical(status), "{email} was {lists:?}, came back {after:?}");
            }
            *checked.entry((*status).to_owned()).or_default() += 1;
        }
    }
    assert_eq!(checked.len(), 6, "every status made the trip: {checked:?}");
    eprintln!("memberships missing on the way back, each named by a reject: {named_by_a_reject}");
}
