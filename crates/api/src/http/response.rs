//! How an answer is written: its media type (`application/json` or GraphQL over HTTP's
//! `application/graphql-response+json`), its status, and its body, which for a request refused
//! before anything ran has no `data` entry.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carematch_domain::ErrorCode;

use crate::limits::error_code;

/// The media type of GraphQL-over-HTTP responses, answered when the client accepts it.
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// Which media type the response is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ResponseFormat {
    /// `application/json`: always HTTP 200 for GraphQL errors (legacy clients and routers).
    Json,
    /// `application/graphql-response+json`: HTTP 4xx when the request never executed.
    GraphqlResponseJson,
}

pub(super) fn response_format(headers: &HeaderMap) -> ResponseFormat {
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

pub(super) fn content_type(format: ResponseFormat) -> HeaderValue {
    match format {
        ResponseFormat::Json => HeaderValue::from_static("application/json"),
        ResponseFormat::GraphqlResponseJson => HeaderValue::from_static(GRAPHQL_RESPONSE_JSON),
    }
}

/// A refusal before any GraphQL ran, as a GraphQL error body.
pub(super) fn error_response(
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

pub(super) fn graphql_response(
    response: async_graphql::Response,
    format: ResponseFormat,
) -> Response {
    match response_body(&response) {
        Ok(body) => respond(response, body.into_bytes(), format),
        Err(error) => serialization_failed(&error, format),
    }
}

/// Whether `response` answers a request refused before execution (parse, validation, limits,
/// APQ, operation resolution, variable coercion): GraphQL over HTTP's "request error". A
/// `BAD_USER_INPUT` is one only without a path: a resolver's carries the field's path.
pub(super) fn never_executed(response: &async_graphql::Response) -> bool {
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
pub(super) fn response_body(response: &async_graphql::Response) -> serde_json::Result<String> {
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
pub(super) fn respond(
    response: async_graphql::Response,
    body: Vec<u8>,
    format: ResponseFormat,
) -> Response {
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

pub(super) fn serialization_failed(error: &serde_json::Error, format: ResponseFormat) -> Response {
    tracing::error!(error = %error, "response serialization failed");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::InternalServerError,
        "internal error",
        format,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::coded_error;

    fn refused(code: ErrorCode) -> async_graphql::Response {
        async_graphql::Response::from_errors(vec![coded_error(code, "refused")])
    }

    #[test]
    fn a_request_error_has_no_data_entry_and_a_4xx_only_for_graphql_response_json() {
        let response = refused(ErrorCode::GraphqlParseFailed);
        assert!(never_executed(&response));
        let body = response_body(&response).expect("serializes");
        assert!(!body.contains("\"data\""), "{body}");
        let json = respond(
            refused(ErrorCode::GraphqlParseFailed),
            Vec::new(),
            ResponseFormat::Json,
        );
        assert_eq!(json.status(), StatusCode::OK);
        let graphql = respond(
            refused(ErrorCode::GraphqlParseFailed),
            Vec::new(),
            ResponseFormat::GraphqlResponseJson,
        );
        assert_eq!(graphql.status(), StatusCode::BAD_REQUEST);
        let get_mutation = respond(
            refused(ErrorCode::MethodNotAllowed),
            Vec::new(),
            ResponseFormat::GraphqlResponseJson,
        );
        assert_eq!(get_mutation.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[test]
    fn an_error_raised_while_executing_is_answered_200_with_its_data() {
        let mut located = coded_error(ErrorCode::BadUserInput, "input.first: too large");
        located.path = vec![async_graphql::PathSegment::Field("matchProviders".into())];
        let response = async_graphql::Response::from_errors(vec![located]);
        assert!(!never_executed(&response));
        assert!(
            response_body(&response)
                .expect("serializes")
                .contains("\"data\"")
        );
        let internal = refused(ErrorCode::InternalServerError);
        assert!(
            !never_executed(&internal),
            "an internal error is not a request error"
        );
        let http = respond(response, Vec::new(), ResponseFormat::GraphqlResponseJson);
        assert_eq!(http.status(), StatusCode::OK);
    }

    #[test]
    fn the_media_type_follows_the_accept_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(response_format(&headers), ResponseFormat::Json);
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/graphql-response+json, application/json"),
        );
        assert_eq!(
            response_format(&headers),
            ResponseFormat::GraphqlResponseJson
        );
        let refusal = error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "too large",
            ResponseFormat::GraphqlResponseJson,
        );
        assert_eq!(refusal.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            refusal.headers()[header::CONTENT_TYPE],
            "application/graphql-response+json"
        );
    }
}
