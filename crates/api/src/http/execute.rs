//! One GraphQL request, as a sequence of named steps; each step's file says what it decides.
//!
//! 1. The persisted query (`apq`): fill in the query of a known hash, or refuse.
//! 2. The response replay (`replay_lookup`): a repeated public query answered from its last
//!    bytes, without parsing or executing.
//! 3. The document checks (`document_check`): the parsed document's parse-time limits and its
//!    required variables, refused without executing.
//! 4. The schema run (`schema_run`): on the plain schema when the document allows it, on the
//!    guarded one otherwise, within the deadline (`deadline`).
//! 5. The answer (`answer`): every error coded, counted, the body written, `Cache-Control`
//!    chosen and a replayable answer kept.

use std::time::Instant;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use carematch_domain::ErrorCode;

use super::RouterState;
use super::answer::{AnswerFacts, answer};
use super::response::{ResponseFormat, error_response, graphql_response};
use super::schema_run::{SchemaChoice, Schemas};
use crate::metrics::OperationSlot;

/// Runs one GraphQL request through the steps, and counts it under its operation.
pub(super) async fn execute(
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
    if let Err(error) = crate::apq::resolve_persisted_query(
        state.persisted_queries.as_ref(),
        &mut request,
        limits.max_query_bytes,
    )
    .await
    {
        if let Some(code) = crate::limits::error_code(&error) {
            crate::metrics::record_error(&code);
        }
        return graphql_response(async_graphql::Response::from_errors(vec![error]), format);
    }

    let trace_requested = headers
        .get(crate::ftv1::INCLUDE_TRACE_HEADER)
        .is_some_and(|value| value.as_bytes() == crate::ftv1::FTV1.as_bytes());
    let replay_key = super::replay_lookup::key(
        state.options.response_cache_bytes,
        trace_requested,
        &request,
        headers,
        state.app.directory.index.generation(),
    );
    if let Some(key) = &replay_key
        && let Some(response) =
            super::replay_lookup::answer(state, headers, key, slot, format).await
    {
        return response;
    }

    let parsed = state.documents.get(&request.query);
    if let Some(refusal) = super::document_check::refusal(parsed.as_deref(), &request, slot) {
        return graphql_response(refusal, format);
    }

    let operation_name = request.operation_name.as_deref();
    let replayable = replay_key.is_some()
        && parsed
            .as_ref()
            .is_some_and(|parsed| crate::replay::is_replayable(&parsed.document, operation_name));
    let facts = AnswerFacts {
        // Decided before the request moves; applied only if it answers without errors.
        public_cache_control: parsed
            .as_ref()
            .map(|parsed| crate::cache_control::for_answer(&parsed.document, operation_name)),
        replay_key: replay_key.filter(|_| replayable),
        capture: carematch_service::match_log::MatchLogCapture::default(),
    };
    let choice = SchemaChoice::for_document(parsed.as_deref(), trace_requested);
    let with_data = |request: async_graphql::Request| {
        let mut request = super::request_data::with_request_data(&state.app, headers, request);
        if let Some(parsed) = &parsed {
            request.set_parsed_query(parsed.document.clone());
        }
        if replayable {
            request = request.data(facts.capture.clone());
        }
        if trace_requested {
            request = request.data(crate::ftv1::TraceRequested);
        }
        request
    };
    let schemas = Schemas {
        guarded: &state.schema,
        plain: &state.plain_schema,
    };
    let run = super::schema_run::run(schemas, choice, request, with_data, slot);
    let response = super::deadline::within(limits.request_timeout, run).await;
    answer(state, response, facts, format).await
}
