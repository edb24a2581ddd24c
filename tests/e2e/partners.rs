//! `cutover partners tiers`: the shipped affiliate export's partners ranked
//! by revenue into tiers, through the config's own mapping of statuses, with
//! every conversion accounted for and the rule's mistakes named.

use cutover_e2e::{Workspace, run, workspace_root};
use serde_json::Value;
use std::collections::BTreeMap;

/// The shipped affiliate export and its config, with `tiers` appended.
fn sample(tiers: &str) -> (Workspace, std::path::PathBuf) {
    let workspace = Workspace::new();
    let examples = workspace_root().join("examples");
    for stream in ["partners", "links", "clicks", "conversions", "commissions"] {
        workspace.copy_into(&examples.join(format!("affiliate-export/{stream}.csv")), "examples/affiliate-export");
    }
    let config = std::fs::read_to_string(examples.join("affiliate-to-archive/cutover.toml")).expect("the config");
    let path = workspace.write("examples/affiliate-to-archive/cutover.toml", format!("{config}\n{tiers}"));
    (workspace, path)
}

const RULE: &str = "[tiers]\ncurrency = \"USD\"\nrates = { EUR = \"1.08\", GBP = \"1.27\", JPY = \"0.0067\", CAD = \"0.73\", AUD = \"0.66\" }\n";

#[test]
fn partners_are_ranked_into_tiers_by_revenue_with_every_conversion_accounted_for() {
    let (workspace, config) = sample(RULE);
    let (output, stdout, stderr) = run(workspace.cutover().args(["partners", "tiers", "--json"]).arg(&config));
    assert!(output.status.success(), "{stderr}");
    let ranking: Value = serde_json::from_str(&stdout).expect("JSON");
    let partners = ranking["partners"].as_array().expect("partners");
    // Every partner of the export is ranked once, highest revenue first.
    let partner_rows = std::fs::read_to_string(workspace.path().join("examples/affiliate-export/partners.csv"))
        .expect("partners.csv")
        .lines()
        .count()
        - 1;
    assert!(partners.len() > 100 && partners.len() <= partner_rows, "{} of {partner_rows}", partners.len());
    let revenue = |partner: &Value| partner["revenue"].as_str().expect("decimal").parse::<f64>().expect("number");
    assert!(partners.windows(2).all(|pair| revenue(&pair[0]) >= revenue(&pair[1])));
    let mut by_tier: BTreeMap<&str, f64> = BTreeMap::new();
    for partner in partners {
        *by_tier.entry(partner["tier"].as_str().expect("tier")).or_default() += revenue(partner);
    }
    let total: f64 = ranking["total"].as_str().expect("total").parse().expect("number");
    assert!(by_tier["top"] / total >= 0.5, "{by_tier:?}");
    assert!((by_tier["top"] + by_tier["mid"]) / total >= 0.8, "{by_tier:?}");
    // The config maps `declined` and `refunded` to statuses not counted:
    // those conversions are listed with why, the rest are counted.
    let not_counted = ranking["not_counted"].as_array().expect("not counted");
    assert!(not_counted.iter().all(|entry| entry[1] == "status_not_counted"), "{not_counted:?}");
    let counted = ranking["counted"].as_u64().expect("counted");
    assert!(counted > 100 && !not_counted.is_empty(), "{counted} counted, {} not", not_counted.len());

    let (output, stdout, stderr) = run(workspace.cutover().args(["partners", "tiers"]).arg(&config));
    assert!(output.status.success(), "{stderr}");
    for line in ["tier", "top", "mid", "long_tail", "conversions counted", "of a status not counted"] {
        assert!(stdout.contains(line), "`{line}` missing from:\n{stdout}");
    }
}

#[test]
fn a_missing_rule_or_rate_is_refused_with_what_to_write() {
    let (workspace, config) = sample("");
    let (output, _, stderr) = run(workspace.cutover().args(["partners", "tiers"]).arg(&config));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("has no [tiers] section") && stderr.contains("currency = \"USD\""), "{stderr}");

    let (workspace, config) = sample("[tiers]\ncurrency = \"USD\"\n");
    let (output, _, stderr) = run(workspace.cutover().args(["partners", "tiers"]).arg(&config));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("and the tier rule has no rate from") && stderr.contains("under `rates`"), "{stderr}");
}
