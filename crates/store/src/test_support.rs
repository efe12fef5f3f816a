//! Databases for tests (feature `test-support`), shared by every crate whose tests need one:
//! a migrated [`Store`] on a database of its own per test, on SQLite always and on PostgreSQL
//! when `TEST_DATABASE_URL` names a server, and [`on_every_backend!`](crate::on_every_backend)
//! to run one suite on both (quickwit's `metastore_test_suite!` idea).
//!
//! Without `TEST_DATABASE_URL` a PostgreSQL test is skipped, except under `CI=true`, where a
//! silent skip would hide a missing server.

// A harness fails by panicking: the test it serves fails with the cause.
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

use crate::{Store, StoreOptions};

/// What a suite's test gets: a migrated store on a database of its own, and that database's
/// URL for the few tests that must look under the store's API.
pub struct TestContext {
    pub store: Store,
    pub url: String,
}

impl TestContext {
    /// Runs one SQL statement that returns a single integer (e.g. a `COUNT(*)`).
    pub async fn scalar(&self, sql: &str) -> i64 {
        let connection = Database::connect(&self.url).await.unwrap();
        let backend = connection.get_database_backend();
        let row = connection
            .query_one_raw(Statement::from_string(backend, sql.to_owned()))
            .await
            .unwrap()
            .unwrap();
        let value: i64 = row.try_get_by_index(0).unwrap();
        connection.close().await.unwrap();
        value
    }

    /// The database's indexes as (name, definition), by name: from `sqlite_master` or
    /// `pg_indexes`. SQLite's automatic primary-key indexes have no definition ("").
    pub async fn indexes(&self) -> Vec<(String, String)> {
        let connection = Database::connect(&self.url).await.unwrap();
        let backend = connection.get_database_backend();
        let sql = match backend {
            DbBackend::Sqlite => {
                "SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' \
                 ORDER BY name"
            }
            _ => {
                "SELECT indexname::text, indexdef FROM pg_indexes \
                 WHERE schemaname = current_schema() ORDER BY indexname"
            }
        };
        let rows = connection
            .query_all_raw(Statement::from_string(backend, sql.to_owned()))
            .await
            .unwrap();
        connection.close().await.unwrap();
        rows.iter()
            .map(|row| {
                (
                    row.try_get_by_index(0).unwrap(),
                    row.try_get_by_index(1).unwrap(),
                )
            })
            .collect()
    }

    /// Runs one SQL statement for its effect.
    pub async fn execute(&self, sql: &str) {
        let connection = Database::connect(&self.url).await.unwrap();
        connection.execute_unprepared(sql).await.unwrap();
        connection.close().await.unwrap();
    }
}

/// A SQLite database file in a temporary folder of its own, removed when this is dropped.
pub struct SqliteDatabase {
    url: String,
    _folder: tempfile::TempDir,
}

impl SqliteDatabase {
    /// `sqlite://<temporary folder>/<path>`; `path` may name subfolders, which
    /// [`Store::connect`] creates with the file.
    pub fn create(path: &str) -> Self {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/{path}", folder.path().display());
        Self {
            url,
            _folder: folder,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A PostgreSQL database of its own on the server of `TEST_DATABASE_URL`, empty (not
/// migrated), dropped by [`PostgresDatabase::drop_database`].
pub struct PostgresDatabase {
    /// A connection to the server's own database, which can drop this one or refuse and cut
    /// its connections (an outage on demand).
    admin: DatabaseConnection,
    name: String,
    url: String,
}

impl PostgresDatabase {
    /// A new database named `<prefix>_<random>`, or `None` when `TEST_DATABASE_URL` is not set
    /// (the test is then skipped; under `CI=true` it fails instead).
    pub async fn create(prefix: &str) -> Option<Self> {
        let Ok(base_url) = std::env::var("TEST_DATABASE_URL") else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "TEST_DATABASE_URL must be set under CI=true"
            );
            eprintln!("skipped: TEST_DATABASE_URL is not set");
            return None;
        };
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut options = ConnectOptions::new(base_url.clone());
        options.max_connections(1).sqlx_logging(false);
        let admin = Database::connect(options).await.unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap();
        let url = with_database_name(&base_url, &name);
        Some(Self { admin, name, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The connection to the server's own database (not this one).
    pub fn admin(&self) -> &DatabaseConnection {
        &self.admin
    }

    /// Drops the database, cutting any connection still open to it.
    pub async fn drop_database(self) {
        self.admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await
            .unwrap();
        self.admin.close().await.unwrap();
    }
}

/// `postgres://user@host:5432/test?x=y` with `test` replaced by `name`.
fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    if query.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{query}")
    }
}

/// A small pool: tests run side by side, each with its own database.
fn test_options() -> StoreOptions {
    StoreOptions {
        max_connections: 4,
        ..StoreOptions::default()
    }
}

/// Runs `test` against a migrated SQLite file in a temporary folder of its own.
pub async fn run_on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(TestContext) -> Fut,
    Fut: Future<Output = ()>,
{
    let database = SqliteDatabase::create("nested/store.db");
    let url = database.url().to_owned();
    let store = Store::connect(&url, &test_options()).await.unwrap();
    store.migrate().await.unwrap();
    test(TestContext {
        store: store.clone(),
        url,
    })
    .await;
    store.close().await.unwrap();
}

/// Runs `test` against a migrated PostgreSQL database created for it and dropped after it,
/// pass or fail. Skipped without `TEST_DATABASE_URL` (see [`PostgresDatabase::create`]).
pub async fn run_on_postgres<F, Fut>(test: F)
where
    F: FnOnce(TestContext) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(database) = PostgresDatabase::create("carematch_test").await else {
        return;
    };
    let url = database.url().to_owned();
    let store = Store::connect(&url, &test_options()).await.unwrap();
    store.migrate().await.unwrap();
    let outcome = AssertUnwindSafe(test(TestContext {
        store: store.clone(),
        url,
    }))
    .catch_unwind()
    .await;
    store.close().await.unwrap();
    database.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Instantiates every listed `async fn(TestContext)` once per backend, as `sqlite::<name>`
/// and `postgres::<name>`. The calling crate needs tokio (with `macros`) among its
/// dev-dependencies.
#[macro_export]
macro_rules! on_every_backend {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    $crate::test_support::run_on_sqlite(super::$test).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    $crate::test_support::run_on_postgres(super::$test).await;
                }
            )+
        }
    };
}

#[cfg(test)]
mod tests {
    use super::with_database_name;

    #[test]
    fn the_database_name_replaces_the_path_and_keeps_the_query() {
        assert_eq!(
            with_database_name("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database_name("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database_name("postgres://u@h:5432", "x"),
            "postgres://u@h:5432/x"
        );
    }
}
