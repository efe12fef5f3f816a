//! Step 5: the answer. Every error gets a code (`limits::ensure_codes`) and is counted under
//! it; the body is written; `Cache-Control` is public only for an answer without errors to a
//! query of public root fields; such an answer to a replayable query is kept for replay.

use axum::http::{HeaderValue, header};
use axum::response::Response;
use carematch_service::match_log::MatchLogCapture;

use super::RouterState;
use super::request_span::current_request_id;
use super::response::{ResponseFormat, respond, response_body, serialization_failed};
use crate::limits::{ensure_codes, error_code};

/// What was decided about the answer before the request ran.
pub(super) struct AnswerFacts {
    /// The `Cache-Control` of an answer without errors (`cache_control::for_answer`); `None`
    /// when the document did not parse.
    pub(super) public_cache_control: Option<HeaderValue>,
    /// The response cache's key, when the request is replayable.
    pub(super) replay_key: Option<[u8; 32]>,
    /// The match logs the request queued, kept with a replayable answer.
    pub(super) capture: MatchLogCapture,
}

/// `response` over HTTP, after its errors are coded and counted.
pub(super) async fn answer(
    state: &RouterState,
    mut response: async_graphql::Response,
    facts: AnswerFacts,
    format: ResponseFormat,
) -> Response {
    code_and_count_errors(
        &mut response.errors,
        &current_request_id().unwrap_or_default(),
    );
    let body = match response_body(&response) {
        Ok(body) => body,
        Err(error) => return serialization_failed(&error, format),
    };
    let cache_control = cache_control(facts.public_cache_control, &response);
    if let Some(key) = facts.replay_key
        && response.errors.is_empty()
    {
        metrics::counter!("carematch_response_cache_total", "outcome" => "miss").increment(1);
        state
            .responses
            .insert(key, body.clone(), cache_control.clone(), &facts.capture)
            .await;
    }
    let mut http_response = respond(response, body.into_bytes(), format);
    http_response
        .headers_mut()
        .insert(header::CACHE_CONTROL, cache_control);
    http_response
}

/// Gives every error without a code one, and counts each error under its code.
fn code_and_count_errors(errors: &mut [async_graphql::ServerError], request_id: &str) {
    ensure_codes(errors, request_id);
    for error in errors.iter() {
        crate::metrics::record_error(error_code(error).as_deref().unwrap_or("OTHER"));
    }
}

/// The answer's `Cache-Control`: the public one decided from the document, only when it
/// answered without errors; not stored otherwise.
fn cache_control(public: Option<HeaderValue>, response: &async_graphql::Response) -> HeaderValue {
    public
        .filter(|_| response.errors.is_empty())
        .unwrap_or(crate::cache_control::NOT_STORED)
}

#[cfg(test)]
mod tests {
    use carematch_domain::ErrorCode;

    use super::*;
    use crate::limits::coded_error;

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
    fn every_error_is_counted_with_a_code() {
        let mut errors = vec![async_graphql::ServerError::new("no code yet", None)];
        code_and_count_errors(&mut errors, "req-10");
        assert_eq!(
            error_code(&errors[0]).as_deref(),
            Some("INTERNAL_SERVER_ERROR")
        );
    }

    #[test]
    fn an_answer_with_errors_is_never_stored() {
        let public = HeaderValue::from_static("public, max-age=60");
        let answered = async_graphql::Response::new(async_graphql::Value::from(1));
        assert_eq!(cache_control(Some(public.clone()), &answered), public);
        assert_eq!(
            cache_control(None, &answered),
            crate::cache_control::NOT_STORED
        );
        let failed = async_graphql::Response::from_errors(vec![coded_error(
            ErrorCode::NotFound,
            "not found",
        )]);
        assert_eq!(
            cache_control(Some(public), &failed),
            crate::cache_control::NOT_STORED
        );
    }
}
