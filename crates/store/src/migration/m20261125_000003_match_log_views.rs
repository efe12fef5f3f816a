//! Views for analysts over the match logs (documented column by column in
//! `docs/analysts.md`), the count of results inside her radius that the care-desert view
//! needs, and the small table of care-type codes the views split code lists with.
//!
//! The views are plain SQL that SQLite and PostgreSQL both accept: `||`, `LIKE ... ESCAPE`,
//! `CASE`, `CAST(... AS DOUBLE PRECISION)` and correlated `EXISTS`, nothing dialect-specific.
//! Code lists are comma-separated, so "is DOULA in the list" is
//! `',' || list || ',' LIKE '%,DOULA,%'`, with `_` escaped as `!_` so it matches itself only.

use sea_orm_migration::prelude::*;

pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000003_match_log_views"
    }
}

#[derive(DeriveIden)]
enum MatchLogs {
    Table,
    ResultsWithinRadius,
}

#[derive(DeriveIden)]
enum MatchCareTypeCodes {
    Table,
    Code,
    LikePattern,
}

/// The care types as of this migration. Written out rather than read from the domain: a
/// released migration must not change when the code does. A new care type gets a new
/// migration that inserts its row.
const CARE_TYPE_CODES: [&str; 7] = [
    "PELVIC_FLOOR_PHYSICAL_THERAPY",
    "POSTNATAL_MASSAGE",
    "LACTATION_CONSULTING",
    "DOULA",
    "PERINATAL_MENTAL_HEALTH",
    "SUPPORT_GROUP",
    "OBSTETRIC_CARE",
];

/// One row per logged request and care type she was recommended or asked for.
const MATCH_LOG_CARE_TYPES: &str = "CREATE VIEW match_log_care_types AS \
    SELECT l.id AS match_id, l.week_start, l.state, l.postal_prefix, l.operation, \
           c.code AS care_type, \
           CASE WHEN ',' || l.care_types_recommended || ',' LIKE c.like_pattern ESCAPE '!' \
                THEN 1 ELSE 0 END AS recommended, \
           CASE WHEN ',' || l.care_types_requested || ',' LIKE c.like_pattern ESCAPE '!' \
                THEN 1 ELSE 0 END AS requested, \
           l.result_count, l.results_within_radius \
    FROM match_logs l \
    JOIN match_care_type_codes c \
      ON ',' || l.care_types_recommended || ',' LIKE c.like_pattern ESCAPE '!' \
      OR ',' || l.care_types_requested || ',' LIKE c.like_pattern ESCAPE '!'";

const MATCH_DEMAND_WEEKLY: &str = "CREATE VIEW match_demand_weekly AS \
    SELECT week_start, state, care_type, \
           COUNT(*) AS requests, \
           SUM(recommended) AS recommended, \
           SUM(requested) AS requested \
    FROM match_log_care_types \
    GROUP BY week_start, state, care_type";

/// A care desert is fewer than 3 in-person or home-visit results inside her radius (the
/// definition analysts asked for in issue 6). The engine widens its search sooner, below
/// `RankingConfig::widen_when_fewer_than` (10), so a widened search is not yet a desert.
const MATCH_CARE_DESERTS: &str = "CREATE VIEW match_care_deserts AS \
    SELECT state, postal_prefix, care_type, requests, desert_requests, \
           CAST(desert_requests AS DOUBLE PRECISION) / requests AS desert_share \
    FROM ( \
        SELECT state, postal_prefix, care_type, \
               COUNT(*) AS requests, \
               SUM(CASE WHEN results_within_radius < 3 THEN 1 ELSE 0 END) AS desert_requests \
        FROM match_log_care_types \
        GROUP BY state, postal_prefix, care_type \
    ) per_area";

const MATCH_RANK_OUTCOMES: &str = "CREATE VIEW match_rank_outcomes AS \
    SELECT operation, rank, shown, viewed, contacted, booked, dismissed, \
           CAST(contacted AS DOUBLE PRECISION) / shown AS contacted_share, \
           CAST(booked AS DOUBLE PRECISION) / shown AS booked_share \
    FROM ( \
        SELECT l.operation, r.rank, COUNT(*) AS shown, \
               SUM(CASE WHEN EXISTS (SELECT 1 FROM match_outcomes o WHERE o.match_id = r.match_id \
                   AND o.provider_id = r.provider_id AND o.outcome = 'VIEWED') THEN 1 ELSE 0 END) AS viewed, \
               SUM(CASE WHEN EXISTS (SELECT 1 FROM match_outcomes o WHERE o.match_id = r.match_id \
                   AND o.provider_id = r.provider_id AND o.outcome = 'CONTACTED') THEN 1 ELSE 0 END) AS contacted, \
               SUM(CASE WHEN EXISTS (SELECT 1 FROM match_outcomes o WHERE o.match_id = r.match_id \
                   AND o.provider_id = r.provider_id AND o.outcome = 'BOOKED') THEN 1 ELSE 0 END) AS booked, \
               SUM(CASE WHEN EXISTS (SELECT 1 FROM match_outcomes o WHERE o.match_id = r.match_id \
                   AND o.provider_id = r.provider_id AND o.outcome = 'DISMISSED') THEN 1 ELSE 0 END) AS dismissed \
        FROM match_log_results r \
        JOIN match_logs l ON l.id = r.match_id \
        GROUP BY l.operation, r.rank \
    ) per_rank";

const MATCH_PAYMENT_FIT_MIX: &str = "CREATE VIEW match_payment_fit_mix AS \
    SELECT l.week_start, l.state, r.payment_fit, \
           COUNT(*) AS results, \
           SUM(CASE WHEN r.rank = 1 THEN 1 ELSE 0 END) AS top_results, \
           COUNT(DISTINCT r.match_id) AS matches \
    FROM match_log_results r \
    JOIN match_logs l ON l.id = r.match_id \
    GROUP BY l.week_start, l.state, r.payment_fit";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MatchLogs::Table)
                    .add_column(
                        ColumnDef::new(MatchLogs::ResultsWithinRadius)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MatchCareTypeCodes::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(MatchCareTypeCodes::Code)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MatchCareTypeCodes::LikePattern)
                            .string_len(160)
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        let mut insert = Query::insert();
        insert
            .into_table(MatchCareTypeCodes::Table)
            .columns([MatchCareTypeCodes::Code, MatchCareTypeCodes::LikePattern]);
        for code in CARE_TYPE_CODES {
            let pattern = format!("%,{},%", code.replace('_', "!_"));
            insert.values_panic([code.into(), pattern.into()]);
        }
        manager.exec_stmt(insert).await?;
        let connection = manager.get_connection();
        for view in [
            MATCH_LOG_CARE_TYPES,
            MATCH_DEMAND_WEEKLY,
            MATCH_CARE_DESERTS,
            MATCH_RANK_OUTCOMES,
            MATCH_PAYMENT_FIT_MIX,
        ] {
            connection.execute_unprepared(view).await?;
        }
        Ok(())
    }
}
