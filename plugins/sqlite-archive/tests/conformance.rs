//! The sqlite-archive plugin passes the conformance kit, on a file of its own.
//! Every stream (one per entity) is read and written and a row keeps the
//! whole record, so the kit reads back every field it wrote: nothing to
//! declare.

#[test]
fn conformance() {
    let folder = tempfile::tempdir().unwrap();
    let config = serde_json::json!({ "path": folder.path().join("archive").join("cutover.sqlite") }).to_string();
    cutover_conformance::Kit::new::<cutover_plugin_sqlite_archive::SqliteArchive>(&config)
        .bad_config(r#"{"path": 12}"#)
        .run();
}
