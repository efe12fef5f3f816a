//! Match-log settings: how long de-identified match logs are kept.

use serde::{Deserialize, Serialize};

use super::{ConfigError, at_least_one};

/// Keys are the file's keys; the environment name is `CAREMATCH_` + the key in upper case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatchLogSettings {
    /// Days match logs are kept: `carematch logs prune` deletes the weeks that started
    /// earlier (see docs/analysts.md).
    pub match_log_retention_days: u32,
}

impl Default for MatchLogSettings {
    fn default() -> Self {
        Self {
            match_log_retention_days: 180,
        }
    }
}

impl MatchLogSettings {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        at_least_one(
            "CAREMATCH_MATCH_LOG_RETENTION_DAYS",
            u64::from(self.match_log_retention_days),
        )
    }
}
