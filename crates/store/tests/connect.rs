//! Connection behaviour that is specific to one backend.

use carematch_store::{Store, StoreError, StoreOptions};

#[tokio::test]
async fn connecting_to_sqlite_creates_the_folder_and_the_file() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("a/b/carematch.db");
    let store = Store::connect(
        &format!("sqlite://{}", path.display()),
        &StoreOptions::default(),
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
    assert_eq!(store.backend_name(), "sqlite");
    assert!(path.exists());
    store.close().await.unwrap();
}

#[tokio::test]
async fn an_in_memory_sqlite_database_works_across_calls() {
    let store = Store::connect("sqlite::memory:", &StoreOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    assert_eq!(store.count_providers().await.unwrap(), 0);
    assert_eq!(store.data_generation().await.unwrap(), 0);
}

#[tokio::test]
async fn an_unsupported_url_is_refused() {
    let error = Store::connect("mysql://root@localhost/db", &StoreOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::UnsupportedUrl { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unreachable_postgres_server_is_unavailable() {
    let options = StoreOptions {
        connect_timeout: std::time::Duration::from_secs(2),
        acquire_timeout: std::time::Duration::from_secs(2),
        ..StoreOptions::default()
    };
    // Port 9 (discard) on loopback: nothing listens there.
    let error = Store::connect("postgres://postgres@127.0.0.1:9/none", &options)
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error:?}");
}
