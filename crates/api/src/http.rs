//! The HTTP surface: `/graphql` (GraphQL over HTTP, POST and GET, the playground on a browser
//! GET), `/healthz`, `/readyz`, and [`serve`], which runs the router until shutdown.
//!
//! Everything a request meets before the schema lives here: the request id, CORS, compression,
//! the router's shared secret, the body-size limit, batch refusal, APQ, the timeout and the
//! response's content type. Every refusal is a GraphQL error body with `extensions.code`.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::http::{GraphQLPlaygroundConfig, playground_source};
use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

use crate::apq::{InMemoryPersistedQueries, PersistedQueryStore, resolve_persisted_query};
use crate::limits::{ApiLimits, ArrivedByGet, coded_error, codes, ensure_codes, error_code};
use crate::{AppState, CarematchSchema};

/// The request id header, read from the client (or the router) and always answered.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The header carrying the router's shared secret when `router_secret` is set.
pub const ROUTER_SECRET_HEADER: &str = "x-router-secret";
/// The media type of GraphQL-over-HTTP responses, answered when the client accepts it.
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
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

/// HTTP-level switches and limits, set from configuration.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Serve the GraphQL playground on a browser GET of `/graphql`.
    pub playground: bool,
    /// Answer introspection queries (`__schema`, `__type`) and suggest field names in errors.
    /// `_service { sdl }` is federation, not introspection: the router always gets it.
    pub introspection: bool,
    /// Query and request limits.
    pub limits: ApiLimits,
    /// Browser origins allowed by CORS (`*` for any); empty: no CORS headers at all.
    pub cors_allowed_origins: Vec<String>,
    /// When set, every `/graphql` request must carry it in `x-router-secret`.
    pub router_secret: Option<RouterSecret>,
    /// Persisted queries (APQ) kept in this replica's memory.
    pub persisted_queries_capacity: usize,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            playground: true,
            introspection: true,
            limits: ApiLimits::default(),
            cors_allowed_origins: Vec::new(),
            router_secret: None,
            persisted_queries_capacity: 1_000,
        }
    }
}

/// The router's shared secret: never printed.
#[derive(Clone)]
pub struct RouterSecret(pub String);

impl fmt::Debug for RouterSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

#[derive(Clone)]
struct RouterState {
    app: AppState,
    schema: CarematchSchema,
    options: Arc<ApiOptions>,
    persisted_queries: Arc<dyn PersistedQueryStore>,
}

/// The whole HTTP application as a router, so tests can serve it on any listener.
pub fn router(app: AppState, options: ApiOptions) -> Router {
    let schema = crate::schema::build_schema_with(app.clone(), &options);
    let cors = cors_layer(&options.cors_allowed_origins);
    let state = RouterState {
        app,
        schema,
        persisted_queries: Arc::new(InMemoryPersistedQueries::new(
            options.persisted_queries_capacity,
        )),
        options: Arc::new(options),
    };
    let router = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        // Only `/graphql` needs the router's secret: health checks come from the platform.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_router_secret,
        ))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
        .layer(CompressionLayer::new());
    let router = match cors {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router.layer(middleware::from_fn(request_id_and_span))
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

fn cors_layer(allowed_origins: &[String]) -> Option<CorsLayer> {
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
                HeaderName::from_static("apollographql-client-name"),
                HeaderName::from_static("apollographql-client-version"),
            ])
            .expose_headers([HeaderName::from_static(REQUEST_ID_HEADER)])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Keeps the client's `x-request-id` (or makes one), answers it, makes it the request's
/// task-local id and opens the request's span. The span names the path, never the query
/// string: a GET's query string holds the variables, which carry health data.
async fn request_id_and_span(mut request: Request, next: Next) -> Response {
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
    );
    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(request_id, next.run(request))
        .instrument(span.clone())
        .await;
    if let Some(value) = header_value {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1_000.0,
            "request finished"
        );
    });
    response
}

async fn require_router_secret(
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
                codes::UNAUTHENTICATED,
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

/// Which media type the response is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseFormat {
    /// `application/json`: always HTTP 200 for GraphQL errors (legacy clients and routers).
    Json,
    /// `application/graphql-response+json`: HTTP 4xx when the request never executed.
    GraphqlResponseJson,
}

fn response_format(headers: &HeaderMap) -> ResponseFormat {
    let accepts = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|accept| accept.contains(GRAPHQL_RESPONSE_JSON));
    if accepts {
        ResponseFormat::GraphqlResponseJson
    } else {
        ResponseFormat::Json
    }
}

fn content_type(format: ResponseFormat) -> HeaderValue {
    match format {
        ResponseFormat::Json => HeaderValue::from_static("application/json"),
        ResponseFormat::GraphqlResponseJson => HeaderValue::from_static(GRAPHQL_RESPONSE_JSON),
    }
}

/// A refusal before any GraphQL ran, as a GraphQL error body.
fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    format: ResponseFormat,
) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, content_type(format));
    response
}

/// Codes of errors raised before execution: with `graphql-response+json` they answer HTTP 400.
const REQUEST_ERROR_CODES: &[&str] = &[
    codes::GRAPHQL_PARSE_FAILED,
    codes::GRAPHQL_VALIDATION_FAILED,
    codes::BAD_REQUEST,
    codes::OPERATION_RESOLUTION_FAILURE,
    codes::QUERY_TOO_DEEP,
    codes::QUERY_TOO_COMPLEX,
    codes::TOO_MANY_ALIASES,
    codes::TOO_MANY_ROOT_FIELDS,
    codes::TOO_MANY_DIRECTIVES,
    codes::QUERY_TOO_LARGE,
    codes::PERSISTED_QUERY_NOT_FOUND,
    codes::METHOD_NOT_ALLOWED,
];

fn graphql_response(response: async_graphql::Response, format: ResponseFormat) -> Response {
    let never_executed = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| {
            error_code(error).is_some_and(|code| REQUEST_ERROR_CODES.contains(&code.as_str()))
        });
    let status = if format == ResponseFormat::GraphqlResponseJson && never_executed {
        if response
            .errors
            .iter()
            .any(|error| error_code(error).as_deref() == Some(codes::METHOD_NOT_ALLOWED))
        {
            StatusCode::METHOD_NOT_ALLOWED
        } else {
            StatusCode::BAD_REQUEST
        }
    } else {
        StatusCode::OK
    };
    let body = match serde_json::to_vec(&response) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(error = %error, "response serialization failed");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                codes::INTERNAL_SERVER_ERROR,
                "internal error",
                format,
            );
        }
    };
    let mut http_response = (status, body).into_response();
    let headers = http_response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type(format));
    if response.is_ok()
        && let Some(cache_control) = response.cache_control.value()
        && let Ok(value) = HeaderValue::from_str(&cache_control)
    {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.extend(response.http_headers);
    http_response
}

async fn graphql_post(
    State(state): State<RouterState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let format = response_format(&headers);
    let max_body_bytes = state.options.limits.max_body_bytes;
    let payload_too_large = || {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::PAYLOAD_TOO_LARGE,
            &format!("the request body is larger than {max_body_bytes} bytes"),
            format,
        )
    };
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > max_body_bytes as u64) {
        return payload_too_large();
    }
    // Reading through the limit also stops a chunked body that declared no length.
    let bytes = match axum::body::to_bytes(body, max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(error) if is_length_limit(&error) => return payload_too_large(),
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                codes::BAD_REQUEST,
                "the request body could not be read",
                format,
            );
        }
    };
    let batch = match serde_json::from_slice::<async_graphql::BatchRequest>(&bytes) {
        Ok(batch) => batch,
        // serde's message names internals and echoes the body: the client gets a generic one.
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                codes::BAD_REQUEST,
                "the body must be a JSON object with a `query` string and optional \
                 `operationName`, `variables` (an object) and `extensions` (an object)",
                format,
            );
        }
    };
    match batch {
        async_graphql::BatchRequest::Single(request) => {
            execute(&state, &headers, request, format).await
        }
        async_graphql::BatchRequest::Batch(_) => error_response(
            StatusCode::BAD_REQUEST,
            codes::BATCHING_NOT_SUPPORTED,
            "batched requests are not supported: send one operation per request",
            format,
        ),
    }
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(cause) = source {
        if cause.to_string().contains("length limit exceeded") {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Runs one GraphQL request: APQ, the request's data, the deadline, and codes for any error
/// that has none yet.
async fn execute(
    state: &RouterState,
    headers: &HeaderMap,
    mut request: async_graphql::Request,
    format: ResponseFormat,
) -> Response {
    let limits = &state.options.limits;
    if let Err(error) = resolve_persisted_query(
        state.persisted_queries.as_ref(),
        &mut request,
        limits.max_query_bytes,
    )
    .await
    {
        return graphql_response(async_graphql::Response::from_errors(vec![error]), format);
    }
    let mut request = with_request_data(state, headers, request);
    if headers
        .get(crate::ftv1::INCLUDE_TRACE_HEADER)
        .is_some_and(|value| value.as_bytes() == crate::ftv1::FTV1.as_bytes())
    {
        request = request.data(crate::ftv1::TraceRequested);
    }
    let mut response =
        match tokio::time::timeout(limits.request_timeout, state.schema.execute(request)).await {
            Ok(response) => response,
            Err(_) => {
                let timeout_ms = limits.request_timeout.as_millis();
                tracing::warn!(timeout_ms, "request timed out");
                async_graphql::Response::from_errors(vec![coded_error(
                    codes::REQUEST_TIMEOUT,
                    format!("the request took longer than {timeout_ms} ms"),
                )])
            }
        };
    let request_id = current_request_id().unwrap_or_default();
    ensure_codes(&mut response.errors, &request_id);
    graphql_response(response, format)
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
    let header_text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let client = crate::match_log::ClientInfo::from_headers(
        header_text("apollographql-client-name"),
        header_text("apollographql-client-version"),
    );
    request
        .data(crate::schema::RequestAuthorization(authorization))
        .data(client)
        .data(crate::schema::ProviderLoader::data_loader(
            std::sync::Arc::clone(&state.app.directory.index),
        ))
}

async fn graphql_get(
    State(state): State<RouterState>,
    headers: HeaderMap,
    RawQuery(query_string): RawQuery,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        return if state.options.playground {
            Html(playground_source(GraphQLPlaygroundConfig::new("/graphql"))).into_response()
        } else {
            StatusCode::NOT_FOUND.into_response()
        };
    }
    let format = response_format(&headers);
    let query_string = query_string.unwrap_or_default();
    if query_string.len() > state.options.limits.max_body_bytes {
        return error_response(
            StatusCode::URI_TOO_LONG,
            codes::QUERY_TOO_LARGE,
            "the query string is too long: send large requests with POST",
            format,
        );
    }
    match async_graphql::http::parse_query_string(&query_string) {
        Ok(request) => {
            let operation_name = request.operation_name.clone();
            let request = request.data(ArrivedByGet { operation_name });
            execute(&state, &headers, request, format).await
        }
        Err(_) => error_response(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            "the query string must hold `query` and optional `operationName`, and `variables` \
             and `extensions` as JSON objects",
            format,
        ),
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
    fn an_error_without_a_code_becomes_an_internal_error_with_the_request_id() {
        let mut errors = vec![
            async_graphql::ServerError::new("something async-graphql said", None),
            async_graphql::ServerError::new("Unknown operation named \"B\"", None),
            coded_error(codes::BAD_USER_INPUT, "first: must be between 1 and 50"),
        ];
        ensure_codes(&mut errors, "req-9");
        assert_eq!(
            error_code(&errors[0]).as_deref(),
            Some("INTERNAL_SERVER_ERROR")
        );
        assert_eq!(errors[0].message, "internal error (request id req-9)");
        assert_eq!(
            errors[0]
                .extensions
                .as_ref()
                .and_then(|e| e.get("requestId")),
            Some(&async_graphql::Value::from("req-9"))
        );
        assert_eq!(
            error_code(&errors[1]).as_deref(),
            Some("OPERATION_RESOLUTION_FAILURE")
        );
        assert_eq!(error_code(&errors[2]).as_deref(), Some("BAD_USER_INPUT"));
    }

    #[test]
    fn the_router_secret_comparison_needs_every_byte() {
        assert!(constant_time_equal(b"secret-value", b"secret-value"));
        assert!(!constant_time_equal(b"secret-value", b"secret-valuf"));
        assert!(!constant_time_equal(b"secret", b"secret-value"));
    }
}
