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
