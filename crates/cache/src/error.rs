/// Why a redis call did not answer. Callers treat every one of them as "no cache": redis is an
/// optimisation, never a dependency for correctness.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("CAREMATCH_REDIS_URL is not a redis URL: {0}")]
    BadUrl(#[source] redis::RedisError),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("redis circuit breaker is open")]
    BreakerOpen,
    #[error("change event could not be encoded or decoded: {0}")]
    Encoding(#[from] serde_json::Error),
}

/// Never answered to a client (a redis failure is a cache miss); internal if one ever were.
impl carematch_domain::HasErrorCode for CacheError {
    fn code(&self) -> carematch_domain::ErrorCode {
        carematch_domain::ErrorCode::InternalServerError
    }
}
