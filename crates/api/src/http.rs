//! The HTTP surface: `/graphql` (POST and GET, the playground on a browser GET), `/healthz`,
//! `/readyz`, and [`serve`], which runs the router until shutdown.

use std::future::Future;

use async_graphql::http::{GraphQLPlaygroundConfig, playground_source};
use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;

use crate::{AppState, CarematchSchema, build_schema};

/// HTTP-level switches, set from configuration.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Serve the GraphQL playground on a browser GET of `/graphql`.
    pub playground: bool,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self { playground: true }
    }
}

#[derive(Clone)]
struct RouterState {
    app: AppState,
    schema: CarematchSchema,
    options: ApiOptions,
}

/// The whole HTTP application as a router, so tests can serve it on any listener.
pub fn router(app: AppState, options: ApiOptions) -> Router {
    let schema = build_schema(app.clone());
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(RouterState {
            app,
            schema,
            options,
        })
}

/// Serves `router` on `listener` until `shutdown` completes, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn graphql_post(
    State(state): State<RouterState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    state
        .schema
        .execute(with_request_data(&state, &headers, request.into_inner()))
        .await
        .into()
}

/// What each request carries besides its query: the `Authorization` header (checked by the
/// resolvers that need it) and a fresh provider loader, so lookups batch within the request.
fn with_request_data(
    state: &RouterState,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> async_graphql::Request {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    request
        .data(crate::schema::RequestAuthorization(authorization))
        .data(crate::schema::ProviderLoader::data_loader(
            std::sync::Arc::clone(&state.app.directory.index),
        ))
}

async fn graphql_get(
    State(state): State<RouterState>,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    match request {
        Ok(request) if !wants_html => {
            let request = with_request_data(&state, &headers, request.into_inner());
            GraphQLResponse::from(state.schema.execute(request).await).into_response()
        }
        _ if state.options.playground => {
            Html(playground_source(GraphQLPlaygroundConfig::new("/graphql"))).into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Alive: answers as long as the process serves HTTP; never depends on the database.
async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready: the database answers.
async fn readyz(State(state): State<RouterState>) -> Response {
    match state.app.directory.store.ping().await {
        Ok(()) => Json(serde_json::json!({ "status": "ready" })).into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "not ready: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "database unreachable" })),
            )
                .into_response()
        }
    }
}
