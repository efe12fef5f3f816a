//! A response replayed from the response cache is the same answer again: its log row
//! points at the answer it replays (`replay_of`) instead of copying its results, so a busy
//! replica writes one small row per cache hit rather than one row per result. The two
//! views over results now read a match's results through `COALESCE(replay_of, id)`, and
//! outcomes by the served match's own id.

use super::builders::index_on;
use sea_orm_migration::prelude::*;

pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000004_match_log_replays"
    }
}

#[derive(DeriveIden)]
enum MatchLogs {
    Table,
    ReplayOf,
}

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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MatchLogs::Table)
                    .add_column(ColumnDef::new(MatchLogs::ReplayOf).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index_on("match_logs", "replay_of"))
            .await?;
        let connection = manager.get_connection();
        for statement in [
            "DROP VIEW IF EXISTS match_rank_outcomes",
            "DROP VIEW IF EXISTS match_payment_fit_mix",
            MATCH_RANK_OUTCOMES,
            MATCH_PAYMENT_FIT_MIX,
        ] {
            connection.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
