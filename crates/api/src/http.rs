//! The HTTP surface: `/graphql` (GraphQL over HTTP, POST and GET, the playground on a browser
//! GET), `/healthz`, `/readyz`, `/metrics`, and [`serve`], which runs the router until shutdown
//! and enforces the shutdown grace period.
//!
//! Everything a request meets before the schema lives here: the request id and W3C trace
//! context, CORS, compression, the router's shared secret, the body-size limit, batch refusal,
//! APQ, the timeout and the response's content type. Every refusal is a GraphQL error body with
//! `extensions.code`.
//!
//! The server answers in two phases. [`service_router`] is served from the moment the port is
//! bound: `/healthz`, `/readyz` and `/metrics` always, and `/graphql` with 503
//! `SERVICE_UNAVAILABLE` until the start-up task installs the application in the
//! [`ApplicationSlot`] (its index loaded), after which every other request goes to it.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use carematch_domain::ErrorCode;
use tower::ServiceExt;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::decompression::RequestDecompressionLayer;
use tracing::Instrument;

use crate::apq::{PersistedQueryStore, resolve_persisted_query};
use crate::limits::{ApiLimits, ArrivedByGet, coded_error, ensure_codes, error_code};
use crate::metrics::{InFlight, OperationSlot};
use crate::{AppState, CarematchSchema};
use carematch_service::Readiness;

/// The request id header, read from the client (or the router) and always answered.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The W3C trace context header (<https://www.w3.org/TR/trace-context/>).
pub const TRACEPARENT_HEADER: &str = "traceparent";
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
    /// Redis, when configured: persisted queries are shared through it.
    pub redis: Option<Arc<carematch_cache::RedisLink>>,
    /// How long a replayable answer is kept (see `replay`).
    pub response_cache_ttl: std::time::Duration,
    /// Bytes of replayable answers kept; 0 turns replaying off.
    pub response_cache_bytes: u64,
    /// Publish and resolve `CareListing` as an `@interfaceObject` (see `schema::CarematchSchema`).
    /// Off by default: the subgraph then composes with any subgraph; on, only beside a subgraph
    /// that owns `interface CareListing @key(fields: "id")`.
    pub care_listing_interface_object: bool,
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
            redis: None,
            response_cache_ttl: std::time::Duration::from_secs(300),
            response_cache_bytes: 32 * 1024 * 1024,
            care_listing_interface_object: false,
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

/// The whole HTTP application, already started, as a router: tests can serve it on any listener.
pub fn router(app: AppState, options: ApiOptions) -> Router {
    let readiness = Arc::clone(&app.readiness);
    let slot = ApplicationSlot::default();
    slot.install(app, options);
    service_router(readiness, slot)
}

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

#[derive(Clone)]
struct ServiceState {
    readiness: Arc<Readiness>,
    slot: ApplicationSlot,
}

/// The router served from the first moment: health, readiness and metrics, and the
/// application (or 503 for `/graphql` while it starts). The request id, trace context,
/// in-flight count and HTTP metrics wrap everything.
pub fn service_router(readiness: Arc<Readiness>, slot: ApplicationSlot) -> Router {
    let state = ServiceState { readiness, slot };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .fallback(dispatch)
        .with_state(state)
        .layer(middleware::from_fn(request_id_and_span))
}

/// Everything but health, readiness and metrics: to the application once started; before,
/// `/graphql` is a 503 GraphQL error, so clients and the router retry elsewhere instead of
/// getting empty results from an index still loading.
async fn dispatch(State(state): State<ServiceState>, request: Request) -> Response {
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

/// The application: `/graphql` with CORS, compression and the router secret.
fn application_router(app: AppState, options: ApiOptions) -> Router {
    let schema = crate::graphql::build_schema_with(app.clone(), &options);
    let plain_schema = crate::graphql::build_plain_schema(app.clone(), &options);
    let cors = cors_layer(&options.cors_allowed_origins);
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
        .route("/graphql", get(graphql_get).post(graphql_post))
        // Only `/graphql` needs the router's secret: health checks come from the platform.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_router_secret,
        ))
        .route(
            &format!("{}{{file}}", crate::playground::ASSET_PREFIX),
            get(playground_asset),
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
async fn request_id_and_span(mut request: Request, next: Next) -> Response {
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
    code: ErrorCode,
    message: &str,
    format: ResponseFormat,
) -> Response {
    crate::metrics::record_error(code.as_str());
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code.as_str() } }]
    });
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type(format));
    headers.insert(header::CACHE_CONTROL, crate::cache_control::NOT_STORED);
    response
}

/// Codes of errors raised before execution: with `graphql-response+json` they answer HTTP 400.
const REQUEST_ERROR_CODES: &[ErrorCode] = &[
    ErrorCode::GraphqlParseFailed,
    ErrorCode::GraphqlValidationFailed,
    ErrorCode::BadRequest,
    ErrorCode::OperationResolutionFailure,
    ErrorCode::QueryTooDeep,
    ErrorCode::QueryTooComplex,
    ErrorCode::TooManyAliases,
    ErrorCode::TooManyRootFields,
    ErrorCode::TooManyDirectives,
    ErrorCode::QueryTooLarge,
    ErrorCode::PersistedQueryNotFound,
    ErrorCode::MethodNotAllowed,
];

fn graphql_response(response: async_graphql::Response, format: ResponseFormat) -> Response {
    match response_body(&response) {
        Ok(body) => respond(response, body.into_bytes(), format),
        Err(error) => serialization_failed(&error, format),
    }
}

/// Whether `response` answers a request refused before execution (parse, validation, limits,
/// APQ, operation resolution, variable coercion): GraphQL over HTTP's "request error". A
/// `BAD_USER_INPUT` is one only without a path: a resolver's carries the field's path.
fn never_executed(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| match error_code(error) {
            Some(code) if code == ErrorCode::BadUserInput.as_str() => error.path.is_empty(),
            Some(code) => REQUEST_ERROR_CODES
                .iter()
                .any(|request_error| request_error.as_str() == code),
            None => false,
        })
}

/// The JSON body of `response`. A request error has no `data` entry at all (GraphQL: "if an
/// error was raised before execution begins, the data entry should not be present"; GraphQL over
/// HTTP checks it), where async-graphql would write `"data": null`.
fn response_body(response: &async_graphql::Response) -> serde_json::Result<String> {
    if !never_executed(response) {
        return serde_json::to_string(response);
    }
    #[derive(serde::Serialize)]
    struct RequestError<'a> {
        errors: &'a [async_graphql::ServerError],
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
    }
    serde_json::to_string(&RequestError {
        errors: &response.errors,
        extensions: &response.extensions,
    })
}

/// `response` over HTTP, already serialized as `body`. Not to be stored by any cache: the
/// caller replaces `Cache-Control` for an answer that may be (`cache_control::for_answer`).
fn respond(response: async_graphql::Response, body: Vec<u8>, format: ResponseFormat) -> Response {
    let status =
        if format == ResponseFormat::GraphqlResponseJson && never_executed(&response) {
            if response.errors.iter().any(|error| {
                error_code(error).as_deref() == Some(ErrorCode::MethodNotAllowed.as_str())
            }) {
                StatusCode::METHOD_NOT_ALLOWED
            } else {
                StatusCode::BAD_REQUEST
            }
        } else {
            StatusCode::OK
        };
    let mut http_response = (status, body).into_response();
    let headers = http_response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type(format));
    headers.insert(header::CACHE_CONTROL, crate::cache_control::NOT_STORED);
    headers.extend(response.http_headers);
    http_response
}

fn serialization_failed(error: &serde_json::Error, format: ResponseFormat) -> Response {
    tracing::error!(error = %error, "response serialization failed");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::InternalServerError,
        "internal error",
        format,
    )
}

async fn graphql_post(
    State(state): State<RouterState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let format = response_format(&headers);
    if may_be_forged_cross_site(&headers) {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "this request may be a cross-site request forgery and was refused: send a \
             `content-type` other than application/x-www-form-urlencoded, multipart/form-data \
             or text/plain (GraphQL is sent as application/json), or a non-empty \
             `x-apollo-operation-name` or `apollo-require-preflight` header",
            format,
        );
    }
    // The request decompression layer took off the encodings it decoded: one left is unknown.
    if headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|encoding| !encoding.as_bytes().eq_ignore_ascii_case(b"identity"))
    {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadRequest,
            "the request body's content-encoding is not supported: send it as gzip, br or \
             uncompressed",
            format,
        );
    }
    let max_body_bytes = state.options.limits.max_body_bytes;
    let payload_too_large = || {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
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
    // Reading through the limit also stops a chunked body that declared no length; the
    // deadline stops a client that sends its body a byte at a time, or never.
    let body_read_timeout = state.options.limits.body_read_timeout;
    let read = tokio::time::timeout(
        body_read_timeout,
        axum::body::to_bytes(body, max_body_bytes),
    );
    let bytes = match read.await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(error)) if is_length_limit(&error) => return payload_too_large(),
        Err(_) => {
            return error_response(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::RequestTimeout,
                &format!(
                    "the request body did not arrive within {} ms",
                    body_read_timeout.as_millis()
                ),
                format,
            );
        }
        Ok(Err(_)) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
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
                ErrorCode::BadRequest,
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
            ErrorCode::BatchingNotSupported,
            "batched requests are not supported: send one operation per request",
            format,
        ),
    }
}

/// The content types a browser sends to another origin without asking first (a CORS
/// preflight): a page on any site can POST them with a form or `fetch(..., {mode: "no-cors"})`.
const SIMPLE_CONTENT_TYPES: [&str; 3] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

/// Headers a browser never sends to another origin without a preflight, which the CORS
/// policy then decides: a client that cannot set a content type proves it is not a forged
/// form with one of these (Apollo's names).
const PREFLIGHT_HEADERS: [&str; 2] = ["x-apollo-operation-name", "apollo-require-preflight"];

/// Apollo Server's CSRF prevention, for POST: a request that a page on another site could have
/// made its visitor's browser send without a CORS preflight (no content type, or a simple one,
/// and none of [`PREFLIGHT_HEADERS`]). Its body would still be read as JSON, so a `text/plain`
/// form could otherwise run a mutation. A content type that does not parse as a MIME type is
/// not simple: browsers preflight it.
fn may_be_forged_cross_site(headers: &HeaderMap) -> bool {
    let simple_content_type = match headers.get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value
            .to_str()
            .ok()
            .and_then(mime_essence)
            .is_some_and(|essence| SIMPLE_CONTENT_TYPES.contains(&essence.as_str())),
    };
    let preflight_header = PREFLIGHT_HEADERS.iter().any(|name| {
        headers
            .get(*name)
            .is_some_and(|value| !value.as_bytes().is_empty())
    });
    simple_content_type && !preflight_header
}

/// `type/subtype` of a MIME type in lower case, parameters dropped; `None` when it does not
/// parse (WHATWG MIME sniffing's rules: both parts non-empty HTTP tokens).
fn mime_essence(value: &str) -> Option<String> {
    let is_token = |text: &str| {
        !text.is_empty()
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
    };
    let value = value.trim_matches([' ', '\t', '\r', '\n']);
    let (kind, rest) = value.split_once('/')?;
    let subtype = rest
        .split(';')
        .next()
        .unwrap_or_default()
        .trim_end_matches([' ', '\t', '\r', '\n']);
    (is_token(kind) && is_token(subtype)).then(|| format!("{kind}/{subtype}").to_ascii_lowercase())
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
    request: async_graphql::Request,
    format: ResponseFormat,
) -> Response {
    // Not a GraphQL request at all (GraphQL over HTTP: parameters invalid): no document, and
    // no persisted query's hash to find one by.
    if request.query.is_empty() && !request.extensions.contains_key("persistedQuery") {
        return error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "the request has no `query` (nor `extensions.persistedQuery`)",
            format,
        );
    }
    let started = Instant::now();
    let slot = OperationSlot::new(request.operation_name.clone());
    let response = execute_graphql(state, headers, request.data(slot.clone()), &slot, format).await;
    crate::metrics::record_graphql_request(&slot, started.elapsed());
    response
}

async fn execute_graphql(
    state: &RouterState,
    headers: &HeaderMap,
    mut request: async_graphql::Request,
    slot: &OperationSlot,
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
        if let Some(code) = error_code(&error) {
            crate::metrics::record_error(&code);
        }
        return graphql_response(async_graphql::Response::from_errors(vec![error]), format);
    }
    let trace_requested = headers
        .get(crate::ftv1::INCLUDE_TRACE_HEADER)
        .is_some_and(|value| value.as_bytes() == crate::ftv1::FTV1.as_bytes());
    // A traced request is never replayed: its trace must describe its own execution.
    let replay_key = (state.options.response_cache_bytes > 0 && !trace_requested).then(|| {
        crate::replay::ResponseCache::key(
            &request,
            headers
                .get(header::AUTHORIZATION)
                .map(HeaderValue::as_bytes),
            state.app.directory.index.generation(),
        )
    });
    if let Some(key) = &replay_key
        && let Some(replay) = state.responses.get(key).await
    {
        let header_text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        let client = carematch_service::match_log::ClientInfo::from_headers(
            header_text("apollographql-client-name"),
            header_text("apollographql-client-version"),
        );
        let started = Instant::now();
        let body = replay.serve(&state.app.match_log, &client, started.elapsed());
        // Never parsed: only queries are replayed; the name is the one the client sent.
        slot.record_replayed_query();
        metrics::counter!("carematch_response_cache_total", "outcome" => "hit").increment(1);
        let mut response = (StatusCode::OK, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type(format));
        response.headers_mut().insert(
            HeaderName::from_static(crate::graphql::CACHE_HEADER),
            HeaderValue::from_static("response"),
        );
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, replay.cache_control.clone());
        return response;
    }
    let parsed = state.documents.get(&request.query);
    if let Some(parsed) = &parsed
        && let Some(refusal) = &parsed.refusal
    {
        // Answered here: async-graphql's own walks follow every fragment spread anew, and a
        // refused document may multiply them (see `parsed`).
        slot.record(&parsed.document);
        let code = error_code(refusal).unwrap_or_default();
        crate::metrics::record_error(&code);
        return graphql_response(
            async_graphql::Response::from_errors(vec![refusal.clone()]),
            format,
        );
    }
    if let Some(parsed) = &parsed
        && let Err(error) = crate::variables::check_required(
            &parsed.document,
            request.operation_name.as_deref(),
            &request.variables,
        )
    {
        slot.record(&parsed.document);
        crate::metrics::record_error(ErrorCode::BadUserInput.as_str());
        return graphql_response(async_graphql::Response::from_errors(vec![error]), format);
    }
    let replayable = replay_key.is_some()
        && parsed.as_ref().is_some_and(|parsed| {
            crate::replay::is_replayable(&parsed.document, request.operation_name.as_deref())
        });
    // Decided before the request moves; applied only if it answers without errors.
    let public_cache_control = parsed.as_ref().map(|parsed| {
        crate::cache_control::for_answer(&parsed.document, request.operation_name.as_deref())
    });
    let capture = carematch_service::match_log::MatchLogCapture::default();
    // A traced request needs the tracing extension: only the guarded schema has it.
    let plain = parsed
        .as_ref()
        .filter(|parsed| parsed.plain && !trace_requested);
    let again = plain.map(|_| RequestParts::of(&request));
    let add_data = |request: async_graphql::Request| {
        let mut request = with_request_data(state, headers, request);
        if let Some(parsed) = &parsed {
            request.set_parsed_query(parsed.document.clone());
        }
        if replayable {
            request = request.data(capture.clone());
        }
        if trace_requested {
            request = request.data(crate::ftv1::TraceRequested);
        }
        request
    };
    let request = add_data(request);
    let run = async {
        let Some((plain, again)) = plain.zip(again) else {
            metrics::counter!(SCHEMA_RUNS, "run" => "guarded").increment(1);
            return state.schema.execute(request).await;
        };
        slot.record(&plain.document);
        let response = state.plain_schema.execute(request).await;
        if !never_ran(&response) {
            metrics::counter!(SCHEMA_RUNS, "run" => "plain").increment(1);
            return response;
        }
        metrics::counter!(SCHEMA_RUNS, "run" => "guarded_again").increment(1);
        // Refused before anything ran (a variable of the wrong type, a complexity limit):
        // the guarded schema refuses it again, with the codes its extension gives.
        state
            .schema
            .execute(add_data(again.into_request().data(slot.clone())))
            .await
    };
    let mut response = match tokio::time::timeout(limits.request_timeout, run).await {
        Ok(response) => response,
        Err(_) => {
            let timeout_ms = limits.request_timeout.as_millis();
            tracing::warn!(timeout_ms, "request timed out");
            async_graphql::Response::from_errors(vec![coded_error(
                ErrorCode::RequestTimeout,
                format!("the request took longer than {timeout_ms} ms"),
            )])
        }
    };
    let request_id = current_request_id().unwrap_or_default();
    ensure_codes(&mut response.errors, &request_id);
    for error in &response.errors {
        crate::metrics::record_error(error_code(error).as_deref().unwrap_or("OTHER"));
    }
    let body = match response_body(&response) {
        Ok(body) => body,
        Err(error) => return serialization_failed(&error, format),
    };
    let cache_control = public_cache_control
        .filter(|_| response.errors.is_empty())
        .unwrap_or(crate::cache_control::NOT_STORED);
    if let Some(key) = replay_key
        && replayable
        && response.errors.is_empty()
    {
        metrics::counter!("carematch_response_cache_total", "outcome" => "miss").increment(1);
        state
            .responses
            .insert(key, body.clone(), cache_control.clone(), &capture)
            .await;
    }
    let mut http_response = respond(response, body.into_bytes(), format);
    http_response
        .headers_mut()
        .insert(header::CACHE_CONTROL, cache_control);
    http_response
}

/// Executions by schema: `plain` (a checked query, no extensions), `guarded`, and
/// `guarded_again` (refused on the plain schema before anything ran, then run guarded).
const SCHEMA_RUNS: &str = "carematch_graphql_executions_total";

/// Whether async-graphql refused `response`'s request before executing any field: then every
/// error lacks a path, and on the plain schema a code.
fn never_ran(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response
            .errors
            .iter()
            .all(|error| error.path.is_empty() && error_code(error).is_none())
}

/// What a request needs to be sent again: its data cannot be copied, so it is added afresh.
struct RequestParts {
    query: String,
    operation_name: Option<String>,
    variables: async_graphql::Variables,
    extensions: async_graphql::Extensions,
}

impl RequestParts {
    fn of(request: &async_graphql::Request) -> Self {
        Self {
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: request.variables.clone(),
            extensions: request.extensions.clone(),
        }
    }

    fn into_request(self) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(self.query).variables(self.variables);
        request.operation_name = self.operation_name;
        request.extensions = self.extensions;
        request
    }
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
    let client = carematch_service::match_log::ClientInfo::from_headers(
        header_text("apollographql-client-name"),
        header_text("apollographql-client-version"),
    );
    request
        .data(crate::graphql::RequestAuthorization(authorization))
        .data(client)
        .data(crate::graphql::ProviderLoader::data_loader(
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
            crate::playground::page()
        } else {
            StatusCode::NOT_FOUND.into_response()
        };
    }
    let format = response_format(&headers);
    let query_string = query_string.unwrap_or_default();
    if query_string.len() > state.options.limits.max_body_bytes {
        return error_response(
            StatusCode::URI_TOO_LONG,
            ErrorCode::QueryTooLarge,
            "the query string is too long: send large requests with POST",
            format,
        );
    }
    match get_request(&query_string) {
        Ok(request) => {
            let operation_name = request.operation_name.clone();
            let request = request.data(ArrivedByGet { operation_name });
            execute(&state, &headers, request, format).await
        }
        Err(_) => error_response(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "the query string must hold `query` and optional `operationName`, and `variables` \
             and `extensions` as JSON objects",
            format,
        ),
    }
}

/// A file of the playground's page; 404 while the playground is off.
async fn playground_asset(State(state): State<RouterState>, uri: axum::http::Uri) -> Response {
    if !state.options.playground {
        return StatusCode::NOT_FOUND.into_response();
    }
    crate::playground::asset(&uri)
}

/// The parameters of a GraphQL GET. `operationName` is GraphQL over HTTP's name (and what
/// Apollo Client and the router send); async-graphql's own parser reads only `operation_name`,
/// which stays accepted.
#[derive(serde::Deserialize)]
struct GetParameters {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName", alias = "operation_name")]
    operation_name: Option<String>,
    /// JSON text.
    variables: Option<String>,
    /// JSON text.
    extensions: Option<String>,
}

/// The GraphQL request of a GET's query string; an error when a parameter is repeated, or
/// `variables` or `extensions` is not a JSON object.
fn get_request(query_string: &str) -> Result<async_graphql::Request, ()> {
    fn json_object<T: serde::de::DeserializeOwned + Default>(
        text: Option<String>,
    ) -> Result<T, ()> {
        text.map(|text| serde_json::from_str(&text).map_err(|_| ()))
            .transpose()
            .map(Option::unwrap_or_default)
    }
    let parameters: GetParameters = serde_urlencoded::from_str(query_string).map_err(|_| ())?;
    let mut request =
        async_graphql::Request::new(parameters.query).variables(json_object(parameters.variables)?);
    request.extensions = json_object(parameters.extensions)?;
    // An empty name is no name (GraphQL over HTTP).
    request.operation_name = parameters.operation_name.filter(|name| !name.is_empty());
    Ok(request)
}

/// Alive: answers as long as the process serves HTTP; never touches the database or redis.
async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready: the index loaded and caught up, the database answering, not draining. Redis down is
/// `degraded` and still 200. The body lists every check.
async fn readyz(State(state): State<ServiceState>) -> Response {
    let report = state.readiness.check().await;
    let status = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}

/// Every series in the Prometheus text format.
async fn metrics_text(State(state): State<ServiceState>) -> Response {
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
            coded_error(ErrorCode::BadUserInput, "first: must be between 1 and 50"),
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

    #[test]
    fn the_router_secret_comparison_needs_every_byte() {
        assert!(constant_time_equal(b"secret-value", b"secret-value"));
        assert!(!constant_time_equal(b"secret-value", b"secret-valuf"));
        assert!(!constant_time_equal(b"secret", b"secret-value"));
    }
}
