//! The facade starts every vendor through one call and hands out the same
//! handle for each.

use std::str::FromStr;

use cutover_emulators::{Emulator, EmulatorConfig, EmulatorState, Error, FaultConfig, Platform};

#[tokio::test]
async fn each_platform_starts_with_its_state_and_key() {
    let mailchimp = Emulator::start(Platform::Mailchimp, EmulatorConfig::new(3, 40)).await.expect("Mailchimp starts");
    assert_eq!(mailchimp.platform, Platform::Mailchimp);
    assert!(mailchimp.api_key.ends_with("-us21"), "{}", mailchimp.api_key);
    assert_eq!(mailchimp.base_url, format!("http://{}", mailchimp.address()));
    assert_eq!(mailchimp.mailchimp().map(|state| state.member_count()), Some(40));
    assert!(mailchimp.klaviyo().is_none());
    assert!(matches!(mailchimp.state(), EmulatorState::Mailchimp(_)));

    let mut config = EmulatorConfig::new(3, 25);
    config.api_key = Some("pk_chosen".to_owned());
    let klaviyo = Emulator::start(Platform::Klaviyo, config).await.expect("Klaviyo starts");
    assert_eq!(klaviyo.api_key, "pk_chosen");
    assert_eq!(klaviyo.klaviyo().map(|state| state.profile_count()), Some(25));
    assert!(klaviyo.mailchimp().is_none());

    klaviyo.set_faults(FaultConfig { burst_429: 2, ..FaultConfig::default() });
    assert_eq!(klaviyo.faults().burst_429, 2);
    assert_eq!(klaviyo.requests_in_flight(), 0);
    let response = reqwest::get(format!("{}/__emulator/faults", klaviyo.base_url)).await.expect("an answer");
    let faults: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(faults["burst_429"], 2);
    mailchimp.shutdown().await;
    klaviyo.shutdown().await;
}

#[tokio::test]
async fn a_taken_port_is_a_bind_error() {
    let first = Emulator::start(Platform::Mailchimp, EmulatorConfig::new(1, 1)).await.expect("starts");
    let mut config = EmulatorConfig::new(1, 1);
    config.port = first.address().port();
    let second = Emulator::start(Platform::Klaviyo, config).await;
    assert!(matches!(second, Err(Error::Bind { .. })), "{second:?}");
}

#[test]
fn platforms_are_named_on_the_command_line() {
    assert_eq!(Platform::from_str("Klaviyo").ok(), Some(Platform::Klaviyo));
    assert_eq!(Platform::Mailchimp.to_string(), "mailchimp");
    assert_eq!((Platform::Mailchimp.api_root(), Platform::Klaviyo.api_root()), ("/3.0/", "/api/"));
    assert!(matches!(Platform::from_str("hubspot"), Err(Error::UnknownPlatform { .. })));
}

#[tokio::test]
async fn impact_starts_on_its_own_entry_point() {
    let mut config = EmulatorConfig::new(3, 40);
    config.api_key = Some("chosen-token".to_owned());
    let impact = Emulator::start_impact(config, |impact| impact.requests_per_hour = 50).await.expect("impact starts");
    assert_eq!(impact.api_key, "chosen-token");
    let state = impact.state();
    assert!(state.account_sid.starts_with("IR"));
    assert_eq!(state.seeded()["totals"]["actions"], 40);
    let response = reqwest::Client::new()
        .get(format!("{}/CompanyInformation", state.api_root(&impact.base_url)))
        .basic_auth(&state.account_sid, Some("chosen-token"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.headers()["x-ratelimit-limit"], "50");
    impact.shutdown().await;
}
