//! Migration 5 on data written by the old layout, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL: the store is migrated to migration 4, rows go into the old
//! `match_log_results` table, and what the table, the views over it and the store's reads
//! gave before must be what they give after (and after `down`, and `up` again).

// Unwrapping is how these tests fail.
#![allow(clippy::unwrap_used)]

use carematch_domain::{PaymentFit, ProviderId};
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::{Alias, Query, SimpleExpr};
use uuid::Uuid;

use super::Migrator;
use crate::test_support::{PostgresDatabase, SqliteDatabase};
use crate::{MatchLogResultRecord, Store, StoreOptions};

const ORIGINAL: u128 = 1;
const REPLAY: u128 = 2;
const EMPTY: u128 = 3;
const SECOND: u128 = 4;

/// Doubles whose shortest decimal needs 16 or 17 digits, or an exponent, or is integral:
/// the ones a 15-digit rendering (SQLite's JSON functions) would change.
fn awkward(n: usize) -> f64 {
    const VALUES: [f64; 9] = [
        1.0 / 3.0,
        0.1 + 0.2,
        2.0 / 3.0 * 1e-7,
        0.731_234_567_890_123_4,
        1e20,
        0.0,
        1.0,
        0.999_999_999_999_999_9,
        123_456.789_012_345_67,
    ];
    VALUES[n % VALUES.len()]
}

/// The results of a match as the old table held them, in rank order.
fn results(match_n: u128, count: u32) -> Vec<MatchLogResultRecord> {
    let fits = [
        PaymentFit::InNetwork,
        PaymentFit::SelfPay,
        PaymentFit::FsaHsaWithLetterOfMedicalNecessity,
    ];
    (1..=count)
        .map(|rank| {
            let n = (match_n as usize) * 7 + rank as usize;
            MatchLogResultRecord {
                rank,
                provider_id: ProviderId::from_uuid(Uuid::from_u128(
                    0xabcd_0000_0000_0000_0000_0000_0000_0000 + u128::from(rank),
                )),
                score: awkward(n),
                need_fit: awkward(n + 1),
                distance: awkward(n + 2),
                certification: awkward(n + 3),
                payment: awkward(n + 4),
                availability: awkward(n + 5),
                text: awkward(n + 6),
                payment_fit: fits[n % fits.len()],
                beyond_radius: rank % 2 == 0,
            }
        })
        .collect()
}

fn week() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

async fn insert_old_log(connection: &DatabaseConnection, n: u128, replay_of: Option<u128>) {
    let column = |name: &str| Alias::new(name);
    let statement = Query::insert()
        .into_table(Alias::new("match_logs"))
        .columns(
            [
                "id",
                "week_start",
                "state",
                "radius_km",
                "care_types_recommended",
                "care_types_requested",
                "symptoms",
                "warning_signs",
                "has_fsa_or_hsa",
                "has_referral",
                "languages",
                "modes",
                "text_given",
                "result_count",
                "radius_widened",
                "cache_hit",
                "latency_ms",
                "operation",
                "replay_of",
            ]
            .map(column),
        )
        .values_panic([
            Uuid::from_u128(n).into(),
            week().into(),
            "OR".into(),
            25.0_f64.into(),
            "DOULA".into(),
            "".into(),
            "".into(),
            "".into(),
            false.into(),
            false.into(),
            "".into(),
            "".into(),
            false.into(),
            3_i32.into(),
            false.into(),
            replay_of.is_some().into(),
            1.5_f64.into(),
            "matchProviders".into(),
            replay_of.map(Uuid::from_u128).into(),
        ])
        .to_owned();
    connection.execute(&statement).await.unwrap();
}

/// Rows in the old table, in reverse rank order so that order comes from `rank`, not from
/// insertion.
async fn insert_old_results(
    connection: &DatabaseConnection,
    match_n: u128,
    rows: &[MatchLogResultRecord],
) {
    for row in rows.iter().rev() {
        let values: [SimpleExpr; 12] = [
            Uuid::from_u128(match_n).into(),
            i32::try_from(row.rank).unwrap().into(),
            row.provider_id.as_uuid().into(),
            row.score.into(),
            row.need_fit.into(),
            row.distance.into(),
            row.certification.into(),
            row.payment.into(),
            row.availability.into(),
            row.text.into(),
            row.payment_fit.code().into(),
            row.beyond_radius.into(),
        ];
        let statement = Query::insert()
            .into_table(Alias::new("match_log_results"))
            .columns(
                [
                    "match_id",
                    "rank",
                    "provider_id",
                    "score",
                    "need_fit",
                    "distance",
                    "certification",
                    "payment",
                    "availability",
                    "text",
                    "payment_fit",
                    "beyond_radius",
                ]
                .map(Alias::new),
            )
            .values_panic(values)
            .to_owned();
        connection.execute(&statement).await.unwrap();
    }
}

/// Every row of a table or view, ordered, each column with its type as the database reports
/// it: on SQLite `typeof` and `quote` (which writes a double with all its digits), on
/// PostgreSQL `row_to_json` (doubles with all their digits: sqlx sets extra_float_digits)
/// and the columns' types from `information_schema`.
async fn snapshot(connection: &DatabaseConnection, relation: &str, order_by: &str) -> Vec<String> {
    let backend = connection.get_database_backend();
    let query = |sql: String| async move {
        connection
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.try_get_by_index::<String>(0).unwrap())
            .collect::<Vec<_>>()
    };
    match backend {
        DbBackend::Postgres => {
            let mut rows = query(format!(
                "SELECT column_name || ' ' || data_type || COALESCE('(' || character_maximum_length || ')', '') \
                 FROM information_schema.columns WHERE table_name = '{relation}' \
                 AND table_schema = current_schema() ORDER BY ordinal_position"
            ))
            .await;
            rows.extend(
                query(format!(
                    "SELECT row_to_json(t)::text FROM {relation} t ORDER BY {order_by}"
                ))
                .await,
            );
            rows
        }
        _ => {
            let columns = query(format!("SELECT name FROM pragma_table_info('{relation}')")).await;
            let cells = columns
                .iter()
                .map(|column| {
                    format!("'{column}=' || typeof(\"{column}\") || ':' || quote(\"{column}\")")
                })
                .collect::<Vec<_>>()
                .join(" || ' ' || ");
            query(format!(
                "SELECT {cells} FROM {relation} ORDER BY {order_by}"
            ))
            .await
        }
    }
}

/// What migration 5 must keep: the results (table, then view) and the two views over them.
async fn snapshots(connection: &DatabaseConnection) -> Vec<Vec<String>> {
    vec![
        snapshot(connection, "match_log_results", "match_id, rank").await,
        snapshot(connection, "match_rank_outcomes", "operation, rank").await,
        snapshot(
            connection,
            "match_payment_fit_mix",
            "week_start, state, payment_fit",
        )
        .await,
    ]
}

async fn old_layout_survives(store: Store) {
    let connection = &store.connection;
    Migrator::up(connection, Some(4)).await.unwrap();
    let original = results(ORIGINAL, 3);
    let second = results(SECOND, 20);
    insert_old_log(connection, ORIGINAL, None).await;
    insert_old_log(connection, REPLAY, Some(ORIGINAL)).await;
    insert_old_log(connection, EMPTY, None).await;
    insert_old_log(connection, SECOND, None).await;
    insert_old_results(connection, ORIGINAL, &original).await;
    insert_old_results(connection, SECOND, &second).await;
    connection
        .execute_unprepared(&format!(
            "INSERT INTO match_outcomes (id, match_id, provider_id, outcome, recorded_week) \
             VALUES ({}, {}, {}, 'BOOKED', '2026-11-23')",
            uuid_literal(connection, 99),
            uuid_literal(connection, REPLAY),
            uuid_literal(connection, 0xabcd_0000_0000_0000_0000_0000_0000_0002),
        ))
        .await
        .unwrap();
    let before = snapshots(connection).await;
    assert_eq!(
        before[0].len(),
        if is_postgres(connection) { 12 + 23 } else { 23 }
    );

    store.migrate().await.unwrap();
    let after = snapshots(connection).await;
    assert_eq!(
        after, before,
        "the view reads what the table held, types included"
    );
    let count = |sql: &str| {
        let sql = sql.to_owned();
        async move {
            connection
                .query_one_raw(Statement::from_string(
                    connection.get_database_backend(),
                    sql,
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get_by_index::<i64>(0)
                .unwrap()
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM seaql_migrations").await, 5);
    assert_eq!(
        count("SELECT COUNT(*) FROM match_logs WHERE results IS NULL").await,
        2,
        "the replay and the match without results hold nothing"
    );

    // The store reads the packed column itself: the same doubles, bit for bit, in rank order.
    let read = |n: u128| store.get_match_log(Uuid::from_u128(n));
    assert_eq!(read(ORIGINAL).await.unwrap().unwrap().results, original);
    assert_eq!(read(REPLAY).await.unwrap().unwrap().results, original);
    assert_eq!(read(SECOND).await.unwrap().unwrap().results, second);
    assert!(read(EMPTY).await.unwrap().unwrap().results.is_empty());

    // Down restores the table as it was, and up packs it again.
    Migrator::down(connection, Some(1)).await.unwrap();
    assert_eq!(snapshots(connection).await, before, "after down");
    store.migrate().await.unwrap();
    assert_eq!(snapshots(connection).await, before, "after up again");
    assert_eq!(read(SECOND).await.unwrap().unwrap().results, second);
}

fn is_postgres(connection: &DatabaseConnection) -> bool {
    connection.get_database_backend() == DbBackend::Postgres
}

/// A UUID as a SQL literal of the backend's storage: a blob on SQLite, a uuid on PostgreSQL.
fn uuid_literal(connection: &DatabaseConnection, n: u128) -> String {
    let id = Uuid::from_u128(n);
    if is_postgres(connection) {
        format!("'{id}'::uuid")
    } else {
        format!("x'{}'", id.simple())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_results_written_by_the_old_layout_survive_into_the_view() {
    let database = SqliteDatabase::create("store.db");
    let store = Store::connect(database.url(), &StoreOptions::default())
        .await
        .unwrap();
    old_layout_survives(store.clone()).await;
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_results_written_by_the_old_layout_survive_into_the_view() {
    let Some(database) = PostgresDatabase::create("carematch_migration_test").await else {
        return;
    };
    let store = Store::connect(database.url(), &StoreOptions::default())
        .await
        .unwrap();
    let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(
        old_layout_survives(store.clone()),
    ))
    .await;
    store.close().await.unwrap();
    database.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
