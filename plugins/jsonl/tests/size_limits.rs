//! The line limit as an operator sets it: `max_line_bytes` in the plugin
//! config, shown in its JSON Schema, and lines over it rejected through the
//! plugin's own `read`.

use cutover_plugin_jsonl::{Jsonl, JsonlConfig};
use cutover_sdk::{Context, ErrorCode, Plugin, Source};

fn open(folder: &std::path::Path, config: JsonlConfig) -> Result<Jsonl, cutover_sdk::PluginError> {
    Jsonl::open(config, &Context::new(folder.to_owned()))
}

#[test]
fn the_limit_is_in_the_config_schema_with_its_default() {
    let schema = schemars::schema_for!(JsonlConfig).to_value();
    let property = &schema["properties"]["max_line_bytes"];
    assert_eq!(property["default"], 16 << 20);
    assert_eq!(property["minimum"], 1);
    assert!(property["description"].as_str().unwrap().contains("`too_large`"));
    assert_eq!(JsonlConfig::new("in".into()).max_line_bytes, 16 << 20);
}

#[test]
fn a_limit_of_zero_is_refused() {
    let error = open(
        std::path::Path::new("."),
        serde_json::from_value(serde_json::json!({ "folder": ".", "max_line_bytes": 0 })).unwrap(),
    )
    .err()
    .unwrap();
    assert_eq!(error.code, ErrorCode::Config);
    assert!(error.message.contains("`max_line_bytes`: must be at least 1"), "{}", error.message);
}

#[test]
fn lines_over_the_configured_limit_are_rejects_and_the_rest_is_read() {
    let folder = tempfile::tempdir().unwrap();
    let line = |id: &str, name: &str| {
        format!(
            r#"{{"source_platform":"x","source_id":"{id}","updated_at":"2026-01-01T00:00:00Z","entity":{{"contact":{{"first_name":"{name}"}}}}}}"#
        )
    };
    let long = "n".repeat(5_000);
    let content = format!("{}\n{}\n{}\n", line("1", "Ann"), line("2", &long), line("3", "Bob"));
    std::fs::write(folder.path().join("contacts.jsonl"), content).unwrap();
    let mut jsonl = open(
        folder.path(),
        serde_json::from_value(serde_json::json!({ "folder": ".", "max_line_bytes": 4_000 })).unwrap(),
    )
    .unwrap();
    let batch = jsonl.read("contacts", None, 100).unwrap();
    let records: Vec<_> = batch.records.iter().map(|record| record.source_id.as_str()).collect();
    assert_eq!(records, ["1", "3"]);
    let [reject] = &batch.rejects[..] else { panic!("{:?}", batch.rejects) };
    assert!(reject.location.ends_with("contacts.jsonl:2"), "{}", reject.location);
    assert_eq!(reject.reason.code, "too_large");
    assert!(reject.reason.message.starts_with("the line is 5114 bytes long, over `max_line_bytes` (4000 bytes)"));
    assert!(reject.raw.ends_with("… [cut: the first 1024 of 5114 bytes]"));
    assert!(batch.done);
}
