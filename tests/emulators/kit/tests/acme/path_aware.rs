//! A vendor whose error shape depends on the path (Partnerize's v1, v2 and
//! v3): the answers the kit gives on its behalf are asked for with the path.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cutover_emulator_kit::{AuthFailure, EmulatorApp, ErrorBody, FaultConfig, Settings, Vendor};
use serde_json::{Value, json};

struct Generations;

impl Vendor for Generations {
    const NAME: &'static str = "generations";
}

impl ErrorBody for Generations {
    fn unauthorized(_: AuthFailure) -> Response {
        StatusCode::UNAUTHORIZED.into_response()
    }

    fn too_many_requests(_: Option<u64>) -> Response {
        (StatusCode::TOO_MANY_REQUESTS, Json(json!({"shape": "path-blind"}))).into_response()
    }

    fn server_error(status: u16) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(json!({"shape": "path-blind"}))).into_response()
    }

    fn too_many_requests_at(path: &str, retry_after: Option<u64>) -> Response {
        let generation = if path.starts_with("/v3/") { "v3" } else { "v1" };
        (StatusCode::TOO_MANY_REQUESTS, Json(json!({"shape": generation, "told": retry_after}))).into_response()
    }

    fn server_error_at(path: &str, status: u16) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let generation = if path.starts_with("/v3/") { "v3" } else { "v1" };
        (status, Json(json!({"shape": generation}))).into_response()
    }
}

#[tokio::test]
async fn the_kit_answers_for_the_vendor_in_the_shape_of_the_path() {
    let settings = Settings::new(1, 1);
    let app = EmulatorApp::<Generations>::bind(&settings).await.expect("bound");
    let api = Router::new().route("/v3/ping", get(|| async { "pong" })).route("/ping", get(|| async { "pong" }));
    let emulator = app.serve("key".into(), (), api);
    let body = |path: &'static str| {
        let url = format!("{}{path}", emulator.base_url);
        async move {
            let response = reqwest::get(url).await.expect("an answer");
            (response.status().as_u16(), response.json::<Value>().await.expect("JSON"))
        }
    };
    emulator.set_faults(FaultConfig { burst_429: 2, ..FaultConfig::default() });
    assert_eq!(body("/v3/ping").await, (429, json!({"shape": "v3", "told": null})));
    assert_eq!(body("/ping").await, (429, json!({"shape": "v1", "told": null})));
    emulator.set_faults(FaultConfig { retry_after_secs: Some(9), ..FaultConfig::default() });
    assert_eq!(body("/v3/ping").await, (429, json!({"shape": "v3", "told": 9})));
    emulator.set_faults(FaultConfig { rate_5xx: 1.0, ..FaultConfig::default() });
    let (status, shape) = body("/v3/ping").await;
    assert!(status == 500 || status == 503, "{status}");
    assert_eq!(shape, json!({"shape": "v3"}));
}
