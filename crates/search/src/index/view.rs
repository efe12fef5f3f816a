//! One consistent read of the index for a query: candidates, text relevance, hydration.

//! [`ProviderIndex`]: the tantivy index and the in-memory catalog kept in step — full builds
//! from a stream of providers, incremental upserts and deletes, the recorded generation, text
//! relevance for candidates, and hydration of providers by id.

use std::sync::{Arc, RwLockReadGuard};

use carematch_domain::Provider;
use tantivy::query::{EnableScoring, Query};
use tantivy::{DocSet, TERMINATED, TantivyDocument};

use crate::SearchError;
use crate::catalog::{
    CandidateCounts, CandidateQuery, Catalog, Hit, NextHit, ProviderSlot, ProviderSummary,
    VocabularyKey,
};

use super::{IndexState, NO_DOCUMENT, ProviderIndex};

/// A read view of the index for one query.
pub struct IndexView<'a> {
    pub(super) index: &'a ProviderIndex,
    pub(super) state: RwLockReadGuard<'a, IndexState>,
}

impl IndexView<'_> {
    pub fn catalog(&self) -> &Catalog {
        &self.state.catalog
    }

    pub fn generation(&self) -> Option<u64> {
        self.state.generation
    }

    pub fn len(&self) -> usize {
        self.state.catalog.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.catalog.is_empty()
    }

    pub fn summary(&self, slot: ProviderSlot) -> Option<&ProviderSummary> {
        self.state.catalog.summary(slot)
    }

    /// See [`Catalog::candidates`].
    pub fn candidates<'view>(
        &'view self,
        query: &CandidateQuery<'_>,
        visit: impl FnMut(&Hit<'view>) -> NextHit,
    ) -> CandidateCounts {
        self.state.catalog.candidates(query, visit)
    }

    pub fn payer_key(&self, payer: &str) -> Option<VocabularyKey> {
        self.state.catalog.payer_key(payer)
    }

    pub fn plan_key(&self, plan: &str) -> Option<VocabularyKey> {
        self.state.catalog.plan_key(plan)
    }

    pub fn language_key(&self, language: &carematch_domain::Language) -> Option<VocabularyKey> {
        self.state.catalog.language_key(language)
    }

    /// BM25 relevance of her text for each slot (0 where no word matches), computed only for
    /// these documents: tantivy's scorer seeks from one candidate to the next instead of
    /// walking every document that contains a common word.
    pub fn text_relevance(
        &self,
        text: &str,
        slots: &[ProviderSlot],
    ) -> Result<Vec<f32>, SearchError> {
        let mut scores = vec![0.0_f32; slots.len()];
        let Some(term_queries) = self.index.text_query(text) else {
            return Ok(scores);
        };
        let searcher = &self.state.searcher;
        let mut targets: Vec<(u32, u32, usize)> = slots
            .iter()
            .enumerate()
            .filter_map(|(position, slot)| {
                let packed = *self.state.document_by_slot.get(*slot as usize)?;
                (packed != NO_DOCUMENT).then_some(((packed >> 32) as u32, packed as u32, position))
            })
            .collect();
        targets.sort_unstable();
        // One term scorer at a time, seeking from candidate to candidate through the skip
        // lists, and summing: the same BM25 as a boolean "should" query, without the union
        // scorer's block refills between far-apart candidates.
        for (term_query, boost) in &term_queries {
            let weight = term_query.weight(EnableScoring::enabled_from_searcher(searcher))?;
            for segment_targets in targets.chunk_by(|first, second| first.0 == second.0) {
                let segment_reader = searcher.segment_reader(segment_targets[0].0);
                let mut scorer = weight.scorer(segment_reader, *boost)?;
                for &(_, document, position) in segment_targets {
                    let mut current = scorer.doc();
                    if current == TERMINATED {
                        break;
                    }
                    if current < document {
                        current = scorer.seek(document);
                    }
                    if current == document {
                        scores[position] += scorer.score();
                    }
                }
            }
        }
        Ok(scores)
    }

    /// The full provider at a slot, from the document store.
    pub fn provider(&self, slot: ProviderSlot) -> Result<Option<Provider>, SearchError> {
        Ok(self.provider_shared(slot)?.map(Arc::unwrap_or_clone))
    }

    /// The provider in `slot` if it is indexed and already hydrated: `Some(None)` when the
    /// slot holds nobody, `None` when it would have to be read from the store.
    pub(super) fn hydrated(&self, slot: ProviderSlot) -> Option<Option<Arc<Provider>>> {
        let Some(&packed) = self.state.document_by_slot.get(slot as usize) else {
            return Some(None);
        };
        if packed == NO_DOCUMENT {
            return Some(None);
        }
        self.state.hydrated.get(&slot).map(Some)
    }

    /// The provider in `slot`, shared with the cache of hydrated providers.
    pub fn provider_shared(
        &self,
        slot: ProviderSlot,
    ) -> Result<Option<Arc<Provider>>, SearchError> {
        let Some(&packed) = self.state.document_by_slot.get(slot as usize) else {
            return Ok(None);
        };
        if packed == NO_DOCUMENT {
            return Ok(None);
        }
        if let Some(provider) = self.state.hydrated.get(&slot) {
            return Ok(Some(provider));
        }
        let address = tantivy::DocAddress::new((packed >> 32) as u32, packed as u32);
        let document: TantivyDocument = self.state.searcher.doc(address)?;
        let provider = Arc::new(self.index.fields.provider_of(&document)?);
        self.state.hydrated.insert(slot, Arc::clone(&provider));
        Ok(Some(provider))
    }
}
