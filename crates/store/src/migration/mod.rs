//! Schema migrations (sea-orm-migration), written against sea-query's schema builder so the
//! same code creates the tables on SQLite and PostgreSQL. One file per migration, named as the
//! version databases record it. A migration, once released, is never edited: a schema change
//! is a new file appended to [`Migrator::migrations`].

mod builders;
mod m20261125_000001_providers;
mod m20261125_000002_match_logs_and_audit;
mod m20261125_000003_match_log_views;
mod m20261125_000004_match_log_replays;
mod m20261125_000005_match_log_results_packed;

use sea_orm_migration::prelude::*;

pub(crate) use builders::{provider_child_index_drops, provider_child_indexes};

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

#[cfg(test)]
mod tests;
