//! An answer's results move into one text column of its `match_logs` row (`results`: a
//! JSON array with one array per result, in rank order) instead of one row each in
//! `match_log_results`: the writer inserts one row per answer rather than 21, with no
//! primary-key, foreign-key or provider-index entries per result. `match_log_results`
//! becomes a view with the table's columns, names and types, so analysts' SQL and the
//! views over it read the same rows; it has no index on `provider_id` any more.
//!
//! One packed result is `[rank, provider_id, score, need_fit, distance, certification,
//! payment, availability, text, payment_fit, beyond_radius]`: the view's columns after
//! `match_id`, in order; the id a lower-case hyphenated UUID string, the booleans JSON
//! `true`/`false`. A match without results, or a replay, stores NULL.
//!
//! Runs in a transaction on both backends: it moves data, and a half-applied move would
//! lose it.

use super::builders::index_on;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000005_match_log_results_packed"
    }
}

#[derive(DeriveIden)]
enum MatchLogs {
    Table,
    Id,
    Results,
}

#[derive(DeriveIden)]
enum MatchLogResults {
    Table,
    MatchId,
    Rank,
    ProviderId,
    Score,
    NeedFit,
    Distance,
    Certification,
    Payment,
    Availability,
    Text,
    PaymentFit,
    BeyondRadius,
}

/// Every result row of a match packed as described above, in rank order. Doubles go
/// through `quote()`, which writes as many digits as it takes to read back the same
/// double: the JSON functions would write 15 significant digits and lose the last bits.
/// The ordered subquery (never flattened under an aggregate) gives the rank order, and
/// `json()` marks each element as JSON inside the aggregate.
const SQLITE_PACK: &str = "UPDATE match_logs SET results = ( \
        SELECT json_group_array(json(packed.result)) FROM ( \
            SELECT json_array( \
                r.rank, \
                CASE WHEN typeof(r.provider_id) = 'blob' THEN \
                    lower(substr(hex(r.provider_id), 1, 8) || '-' || substr(hex(r.provider_id), 9, 4) \
                    || '-' || substr(hex(r.provider_id), 13, 4) || '-' || substr(hex(r.provider_id), 17, 4) \
                    || '-' || substr(hex(r.provider_id), 21)) \
                ELSE r.provider_id END, \
                json(quote(r.score)), json(quote(r.need_fit)), json(quote(r.distance)), \
                json(quote(r.certification)), json(quote(r.payment)), \
                json(quote(r.availability)), json(quote(r.text)), \
                r.payment_fit, \
                json(CASE WHEN r.beyond_radius THEN 'true' ELSE 'false' END) \
            ) AS result \
            FROM match_log_results r \
            WHERE r.match_id = match_logs.id \
            ORDER BY r.rank \
        ) packed \
    ) \
    WHERE EXISTS (SELECT 1 FROM match_log_results r WHERE r.match_id = match_logs.id)";

/// The same on PostgreSQL: `json_build_array` writes uuids as strings, booleans as
/// `true`/`false` and doubles with the digits that read back the same double (sqlx sets
/// `extra_float_digits`).
const POSTGRES_PACK: &str = "UPDATE match_logs l SET results = packed.results \
    FROM ( \
        SELECT match_id, json_agg(json_build_array( \
            rank, provider_id, score, need_fit, distance, certification, payment, \
            availability, text, payment_fit, beyond_radius) ORDER BY rank)::text AS results \
        FROM match_log_results \
        GROUP BY match_id \
    ) packed \
    WHERE packed.match_id = l.id";

/// The rows of the old table, from the packed column. SQLite: `json_each` yields one
/// element per result; `unhex(..., '-')` turns the UUID string back into the 16-byte blob
/// the table held (SQLite 3.41+); doubles are cast so an integral JSON number still reads
/// as REAL; JSON `true`/`false` read as 1/0 like the table's booleans. `json_extract`
/// rather than `->>` so an older sqlite3 can still open the file.
const SQLITE_UNPACK: &str = "SELECT l.id AS match_id, \
        CAST(json_extract(r.value, '$[0]') AS INTEGER) AS \"rank\", \
        unhex(json_extract(r.value, '$[1]'), '-') AS provider_id, \
        CAST(json_extract(r.value, '$[2]') AS REAL) AS score, \
        CAST(json_extract(r.value, '$[3]') AS REAL) AS need_fit, \
        CAST(json_extract(r.value, '$[4]') AS REAL) AS distance, \
        CAST(json_extract(r.value, '$[5]') AS REAL) AS certification, \
        CAST(json_extract(r.value, '$[6]') AS REAL) AS payment, \
        CAST(json_extract(r.value, '$[7]') AS REAL) AS availability, \
        CAST(json_extract(r.value, '$[8]') AS REAL) AS \"text\", \
        json_extract(r.value, '$[9]') AS payment_fit, \
        json_extract(r.value, '$[10]') AS beyond_radius \
    FROM match_logs l, json_each(l.results) r";

/// PostgreSQL: one `jsonb` element per result, each field cast to the old column's type.
const POSTGRES_UNPACK: &str = "SELECT l.id AS match_id, \
        CAST(r.value ->> 0 AS INTEGER) AS \"rank\", \
        CAST(r.value ->> 1 AS UUID) AS provider_id, \
        CAST(r.value ->> 2 AS DOUBLE PRECISION) AS score, \
        CAST(r.value ->> 3 AS DOUBLE PRECISION) AS need_fit, \
        CAST(r.value ->> 4 AS DOUBLE PRECISION) AS distance, \
        CAST(r.value ->> 5 AS DOUBLE PRECISION) AS certification, \
        CAST(r.value ->> 6 AS DOUBLE PRECISION) AS payment, \
        CAST(r.value ->> 7 AS DOUBLE PRECISION) AS availability, \
        CAST(r.value ->> 8 AS DOUBLE PRECISION) AS \"text\", \
        CAST(r.value ->> 9 AS VARCHAR(64)) AS payment_fit, \
        CAST(r.value ->> 10 AS BOOLEAN) AS beyond_radius \
    FROM match_logs l \
    CROSS JOIN LATERAL jsonb_array_elements(CAST(l.results AS JSONB)) AS r(value)";

/// The two views over `match_log_results`, exactly as migration 4 created them: they
/// are dropped with the table and created again over the view.
const MATCH_RANK_OUTCOMES: &str = "CREATE VIEW match_rank_outcomes AS \
    SELECT operation, rank, shown, viewed, contacted, booked, dismissed, \
           CAST(contacted AS DOUBLE PRECISION) / shown AS contacted_share, \
           CAST(booked AS DOUBLE PRECISION) / shown AS booked_share \
    FROM ( \
        SELECT l.operation, r.rank, COUNT(*) AS shown, \
               SUM(CASE WHEN EXISTS (SELECT 1 FROM match_outcomes o WHERE o.match_id = l.id \
                   AND o.provider_id = r.provider_id AND o.outcome = 'VIEWED') THEN 1 ELSE 0 END) AS viewed, \
               SUM(CASE WHEN EXISTS (SELECT 1 FROM match_outcomes o WHERE o.match_id = l.id \
                   AND o.provider_id = r.provider_id AND o.outcome = 'CONTACTED') THEN 1 ELSE 0 END) AS contacted, \
               SUM(CASE WHEN EXISTS (SELECT 1 FROM match_outcomes o WHERE o.match_id = l.id \
                   AND o.provider_id = r.provider_id AND o.outcome = 'BOOKED') THEN 1 ELSE 0 END) AS booked, \
               SUM(CASE WHEN EXISTS (SELECT 1 FROM match_outcomes o WHERE o.match_id = l.id \
                   AND o.provider_id = r.provider_id AND o.outcome = 'DISMISSED') THEN 1 ELSE 0 END) AS dismissed \
        FROM match_logs l \
        JOIN match_log_results r ON r.match_id = COALESCE(l.replay_of, l.id) \
        GROUP BY l.operation, r.rank \
    ) per_rank";

const MATCH_PAYMENT_FIT_MIX: &str = "CREATE VIEW match_payment_fit_mix AS \
    SELECT l.week_start, l.state, r.payment_fit, \
           COUNT(*) AS results, \
           SUM(CASE WHEN r.rank = 1 THEN 1 ELSE 0 END) AS top_results, \
           COUNT(DISTINCT l.id) AS matches \
    FROM match_logs l \
    JOIN match_log_results r ON r.match_id = COALESCE(l.replay_of, l.id) \
    GROUP BY l.week_start, l.state, r.payment_fit";

const DROP_DEPENDENT_VIEWS: [&str; 2] = [
    "DROP VIEW IF EXISTS match_rank_outcomes",
    "DROP VIEW IF EXISTS match_payment_fit_mix",
];

fn statements(backend: DbBackend) -> (&'static str, &'static str) {
    match backend {
        DbBackend::Postgres => (POSTGRES_PACK, POSTGRES_UNPACK),
        _ => (SQLITE_PACK, SQLITE_UNPACK),
    }
}

/// The table as migration 2 created it, for `down`.
fn results_table() -> TableCreateStatement {
    let double = |column: MatchLogResults| ColumnDef::new(column).double().not_null().to_owned();
    Table::create()
        .table(MatchLogResults::Table)
        .col(ColumnDef::new(MatchLogResults::MatchId).uuid().not_null())
        .col(ColumnDef::new(MatchLogResults::Rank).integer().not_null())
        .col(
            ColumnDef::new(MatchLogResults::ProviderId)
                .uuid()
                .not_null(),
        )
        .col(double(MatchLogResults::Score))
        .col(double(MatchLogResults::NeedFit))
        .col(double(MatchLogResults::Distance))
        .col(double(MatchLogResults::Certification))
        .col(double(MatchLogResults::Payment))
        .col(double(MatchLogResults::Availability))
        .col(double(MatchLogResults::Text))
        .col(
            ColumnDef::new(MatchLogResults::PaymentFit)
                .string_len(64)
                .not_null(),
        )
        .col(
            ColumnDef::new(MatchLogResults::BeyondRadius)
                .boolean()
                .not_null(),
        )
        .primary_key(
            Index::create()
                .col(MatchLogResults::MatchId)
                .col(MatchLogResults::Rank),
        )
        .foreign_key(
            ForeignKey::create()
                .from(MatchLogResults::Table, MatchLogResults::MatchId)
                .to(MatchLogs::Table, MatchLogs::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connection = manager.get_connection();
        let (pack, unpack) = statements(connection.get_database_backend());
        manager
            .alter_table(
                Table::alter()
                    .table(MatchLogs::Table)
                    .add_column(ColumnDef::new(MatchLogs::Results).text().null())
                    .to_owned(),
            )
            .await?;
        connection.execute_unprepared(pack).await?;
        for view in DROP_DEPENDENT_VIEWS {
            connection.execute_unprepared(view).await?;
        }
        // Its primary key, foreign key and provider index go with it.
        manager
            .drop_table(Table::drop().table(MatchLogResults::Table).to_owned())
            .await?;
        let view = format!("CREATE VIEW match_log_results AS {unpack}");
        for statement in [view.as_str(), MATCH_RANK_OUTCOMES, MATCH_PAYMENT_FIT_MIX] {
            connection.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    /// The table again, filled from the packed column, which is then dropped.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connection = manager.get_connection();
        let (_, unpack) = statements(connection.get_database_backend());
        for view in DROP_DEPENDENT_VIEWS {
            connection.execute_unprepared(view).await?;
        }
        connection
            .execute_unprepared("DROP VIEW IF EXISTS match_log_results")
            .await?;
        manager.create_table(results_table()).await?;
        let columns = "match_id, \"rank\", provider_id, score, need_fit, distance, \
                       certification, payment, availability, \"text\", payment_fit, \
                       beyond_radius";
        connection
            .execute_unprepared(&format!(
                "INSERT INTO match_log_results ({columns}) {unpack}"
            ))
            .await?;
        manager
            .create_index(index_on("match_log_results", "provider_id"))
            .await?;
        connection
            .execute_unprepared("ALTER TABLE match_logs DROP COLUMN results")
            .await?;
        for view in [MATCH_RANK_OUTCOMES, MATCH_PAYMENT_FIT_MIX] {
            connection.execute_unprepared(view).await?;
        }
        Ok(())
    }
}
