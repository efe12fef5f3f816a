//! The one way carematch talks to redis: every command has its own deadline and goes through
//! the circuit breaker, so a dead, slow or silent redis costs a request at most one timeout and,
//! once the breaker is open, nothing at all.
//!
//! Why a deadline around every call even though the connection manager has timeouts of its own:
//! measured with the manager on defaults, the second call after redis was killed hung for more
//! than 8 s while it reconnected; `tokio::time::timeout` bounds the whole call, reconnects included.

use std::future::Future;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{Client, RedisResult};

use crate::breaker::{BreakerState, CircuitBreaker};
use crate::error::CacheError;

/// Where redis is and how patient to be with it.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    pub url: String,
    /// Put in front of every key and channel, so several deployments (or tests) share a server.
    pub key_prefix: String,
    /// The deadline of one command, reconnection included.
    pub command_timeout: Duration,
    /// The deadline of opening a connection.
    pub connect_timeout: Duration,
    /// Failures in a row that open the breaker.
    pub breaker_failures: u32,
    /// How long an open breaker refuses calls before one probe.
    pub breaker_open_for: Duration,
}

impl RedisOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: "carematch:".into(),
            command_timeout: Duration::from_millis(100),
            connect_timeout: Duration::from_millis(500),
            breaker_failures: 3,
            breaker_open_for: Duration::from_secs(5),
        }
    }
}

/// A lazily connected redis with deadlines and a breaker. Cheap to share behind an `Arc`.
pub struct RedisLink {
    client: Client,
    manager: ConnectionManager,
    breaker: CircuitBreaker,
    options: RedisOptions,
}

impl std::fmt::Debug for RedisLink {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RedisLink")
            .field("key_prefix", &self.options.key_prefix)
            .field("breaker", &self.breaker.state())
            .finish_non_exhaustive()
    }
}

impl RedisLink {
    /// Checks the URL only: connecting happens on first use, so a replica starts (and serves
    /// from its own engine) while redis is down.
    pub fn new(options: RedisOptions) -> Result<Self, CacheError> {
        let client = Client::open(options.url.as_str()).map_err(CacheError::BadUrl)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.command_timeout))
            // Reconnect attempts happen inside calls: keep them few and short; the breaker and
            // the next call retry later anyway.
            .set_number_of_retries(1)
            .set_max_delay(options.connect_timeout);
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(CacheError::BadUrl)?;
        metrics::gauge!("carematch_redis_breaker_state").set(BreakerState::Closed.as_gauge());
        Ok(Self {
            breaker: CircuitBreaker::new(options.breaker_failures, options.breaker_open_for),
            client,
            manager,
            options,
        })
    }

    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    /// `key_prefix` + `name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.options.key_prefix)
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// A fresh client for a dedicated connection (pub/sub), with the same address.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Runs one command under the deadline and the breaker.
    async fn call<T, F, Fut>(&self, operation: &'static str, command: F) -> Result<T, CacheError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if !self.breaker.allow() {
            metrics::counter!("carematch_redis_errors_total", "operation" => operation, "reason" => "breaker_open")
                .increment(1);
            return Err(CacheError::BreakerOpen);
        }
        let outcome =
            tokio::time::timeout(self.options.command_timeout, command(self.manager.clone())).await;
        let error = match outcome {
            Ok(Ok(value)) => {
                self.breaker.record_success();
                self.publish_breaker_state();
                return Ok(value);
            }
            Ok(Err(error)) => CacheError::Redis(error),
            Err(_) => CacheError::Timeout(self.options.command_timeout),
        };
        let reason = match error {
            CacheError::Timeout(_) => "timeout",
            _ => "error",
        };
        metrics::counter!("carematch_redis_errors_total", "operation" => operation, "reason" => reason)
            .increment(1);
        if self.breaker.record_failure() {
            metrics::counter!("carematch_redis_breaker_opened_total").increment(1);
            tracing::warn!(%error, "redis failing: circuit breaker open, serving without redis");
        }
        self.publish_breaker_state();
        Err(error)
    }

    fn publish_breaker_state(&self) {
        metrics::gauge!("carematch_redis_breaker_state").set(self.breaker.state().as_gauge());
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.call("get", |mut connection| async move {
            redis::cmd("GET")
                .arg(key)
                .query_async::<Option<Vec<u8>>>(&mut connection)
                .await
        })
        .await
    }

    /// Sets `key` to `value`, expiring after `ttl` (at least a millisecond).
    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let milliseconds = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.call("set", |mut connection| async move {
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(milliseconds)
                .query_async::<()>(&mut connection)
                .await
        })
        .await
    }

    /// Publishes `payload` on `channel` (unprefixed name); returns the number of receivers.
    pub async fn publish(&self, channel: &str, payload: &[u8]) -> Result<usize, CacheError> {
        let channel = self.key(channel);
        self.call("publish", |mut connection| async move {
            redis::cmd("PUBLISH")
                .arg(channel)
                .arg(payload)
                .query_async::<usize>(&mut connection)
                .await
        })
        .await
    }

    /// A round trip, for readiness reports.
    pub async fn ping(&self) -> Result<(), CacheError> {
        self.call("ping", |mut connection| async move {
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .map(drop)
        })
        .await
    }
}
