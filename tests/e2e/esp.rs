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
//! take activity); every account balances, every bad address is a reject,
//! and each person's consent on each list comes back as it was, short of
//! Klaviyo's global opt-out.

use cutover_e2e::{Workspace, run};
use cutover_emulators::{Emulator, EmulatorConfig, FaultConfig, MailchimpState, Platform, RunningEmulator};
use serde_json::Value;
use std::collections::BTreeMap;

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

/// The canonical consent a Mailchimp status is read as.
fn canonical(status: &str) -> &'static str {
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
    let mut bad_addresses = 0;
    let mut statuses = BTreeMap::<String, usize>::new();
    for list in state.lists() {
        for member in state.members(&list.id) {
            let id = format!("{}:{}", list.id, member.id);
            if cutover_schema::normalize::email(&member.email_address).is_err() {
                bad_addresses += 1;
                assert!(!archived.contains_key(&id), "a bad address was archived: {}", member.email_address);
                continue;
            }
            let consent: Value = serde_json::from_str(&archived[&id]).expect("consent as JSON");
            let status = member.status.as_str().to_owned();
            assert_eq!(consent["email"]["status"], canonical(&status), "{id} was {status}");
            *statuses.entry(status).or_default() += 1;
        }
    }
    assert_eq!(statuses.len(), 6, "every Mailchimp status is in the data: {statuses:?}");
    assert!(bad_addresses >= member_count / 200, "about 1 % bad addresses: {bad_addresses}");
    let member_rejects = rejects.iter().filter(|reject| reject["stream"] == "members").count();
    assert_eq!(member_rejects, bad_addresses, "each bad address is a reject, nothing else is");
    assert_eq!(members["rejected"].as_u64(), Some(bad_addresses as u64));
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
    let bad_members = from
        .lists()
        .iter()
        .flat_map(|list| from.members(&list.id))
        .filter(|member| cutover_schema::normalize::email(&member.email_address).is_err())
        .count();
    assert!(bad_members >= members / 200, "about 1 % bad addresses: {bad_members}");
    let stream = |report: &Value, name: &str| -> Value {
        report["streams"]
            .as_array()
            .and_then(|streams| {
                streams.iter().find(|stream| stream["name"].as_str().is_some_and(|n| n.starts_with(name)))
            })
            .cloned()
            .unwrap_or_else(|| panic!("no stream {name} in {report}"))
    };
    let (listed, listed_out, listed_err) =
        run(workspace.cutover().args(["rejects", "list", "--json"]).arg(workspace.path().join("to-klaviyo.toml")));
    assert!(listed.status.success(), "{listed_err}");
    let rejects: Vec<Value> = serde_json::from_str(&listed_out).expect("JSON");
    let member_rejects: Vec<&Value> = rejects.iter().filter(|reject| reject["stream"] == "members").collect();
    assert_eq!(stream(&there, "members")["rejected"].as_u64(), Some(member_rejects.len() as u64), "{there}");
    // Each bad address is a reject. So is a subscription of someone who opted
    // out on another list: Klaviyo's opt-out is the person's, and
    // subscribing would lift it.
    let opted_out_somewhere: std::collections::BTreeSet<String> = from
        .lists()
        .iter()
        .flat_map(|list| from.members(&list.id))
        .filter(|member| suppressed(member.status.as_str()))
        .map(|member| member.email_address.to_lowercase())
        .collect();
    let mut invalid = 0;
    for reject in &member_rejects {
        let raw: Value = serde_json::from_str(reject["raw"].as_str().unwrap_or("{}")).unwrap_or_default();
        match reject["code"].as_str() {
            Some("invalid_email") => invalid += 1,
            Some("suppressed_on_target") => {
                // Rejected by the destination: the raw record is the canonical one.
                let membership = &raw["entity"]["membership"];
                assert_eq!(membership["consent"]["email"]["status"], "subscribed", "{reject}");
                let email = membership["email"].as_str().unwrap_or_default().to_lowercase();
                assert!(opted_out_somewhere.contains(&email), "{reject}");
            }
            _ => panic!("an unexpected reject: {reject}"),
        }
    }
    assert_eq!(invalid, bad_members, "each bad address is a reject");
    // A year of activity arrived: every event read is on Klaviyo or a reject with its reason.
    let events = stream(&there, "email_activity");
    let kept = klaviyo.emulator.klaviyo().expect("Klaviyo").event_count() as u64;
    let read = events["read"].as_u64().unwrap_or(0);
    assert!(read >= members as u64 * 10, "a year of activity: {events}");
    assert_eq!(
        kept + events["rejected"].as_u64().unwrap_or(0),
        read - events["unchanged"].as_u64().unwrap_or(0),
        "{events}"
    );
    assert_eq!(
        rejects.iter().filter(|reject| reject["stream"] == "email_activity").count() as u64,
        events["rejected"].as_u64().unwrap_or(0)
    );

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
    // without being raised: a subscriber is still one, an opt-out is still an opt-out.
    let to = target.emulator.mailchimp().expect("Mailchimp");
    let target_lists: BTreeMap<String, String> = to.lists().into_iter().map(|list| (list.name, list.id)).collect();
    // Klaviyo keeps consent per person and the plugin keeps a list's own
    // weaker status beside it; what holds across the trip, per person and
    // list: an opt-out anywhere is an opt-out everywhere (Klaviyo's
    // unsubscribe is global) and comes back as one on its own list; short of
    // that, each list comes back with its own canonical status.
    let mut before = BTreeMap::<String, Vec<(String, &'static str)>>::new();
    for list in from.lists() {
        for member in from.members(&list.id) {
            if cutover_schema::normalize::email(&member.email_address).is_ok() {
                before
                    .entry(member.email_address.to_lowercase())
                    .or_default()
                    .push((list.name.clone(), member.status.as_str()));
            }
        }
    }
    let mut checked = BTreeMap::<String, usize>::new();
    for (email, lists) in &before {
        let after: Vec<(String, Option<String>)> = lists
            .iter()
            .map(|(list, _)| {
                let Some(target_list) = target_lists.get(list) else { panic!("list {list} did not arrive") };
                (list.clone(), to.member(target_list, email).map(|member| member.status.as_str().to_owned()))
            })
            .collect();
        let opted_out = lists.iter().any(|(_, status)| suppressed(status));
        for ((_, status), (_, came_back)) in lists.iter().zip(&after) {
            let came_back = came_back.as_deref().unwrap_or("missing");
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
}
