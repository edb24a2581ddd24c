//! A hostile or broken server: a huge body, an absurd `Retry-After`, next
//! links that go round in a circle, paging that never ends. Each ends the
//! request with a clear error, quickly, with no panic and bounded memory.

use crate::support::{client, client_with, quick_retry, serve};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use cutover_http::{HttpConfig, HttpError, Paginator, Request};
use serde_json::json;
use std::collections::HashMap;

#[tokio::test]
async fn a_body_over_the_limit_is_refused_unread() {
    // With a length, and streamed without one.
    let router = Router::new().route("/sized", get(|| async { vec![b'x'; 3 * 1024 * 1024] })).route(
        "/streamed",
        get(|| async {
            let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 64 * 1024]));
            axum::body::Body::from_stream(futures_util::stream::iter(chunks))
        }),
    );
    let base_url = serve(router).await;
    let client = client_with(HttpConfig::new(&base_url).retry(quick_retry()).max_body_bytes(1024 * 1024));
    for path in ["sized", "streamed"] {
        let error = client.send(Request::get(path)).await.unwrap_err();
        assert!(matches!(error, HttpError::BodyTooLarge { limit: 1_048_576, .. }), "{path}: {error}");
        assert_eq!(
            error.to_string(),
            format!("GET /{path} answered with a body of more than 1048576 bytes, the most this client reads")
        );
        assert!(error.help().contains("max_body_bytes"));
    }
    // Under the limit, the same answer is read.
    let roomy = client_with(HttpConfig::new(&base_url).retry(quick_retry()).max_body_bytes(8 * 1024 * 1024));
    assert_eq!(roomy.send(Request::get("streamed")).await.unwrap().body().len(), 64 * 64 * 1024);
}

#[tokio::test]
async fn an_absurd_retry_after_ends_the_request_at_once() {
    for (status, wait) in [(429, "1000000000"), (429, "18446744073709551615"), (503, "1000000000")] {
        let router = Router::new().route(
            "/lists",
            get(move || async move {
                (StatusCode::from_u16(status).unwrap(), [("retry-after", wait)], r#"{"title":"slow down"}"#)
            }),
        );
        let client = client(&serve(router).await);
        let started = std::time::Instant::now();
        let error = client.send(Request::get("lists")).await.unwrap_err();
        assert!(matches!(error, HttpError::WaitTooLong { .. }), "{status} {wait}: {error}");
        assert!(
            error.to_string().starts_with(&format!("GET /lists answered HTTP {status} asking to wait ")),
            "{error}"
        );
        // No sleep happened: well under the 5 ms floor of one retry times the attempts.
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    }
}

type Params = Query<HashMap<String, String>>;

#[tokio::test]
async fn next_links_that_go_round_in_a_circle_are_an_error() {
    // JSON:API `links.next`: page a → b → c → a → …
    async fn profiles(State(base): State<String>, Query(params): Params) -> axum::Json<serde_json::Value> {
        let page = params.get("page[cursor]").cloned().unwrap_or_else(|| "a".into());
        let next = match page.as_str() {
            "a" => "b",
            "b" => "c",
            _ => "a",
        };
        axum::Json(
            json!({"data": [{"id": page}], "links": {"next": format!("{base}api/profiles?page%5Bcursor%5D={next}")}}),
        )
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    let router = Router::new().route("/api/profiles", get(profiles)).with_state(base.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let client = client(&base);

    let mut pages = Paginator::json_api(Request::get("api/profiles"), 1);
    let mut read = 0;
    let error = loop {
        match pages.next_page(&client).await {
            Ok(Some(page)) => {
                // Each page read through a saved cursor, as a plugin does.
                pages = Paginator::json_api(Request::get("api/profiles"), 1).resume(Some(&page.cursor)).unwrap();
                read += 1;
                assert!(read < 20, "the circle was not noticed");
            }
            Ok(None) => panic!("a circle ended as if done"),
            Err(error) => break error,
        }
    };
    assert!(matches!(error, HttpError::EndlessPaging { .. }), "{error}");
    assert!(error.to_string().contains("a next-page link came round again"), "{error}");
}

#[tokio::test]
async fn a_link_header_to_the_same_page_is_an_error_not_the_end() {
    async fn items(headers: HeaderMap) -> impl IntoResponse {
        let host = headers.get("host").unwrap().to_str().unwrap().to_owned();
        ([("link", format!("<http://{host}/items>; rel=\"next\""))], r#"[{"id":"1"}]"#)
    }
    let client = client(&serve(Router::new().route("/items", get(items))).await);
    let mut pages = Paginator::link_header(Request::get("items"), "", None, 10);
    let first = pages.next_page(&client).await.unwrap().unwrap();
    assert!(!first.done);
    let error = pages.next_page(&client).await.unwrap_err();
    assert!(matches!(error, HttpError::EndlessPaging { .. }), "{error}");
}

#[tokio::test]
async fn paging_past_the_page_limit_is_an_error() {
    // Every page full, no total, for ever.
    async fn members(Query(params): Params) -> axum::Json<serde_json::Value> {
        let page: u64 = params.get("page").and_then(|page| page.parse().ok()).unwrap_or(1);
        axum::Json(json!({"entries": [{"id": page}, {"id": page + 1_000_000}]}))
    }
    let client = client(&serve(Router::new().route("/members", get(members))).await);
    let mut pages = Paginator::page_number(Request::get("members"), 2).max_pages(5);
    let mut read = 0;
    let error = loop {
        match pages.next_page(&client).await {
            Ok(Some(_)) => read += 1,
            Ok(None) => panic!("endless paging ended"),
            Err(error) => break error,
        }
    };
    assert_eq!(read, 5);
    assert_eq!(
        error.to_string(),
        "GET members: the page limit was reached after 5 pages; the platform's paging does not end"
    );
}

#[tokio::test]
async fn a_server_that_ignores_the_offset_is_caught_at_the_first_repeated_page() {
    // Every page the same, and a total that promises a trillion items.
    async fn members() -> axum::Json<serde_json::Value> {
        axum::Json(json!({"members": [{"id": "a"}, {"id": "b"}], "total_items": 1_000_000_000_000u64}))
    }
    let client = client(&serve(Router::new().route("/lists/x/members", get(members))).await);
    let mut pages = Paginator::offset(Request::get("lists/x/members"), "/members", 2);
    let first = pages.next_page(&client).await.unwrap().unwrap();
    // Read through the saved cursor, as a plugin does.
    let mut pages =
        Paginator::offset(Request::get("lists/x/members"), "/members", 2).resume(Some(&first.cursor)).unwrap();
    let error = pages.next_page(&client).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "GET /lists/x/members: a page came back the same as the one before after 2 pages; the platform's paging does \
         not end"
    );
}
