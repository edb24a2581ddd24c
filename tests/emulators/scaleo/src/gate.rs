//! What every API request passes before its route: the `api-key` query
//! parameter, the role its key is bound to (a key may only call its own
//! role's path prefix), the user's `api_status`, and the rate limit, a
//! token bucket per key.
//!
//! Scaleo publishes no rate-limit numbers or headers; the emulator's design
//! (`shared/platforms/scaleo.md` §10) is a bucket per key: by default 20
//! requests a second and 1200 a minute, over which it answers 429 in the
//! envelope with `Retry-After` in seconds, and no `RateLimit-*` headers on
//! the answers it lets through.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cutover_emulator_kit::auth::QueryKey;
use cutover_emulator_kit::ratelimit::{Tier, Verdict, WindowLimiter};
use cutover_emulator_kit::{AuthFailure, ErrorBody};

use crate::vendor::{ApiError, Scaleo};

/// The name of the query parameter that carries the key.
pub const KEY_PARAMETER: &str = "api-key";

/// The role a key is bound to, and the path prefix it may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Network,
    Affiliate,
}

impl Role {
    fn prefix(self) -> &'static str {
        match self {
            Role::Network => "/api/v2/network/",
            Role::Affiliate => "/api/v2/affiliate/",
        }
    }
}

/// The keys the emulator knows and the limiter in front of them.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    pub(crate) network_key: Arc<str>,
    pub(crate) affiliate_key: Arc<str>,
    pub(crate) disabled_key: Arc<str>,
    pub(crate) tier: Tier,
    pub(crate) limiter: Arc<WindowLimiter>,
}

/// Why a key is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    /// No key, or an empty one.
    Missing,
    /// A key the network does not know.
    Invalid,
    /// The key of a user whose `api_status` is 2.
    Disabled,
}

impl Refused {
    fn answer(self) -> Response {
        match self {
            Refused::Missing => Scaleo::unauthorized(AuthFailure::Missing),
            Refused::Invalid => Scaleo::unauthorized(AuthFailure::Invalid),
            Refused::Disabled => {
                ApiError::new(StatusCode::UNAUTHORIZED, "API access is disabled for this user (api_status 2).")
                    .into_response()
            }
        }
    }
}

impl Gate {
    fn role(&self, key: &str) -> Result<Role, Refused> {
        if key.is_empty() {
            Err(Refused::Missing)
        } else if key == &*self.network_key {
            Ok(Role::Network)
        } else if key == &*self.affiliate_key {
            Ok(Role::Affiliate)
        } else if key == &*self.disabled_key {
            Err(Refused::Disabled)
        } else {
            Err(Refused::Invalid)
        }
    }
}

/// Middleware: the key, its role and the rate limit, in that order.
pub(crate) async fn gate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let presented = QueryKey::new(KEY_PARAMETER, "").presented(request.uri());
    let Some(key) = presented else {
        return Scaleo::unauthorized(AuthFailure::Missing);
    };
    let role = match gate.role(&key) {
        Ok(role) => role,
        Err(refused) => return refused.answer(),
    };
    let path = request.uri().path();
    if !path.starts_with(role.prefix()) && !path.starts_with("/api/v2/common/") {
        return ApiError::new(StatusCode::FORBIDDEN, "You are not allowed to perform this action.").into_response();
    }
    match gate.limiter.check(&key, gate.tier, Instant::now()) {
        Verdict::Throttled { retry_after_seconds } => Scaleo::too_many_requests(Some(retry_after_seconds)),
        Verdict::Allowed { .. } => next.run(request).await,
    }
}
