//! Liveness and readiness: what `/healthz` and `/readyz` answer, shared by the start-up task,
//! the shutdown signal and (issue 5) the cache and change-propagation code.
//!
//! Liveness is the process serving HTTP, nothing more: it never touches the database or redis,
//! so a database outage cannot make the platform restart every replica. Readiness is whether
//! this replica should get traffic: its index is loaded and caught up with the database, the
//! database answers a ping and can be written (the match-log writer's inserts are not failing:
//! a full disk answers pings), and it is not draining for shutdown. Redis is optional: when it is
//! down the replica is *degraded* (slower, no shared cache) but still ready.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

use carematch_store::Store;

use crate::match_log::MatchLogWriter;
use serde::Serialize;
use tokio::sync::watch;

/// How long `/readyz` waits for the database's answer before calling it unreachable. Short, so
/// a probe with a one-second timeout of its own still gets an answer.
pub const DATABASE_PING_TIMEOUT: Duration = Duration::from_millis(800);

/// What this replica knows of redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedisStatus {
    /// No `CAREMATCH_REDIS_URL`: the in-process cache is used; nothing to report.
    NotConfigured,
    /// Configured, no call answered or failed yet.
    Unknown,
    /// The last call answered.
    Up,
    /// The last calls failed or the circuit breaker is open: requests go straight to the engine.
    Down,
}

impl RedisStatus {
    fn to_u8(self) -> u8 {
        match self {
            RedisStatus::NotConfigured => 0,
            RedisStatus::Unknown => 1,
            RedisStatus::Up => 2,
            RedisStatus::Down => 3,
        }
    }

    fn from_u8(value: u8) -> Self {
        match value {
            1 => RedisStatus::Unknown,
            2 => RedisStatus::Up,
            3 => RedisStatus::Down,
            _ => RedisStatus::NotConfigured,
        }
    }
}

/// How the start-up work (connect, migrate, seed, open or rebuild the index) went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartupPhase {
    /// Still working: `/graphql` answers 503 `SERVICE_UNAVAILABLE`.
    Starting,
    /// The index is loaded and the application serves `/graphql`.
    Started,
    /// Start-up failed (the message names the cause); the process is stopping.
    Failed(String),
}

/// The flags behind `/readyz`. Shared behind an `Arc`; every setter is cheap and lock-free.
#[derive(Debug)]
pub struct Readiness {
    startup: watch::Sender<StartupPhase>,
    /// The local index matches the database. True after the start-up synchronization; the
    /// change-propagation code clears it while it knows it is behind (issue 5).
    caught_up: AtomicBool,
    /// Set on SIGTERM: the platform should stop sending traffic here.
    draining: AtomicBool,
    redis: AtomicU8,
    /// The database to ping, once connected.
    database: OnceLock<Store>,
    /// The match-log writer, whose failing inserts say the database cannot be written.
    match_log: OnceLock<MatchLogWriter>,
}

impl Default for Readiness {
    fn default() -> Self {
        Self::new()
    }
}

impl Readiness {
    pub fn new() -> Self {
        Self {
            startup: watch::Sender::new(StartupPhase::Starting),
            caught_up: AtomicBool::new(true),
            draining: AtomicBool::new(false),
            redis: AtomicU8::new(RedisStatus::NotConfigured.to_u8()),
            database: OnceLock::new(),
            match_log: OnceLock::new(),
        }
    }

    /// The database that `/readyz` pings. Set once, when start-up has connected.
    pub fn attach_database(&self, store: Store) {
        let _ = self.database.set(store);
    }

    /// The match-log writer whose failing inserts make the database `unwritable`. Set once.
    pub fn attach_match_log_writer(&self, writer: MatchLogWriter) {
        let _ = self.match_log.set(writer);
    }

    /// Marks the index loaded and the application serving.
    pub fn set_started(&self) {
        self.startup.send_replace(StartupPhase::Started);
    }

    /// Marks start-up failed, waking whoever waits for it.
    pub fn set_failed(&self, problem: String) {
        self.startup.send_replace(StartupPhase::Failed(problem));
    }

    pub fn startup_state(&self) -> StartupPhase {
        self.startup.borrow().clone()
    }

    /// True once the index is loaded and `/graphql` is served.
    pub fn index_loaded(&self) -> bool {
        *self.startup.borrow() == StartupPhase::Started
    }

    /// Waits until start-up has finished: `Ok` when serving, `Err` with the cause when it failed.
    pub async fn wait_started(&self) -> Result<(), String> {
        let mut receiver = self.startup.subscribe();
        let state = receiver
            .wait_for(|state| *state != StartupPhase::Starting)
            .await
            .map(|state| state.clone())
            .map_err(|_| "start-up stopped".to_owned())?;
        match state {
            StartupPhase::Started => Ok(()),
            StartupPhase::Failed(problem) => Err(problem),
            StartupPhase::Starting => unreachable!("waited for another state"),
        }
    }

    /// Whether the local index has caught up with the database (issue 5's catch-up sets it).
    pub fn set_caught_up(&self, caught_up: bool) {
        self.caught_up.store(caught_up, Ordering::Relaxed);
    }

    pub fn caught_up(&self) -> bool {
        self.caught_up.load(Ordering::Relaxed)
    }

    /// Turns readiness false for good: called at once on SIGTERM.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// What redis did last (issue 5's cache and propagation code sets it).
    pub fn set_redis(&self, status: RedisStatus) {
        self.redis.store(status.to_u8(), Ordering::Relaxed);
    }

    pub fn redis(&self) -> RedisStatus {
        RedisStatus::from_u8(self.redis.load(Ordering::Relaxed))
    }

    /// Runs every check (the database ping included) and says whether to send traffic here.
    pub async fn check(&self) -> ReadinessReport {
        let database = match self.database.get() {
            None => DatabaseStatus::NotConnected,
            Some(store) => match tokio::time::timeout(DATABASE_PING_TIMEOUT, store.ping()).await {
                Ok(Ok(()))
                    if self
                        .match_log
                        .get()
                        .is_some_and(MatchLogWriter::writes_failing) =>
                {
                    tracing::warn!("readiness: the database answers but cannot be written");
                    DatabaseStatus::Unwritable
                }
                Ok(Ok(())) => DatabaseStatus::Up,
                Ok(Err(error)) => {
                    tracing::warn!(error = %error, "readiness: the database did not answer");
                    DatabaseStatus::Down
                }
                Err(_) => {
                    tracing::warn!(
                        timeout_ms = DATABASE_PING_TIMEOUT.as_millis(),
                        "readiness: the database ping timed out"
                    );
                    DatabaseStatus::Down
                }
            },
        };
        let index_loaded = self.index_loaded();
        let caught_up = self.caught_up();
        let draining = self.draining();
        let redis = self.redis();
        let ready = index_loaded && caught_up && !draining && database == DatabaseStatus::Up;
        let status = if !ready {
            "not_ready"
        } else if redis == RedisStatus::Down {
            "degraded"
        } else {
            "ready"
        };
        ReadinessReport {
            status,
            ready,
            checks: ReadinessChecks {
                index_loaded,
                caught_up,
                database,
                redis,
                draining,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseStatus {
    /// Start-up has not connected yet.
    NotConnected,
    Up,
    /// It answers, but writes fail (a full disk, a lock held): match logs pile up.
    Unwritable,
    Down,
}

/// The body of `/readyz`.
#[derive(Debug, Clone, Serialize)]
pub struct ReadinessReport {
    /// `ready`, `degraded` (ready, redis down) or `not_ready`.
    pub status: &'static str,
    /// HTTP 200 when true, 503 otherwise.
    pub ready: bool,
    pub checks: ReadinessChecks,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReadinessChecks {
    pub index_loaded: bool,
    pub caught_up: bool,
    pub database: DatabaseStatus,
    pub redis: RedisStatus,
    pub draining: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn connected() -> Readiness {
        let store = Store::connect("sqlite::memory:", &Default::default())
            .await
            .expect("in-memory database");
        let readiness = Readiness::new();
        readiness.attach_database(store);
        readiness
    }

    #[tokio::test]
    async fn ready_only_once_started_with_a_database_and_not_draining() {
        let readiness = Readiness::new();
        let report = readiness.check().await;
        assert!(!report.ready);
        assert_eq!(report.checks.database, DatabaseStatus::NotConnected);

        let readiness = connected().await;
        assert!(!readiness.check().await.ready, "index not loaded yet");
        readiness.set_started();
        let report = readiness.check().await;
        assert!(report.ready, "{report:?}");
        assert_eq!(report.status, "ready");

        readiness.set_caught_up(false);
        assert!(!readiness.check().await.ready);
        readiness.set_caught_up(true);

        readiness.set_draining();
        let report = readiness.check().await;
        assert!(!report.ready);
        assert_eq!(report.status, "not_ready");
    }

    #[tokio::test]
    async fn redis_down_is_degraded_but_ready() {
        let readiness = connected().await;
        readiness.set_started();
        readiness.set_redis(RedisStatus::Down);
        let report = readiness.check().await;
        assert!(report.ready);
        assert_eq!(report.status, "degraded");
        readiness.set_redis(RedisStatus::Up);
        assert_eq!(readiness.check().await.status, "ready");
    }

    #[tokio::test]
    async fn a_closed_database_is_not_ready() {
        let readiness = connected().await;
        readiness.set_started();
        readiness
            .database
            .get()
            .expect("attached")
            .close()
            .await
            .expect("closes");
        let report = readiness.check().await;
        assert!(!report.ready);
        assert_eq!(report.checks.database, DatabaseStatus::Down);
    }

    #[tokio::test]
    async fn a_database_whose_match_log_inserts_fail_is_unwritable_and_not_ready() {
        // No tables until `migrate`: the database answers pings, every insert fails.
        let store = Store::connect("sqlite::memory:", &Default::default())
            .await
            .expect("in-memory database");
        let writer = MatchLogWriter::start(
            store.clone(),
            crate::match_log::MatchLogWriterOptions {
                initial_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(20),
                ..Default::default()
            },
        );
        let readiness = Readiness::new();
        readiness.attach_database(store.clone());
        readiness.attach_match_log_writer(writer.clone());
        readiness.set_started();
        assert!(readiness.check().await.ready, "nothing written yet");

        let record = crate::match_log::example_record(1);
        assert!(writer.log(record));
        while !writer.writes_failing() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let report = readiness.check().await;
        assert!(!report.ready);
        assert_eq!(report.checks.database, DatabaseStatus::Unwritable);

        store.migrate().await.expect("migrates");
        assert!(writer.flush(Duration::from_secs(5)).await);
        let report = readiness.check().await;
        assert!(report.ready, "{report:?}");
        assert_eq!(report.checks.database, DatabaseStatus::Up);
    }

    #[tokio::test]
    async fn waiting_for_start_up_reports_a_failure() {
        let readiness = std::sync::Arc::new(Readiness::new());
        let waiter = {
            let readiness = std::sync::Arc::clone(&readiness);
            tokio::spawn(async move { readiness.wait_started().await })
        };
        readiness.set_failed("migrations failed".into());
        assert_eq!(
            waiter.await.expect("joins"),
            Err("migrations failed".to_owned())
        );
    }
}
