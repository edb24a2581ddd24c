//! The API's routes, by URL generation, behind the gate (both keys, the
//! token bucket); an unknown path is the generation's 404
//! (`routing_error`), a known path with another verb its 405.

pub mod campaigns;
pub mod links;
pub mod partners;
pub mod queries;
pub mod reports;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use cutover_emulator_kit::query::Params;
use cutover_emulator_kit::{FaultConfig, PagingLoop, Vendor};
use serde_json::Value;

use crate::Account;
use crate::gate::{Gate, gate};
use crate::vendor::{self, Generation, PartnerizeApi, Problem};

/// Every route of the API, with `account` as their state, behind `keys`.
pub fn api(account: Account, keys: Gate) -> Router {
    Router::new()
        // v1: partners
        .route("/network/{network_id}/publisher", get(partners::list_network).post(partners::set_network_status))
        .route("/user/publisher", post(partners::create))
        .route("/user/publisher/{publisher_id}", get(partners::get_one).post(partners::update))
        .route(
            "/user/publisher/{publisher_id}/payment_detail",
            get(partners::payment_details).post(partners::set_payment_detail),
        )
        .route("/user/publisher/{publisher_id}/commission_group", get(partners::commission_groups))
        .route("/user/publisher/{publisher_id}/selfbill", get(partners::selfbills))
        .route("/user/publisher/{publisher_id}/tq", get(queries::list))
        .route("/user/publisher/{publisher_id}/tq/create", post(queries::create))
        // v1: campaigns, participations, commission groups, vouchers, transaction queries
        .route("/campaign", get(campaigns::list_v1).post(campaigns::create))
        .route("/user/advertiser/{advertiser_id}/campaign", get(campaigns::list_of_advertiser))
        .route("/campaign/{campaign_id}", get(campaigns::get_v1).put(campaigns::update_v1).post(campaigns::retire))
        .route("/campaign/{campaign_id}/publisher", get(campaigns::participations).post(campaigns::set_participations))
        .route("/campaign/{campaign_id}/publisher/{publisher_id}", get(campaigns::participation))
        .route("/campaign/{campaign_id}/commission_group", get(campaigns::groups_of_campaign))
        .route("/commission_group", post(campaigns::write_groups).put(campaigns::write_groups))
        .route(
            "/campaign/{campaign_id}/voucher_code",
            get(links::vouchers).post(links::write_vouchers).put(links::write_vouchers),
        )
        .route("/campaign/{campaign_id}/voucher_code/{voucher_code_id}", get(links::voucher))
        .route("/campaign/{campaign_id}/tq/{transaction_query_id}/{action}", post(queries::decide))
        .route("/job/{job_id}", get(queries::v1_job))
        .route("/job/{job_id}/{file}", get(queries::v1_job_response))
        // v1: reports
        .route("/reporting/report_advertiser/campaign/{campaign_id}/{report}", get(reports::report))
        // v2
        .route("/v2/networks/{network_id}/publishers", get(partners::search))
        .route("/v2/publishers/{publisher_id}/links", get(links::list).post(links::create))
        .route("/v2/publishers/{publisher_id}/links/{link_id}", get(links::get_one).patch(links::patch))
        // v3
        .route("/v3/brand/campaigns", get(campaigns::list_v3))
        .route("/v3/brand/campaigns/{campaign_id}", get(campaigns::get_v3).patch(campaigns::patch_v3))
        .route("/v3/brand/campaigns/{campaign_id}/conversions/bulk", post(queries::bulk))
        .route("/v3/network/{network_id}/commission-groups", get(campaigns::groups_of_network))
        .route("/v3/jobs/{job_id}", get(queries::v3_job))
        .route("/v3/jobs/{job_id}/tasks", get(queries::v3_tasks))
        .route("/v3/jobs/{job_id}/replay", post(queries::v3_replay))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_verb)
        .layer(middleware::from_fn(endless_pages))
        .layer(middleware::from_fn_with_state(keys, gate))
        .with_state(account)
}

async fn no_route(uri: Uri) -> Response {
    let kind = if Generation::of(uri.path()) == Generation::V1 { "404" } else { "routing_error" };
    vendor::error(
        Generation::of(uri.path()),
        StatusCode::NOT_FOUND,
        vec![Problem::new("", kind, format!("No route found for {}", uri.path()))],
    )
}

async fn wrong_verb(method: Method, uri: Uri) -> Response {
    vendor::error(
        Generation::of(uri.path()),
        StatusCode::METHOD_NOT_ALLOWED,
        vec![Problem::new("", "routing_error", format!("{method} is not allowed on {}", uri.path()))],
    )
}

/// [`FaultConfig::paging_loop`] for Partnerize's paging: an offset page is
/// always the first one while `total_item_count` claims a trillion items,
/// and a cursor page's `next_page` points back at itself.
async fn endless_pages(mut request: Request, next: Next) -> Response {
    if request.extensions().get::<PagingLoop>().is_none() || request.method() != Method::GET {
        return next.run(request).await;
    }
    let uri = request.uri().clone();
    let cursor_mode = Params::from_uri(&uri).get("cursor_id").is_some();
    if !cursor_mode && PartnerizeApi::page_index(&uri).is_some() {
        let first = Params::from_uri(&uri).with("offset", Some("0"));
        if let Ok(rewritten) = format!("{}?{first}", uri.path()).parse::<Uri>() {
            *request.uri_mut() = rewritten;
        }
    }
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let Ok(mut document) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if let Some(pagination) = document.pointer_mut("/hypermedia/pagination") {
        if cursor_mode {
            pagination["next_page"] = Value::from(uri.to_string());
        } else if pagination.get("total_item_count").is_some() {
            // The same page every time, so a client can see it repeat.
            pagination["total_item_count"] = Value::from(FaultConfig::ENDLESS_TOTAL_ITEMS);
        }
    }
    let mut response = Response::from_parts(parts, Body::from(document.to_string()));
    response.headers_mut().remove(axum::http::header::CONTENT_LENGTH);
    response
}
