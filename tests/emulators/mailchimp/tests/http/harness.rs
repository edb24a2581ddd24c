//! Starting Mailchimp emulators and calling them the way a plugin would.

use cutover_emulator_kit::RunningEmulator;
use cutover_emulator_mailchimp::{MailchimpConfig, MailchimpState};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;

/// A running Mailchimp emulator.
pub type Emulator = RunningEmulator<MailchimpState>;

pub async fn start(config: MailchimpConfig) -> Emulator {
    cutover_emulator_mailchimp::start(config).await.expect("an emulator binds 127.0.0.1:0")
}

pub fn client() -> Client {
    Client::new()
}

/// A Mailchimp request under `/3.0/` with basic auth.
pub fn mailchimp(emulator: &Emulator, method: reqwest::Method, path: &str) -> RequestBuilder {
    client()
        .request(method, format!("{}/3.0/{path}", emulator.base_url))
        .basic_auth("anystring", Some(&emulator.api_key))
}

/// Status and JSON body (Null when there is none).
pub async fn send(request: RequestBuilder) -> (u16, Value) {
    let response: Response = request.send().await.expect("the emulator answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a readable body");
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, body)
}

pub fn config(seed: u64, records: usize) -> MailchimpConfig {
    MailchimpConfig::new(seed, records)
}
