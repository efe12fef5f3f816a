//! Step 2: a repeated public query answered from the bytes of its last answer, before it is
//! parsed (see `replay` for what is kept and what a replay logs).

use std::time::Instant;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::RouterState;
use super::request_data::client_info;
use super::response::{ResponseFormat, content_type};
use crate::metrics::OperationSlot;

/// The request's key in the response cache; `None` when replaying is off
/// (`response_cache_bytes` is 0) or a trace is asked for: a trace must describe its own
/// execution.
pub(super) fn key(
    response_cache_bytes: u64,
    trace_requested: bool,
    request: &async_graphql::Request,
    headers: &HeaderMap,
    index_generation: Option<u64>,
) -> Option<[u8; 32]> {
    (response_cache_bytes > 0 && !trace_requested).then(|| {
        crate::replay::ResponseCache::key(
            request,
            headers
                .get(header::AUTHORIZATION)
                .map(HeaderValue::as_bytes),
            index_generation,
        )
    })
}

/// The kept answer of `key`, served again (its match logs queued under fresh match ids);
/// `None` when there is none.
pub(super) async fn answer(
    state: &RouterState,
    headers: &HeaderMap,
    key: &[u8; 32],
    slot: &OperationSlot,
    format: ResponseFormat,
) -> Option<Response> {
    let replay = state.responses.get(key).await?;
    let started = Instant::now();
    let body = replay.serve(
        &state.app.match_log,
        &client_info(headers),
        started.elapsed(),
    );
    // Never parsed: only queries are replayed; the name is the one the client sent.
    slot.record_replayed_query();
    metrics::counter!("carematch_response_cache_total", "outcome" => "hit").increment(1);
    let mut response = (StatusCode::OK, body).into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONTENT_TYPE, content_type(format));
    response_headers.insert(
        HeaderName::from_static(crate::graphql::CACHE_HEADER),
        HeaderValue::from_static("response"),
    );
    response_headers.insert(header::CACHE_CONTROL, replay.cache_control.clone());
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> async_graphql::Request {
        async_graphql::Request::new("{ recommendCare(input: {}) { urgency } }")
    }

    #[test]
    fn no_key_when_replaying_is_off_or_a_trace_is_asked_for() {
        let headers = HeaderMap::new();
        assert!(key(0, false, &request(), &headers, Some(1)).is_none());
        assert!(key(1024, true, &request(), &headers, Some(1)).is_none());
        assert!(key(1024, false, &request(), &headers, Some(1)).is_some());
    }

    #[test]
    fn the_key_follows_the_authorization_and_the_index_generation() {
        let anonymous = HeaderMap::new();
        let mut signed_in = HeaderMap::new();
        signed_in.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer a"));
        let base = key(1024, false, &request(), &anonymous, Some(1));
        assert_eq!(base, key(1024, false, &request(), &anonymous, Some(1)));
        assert_ne!(base, key(1024, false, &request(), &signed_in, Some(1)));
        assert_ne!(base, key(1024, false, &request(), &anonymous, Some(2)));
    }
}
