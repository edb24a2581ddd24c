//! The `cutover-emulator` binary prints where to connect and serves there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::Method;

/// Kills the child when the test ends, pass or fail.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_prints_the_base_url_and_key_then_serves() {
    let child = Command::new(env!("CARGO_BIN_EXE_cutover-emulator"))
        .args(["klaviyo", "--seed", "3", "--records", "25", "--rate-limit", "5"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut child = Child(child);
    let stdout = child.0.stdout.take().expect("piped stdout");
    let mut values = std::collections::HashMap::new();
    for line in BufReader::new(stdout).lines().take(4) {
        let line = line.expect("a line");
        if let Some((name, value)) = line.split_once('=') {
            values.insert(name.to_owned(), value.to_owned());
        }
    }
    let base_url = values.get("base_url").expect("base_url printed").clone();
    let api_key = values.get("api_key").expect("api_key printed").clone();
    assert!(api_key.starts_with("pk_"));
    let response = reqwest::Client::new()
        .request(Method::GET, format!("{base_url}/api/profiles/"))
        .header("Authorization", format!("Klaviyo-API-Key {api_key}"))
        .header("revision", "2024-10-15")
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["ratelimit-limit"], "300");
}

#[tokio::test]
async fn the_binary_serves_impact_with_its_account_sid() {
    let child = Command::new(env!("CARGO_BIN_EXE_cutover-emulator"))
        .args(["impact", "--seed", "3", "--records", "40", "--page-size-cap", "5", "--programs", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut child = Child(child);
    let stdout = child.0.stdout.take().expect("piped stdout");
    let mut values = std::collections::HashMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line");
        if let Some((name, value)) = line.split_once('=') {
            values.insert(name.to_owned(), value.to_owned());
            if name == "faults" {
                break;
            }
        }
    }
    let sid = values.get("account_sid").expect("account_sid printed").clone();
    let api_root = values.get("api_root").expect("api_root printed").clone();
    assert!(api_root.ends_with(&format!("/Advertisers/{sid}")), "{api_root}");
    let response = reqwest::Client::new()
        .request(Method::GET, format!("{api_root}/Campaigns.json?PageSize=20000"))
        .basic_auth(&sid, values.get("api_key"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["x-ratelimit-limit"], "1000");
    let page: serde_json::Value = response.json().await.expect("json");
    assert_eq!((page["@total"].as_str(), page["@pagesize"].as_str()), (Some("2"), Some("5")));
}
