//! Whether the end-to-end tests that need a real GNU Mailman 3 core run:
//! `cfg(mailman_server)` is set when `MAILMAN_URL` is (`eval export
//! $(.ci/mailman.sh start)`), or when `CUTOVER_REQUIRE_MAILMAN` is (`.ci/run`
//! sets it, so a server that failed to start fails those tests instead of
//! skipping them). Without it they are `#[ignore]`d, which nextest reports
//! as skipped, with the reason.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(mailman_server)");
    println!("cargo:rerun-if-env-changed=MAILMAN_URL");
    println!("cargo:rerun-if-env-changed=CUTOVER_REQUIRE_MAILMAN");
    println!("cargo:rerun-if-changed=build.rs");
    let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    if set("MAILMAN_URL") || set("CUTOVER_REQUIRE_MAILMAN") {
        println!("cargo:rustc-cfg=mailman_server");
    }
}
