//! What every handler shares: the [`App`] state, paging, and how answers are
//! rendered (sparse fields, collection links).

use std::sync::Arc;

use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use cutover_emulator_kit::paging::OffsetError;
use cutover_emulator_kit::query::Params;
use serde_json::{Value, json};

use crate::errors::McError;
use crate::fields;
use crate::model::link;
use crate::state::MailchimpState;
use crate::vendor::PAGING;

/// The handlers' state.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) state: MailchimpState,
    /// The base URL links start with.
    pub(crate) base: String,
    /// Builds the authenticated `/3.0/` routes, which `POST /batches` runs
    /// its operations through: handed in by [`crate::routes`], so the
    /// batches do not depend on the routes that include them.
    pub(crate) api: fn(Arc<App>) -> Router,
}

pub(crate) type AppState = State<Arc<App>>;

/// A JSON answer trimmed by the request's `fields` and `exclude_fields`.
pub(crate) fn respond(uri: &Uri, body: Value) -> Response {
    Json(fields::apply(&Params::from_uri(uri), body)).into_response()
}

/// The request's `(offset, count)`, refused in Mailchimp's words.
pub(crate) fn paging(params: &Params) -> Result<(usize, usize), McError> {
    PAGING.parse(params).map_err(|error| match error {
        OffsetError::NotANumber { parameter } => {
            McError::BadRequest(format!("The parameter {parameter} must be a non-negative integer."))
        }
        OffsetError::TooLarge { count, max } => {
            McError::BadRequest(format!("The parameter count must be at most {max}; {count} was given."))
        }
    })
}

/// The items of one page and the total, in one pass.
pub(crate) fn page<T>(items: impl Iterator<Item = T>, offset: usize, count: usize) -> (Vec<T>, usize) {
    PAGING.page(items, offset, count)
}

/// A collection's `_links`: itself.
pub(crate) fn collection_links(base: &str, path: &str, schema: &str) -> Value {
    json!([link("self", &format!("{base}/3.0/{path}"), "GET", schema),])
}
