//! The real GNU Mailman 3 core (started by `.ci/mailman.sh start`, which
//! `.ci/run` does; built without `MAILMAN_URL` the test is ignored, which
//! nextest reports as skipped, see `tests/build.rs`):
//! Mailchimp emulator → Mailman, then Mailman → Klaviyo emulator, through the
//! real binary. Subscribers stay subscribed, opt-outs become bans and bounces
//! bounce-disabled deliveries, and none of them comes out subscribed.

use crate::esp::{canonical, migrate, serve};
use cutover_e2e::{Workspace, run};
use cutover_emulators::{EmulatorConfig, FaultConfig, Platform};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[test]
#[cfg_attr(not(mailman_server), ignore = "needs a Mailman 3 server: MAILMAN_URL (see .ci/mailman.sh)")]
fn mailchimp_to_mailman_to_klaviyo_keeps_opt_outs_out() {
    let (Ok(url), Ok(user), Ok(password)) =
        (std::env::var("MAILMAN_URL"), std::env::var("MAILMAN_USER"), std::env::var("MAILMAN_PASSWORD"))
    else {
        // Built to run (tests/build.rs) yet no server: never a silent pass.
        if std::env::var_os("CUTOVER_REQUIRE_MAILMAN").is_some() {
            panic!("CUTOVER_REQUIRE_MAILMAN is set (.ci/run sets it) but MAILMAN_URL is not: the server did not start");
        }
        panic!(
            "built with MAILMAN_URL set, but MAILMAN_URL, MAILMAN_USER and MAILMAN_PASSWORD are not all set now: \
             run `eval export $(.ci/mailman.sh start)` (or build without MAILMAN_URL to skip)"
        );
    };
    let mailchimp = serve(Platform::Mailchimp, EmulatorConfig::new(31, 240));
    let throttled = FaultConfig { rate_429: 0.05, rate_5xx: 0.05, ..FaultConfig::default() };
    let klaviyo = serve(Platform::Klaviyo, EmulatorConfig { faults: throttled, ..EmulatorConfig::new(32, 0) });
    let domain = format!("e2e-{}-{}.test", std::process::id(), chrono_free_nanos());
    let keys = [
        ("E2E_MAILCHIMP_KEY", mailchimp.emulator.api_key.as_str()),
        ("E2E_KLAVIYO_KEY", klaviyo.emulator.api_key.as_str()),
        ("E2E_MAILMAN_PASSWORD", password.as_str()),
    ];
    let mailman = format!(
        "plugin = \"mailman\"\nconfig = {{ base_url = \"{url}\", username = \"{user}\", password = \"${{E2E_MAILMAN_PASSWORD}}\", domain = \"{domain}\" }}\n"
    );
    let workspace = Workspace::new();
    let into_mailman = migrate(
        &workspace,
        "to-mailman.toml",
        format!(
            "[source]\nplugin = \"mailchimp\"\nconfig = {{ api_key = \"${{E2E_MAILCHIMP_KEY}}\", base_url = \"{}/3.0/\" }}\n\
             [destination]\n{mailman}\
             [[streams]]\nsource = \"lists\"\n[[streams]]\nsource = \"members\"\n",
            mailchimp.emulator.base_url
        ),
        &keys,
    );
    migrate(
        &workspace,
        "to-klaviyo.toml",
        format!(
            "[source]\n{mailman}\
             [destination]\nplugin = \"klaviyo\"\nconfig = {{ api_key = \"${{E2E_KLAVIYO_KEY}}\", base_url = \"{}\" }}\n\
             [[streams]]\nsource = \"lists\"\n[[streams]]\nsource = \"members\"\ndestination = \"subscriptions\"\n",
            klaviyo.emulator.base_url
        ),
        &keys,
    );
    // What Mailman holds, read back as canonical memberships.
    migrate(
        &workspace,
        "read-back.toml",
        format!(
            "[source]\n{mailman}[destination]\nplugin = \"jsonl\"\nconfig = {{ folder = \"mailman\" }}\n\
             [[streams]]\nsource = \"members\"\ndestination = \"memberships\"\n"
        ),
        &keys,
    );
    // What Mailman holds, per person (a person can be on several lists).
    let mut on_mailman = BTreeMap::<String, Vec<String>>::new();
    let text = std::fs::read_to_string(workspace.path().join("mailman/memberships.jsonl")).expect("read back");
    for line in text.lines() {
        let record: Value = serde_json::from_str(line).expect("JSON");
        let membership = &record["entity"]["membership"];
        if let (Some(email), Some(status)) =
            (membership["email"].as_str(), membership["consent"]["email"]["status"].as_str())
        {
            on_mailman.entry(email.to_lowercase()).or_default().push(status.to_owned());
        }
    }
    let source = mailchimp.emulator.mailchimp().expect("Mailchimp");
    let target = klaviyo.emulator.klaviyo().expect("Klaviyo");
    // The members seeded with a broken address, known from the seeding.
    let bad_members: BTreeSet<String> =
        source.seeded_invalid_members().into_iter().map(|(list, member)| format!("{list}:{member}")).collect();
    let mut at_source = BTreeMap::<String, Vec<&'static str>>::new();
    for list in source.lists() {
        for member in source.members(&list.id) {
            if !bad_members.contains(&format!("{}:{}", list.id, member.id)) {
                at_source.entry(member.email_address.to_lowercase()).or_default().push(member.status.as_str());
            }
        }
    }
    let mut seen = BTreeMap::<&str, usize>::new();
    for (email, statuses) in &at_source {
        let mailman: &[String] = on_mailman.get(email).map_or(&[], Vec::as_slice);
        let klaviyo_consent =
            target.profile_by_email(email).map(|profile| profile.email_consent.consent.clone()).unwrap_or_default();
        let subscribed_before = statuses.contains(&"subscribed");
        let opted_out = statuses.iter().any(|status| matches!(*status, "unsubscribed" | "cleaned"));
        let subscribed_on_mailman = mailman.iter().any(|status| status == "subscribed");
        // Never raised: not subscribed anywhere before, not subscribed after, on either platform.
        assert!(subscribed_before || !subscribed_on_mailman, "{email} was {statuses:?}, Mailman has {mailman:?}");
        assert!(subscribed_before || klaviyo_consent != "SUBSCRIBED", "{email} was {statuses:?}");
        // An opt-out reaches both: Mailman holds it, Klaviyo (per person) does not mail them.
        if opted_out {
            assert!(
                mailman.iter().any(|status| status != "subscribed"),
                "{email} was {statuses:?}, Mailman has {mailman:?}"
            );
            assert_ne!(klaviyo_consent, "SUBSCRIBED", "{email} was {statuses:?}");
        }
        if statuses.iter().all(|status| *status == "subscribed") {
            assert!(subscribed_on_mailman, "{email} was {statuses:?}, Mailman has {mailman:?}");
            assert_eq!(klaviyo_consent, "SUBSCRIBED", "{email}");
        }
        for status in statuses {
            *seen.entry(status).or_default() += 1;
        }
    }
    assert!(seen.len() >= 5, "the statuses met: {seen:?}");
    let members =
        into_mailman["streams"].as_array().expect("streams").iter().find(|stream| stream["name"] == "members");
    assert!(members.is_some_and(|stream| stream["created"].as_u64().unwrap_or(0) > 0), "{into_mailman}");
    // Into Mailman, the bad addresses were rejects, exactly those; so were
    // the pending memberships (Mailman would mail them a confirmation) and
    // the non-subscribed ones (Mailman keeps only subscriptions).
    let (listed, listed_out, listed_err) =
        run(workspace.cutover().args(["rejects", "list", "--json"]).arg(workspace.path().join("to-mailman.toml")));
    assert!(listed.status.success(), "{listed_err}");
    let rejects: Vec<Value> = serde_json::from_str(&listed_out).expect("JSON");
    let mut invalid = BTreeSet::new();
    for reject in rejects.iter().filter(|reject| reject["stream"] == "members") {
        let source_id = crate::esp::rejected_source_id(reject);
        match reject["code"].as_str() {
            Some("invalid_email") => {
                invalid.insert(source_id);
            }
            Some(code @ ("consent_pending" | "not_subscribed")) => {
                let (list, member) = source_id.split_once(':').expect("<list>:<member>");
                let status = source.member(list, member).map(|member| canonical(member.status.as_str()));
                let expected = if code == "consent_pending" { "pending" } else { "non_subscribed" };
                assert_eq!(status, Some(expected), "{reject}");
            }
            _ => panic!("an unexpected reject: {reject}"),
        }
    }
    assert_eq!(invalid, bad_members, "each bad address is a reject, nothing else is");
}

/// Nanoseconds since the epoch, for a domain no earlier run used.
fn chrono_free_nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos())
}
