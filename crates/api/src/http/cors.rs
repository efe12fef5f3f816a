//! CORS for browsers calling `/graphql` from the configured origins.

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::request_span::{REQUEST_ID_HEADER, TRACEPARENT_HEADER};

/// The CORS layer for `allowed_origins` (`*` for any); `None` when the list is empty: then no
/// CORS headers at all.
pub(super) fn cors_layer(allowed_origins: &[String]) -> Option<CorsLayer> {
    if allowed_origins.is_empty() {
        return None;
    }
    let allow_origin = if allowed_origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            allowed_origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin.trim_end_matches('/')).ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                HeaderName::from_static(REQUEST_ID_HEADER),
                HeaderName::from_static("apollo-require-preflight"),
                HeaderName::from_static("x-apollo-operation-name"),
                HeaderName::from_static("apollographql-client-name"),
                HeaderName::from_static("apollographql-client-version"),
                // W3C trace context and baggage, sent by browsers that trace their requests.
                HeaderName::from_static(TRACEPARENT_HEADER),
                HeaderName::from_static("tracestate"),
                HeaderName::from_static("baggage"),
            ])
            .expose_headers([HeaderName::from_static(REQUEST_ID_HEADER)])
            .max_age(std::time::Duration::from_secs(600)),
    )
}
