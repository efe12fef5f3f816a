//! Statements more than one migration builds: provider child tables, one-column indexes, and
//! the list of child-table indexes that the first migration creates and the bulk load drops
//! and rebuilds. Part of released migrations: a change here changes what they run.

use sea_orm_migration::prelude::*;

/// Creates `child` keyed by (provider_id, `key_columns`...) with a cascading foreign key to
/// `providers`: deleting a provider deletes its rows.
pub(super) fn provider_child_table(
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
                super::m20261125_000001_providers::Providers::Table,
                super::m20261125_000001_providers::Providers::Id,
            )
            .on_delete(ForeignKeyAction::Cascade),
    );
    table.to_owned()
}

/// An index named `idx_<table>_<column>` on one column.
pub(super) fn index_on(table: &str, column: &str) -> IndexCreateStatement {
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
