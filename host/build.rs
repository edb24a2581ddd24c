//! Build script of the host: one linker flag for the boundary benchmark.
//!
//! The benchmark links two plugin crates into one binary to run their code
//! in-process; each exports the same root-module symbol (the one abi_stable
//! looks up in a plugin library). Nothing in the benchmark looks it up, so the
//! duplicate is harmless there and allowed for bench targets only.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux") {
        println!("cargo:rustc-link-arg-benches=-Wl,--allow-multiple-definition");
    }
}
