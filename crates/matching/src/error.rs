//! The one error type of the matching crate. Bad user input never gets here: it is rejected as
//! a `ValidationError` when the request is validated.

/// A failure of the engine: a broken index or a configuration that cannot rank.
#[derive(Debug, thiserror::Error)]
pub enum MatchingError {
    #[error("provider index failure")]
    Index(#[from] carematch_search::SearchError),
    #[error("invalid ranking configuration: {0}")]
    InvalidConfig(String),
}

impl carematch_domain::HasErrorCode for MatchingError {
    fn code(&self) -> carematch_domain::ErrorCode {
        match self {
            MatchingError::Index(error) => carematch_domain::HasErrorCode::code(error),
            MatchingError::InvalidConfig(_) => carematch_domain::ErrorCode::InternalServerError,
        }
    }
}

#[cfg(test)]
mod tests {
    use carematch_domain::{ErrorCode, HasErrorCode};

    use super::MatchingError;

    #[test]
    fn an_engine_failure_is_internal() {
        let index = MatchingError::Index(carematch_search::SearchError::CorruptCommitPayload(
            "not json".into(),
        ));
        assert_eq!(index.code(), ErrorCode::InternalServerError);
        let config = MatchingError::InvalidConfig("weights sum to zero".into());
        assert_eq!(config.code(), ErrorCode::InternalServerError);
    }
}
