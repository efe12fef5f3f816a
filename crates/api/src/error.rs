//! The API's resolver errors and their public `extensions.code` (a code of the one table,
//! `carematch_domain::ErrorCode`).

use async_graphql::ErrorExtensions;
use carematch_domain::{ErrorCode, HasErrorCode, ValidationError};

/// Every error a resolver returns. User errors say what to fix; internal ones say nothing of
/// the cause (it goes to the log, with the request id the client also gets).
///
/// It deliberately does not implement `Display`: async-graphql converts any `Display` type into
/// an error without extensions, and every error here must carry its `extensions.code`.
#[derive(Debug)]
pub enum ApiError {
    BadUserInput { field: String, message: String },
    Unauthenticated(String),
    Forbidden(String),
    NotFound,
    Internal { request_id: String },
}

impl ApiError {
    /// The message the client reads.
    pub fn message(&self) -> String {
        match self {
            ApiError::BadUserInput { field, message } => format!("{field}: {message}"),
            ApiError::Unauthenticated(message) | ApiError::Forbidden(message) => message.clone(),
            ApiError::NotFound => "not found".to_owned(),
            ApiError::Internal { request_id } => {
                format!("internal error (request id {request_id})")
            }
        }
    }

    /// The code the client reads (also through [`HasErrorCode`]).
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadUserInput { .. } => ErrorCode::BadUserInput,
            ApiError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::NotFound => ErrorCode::NotFound,
            ApiError::Internal { .. } => ErrorCode::InternalServerError,
        }
    }

    /// A validation error of the argument `argument` (`input`, or empty for top-level arguments).
    pub fn invalid(argument: &str, error: ValidationError) -> Self {
        let error = if argument.is_empty() {
            error
        } else {
            error.within(argument)
        };
        ApiError::BadUserInput {
            field: error.field,
            message: error.problem,
        }
    }

    /// Logs the cause with a fresh request id and returns the opaque error the client sees.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        let request_id = request_id();
        tracing::error!(request_id, error = %error_chain(cause), "internal error");
        ApiError::Internal { request_id }
    }
}

impl ApiError {
    /// Same as [`internal`](Self::internal) for a cause known only by its message.
    pub fn internal_message(cause: &str) -> Self {
        let request_id = request_id();
        tracing::error!(request_id, error = cause, "internal error");
        ApiError::Internal { request_id }
    }
}

impl From<carematch_service::AuthError> for ApiError {
    fn from(error: carematch_service::AuthError) -> Self {
        match error.code() {
            ErrorCode::Forbidden => ApiError::Forbidden(error.to_string()),
            _ => ApiError::Unauthenticated(error.to_string()),
        }
    }
}

/// The HTTP request's id (the `x-request-id` the client also gets), or a fresh one outside a
/// request.
fn request_id() -> String {
    crate::http::current_request_id().unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.message()).extend_with(|_, extensions| {
            extensions.set("code", self.code().as_str());
            match self {
                ApiError::BadUserInput { field, .. } => extensions.set("field", field.as_str()),
                ApiError::Internal { request_id } => {
                    extensions.set("requestId", request_id.as_str())
                }
                ApiError::NotFound | ApiError::Unauthenticated(_) | ApiError::Forbidden(_) => {}
            }
        })
    }
}

impl HasErrorCode for ApiError {
    fn code(&self) -> ErrorCode {
        ApiError::code(self)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        error.extend()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extension_code(error: &ApiError) -> Option<async_graphql::Value> {
        error
            .extend()
            .extensions
            .and_then(|extensions| extensions.get("code").cloned())
    }

    #[test]
    fn each_error_writes_its_code_of_the_table() {
        let cases = [
            (
                ApiError::BadUserInput {
                    field: "input.first".into(),
                    message: "must be between 1 and 50".into(),
                },
                "BAD_USER_INPUT",
            ),
            (
                ApiError::Unauthenticated("no token".into()),
                "UNAUTHENTICATED",
            ),
            (ApiError::Forbidden("not an admin".into()), "FORBIDDEN"),
            (ApiError::NotFound, "NOT_FOUND"),
            (
                ApiError::Internal {
                    request_id: "req-1".into(),
                },
                "INTERNAL_SERVER_ERROR",
            ),
        ];
        for (error, wire) in cases {
            assert_eq!(HasErrorCode::code(&error), wire);
            assert_eq!(
                extension_code(&error),
                Some(async_graphql::Value::from(wire))
            );
        }
    }

    #[test]
    fn a_validation_error_keeps_its_field_under_the_argument() {
        let error = ApiError::invalid(
            "input",
            ValidationError::new("location.latitude", "must be at most 90"),
        );
        assert_eq!(error.code(), ErrorCode::BadUserInput);
        assert_eq!(
            error.message(),
            "input.location.latitude: must be at most 90"
        );
    }
}
