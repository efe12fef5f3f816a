//! [`ProviderIndex`]: the tantivy index and the in-memory catalog kept in step — full builds
//! from a stream of providers, incremental upserts and deletes, the recorded generation, text
//! relevance for candidates, and hydration of providers by id.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use carematch_domain::{Provider, ProviderId};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher};

use crate::SearchError;
use crate::catalog::{Catalog, CatalogMemory, ProviderSlot, ProviderSummary};
use crate::schema::{INDEX_FORMAT_VERSION, IndexFields, TEXT_ANALYZER_NAME, text_analyzer};
use crate::snapshot;

mod reopen;
mod text;
mod view;

use reopen::{document_addresses, load_catalog};
pub use view::IndexView;

/// How the index writes. The defaults use every core for a build, with a memory budget that
/// keeps a 1M-provider build well under the serving process's memory target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexOptions {
    pub writer_threads: usize,
    /// Shared by the writer threads; tantivy flushes a segment when its share is used.
    pub writer_memory_bytes: usize,
}

impl Default for IndexOptions {
    fn default() -> Self {
        let writer_threads = std::thread::available_parallelism()
            .map_or(2, std::num::NonZeroUsize::get)
            .clamp(1, 8);
        Self {
            writer_threads,
            writer_memory_bytes: writer_threads * 150_000_000,
        }
    }
}

/// The in-memory side of an index, by part. Tantivy's files are mapped, not counted here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexMemory {
    pub catalog: CatalogMemory,
    /// Where each slot's document is.
    pub document_addresses_bytes: usize,
    /// Providers kept hydrated (at most [`HYDRATED_PROVIDERS`]).
    pub hydrated_providers: u64,
}

/// What a full build did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildReport {
    pub providers: usize,
    pub elapsed: Duration,
}

/// Written with every commit, so a reopened index knows which data it reflects.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct CommitPayload {
    format: u32,
    generation: u64,
}

/// Tantivy addresses packed as `segment_ord << 32 | doc_id`; `NO_DOCUMENT` for free slots.
pub(super) const NO_DOCUMENT: u64 = u64::MAX;

/// How many hydrated providers are kept. A page shows 10 to 50 of them, and the providers of
/// dense metros are shown again and again: reading one from tantivy's store (decompressing its
/// block, decoding its document) was a tenth of an uncached request's time.
const HYDRATED_PROVIDERS: u64 = 8_192;

/// One consistent view for queries: the searcher, where each slot's document is in it, and
/// the catalog. Swapped as a whole by writers.
pub(super) struct IndexState {
    pub(super) searcher: Searcher,
    pub(super) document_by_slot: Vec<u64>,
    pub(super) catalog: Catalog,
    pub(super) generation: Option<u64>,
    /// The tantivy commit this state reflects (the catalog snapshot names it).
    pub(super) opstamp: u64,
    /// Providers read from the store of THIS state, by slot; emptied on every swap, so it
    /// never answers with a provider from before a write.
    pub(super) hydrated: moka::sync::Cache<ProviderSlot, Arc<Provider>>,
}

/// The provider index. Share it behind an `Arc`; queries take a read view, writes are
/// serialized by the writer lock and swap the view at the end.
pub struct ProviderIndex {
    pub(super) index: Index,
    pub(super) fields: IndexFields,
    pub(super) writer: Mutex<IndexWriter>,
    pub(super) reader: IndexReader,
    pub(super) state: RwLock<IndexState>,
    pub(super) directory: Option<PathBuf>,
    /// The commit whose catalog is saved in the directory, if any (see `snapshot`).
    pub(super) snapshot_opstamp: Mutex<Option<u64>>,
    /// Whether the catalog at open came from the snapshot rather than the stored providers.
    pub(super) opened_from_snapshot: bool,
}

impl std::fmt::Debug for ProviderIndex {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ProviderIndex")
            .field("directory", &self.directory)
            .field("providers", &self.len())
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

impl ProviderIndex {
    /// An empty index in memory only (tests, demos).
    pub fn in_ram() -> Result<Self, SearchError> {
        Self::in_ram_with(IndexOptions {
            writer_threads: 1,
            writer_memory_bytes: 50_000_000,
        })
    }

    pub fn in_ram_with(options: IndexOptions) -> Result<Self, SearchError> {
        let fields = IndexFields::new();
        let index = Index::create_in_ram(fields.schema.clone());
        Self::from_index(index, fields, options, None)
    }

    /// Opens the index in `directory`, or creates an empty one. An index written in another
    /// format is discarded (it is a projection of the store and can always be rebuilt). Check
    /// [`generation`](Self::generation) against the store's and call
    /// [`rebuild`](Self::rebuild) when they differ.
    pub fn open_or_create(directory: &Path) -> Result<Self, SearchError> {
        Self::open_or_create_with(directory, IndexOptions::default())
    }

    pub fn open_or_create_with(
        directory: &Path,
        options: IndexOptions,
    ) -> Result<Self, SearchError> {
        let fields = IndexFields::new();
        fs::create_dir_all(directory)?;
        let index = if directory.join("meta.json").exists() {
            let reusable = match Index::open_in_dir(directory) {
                Ok(index) => match read_payload(&index) {
                    Ok(payload) => payload
                        .is_none_or(|payload| payload.format == INDEX_FORMAT_VERSION)
                        .then_some(index),
                    Err(_) => None,
                },
                Err(_) => None,
            };
            match reusable {
                Some(index) => index,
                None => {
                    fs::remove_dir_all(directory)?;
                    fs::create_dir_all(directory)?;
                    Index::create_in_dir(directory, fields.schema.clone())?
                }
            }
        } else {
            Index::create_in_dir(directory, fields.schema.clone())?
        };
        Self::from_index(index, fields, options, Some(directory.to_owned()))
    }

    /// The generation recorded in the index at `directory`, without loading it: `None` when
    /// there is no index, or it is of another format, or it was never committed.
    pub fn stored_generation(directory: &Path) -> Result<Option<u64>, SearchError> {
        if !directory.join("meta.json").exists() {
            return Ok(None);
        }
        let index = Index::open_in_dir(directory)?;
        Ok(read_payload(&index)?
            .filter(|payload| payload.format == INDEX_FORMAT_VERSION)
            .map(|payload| payload.generation))
    }

    fn from_index(
        index: Index,
        fields: IndexFields,
        options: IndexOptions,
        directory: Option<PathBuf>,
    ) -> Result<Self, SearchError> {
        index
            .tokenizers()
            .register(TEXT_ANALYZER_NAME, text_analyzer());
        let writer: IndexWriter = index.writer_with_num_threads(
            options.writer_threads.max(1),
            options
                .writer_memory_bytes
                .max(15_000_000 * options.writer_threads.max(1)),
        )?;
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        let generation = read_payload(&index)?.map(|payload| payload.generation);
        let opstamp = index.load_metas()?.opstamp;
        let saved = directory
            .as_deref()
            .filter(|_| searcher.num_docs() > 0)
            .and_then(|directory| snapshot::load(directory, opstamp))
            .filter(|catalog| catalog.len() as u64 == searcher.num_docs());
        let opened_from_snapshot = saved.is_some();
        let catalog = match saved {
            Some(catalog) => catalog,
            None => load_catalog(&fields, &searcher)?,
        };
        let document_by_slot = document_addresses(&fields, &searcher)?;
        let index = Self {
            index,
            fields,
            writer: Mutex::new(writer),
            reader,
            state: RwLock::new(IndexState {
                searcher,
                document_by_slot,
                catalog,
                generation,
                hydrated: moka::sync::Cache::new(HYDRATED_PROVIDERS),
                opstamp,
            }),
            directory,
            snapshot_opstamp: Mutex::new(opened_from_snapshot.then_some(opstamp)),
            opened_from_snapshot,
        };
        if !opened_from_snapshot && !index.is_empty() {
            // The next start reads the snapshot instead. Failing to write it (a read-only or
            // full disk) only costs that start its speed.
            let _ = index.save_snapshot();
        }
        Ok(index)
    }

    /// Saves the catalog beside the index, as of its last commit, unless that commit's is
    /// saved already; returns whether it wrote. A start on the same commit then reads the
    /// snapshot instead of every stored provider. Called after a rebuild and at shutdown;
    /// writes in between leave the snapshot behind, and a start after them decodes the
    /// stored providers (correct, only slower). In-memory indexes save nothing.
    pub fn save_snapshot(&self) -> Result<bool, SearchError> {
        let Some(directory) = self.directory.as_deref() else {
            return Ok(false);
        };
        // The writer lock keeps the state's commit from moving while it is saved.
        let _writer = self.lock_writer();
        let mut saved = self
            .snapshot_opstamp
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let state = self.read_state();
        if *saved == Some(state.opstamp) {
            return Ok(false);
        }
        snapshot::save(directory, &state.catalog, state.opstamp)?;
        *saved = Some(state.opstamp);
        Ok(true)
    }

    /// Whether this index's catalog was read from its snapshot when it was opened.
    pub fn opened_from_snapshot(&self) -> bool {
        self.opened_from_snapshot
    }

    /// What the in-memory side of the index holds now (BENCHMARKS.md, "Where memory goes").
    pub fn memory(&self) -> IndexMemory {
        let state = self.read_state();
        IndexMemory {
            catalog: state.catalog.memory(),
            document_addresses_bytes: state.document_by_slot.capacity() * size_of::<u64>(),
            hydrated_providers: state.hydrated.entry_count(),
        }
    }

    /// The store generation this index reflects, as given with the last write.
    pub fn generation(&self) -> Option<u64> {
        self.read_state().generation
    }

    /// Number of providers in the index.
    pub fn len(&self) -> usize {
        self.read_state().catalog.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn directory(&self) -> Option<&Path> {
        self.directory.as_deref()
    }

    /// Bytes used by the index files on disk (`None` in RAM).
    pub fn disk_size_bytes(&self) -> Option<u64> {
        let directory = self.directory.as_ref()?;
        let entries = fs::read_dir(directory).ok()?;
        Some(
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| entry.metadata().ok())
                .filter(fs::Metadata::is_file)
                .map(|metadata| metadata.len())
                .sum(),
        )
    }

    /// A consistent read view for one query. Hold it only for the query: writers wait for it
    /// before swapping in their changes.
    pub fn view(&self) -> IndexView<'_> {
        IndexView {
            index: self,
            state: self.read_state(),
        }
    }

    /// Replaces the whole index with `providers` (streamed: only compact summaries are kept in
    /// memory) and records `generation`. Queries see the previous contents until it finishes.
    /// Tantivy indexes on [`IndexOptions::writer_threads`] threads while this thread converts.
    pub fn rebuild<I>(&self, providers: I, generation: u64) -> Result<BuildReport, SearchError>
    where
        I: IntoIterator<Item = Provider>,
    {
        let started = Instant::now();
        let mut writer = self.lock_writer();
        writer.delete_all_documents()?;
        let mut catalog = Catalog::new();
        let mut summaries: Vec<ProviderSummary> = Vec::new();
        let mut slot_by_id: HashMap<ProviderId, ProviderSlot> = HashMap::new();
        for provider in providers {
            let summary = catalog.summarize(&provider);
            let slot = match slot_by_id.get(&provider.id) {
                // The same provider twice in the stream: the later one wins.
                Some(&slot) => {
                    writer.delete_term(self.fields.id_term(provider.id));
                    summaries[slot as usize] = summary;
                    slot
                }
                None => {
                    let slot = summaries.len() as ProviderSlot;
                    slot_by_id.insert(provider.id, slot);
                    summaries.push(summary);
                    slot
                }
            };
            writer.add_document(self.fields.document(&provider, slot)?)?;
        }
        drop(slot_by_id);
        let opstamp = commit_with_generation(&mut writer, generation)?;
        let providers = summaries.len();
        let catalog = catalog.bulk_load(summaries);
        self.swap_in(Some(catalog), generation, opstamp, |_| {})?;
        drop(writer);
        // A failed save costs the next start its speed only.
        let _ = self.save_snapshot();
        Ok(BuildReport {
            providers,
            elapsed: started.elapsed(),
        })
    }

    /// Adds or replaces one provider and records `generation`.
    pub fn upsert(&self, provider: &Provider, generation: u64) -> Result<(), SearchError> {
        self.upsert_many(std::slice::from_ref(provider), generation)
    }

    /// Adds or replaces providers in one commit (an import batch) and records `generation`.
    pub fn upsert_many(&self, providers: &[Provider], generation: u64) -> Result<(), SearchError> {
        self.apply(providers, &[], generation)
    }

    /// Adds or replaces `upserted` and removes `deleted` in one commit, and records
    /// `generation`: how another replica's changes arrive. An id in both lists is upserted.
    pub fn apply(
        &self,
        upserted: &[Provider],
        deleted: &[ProviderId],
        generation: u64,
    ) -> Result<(), SearchError> {
        let mut writer = self.lock_writer();
        let deleted: Vec<ProviderId> = deleted
            .iter()
            .filter(|id| !upserted.iter().any(|provider| provider.id == **id))
            .copied()
            .collect();
        for id in &deleted {
            writer.delete_term(self.fields.id_term(*id));
        }
        let ids: Vec<ProviderId> = upserted.iter().map(|provider| provider.id).collect();
        let slots = self.read_state().catalog.plan_slots(&ids);
        for (provider, slot) in upserted.iter().zip(&slots) {
            writer.delete_term(self.fields.id_term(provider.id));
            writer.add_document(self.fields.document(provider, *slot)?)?;
        }
        let opstamp = commit_with_generation(&mut writer, generation)?;
        self.swap_in(None, generation, opstamp, |catalog| {
            for id in &deleted {
                catalog.remove(*id);
            }
            for (provider, slot) in upserted.iter().zip(&slots) {
                catalog.upsert_at(*slot, provider);
            }
        })
    }

    /// Removes a provider and records `generation`; returns whether it was indexed.
    pub fn delete(&self, id: ProviderId, generation: u64) -> Result<bool, SearchError> {
        let mut writer = self.lock_writer();
        writer.delete_term(self.fields.id_term(id));
        let opstamp = commit_with_generation(&mut writer, generation)?;
        let mut existed = false;
        self.swap_in(None, generation, opstamp, |catalog| {
            existed = catalog.remove(id)
        })?;
        Ok(existed)
    }

    /// The provider with this id, read from the document store.
    pub fn get(&self, id: ProviderId) -> Result<Option<Provider>, SearchError> {
        let view = self.view();
        match view.catalog().slot_of(id) {
            Some(slot) => view.provider(slot),
            None => Ok(None),
        }
    }

    /// The providers with these ids, in the same order; `None` for an id not indexed.
    pub fn get_many(&self, ids: &[ProviderId]) -> Result<Vec<Option<Provider>>, SearchError> {
        Ok(self
            .get_many_shared(ids)?
            .into_iter()
            .map(|provider| provider.map(Arc::unwrap_or_clone))
            .collect())
    }

    /// [`ProviderIndex::get_many`] without copying: the providers are shared with the index's
    /// cache of hydrated providers.
    pub fn get_many_shared(
        &self,
        ids: &[ProviderId],
    ) -> Result<Vec<Option<Arc<Provider>>>, SearchError> {
        let view = self.view();
        ids.iter()
            .map(|id| match view.catalog().slot_of(*id) {
                Some(slot) => view.provider_shared(slot),
                None => Ok(None),
            })
            .collect()
    }

    /// [`ProviderIndex::get_many_shared`] when every indexed one of `ids` is already hydrated
    /// (reads nothing from disk, so a caller on an async runtime may call it inline); `None`
    /// when one would have to be read.
    pub fn get_many_hydrated(&self, ids: &[ProviderId]) -> Option<Vec<Option<Arc<Provider>>>> {
        let view = self.view();
        ids.iter()
            .map(|id| match view.catalog().slot_of(*id) {
                Some(slot) => view.hydrated(slot),
                None => Some(None),
            })
            .collect()
    }

    /// After a commit: reloads the searcher, recomputes document addresses outside the lock,
    /// then swaps the new state in (replacing the catalog, or changing it with `change`).
    fn swap_in(
        &self,
        new_catalog: Option<Catalog>,
        generation: u64,
        opstamp: u64,
        change: impl FnOnce(&mut Catalog),
    ) -> Result<(), SearchError> {
        self.reader.reload()?;
        let searcher = self.reader.searcher();
        let document_by_slot = document_addresses(&self.fields, &searcher)?;
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(catalog) = new_catalog {
            state.catalog = catalog;
        }
        change(&mut state.catalog);
        state.searcher = searcher;
        state.document_by_slot = document_by_slot;
        state.generation = Some(generation);
        state.opstamp = opstamp;
        // Readers are locked out until the guard drops, so nothing can refill it from the
        // old searcher.
        state.hydrated.invalidate_all();
        Ok(())
    }

    fn lock_writer(&self) -> MutexGuard<'_, IndexWriter> {
        // A writer that panicked mid-write left nothing committed; the next commit or rebuild
        // starts from the last commit, so the lock is safe to take over.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn read_state(&self) -> RwLockReadGuard<'_, IndexState> {
        // The state is replaced only as a whole at the end of a write, so it is consistent
        // even if a writer panicked.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }
}

fn read_payload(index: &Index) -> Result<Option<CommitPayload>, SearchError> {
    match index.load_metas()?.payload {
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| SearchError::CorruptCommitPayload(error.to_string())),
        None => Ok(None),
    }
}

fn commit_with_generation(writer: &mut IndexWriter, generation: u64) -> Result<u64, SearchError> {
    let payload = serde_json::to_string(&CommitPayload {
        format: INDEX_FORMAT_VERSION,
        generation,
    })
    .map_err(|error| SearchError::CorruptCommitPayload(error.to_string()))?;
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload);
    Ok(prepared.commit()?)
}
