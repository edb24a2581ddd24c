//! `cargo xtask new-plugin`: a scaffold builds, passes the conformance kit and
//! loads in the host with no edits.

use cutover_e2e::{Workspace, profile_dir, run, workspace_root};
use std::process::Command;

#[test]
fn a_new_plugin_builds_passes_conformance_and_loads_untouched() {
    let workspace = Workspace::new();
    let crate_dir = workspace.path().join("acme-esp");
    let xtask = profile_dir().join(format!("xtask{}", std::env::consts::EXE_SUFFIX));
    let (output, stdout, stderr) = run(Command::new(&xtask)
        .current_dir(workspace_root())
        .args(["new-plugin", "acme-esp", "--kind", "esp", "--path"])
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
    assert!(stdout.contains("conformance"), "the conformance test ran:\n{stdout}");

    let library = format!("{}cutover_plugin_acme_esp{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    workspace.copy_into(&target_dir.join("debug").join(library), "plugins");
    let (output, stdout, stderr) = run(workspace
        .isolated_cutover()
        .args(["plugins", "list", "--json", "--plugin-dir"])
        .arg(workspace.path().join("plugins")));
    assert!(output.status.success() && stderr.is_empty(), "{stderr}");
    let plugins: Vec<serde_json::Value> = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(plugins.len(), 1, "{stdout}");
    assert_eq!(plugins[0]["name"], "acme-esp");
    assert_eq!(plugins[0]["kind"], "esp");
}
