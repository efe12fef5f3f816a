//! The HTTP surface: `/graphql` (GraphQL over HTTP, POST and GET, the playground on a browser
//! GET), `/healthz`, `/readyz`, `/metrics`, and the routers that serve them.
//!
//! Everything a request meets before the schema lives here, one job per file: the request id
//! and W3C trace context (`request_span`), CORS (`cors`), the router's shared secret
//! (`router_secret`), cross-site request forgery (`csrf`), reading a POST or GET (`by_post`,
//! `by_get`), and the steps of one GraphQL request (`execute`: persisted query, response replay,
//! document checks, the schema run, the deadline and the answer). Every refusal is a GraphQL
//! error body with `extensions.code` (`response`).
//!
//! The server answers in two phases. [`service_router`] is served from the moment the port is
//! bound: `/healthz`, `/readyz` and `/metrics` always, and `/graphql` with 503
//! `SERVICE_UNAVAILABLE` until the start-up task installs the application in the
//! [`ApplicationSlot`] (its index loaded), after which every other request goes to it.

mod answer;
mod application_slot;
mod by_get;
mod by_post;
mod cors;
mod csrf;
mod deadline;
mod document_check;
mod execute;
mod options;
mod probes;
mod replay_lookup;
mod request_data;
mod request_span;
mod response;
mod router_secret;
mod schema_run;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;

pub use application_slot::ApplicationSlot;
pub use options::{ApiOptions, RouterSecret};
pub use request_span::current_request_id;

use crate::apq::PersistedQueryStore;
use crate::{AppState, CarematchSchema};
use carematch_service::Readiness;

/// What the application's handlers share.
#[derive(Clone)]
struct RouterState {
    app: AppState,
    /// With the request guard and tracing: every document it has not checked goes here.
    schema: CarematchSchema,
    /// Without extensions, for checked queries (`parsed`).
    plain_schema: CarematchSchema,
    documents: Arc<crate::parsed::ParsedDocuments>,
    options: Arc<ApiOptions>,
    persisted_queries: Arc<dyn PersistedQueryStore>,
    /// Answers of repeated public match queries, replayed without executing again.
    responses: Arc<crate::replay::ResponseCache>,
}

/// What the routes served from the first moment share.
#[derive(Clone)]
struct ServiceState {
    readiness: Arc<Readiness>,
    slot: ApplicationSlot,
}

/// The whole HTTP application, already started, as a router: tests can serve it on any listener.
pub fn router(app: AppState, options: ApiOptions) -> Router {
    let readiness = Arc::clone(&app.readiness);
    let slot = ApplicationSlot::default();
    slot.install(app, options);
    service_router(readiness, slot)
}

/// The router served from the first moment: health, readiness and metrics, and the
/// application (or 503 for `/graphql` while it starts). The request id, trace context,
/// in-flight count and HTTP metrics wrap everything.
pub fn service_router(readiness: Arc<Readiness>, slot: ApplicationSlot) -> Router {
    let state = ServiceState { readiness, slot };
    Router::new()
        .route("/healthz", get(probes::healthz))
        .route("/readyz", get(probes::readyz))
        .route("/metrics", get(probes::metrics_text))
        .fallback(application_slot::dispatch)
        .with_state(state)
        .layer(middleware::from_fn(request_span::request_id_and_span))
}

/// The application: `/graphql` with CORS, compression and the router secret.
fn application_router(app: AppState, options: ApiOptions) -> Router {
    let schema = crate::graphql::build_schema_with(app.clone(), &options);
    let plain_schema = crate::graphql::build_plain_schema(app.clone(), &options);
    let cors = cors::cors_layer(&options.cors_allowed_origins);
    let state = RouterState {
        app,
        schema,
        plain_schema,
        documents: Arc::new(crate::parsed::ParsedDocuments::new(
            options.limits.clone(),
            options.introspection,
        )),
        persisted_queries: crate::apq::persisted_query_store(
            options.persisted_queries_capacity,
            options.redis.clone(),
        ),
        responses: Arc::new(crate::replay::ResponseCache::new(
            options.response_cache_ttl,
            options.response_cache_bytes,
        )),
        options: Arc::new(options),
    };
    let router = Router::new()
        .route(
            "/graphql",
            get(by_get::graphql_get).post(by_post::graphql_post),
        )
        // Only `/graphql` needs the router's secret: health checks come from the platform.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            router_secret::require_router_secret,
        ))
        .route(
            &format!("{}{{file}}", crate::playground::ASSET_PREFIX),
            get(by_get::playground_asset),
        )
        .with_state(state)
        .layer(CompressionLayer::new())
        // A router compresses what it sends its subgraphs when configured to (gzip or br).
        // `graphql_post` reads the decompressed body through the body limit, so a small body
        // that inflates past it is refused like a large one; an encoding this layer does not
        // know passes through for `graphql_post` to refuse with a GraphQL error.
        .layer(RequestDecompressionLayer::new().pass_through_unaccepted(true));
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}
