//! Where the start-up task installs the application once its index is loaded, and what
//! `/graphql` answers until then.

use std::fmt;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carematch_domain::ErrorCode;
use tower::ServiceExt;

use super::response::{error_response, response_format};
use super::{ApiOptions, ServiceState, application_router};
use crate::AppState;

/// Where the start-up task puts the application once its index is loaded. Cheap to clone.
#[derive(Clone, Default)]
pub struct ApplicationSlot(Arc<OnceLock<StartedApplication>>);

struct StartedApplication {
    router: Router,
    state: AppState,
}

impl ApplicationSlot {
    /// Builds the application's router from `app` and starts answering `/graphql` with it.
    /// Only the first call installs; later ones are ignored.
    pub fn install(&self, app: AppState, options: ApiOptions) {
        let router = application_router(app.clone(), options);
        let _ = self.0.set(StartedApplication { router, state: app });
    }

    /// The application's state, once started.
    pub fn state(&self) -> Option<&AppState> {
        self.0.get().map(|started| &started.state)
    }
}

impl fmt::Debug for ApplicationSlot {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ApplicationSlot")
            .field("started", &self.0.get().is_some())
            .finish()
    }
}

/// Everything but health, readiness and metrics: to the application once started; before,
/// `/graphql` is a 503 GraphQL error, so clients and the router retry elsewhere instead of
/// getting empty results from an index still loading.
pub(super) async fn dispatch(State(state): State<ServiceState>, request: Request) -> Response {
    if let Some(started) = state.slot.0.get() {
        return match started.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(infallible) => match infallible {},
        };
    }
    if request.uri().path() == "/graphql" {
        let mut response = error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServiceUnavailable,
            "carematch is starting: its search index is loading; retry shortly",
            response_format(request.headers()),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    StatusCode::NOT_FOUND.into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;
    use carematch_service::Readiness;

    async fn answer_while_starting(path: &str) -> Response {
        let router =
            super::super::service_router(Arc::new(Readiness::new()), ApplicationSlot::default());
        let request = axum::http::Request::post(path)
            .body(Body::empty())
            .expect("a request");
        router.oneshot(request).await.expect("infallible")
    }

    #[tokio::test]
    async fn graphql_is_unavailable_until_the_application_is_installed() {
        let response = answer_while_starting("/graphql").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .expect("a body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "SERVICE_UNAVAILABLE"
        );
        assert!(ApplicationSlot::default().state().is_none());
    }

    #[tokio::test]
    async fn another_path_is_not_found_while_starting() {
        let response = answer_while_starting("/elsewhere").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}
