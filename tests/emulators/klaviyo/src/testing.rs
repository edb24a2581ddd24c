//! Helpers for the unit tests that call a running emulator over HTTP.

use cutover_emulator_kit::RunningEmulator;
use reqwest::Method;
use serde_json::Value;

use crate::{KlaviyoConfig, KlaviyoRateLimit, KlaviyoState};

/// A running Klaviyo emulator.
pub(crate) type Emulator = RunningEmulator<KlaviyoState>;

/// An emulator of `profiles` profiles seeded from `seed`; `unlimited` lifts
/// the rate limits far out of reach.
pub(crate) async fn start(seed: u64, profiles: usize, unlimited: bool) -> Emulator {
    let mut config = KlaviyoConfig::new(seed, profiles);
    if unlimited {
        config.rate_limit = Some(KlaviyoRateLimit { burst_per_second: 100_000, steady_per_minute: 1_000_000 });
    }
    crate::start(config).await.expect("the emulator starts")
}

/// `POST /api/{path}` with the emulator's key, as a JSON:API body: the status and the answer.
pub(crate) async fn post(emulator: &Emulator, path: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .request(Method::POST, format!("{}/api/{path}", emulator.base_url))
        .header("revision", "2024-10-15")
        .header("Authorization", format!("Klaviyo-API-Key {}", emulator.api_key))
        .header("content-type", "application/vnd.api+json")
        .body(body.to_string())
        .send()
        .await
        .expect("the emulator answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) })
}
