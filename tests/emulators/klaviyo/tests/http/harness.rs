//! Starting Klaviyo emulators and calling them the way a plugin would.

use cutover_emulator_kit::RunningEmulator;
use cutover_emulator_klaviyo::{KlaviyoConfig, KlaviyoState};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;

pub const REVISION: &str = "2024-10-15";

/// A running Klaviyo emulator.
pub type Emulator = RunningEmulator<KlaviyoState>;

pub async fn start(config: KlaviyoConfig) -> Emulator {
    cutover_emulator_klaviyo::start(config).await.expect("an emulator binds 127.0.0.1:0")
}

pub fn client() -> Client {
    Client::new()
}

/// A Klaviyo request: absolute `url`, or a path under `/api/`.
pub fn klaviyo(emulator: &Emulator, method: reqwest::Method, path_or_url: &str) -> RequestBuilder {
    klaviyo_at(emulator, method, path_or_url, REVISION)
}

/// A Klaviyo request pinned to `revision`.
pub fn klaviyo_at(emulator: &Emulator, method: reqwest::Method, path_or_url: &str, revision: &str) -> RequestBuilder {
    let url = if path_or_url.starts_with("http") {
        path_or_url.to_owned()
    } else {
        format!("{}/api/{path_or_url}", emulator.base_url)
    };
    client()
        .request(method, url)
        .header("Authorization", format!("Klaviyo-API-Key {}", emulator.api_key))
        .header("revision", revision)
        .header("accept", "application/vnd.api+json")
}

/// Status and JSON body (Null when there is none).
pub async fn send(request: RequestBuilder) -> (u16, Value) {
    let response: Response = request.send().await.expect("the emulator answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a readable body");
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, body)
}

pub fn config(seed: u64, records: usize) -> KlaviyoConfig {
    KlaviyoConfig::new(seed, records)
}
