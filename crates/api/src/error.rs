//! The API's errors and the one table from each to its public `extensions.code`.

use async_graphql::ErrorExtensions;
use carematch_domain::ValidationError;

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

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadUserInput { .. } => "BAD_USER_INPUT",
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound => "NOT_FOUND",
            ApiError::Internal { .. } => "INTERNAL_SERVER_ERROR",
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
        match error {
            carematch_service::AuthError::NotAdmin => ApiError::Forbidden(error.to_string()),
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
            extensions.set("code", self.code());
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

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        error.extend()
    }
}
