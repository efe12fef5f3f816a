//! A GraphQL POST: the CSRF check, the content encoding, the body read within its size limit
//! and deadline, and batch refusal, before the request is executed.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use carematch_domain::ErrorCode;

use super::RouterState;
use super::csrf::may_be_forged_cross_site;
use super::execute::execute;
use super::response::{error_response, response_format};

pub(super) async fn graphql_post(
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
