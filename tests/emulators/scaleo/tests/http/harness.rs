//! Starting Scaleo emulators and calling them the way a client would: the
//! key in `?api-key=`, JSON bodies.

use cutover_emulator_kit::RunningEmulator;
use cutover_emulator_scaleo::{ScaleoConfig, ScaleoState};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;

/// A running Scaleo emulator.
pub type Emulator = RunningEmulator<ScaleoState>;

pub async fn start(config: ScaleoConfig) -> Emulator {
    cutover_emulator_scaleo::start(config).await.expect("an emulator binds 127.0.0.1:0")
}

pub fn config(seed: u64, records: usize) -> ScaleoConfig {
    ScaleoConfig::new(seed, records)
}

/// A request to `path` (under `/api/v2/`) with `key`.
pub fn with_key(emulator: &Emulator, method: Method, path: &str, key: &str) -> RequestBuilder {
    let url = format!("{}/api/v2/{path}", emulator.base_url);
    Client::new().request(method, url).query(&[("api-key", key)])
}

/// A request with the network key.
pub fn scaleo(emulator: &Emulator, method: Method, path: &str) -> RequestBuilder {
    with_key(emulator, method, path, &emulator.api_key)
}

/// Status, headers and JSON body (Null when there is none).
pub async fn send(request: RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let response: Response = request.send().await.expect("the emulator answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a readable body");
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, headers, body)
}

/// A header's value as a number.
pub fn number(headers: &reqwest::header::HeaderMap, name: &str) -> u64 {
    headers[name].to_str().expect("text").parse().expect("a number")
}
