//! The csv plugin passes the conformance kit, on a folder of its own (every
//! stream is read and written, and the canonical header keeps every field,
//! so the kit reads back all it wrote: nothing to declare), and reads back
//! what the kit wrote without a reject.

use cutover_plugin_csv::{Csv, CsvConfig};
use cutover_sdk::{Context, Plugin, Source};

#[test]
fn conformance() {
    let folder = tempfile::tempdir().unwrap();
    let config = serde_json::json!({ "folder": folder.path() }).to_string();
    cutover_conformance::Kit::new::<Csv>(&config).bad_config(r#"{"folder": 12}"#).run();

    let config: CsvConfig = serde_json::from_str(&config).unwrap();
    let mut plugin = Csv::open(config, &Context::new(folder.path().to_owned())).unwrap();
    for stream in ["contacts", "partners", "links", "clicks", "conversions", "commissions"] {
        let batch = plugin.read(stream, None, 10_000).unwrap();
        assert_eq!(batch.rejects, Vec::new(), "{stream}");
        assert_eq!(batch.records.len(), 23, "{stream}");
        assert!(batch.records.iter().all(|record| record.source_platform == "conformance"), "{stream}");
    }
}

#[test]
fn a_config_naming_an_unknown_stream_or_field_is_refused() {
    let check = |config: serde_json::Value, expected: &str| {
        let config: CsvConfig = serde_json::from_value(config).unwrap();
        let error = Csv::open(config, &Context::new(".".into())).err().unwrap();
        assert_eq!(error.code, cutover_sdk::ErrorCode::Config);
        assert!(error.message.contains(expected), "{}", error.message);
    };
    check(
        serde_json::json!({ "folder": "x", "streams": { "orders": {} } }),
        "`streams.orders`: no such stream (expected one of contacts, partners, links, clicks, conversions, commissions)",
    );
    check(
        serde_json::json!({ "folder": "x", "streams": { "contacts": { "columns": { "Mail": "e_mail" } } } }),
        "`streams.contacts.columns`: `Mail` is mapped to `e_mail`",
    );
}
