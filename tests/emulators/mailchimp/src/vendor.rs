//! What the kit knows of Mailchimp: its name, its paging style (offset and
//! count, at most 1000), and the answers the kit gives on its behalf.

use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use cutover_emulator_kit::paging::OffsetCount;
use cutover_emulator_kit::{AuthFailure, ErrorBody, Vendor};

use crate::errors::{McError, server_error, too_many_connections};

/// Offset paging: 10 items by default, at most 1000 (`count` above is a 400
/// rather than a silent cap).
pub(crate) const PAGING: OffsetCount = OffsetCount { default_count: 10, max_count: 1000 };

/// The Mailchimp Marketing API 3.0, for the kit.
#[derive(Debug)]
pub(crate) struct Mailchimp;

impl Vendor for Mailchimp {
    const NAME: &'static str = "mailchimp";

    /// `offset / count`, when the request pages.
    fn page_index(uri: &Uri) -> Option<u64> {
        PAGING.page_index(uri)
    }
}

impl ErrorBody for Mailchimp {
    fn unauthorized(failure: AuthFailure) -> Response {
        match failure {
            AuthFailure::Missing => McError::ApiKeyMissing.into_response(),
            AuthFailure::Invalid => McError::ApiKeyInvalid.into_response(),
        }
    }

    /// Mailchimp's `TooManyRequests` over the connection cap; with a wait
    /// only when one is told.
    fn too_many_requests(retry_after: Option<u64>) -> Response {
        let mut response = too_many_connections();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }

    fn server_error(status: u16) -> Response {
        server_error(status)
    }
}
