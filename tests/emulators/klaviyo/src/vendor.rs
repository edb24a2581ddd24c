//! What the kit knows of Klaviyo: its name, its paging style (JSON:API
//! cursor links), its trailing slashes, and the answers the kit gives on
//! its behalf.

use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use cutover_emulator_kit::paging::Cursor;
use cutover_emulator_kit::{AuthFailure, ErrorBody, Vendor};

use crate::errors::{KlError, server_error, throttled};

/// Klaviyo's dated-revision API, for the kit.
#[derive(Debug)]
pub(crate) struct Klaviyo;

impl Vendor for Klaviyo {
    const NAME: &'static str = "klaviyo";

    /// Klaviyo writes resource links with a trailing slash (`/api/profiles/`)
    /// and accepts paths either way; the routes are declared without one.
    const TRAILING_SLASH_UNDER: Option<&'static str> = Some("/api/");

    /// The cursor's page number, or 0 for a first page that names a size.
    fn page_index(uri: &Uri) -> Option<u64> {
        Cursor::page_index(uri)
    }
}

impl ErrorBody for Klaviyo {
    fn unauthorized(failure: AuthFailure) -> Response {
        match failure {
            AuthFailure::Missing => KlError::not_authenticated().into_response(),
            AuthFailure::Invalid => KlError::authentication_failed().into_response(),
        }
    }

    /// `throttled`, with `Retry-After: 1` when no wait is told.
    fn too_many_requests(retry_after: Option<u64>) -> Response {
        throttled(retry_after.unwrap_or(1))
    }

    fn server_error(status: u16) -> Response {
        server_error(status)
    }
}
