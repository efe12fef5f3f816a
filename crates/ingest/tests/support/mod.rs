//! Test support: a migrated store on a database of its own per test, SQLite always and
//! PostgreSQL when `TEST_DATABASE_URL` is set (required under `CI=true`, as in the store's
//! suite), and the fixture files' paths.

#![allow(clippy::unwrap_used, dead_code)]

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use carematch_store::{Store, StoreOptions};
use futures::FutureExt;
use sea_orm::{ConnectionTrait, Database};

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn options() -> StoreOptions {
    StoreOptions {
        max_connections: 4,
        ..StoreOptions::default()
    }
}

pub async fn run_on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/ingest.db", folder.path().display());
    let store = Store::connect(&url, &options()).await.unwrap();
    store.migrate().await.unwrap();
    test(store.clone()).await;
    store.close().await.unwrap();
}

pub async fn run_on_postgres<F, Fut>(test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let Ok(base_url) = std::env::var("TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "TEST_DATABASE_URL must be set under CI=true"
        );
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let name = format!("carematch_ingest_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&base_url).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let (base, query) = base_url.split_once('?').unwrap_or((&base_url, ""));
    let server = &base[..base.rfind('/').unwrap()];
    let url = if query.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{query}")
    };
    let store = Store::connect(&url, &options()).await.unwrap();
    store.migrate().await.unwrap();
    let outcome = AssertUnwindSafe(test(store.clone())).catch_unwind().await;
    store.close().await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
    admin.close().await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Instantiates each listed `async fn(Store)` as `sqlite::<name>` and `postgres::<name>`.
#[macro_export]
macro_rules! on_every_backend {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    $crate::support::run_on_sqlite(super::$test).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    $crate::support::run_on_postgres(super::$test).await;
                }
            )+
        }
    };
}
