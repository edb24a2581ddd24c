//! Acme: a vendor emulator on the kit in a page. Contacts behind offset
//! paging, people behind JSON:API cursor links, a rate-limited route,
//! Bearer auth, and a seeded-counts control route.

use std::sync::{Arc, RwLock};

use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, middleware};
use cutover_emulator_kit::auth::{ApiKey, Scheme, require_key};
use cutover_emulator_kit::paging::{Cursor, OffsetCount, circular_cursor_links, cursor_links, endless_offset_pages};
use cutover_emulator_kit::query::Params;
use cutover_emulator_kit::ratelimit::{Tier, WindowLimit, limit_windows};
use cutover_emulator_kit::{AuthFailure, EmulatorApp, ErrorBody, RunningEmulator, Settings, Vendor};
use cutover_emulator_kit::{people, seed, store};
use serde_json::{Value, json};

pub struct Acme;

pub const PAGING: OffsetCount = OffsetCount { default_count: 10, max_count: 100 };

impl Vendor for Acme {
    const NAME: &'static str = "acme";
    const TRAILING_SLASH_UNDER: Option<&'static str> = Some("/v1/");

    fn page_index(uri: &Uri) -> Option<u64> {
        if uri.path().starts_with("/v1/people") { Cursor::page_index(uri) } else { PAGING.page_index(uri) }
    }
}

impl ErrorBody for Acme {
    fn unauthorized(failure: AuthFailure) -> Response {
        let reason = match failure {
            AuthFailure::Missing => "missing",
            AuthFailure::Invalid => "invalid",
        };
        (StatusCode::UNAUTHORIZED, Json(json!({"error": reason}))).into_response()
    }

    fn too_many_requests(retry_after: Option<u64>) -> Response {
        let body = Json(json!({"error": "slow down", "told": retry_after.is_some()}));
        match retry_after {
            Some(seconds) => {
                (StatusCode::TOO_MANY_REQUESTS, [("retry-after", seconds.to_string())], body).into_response()
            }
            None => (StatusCode::TOO_MANY_REQUESTS, body).into_response(),
        }
    }

    fn server_error(status: u16) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(json!({"error": "oops", "status": status.as_u16()}))).into_response()
    }
}

/// The seeded addresses.
pub type People = Arc<RwLock<Vec<String>>>;

#[derive(Clone)]
struct App {
    people: People,
    base: String,
}

fn seeded(settings: &Settings) -> People {
    let emails = (0..settings.records).map(|index| {
        let mut rng = seed::record_rng(settings.seed, 1, index as u64);
        people::person(&mut rng, index, settings.invalid_email_fraction).email
    });
    Arc::new(RwLock::new(emails.collect()))
}

async fn contacts(State(app): State<App>, uri: Uri) -> Response {
    let Ok((offset, count)) = PAGING.parse(&Params::from_uri(&uri)) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "paging"}))).into_response();
    };
    let people = store::read(&app.people);
    let (page, total) = PAGING.page(people.iter(), offset, count);
    Json(json!({"contacts": page, "total_items": total})).into_response()
}

async fn list_people(State(app): State<App>, uri: Uri) -> Response {
    let params = Params::from_uri(&uri);
    let (Ok(cursor), Some(size)) =
        (Cursor::from_params(&params), cutover_emulator_kit::paging::page_size(&params, 5, 50))
    else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "paging"}))).into_response();
    };
    let people = store::read(&app.people);
    let (page, next) = cursor.take_page(people.iter(), size);
    let data: Vec<Value> = page.into_iter().map(|email| json!({"type": "person", "id": email})).collect();
    Json(json!({"data": data, "links": cursor_links(&app.base, &uri, next.as_ref())})).into_response()
}

/// `/v1/limited` allows 2 a second and 3 a minute, the rest plenty.
fn tier(_: &Request, path: &str) -> Tier {
    if path == "/v1/limited" { Tier { burst: 2, steady: 3 } } else { Tier { burst: 1000, steady: 100_000 } }
}

pub async fn start(settings: Settings, max_in_flight: usize) -> RunningEmulator<People> {
    let app = EmulatorApp::<Acme>::bind(&settings).await.expect("binds 127.0.0.1");
    let key = settings.api_key.clone().unwrap_or_else(|| seed::hex(&mut seed::record_rng(settings.seed, 0, 0), 32));
    let people = seeded(&settings);
    let state = App { people: Arc::clone(&people), base: app.base_url().to_owned() };
    let base: Arc<str> = Arc::from(app.base_url());
    let api = Router::new()
        .route("/v1/ping", get(|| async { Json(json!({"pong": true})) }))
        .route("/v1/limited", get(|| async { Json(json!({"limited": true})) }))
        .route("/v1/contacts", get(contacts).layer(middleware::from_fn(endless_offset_pages::<Acme>)))
        .route(
            "/v1/people",
            get(list_people).layer(middleware::from_fn_with_state(base, circular_cursor_links::<Acme>)),
        )
        .route_layer(middleware::from_fn_with_state(WindowLimit::new(tier), limit_windows::<Acme>))
        .layer(middleware::from_fn_with_state(
            ApiKey::new(key.as_str(), [Scheme::Token("Bearer")]),
            require_key::<Acme>,
        ))
        .with_state(state);
    let count = store::read(&people).len();
    let control = Router::new().route("/seeded", get(move || async move { Json(json!({"people": count})) }));
    app.max_in_flight(max_in_flight).control(control).serve(key, people, api)
}
