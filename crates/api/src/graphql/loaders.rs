//! DataLoaders for federation's `_entities` and provider fields: by id from this replica's
//! index, by NPI from the database, each batch in one read.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use carematch_domain as domain;
use carematch_search::ProviderIndex;
use carematch_service::ProviderDirectory;

/// Loads providers from the local index, many ids in one read per request (federation
/// `_entities` batches and match pages).
pub struct ProviderLoader {
    index: Arc<ProviderIndex>,
}

impl ProviderLoader {
    pub fn data_loader(index: Arc<ProviderIndex>) -> DataLoader<ProviderLoader> {
        DataLoader::new(ProviderLoader { index }, tokio::spawn)
    }
}

impl Loader<domain::ProviderId> for ProviderLoader {
    type Value = Arc<domain::Provider>;
    type Error = Arc<String>;

    async fn load(
        &self,
        keys: &[domain::ProviderId],
    ) -> Result<HashMap<domain::ProviderId, Arc<domain::Provider>>, Self::Error> {
        carematch_service::indexed_providers(&self.index, keys.to_vec())
            .await
            .map_err(|error| Arc::new(error.to_string()))
    }
}

/// Loads providers from the database by NPI, all the NPIs of one batch in one read
/// (`ProviderDirectory::providers_by_npis`): federation `_entities` representations keyed by `npi`,
/// which the index cannot answer (it is keyed by id). It caches nothing, so the one instance in
/// the schema's data serves every request: concurrent lookups share a read, none sees another's
/// stale answer.
pub struct ProviderByNpiLoader {
    directory: ProviderDirectory,
    reads: Arc<std::sync::atomic::AtomicU64>,
}

impl ProviderByNpiLoader {
    pub fn data_loader(directory: ProviderDirectory) -> DataLoader<ProviderByNpiLoader> {
        Self::counting(directory, Arc::default())
    }

    /// A loader that adds one to `reads` per database read (for tests and diagnostics).
    pub fn counting(
        directory: ProviderDirectory,
        reads: Arc<std::sync::atomic::AtomicU64>,
    ) -> DataLoader<ProviderByNpiLoader> {
        DataLoader::new(ProviderByNpiLoader { directory, reads }, tokio::spawn)
    }
}

impl Loader<domain::Npi> for ProviderByNpiLoader {
    type Value = domain::Provider;
    type Error = Arc<String>;

    async fn load(
        &self,
        keys: &[domain::Npi],
    ) -> Result<HashMap<domain::Npi, domain::Provider>, Self::Error> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let found = self
            .directory
            .providers_by_npis(keys)
            .await
            .map_err(|error| Arc::new(error.to_string()))?;
        Ok(found
            .into_iter()
            .filter_map(|provider| Some((provider.npi.clone()?, provider)))
            .collect())
    }
}
