//! The request's deadline: an operation still running after `request_timeout` is dropped and
//! answered `REQUEST_TIMEOUT`.

use std::future::Future;
use std::time::Duration;

use carematch_domain::ErrorCode;

use crate::limits::coded_error;

/// `run`'s response, or a `REQUEST_TIMEOUT` error when it takes longer than `timeout`.
pub(super) async fn within(
    timeout: Duration,
    run: impl Future<Output = async_graphql::Response>,
) -> async_graphql::Response {
    match tokio::time::timeout(timeout, run).await {
        Ok(response) => response,
        Err(_) => {
            let timeout_ms = timeout.as_millis();
            tracing::warn!(timeout_ms, "request timed out");
            async_graphql::Response::from_errors(vec![coded_error(
                ErrorCode::RequestTimeout,
                format!("the request took longer than {timeout_ms} ms"),
            )])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::error_code;

    #[tokio::test]
    async fn an_operation_past_its_deadline_is_answered_request_timeout() {
        let response = within(Duration::from_millis(20), std::future::pending()).await;
        assert_eq!(response.errors.len(), 1);
        assert_eq!(
            error_code(&response.errors[0]).as_deref(),
            Some("REQUEST_TIMEOUT")
        );
        assert_eq!(
            response.errors[0].message,
            "the request took longer than 20 ms"
        );
    }

    #[tokio::test]
    async fn an_operation_within_its_deadline_keeps_its_response() {
        let answered = async_graphql::Response::new(async_graphql::Value::from(7));
        let response = within(Duration::from_secs(5), async { answered }).await;
        assert!(response.errors.is_empty());
        assert_eq!(response.data, async_graphql::Value::from(7));
    }
}
