//! The provider directory as the API writes and reads it: the database is the source of truth,
//! the local index is a projection. A write commits to the database first, then applies the
//! same change to this replica's index with the database's new data generation, then leaves an
//! audit record; reads for the API come from the index.

use std::sync::Arc;

use carematch_domain::{Provider, ProviderId};
use carematch_search::ProviderIndex;
use carematch_store::{AuditRecord, Store, StoreError, UpsertOutcome};
use futures::StreamExt;

/// Why a directory operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("search index: {0}")]
    Index(#[from] carematch_search::SearchError),
    #[error("index task stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
}

#[derive(Clone)]
pub struct Directory {
    pub store: Store,
    pub index: Arc<ProviderIndex>,
}

impl Directory {
    pub fn new(store: Store, index: Arc<ProviderIndex>) -> Self {
        Self { store, index }
    }

    /// Creates or replaces a provider on behalf of `actor`.
    pub async fn upsert(
        &self,
        provider: Provider,
        actor: &str,
    ) -> Result<UpsertOutcome, DirectoryError> {
        let outcome = self.store.upsert_provider(&provider).await?;
        let generation = self.generation().await?;
        let index = Arc::clone(&self.index);
        let indexed = provider.clone();
        tokio::task::spawn_blocking(move || index.upsert(&indexed, generation)).await??;
        let action = match outcome {
            UpsertOutcome::Created => "create_provider",
            UpsertOutcome::Updated => "update_provider",
        };
        self.audit(actor, action, Some(provider.id)).await?;
        Ok(outcome)
    }

    /// Deletes a provider on behalf of `actor`; false when there was none.
    pub async fn delete(&self, id: ProviderId, actor: &str) -> Result<bool, DirectoryError> {
        let existed = self.store.delete_provider(id).await?;
        if existed {
            let generation = self.generation().await?;
            let index = Arc::clone(&self.index);
            tokio::task::spawn_blocking(move || index.delete(id, generation)).await??;
            self.audit(actor, "delete_provider", Some(id)).await?;
        }
        Ok(existed)
    }

    async fn audit(
        &self,
        actor: &str,
        action: &str,
        provider_id: Option<ProviderId>,
    ) -> Result<(), StoreError> {
        self.store
            .insert_audit(&AuditRecord {
                id: uuid::Uuid::new_v4(),
                actor: actor.to_owned(),
                action: action.to_owned(),
                provider_id,
                at: chrono::Utc::now(),
            })
            .await
    }

    async fn generation(&self) -> Result<u64, StoreError> {
        Ok(u64::try_from(self.store.data_generation().await?).unwrap_or_default())
    }

    /// Makes the index reflect the database: reopened as it is when its generation matches,
    /// rebuilt from a stream of the database otherwise. Returns the number of providers
    /// indexed when it rebuilt.
    pub async fn synchronize_index(&self) -> Result<Option<usize>, DirectoryError> {
        let generation = self.generation().await?;
        if self.index.generation() == Some(generation) {
            return Ok(None);
        }
        // Pages flow from the database to the blocking indexer through a small channel, so
        // memory stays flat however many providers there are.
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Provider>>(4);
        let index = Arc::clone(&self.index);
        let builder = tokio::task::spawn_blocking(move || {
            index.rebuild(receiver.into_iter().flatten(), generation)
        });
        let mut pages = std::pin::pin!(self.store.stream_providers(2_000));
        let mut stream_error = None;
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => {
                    // A blocking send on a runtime thread would stall it; hand off instead.
                    let sender = sender.clone();
                    if tokio::task::spawn_blocking(move || sender.send(page))
                        .await?
                        .is_err()
                    {
                        break;
                    }
                }
                Err(error) => {
                    stream_error = Some(error);
                    break;
                }
            }
        }
        drop(sender);
        let report = builder.await??;
        if let Some(error) = stream_error {
            // The build saw only part of the database: mark the index as matching no
            // generation, so the next start (or catch-up) rebuilds it instead of trusting it.
            let index = Arc::clone(&self.index);
            tokio::task::spawn_blocking(move || index.upsert_many(&[], u64::MAX)).await??;
            return Err(error.into());
        }
        Ok(Some(report.providers))
    }
}
