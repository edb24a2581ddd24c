//! The mailchimp plugin against the conformance kit, on the Mailchimp
//! emulator.

#[expect(dead_code, reason = "the emulator tests use the other helpers")]
mod support;

use cutover_emulators::FaultConfig;
use support::Server;

#[test]
fn conformance() {
    let server = Server::start(11, 40, FaultConfig::default());
    let newsletter = server.state().lists()[0].id.clone();
    let config = server.config(Some(&newsletter)).to_string();
    // Mailchimp refuses addresses at reserved domains such as example.org as fake.
    cutover_conformance::Kit::new::<cutover_plugin_mailchimp::Mailchimp>(&config)
        .bad_config(r#"{"api_key": 12}"#)
        .email_domain("mailbox.org")
        .run();
}
