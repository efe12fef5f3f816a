//! Schema migrations (sea-orm-migration), written against sea-query's schema builder so the
//! same code creates the tables on SQLite and PostgreSQL. A migration, once released, is never
//! edited: a schema change is a new migration appended to [`Migrator::migrations`].

use sea_orm_migration::prelude::*;

pub(crate) struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_providers::Migration),
            Box::new(m20261125_000002_match_logs_and_audit::Migration),
            Box::new(m20261125_000003_match_log_views::Migration),
            Box::new(m20261125_000004_match_log_replays::Migration),
            Box::new(m20261125_000005_match_log_results_packed::Migration),
        ]
    }
}

/// Creates `child` keyed by (provider_id, `key_columns`...) with a cascading foreign key to
/// `providers`: deleting a provider deletes its rows.
fn provider_child_table(
    child: impl IntoIden,
    key_columns: &[DynIden],
    columns: Vec<ColumnDef>,
) -> TableCreateStatement {
    let child = child.into_iden();
    let mut table = Table::create();
    table
        .table(child.clone())
        .if_not_exists()
        .col(ColumnDef::new(ProviderChild::ProviderId).uuid().not_null());
    for column in columns {
        table.col(column);
    }
    let mut primary_key = Index::create();
    primary_key.col(ProviderChild::ProviderId);
    for column in key_columns {
        primary_key.col(column.clone());
    }
    table.primary_key(&mut primary_key).foreign_key(
        ForeignKey::create()
            .from(child, ProviderChild::ProviderId)
            .to(
                m20261125_000001_providers::Providers::Table,
                m20261125_000001_providers::Providers::Id,
            )
            .on_delete(ForeignKeyAction::Cascade),
    );
    table.to_owned()
}

/// An index named `idx_<table>_<column>` on one column.
fn index_on(table: &str, column: &str) -> IndexCreateStatement {
    Index::create()
        .name(index_name(table, column))
        .table(Alias::new(table))
        .col(Alias::new(column))
        .if_not_exists()
        .to_owned()
}

/// The secondary indexes of the provider child tables, for the questions analysts ask: who
/// offers this care type, treats this symptom, takes this payer, practises in this state or
/// postal area. Created by the first migration; the bulk load (`crate::bulk`) drops them while
/// it fills an empty database and recreates them from this same list afterwards, and
/// [`crate::Store::migrate`] recreates any that an interrupted load left missing. Part of a
/// released migration: never edit an entry, add a new migration instead.
const PROVIDER_CHILD_INDEXES: [(&str, &str); 9] = [
    ("provider_care_types", "care_type"),
    ("provider_certifications", "scope"),
    ("provider_locations", "region"),
    ("provider_locations", "postal_code"),
    ("provider_insurance", "payer"),
    ("provider_symptoms", "symptom"),
    ("provider_modes", "mode"),
    ("provider_languages", "language"),
    ("provider_licensed_regions", "region"),
];

/// `CREATE INDEX IF NOT EXISTS` for each of [`PROVIDER_CHILD_INDEXES`].
pub(crate) fn provider_child_indexes() -> Vec<IndexCreateStatement> {
    PROVIDER_CHILD_INDEXES
        .iter()
        .map(|(table, column)| index_on(table, column))
        .collect()
}

/// `DROP INDEX IF EXISTS` for each of [`PROVIDER_CHILD_INDEXES`].
pub(crate) fn provider_child_index_drops() -> Vec<IndexDropStatement> {
    PROVIDER_CHILD_INDEXES
        .iter()
        .map(|(table, column)| {
            Index::drop()
                .name(index_name(table, column))
                .if_exists()
                .to_owned()
        })
        .collect()
}

fn index_name(table: &str, column: &str) -> String {
    format!("idx_{table}_{column}")
}

#[derive(DeriveIden)]
enum ProviderChild {
    ProviderId,
}

mod m20261125_000001_providers {
    //! Providers, their child tables for SQL analysis, tombstones for replicas, and the
    //! `data_generation` counter.

    use super::{index_on, provider_child_table};
    use sea_orm_migration::prelude::*;

    pub(super) struct Migration;

    // Named explicitly: `DeriveMigrationName` takes the file name, which both migrations share.
    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261125_000001_providers"
        }
    }

    #[derive(DeriveIden)]
    pub(super) enum Providers {
        Table,
        Id,
        Npi,
        Name,
        AcceptingNewClients,
        AcceptsFsaHsa,
        ProvidesSuperbill,
        RequiresReferral,
        SelfPayRateUsd,
        Bio,
        HomeVisitRadiusKm,
        Document,
        CreatedAt,
        UpdatedAt,
    }

    #[derive(DeriveIden)]
    enum ProviderCareTypes {
        Table,
        CareType,
    }

    #[derive(DeriveIden)]
    enum ProviderCertifications {
        Table,
        Position,
        Name,
        Issuer,
        Scope,
        Verified,
    }

    #[derive(DeriveIden)]
    enum ProviderLocations {
        Table,
        Position,
        Latitude,
        Longitude,
        Address,
        City,
        Region,
        PostalCode,
    }

    #[derive(DeriveIden)]
    enum ProviderInsurance {
        Table,
        Position,
        Payer,
        Plan,
    }

    #[derive(DeriveIden)]
    enum ProviderSymptoms {
        Table,
        Symptom,
    }

    #[derive(DeriveIden)]
    enum ProviderModes {
        Table,
        Mode,
    }

    #[derive(DeriveIden)]
    enum ProviderLanguages {
        Table,
        Language,
    }

    #[derive(DeriveIden)]
    enum ProviderLicensedRegions {
        Table,
        Region,
    }

    #[derive(DeriveIden)]
    enum ProviderTombstones {
        Table,
        ProviderId,
        DeletedAt,
    }

    #[derive(DeriveIden)]
    enum StoreState {
        Table,
        Key,
        Value,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Providers::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(Providers::Id)
                                .uuid()
                                .not_null()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(Providers::Npi).string_len(10).null())
                        .col(ColumnDef::new(Providers::Name).string().not_null())
                        .col(
                            ColumnDef::new(Providers::AcceptingNewClients)
                                .boolean()
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(Providers::AcceptsFsaHsa)
                                .boolean()
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(Providers::ProvidesSuperbill)
                                .boolean()
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(Providers::RequiresReferral)
                                .boolean()
                                .not_null(),
                        )
                        .col(ColumnDef::new(Providers::SelfPayRateUsd).integer().null())
                        .col(ColumnDef::new(Providers::Bio).text().null())
                        .col(ColumnDef::new(Providers::HomeVisitRadiusKm).double().null())
                        .col(ColumnDef::new(Providers::Document).json_binary().not_null())
                        .col(
                            ColumnDef::new(Providers::CreatedAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(Providers::UpdatedAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .to_owned(),
                )
                .await?;
            // NULLs do not collide in a unique index on either backend, so providers without
            // an NPI are unconstrained.
            manager
                .create_index(
                    Index::create()
                        .name("ux_providers_npi")
                        .table(Providers::Table)
                        .col(Providers::Npi)
                        .unique()
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
            // `changed_since` scans by time.
            manager
                .create_index(index_on("providers", "updated_at"))
                .await?;

            let children = [
                provider_child_table(
                    ProviderCareTypes::Table,
                    &[ProviderCareTypes::CareType.into_iden()],
                    vec![
                        ColumnDef::new(ProviderCareTypes::CareType)
                            .string_len(64)
                            .not_null()
                            .to_owned(),
                    ],
                ),
                provider_child_table(
                    ProviderCertifications::Table,
                    &[ProviderCertifications::Position.into_iden()],
                    vec![
                        ColumnDef::new(ProviderCertifications::Position)
                            .integer()
                            .not_null()
                            .to_owned(),
                        ColumnDef::new(ProviderCertifications::Name)
                            .string()
                            .not_null()
                            .to_owned(),
                        ColumnDef::new(ProviderCertifications::Issuer)
                            .string()
                            .null()
                            .to_owned(),
                        ColumnDef::new(ProviderCertifications::Scope)
                            .string_len(32)
                            .not_null()
                            .to_owned(),
                        ColumnDef::new(ProviderCertifications::Verified)
                            .boolean()
                            .not_null()
                            .to_owned(),
                    ],
                ),
                provider_child_table(
                    ProviderLocations::Table,
                    &[ProviderLocations::Position.into_iden()],
                    vec![
                        ColumnDef::new(ProviderLocations::Position)
                            .integer()
                            .not_null()
                            .to_owned(),
                        ColumnDef::new(ProviderLocations::Latitude)
                            .double()
                            .not_null()
                            .to_owned(),
                        ColumnDef::new(ProviderLocations::Longitude)
                            .double()
                            .not_null()
                            .to_owned(),
                        ColumnDef::new(ProviderLocations::Address)
                            .string()
                            .null()
                            .to_owned(),
                        ColumnDef::new(ProviderLocations::City)
                            .string()
                            .null()
                            .to_owned(),
                        ColumnDef::new(ProviderLocations::Region)
                            .string_len(2)
                            .null()
                            .to_owned(),
                        ColumnDef::new(ProviderLocations::PostalCode)
                            .string_len(5)
                            .null()
                            .to_owned(),
                    ],
                ),
                provider_child_table(
                    ProviderInsurance::Table,
                    &[ProviderInsurance::Position.into_iden()],
                    vec![
                        ColumnDef::new(ProviderInsurance::Position)
                            .integer()
                            .not_null()
                            .to_owned(),
                        ColumnDef::new(ProviderInsurance::Payer)
                            .string()
                            .not_null()
                            .to_owned(),
                        ColumnDef::new(ProviderInsurance::Plan)
                            .string()
                            .null()
                            .to_owned(),
                    ],
                ),
                provider_child_table(
                    ProviderSymptoms::Table,
                    &[ProviderSymptoms::Symptom.into_iden()],
                    vec![
                        ColumnDef::new(ProviderSymptoms::Symptom)
                            .string_len(64)
                            .not_null()
                            .to_owned(),
                    ],
                ),
                provider_child_table(
                    ProviderModes::Table,
                    &[ProviderModes::Mode.into_iden()],
                    vec![
                        ColumnDef::new(ProviderModes::Mode)
                            .string_len(32)
                            .not_null()
                            .to_owned(),
                    ],
                ),
                provider_child_table(
                    ProviderLanguages::Table,
                    &[ProviderLanguages::Language.into_iden()],
                    vec![
                        ColumnDef::new(ProviderLanguages::Language)
                            .string_len(60)
                            .not_null()
                            .to_owned(),
                    ],
                ),
                provider_child_table(
                    ProviderLicensedRegions::Table,
                    &[ProviderLicensedRegions::Region.into_iden()],
                    vec![
                        ColumnDef::new(ProviderLicensedRegions::Region)
                            .string_len(2)
                            .not_null()
                            .to_owned(),
                    ],
                ),
            ];
            for table in children {
                manager.create_table(table).await?;
            }
            for index in super::provider_child_indexes() {
                manager.create_index(index).await?;
            }

            manager
                .create_table(
                    Table::create()
                        .table(ProviderTombstones::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(ProviderTombstones::ProviderId)
                                .uuid()
                                .not_null()
                                .primary_key(),
                        )
                        .col(
                            ColumnDef::new(ProviderTombstones::DeletedAt)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(index_on("provider_tombstones", "deleted_at"))
                .await?;

            manager
                .create_table(
                    Table::create()
                        .table(StoreState::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(StoreState::Key)
                                .string_len(64)
                                .not_null()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(StoreState::Value).big_integer().not_null())
                        .to_owned(),
                )
                .await?;
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table(StoreState::Table)
                        .columns([StoreState::Key, StoreState::Value])
                        .values_panic([crate::state::DATA_GENERATION.into(), 0i64.into()])
                        .values_panic([crate::state::LAST_WRITE_MICROS.into(), 0i64.into()])
                        .on_conflict(OnConflict::column(StoreState::Key).do_nothing().to_owned())
                        .to_owned(),
                )
                .await?;
            Ok(())
        }
    }
}

mod m20261125_000002_match_logs_and_audit {
    //! De-identified match logs (issue 6) and the audit log of admin writes (issue 4).

    use super::index_on;
    use sea_orm_migration::prelude::*;

    pub(super) struct Migration;

    // Named explicitly: `DeriveMigrationName` takes the file name, which both migrations share.
    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m20261125_000002_match_logs_and_audit"
        }
    }

    #[derive(DeriveIden)]
    enum MatchLogs {
        Table,
        Id,
        WeekStart,
        State,
        PostalPrefix,
        RadiusKm,
        CareTypesRecommended,
        CareTypesRequested,
        Symptoms,
        WarningSigns,
        BirthType,
        WeeksPostpartumBucket,
        Payer,
        HasFsaOrHsa,
        HasReferral,
        Languages,
        Modes,
        TextGiven,
        ResultCount,
        RadiusWidened,
        CacheHit,
        LatencyMs,
        ClientName,
        ClientVersion,
        Operation,
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

    #[derive(DeriveIden)]
    enum MatchOutcomes {
        Table,
        Id,
        MatchId,
        ProviderId,
        Outcome,
        RecordedWeek,
    }

    #[derive(DeriveIden)]
    enum AuditLog {
        Table,
        Id,
        Actor,
        Action,
        ProviderId,
        At,
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            // Code lists are comma-separated text rather than arrays or JSON, so SQLite,
            // PostgreSQL and DuckDB all read them the same way.
            let code_list = |column: MatchLogs| ColumnDef::new(column).text().not_null().to_owned();
            manager
                .create_table(
                    Table::create()
                        .table(MatchLogs::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(MatchLogs::Id)
                                .uuid()
                                .not_null()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(MatchLogs::WeekStart).date().not_null())
                        .col(ColumnDef::new(MatchLogs::State).string_len(2).null())
                        .col(ColumnDef::new(MatchLogs::PostalPrefix).string_len(3).null())
                        .col(ColumnDef::new(MatchLogs::RadiusKm).double().not_null())
                        .col(code_list(MatchLogs::CareTypesRecommended))
                        .col(code_list(MatchLogs::CareTypesRequested))
                        .col(code_list(MatchLogs::Symptoms))
                        .col(code_list(MatchLogs::WarningSigns))
                        .col(ColumnDef::new(MatchLogs::BirthType).string_len(32).null())
                        .col(
                            ColumnDef::new(MatchLogs::WeeksPostpartumBucket)
                                .string_len(16)
                                .null(),
                        )
                        .col(ColumnDef::new(MatchLogs::Payer).string().null())
                        .col(ColumnDef::new(MatchLogs::HasFsaOrHsa).boolean().not_null())
                        .col(ColumnDef::new(MatchLogs::HasReferral).boolean().not_null())
                        .col(code_list(MatchLogs::Languages))
                        .col(code_list(MatchLogs::Modes))
                        .col(ColumnDef::new(MatchLogs::TextGiven).boolean().not_null())
                        .col(ColumnDef::new(MatchLogs::ResultCount).integer().not_null())
                        .col(
                            ColumnDef::new(MatchLogs::RadiusWidened)
                                .boolean()
                                .not_null(),
                        )
                        .col(ColumnDef::new(MatchLogs::CacheHit).boolean().not_null())
                        .col(ColumnDef::new(MatchLogs::LatencyMs).double().not_null())
                        .col(ColumnDef::new(MatchLogs::ClientName).string().null())
                        .col(ColumnDef::new(MatchLogs::ClientVersion).string().null())
                        .col(
                            ColumnDef::new(MatchLogs::Operation)
                                .string_len(64)
                                .not_null(),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(index_on("match_logs", "week_start"))
                .await?;
            manager
                .create_index(index_on("match_logs", "state"))
                .await?;

            manager
                .create_table(
                    Table::create()
                        .table(MatchLogResults::Table)
                        .if_not_exists()
                        .col(ColumnDef::new(MatchLogResults::MatchId).uuid().not_null())
                        .col(ColumnDef::new(MatchLogResults::Rank).integer().not_null())
                        .col(
                            ColumnDef::new(MatchLogResults::ProviderId)
                                .uuid()
                                .not_null(),
                        )
                        .col(ColumnDef::new(MatchLogResults::Score).double().not_null())
                        .col(ColumnDef::new(MatchLogResults::NeedFit).double().not_null())
                        .col(
                            ColumnDef::new(MatchLogResults::Distance)
                                .double()
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(MatchLogResults::Certification)
                                .double()
                                .not_null(),
                        )
                        .col(ColumnDef::new(MatchLogResults::Payment).double().not_null())
                        .col(
                            ColumnDef::new(MatchLogResults::Availability)
                                .double()
                                .not_null(),
                        )
                        .col(ColumnDef::new(MatchLogResults::Text).double().not_null())
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
                        // No foreign key to providers: a log outlives the provider it names.
                        .foreign_key(
                            ForeignKey::create()
                                .from(MatchLogResults::Table, MatchLogResults::MatchId)
                                .to(MatchLogs::Table, MatchLogs::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(index_on("match_log_results", "provider_id"))
                .await?;

            manager
                .create_table(
                    Table::create()
                        .table(MatchOutcomes::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(MatchOutcomes::Id)
                                .uuid()
                                .not_null()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(MatchOutcomes::MatchId).uuid().not_null())
                        .col(ColumnDef::new(MatchOutcomes::ProviderId).uuid().not_null())
                        .col(
                            ColumnDef::new(MatchOutcomes::Outcome)
                                .string_len(32)
                                .not_null(),
                        )
                        .col(
                            ColumnDef::new(MatchOutcomes::RecordedWeek)
                                .date()
                                .not_null(),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from(MatchOutcomes::Table, MatchOutcomes::MatchId)
                                .to(MatchLogs::Table, MatchLogs::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(index_on("match_outcomes", "match_id"))
                .await?;
            manager
                .create_index(index_on("match_outcomes", "provider_id"))
                .await?;

            manager
                .create_table(
                    Table::create()
                        .table(AuditLog::Table)
                        .if_not_exists()
                        .col(ColumnDef::new(AuditLog::Id).uuid().not_null().primary_key())
                        .col(ColumnDef::new(AuditLog::Actor).string().not_null())
                        .col(ColumnDef::new(AuditLog::Action).string_len(64).not_null())
                        .col(ColumnDef::new(AuditLog::ProviderId).uuid().null())
                        .col(
                            ColumnDef::new(AuditLog::At)
                                .timestamp_with_time_zone()
                                .not_null(),
                        )
                        .to_owned(),
                )
                .await?;
            manager.create_index(index_on("audit_log", "at")).await?;
            manager
                .create_index(index_on("audit_log", "provider_id"))
                .await?;
            Ok(())
        }
    }
}

mod m20261125_000003_match_log_views {
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
}

mod m20261125_000004_match_log_replays {
    //! A response replayed from the response cache is the same answer again: its log row
    //! points at the answer it replays (`replay_of`) instead of copying its results, so a busy
    //! replica writes one small row per cache hit rather than one row per result. The two
    //! views over results now read a match's results through `COALESCE(replay_of, id)`, and
    //! outcomes by the served match's own id.

    use super::index_on;
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
}

mod m20261125_000005_match_log_results_packed {
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

    use super::index_on;
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
        let double =
            |column: MatchLogResults| ColumnDef::new(column).double().not_null().to_owned();
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
}

#[cfg(test)]
mod tests;
