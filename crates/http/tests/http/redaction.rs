//! A secret never shows: not in `Debug`, not in an error, not in a trace,
//! whatever the auth. Each test also proves the server got the secret, so a
//! client that sent nothing could not pass.

use crate::support::{Log, client_with, quick_retry, serve};
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use cutover_http::{Auth, HttpConfig, Request, SecretString};
use std::io::Write;
use std::sync::{Arc, Mutex};

const SECRET: &str = "pk_0123456789abcdefSECRET";
/// A key in a query string, as some APIs take one.
const QUERY_SECRET: &str = "QUERYSECRET42";

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A server that answers 401 with Klaviyo's body to every request, after
/// noting the auth header it got.
async fn refusing_server() -> (String, Log) {
    let log = Log::default();
    let server_log = log.clone();
    let router = Router::new().route(
        "/api/profiles",
        get(move |headers: HeaderMap| {
            let log = server_log.clone();
            async move {
                for name in ["authorization", "revision"] {
                    if let Some(value) = headers.get(name) {
                        log.record(format!("{name}: {}", value.to_str().unwrap()));
                    }
                }
                (
                    StatusCode::UNAUTHORIZED,
                    r#"{"errors":[{"id":"x","status":401,"code":"authentication_failed","title":"Incorrect authentication credentials.","detail":"Incorrect authentication credentials."}]}"#,
                )
            }
        }),
    );
    (serve(router).await, log)
}

fn check_never_shown(auth: Auth, sent_header: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let (config_debug, client_debug, error_display, error_debug, plugin_error) = runtime.block_on(async {
        let (base_url, log) = refusing_server().await;
        let config = HttpConfig::new(&base_url).auth(auth).header("revision", "2024-10-15").retry(quick_retry());
        let config_debug = format!("{config:?}");
        let client = client_with(config);
        let request = Request::get("api/profiles").query("api_key", QUERY_SECRET);
        let error = client.send(request).await.unwrap_err();
        assert_eq!(log.count(&format!("authorization: {sent_header}")), 1, "the server did not get the credentials");
        assert_eq!(log.count("revision: 2024-10-15"), 1);
        let (error_display, error_debug) = (error.to_string(), format!("{error:?}"));
        let plugin_error = format!("{:?}", cutover_contract::PluginError::from(error));
        (config_debug, format!("{client:?}"), error_display, error_debug, plugin_error)
    });
    let traces = captured.text();
    assert!(traces.contains("HTTP request answered.") && traces.contains("status=401"), "{traces}");
    assert_eq!(
        error_display,
        "GET /api/profiles answered HTTP 401: authentication_failed: Incorrect authentication credentials."
    );
    let encoded = sent_header.rsplit(' ').next().unwrap();
    for (what, text) in [
        ("config Debug", &config_debug),
        ("client Debug", &client_debug),
        ("error Display", &error_display),
        ("error Debug", &error_debug),
        ("plugin error", &plugin_error),
        ("traces", &traces),
    ] {
        for secret in [SECRET, QUERY_SECRET, encoded] {
            assert!(!text.contains(secret), "{what} shows {secret}: {text}");
        }
    }
}

#[test]
fn a_klaviyo_key_never_shows() {
    check_never_shown(
        Auth::api_key_header("Authorization", "Klaviyo-API-Key ", SecretString::from(SECRET)),
        &format!("Klaviyo-API-Key {SECRET}"),
    );
}

#[test]
fn a_basic_password_never_shows() {
    // base64("anystring:pk_0123456789abcdefSECRET")
    check_never_shown(
        Auth::basic("anystring", SecretString::from(SECRET)),
        "Basic YW55c3RyaW5nOnBrXzAxMjM0NTY3ODlhYmNkZWZTRUNSRVQ=",
    );
}

#[test]
fn a_bearer_token_never_shows() {
    check_never_shown(Auth::bearer(SecretString::from(SECRET)), &format!("Bearer {SECRET}"));
}

#[test]
fn a_transport_error_shows_no_query_string() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let error = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let config = HttpConfig::new(format!("http://{address}/"))
            .auth(Auth::bearer(SecretString::from(SECRET)))
            .retry(cutover_http::RetryPolicy::never());
        client_with(config).send(Request::get("lists").query("apikey", QUERY_SECRET)).await.unwrap_err()
    });
    let mut chain = format!("{error} {error:?}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(&format!(" {cause}"));
        source = cause.source();
    }
    assert!(chain.contains("/lists"), "{chain}");
    assert!(!chain.contains(QUERY_SECRET) && !chain.contains(SECRET), "{chain}");
}

/// A server that takes its key as `?api-key=` (Scaleo), notes the key each
/// request brought, and answers 401 in Scaleo's envelope.
async fn query_key_server() -> (String, Log) {
    let log = Log::default();
    let server_log = log.clone();
    let refuse = move |method: &'static str| {
        let log = server_log.clone();
        move |query: axum::extract::Query<std::collections::HashMap<String, String>>| {
            let log = log.clone();
            async move {
                log.record(format!("{method} api-key={}", query.get("api-key").map_or("", String::as_str)));
                (
                    StatusCode::UNAUTHORIZED,
                    r#"{"status":"error","code":401,"name":"Unauthorized","message":"Your request was made with invalid credentials."}"#,
                )
            }
        }
    };
    let router =
        Router::new().route("/api/v2/network/affiliates", get(refuse("GET")).post(refuse("POST")).put(refuse("PUT")));
    (serve(router).await, log)
}

#[test]
fn a_query_parameter_key_never_shows() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let texts = runtime.block_on(async {
        let (base_url, log) = query_key_server().await;
        let config = HttpConfig::new(&base_url)
            .auth(Auth::query_param("api-key", SecretString::from(SECRET)))
            .retry(quick_retry());
        let mut texts = vec![("config Debug", format!("{config:?}"))];
        let client = client_with(config);
        texts.push(("client Debug", format!("{client:?}")));
        // On every method, the key is in the query string, the body stays JSON.
        let requests = [
            Request::get("api/v2/network/affiliates").query("page", 1),
            Request::post("api/v2/network/affiliates").json(&serde_json::json!({"email": "a@example.org"})),
            Request::put("api/v2/network/affiliates").json(&serde_json::json!({"status": 1})),
        ];
        for request in requests {
            let method = request.method().as_str().to_owned();
            let error = client.send(request).await.unwrap_err();
            assert_eq!(log.count(&format!("{method} api-key={SECRET}")), 1, "{method}: the server did not get the key");
            assert!(error.to_string().contains("Your request was made with invalid credentials"), "{error}");
            texts.push(("error Display", error.to_string()));
            texts.push(("error Debug", format!("{error:?}")));
            texts.push(("plugin error", format!("{:?}", cutover_contract::PluginError::from(error))));
        }
        texts
    });
    let traces = captured.text();
    assert!(traces.contains("status=401"), "{traces}");
    for (what, text) in texts.iter().map(|(what, text)| (*what, text.as_str())).chain([("traces", traces.as_str())]) {
        assert!(!text.contains(SECRET), "{what} shows the key: {text}");
    }
}

#[test]
fn a_query_parameter_key_a_link_echoes_is_kept_out_of_the_cursor() {
    use axum::extract::Query;
    use std::collections::HashMap;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let log = Log::default();
        let server_log = log.clone();
        // A platform that writes its next link with the key the request
        // brought, as some do when they echo the whole query.
        let items = move |Query(query): Query<HashMap<String, String>>| {
            let log = server_log.clone();
            async move {
                let key = query.get("api-key").cloned().unwrap_or_default();
                let page: usize = query.get("page").map_or(1, |page| page.parse().unwrap());
                log.record(format!("page {page} api-key={key}"));
                let mut headers = HeaderMap::new();
                if page == 1 {
                    let link = format!(r#"</items?page=2&api-key={key}>; rel="next""#);
                    headers.insert("link", link.parse().unwrap());
                }
                (headers, axum::Json(serde_json::json!([{"id": page}])))
            }
        };
        let base_url = serve(Router::new().route("/items", get(items))).await;
        let config = HttpConfig::new(&base_url).auth(Auth::query_param("api-key", SecretString::from(SECRET)));
        let client = client_with(config);
        let mut pages = cutover_http::Paginator::link_header(Request::get("items"), "", None, 1);
        let first = pages.next_page(&client).await.unwrap().unwrap();
        assert!(!first.cursor.contains(SECRET), "the cursor keeps the key: {}", first.cursor);
        let resumed = cutover_http::Paginator::link_header(Request::get("items"), "", None, 1);
        let second = resumed.resume(Some(&first.cursor)).unwrap().next_page(&client).await.unwrap().unwrap();
        assert_eq!(second.items, [serde_json::json!({"id": 2})]);
        assert_eq!(
            log.count(&format!("page 2 api-key={SECRET}")),
            1,
            "the key is added back when the link is followed"
        );
    });
}
