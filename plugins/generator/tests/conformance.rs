//! The generator passes the conformance kit, its data set declared: record
//! `i` of each stream has the source id `c<i>` (contacts) or `e<i>` (events),
//! so the kit checks every read, whole or resumed, yields exactly those.

#[test]
fn conformance() {
    let (contacts, events) = (250, 600);
    let config = format!(r#"{{"records": {contacts}, "events": {events}, "seed": 9}}"#);
    cutover_conformance::Kit::new::<cutover_plugin_generator::Generator>(&config)
        .bad_config(r#"{"records": "many"}"#)
        .source_ids("contacts", (0..contacts).map(|index| format!("c{index}")))
        .source_ids("events", (0..events).map(|index| format!("e{index}")))
        .run();
}

#[test]
fn a_data_set_with_no_contacts_is_declared_empty() {
    // No contacts, so no one for events to happen to: both streams read nothing.
    cutover_conformance::Kit::new::<cutover_plugin_generator::Generator>(r#"{"records": 0, "events": 10}"#)
        .empty_stream("contacts")
        .empty_stream("events")
        .run();
}
