//! A plugin that panics is caught at the boundary: the call comes back as a
//! `panic` error naming the plugin and the panic, the instance is refused
//! afterwards, and the conformance kit reports the plugin as failing.
//!
//! Links `cutover-fixture-panics` and nothing else that exports a root
//! module: every plugin crate exports the same `#[no_mangle]` symbol.

use cutover_abi::client::PluginClient;
use cutover_contract::metadata::OpenContext;
use cutover_contract::{ErrorCode, PluginError};
use cutover_fixture_panics::Panics;
use cutover_schema::{Contact, Entity, Record};

fn client() -> PluginClient {
    PluginClient::new(cutover_sdk::root_module::<Panics>())
}

fn open(client: &PluginClient, panic_in: &str) -> u64 {
    let config = format!(r#"{{"panic_in": "{panic_in}"}}"#);
    client.open(&config, &OpenContext::default()).unwrap_or_else(|error| panic!("cannot open with {config}: {error:?}"))
}

fn records() -> Vec<Record> {
    let contact = Contact { email: Some("a@example.org".into()), ..Contact::default() };
    vec![Record::new("test", "a", chrono::DateTime::UNIX_EPOCH, Entity::Contact(contact))]
}

/// The error a call made while the plugin panicked.
fn check_panic(result: Result<(), PluginError>, panic_text: &str) {
    let Err(error) = result else { panic!("the call succeeded; expected the panic `{panic_text}` as an error") };
    assert_eq!(error.code, ErrorCode::Panic, "{error:?}");
    assert!(error.message.contains(panic_text), "{}", error.message);
    assert!(error.message.contains("fixture-panics"), "{}", error.message);
    assert_eq!(error.stream.as_deref(), Some("contacts"), "{error:?}");
}

/// The error a call made on an instance that panicked earlier.
fn check_refused(result: Result<(), PluginError>) {
    let Err(error) = result else { panic!("the call succeeded on an instance that panicked earlier") };
    assert!(
        error.message.contains("panicked earlier") && error.message.contains("fixture-panics"),
        "the instance was not refused clearly: {error:?}"
    );
}

#[test]
fn a_panic_in_read_is_an_error_and_the_instance_is_refused_after() {
    let client = client();
    let handle = open(&client, "read");
    check_panic(client.read(handle, "contacts", None, 5).map(drop), "fixture: read always panics");
    check_refused(client.read(handle, "contacts", None, 5).map(drop));
    check_refused(client.write(handle, "contacts", &records()).map(drop));
}

#[test]
fn a_panic_in_write_is_an_error_and_the_instance_is_refused_after() {
    let client = client();
    let handle = open(&client, "write");
    check_panic(client.write(handle, "contacts", &records()).map(drop), "fixture: write always panics");
    check_refused(client.write(handle, "contacts", &records()).map(drop));
    check_refused(client.read(handle, "contacts", None, 5).map(drop));
}

#[test]
fn the_other_half_of_the_fixture_works() {
    let client = client();
    let reads = open(&client, "write");
    let batch = client.read(reads, "contacts", None, 100).unwrap();
    assert_eq!((batch.records.len(), batch.done), (10, true));
    let writes = open(&client, "read");
    assert_eq!(client.write(writes, "contacts", &records()).unwrap().len(), 1);
}

#[test]
fn the_kit_fails_a_plugin_that_panics() {
    let report = cutover_conformance::Kit::new::<Panics>(r#"{"panic_in":"read"}"#).check();
    assert_eq!(report.plugin, "fixture-panics");
    assert!(!report.failures.is_empty(), "{report}");
    let text = report.to_string();
    assert!(text.contains("fixture: read always panics"), "{text}");
}
