//! The mailchimp plugin against the conformance kit, on the Mailchimp
//! emulator.
//!
//! No `list_id` in the config, so every audience is read: the kit reads back
//! the audiences and members it wrote. The streams the plugin only reads
//! are declared from the emulator itself, never through the plugin: its
//! seeded state for contacts and campaigns, and its report endpoints, read
//! with a plain HTTP client, for email activity.

#[expect(dead_code, reason = "the emulator tests use the other helpers")]
mod support;

use cutover_emulators::FaultConfig;
use cutover_http::{Auth, HttpClient, HttpConfig, Paginator, Request, SecretString};
use cutover_sdk::Context;
use cutover_sdk::schema::normalize;
use serde_json::Value;
use std::collections::BTreeSet;
use support::Server;

#[test]
fn conformance() {
    let server = Server::start(11, 40, FaultConfig::default());
    let config = server.config(None).to_string();
    let state = server.state();
    // One contact per person (subscriber hash) over every audience; a member
    // whose address is not one reads as a reject, not a contact.
    let contacts: BTreeSet<String> = state
        .lists()
        .iter()
        .flat_map(|list| state.members(&list.id))
        .filter(|member| normalize::email(&member.email_address).is_ok())
        .map(|member| member.id)
        .collect();
    assert!(contacts.len() > 30, "{contacts:?}");
    let activity = email_activity_ids(&server);
    assert!(activity.len() > 100, "{}", activity.len());
    // Mailchimp refuses addresses at reserved domains such as example.org as fake.
    cutover_conformance::Kit::new::<cutover_plugin_mailchimp::Mailchimp>(&config)
        .bad_config(r#"{"api_key": 12}"#)
        .email_domain("mailbox.org")
        .source_ids("contacts", contacts)
        .source_ids("campaigns", state.campaign_ids())
        .source_ids("email_activity", activity)
        // An audience is matched by name and keeps its own settings: its
        // creation time is Mailchimp's, and an audience has no custom fields.
        .fields_not_kept("lists", &["created_at", "custom_fields"])
        // Mailchimp keeps consent in its own terms: the opt-in time and IP
        // only for a subscription (an unsubscribe or a cleaning is stamped by
        // Mailchimp when it happens), the signup source as Mailchimp's own
        // (`API - Generic`), no method; the join time is when the member was
        // added. Custom fields go to merge fields the audience defines, and
        // the kit's `score` and `tags` are none of the new audience's.
        .fields_not_kept(
            "members",
            &[
                "consent.email.changed_at",
                "consent.email.ip",
                "consent.email.method",
                "consent.email.source",
                "joined_at",
                "custom_fields",
            ],
        )
        .run();
}

/// The source ids the `email_activity` stream must yield, from the
/// emulator's campaign reports: per recipient `<campaign>:<email id>:sent`,
/// `<campaign>:<email id>:<n>` for the n-th action if it is an open, a click
/// or a bounce, and `<campaign>:<email id>:unsubscribe` per unsubscribe.
fn email_activity_ids(server: &Server) -> BTreeSet<String> {
    let client = HttpClient::new(
        HttpConfig::new(format!("{}/3.0/", server.emulator.base_url))
            .auth(Auth::basic("cutover", SecretString::from(server.emulator.api_key.clone()))),
    )
    .expect("a client for the emulator");
    let context = Context::new(".".into());
    let all = |request: Request, items: &str| -> Vec<Value> {
        context
            .block_on(async {
                let mut pages = Paginator::offset(request, items, 1000);
                let mut all = Vec::new();
                while let Some(page) = pages.next_page(&client).await.expect("a page of the emulator's reports") {
                    all.extend(page.items);
                }
                all
            })
            .expect("the runtime runs the reads")
    };
    let text = |item: &Value, field: &str| item.get(field).and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut ids = BTreeSet::new();
    for campaign in all(Request::get("campaigns").query("status", "sent"), "/campaigns") {
        let campaign = text(&campaign, "id");
        for item in all(Request::get(format!("reports/{campaign}/email-activity")), "/emails") {
            let email_id = text(&item, "email_id");
            ids.insert(format!("{campaign}:{email_id}:sent"));
            let actions = item.get("activity").and_then(Value::as_array).cloned().unwrap_or_default();
            for (position, action) in actions.iter().enumerate() {
                if matches!(text(action, "action").as_str(), "open" | "click" | "bounce") {
                    ids.insert(format!("{campaign}:{email_id}:{position}"));
                }
            }
        }
        for item in all(Request::get(format!("reports/{campaign}/unsubscribed")), "/unsubscribes") {
            ids.insert(format!("{campaign}:{}:unsubscribe", text(&item, "email_id")));
        }
    }
    ids
}
