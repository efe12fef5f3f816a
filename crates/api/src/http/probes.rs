//! The platform's probes: `/healthz` (alive), `/readyz` (ready) and `/metrics` (Prometheus),
//! answered from the moment the port is bound.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ServiceState;

/// Alive: answers as long as the process serves HTTP; never touches the database or redis.
pub(super) async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready: the index loaded and caught up, the database answering, not draining. Redis down is
/// `degraded` and still 200. The body lists every check.
pub(super) async fn readyz(State(state): State<ServiceState>) -> Response {
    let report = state.readiness.check().await;
    let status = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}

/// Every series in the Prometheus text format.
pub(super) async fn metrics_text(State(state): State<ServiceState>) -> Response {
    let ready = state.readiness.index_loaded()
        && state.readiness.caught_up()
        && !state.readiness.draining();
    let text = crate::metrics::render(state.slot.state(), ready);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}
