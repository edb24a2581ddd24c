//! The jsonl plugin passes the conformance kit, on a folder of its own.
//! Every stream is read and written and a line keeps the whole record, so
//! the kit reads back every field it wrote: nothing to declare.

#[test]
fn conformance() {
    let folder = tempfile::tempdir().unwrap();
    let config = serde_json::json!({ "folder": folder.path() }).to_string();
    cutover_conformance::Kit::new::<cutover_plugin_jsonl::Jsonl>(&config).bad_config(r#"{"folder": 12}"#).run();
}
