//! What a reopen without a usable catalog snapshot does: decode every stored provider into
//! the catalog, and find where each slot's document is.

//! [`ProviderIndex`]: the tantivy index and the in-memory catalog kept in step — full builds
//! from a stream of providers, incremental upserts and deletes, the recorded generation, text
//! relevance for candidates, and hydration of providers by id.

use std::sync::mpsc::sync_channel;

use carematch_domain::Provider;
use tantivy::{Searcher, TantivyDocument};

use crate::SearchError;
use crate::catalog::{Catalog, ProviderSlot, ProviderSummary};
use crate::schema::IndexFields;

use super::NO_DOCUMENT;

/// Where each slot's live document is in this searcher.
pub(super) fn document_addresses(
    fields: &IndexFields,
    searcher: &Searcher,
) -> Result<Vec<u64>, SearchError> {
    let mut document_by_slot: Vec<u64> = Vec::with_capacity(searcher.num_docs() as usize);
    let slot_field_name = fields.schema.get_field_name(fields.slot);
    for (segment_ord, segment_reader) in searcher.segment_readers().iter().enumerate() {
        let slots = segment_reader.fast_fields().u64(slot_field_name)?;
        for document in segment_reader.doc_ids_alive() {
            let Some(slot) = slots.first(document) else {
                continue;
            };
            let slot = slot as usize;
            if document_by_slot.len() <= slot {
                document_by_slot.resize(slot + 1, NO_DOCUMENT);
            }
            document_by_slot[slot] = ((segment_ord as u64) << 32) | u64::from(document);
        }
    }
    Ok(document_by_slot)
}

/// Documents per unit of work when a reopened index reloads its catalog.
const RELOAD_CHUNK_DOCUMENTS: u32 = 32_768;

/// Rebuilds the in-memory catalog from the stored providers of a reopened index: the stored
/// JSON is parsed on every core, summaries are interned on this thread.
pub(super) fn load_catalog(
    fields: &IndexFields,
    searcher: &Searcher,
) -> Result<Catalog, SearchError> {
    let mut catalog = Catalog::new();
    if searcher.num_docs() == 0 {
        return Ok(catalog);
    }
    let slot_field_name = fields.schema.get_field_name(fields.slot).to_owned();
    let mut chunks: Vec<(usize, u32, u32)> = Vec::new();
    for (segment_ord, segment_reader) in searcher.segment_readers().iter().enumerate() {
        let max_doc = segment_reader.max_doc();
        let mut start = 0;
        while start < max_doc {
            let end = (start + RELOAD_CHUNK_DOCUMENTS).min(max_doc);
            chunks.push((segment_ord, start, end));
            start = end;
        }
    }
    let workers = std::thread::available_parallelism()
        .map_or(2, std::num::NonZeroUsize::get)
        .clamp(1, 8);
    let next_chunk = std::sync::atomic::AtomicUsize::new(0);
    let (sender, receiver) = sync_channel::<Result<(ProviderSlot, Provider), SearchError>>(4096);
    let mut summaries: Vec<(ProviderSlot, ProviderSummary)> = Vec::new();
    let mut first_error: Option<SearchError> = None;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let (chunks, next_chunk, slot_field_name) = (&chunks, &next_chunk, &slot_field_name);
            scope.spawn(move || {
                let work = || -> Result<(), SearchError> {
                    loop {
                        let index = next_chunk.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(segment_ord, start, end)) = chunks.get(index) else {
                            return Ok(());
                        };
                        let segment_reader = searcher.segment_reader(segment_ord as u32);
                        let store = segment_reader.get_store_reader(4)?;
                        let slots = segment_reader.fast_fields().u64(slot_field_name)?;
                        for document in start..end {
                            if segment_reader.is_deleted(document) {
                                continue;
                            }
                            let Some(slot) = slots.first(document) else {
                                continue;
                            };
                            let stored: TantivyDocument = store.get(document)?;
                            let provider = fields.provider_of(&stored)?;
                            if sender.send(Ok((slot as ProviderSlot, provider))).is_err() {
                                return Ok(());
                            }
                        }
                    }
                };
                if let Err(error) = work() {
                    let _ = sender.send(Err(error));
                }
            });
        }
        drop(sender);
        for received in receiver {
            match received {
                Ok((slot, provider)) => {
                    let summary = catalog.summarize(&provider);
                    summaries.push((slot, summary));
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
    });
    if let Some(error) = first_error {
        return Err(error);
    }
    Ok(catalog.bulk_load_sparse(summaries))
}
