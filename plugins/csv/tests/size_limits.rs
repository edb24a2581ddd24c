//! The size limits as an operator sets them: `max_field_bytes` and
//! `max_row_bytes` in the plugin config, shown in its JSON Schema, and
//! rows over them rejected through the plugin's own `read`.

use cutover_plugin_csv::{Csv, CsvConfig};
use cutover_sdk::{Context, ErrorCode, Plugin, Source};

fn open(folder: &std::path::Path, config: CsvConfig) -> Result<Csv, cutover_sdk::PluginError> {
    Csv::open(config, &Context::new(folder.to_owned()))
}

#[test]
fn the_limits_are_in_the_config_schema_with_their_defaults() {
    let schema = schemars::schema_for!(CsvConfig).to_value();
    for (name, default) in [("max_field_bytes", 1 << 20), ("max_row_bytes", 16 << 20)] {
        let property = &schema["properties"][name];
        assert_eq!(property["default"], default, "{name}");
        assert_eq!(property["minimum"], 1, "{name}");
        assert!(property["description"].as_str().unwrap().contains("`too_large`"), "{name}");
    }
}

#[test]
fn a_limit_of_zero_is_refused() {
    for name in ["max_field_bytes", "max_row_bytes"] {
        let error = open(
            std::path::Path::new("."),
            serde_json::from_value(serde_json::json!({ "folder": ".", name: 0 })).unwrap(),
        )
        .err()
        .unwrap();
        assert_eq!(error.code, ErrorCode::Config);
        assert!(error.message.contains(&format!("`{name}`: must be at least 1")), "{}", error.message);
    }
}

#[test]
fn rows_over_the_configured_limits_are_rejects_and_the_rest_is_read() {
    let folder = tempfile::tempdir().unwrap();
    let long = "n".repeat(5_000);
    std::fs::write(
        folder.path().join("contacts.csv"),
        format!("id,email,Notes\n1,a@x.org,short\n2,b@x.org,{long}\n3,c@x.org,\"{long}{long}\"\n4,d@x.org,ok\n"),
    )
    .unwrap();
    let config = serde_json::json!({ "folder": ".", "max_field_bytes": 4_000, "max_row_bytes": 8_000 });
    let mut csv = open(folder.path(), serde_json::from_value(config).unwrap()).unwrap();
    let batch = csv.read("contacts", None, 100).unwrap();
    let records: Vec<_> = batch.records.iter().map(|record| record.source_id.as_str()).collect();
    assert_eq!(records, ["1", "4"]);
    let rejects: Vec<_> = batch
        .rejects
        .iter()
        .map(|reject| (reject.location.rsplit(':').next().unwrap(), reject.reason.code.as_str()))
        .collect();
    assert_eq!(rejects, [("3", "too_large"), ("4", "too_large")]);
    assert!(batch.rejects[0].reason.message.starts_with("column `Notes` is 5000 bytes long, over `max_field_bytes`"));
    assert!(batch.rejects[1].reason.message.starts_with("the row is 10012 bytes long, over `max_row_bytes` (8000"));
    assert!(batch.rejects.iter().all(|reject| reject.raw.len() < 1100 && reject.raw.ends_with(" bytes]")));
    assert!(batch.done);
    assert_eq!(csv.discover().unwrap().streams[0].records, Some(4));
}
