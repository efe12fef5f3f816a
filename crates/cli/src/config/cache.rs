//! Cache settings: redis (shared cache and change feed) and the ranked-list cache.

use std::time::Duration;

use carematch_cache::RedisOptions;
use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret, more_than_zero, refuse_placeholder};

/// Keys are the file's keys; the environment name is `CAREMATCH_` + the key in upper case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheSettings {
    /// Redis URL for the shared cache; unset means an in-process cache.
    pub redis_url: Option<Secret>,
    /// Put in front of every redis key and channel, so deployments can share a redis server.
    pub redis_key_prefix: String,
    /// The deadline of one redis command, reconnection included; a request waits no longer.
    pub redis_command_timeout_ms: u64,
    /// The deadline of opening a redis connection.
    pub redis_connect_timeout_ms: u64,
    /// Redis failures in a row that open the circuit breaker (requests then skip redis).
    pub redis_breaker_failures: u32,
    /// How long an open breaker skips redis before one probe call.
    pub redis_breaker_open_ms: u64,
    /// How long a ranked list stays cached (in process and in redis).
    pub cache_ttl_seconds: u64,
    /// Megabytes of ranked lists cached in this process.
    pub cache_capacity_mb: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            redis_url: None,
            redis_key_prefix: "carematch:".into(),
            redis_command_timeout_ms: 100,
            redis_connect_timeout_ms: 500,
            redis_breaker_failures: 3,
            redis_breaker_open_ms: 5_000,
            cache_ttl_seconds: 300,
            cache_capacity_mb: 64,
        }
    }
}

impl CacheSettings {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if let Some(redis_url) = &self.redis_url
            && !(redis_url.expose().starts_with("redis://")
                || redis_url.expose().starts_with("rediss://"))
        {
            return Err(ConfigError::InvalidSetting {
                setting: "CAREMATCH_REDIS_URL",
                problem: "must start with redis:// or rediss://".into(),
            });
        }
        more_than_zero(
            "CAREMATCH_REDIS_COMMAND_TIMEOUT_MS",
            self.redis_command_timeout_ms,
        )?;
        more_than_zero(
            "CAREMATCH_REDIS_CONNECT_TIMEOUT_MS",
            self.redis_connect_timeout_ms,
        )?;
        more_than_zero(
            "CAREMATCH_REDIS_BREAKER_FAILURES",
            u64::from(self.redis_breaker_failures),
        )?;
        more_than_zero("CAREMATCH_CACHE_TTL_SECONDS", self.cache_ttl_seconds)?;
        refuse_placeholder(
            "CAREMATCH_REDIS_URL",
            self.redis_url.as_ref().map(Secret::expose),
        )
    }

    /// How to reach redis, when `redis_url` is set.
    pub fn redis_options(&self) -> Option<RedisOptions> {
        let url = self.redis_url.as_ref()?;
        Some(RedisOptions {
            url: url.expose().to_owned(),
            key_prefix: self.redis_key_prefix.clone(),
            command_timeout: Duration::from_millis(self.redis_command_timeout_ms),
            connect_timeout: Duration::from_millis(self.redis_connect_timeout_ms),
            breaker_failures: self.redis_breaker_failures,
            breaker_open_for: Duration::from_millis(self.redis_breaker_open_ms),
        })
    }

    /// Bytes of ranked lists cached in this process.
    pub fn capacity_bytes(&self) -> u64 {
        self.cache_capacity_mb.saturating_mul(1024 * 1024)
    }

    /// For the start-up log: the redis URL (which may hold a password) hidden.
    pub(super) fn redacted(&self) -> serde_json::Value {
        let mut redacted = serde_json::json!(self);
        redacted["redis_url"] = serde_json::json!(self.redis_url.as_ref().map(|_| "[redacted]"));
        redacted
    }
}
