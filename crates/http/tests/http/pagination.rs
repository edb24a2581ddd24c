//! Each paging style against a server that pages like the platform, read
//! whole and resumed from every cursor.

use crate::support::{client, serve};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use cutover_http::{HttpClient, HttpError, PageStyle, Paginator, Request};
use serde_json::{Value, json};
use std::collections::HashMap;

type Params = Query<HashMap<String, String>>;

fn number(params: &HashMap<String, String>, name: &str) -> Option<usize> {
    params.get(name).map(|value| value.parse().unwrap())
}

/// Reads every page; returns the item ids and the cursor after each page.
async fn read_all(client: &HttpClient, mut pages: Paginator, id_field: &str) -> (Vec<String>, Vec<String>) {
    let (mut ids, mut cursors) = (Vec::new(), Vec::new());
    while let Some(page) = pages.next_page(client).await.unwrap() {
        ids.extend(page.items.iter().map(|item| item[id_field].as_str().unwrap().to_owned()));
        cursors.push(page.cursor.clone());
        assert_eq!(page.done, pages.is_done());
        assert!(cursors.len() < 100, "paging does not end");
    }
    assert!(pages.is_done());
    (ids, cursors)
}

/// Reading from the start gives `expected`; resuming from each cursor gives
/// exactly what follows it.
async fn check(client: &HttpClient, make: impl Fn() -> Paginator, id_field: &str, expected: &[String]) {
    let (ids, cursors) = read_all(client, make(), id_field).await;
    assert_eq!(ids, expected);
    let mut read_before = 0;
    for cursor in &cursors {
        let resumed = make().resume(Some(cursor)).unwrap();
        let (rest, _) = read_all(client, resumed, id_field).await;
        read_before = expected.len() - rest.len();
        assert_eq!(rest, expected[read_before..], "resumed from {cursor}");
    }
    assert_eq!(read_before, expected.len());
}

fn ids(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|index| format!("{prefix}{index:03}")).collect()
}

#[tokio::test]
async fn mailchimp_offset_and_count() {
    // Mailchimp caps count at 1000; this one at 10, to show that a page
    // shorter than asked does not end the read while the total says more.
    async fn members(Query(params): Params) -> axum::Json<Value> {
        let (offset, count) = (number(&params, "offset").unwrap_or(0), number(&params, "count").unwrap_or(10).min(10));
        let all = ids("m", 25);
        let page: Vec<Value> = all.iter().skip(offset).take(count).map(|id| json!({"id": id})).collect();
        axum::Json(json!({"members": page, "list_id": "9e67587f52", "total_items": all.len(), "_links": []}))
    }
    let base_url = serve(Router::new().route("/3.0/lists/9e67587f52/members", get(members))).await;
    let client = client(&format!("{base_url}3.0"));
    let make = || Paginator::offset(Request::get("lists/9e67587f52/members"), "/members", 20);
    check(&client, make, "id", &ids("m", 25)).await;
}

#[tokio::test]
async fn mailman_page_and_count() {
    async fn roster(Query(params): Params) -> axum::Json<Value> {
        let (page, count) = (number(&params, "page").unwrap(), number(&params, "count").unwrap());
        assert!(page >= 1, "Mailman pages from 1");
        let all = ids("a", 20);
        let start = (page - 1) * count;
        let entries: Vec<Value> = all.iter().skip(start).take(count).map(|email| json!({"email": email})).collect();
        // Mailman leaves `entries` out of an empty page.
        let mut body = json!({"start": start, "total_size": all.len(), "http_etag": "\"x\""});
        if !entries.is_empty() {
            body["entries"] = Value::Array(entries);
        }
        axum::Json(body)
    }
    let base_url = serve(Router::new().route("/3.1/lists/ant.example.com/roster/member", get(roster))).await;
    let client = client(&format!("{base_url}3.1/"));
    let make = || Paginator::page_number(Request::get("lists/ant.example.com/roster/member"), 10);
    check(&client, make, "email", &ids("a", 20)).await;
    // Exactly two full pages: no third request for an empty page.
    let (_, cursors) = read_all(&client, make(), "email").await;
    assert_eq!(cursors.len(), 2);
}

#[derive(Clone)]
struct Origin(String);

#[tokio::test]
async fn klaviyo_json_api_links_next() {
    async fn profiles(State(Origin(origin)): State<Origin>, Query(params): Params) -> axum::Json<Value> {
        let size = number(&params, "page[size]").unwrap_or(20);
        let start =
            params.get("page[cursor]").map_or(0, |cursor| cursor.strip_prefix("after-").unwrap().parse().unwrap());
        let all = ids("01GDDKASAP8TKDDA2GRZDSV", 23);
        let data: Vec<Value> =
            all.iter().skip(start).take(size).map(|id| json!({"type": "profile", "id": id})).collect();
        let end = start + data.len();
        let next = (end < all.len())
            .then(|| format!("{origin}api/profiles?page%5Bsize%5D={size}&page%5Bcursor%5D=after-{end}"));
        axum::Json(
            json!({"data": data, "links": {"self": format!("{origin}api/profiles"), "next": next, "prev": null}}),
        )
    }
    let listener_url = {
        // The server must know its own origin to write absolute links.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}/", listener.local_addr().unwrap());
        let router = Router::new().route("/api/profiles", get(profiles)).with_state(Origin(origin.clone()));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        origin
    };
    let client = client(&listener_url);
    let make = || Paginator::json_api(Request::get("api/profiles").query("sort", "updated"), 10);
    check(&client, make, "id", &ids("01GDDKASAP8TKDDA2GRZDSV", 23)).await;
}

#[tokio::test]
async fn link_header_rel_next() {
    async fn items(Query(params): Params) -> (HeaderMap, axum::Json<Value>) {
        let start = number(&params, "since").unwrap_or(0);
        let all = ids("i", 7);
        let page: Vec<Value> = all.iter().skip(start).take(3).map(|id| json!({"id": id})).collect();
        let mut headers = HeaderMap::new();
        if start + 3 < all.len() {
            let link = format!(r#"</v1/items?since={}>; rel="next", </v1/items>; rel="first""#, start + 3);
            headers.insert("link", link.parse().unwrap());
        }
        (headers, axum::Json(Value::Array(page)))
    }
    let base_url = serve(Router::new().route("/v1/items", get(items))).await;
    let client = client(&format!("{base_url}v1/"));
    let make = || Paginator::link_header(Request::get("items"), "", None, 3);
    check(&client, make, "id", &ids("i", 7)).await;
}

#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed() {
    async fn profiles() -> axum::Json<Value> {
        axum::Json(json!({"data": [], "links": {"next": "https://attacker.test/api/profiles?page%5Bcursor%5D=x"}}))
    }
    let base_url = serve(Router::new().route("/api/profiles", get(profiles))).await;
    let client = client(&base_url);
    let mut pages = Paginator::json_api(Request::get("api/profiles"), 10);
    pages.next_page(&client).await.unwrap();
    let error = pages.next_page(&client).await.unwrap_err();
    assert!(matches!(&error, HttpError::ForeignUrl { host, .. } if host == "attacker.test"), "{error}");
}

#[tokio::test]
async fn a_page_without_its_items_is_an_error() {
    async fn lists() -> axum::Json<Value> {
        axum::Json(json!({"lists": [], "total_items": 0}))
    }
    let base_url = serve(Router::new().route("/lists", get(lists))).await;
    let mut pages = Paginator::offset(Request::get("lists?fields=lists.id"), "/members", 10);
    let error = pages.next_page(&client(&base_url)).await.unwrap_err();
    assert_eq!(error.to_string(), r#"GET /lists: the page has no item array at "/members""#);
}

/// A Yii2 API (Scaleo): `page` and `perPage`, the items inside an envelope,
/// and the paging only in `X-Pagination-*` headers. A page past the last is
/// answered with the last page again, as Yii2 clamps it, so only the header
/// total can end the read.
async fn yii2_affiliates(Query(params): Params) -> (HeaderMap, axum::Json<Value>) {
    let per_page = number(&params, "perPage").unwrap_or(10).min(1000);
    let all = ids("aff", 23);
    let page_count = all.len().div_ceil(per_page);
    let page = number(&params, "page").unwrap_or(1).clamp(1, page_count);
    let items: Vec<Value> = all.iter().skip((page - 1) * per_page).take(per_page).map(|id| json!({"id": id})).collect();
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("x-pagination-current-page", page),
        ("x-pagination-page-count", page_count),
        ("x-pagination-per-page", per_page),
        ("x-pagination-total-count", all.len()),
    ] {
        headers.insert(name, value.into());
    }
    let body = json!({"status": "success", "code": 200, "name": "OK", "message": "Affiliates List",
                      "info": {"affiliates": items}});
    (headers, axum::Json(body))
}

fn yii2_pages(page_size: u32) -> Paginator {
    let style = PageStyle::PageNumber { page_param: "page".into(), count_param: "perPage".into(), total_pointer: None };
    Paginator::new(Request::get("api/v2/network/affiliates"), style, "/info/affiliates", page_size)
        .total_header("X-Pagination-Total-Count")
}

#[tokio::test]
async fn a_total_in_a_header_ends_page_number_paging() {
    let base_url = serve(Router::new().route("/api/v2/network/affiliates", get(yii2_affiliates))).await;
    let client = client(&base_url);
    for size in [5, 10, 23, 1000] {
        check(&client, || yii2_pages(size), "id", &ids("aff", 23)).await;
    }
    let mut pages = yii2_pages(10);
    let first = pages.next_page(&client).await.unwrap().unwrap();
    assert_eq!((first.total, first.done), (Some(23), false));
    // Full pages end the read once the header's total is reached: no
    // request past the last page, which Yii2 would answer with the last
    // page again.
    let (_, cursors) = read_all(&client, yii2_pages(10), "id").await;
    assert_eq!(cursors.len(), 3);
    let (_, cursors) = read_all(&client, yii2_pages(23), "id").await;
    assert_eq!(cursors.len(), 1);
}

#[tokio::test]
async fn without_the_total_header_a_yii2_read_does_not_run_past_the_end() {
    // Without the header total a full last page asks once more, gets the
    // last page again, and the repeat check stops the read with an error
    // rather than a duplicate: what the header total avoids.
    let base_url = serve(Router::new().route("/api/v2/network/affiliates", get(yii2_affiliates))).await;
    let client = client(&base_url);
    let style = PageStyle::PageNumber { page_param: "page".into(), count_param: "perPage".into(), total_pointer: None };
    let mut pages = Paginator::new(Request::get("api/v2/network/affiliates"), style, "/info/affiliates", 23);
    assert_eq!(pages.next_page(&client).await.unwrap().unwrap().items.len(), 23);
    let error = pages.next_page(&client).await.unwrap_err();
    assert!(matches!(error, HttpError::EndlessPaging { .. }), "{error}");
}

#[tokio::test]
async fn relative_next_links_in_the_body_are_followed() {
    // Partnerize's cursor mode: `hypermedia.pagination.next_page` is a
    // relative URI carrying the next `cursor_id`.
    async fn conversions(Query(params): Params) -> axum::Json<Value> {
        let start =
            params.get("cursor_id").filter(|cursor| !cursor.is_empty()).map_or(0, |cursor| cursor.parse().unwrap());
        let limit = number(&params, "limit").unwrap();
        let all = ids("c", 8);
        let page: Vec<Value> = all.iter().skip(start).take(limit).map(|id| json!({"id": id})).collect();
        let end = start + page.len();
        let next = (end < all.len()).then(|| format!("/v1/conversion.json?cursor_id={end}&limit={limit}"));
        axum::Json(json!({"conversions": page, "hypermedia": {"pagination": {"next_page": next}}}))
    }
    let base_url = serve(Router::new().route("/v1/conversion.json", get(conversions))).await;
    let client = client(&format!("{base_url}v1/"));
    let make = || {
        let style = cutover_http::PageStyle::NextLink {
            next_pointer: "/hypermedia/pagination/next_page".into(),
            size_param: Some("limit".into()),
        };
        Paginator::new(Request::get("conversion.json").query("cursor_id", ""), style, "/conversions", 3)
    };
    check(&client, make, "id", &ids("c", 8)).await;
}
