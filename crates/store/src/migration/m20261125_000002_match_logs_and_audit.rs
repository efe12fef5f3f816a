//! De-identified match logs (issue 6) and the audit log of admin writes (issue 4).

use super::builders::index_on;
use sea_orm_migration::prelude::*;

pub(super) struct Migration;

// Named explicitly: the name is the version a database records as applied, so it must not
// follow a rename of the file.
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
