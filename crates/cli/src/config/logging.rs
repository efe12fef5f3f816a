//! Log settings: the format and the filter of the process's logs.

use serde::{Deserialize, Serialize};

/// Keys are the file's keys; the environment name is `CAREMATCH_` + the key in upper case.
/// Nothing to check: a filter that does not parse falls back to `info` (see `telemetry`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogSettings {
    /// Log format: `json`, `text`, or `auto` (text on a terminal, JSON otherwise).
    pub log_format: LogFormat,
    /// Log filter in `tracing` env-filter syntax.
    pub log_filter: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Auto,
            log_filter: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Text,
    Auto,
}
