//! The `store_state` counters and the opening of write transactions.
//!
//! Every provider write runs in a transaction that first bumps `data_generation`. That first
//! statement takes the write lock (the row lock on PostgreSQL; SQLite transactions are opened
//! `IMMEDIATE`), so writers are serialized from their start. Only then is the write's timestamp
//! taken, clamped to be no earlier than the last write's (`last_write_micros`). Timestamps
//! therefore never go backwards in commit order, even across replicas with skewed clocks, and
//! a reader that has seen everything up to `high_water` can never later meet a commit stamped
//! before it: this is what makes `changed_since` safe to use for catching up.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, QueryFilter, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::entity::store_state;

/// Bumped once by every transaction that writes or deletes providers; the search index
/// records the generation it was built at, and caches key on it.
pub(crate) const DATA_GENERATION: &str = "data_generation";
/// Microseconds since the epoch of the latest provider write or delete.
pub(crate) const LAST_WRITE_MICROS: &str = "last_write_micros";

/// An open write transaction with its generation and timestamp.
pub(crate) struct WriteTransaction {
    pub(crate) transaction: DatabaseTransaction,
    pub(crate) written_at: DateTime<Utc>,
}

/// Opens a write transaction: takes the write lock, bumps the generation, and stamps the write.
pub(crate) async fn begin_write(
    connection: &DatabaseConnection,
) -> Result<WriteTransaction, DbErr> {
    let options = TransactionOptions {
        isolation_level: None,
        access_mode: None,
        // IMMEDIATE takes SQLite's write lock at BEGIN, where the busy timeout applies; a
        // deferred transaction that reads first and writes later can fail at once instead.
        sqlite_transaction_mode: (connection.get_database_backend() == DbBackend::Sqlite)
            .then_some(SqliteTransactionMode::Immediate),
    };
    let transaction = connection.begin_with_options(options).await?;
    store_state::Entity::update_many()
        .col_expr(
            store_state::Column::Value,
            Expr::col(store_state::Column::Value).add(1),
        )
        .filter(store_state::Column::Key.eq(DATA_GENERATION))
        .exec(&transaction)
        .await?;
    let last_write_micros = read_counter(&transaction, LAST_WRITE_MICROS).await?;
    let clock_now = now_micros();
    let last_write = DateTime::<Utc>::from_timestamp_micros(last_write_micros).unwrap_or(clock_now);
    let written_at = Ord::max(clock_now, last_write);
    store_state::Entity::insert(store_state::ActiveModel {
        key: ActiveValue::Set(LAST_WRITE_MICROS.to_owned()),
        value: ActiveValue::Set(written_at.timestamp_micros()),
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(store_state::Column::Key)
            .update_column(store_state::Column::Value)
            .to_owned(),
    )
    .exec_without_returning(&transaction)
    .await?;
    Ok(WriteTransaction {
        transaction,
        written_at,
    })
}

/// The value of a `store_state` counter, 0 when the row is missing.
pub(crate) async fn read_counter(
    connection: &impl ConnectionTrait,
    key: &str,
) -> Result<i64, DbErr> {
    Ok(store_state::Entity::find_by_id(key.to_owned())
        .one(connection)
        .await?
        .map_or(0, |row| row.value))
}

/// Now, truncated to microseconds: PostgreSQL keeps no finer precision, so a timestamp read
/// back equals the one written on both backends.
pub(crate) fn now_micros() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}
