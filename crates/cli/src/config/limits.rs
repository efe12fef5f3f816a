//! Query limits: what one GraphQL request may ask for before it is refused unexecuted.

use serde::{Deserialize, Serialize};

use super::{ConfigError, at_least_one};

/// Keys are the file's keys; the environment name is `CAREMATCH_` + the key in upper case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryLimitSettings {
    /// Deepest selection nesting a query may have.
    pub max_query_depth: usize,
    /// Highest query cost (one per field; `matchProviders` costs `first` times its selection).
    pub max_query_complexity: usize,
    /// Aliases per query, fragments expanded.
    pub max_aliases: usize,
    /// Root fields per operation, `__typename` included.
    pub max_root_fields: usize,
    /// Directives on one field.
    pub max_directives_per_field: usize,
    /// Bytes of a POST body (HTTP 413 beyond).
    pub max_request_body_bytes: usize,
    /// Bytes of the query text.
    pub max_query_bytes: usize,
}

impl Default for QueryLimitSettings {
    fn default() -> Self {
        Self {
            max_query_depth: 15,
            max_query_complexity: 5_000,
            max_aliases: 30,
            max_root_fields: 10,
            max_directives_per_field: 5,
            max_request_body_bytes: 256 * 1024,
            max_query_bytes: 32 * 1024,
        }
    }
}

impl QueryLimitSettings {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        for (setting, value) in [
            ("CAREMATCH_MAX_QUERY_DEPTH", self.max_query_depth),
            ("CAREMATCH_MAX_QUERY_COMPLEXITY", self.max_query_complexity),
            ("CAREMATCH_MAX_ROOT_FIELDS", self.max_root_fields),
            (
                "CAREMATCH_MAX_REQUEST_BODY_BYTES",
                self.max_request_body_bytes,
            ),
            ("CAREMATCH_MAX_QUERY_BYTES", self.max_query_bytes),
        ] {
            at_least_one(setting, value as u64)?;
        }
        Ok(())
    }
}
