//! The router's shared secret: when `router_secret` is set, `/graphql` answers only requests
//! that carry it.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use carematch_domain::ErrorCode;

use super::RouterState;
use super::response::{error_response, response_format};

/// The header carrying the router's shared secret when `router_secret` is set.
pub const ROUTER_SECRET_HEADER: &str = "x-router-secret";

pub(super) async fn require_router_secret(
    State(state): State<RouterState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(secret) = &state.options.router_secret {
        let sent = request
            .headers()
            .get(ROUTER_SECRET_HEADER)
            .map(HeaderValue::as_bytes);
        if !sent.is_some_and(|sent| constant_time_equal(sent, secret.0.as_bytes())) {
            return error_response(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "this subgraph answers only its router: x-router-secret is missing or wrong",
                response_format(request.headers()),
            );
        }
    }
    next.run(request).await
}

/// Compares without stopping at the first difference, so timing does not reveal the secret.
fn constant_time_equal(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0_u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_router_secret_comparison_needs_every_byte() {
        assert!(constant_time_equal(b"secret-value", b"secret-value"));
        assert!(!constant_time_equal(b"secret-value", b"secret-valuf"));
        assert!(!constant_time_equal(b"secret", b"secret-value"));
    }
}
