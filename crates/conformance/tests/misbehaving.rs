//! The kit checks the platform, not the plugin's word: an honest file-backed
//! plugin passes it, and each variant that breaks one guarantee while
//! answering as if it kept it fails with a failure naming that guarantee.
#![expect(clippy::unwrap_used, reason = "helpers outside #[test] functions: a failed unwrap is a failed test")]

use cutover_conformance::{Kit, Report};
use cutover_fixture_misbehaving::{
    DoneWithNoRecords, DropsRecords, DuplicatesOnNewInstance, Files, Honest, IgnoresCursor, UnchangedWithoutStoring,
    Variant,
};
use cutover_schema::{EngagementEvent, EngagementKind, Entity, Record};

/// The source ids of the events a test seeds.
fn event_ids() -> Vec<String> {
    (0..30).map(|index| format!("e{index}")).collect()
}

/// A kit for variant `V` on a folder of its own, its `events` seeded and
/// declared.
fn kit<V: Variant>(folder: &tempfile::TempDir) -> Kit {
    let events: Vec<Record> = event_ids()
        .into_iter()
        .map(|id| {
            let event = EngagementEvent { kind: Some(EngagementKind::Open), ..EngagementEvent::default() };
            Record::new("seed", id, chrono::DateTime::UNIX_EPOCH, Entity::EngagementEvent(event))
        })
        .collect();
    cutover_fixture_misbehaving::seed(folder.path(), "events", &events).unwrap();
    let config = serde_json::json!({ "folder": folder.path() }).to_string();
    Kit::new::<Files<V>>(&config).bad_config(r#"{"folder": 12}"#).source_ids("events", event_ids())
}

/// The report of variant `V`, which must fail the check on `stream` named
/// after `guarantee`.
fn fails<V: Variant>(stream: &str, guarantee: &str) -> Report {
    let folder = tempfile::tempdir().unwrap();
    let report = kit::<V>(&folder).check();
    println!("{report}");
    let check = format!("stream `{stream}`: {guarantee}");
    assert!(
        report.failures.iter().any(|failure| failure.check == check),
        "{} did not fail `{check}`:\n{report}",
        V::NAME
    );
    report
}

#[test]
fn the_honest_plugin_passes() {
    let folder = tempfile::tempdir().unwrap();
    let report = kit::<Honest>(&folder).check();
    assert!(report.failures.is_empty(), "{report}");
    for check in [
        "stream `contacts`: writes are stored",
        "stream `contacts`: a write from a new instance creates nothing and keeps target ids",
        "stream `contacts`: a write from a new instance changes nothing",
        "stream `contacts`: reads resume at their cursor",
        "stream `events`: reads give the known data set, each record once",
        "stream `events`: reads resume at their cursor",
    ] {
        assert!(report.passed.iter().any(|passed| passed == check), "`{check}` was not checked:\n{report}");
    }
    assert!(report.notes.iter().any(|note| note.contains("the 30 ids declared with Kit::source_ids")), "{report}");
}

#[test]
fn a_plugin_that_drops_records_is_caught_by_reading_back() {
    let report = fails::<DropsRecords>("contacts", "writes are stored");
    let text = report.to_string();
    assert!(text.contains("acknowledged by the write are not read back"), "{text}");
    // The records it dropped are created again by the next instance.
    assert!(
        report.failures.iter().any(|failure| {
            failure.check.ends_with("a write from a new instance creates nothing and keeps target ids")
                && failure.detail.contains("created again")
        }),
        "{text}"
    );
}

#[test]
fn a_plugin_that_dedups_in_memory_duplicates_from_a_new_instance() {
    let report = fails::<DuplicatesOnNewInstance>(
        "contacts",
        "a write from a new instance creates nothing and keeps target ids",
    );
    let text = report.to_string();
    assert!(text.contains("created again") && text.contains("got another target id"), "{text}");
    assert!(
        report.failures.iter().any(|failure| {
            failure.check == "stream `contacts`: a write from a new instance changes nothing"
                && failure.detail.contains("appeared")
        }),
        "{text}"
    );
}

#[test]
fn a_plugin_that_ignores_the_cursor_does_not_resume() {
    let report = fails::<IgnoresCursor>("events", "reads resume at their cursor");
    fails::<IgnoresCursor>("contacts", "reads resume at their cursor");
    assert!(report.to_string().contains("the cursor is not followed"), "{report}");
}

#[test]
fn a_plugin_that_answers_unchanged_without_storing_is_caught_by_reading_back() {
    let report = fails::<UnchangedWithoutStoring>("contacts", "writes are stored");
    assert!(report.to_string().contains("23 records acknowledged by the write are not read back"), "{report}");
}

#[test]
fn a_plugin_that_reads_nothing_is_caught() {
    let report = fails::<DoneWithNoRecords>("events", "a stream that reads nothing is declared empty");
    fails::<DoneWithNoRecords>("events", "reads give the known data set, each record once");
    fails::<DoneWithNoRecords>("contacts", "writes are stored");
    assert!(report.to_string().contains("Kit::empty_stream(\"events\")"), "{report}");
}

#[test]
fn a_stream_only_read_must_declare_its_data_set_and_an_empty_one_is_reported() {
    let folder = tempfile::tempdir().unwrap();
    let config = serde_json::json!({ "folder": folder.path() }).to_string();
    let report = Kit::new::<Files>(&config).check();
    let failure = report
        .failures
        .iter()
        .find(|failure| failure.check == "stream `events`: a stream the kit does not write declares its data set")
        .unwrap_or_else(|| panic!("no failure for the undeclared stream:\n{report}"));
    assert!(failure.detail.contains("Kit::source_ids(\"events\", ids)"), "{}", failure.detail);
    assert!(
        report
            .failures
            .iter()
            .any(|failure| failure.check == "stream `events`: a stream that reads nothing is declared empty"),
        "{report}"
    );

    let declared = Kit::new::<Files>(&config).empty_stream("events").check();
    assert!(declared.failures.is_empty(), "{declared}");
    assert!(declared.notes.iter().any(|note| note.contains("stream `events`: declared empty")), "{declared}");
}

#[test]
fn a_field_declared_not_kept_is_skipped_and_listed() {
    let folder = tempfile::tempdir().unwrap();
    let report = kit::<Honest>(&folder).fields_not_kept("contacts", &["last_name", "custom_fields.nope"]).check();
    assert!(report.failures.is_empty(), "{report}");
    let note = report
        .notes
        .iter()
        .find(|note| note.starts_with("stream `contacts`: fields declared not kept"))
        .unwrap_or_else(|| panic!("the fields not kept are not listed:\n{report}"));
    assert!(note.contains("`last_name` (read back equal all the same"), "{note}");
    assert!(note.contains("`custom_fields.nope` (the kit writes no such field)"), "{note}");
}

#[test]
fn a_declaration_for_a_stream_the_plugin_lacks_fails() {
    let folder = tempfile::tempdir().unwrap();
    let report = kit::<Honest>(&folder).source_count("evnets", 3).check();
    let failure = report.failures.iter().find(|failure| failure.check == "declarations name streams the plugin has");
    assert!(failure.is_some_and(|failure| failure.detail.contains("`evnets`")), "{report}");
}

#[test]
fn a_declared_data_set_is_held_to_exactly() {
    let data_set = "stream `events`: reads give the known data set, each record once";
    let check = |kit: Kit| {
        let report = kit.check();
        report.failures.iter().find(|failure| failure.check == data_set).map(|failure| failure.detail.clone())
    };
    let folder = tempfile::tempdir().unwrap();
    let config = serde_json::json!({ "folder": folder.path() }).to_string();
    kit::<Honest>(&folder);
    let ids = event_ids();
    assert_eq!(check(Kit::new::<Files>(&config).source_count("events", 30)), None);
    assert_eq!(check(Kit::new::<Files>(&config).source_includes("events", ids[..3].to_vec())), None);
    let detail = check(Kit::new::<Files>(&config).source_count("events", 31)).unwrap();
    assert!(detail.contains("30 records read, 31 declared"), "{detail}");
    let detail = check(Kit::new::<Files>(&config).source_ids("events", ids[1..].to_vec())).unwrap();
    assert!(detail.contains("1 record read is not in the 29 ids declared with Kit::source_ids: `e0`"), "{detail}");
    let detail = check(Kit::new::<Files>(&config).source_includes("events", ["e7", "e99"])).unwrap();
    assert!(detail.contains("1 of the 2 ids declared with Kit::source_includes is missing: `e99`"), "{detail}");
}
