//! The provider directory as the application writes and reads it: the database is the source
//! of truth, the local index is a projection. A write commits to the database first, then
//! applies the same change to this replica's index with the database's new data generation,
//! then leaves an audit record, then tells the other replicas (the change feed); reads for the
//! API come from the index.
//!
//! Other replicas' writes arrive two ways: change events (within milliseconds, when redis is
//! up) and a periodic catch-up by `updated_at` against the database (always; it repairs what
//! an event lost). Both go through [`ProviderDirectory::apply_change`] or
//! [`ProviderDirectory::catch_up`], one at a time. The index's generation labels its content
//! for the ranked-list cache: it is the database's generation whose state the index holds. An
//! event that does not follow the index's generation directly means one was missed, and
//! triggers a catch-up at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use carematch_cache::ChangeFeed;
use carematch_domain::{Npi, Provider, ProviderId};
use carematch_search::ProviderIndex;
use carematch_store::{AuditRecord, PoolStatus, Store, StoreError, UpsertOutcome};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::Notify;

/// Why a directory operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The provider's NPI belongs to another provider: her input is at fault, not the system.
    #[error("the NPI belongs to another provider")]
    NpiConflict,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("search index: {0}")]
    Index(#[from] carematch_search::SearchError),
    #[error("index task stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The directory service: provider writes, reads of what is indexed, and keeping this
/// replica's index in step with the database. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct ProviderDirectory {
    store: Store,
    /// This replica's index: the engine ranks over this same index.
    pub index: Arc<ProviderIndex>,
    /// Tells the other replicas about this one's writes, when redis is configured.
    feed: Option<ChangeFeed>,
    sync: Arc<ReplicaSync>,
}

/// What applying other replicas' changes shares.
#[derive(Default)]
struct ReplicaSync {
    /// One change application or catch-up at a time, so generations are never interleaved.
    applying: tokio::sync::Mutex<()>,
    /// Everything written up to here is in the index (`None`: not caught up yet).
    high_water: Mutex<Option<DateTime<Utc>>>,
    /// Every write up to this data generation is in the index: a catch-up read up to it, and
    /// each change applied since followed on directly. While the database is still at it, a
    /// periodic catch-up has nothing to read. (Reading anyway is not free: `changed_since` is
    /// inclusive, so it re-reads every provider stamped at the high water, which after an
    /// import is its whole last batch.)
    complete: Mutex<Option<u64>>,
    /// Wakes the catch-up loop early (a missed event was noticed).
    wake: Notify,
}

/// What a catch-up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchUp {
    pub upserted: usize,
    pub deleted: usize,
    pub generation: u64,
}

/// How far back a catch-up looks when the index was not synchronized first (start-up sets the
/// exact point, see `synchronize_index`): applying a change twice is harmless.
const FIRST_CATCH_UP_LOOKBACK: chrono::TimeDelta = chrono::TimeDelta::seconds(120);

impl ProviderDirectory {
    pub fn new(store: Store, index: Arc<ProviderIndex>) -> Self {
        Self {
            store,
            index,
            feed: None,
            sync: Arc::new(ReplicaSync::default()),
        }
    }

    /// Announces this replica's writes on `feed`.
    pub fn with_feed(mut self, feed: ChangeFeed) -> Self {
        self.feed = Some(feed);
        self
    }

    /// Creates or replaces a provider on behalf of `actor`.
    pub async fn upsert(
        &self,
        provider: Provider,
        actor: &str,
    ) -> Result<UpsertOutcome, DirectoryError> {
        let outcome = self
            .store
            .upsert_provider(&provider)
            .await
            .map_err(|error| match error {
                StoreError::NpiConflict { .. } => DirectoryError::NpiConflict,
                error => DirectoryError::Store(error),
            })?;
        self.apply_own_write(vec![provider.clone()], Vec::new())
            .await?;
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
            self.apply_own_write(Vec::new(), vec![id]).await?;
            self.audit(actor, "delete_provider", Some(id)).await?;
        }
        Ok(existed)
    }

    /// The indexed providers among `ids`, read without a loader's batching delay: inline when
    /// every one is hydrated already (a page of a busy area usually is), else in one read on a
    /// blocking thread. Ids not in the index are left out.
    pub async fn indexed_providers(
        &self,
        ids: Vec<ProviderId>,
    ) -> Result<HashMap<ProviderId, Arc<Provider>>, DirectoryError> {
        indexed_providers(&self.index, ids).await
    }

    /// The stored providers with these NPIs, in one read (the index is keyed by id).
    pub async fn providers_by_npis(&self, npis: &[Npi]) -> Result<Vec<Provider>, DirectoryError> {
        Ok(self.store.get_providers_by_npis(npis).await?)
    }

    /// Providers in this replica's index.
    pub fn indexed_count(&self) -> usize {
        self.index.len()
    }

    /// The database behind the directory, for the services built beside it.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The database pool's size and idle connections, for `/metrics`.
    pub fn pool_status(&self) -> PoolStatus {
        self.store.pool_status()
    }

    /// Applies this replica's committed write to its index, then announces it.
    async fn apply_own_write(
        &self,
        upserted: Vec<Provider>,
        deleted: Vec<ProviderId>,
    ) -> Result<(), DirectoryError> {
        let upserted_ids: Vec<ProviderId> = upserted.iter().map(|provider| provider.id).collect();
        let generation = {
            let _applying = self.sync.applying.lock().await;
            let generation = self.generation().await?;
            self.apply_to_index(upserted, deleted.clone(), generation)
                .await?;
            generation
        };
        if let Some(feed) = self.feed.clone() {
            // Off the request's path: a failure is counted, and other replicas' catch-up
            // finds the write in the database.
            tokio::spawn(async move {
                if let Err(error) = feed.publish(generation, upserted_ids, deleted).await {
                    tracing::debug!(%error, "change event not published");
                }
            });
        }
        Ok(())
    }

    /// Writes into the index labelled `generation` (never lowering the label); a generation
    /// that does not follow the index's directly means a change was missed: catch up soon.
    async fn apply_to_index(
        &self,
        upserted: Vec<Provider>,
        deleted: Vec<ProviderId>,
        generation: u64,
    ) -> Result<(), DirectoryError> {
        if self
            .index
            .generation()
            .is_some_and(|previous| previous.checked_add(1) != Some(generation))
        {
            self.sync.wake.notify_one();
        }
        self.write_index(upserted, deleted, generation).await?;
        let mut complete = self.complete();
        if complete.is_some_and(|complete| complete.checked_add(1) == Some(generation)) {
            *complete = Some(generation);
        }
        Ok(())
    }

    /// Applies a change to the index in one commit, labelled `generation` unless the index is
    /// already labelled later (the label never goes down).
    async fn write_index(
        &self,
        upserted: Vec<Provider>,
        deleted: Vec<ProviderId>,
        generation: u64,
    ) -> Result<(), DirectoryError> {
        let label = self
            .index
            .generation()
            .map_or(generation, |previous| previous.max(generation));
        let index = Arc::clone(&self.index);
        tokio::task::spawn_blocking(move || index.apply(&upserted, &deleted, label)).await??;
        metrics::gauge!(crate::metrics::INDEX_GENERATION).set(label as f64);
        metrics::gauge!(crate::metrics::INDEX_DOCUMENTS).set(self.index.len() as f64);
        Ok(())
    }

    /// Applies another replica's change: the providers are read from the database now, so
    /// the index gets their latest state (one deleted since is removed).
    pub async fn apply_change(
        &self,
        generation: u64,
        upserted: &[ProviderId],
        deleted: &[ProviderId],
    ) -> Result<(), DirectoryError> {
        let _applying = self.sync.applying.lock().await;
        let found = self.store.get_providers(upserted).await?;
        let mut gone: Vec<ProviderId> = upserted
            .iter()
            .filter(|id| !found.iter().any(|provider| provider.id == **id))
            .copied()
            .collect();
        gone.extend_from_slice(deleted);
        self.apply_to_index(found, gone, generation).await
    }

    /// Reads what changed in the database since the last catch-up and applies it. The first
    /// call after start-up looks back a little before now.
    pub async fn catch_up(&self) -> Result<CatchUp, DirectoryError> {
        let _applying = self.sync.applying.lock().await;
        // Read before the changes: the index then holds at least this generation's state.
        let generation = self.generation().await?;
        // Only a catch-up starts `complete`, so a high water is set whenever it is.
        if *self.complete() == Some(generation) {
            return Ok(CatchUp {
                upserted: 0,
                deleted: 0,
                generation,
            });
        }
        let since = self
            .sync
            .high_water
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .unwrap_or_else(|| Utc::now() - FIRST_CATCH_UP_LOOKBACK);
        let changes = self.store.changed_since(since).await?;
        let nothing_new =
            changes.high_water == since && self.index.generation() == Some(generation);
        let report = CatchUp {
            upserted: changes.upserted.len(),
            deleted: changes.deleted.len(),
            generation,
        };
        if !nothing_new {
            // A provider deleted and re-created appears in both lists: `apply` keeps its row.
            self.write_index(changes.upserted, changes.deleted, generation)
                .await?;
        }
        *self
            .sync
            .high_water
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(changes.high_water);
        *self.complete() = Some(generation);
        Ok(report)
    }

    fn complete(&self) -> std::sync::MutexGuard<'_, Option<u64>> {
        self.sync
            .complete
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The first catch-up reads from `at` (unless one already ran).
    fn start_catch_up_at(&self, at: DateTime<Utc>) {
        self.sync
            .high_water
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get_or_insert(at);
    }

    /// Resolves when a catch-up was asked for (a missed change was noticed).
    pub async fn catch_up_requested(&self) {
        self.sync.wake.notified().await;
    }

    /// Asks the catch-up loop to run now.
    pub fn request_catch_up(&self) {
        self.sync.wake.notify_one();
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
        // Read before the generation: every write the index might lack is stamped at or after
        // it, so the first catch-up starts here instead of re-reading old writes.
        let last_write = self.store.last_write_at().await?;
        let generation = self.generation().await?;
        if self.index.generation() == Some(generation) {
            self.start_catch_up_at(last_write);
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
        if stream_error.is_none() {
            self.start_catch_up_at(last_write);
        }
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

/// The indexed providers among `ids` (see [`ProviderDirectory::indexed_providers`]), for a
/// reader that holds the index alone (a per-request loader).
pub async fn indexed_providers(
    index: &Arc<ProviderIndex>,
    ids: Vec<ProviderId>,
) -> Result<HashMap<ProviderId, Arc<Provider>>, DirectoryError> {
    let loaded = match index.get_many_hydrated(&ids) {
        Some(loaded) => loaded,
        None => {
            let index = Arc::clone(index);
            tokio::task::spawn_blocking(move || index.get_many_shared(&ids)).await??
        }
    };
    Ok(loaded
        .into_iter()
        .flatten()
        .map(|provider| (provider.id, provider))
        .collect())
}

/// A conflict is her input's fault; the rest is internal.
impl carematch_domain::HasErrorCode for DirectoryError {
    fn code(&self) -> carematch_domain::ErrorCode {
        match self {
            DirectoryError::NpiConflict => carematch_domain::ErrorCode::BadUserInput,
            DirectoryError::Store(error) => carematch_domain::HasErrorCode::code(error),
            DirectoryError::Index(error) => carematch_domain::HasErrorCode::code(error),
            DirectoryError::Task(_) => carematch_domain::ErrorCode::InternalServerError,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carematch_store::StoreOptions;
    use std::time::Duration;

    /// A directory over an empty in-memory database, after its first catch-up.
    async fn caught_up_directory() -> (Store, Arc<ProviderIndex>, ProviderDirectory) {
        let store = Store::connect("sqlite::memory:", &StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let index = Arc::new(ProviderIndex::in_ram().unwrap());
        let directory = ProviderDirectory::new(store.clone(), Arc::clone(&index));
        directory.catch_up().await.unwrap();
        (store, index, directory)
    }

    /// A change event whose generation does not follow the index's means events were missed
    /// (redis dropped them): a catch-up is asked for at once, not at the next period.
    #[tokio::test]
    async fn a_missed_change_event_asks_for_a_catch_up_at_once() {
        let (store, index, directory) = caught_up_directory().await;
        let providers = carematch_demo::generate_range(7, 0..3).unwrap();
        let asked = |wait: u64| {
            tokio::time::timeout(Duration::from_millis(wait), directory.catch_up_requested())
        };
        // The event of the latest write, as another replica publishes it.
        let event_arrives = async |id: ProviderId| {
            let generation = directory.generation().await.unwrap();
            directory
                .apply_change(generation, &[id], &[])
                .await
                .unwrap();
        };

        // Another replica writes twice; the first event never arrives.
        store.upsert_provider(&providers[0]).await.unwrap();
        store.upsert_provider(&providers[1]).await.unwrap();
        event_arrives(providers[1].id).await;
        assert!(asked(1_000).await.is_ok(), "the gap was not noticed");
        assert_eq!(index.get_many(&[providers[0].id]).unwrap(), vec![None]);
        directory.catch_up().await.unwrap();
        assert_eq!(
            index.get_many(&[providers[0].id]).unwrap(),
            vec![Some(providers[0].clone())]
        );

        // The next event follows on: nothing is asked for.
        store.upsert_provider(&providers[2]).await.unwrap();
        event_arrives(providers[2].id).await;
        assert!(
            asked(300).await.is_err(),
            "a catch-up was asked for without a gap"
        );
        assert_eq!(
            index.get_many(&[providers[2].id]).unwrap(),
            vec![Some(providers[2].clone())]
        );
    }

    /// A periodic catch-up reads the database only when a write may be missing from the
    /// index; one that read everything up to the database's generation has nothing to read.
    #[tokio::test]
    async fn a_catch_up_reads_nothing_when_every_write_is_in_the_index() {
        let (store, index, directory) = caught_up_directory().await;
        let providers = carematch_demo::generate_range(8, 0..4).unwrap();

        // Another replica's write whose event never arrives: the next catch-up finds it.
        store.upsert_provider(&providers[0]).await.unwrap();
        assert_eq!(directory.catch_up().await.unwrap().upserted, 1);
        // Then nothing new: before, every period read that provider again (it is stamped at
        // the high water).
        assert_eq!(directory.catch_up().await.unwrap().upserted, 0);

        // A change that follows on keeps the index complete: nothing to read either.
        store.upsert_provider(&providers[1]).await.unwrap();
        let generation = directory.generation().await.unwrap();
        directory
            .apply_change(generation, &[providers[1].id], &[])
            .await
            .unwrap();
        assert_eq!(directory.catch_up().await.unwrap().upserted, 0);

        // A gap (one event lost, the next one applied) must still be read.
        store.upsert_provider(&providers[2]).await.unwrap();
        store.upsert_provider(&providers[3]).await.unwrap();
        let generation = directory.generation().await.unwrap();
        directory
            .apply_change(generation, &[providers[3].id], &[])
            .await
            .unwrap();
        assert_eq!(index.get_many(&[providers[2].id]).unwrap(), vec![None]);
        assert!(directory.catch_up().await.unwrap().upserted >= 1);
        assert_eq!(
            index.get_many(&[providers[2].id]).unwrap(),
            vec![Some(providers[2].clone())]
        );
        // A delete that arrives by no event is found too.
        store.delete_provider(providers[0].id).await.unwrap();
        assert_eq!(directory.catch_up().await.unwrap().deleted, 1);
        assert_eq!(index.get_many(&[providers[0].id]).unwrap(), vec![None]);
    }
}
