//! The router, and the network's resources: affiliates, offers (with their
//! goals and landing pages), offer access (tracking links) and promo codes;
//! the affiliate role's own profile; the shared country list.
//!
//! Paths marked \[NC\] in `shared/platforms/scaleo.md` follow its stated
//! design: `POST /api/v2/network/affiliates`, `GET`/`POST`/`PUT
//! /api/v2/network/offers[/{id}]`, `POST /api/v2/network/offers/{id}/links`,
//! `GET`/`POST /api/v2/network/offers/{id}/affiliates-access` (an access is
//! upserted on offer, affiliate and landing page) and
//! `/api/v2/network/promo-codes`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use chrono::Utc;
use cutover_emulator_kit::paging::endless_header_pages;
use cutover_emulator_kit::people;
use cutover_emulator_kit::ratelimit::{Tier, WindowLimiter};
use cutover_emulator_kit::store::{read, write};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::body::{Body, Given};
use crate::gate::{Gate, gate};
use crate::model::{Access, Affiliate, Goal, LandingPage, NextIds, Offer, PayoutType, PromoCode, Store};
use crate::query;
use crate::state::ScaleoState;
use crate::vendor::{ApiError, ok, success};
use crate::{billing, reports};

/// What every handler shares.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) state: ScaleoState,
}

pub(crate) type AppState = State<Arc<App>>;

/// A handler's answer: the response, or an error in the envelope.
pub(crate) type Answer = Result<Response, ApiError>;

/// The API router (every route behind the gate) and the control routes.
pub(crate) fn router(state: ScaleoState, tier: Tier) -> (Router, Router) {
    let gate_state = {
        let store = read(state.store());
        Gate {
            network_key: store.network_key.as_str().into(),
            affiliate_key: store.affiliate_key.as_str().into(),
            disabled_key: store.disabled_key.as_str().into(),
            tier,
            limiter: Arc::new(WindowLimiter::default()),
        }
    };
    let app = Arc::new(App { state: state.clone() });
    let api = Router::new()
        .route("/api/v2/network/affiliates", get(list_affiliates).post(create_affiliate))
        .route("/api/v2/network/affiliates/{id}", get(get_affiliate).put(update_affiliate))
        .route("/api/v2/network/offers", get(list_offers).post(create_offer))
        .route("/api/v2/network/offers/{id}", get(get_offer).put(update_offer))
        .route("/api/v2/network/offers/{id}/links", post(create_landing_page))
        .route("/api/v2/network/offers/{id}/affiliates-access", get(list_access).post(upsert_access))
        .route("/api/v2/network/promo-codes", get(list_promo_codes).post(create_promo_code))
        .route("/api/v2/network/promo-codes/{id}", get(get_promo_code).put(update_promo_code))
        .route("/api/v2/network/reports/clicks", post(reports::clicks))
        .route("/api/v2/network/reports/clicks/options", get(reports::click_columns))
        .route("/api/v2/network/reports/conversions", post(reports::conversions))
        .route("/api/v2/network/reports/conversions/change-status", post(reports::change_status))
        .route("/api/v2/network/tracking/conversion", post(reports::create_conversion))
        .route("/api/v2/network/tracking/conv-click-id", post(reports::create_conversion_by_click))
        .route("/api/v2/network/aff-billing/invoices", get(billing::list).post(billing::create))
        .route("/api/v2/network/aff-billing/invoices/{id}", get(billing::get_one).put(billing::update))
        .route("/api/v2/affiliate/profile", get(affiliate_profile))
        .route("/api/v2/common/lists/countries", get(countries))
        .fallback(not_found)
        .with_state(app)
        .layer(middleware::from_fn(endless_header_pages))
        .layer(middleware::from_fn_with_state(gate_state, gate));
    let control = Router::new().route("/seeded", get(move || async move { Json(state.counts()) }));
    (api, control)
}

async fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "Page not found.").into_response()
}

fn answer(result: Answer) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

fn id_of(raw: &str, what: &str) -> Result<u64, ApiError> {
    raw.parse::<u64>().map_err(|_| ApiError::not_found(what))
}

// Affiliates.

const AFFILIATE_FIELDS: &[&str] = &[
    "id",
    "email",
    "firstname",
    "lastname",
    "company_name",
    "phone",
    "website_url",
    "status",
    "api_status",
    "country",
    "region",
    "city",
    "postal_code",
    "timezone",
    "referred_by",
    "external_id",
    "created_at",
    "updated_at",
];

const AFFILIATE_WRITABLE: &[&str] = &[
    "email",
    "password",
    "password_repeat",
    "company_name",
    "firstname",
    "lastname",
    "phone",
    "website_url",
    "status",
    "api_status",
    "country",
    "region",
    "city",
    "address",
    "postal_code",
    "timezone",
    "number_format_id",
    "date_format_id",
    "contacts",
    "notes",
    "internal_notes",
    "payment_details",
    "referred_by",
    "referral_commission",
    "managers",
    "custom_fields",
    "tags",
    "traffic_sources",
    "image",
    "external_id",
    "trafficback_url",
    "login_redirect_url",
    "send_welcome_email",
    "send_verification_email",
    "ip",
];

async fn list_affiliates(State(app): AppState, uri: Uri) -> Response {
    answer((|| -> Answer {
        let query = query::parse(&uri, AFFILIATE_FIELDS, ("id", false))?;
        let items = read(app.state.store()).affiliates.values().map(Affiliate::to_json).collect();
        Ok(query.answer("Affiliates List", "affiliates", items))
    })())
}

async fn get_affiliate(State(app): AppState, Path(id): Path<String>) -> Response {
    answer((|| -> Answer {
        let id = id_of(&id, "Affiliate")?;
        let store = read(app.state.store());
        let affiliate = store.affiliates.get(&id).ok_or_else(|| ApiError::not_found("Affiliate"))?;
        Ok(ok("Affiliate", "affiliate", affiliate.to_json()))
    })())
}

async fn create_affiliate(State(app): AppState, body: Bytes) -> Response {
    answer((|| -> Answer {
        let mut body = Body::parse(&body, AFFILIATE_WRITABLE)?;
        let mut store = write(app.state.store());
        let now = Utc::now();
        let mut affiliate = Affiliate {
            id: 0,
            email: String::new(),
            firstname: None,
            lastname: None,
            company_name: None,
            phone: None,
            website_url: None,
            status: 3,
            api_status: 2,
            country: None,
            region: None,
            city: None,
            address: None,
            postal_code: None,
            timezone: None,
            contacts: None,
            notes: None,
            internal_notes: None,
            payment_details: None,
            referred_by: None,
            referral_commission: Decimal::new(5, 0),
            managers_assigned: Vec::new(),
            custom_fields: serde_json::Map::new(),
            tags: Vec::new(),
            external_id: None,
            created_at: now,
            updated_at: now,
        };
        body.require("email");
        body.require("password");
        apply_affiliate(&mut body, &mut affiliate, &store, true);
        body.finish()?;
        affiliate.id = NextIds::take(&mut store.next_id.affiliate);
        let json = affiliate.to_json();
        store.affiliates.insert(affiliate.id, affiliate);
        Ok(success(StatusCode::CREATED, "Affiliate created", json!({"affiliate": json})))
    })())
}

async fn update_affiliate(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Response {
    answer((|| -> Answer {
        let id = id_of(&id, "Affiliate")?;
        let mut body = Body::parse(&body, AFFILIATE_WRITABLE)?;
        let mut store = write(app.state.store());
        let mut affiliate = store.affiliates.get(&id).cloned().ok_or_else(|| ApiError::not_found("Affiliate"))?;
        let before = affiliate.clone();
        apply_affiliate(&mut body, &mut affiliate, &store, false);
        body.finish()?;
        if affiliate != before {
            affiliate.updated_at = Utc::now();
        }
        let json = affiliate.to_json();
        store.affiliates.insert(id, affiliate);
        Ok(ok("Affiliate updated", "affiliate", json))
    })())
}

/// The affiliate's fields from a write, checked against the store.
fn apply_affiliate(body: &mut Body, affiliate: &mut Affiliate, store: &Store, creating: bool) {
    match body.text("email", 255) {
        Given::Value(email) if !people::is_valid_email(&email) => {
            body.errors.add("email", "Email is not a valid email address.");
        }
        Given::Value(email)
            if store.affiliate_by_email(&email).is_some_and(|other| other.id != affiliate.id || creating) =>
        {
            body.errors.add("email", "This email address has already been taken.");
        }
        Given::Value(email) => affiliate.email = email,
        Given::Null => body.errors.add("email", "Email cannot be blank."),
        Given::Absent => {}
    }
    if let Given::Value(password) = body.text("password", 255) {
        if password.chars().count() < 8 {
            body.errors.add("password", "Password should contain at least 8 characters.");
        }
        if let Some(repeat) = body.raw("password_repeat").and_then(Value::as_str)
            && repeat != password
        {
            body.errors.add("password_repeat", "Passwords do not match.");
        }
    }
    body.text("firstname", 255).apply(&mut affiliate.firstname);
    body.text("lastname", 255).apply(&mut affiliate.lastname);
    body.text("company_name", 255).apply(&mut affiliate.company_name);
    body.text("phone", 64).apply(&mut affiliate.phone);
    body.text("website_url", 255).apply(&mut affiliate.website_url);
    body.text("region", 255).apply(&mut affiliate.region);
    body.text("city", 255).apply(&mut affiliate.city);
    body.text("address", 255).apply(&mut affiliate.address);
    body.text("postal_code", 16).apply(&mut affiliate.postal_code);
    body.text("timezone", 64).apply(&mut affiliate.timezone);
    body.text("notes", 65_535).apply(&mut affiliate.notes);
    body.text("internal_notes", 65_535).apply(&mut affiliate.internal_notes);
    body.text("external_id", 255).apply(&mut affiliate.external_id);
    body.json_string("contacts").apply(&mut affiliate.contacts);
    body.json_string("payment_details").apply(&mut affiliate.payment_details);
    if let Given::Value(status) = body.choice("status", &[1, 2, 3, 4]) {
        affiliate.status = status;
    }
    if let Given::Value(api_status) = body.choice("api_status", &[1, 2]) {
        affiliate.api_status = api_status;
    }
    body.choice("send_welcome_email", &[1, 2]);
    body.choice("send_verification_email", &[1, 2]);
    match body.integer("country") {
        Given::Value(0) | Given::Null => affiliate.country = None,
        Given::Value(country) => affiliate.country = Some(country),
        Given::Absent => {}
    }
    match body.integer("referred_by") {
        Given::Value(sponsor) if sponsor == affiliate.id && !creating => {
            body.errors.add("referred_by", "An affiliate cannot refer itself.");
        }
        Given::Value(sponsor) if !store.affiliates.contains_key(&sponsor) => {
            body.errors.add("referred_by", "Referred By is invalid.");
        }
        given => given.apply(&mut affiliate.referred_by),
    }
    match body.decimal("referral_commission", (Decimal::ZERO, Decimal::ONE_HUNDRED)) {
        Given::Value(rate) => affiliate.referral_commission = rate,
        Given::Null => affiliate.referral_commission = Decimal::ZERO,
        Given::Absent => {}
    }
    match body.ids("managers") {
        Given::Value(managers) => affiliate.managers_assigned = managers,
        Given::Null => affiliate.managers_assigned.clear(),
        Given::Absent => {}
    }
    match body.object("custom_fields") {
        Given::Value(fields) => affiliate.custom_fields = fields,
        Given::Null => affiliate.custom_fields.clear(),
        Given::Absent => {}
    }
    match body.labels("tags") {
        Given::Value(tags) => affiliate.tags = tags,
        Given::Null => affiliate.tags.clear(),
        Given::Absent => {}
    }
}

async fn affiliate_profile(State(app): AppState) -> Response {
    let store = read(app.state.store());
    match store.affiliates.get(&store.key_affiliate_id) {
        Some(affiliate) => {
            let mut profile = affiliate.to_json();
            profile["api_key"] = Value::String(store.affiliate_key.clone());
            ok("Profile", "profile", profile)
        }
        None => ApiError::not_found("Profile").into_response(),
    }
}

async fn countries() -> Response {
    let countries: Vec<Value> = [
        (6252001, "US", "United States"),
        (2635167, "GB", "United Kingdom"),
        (2921044, "DE", "Germany"),
        (1861060, "JP", "Japan"),
    ]
    .iter()
    .map(|(id, code, title)| json!({"id": id, "code": code, "title": title}))
    .collect();
    ok("Countries", "countries", Value::Array(countries))
}

// Offers.

const OFFER_FIELDS: &[&str] =
    &["id", "title", "status", "visible_type", "currency", "c_lifespan", "external_id", "created_at", "updated_at"];

const OFFER_WRITABLE: &[&str] = &[
    "title",
    "description",
    "status",
    "visible_type",
    "currency",
    "c_lifespan",
    "url",
    "preview_url",
    "external_id",
    "goals",
    "advertiser_id",
    "categories_ids",
    "traffic_types",
];

async fn list_offers(State(app): AppState, uri: Uri) -> Response {
    answer((|| -> Answer {
        let query = query::parse(&uri, OFFER_FIELDS, ("id", false))?;
        let items = read(app.state.store()).offers.values().map(Offer::to_json).collect();
        Ok(query.answer("Offers List", "offers", items))
    })())
}

async fn get_offer(State(app): AppState, Path(id): Path<String>) -> Response {
    answer((|| -> Answer {
        let id = id_of(&id, "Offer")?;
        let store = read(app.state.store());
        let offer = store.offers.get(&id).ok_or_else(|| ApiError::not_found("Offer"))?;
        Ok(ok("Offer", "offer", offer.to_json()))
    })())
}

async fn create_offer(State(app): AppState, body: Bytes) -> Response {
    answer((|| -> Answer {
        let mut body = Body::parse(&body, OFFER_WRITABLE)?;
        let mut store = write(app.state.store());
        let now = Utc::now();
        let mut offer = Offer {
            id: 0,
            title: String::new(),
            description: None,
            status: 1,
            visible_type: 1,
            currency: "USD".into(),
            c_lifespan: Some(30),
            url: None,
            preview_url: None,
            external_id: None,
            goals: Vec::new(),
            links: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        body.require("title");
        apply_offer(&mut body, &mut offer, &mut store.next_id);
        body.finish()?;
        if offer.goals.is_empty() {
            offer.goals.push(Goal {
                id: NextIds::take(&mut store.next_id.goal),
                title: "Conversion".into(),
                alias: "default".into(),
                goal_type: 2,
                payout_type: PayoutType::Fixed,
                payout: Decimal::ZERO,
                revenue: Decimal::ZERO,
                is_default: true,
            });
        }
        offer.id = NextIds::take(&mut store.next_id.offer);
        let json = offer.to_json();
        store.offers.insert(offer.id, offer);
        Ok(success(StatusCode::CREATED, "Offer created", json!({"offer": json})))
    })())
}

async fn update_offer(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Response {
    answer((|| -> Answer {
        let id = id_of(&id, "Offer")?;
        let mut body = Body::parse(&body, OFFER_WRITABLE)?;
        let mut store = write(app.state.store());
        let mut offer = store.offers.get(&id).cloned().ok_or_else(|| ApiError::not_found("Offer"))?;
        let before = offer.clone();
        apply_offer(&mut body, &mut offer, &mut store.next_id);
        body.finish()?;
        if offer != before {
            offer.updated_at = Utc::now();
        }
        let json = offer.to_json();
        store.offers.insert(id, offer);
        Ok(ok("Offer updated", "offer", json))
    })())
}

fn apply_offer(body: &mut Body, offer: &mut Offer, next: &mut NextIds) {
    match body.text("title", 255) {
        Given::Value(title) if !title.trim().is_empty() => offer.title = title,
        Given::Value(_) | Given::Null => body.errors.add("title", "Title cannot be blank."),
        Given::Absent => {}
    }
    body.text("description", 65_535).apply(&mut offer.description);
    body.text("url", 2048).apply(&mut offer.url);
    body.text("preview_url", 2048).apply(&mut offer.preview_url);
    body.text("external_id", 255).apply(&mut offer.external_id);
    if let Given::Value(status) = body.choice("status", &[1, 3, 4]) {
        offer.status = status;
    }
    if let Given::Value(visible_type) = body.choice("visible_type", &[1, 2, 3]) {
        offer.visible_type = visible_type;
    }
    if let Given::Value(currency) = body.currency("currency") {
        offer.currency = currency;
    }
    match body.integer("c_lifespan") {
        Given::Value(days) => offer.c_lifespan = u32::try_from(days).ok(),
        Given::Null => offer.c_lifespan = None,
        Given::Absent => {}
    }
    let Some(Value::Array(goals)) = body.raw("goals").cloned() else {
        if body.raw("goals").is_some_and(|goals| !goals.is_null()) {
            body.errors.add("goals", "Goals must be a list.");
        }
        return;
    };
    let mut kept = Vec::new();
    for (index, goal) in goals.iter().enumerate() {
        let field = |name: &str| format!("goals.{index}.{name}");
        let text = |name: &str| goal.get(name).and_then(Value::as_str).map(str::to_owned);
        let alias = text("alias").unwrap_or_else(|| format!("goal{}", index + 1));
        let payout_type = text("payout_type").and_then(|name| PayoutType::parse(&name));
        let amount = |name: &str| match goal.get(name) {
            None | Some(Value::Null) => Some(Decimal::ZERO),
            Some(Value::String(text)) => text.parse::<Decimal>().ok(),
            Some(Value::Number(number)) => number.to_string().parse::<Decimal>().ok(),
            Some(_) => None,
        };
        let goal_type = goal.get("type").and_then(crate::body::integer_of).unwrap_or(2);
        let (Some(payout_type), Some(payout), Some(revenue)) = (payout_type, amount("payout"), amount("revenue"))
        else {
            body.errors.add(&field("payout"), "A goal needs payout_type fixed or percent and numeric amounts.");
            continue;
        };
        if !(1..=5).contains(&goal_type) {
            body.errors.add(&field("type"), "Type is invalid.");
            continue;
        }
        if payout_type == PayoutType::Percent && (payout < Decimal::ZERO || payout > Decimal::ONE_HUNDRED) {
            body.errors.add(&field("payout"), "A percentage is between 0 and 100.");
            continue;
        }
        let id = offer
            .goals
            .iter()
            .find(|known| known.alias == alias)
            .map_or_else(|| NextIds::take(&mut next.goal), |known| known.id);
        kept.push(Goal {
            id,
            title: text("title").unwrap_or_else(|| "Conversion".into()),
            alias,
            goal_type: u8::try_from(goal_type).unwrap_or(2),
            payout_type,
            payout,
            revenue,
            is_default: goal.get("is_default").and_then(crate::body::integer_of).is_some_and(|flag| flag == 1),
        });
    }
    if !kept.is_empty() && !kept.iter().any(|goal| goal.is_default) {
        kept[0].is_default = true;
    }
    offer.goals = kept;
}

async fn create_landing_page(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Response {
    answer((|| -> Answer {
        let offer_id = id_of(&id, "Offer")?;
        let mut body = Body::parse(&body, &["title", "url", "status"])?;
        body.require("url");
        let title = body.text("title", 255).value();
        let url = body.text("url", 2048).value();
        let status = body.choice("status", &[1, 2]).value().unwrap_or(1);
        body.finish()?;
        let mut store = write(app.state.store());
        if !store.offers.contains_key(&offer_id) {
            return Err(ApiError::not_found("Offer"));
        }
        let now = Utc::now();
        let link = LandingPage {
            id: NextIds::take(&mut store.next_id.link),
            offer_id,
            title: title.unwrap_or_else(|| "Landing page".into()),
            url: url.unwrap_or_default(),
            status,
            created: now.timestamp(),
            updated: now.timestamp(),
        };
        let json =
            json!({"id": link.id, "offer_id": offer_id, "title": link.title, "url": link.url, "status": link.status});
        if let Some(offer) = store.offers.get_mut(&offer_id) {
            offer.links.push(link);
            offer.updated_at = now;
        }
        Ok(success(StatusCode::CREATED, "Link created", json!({"link": json})))
    })())
}

// Offer access (tracking links).

const ACCESS_FIELDS: &[&str] = &["id", "offer_id", "affiliate_id", "link_id", "status", "created_at", "updated_at"];

async fn list_access(State(app): AppState, Path(id): Path<String>, uri: Uri) -> Response {
    answer((|| -> Answer {
        let offer_id = id_of(&id, "Offer")?;
        let query = query::parse(&uri, ACCESS_FIELDS, ("id", false))?;
        let store = read(app.state.store());
        if !store.offers.contains_key(&offer_id) {
            return Err(ApiError::not_found("Offer"));
        }
        let items = store.access.values().filter(|access| access.offer_id == offer_id).map(Access::to_json).collect();
        Ok(query.answer("Affiliates Access", "access", items))
    })())
}

async fn upsert_access(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Response {
    answer((|| -> Answer {
        let offer_id = id_of(&id, "Offer")?;
        let mut body = Body::parse(&body, &["affiliate_id", "link_id", "status"])?;
        body.require("affiliate_id");
        let affiliate_id = body.integer("affiliate_id").value();
        let link_id = body.integer("link_id").value();
        let status = body.word("status", &["approved", "pending", "rejected"]).value();
        let mut store = write(app.state.store());
        let Some(offer) = store.offers.get(&offer_id) else {
            return Err(ApiError::not_found("Offer"));
        };
        if let Some(link) = link_id
            && !offer.links.iter().any(|known| known.id == link)
        {
            body.errors.add("link_id", "Link Id is invalid.");
        }
        if let Some(affiliate) = affiliate_id
            && !store.affiliates.contains_key(&affiliate)
        {
            body.errors.add("affiliate_id", "Affiliate Id is invalid.");
        }
        body.finish()?;
        let affiliate_id = affiliate_id.unwrap_or_default();
        let now = Utc::now();
        let existing = store.access.values_mut().find(|access| {
            access.offer_id == offer_id && access.affiliate_id == affiliate_id && access.link_id == link_id
        });
        let (status_code, json) = match existing {
            Some(access) => {
                if let Some(status) = status
                    && status != access.status
                {
                    access.status = status;
                    access.updated_at = now;
                }
                (StatusCode::OK, access.to_json())
            }
            None => {
                let id = NextIds::take(&mut store.next_id.access);
                let access = Access {
                    id,
                    offer_id,
                    affiliate_id,
                    link_id,
                    status: status.unwrap_or_else(|| "approved".into()),
                    created_at: now,
                    updated_at: now,
                };
                let json = access.to_json();
                store.access.insert(id, access);
                (StatusCode::CREATED, json)
            }
        };
        Ok(success(status_code, "Access saved", json!({"access": json})))
    })())
}

// Promo codes.

const PROMO_CODE_FIELDS: &[&str] =
    &["id", "code", "offer_id", "affiliate_id", "status", "discount_type", "currency", "created_at", "updated_at"];

const PROMO_CODE_WRITABLE: &[&str] =
    &["code", "offer_id", "affiliate_id", "status", "discount_type", "discount_value", "currency"];

async fn list_promo_codes(State(app): AppState, uri: Uri) -> Response {
    answer((|| -> Answer {
        let query = query::parse(&uri, PROMO_CODE_FIELDS, ("id", false))?;
        let items = read(app.state.store()).promo_codes.values().map(PromoCode::to_json).collect();
        Ok(query.answer("Promo Codes", "promo_codes", items))
    })())
}

async fn get_promo_code(State(app): AppState, Path(id): Path<String>) -> Response {
    answer((|| -> Answer {
        let id = id_of(&id, "Promo code")?;
        let store = read(app.state.store());
        let code = store.promo_codes.get(&id).ok_or_else(|| ApiError::not_found("Promo code"))?;
        Ok(ok("Promo code", "promo_code", code.to_json()))
    })())
}

async fn create_promo_code(State(app): AppState, body: Bytes) -> Response {
    answer((|| -> Answer {
        let mut body = Body::parse(&body, PROMO_CODE_WRITABLE)?;
        body.require("code");
        body.require("affiliate_id");
        let mut store = write(app.state.store());
        let now = Utc::now();
        let mut code = PromoCode {
            id: 0,
            code: String::new(),
            offer_id: None,
            affiliate_id: 0,
            status: 1,
            discount_type: None,
            discount_value: None,
            currency: None,
            created_at: now,
            updated_at: now,
        };
        apply_promo_code(&mut body, &mut code, &store);
        body.finish()?;
        code.id = NextIds::take(&mut store.next_id.promo_code);
        let json = code.to_json();
        store.promo_codes.insert(code.id, code);
        Ok(success(StatusCode::CREATED, "Promo code created", json!({"promo_code": json})))
    })())
}

async fn update_promo_code(State(app): AppState, Path(id): Path<String>, body: Bytes) -> Response {
    answer((|| -> Answer {
        let id = id_of(&id, "Promo code")?;
        let mut body = Body::parse(&body, PROMO_CODE_WRITABLE)?;
        let mut store = write(app.state.store());
        let mut code = store.promo_codes.get(&id).cloned().ok_or_else(|| ApiError::not_found("Promo code"))?;
        let before = code.clone();
        apply_promo_code(&mut body, &mut code, &store);
        body.finish()?;
        if code != before {
            code.updated_at = Utc::now();
        }
        let json = code.to_json();
        store.promo_codes.insert(id, code);
        Ok(ok("Promo code updated", "promo_code", json))
    })())
}

fn apply_promo_code(body: &mut Body, code: &mut PromoCode, store: &Store) {
    match body.text("code", 64) {
        Given::Value(text) if text.trim().is_empty() => body.errors.add("code", "Code cannot be blank."),
        Given::Value(text)
            if store
                .promo_codes
                .values()
                .any(|other| other.id != code.id && other.code.to_lowercase() == text.to_lowercase()) =>
        {
            body.errors.add("code", "This promo code has already been taken.");
        }
        Given::Value(text) => code.code = text,
        Given::Null => body.errors.add("code", "Code cannot be blank."),
        Given::Absent => {}
    }
    match body.integer("affiliate_id") {
        Given::Value(id) if store.affiliates.contains_key(&id) => code.affiliate_id = id,
        Given::Value(_) => body.errors.add("affiliate_id", "Affiliate Id is invalid."),
        Given::Null => body.errors.add("affiliate_id", "Affiliate Id cannot be blank."),
        Given::Absent => {}
    }
    match body.integer("offer_id") {
        Given::Value(0) | Given::Null => code.offer_id = None,
        Given::Value(id) if store.offers.contains_key(&id) => code.offer_id = Some(id),
        Given::Value(_) => body.errors.add("offer_id", "Offer Id is invalid."),
        Given::Absent => {}
    }
    if let Given::Value(status) = body.choice("status", &[1, 2]) {
        code.status = status;
    }
    body.word("discount_type", &["percent", "fixed"]).apply(&mut code.discount_type);
    body.decimal("discount_value", (Decimal::ZERO, Decimal::new(1_000_000_000, 0))).apply(&mut code.discount_value);
    body.currency("currency").apply(&mut code.currency);
    if code.discount_type.as_deref() == Some("percent")
        && code.discount_value.is_some_and(|value| value > Decimal::ONE_HUNDRED)
    {
        body.errors.add("discount_value", "A percentage is between 0 and 100.");
    }
}
