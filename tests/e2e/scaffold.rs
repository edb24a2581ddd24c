//! `cargo xtask new-plugin`: a scaffold builds, passes the conformance kit and
//! loads in the host with no edits; with `--http`, an HTTP plugin on the
//! stream layer does, against the emulator of its API scaffolded with it.

use cutover_e2e::{Workspace, profile_dir, run, workspace_root};
use std::path::Path;
use std::process::Command;

/// Scaffolds `name` of `kind` outside the workspace with `extra` flags,
/// builds it and runs its tests (the conformance kit) with no edits, loads
/// the library in the host and checks what `cutover plugins list` says.
fn scaffold_builds_passes_conformance_and_loads(name: &str, kind: &str, extra: &[&str]) -> Workspace {
    let workspace = Workspace::new();
    let crate_dir = workspace.path().join(name);
    let xtask = profile_dir().join(format!("xtask{}", std::env::consts::EXE_SUFFIX));
    let (output, stdout, stderr) = run(Command::new(&xtask)
        .current_dir(workspace_root())
        .args(["new-plugin", name, "--kind", kind])
        .args(extra)
        .arg("--path")
        .arg(&crate_dir));
    assert!(output.status.success(), "scaffold:\n{stdout}{stderr}");
    // Same dependency versions as the workspace, so the shared target folder
    // reuses what is already built and nothing is fetched.
    std::fs::copy(workspace_root().join("Cargo.lock"), crate_dir.join("Cargo.lock")).expect("copy Cargo.lock");
    let target_dir = workspace_root().join("target");

    let cargo = |arguments: &[&str]| {
        run(Command::new(env!("CARGO")).current_dir(&crate_dir).env("CARGO_TARGET_DIR", &target_dir).args(arguments))
    };
    let (output, stdout, stderr) = cargo(&["build", "--offline", "--quiet"]);
    assert!(output.status.success(), "the scaffold does not build:\n{stdout}{stderr}");
    let (output, stdout, stderr) = cargo(&["test", "--offline"]);
    assert!(output.status.success(), "the scaffold's tests (conformance) fail:\n{stdout}{stderr}");
    assert!(stdout.contains("test conformance ... ok"), "the conformance test ran:\n{stdout}");

    let library = format!(
        "{}cutover_plugin_{}{}",
        std::env::consts::DLL_PREFIX,
        name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    );
    workspace.copy_into(&target_dir.join("debug").join(library), "plugins");
    let (output, stdout, stderr) = run(workspace
        .isolated_cutover()
        .args(["plugins", "list", "--json", "--plugin-dir"])
        .arg(workspace.path().join("plugins")));
    assert!(output.status.success() && stderr.is_empty(), "{stderr}");
    let plugins: Vec<serde_json::Value> = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(plugins.len(), 1, "{stdout}");
    assert_eq!(plugins[0]["name"], name);
    assert_eq!(plugins[0]["kind"], kind);
    workspace
}

#[test]
fn a_new_plugin_builds_passes_conformance_and_loads_untouched() {
    scaffold_builds_passes_conformance_and_loads("acme-esp", "esp", &[]);
}

#[test]
fn a_new_http_plugin_and_its_emulator_build_pass_conformance_and_load_untouched() {
    let workspace = scaffold_builds_passes_conformance_and_loads("acme-crm", "crm", &["--http"]);
    let crate_dir = workspace.path().join("acme-crm");
    // The plugin is written on the stream layer and the HTTP toolkit, and
    // its emulator on the kit: no hand-made dispatch, cursor or server.
    let source = |path: &str| std::fs::read_to_string(crate_dir.join(path)).expect(path);
    assert!(source("src/streams/contacts.rs").contains("impl Stream<AcmeCrmPlugin> for Contacts"));
    assert!(source("src/lib.rs").contains("pages: PagedReader"));
    assert!(source("src/streams/contacts.rs").contains("write_each(records"));
    assert!(!source("src/lib.rs").contains("impl Source for"));
    assert!(source("emulator/src/lib.rs").contains("EmulatorApp::<AcmeCrmApi>::bind"));
    assert!(Path::new(&crate_dir.join("emulator/Cargo.toml")).is_file());
}
