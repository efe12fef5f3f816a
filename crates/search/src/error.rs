//! The one error type of the search crate: what went wrong opening, writing or reading the index.

/// A failure of the provider index. None of these is the user's fault: the API maps them all to
/// an internal error and logs the cause chain.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("index engine failure")]
    Engine(#[from] tantivy::TantivyError),
    #[error("index directory could not be opened")]
    OpenDirectory(#[from] tantivy::directory::error::OpenDirectoryError),
    #[error("index file operation failed")]
    Io(#[from] std::io::Error),
    #[error("stored provider {document} could not be read: {problem}")]
    CorruptStoredProvider { document: String, problem: String },
    #[error("index commit metadata could not be read: {0}")]
    CorruptCommitPayload(String),
}

impl carematch_domain::HasErrorCode for SearchError {
    fn code(&self) -> carematch_domain::ErrorCode {
        carematch_domain::ErrorCode::InternalServerError
    }
}

#[cfg(test)]
mod tests {
    use carematch_domain::{ErrorCode, HasErrorCode};

    #[test]
    fn every_index_failure_is_internal() {
        let error = super::SearchError::CorruptCommitPayload("not json".into());
        assert_eq!(error.code(), ErrorCode::InternalServerError);
    }
}
