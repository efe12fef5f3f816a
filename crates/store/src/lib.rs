//! carematch's database: sea-orm entities and migrations that run on SQLite and PostgreSQL,
//! and the repository API that returns domain types.
//!
//! Design: a provider is stored twice in one transaction. `providers.document` holds the whole
//! provider as JSON (the serde form of `ProviderDraft`), and normalized child tables
//! (`provider_care_types`, `provider_locations`, `provider_insurance`, ...) hold the same facts
//! as rows. The child tables are for SQL analysis and constraints; reads hydrate from
//! `document` alone, so streaming a million providers for an index build is one query per page
//! rather than nine.
//!
//! Every write bumps the `data_generation` counter in the same transaction (see the `state` module),
//! and deletes leave a tombstone, so replicas can catch up with [`Store::changed_since`].
//!
//! Architecture invariant: sea-orm types never leave this crate. The API speaks domain types,
//! plain record structs and [`StoreError`].

mod audit;
mod bulk;
mod by_npi;
mod entity;
mod error;
mod match_logs;
mod migration;
mod providers;
mod rows;
mod state;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;

use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;

pub use audit::AuditRecord;
pub use bulk::BulkLoadSummary;
pub use error::{DatabaseError, StoreError};
pub use match_logs::{
    ExportCursor, ExportedMatch, MATCH_LOG_TABLES, MatchLogRecord, MatchLogResultRecord,
    MatchOutcomeRecord, PreparedMatchLogs,
};
pub use providers::{Changes, UpsertOutcome};

/// How to connect. The defaults suit the embedded SQLite file and a small PostgreSQL pool.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Pool size. SQLite in WAL mode uses it for concurrent readers (writes still take turns);
    /// an in-memory SQLite database always uses one connection, as each would see its own.
    pub max_connections: u32,
    /// How long opening one connection may take.
    pub connect_timeout: Duration,
    /// How long a caller waits for a free pooled connection before `StoreError::Unavailable`.
    pub acquire_timeout: Duration,
    /// How long a SQLite writer waits for another writer's lock before giving up.
    pub sqlite_busy_timeout: Duration,
    /// Idle connections above the minimum are closed after this long (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// Connections are replaced after this long, so a server-side restart or failover is
    /// picked up even by connections that never went idle (`None`: never).
    pub max_lifetime: Option<Duration>,
    /// The most pages a SQLite database file may grow to (SQLite's `max_page_count`); a write
    /// past it fails as on a full disk. `None`: SQLite's own limit. Tests fill a database with
    /// it, in place of a full disk.
    pub sqlite_max_page_count: Option<u64>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            connect_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(10),
            sqlite_busy_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1_800)),
            sqlite_max_page_count: None,
        }
    }
}

/// The connections of the pool at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open, idle or in use.
    pub size: u32,
    pub idle: usize,
    pub max_size: u32,
}

/// The database, behind the repository API. Cheap to clone: clones share one pool.
#[derive(Clone)]
pub struct Store {
    connection: DatabaseConnection,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend_name())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn of_url(url: &str) -> Result<Backend, StoreError> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(StoreError::UnsupportedUrl {
                scheme: scheme.to_owned(),
            }),
        }
    }
}

/// The file path of a `sqlite:` URL, or `None` for an in-memory database.
fn sqlite_file_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path.is_empty() || path == ":memory:" || query.contains("mode=memory");
    (!in_memory).then_some(path)
}

impl Store {
    /// Connects to `sqlite:PATH` (the file and its folder are created when missing; WAL
    /// journal, busy timeout, foreign keys on) or `postgres://...`. Does not migrate.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Store, StoreError> {
        let backend = Backend::of_url(url)?;
        let mut connect_options = ConnectOptions::new(url.to_owned());
        connect_options
            .max_connections(options.max_connections.max(1))
            .connect_timeout(options.connect_timeout)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(options.idle_timeout)
            .max_lifetime(options.max_lifetime)
            // A connection the server closed (a PostgreSQL restart) fails this check and is
            // replaced, so the pool recovers without restarting the process.
            .test_before_acquire(true)
            // sqlx would log every statement at info level; statements are not our logs.
            .sqlx_logging(false);
        if backend == Backend::Sqlite {
            let file_path = sqlite_file_path(url);
            if let Some(path) = file_path {
                if let Some(folder) = std::path::Path::new(path).parent()
                    && !folder.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(folder).map_err(|source| {
                        StoreError::CreateDirectory {
                            path: path.to_owned(),
                            source,
                        }
                    })?;
                }
            } else {
                // An in-memory database lives as long as its one connection: never let the
                // pool retire it.
                connect_options
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(Option::<Duration>::None)
                    .max_lifetime(Option::<Duration>::None);
            }
            let busy_timeout = options.sqlite_busy_timeout;
            let on_disk = file_path.is_some();
            let max_page_count = options.sqlite_max_page_count;
            if on_disk {
                connect_options.map_sqlx_sqlite_pool_opts(|pool| {
                    pool.after_release(|connection, _| {
                        Box::pin(release_only_outside_a_transaction(connection))
                    })
                });
            }
            connect_options.map_sqlx_sqlite_opts(move |sqlite| {
                use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                let mut sqlite = sqlite
                    .create_if_missing(true)
                    .busy_timeout(busy_timeout)
                    .foreign_keys(true);
                if let Some(pages) = max_page_count {
                    sqlite = sqlite.pragma("max_page_count", pages.to_string());
                }
                if on_disk {
                    // WAL lets readers run beside the writer; NORMAL sync is durable enough
                    // in WAL mode (a power cut may lose the last commits, never corrupt).
                    // SQLite's default page cache is 2 MB: at a million providers the indexes
                    // no longer fit and every batch insert reads pages back from disk. 64 MB
                    // per connection keeps the hot index pages in memory.
                    sqlite
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .pragma("cache_size", "-65536")
                        .pragma("temp_store", "memory")
                } else {
                    sqlite
                }
            });
        }
        let connection = Database::connect(connect_options).await?;
        tracing::debug!(backend = ?backend, "connected to the database");
        Ok(Store { connection })
    }

    /// Applies the migrations not yet applied, then recreates any child-table index that a
    /// bulk load killed midway left missing. Running it again is a no-op.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migration::Migrator::up(&self.connection, None).await?;
        self.ensure_child_indexes().await?;
        Ok(())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.connection.ping().await?;
        Ok(())
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match self.connection.get_database_backend() {
            DbBackend::Sqlite => "sqlite",
            DbBackend::Postgres => "postgres",
            _ => "other",
        }
    }

    /// The pool's connections now, for metrics.
    pub fn pool_status(&self) -> PoolStatus {
        match self.connection.get_database_backend() {
            DbBackend::Postgres => {
                let pool = self.connection.get_postgres_connection_pool();
                PoolStatus {
                    size: pool.size(),
                    idle: pool.num_idle(),
                    max_size: pool.options().get_max_connections(),
                }
            }
            DbBackend::Sqlite => {
                let pool = self.connection.get_sqlite_connection_pool();
                PoolStatus {
                    size: pool.size(),
                    idle: pool.num_idle(),
                    max_size: pool.options().get_max_connections(),
                }
            }
            _ => PoolStatus::default(),
        }
    }

    /// Closes the pool (for every clone). Later calls fail as unavailable.
    pub async fn close(&self) -> Result<(), StoreError> {
        self.connection.close_by_ref().await?;
        Ok(())
    }
}

/// The pool's check on a SQLite connection coming back: one that is still inside a
/// transaction is closed instead of reused. After a disk filled, SQLite can roll a
/// transaction back on its own (a failed `COMMIT`); sqlx's count of open transactions then
/// stays one too high, the next `BEGIN` became a savepoint whose release committed nothing,
/// and the transaction it sat in held the write lock: every other connection answered
/// "database is locked" while this one "committed" writes that were never stored. Closing the
/// connection ends whatever transaction it holds.
async fn release_only_outside_a_transaction(
    connection: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<bool, sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Connection;
    if !connection.is_in_transaction() {
        return Ok(true);
    }
    // A transaction dropped without commit queues its rollback; the ping runs after it.
    connection.ping().await?;
    let clean = !connection.is_in_transaction();
    if !clean {
        tracing::warn!("a sqlite connection left inside a transaction is closed, not reused");
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_give_their_file_or_none_when_in_memory() {
        assert_eq!(
            sqlite_file_path("sqlite://data/carematch.db"),
            Some("data/carematch.db")
        );
        assert_eq!(
            sqlite_file_path("sqlite:data/c.db?mode=rwc"),
            Some("data/c.db")
        );
        assert_eq!(sqlite_file_path("sqlite:///tmp/c.db"), Some("/tmp/c.db"));
        assert_eq!(sqlite_file_path("sqlite::memory:"), None);
        assert_eq!(sqlite_file_path("sqlite://c.db?mode=memory"), None);
    }

    #[test]
    fn an_unknown_scheme_is_refused_without_echoing_the_url() {
        let error = Backend::of_url("mysql://root:secret@host/db").unwrap_err();
        assert!(matches!(error, StoreError::UnsupportedUrl { ref scheme } if scheme == "mysql"));
        assert!(!error.to_string().contains("secret"));
    }
}
