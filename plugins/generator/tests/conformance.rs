//! The generator passes the conformance kit.

#[test]
fn conformance() {
    cutover_conformance::Kit::new::<cutover_plugin_generator::Generator>(r#"{"records": 250, "seed": 9}"#)
        .bad_config(r#"{"records": "many"}"#)
        .run();
}
