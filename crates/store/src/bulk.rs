//! The bulk load: many providers into an empty database, fast (seeding a million demo
//! providers, a first import).
//!
//! Each batch is written by the ordinary upsert ([`Store::upsert_providers`]): one transaction
//! per batch, the same rows, the same checks, the same generation bump. What differs is the
//! schema around it: when the database holds no provider and no tombstone when the load starts,
//! the secondary indexes of the child tables (`migration::provider_child_indexes`, the list the
//! first migration creates them from) are dropped for the load and built once at its end,
//! which sorts each column once instead of inserting millions of keys one by one into indexes
//! that no longer fit in memory. The load ends by recreating them whether it succeeded or
//! failed; a process killed mid-load leaves them missing until the next
//! [`Store::migrate`], which recreates any that are missing.
//!
//! Primary keys and the unique NPI index stay in place throughout: they are what makes a
//! duplicate fail the batch exactly as it would outside a bulk load.

use futures::{Stream, StreamExt};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, PaginatorTrait};

use crate::entity::{provider_tombstones, providers};
use crate::migration;
use crate::{Store, StoreError};

/// What a bulk load did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkLoadSummary {
    /// Providers written (inputs, counting a repeated id once per copy).
    pub providers: u64,
    /// Whether the child-table indexes were deferred to the end (the database was empty).
    pub indexes_deferred: bool,
}

impl Store {
    /// Writes every batch of `batches`, in order, one transaction per batch (see
    /// [`Store::upsert_providers`] for what a batch does). On an empty database the child
    /// tables' secondary indexes are built once at the end rather than maintained row by row;
    /// on a database with providers this is the same as upserting each batch.
    ///
    /// A failing batch stops the load: the batches before it stay written, the indexes are
    /// recreated, and the batch's error is returned. Batches of a few thousand to tens of
    /// thousands of providers suit it; sorting a batch's providers by id (or, better, the
    /// whole load) keeps the primary-key inserts at the end of each B-tree.
    pub async fn bulk_load_providers<S>(&self, batches: S) -> Result<BulkLoadSummary, StoreError>
    where
        S: Stream<Item = Vec<carematch_domain::Provider>> + Send,
    {
        let indexes_deferred = self.is_empty_of_providers().await?;
        if indexes_deferred {
            self.drop_child_indexes().await?;
            tracing::debug!("bulk load into an empty database: child-table indexes deferred");
        }
        let loaded = self.write_batches(batches).await;
        if indexes_deferred {
            let started = std::time::Instant::now();
            let recreated = self.ensure_child_indexes().await;
            match (&loaded, recreated) {
                (_, Ok(())) => tracing::debug!(
                    seconds = started.elapsed().as_secs_f64(),
                    "child-table indexes rebuilt"
                ),
                // The load's own error is the one to report; `migrate` retries the indexes.
                (Err(_), Err(error)) => {
                    tracing::error!(%error, "recreating child-table indexes after a failed bulk load");
                }
                (Ok(_), Err(error)) => return Err(error.into()),
            }
        }
        Ok(BulkLoadSummary {
            providers: loaded?,
            indexes_deferred,
        })
    }

    async fn write_batches<S>(&self, batches: S) -> Result<u64, StoreError>
    where
        S: Stream<Item = Vec<carematch_domain::Provider>> + Send,
    {
        let mut batches = std::pin::pin!(batches);
        let mut written = 0_u64;
        while let Some(batch) = batches.next().await {
            self.upsert_providers(&batch).await?;
            written += batch.len() as u64;
        }
        Ok(written)
    }

    /// No provider and no tombstone: nothing a bulk load could collide with or hide.
    async fn is_empty_of_providers(&self) -> Result<bool, StoreError> {
        let providers = providers::Entity::find().count(&self.connection).await?;
        let tombstones = provider_tombstones::Entity::find()
            .count(&self.connection)
            .await?;
        Ok(providers == 0 && tombstones == 0)
    }

    async fn drop_child_indexes(&self) -> Result<(), DbErr> {
        for statement in migration::provider_child_index_drops() {
            self.connection.execute(&statement).await?;
        }
        Ok(())
    }

    /// Creates the child-table indexes that are missing (all present: a no-op).
    pub(crate) async fn ensure_child_indexes(&self) -> Result<(), DbErr> {
        for statement in migration::provider_child_indexes() {
            self.connection.execute(&statement).await?;
        }
        Ok(())
    }
}
