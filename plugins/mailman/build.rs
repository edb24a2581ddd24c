//! Compiles the tests that need a GNU Mailman 3 server in only when
//! `MAILMAN_URL` names one (`.ci/mailman.sh start` prints it), so that
//! without one they are reported as skipped rather than passing unseen.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(mailman_server)");
    println!("cargo:rerun-if-env-changed=MAILMAN_URL");
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("MAILMAN_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo:rustc-cfg=mailman_server");
    }
}
