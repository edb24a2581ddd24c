//! What is retried, after how long, and what is not.

use crate::support::{Log, client, client_with, dropping_server, quick_retry, serve, short_timeouts, wait_for};
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use cutover_http::{HttpConfig, HttpError, HttpErrorKind, Request, RetryPolicy, TransportKind};
use std::time::{Duration, SystemTime};

const THROTTLED: &str = r#"{"errors":[{"id":"8c8f","status":429,"code":"throttled","title":"Request was throttled.","detail":"Request was throttled. Expected available in 1 second."}]}"#;

/// A server whose `/items` answers 429 with `retry_after` the first time
/// and `{"ok": true}` after.
async fn throttled_once(retry_after: fn() -> String) -> (String, Log) {
    let log = Log::default();
    let server_log = log.clone();
    let router = Router::new().route(
        "/items",
        get(move || {
            let log = server_log.clone();
            async move {
                if log.record("items") == 1 {
                    log.record("throttled");
                    (StatusCode::TOO_MANY_REQUESTS, [("retry-after", retry_after())], THROTTLED.to_owned())
                } else {
                    (StatusCode::OK, [("retry-after", String::new())], r#"{"ok":true}"#.to_owned())
                }
            }
        }),
    );
    (serve(router).await, log)
}

#[tokio::test]
async fn retry_after_in_seconds_is_waited_out() {
    let (base_url, log) = throttled_once(|| "1".to_owned()).await;
    let answer: serde_json::Value = client(&base_url).get_json("items").await.unwrap();
    assert_eq!(answer["ok"], true);
    let times = log.times("items");
    assert_eq!(times.len(), 2);
    assert!(times[1] - log.first("throttled") >= Duration::from_secs(1), "{:?}", times[1] - times[0]);
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_waited_out() {
    // Two seconds ahead, written to the second: at least one second away.
    let (base_url, log) = throttled_once(|| httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2))).await;
    let answer: serde_json::Value = client(&base_url).get_json("items").await.unwrap();
    assert_eq!(answer["ok"], true);
    let times = log.times("items");
    assert_eq!(times.len(), 2);
    assert!(times[1] - log.first("throttled") >= Duration::from_secs(1), "{:?}", times[1] - times[0]);
}

#[tokio::test]
async fn retry_after_zero_is_no_hint_and_never_a_hot_loop() {
    let log = Log::default();
    let server_log = log.clone();
    let router = Router::new().route(
        "/items",
        get(move || {
            let log = server_log.clone();
            async move {
                log.record("items");
                (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")], THROTTLED)
            }
        }),
    );
    let base_url = serve(router).await;
    let floor = Duration::from_millis(50);
    // 429s do not use up `max_attempts`: `max_elapsed` ends the wait.
    let retry = RetryPolicy {
        min_delay: floor,
        initial_delay: Duration::from_millis(1),
        max_attempts: 2,
        max_elapsed: Duration::from_millis(400),
        ..quick_retry()
    };
    let error =
        client_with(HttpConfig::new(&base_url).retry(retry)).get_json::<serde_json::Value>("items").await.unwrap_err();
    assert_eq!(error.kind(), HttpErrorKind::RateLimited);
    let times = log.times("items");
    assert!((3..=9).contains(&times.len()), "{} sends in 400 ms, at least 50 ms apart", times.len());
    assert_eq!(
        error.to_string(),
        format!(
            "GET /items answered HTTP 429 after {} attempts: throttled: Request was throttled. Expected available in 1 \
             second.",
            times.len()
        )
    );
    for pair in times.windows(2) {
        assert!(pair[1] - pair[0] >= floor, "{:?}", pair[1] - pair[0]);
    }
}

#[tokio::test]
async fn a_503_then_success() {
    let log = Log::default();
    let server_log = log.clone();
    let router = Router::new().route(
        "/ping",
        get(move || {
            let log = server_log.clone();
            async move {
                match log.record("ping") {
                    1 => (StatusCode::SERVICE_UNAVAILABLE, "{}"),
                    _ => (StatusCode::OK, r#"{"health_status":"Everything's Chimpy!"}"#),
                }
            }
        }),
    );
    let base_url = serve(router).await;
    let answer: serde_json::Value = client(&base_url).get_json("/ping").await.unwrap();
    assert_eq!(answer["health_status"], "Everything's Chimpy!");
    assert_eq!(log.count("ping"), 2);
}

/// A server whose every answer is a 500 on POST and PUT.
async fn failing_writes() -> (String, Log) {
    let log = Log::default();
    let (post_log, put_log) = (log.clone(), log.clone());
    let router = Router::new().route(
        "/members",
        post(move || {
            let log = post_log.clone();
            async move {
                log.record("post");
                (StatusCode::INTERNAL_SERVER_ERROR, r#"{"title":"Internal Server Error"}"#)
            }
        })
        .put(move || {
            let log = put_log.clone();
            async move {
                log.record("put");
                (StatusCode::INTERNAL_SERVER_ERROR, r#"{"title":"Internal Server Error"}"#)
            }
        }),
    );
    (serve(router).await, log)
}

#[tokio::test]
async fn a_500_is_retried_for_a_put_but_not_for_a_post_unless_marked_safe() {
    let (base_url, log) = failing_writes().await;
    let client = client(&base_url);
    let body = serde_json::json!({"email_address": "a@example.com"});

    let error = client.post_json::<_, serde_json::Value>("members", &body).await.unwrap_err();
    assert_eq!(error.kind(), HttpErrorKind::ServerError);
    assert_eq!(log.count("post"), 1);

    client.send(Request::post("members").json(&body).retry_safe()).await.unwrap_err();
    assert_eq!(log.count("post"), 1 + 4);

    client.put_json::<_, serde_json::Value>("members", &body).await.unwrap_err();
    assert_eq!(log.count("put"), 4);
}

#[tokio::test]
async fn a_dropped_connection_is_retried_for_a_get() {
    let (base_url, seen) = dropping_server(|number| number == 0).await;
    let answer: serde_json::Value = client(&base_url).get_json("lists").await.unwrap();
    assert_eq!(answer, serde_json::json!({}));
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_post_whose_connection_dropped_after_sending_is_not_retried() {
    // The first two requests are read and then dropped unanswered.
    let (base_url, seen) = dropping_server(|number| number <= 1).await;
    let client = client(&base_url);
    let error = client.post_json::<_, serde_json::Value>("lists", &serde_json::json!({})).await.unwrap_err();
    assert!(matches!(error, HttpError::Transport { kind: TransportKind::Dropped, attempts: 1, .. }), "{error:?}");
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);

    // The same request marked safe to send twice goes again after its drop.
    client.send(Request::post("lists").json(&serde_json::json!({})).retry_safe()).await.unwrap();
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_post_that_could_not_connect_is_retried() {
    // A port nothing listens on: the request is never sent.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let client = client(&format!("http://{address}/"));
    let error = client.post_json::<_, serde_json::Value>("lists", &serde_json::json!({})).await.unwrap_err();
    assert!(matches!(error, HttpError::Transport { kind: TransportKind::Connect, attempts: 4, .. }), "{error:?}");
    assert_eq!(error.to_string(), "POST /lists got no answer after 4 attempts: cannot connect");
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let log = Log::default();
    let server_log = log.clone();
    let router = Router::new().route(
        "/slow",
        get(move || {
            let log = server_log.clone();
            async move {
                if log.record("slow") == 1 {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
                "[1, 2]"
            }
        }),
    );
    let base_url = serve(router).await;
    let client = client_with(HttpConfig::new(&base_url).retry(quick_retry()).timeouts(short_timeouts()));
    let answer: Vec<u32> = client.get_json("slow").await.unwrap();
    assert_eq!(answer, [1, 2]);
    assert_eq!(log.count("slow"), 2);
}

#[tokio::test]
async fn a_timeout_past_the_attempts_is_a_transport_error() {
    let router = Router::new().route("/slow", get(|| async { tokio::time::sleep(Duration::from_secs(30)).await }));
    let base_url = serve(router).await;
    let retry = RetryPolicy { max_attempts: 2, ..quick_retry() };
    let client = client_with(HttpConfig::new(&base_url).retry(retry).timeouts(short_timeouts()));
    let error = client.get_json::<serde_json::Value>("slow").await.unwrap_err();
    assert!(matches!(error, HttpError::Transport { kind: TransportKind::Timeout, attempts: 2, .. }), "{error:?}");
}

#[tokio::test]
async fn a_400_with_a_vendor_body_is_not_retried() {
    let log = Log::default();
    let server_log = log.clone();
    let router = Router::new().route(
        "/3.0/lists/{list_id}/members",
        post(move || {
            let log = server_log.clone();
            async move {
                log.record("post");
                (
                    StatusCode::BAD_REQUEST,
                    [("content-type", "application/problem+json; charset=utf-8")],
                    r#"{"type":"https://mailchimp.com/developer/marketing/docs/errors/","title":"Member Exists","status":400,
                        "detail":"a@example.com is already a list member. Use PUT to insert or update list members.","instance":""}"#,
                )
            }
        }),
    );
    let base_url = serve(router).await;
    let request = Request::post("/3.0/lists/9e67587f52/members")
        .query("skip_merge_validation", true)
        .json(&serde_json::json!({"email_address": "a@example.com", "status": "subscribed"}))
        .retry_safe();
    let error = client(&base_url).send(request).await.unwrap_err();
    assert_eq!(log.count("post"), 1);
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.kind(), HttpErrorKind::Rejected);
    assert_eq!(
        error.to_string(),
        "POST /3.0/lists/9e67587f52/members answered HTTP 400: Member Exists: a@example.com is already a list member. \
         Use PUT to insert or update list members."
    );
    assert_eq!(error.vendor().unwrap().json().unwrap()["title"], "Member Exists");
}

/// A server whose `/contacts` answers 429 (`Retry-After: 1`) to its first
/// `throttled` requests, and whose `/lists` always answers.
async fn throttling_server(log: &Log, throttled: usize) -> String {
    let (contacts_log, lists_log) = (log.clone(), log.clone());
    let router = Router::new()
        .route(
            "/contacts",
            get(move || {
                let log = contacts_log.clone();
                async move {
                    log.record("contacts");
                    if log.count("contacts") <= throttled {
                        log.record("throttled");
                        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], THROTTLED);
                    }
                    (StatusCode::OK, [("retry-after", "")], "{}")
                }
            }),
        )
        .route(
            "/lists",
            get(move || {
                let log = lists_log.clone();
                async move {
                    log.record("lists");
                    "{}"
                }
            }),
        );
    serve(router).await
}

#[tokio::test]
async fn a_third_429_in_a_row_pauses_every_stream_of_the_account() {
    let log = Log::default();
    let contacts_stream = client(&throttling_server(&log, 3).await);
    let lists_stream = contacts_stream.clone();
    let contacts = tokio::spawn(async move { contacts_stream.get_json::<serde_json::Value>("contacts").await });
    wait_for(|| lists_stream.limiter().paused_until().is_some()).await;
    lists_stream.get_json::<serde_json::Value>("lists").await.unwrap();
    contacts.await.unwrap().unwrap();
    let throttled = log.times("throttled");
    assert_eq!(throttled.len(), 3);
    assert!(log.first("lists") - throttled[2] >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_429_now_and_then_delays_only_its_own_request() {
    let log = Log::default();
    let contacts_stream = client(&throttling_server(&log, 1).await);
    let lists_stream = contacts_stream.clone();
    let contacts = tokio::spawn(async move { contacts_stream.get_json::<serde_json::Value>("contacts").await });
    wait_for(|| !log.times("throttled").is_empty()).await;
    lists_stream.get_json::<serde_json::Value>("lists").await.unwrap();
    assert!(lists_stream.limiter().paused_until().is_none());
    assert!(log.first("lists") - log.first("throttled") < Duration::from_secs(1));
    contacts.await.unwrap().unwrap();
    let contacts = log.times("contacts");
    assert!(contacts[1] - contacts[0] >= Duration::from_secs(1), "the retry waited for Retry-After");
}

#[tokio::test]
async fn headers_with_nothing_remaining_hold_the_account_until_the_reset() {
    let log = Log::default();
    let server_log = log.clone();
    let router = Router::new().route(
        "/profiles",
        get(move || {
            let log = server_log.clone();
            async move {
                let remaining = if log.record("profiles") == 1 { "0" } else { "699" };
                let mut headers = HeaderMap::new();
                headers.insert("ratelimit-limit", "700".parse().unwrap());
                headers.insert("ratelimit-remaining", remaining.parse().unwrap());
                headers.insert("ratelimit-reset", "1".parse().unwrap());
                (headers, "{}")
            }
        }),
    );
    let base_url = serve(router).await;
    let client = client(&base_url);
    client.get_json::<serde_json::Value>("profiles").await.unwrap();
    client.get_json::<serde_json::Value>("profiles").await.unwrap();
    let times = log.times("profiles");
    assert!(times[1] - times[0] >= Duration::from_secs(1), "{:?}", times[1] - times[0]);
}

#[tokio::test]
async fn a_429_storm_longer_than_the_attempt_budget_is_waited_out() {
    let log = Log::default();
    let server_log = log.clone();
    let router = Router::new().route(
        "/items",
        get(move || {
            let log = server_log.clone();
            async move {
                log.record("items");
                if log.times("items").len() <= 5 {
                    (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")], THROTTLED).into_response()
                } else {
                    axum::Json(serde_json::json!({"ok": true})).into_response()
                }
            }
        }),
    );
    let base_url = serve(router).await;
    let retry = RetryPolicy { max_attempts: 2, ..quick_retry() };
    let answer: serde_json::Value =
        client_with(HttpConfig::new(&base_url).retry(retry)).get_json("items").await.expect("the storm passes");
    assert_eq!(answer["ok"], true);
    assert_eq!(log.times("items").len(), 6);
}
