//! Database settings: which database, and the pool's size and deadlines.

use std::time::Duration;

use carematch_store::StoreOptions;
use serde::{Deserialize, Serialize};

use super::{ConfigError, at_least_one, redact_url_password, refuse_placeholder};

/// Keys are the file's keys; the environment name is `CAREMATCH_` + the key in upper case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseSettings {
    /// SQLite (`sqlite://path?mode=rwc`) or PostgreSQL (`postgres://...`) URL.
    pub database_url: String,
    /// Maximum database connections in the pool.
    pub database_max_connections: u32,
    /// How long opening one database connection may take, in milliseconds.
    pub database_connect_timeout_ms: u64,
    /// How long a request waits for a free pooled connection, in milliseconds, before it fails
    /// as unavailable (instead of queueing without end while the database is down).
    pub database_acquire_timeout_ms: u64,
    /// Idle pooled connections are closed after this many seconds; 0 keeps them.
    pub database_idle_timeout_seconds: u64,
    /// Pooled connections are replaced after this many seconds; 0 keeps them.
    pub database_max_lifetime_seconds: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/carematch.db?mode=rwc".into(),
            database_max_connections: 10,
            database_connect_timeout_ms: 5_000,
            database_acquire_timeout_ms: 5_000,
            database_idle_timeout_seconds: 600,
            database_max_lifetime_seconds: 1_800,
        }
    }
}

impl DatabaseSettings {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let url = self.database_url.as_str();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::InvalidSetting {
                setting: "CAREMATCH_DATABASE_URL",
                problem: "must start with sqlite:, postgres:// or postgresql://".into(),
            });
        }
        at_least_one(
            "CAREMATCH_DATABASE_MAX_CONNECTIONS",
            u64::from(self.database_max_connections),
        )?;
        at_least_one(
            "CAREMATCH_DATABASE_CONNECT_TIMEOUT_MS",
            self.database_connect_timeout_ms,
        )?;
        at_least_one(
            "CAREMATCH_DATABASE_ACQUIRE_TIMEOUT_MS",
            self.database_acquire_timeout_ms,
        )?;
        refuse_placeholder("CAREMATCH_DATABASE_URL", Some(url))
    }

    /// The pool's options; 0 seconds of idle time or lifetime means never.
    pub fn store_options(&self) -> StoreOptions {
        let never_when_zero = |seconds: u64| (seconds > 0).then(|| Duration::from_secs(seconds));
        StoreOptions {
            max_connections: self.database_max_connections,
            connect_timeout: Duration::from_millis(self.database_connect_timeout_ms),
            acquire_timeout: Duration::from_millis(self.database_acquire_timeout_ms),
            idle_timeout: never_when_zero(self.database_idle_timeout_seconds),
            max_lifetime: never_when_zero(self.database_max_lifetime_seconds),
            ..StoreOptions::default()
        }
    }

    /// For the start-up log: the URL's password hidden.
    pub(super) fn redacted(&self) -> serde_json::Value {
        let mut redacted = serde_json::json!(self);
        redacted["database_url"] = redact_url_password(&self.database_url).into();
        redacted
    }
}
