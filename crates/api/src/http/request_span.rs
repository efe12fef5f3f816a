//! The request's identity: its `x-request-id` (the client's, or a fresh one), kept task-local
//! for errors raised deep inside resolvers, and its W3C trace context, with the request's span
//! around everything it does.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::metrics::InFlight;

/// The request id header, read from the client (or the router) and always answered.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The W3C trace context header (<https://www.w3.org/TR/trace-context/>).
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// A client's request id is kept only if it is short and printable; otherwise a fresh one is made.
const MAX_REQUEST_ID_LEN: usize = 128;

tokio::task_local! {
    /// The id of the request being served, for errors created deep inside resolvers.
    static REQUEST_ID: String;
}

/// The id of the HTTP request being served, when called while serving one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A W3C `traceparent`: version 00, trace id, parent (span) id, flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    /// 32 lowercase hex digits, not all zero.
    pub trace_id: String,
    /// 16 lowercase hex digits, not all zero.
    pub span_id: String,
    /// 2 hex digits; `01` is sampled.
    pub flags: String,
}

impl TraceParent {
    /// Parses a `traceparent` header; `None` when it is not valid per the W3C rules (then a
    /// new trace starts). Versions above 00 are read as 00, as the specification asks.
    pub fn parse(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let version = parts.next()?;
        let trace_id = parts.next()?;
        let span_id = parts.next()?;
        let flags = parts.next()?;
        let is_hex = |text: &str, len: usize| {
            text.len() == len
                && text
                    .bytes()
                    .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
        };
        let all_zero = |text: &str| text.bytes().all(|byte| byte == b'0');
        let valid = is_hex(version, 2)
            && version != "ff"
            && (version != "00" || parts.next().is_none())
            && is_hex(trace_id, 32)
            && !all_zero(trace_id)
            && is_hex(span_id, 16)
            && !all_zero(span_id)
            && is_hex(flags, 2);
        valid.then(|| Self {
            trace_id: trace_id.to_owned(),
            span_id: span_id.to_owned(),
            flags: flags.to_owned(),
        })
    }

    /// This service's span within the caller's trace (or a new trace): same trace id and
    /// flags, a new span id.
    fn child_of(parent: Option<&TraceParent>) -> Self {
        let random = || uuid::Uuid::new_v4().simple().to_string();
        Self {
            trace_id: parent.map_or_else(random, |parent| parent.trace_id.clone()),
            span_id: random()[..16].to_owned(),
            flags: parent.map_or_else(|| "00".to_owned(), |parent| parent.flags.clone()),
        }
    }

    fn header_value(&self) -> String {
        format!("00-{}-{}-{}", self.trace_id, self.span_id, self.flags)
    }
}

/// The route label of a path: the known routes, or `other` (never the raw path).
fn route_label(path: &str) -> &'static str {
    match path {
        "/graphql" => "/graphql",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        _ => "other",
    }
}

/// Keeps the client's `x-request-id` (or makes one), answers it, makes it the request's
/// task-local id and opens the request's span with the W3C trace context (the caller's trace
/// id, a new span id, answered in `traceparent`). The span names the path, never the query
/// string: a GET's query string holds the variables, which carry health data.
pub(super) async fn request_id_and_span(mut request: Request, next: Next) -> Response {
    let _in_flight = InFlight::start();
    let route = route_label(request.uri().path());
    let parent = request
        .headers()
        .get(TRACEPARENT_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(TraceParent::parse);
    let trace = TraceParent::child_of(parent.as_ref());
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_REQUEST_ID_LEN
                && id.bytes().all(|byte| byte.is_ascii_graphic())
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let header_value = HeaderValue::from_str(&request_id).ok();
    if let Some(value) = &header_value {
        request
            .headers_mut()
            .insert(REQUEST_ID_HEADER, value.clone());
    }
    let span = tracing::info_span!(
        "http_request",
        method = %request.method(),
        path = request.uri().path(),
        request_id = %request_id,
        trace_id = %trace.trace_id,
        span_id = %trace.span_id,
        parent_span_id = tracing::field::Empty,
    );
    if let Some(parent) = &parent {
        span.record("parent_span_id", parent.span_id.as_str());
    }
    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(request_id, next.run(request))
        .instrument(span.clone())
        .await;
    if let Some(value) = header_value {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    if let Ok(value) = HeaderValue::from_str(&trace.header_value()) {
        response.headers_mut().insert(TRACEPARENT_HEADER, value);
    }
    crate::metrics::record_http_request(route, response.status().as_u16());
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1_000.0,
            "request finished"
        );
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_errors_carry_the_http_request_id() {
        let error = REQUEST_ID
            .scope("frontend-req-7".to_owned(), async {
                crate::ApiError::internal_message("the index is gone")
            })
            .await;
        assert!(
            matches!(&error, crate::ApiError::Internal { request_id } if request_id == "frontend-req-7"),
            "{error:?}"
        );
        // Outside a request, a fresh id.
        assert!(matches!(
            crate::ApiError::internal_message("x"),
            crate::ApiError::Internal { request_id } if uuid::Uuid::parse_str(&request_id).is_ok()
        ));
    }

    #[test]
    fn a_valid_traceparent_is_continued_and_an_invalid_one_starts_a_new_trace() {
        let parent = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .expect("valid");
        assert_eq!(parent.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        let child = TraceParent::child_of(Some(&parent));
        assert_eq!(child.trace_id, parent.trace_id);
        assert_eq!(child.flags, "01");
        assert_ne!(child.span_id, parent.span_id);
        assert!(TraceParent::parse(&child.header_value()).is_some());
        for invalid in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(invalid), None, "{invalid}");
        }
        // A later version may add fields after the flags.
        assert!(
            TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")
                .is_some()
        );
        let fresh = TraceParent::child_of(None);
        assert_eq!(fresh.trace_id.len(), 32);
        assert_eq!(fresh.span_id.len(), 16);
        assert!(TraceParent::parse(&fresh.header_value()).is_some());
    }
}
