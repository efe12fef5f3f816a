//! Providers, their child tables for SQL analysis, tombstones for replicas, and the
//! `data_generation` counter.

use super::builders::{index_on, provider_child_table};
use sea_orm_migration::prelude::*;

pub(super) struct Migration;

// Named explicitly: the name is the version a database records as applied, so it must not
// follow a rename of the file.
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
        for index in super::builders::provider_child_indexes() {
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
