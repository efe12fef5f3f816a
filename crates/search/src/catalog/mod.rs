//! The in-memory side of the index: one compact [`ProviderSummary`] per provider (what ranking
//! reads), an R*-tree of physical locations per care type, and the telehealth/virtual providers
//! per care type and licensed state. Candidate retrieval runs here, without touching tantivy.
//!
//! Why not retrieve through tantivy: a query is "care type X, accepting, within 25 km". In a
//! 1M-provider index the term `X` matches hundreds of thousands of documents, so any tantivy
//! plan walks a large posting list and filters by geography per document. An R*-tree per care
//! type holding only accepting providers answers the same question by touching only the
//! ~hundreds of points inside the radius (tens of microseconds), and the filters that remain
//! (modes, languages) are a few bit operations on the summary.

mod candidates;
mod compact;
mod memory;
mod remote;
mod summary;
mod trees;

use std::collections::HashMap;

use carematch_domain::payment::contract_covers;
use carematch_domain::{CareMode, CareType, CertificationLevel, Language, Provider, ProviderId};
use rstar::RTree;

pub use candidates::{Candidate, CandidateCounts, CandidateQuery, Hit, NextHit, Reach};
pub use compact::{CompactEntry, NetworkAnswer, PoolGroup, UsefulDistance};
pub use memory::CatalogMemory;
pub use summary::{LocationPoint, NetworkEntry, ProviderSummary, Vocabulary, normalize_name};

use remote::RemotePool;
pub use trees::PhysicalData;
use trees::{EntriesByTree, SpatialEntry, empty_trees, spatial_entries};

/// A provider's position in the in-memory tables. Stable while the provider exists; reused
/// after a delete. Stored in the tantivy document as a fast field to join the two sides.
pub type ProviderSlot = u32;

/// An interned string (payer, plan, language or state).
pub type VocabularyKey = u32;

/// The in-memory tables. Changed only by the index's writer (under its lock).
#[derive(Debug, Default)]
pub struct Catalog {
    summaries: Vec<Option<ProviderSummary>>,
    slot_by_id: HashMap<ProviderId, ProviderSlot>,
    free_slots: Vec<ProviderSlot>,
    pub(crate) payers: Vocabulary,
    pub(crate) plans: Vocabulary,
    pub(crate) languages: Vocabulary,
    pub(crate) regions: Vocabulary,
    /// Per care type (index = `CareType as usize`), one tree per [`PoolGroup`] (index =
    /// its position) of accepting providers that see clients in person or at home.
    physical: Vec<Vec<RTree<SpatialEntry>>>,
    /// Accepting telehealth/online providers of licensed care, per care type and state.
    remote_licensed: Vec<HashMap<VocabularyKey, RemotePool>>,
    /// Accepting telehealth/online providers of care open to everyone (support groups).
    remote_anywhere: Vec<RemotePool>,
}

pub(super) const REMOTE_MODES: [CareMode; 2] = [CareMode::Telehealth, CareMode::VirtualGroup];
pub(super) const PHYSICAL_MODES: [CareMode; 2] = [CareMode::InPerson, CareMode::HomeVisit];

impl Catalog {
    pub fn new() -> Self {
        Self {
            physical: CareType::ALL.iter().map(|_| empty_trees()).collect(),
            remote_licensed: CareType::ALL.iter().map(|_| HashMap::new()).collect(),
            remote_anywhere: CareType::ALL
                .iter()
                .map(|_| RemotePool::default())
                .collect(),
            ..Self::default()
        }
    }

    /// Number of providers.
    pub fn len(&self) -> usize {
        self.slot_by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slot_by_id.is_empty()
    }

    pub fn slot_of(&self, id: ProviderId) -> Option<ProviderSlot> {
        self.slot_by_id.get(&id).copied()
    }

    pub fn summary(&self, slot: ProviderSlot) -> Option<&ProviderSummary> {
        self.summaries.get(slot as usize).and_then(Option::as_ref)
    }

    pub fn slot_capacity(&self) -> usize {
        self.summaries.len()
    }

    pub fn payer_key(&self, payer: &str) -> Option<VocabularyKey> {
        self.payers.key(&normalize_name(payer))
    }

    pub fn plan_key(&self, plan: &str) -> Option<VocabularyKey> {
        self.plans.key(&normalize_name(plan))
    }

    pub fn language_key(&self, language: &Language) -> Option<VocabularyKey> {
        self.languages.key(&language.key())
    }

    pub fn region_name(&self, key: VocabularyKey) -> Option<&str> {
        self.regions.name(key)
    }

    /// The slots that new providers with these ids would get, in order, without changing
    /// anything (the writer computes them before it writes the tantivy documents).
    pub fn plan_slots(&self, ids: &[ProviderId]) -> Vec<ProviderSlot> {
        let mut free = self.free_slots.iter().rev().copied();
        let mut next_new = self.summaries.len() as ProviderSlot;
        let mut planned: HashMap<ProviderId, ProviderSlot> = HashMap::new();
        ids.iter()
            .map(|id| {
                if let Some(slot) = self.slot_of(*id).or_else(|| planned.get(id).copied()) {
                    return slot;
                }
                let slot = free.next().unwrap_or_else(|| {
                    next_new += 1;
                    next_new - 1
                });
                planned.insert(*id, slot);
                slot
            })
            .collect()
    }

    pub fn summarize(&mut self, provider: &Provider) -> ProviderSummary {
        let languages = provider
            .languages
            .iter()
            .map(|language| self.languages.intern(&language.key()))
            .collect();
        let network = provider
            .insurance
            .iter()
            .map(|plan| NetworkEntry {
                payer: self.payers.intern(&normalize_name(&plan.payer)),
                plan: plan
                    .plan
                    .as_deref()
                    .map(|name| self.plans.intern(&normalize_name(name))),
                care_types: provider
                    .care_types
                    .iter()
                    .copied()
                    .filter(|care_type| contract_covers(plan, *care_type, &provider.care_types))
                    .collect(),
            })
            .collect();
        let licensed_regions = provider
            .licensed_regions()
            .iter()
            .map(|region| self.regions.intern(region.as_str()))
            .collect();
        ProviderSummary {
            id: provider.id,
            care_types: provider.care_types.iter().copied().collect(),
            treats: provider.treats.iter().copied().collect(),
            modes: provider.modes.iter().copied().collect(),
            accepting_new_clients: provider.accepting_new_clients,
            accepts_fsa_hsa: provider.accepts_fsa_hsa,
            provides_superbill: provider.provides_superbill,
            requires_referral: provider.requires_referral,
            certification: CertificationLevel::per_care_type(provider),
            languages,
            network,
            locations: provider
                .locations
                .iter()
                .map(|location| LocationPoint {
                    latitude: location.point.latitude(),
                    longitude: location.point.longitude(),
                })
                .collect(),
            licensed_regions,
            home_visit_radius_km: provider.home_visit_radius_km() as f32,
            self_pay_rate_usd: provider.self_pay_rate_usd,
        }
    }

    /// Puts a provider at `slot` (from [`plan_slots`](Self::plan_slots)), replacing what was
    /// there, and updates the retrieval structures.
    pub fn upsert_at(&mut self, slot: ProviderSlot, provider: &Provider) {
        let summary = self.summarize(provider);
        self.remove_slot(slot);
        if let Some(position) = self.free_slots.iter().position(|free| *free == slot) {
            self.free_slots.swap_remove(position);
        }
        let index = slot as usize;
        if self.summaries.len() <= index {
            let first_new = self.summaries.len();
            self.summaries.resize(index + 1, None);
            // Slots skipped over (only after a reopen with holes) become free.
            self.free_slots
                .extend((first_new..index).map(|free| free as ProviderSlot));
        }
        self.add_to_retrieval(slot, &summary, true);
        self.slot_by_id.insert(summary.id, slot);
        self.summaries[index] = Some(summary);
    }

    /// Removes a provider; returns whether it was there.
    pub fn remove(&mut self, id: ProviderId) -> bool {
        match self.slot_by_id.get(&id).copied() {
            Some(slot) => {
                self.remove_slot(slot);
                self.free_slots.push(slot);
                true
            }
            None => false,
        }
    }

    fn remove_slot(&mut self, slot: ProviderSlot) {
        let Some(summary) = self.summaries.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        self.slot_by_id.remove(&summary.id);
        for care_type in summary.care_types.iter() {
            let compact = CompactEntry::of(slot, &summary, care_type);
            let entries = spatial_entries(compact, &summary);
            let group = compact.pool_group().position();
            let tree = &mut self.physical[care_type as usize][group];
            for entry in &entries {
                tree.remove(entry);
            }
            for region in summary.licensed_regions.iter() {
                if let Some(pool) = self.remote_licensed[care_type as usize].get_mut(region) {
                    pool.remove(&compact);
                }
            }
            self.remote_anywhere[care_type as usize].remove(&compact);
        }
    }

    /// Adds a provider to the retrieval structures. Only accepting providers are retrievable:
    /// a provider not taking new clients is never a match (care-guide.md, scenario 1).
    fn add_to_retrieval(&mut self, slot: ProviderSlot, summary: &ProviderSummary, to_trees: bool) {
        // A bulk load (no trees yet) appends and sorts the pools once at the end.
        let bulk = !to_trees;
        if !summary.accepting_new_clients {
            return;
        }
        for care_type in summary.care_types.iter() {
            let modes = summary.modes_for(care_type);
            let physical = PHYSICAL_MODES.iter().any(|mode| modes.contains(*mode));
            let remote = REMOTE_MODES.iter().any(|mode| modes.contains(*mode));
            let entry = CompactEntry::of(slot, summary, care_type);
            let entries = if physical && to_trees {
                spatial_entries(entry, summary)
            } else {
                Vec::new()
            };
            let group = entry.pool_group().position();
            for spatial in &entries {
                self.physical[care_type as usize][group].insert(*spatial);
            }
            if remote {
                let add = |pool: &mut RemotePool| {
                    if bulk {
                        pool.entries.push(entry);
                    } else {
                        pool.insert(entry);
                    }
                };
                if care_type.needs_state_licence() {
                    for region in summary.licensed_regions.iter() {
                        add(self.remote_licensed[care_type as usize]
                            .entry(*region)
                            .or_default());
                    }
                } else {
                    add(&mut self.remote_anywhere[care_type as usize]);
                }
            }
        }
    }

    /// The interned names: payers, plans, languages and states, in that order.
    pub fn vocabularies(&self) -> [&Vocabulary; 4] {
        [&self.payers, &self.plans, &self.languages, &self.regions]
    }

    /// Every provider's slot and summary, in slot order.
    pub fn slotted_summaries(&self) -> impl Iterator<Item = (ProviderSlot, &ProviderSummary)> {
        self.summaries
            .iter()
            .enumerate()
            .filter_map(|(slot, summary)| Some((slot as ProviderSlot, summary.as_ref()?)))
    }

    /// A catalog from what [`Catalog::slotted_summaries`] and the vocabularies' names gave
    /// (payers, plans, languages, states): the summaries' keys point into those names.
    pub fn from_saved(
        [payers, plans, languages, regions]: [Vec<String>; 4],
        summaries: Vec<(ProviderSlot, ProviderSummary)>,
    ) -> Self {
        let catalog = Self {
            payers: Vocabulary::from_names(payers),
            plans: Vocabulary::from_names(plans),
            languages: Vocabulary::from_names(languages),
            regions: Vocabulary::from_names(regions),
            ..Self::new()
        };
        catalog.bulk_load_sparse(summaries)
    }

    /// Builds a catalog from summaries in slot order (slots 0..n), bulk-loading the trees,
    /// which is several times faster than inserting one by one.
    pub fn bulk_load(mut self, summaries: Vec<ProviderSummary>) -> Self {
        let mut entries_by_tree = EntriesByTree::new();
        self.summaries = Vec::with_capacity(summaries.len());
        self.slot_by_id.reserve(summaries.len());
        for (slot, summary) in summaries.into_iter().enumerate() {
            let slot = slot as ProviderSlot;
            if summary.accepting_new_clients {
                entries_by_tree.add(slot, &summary);
            }
            self.add_to_retrieval(slot, &summary, false);
            self.slot_by_id.insert(summary.id, slot);
            self.summaries.push(Some(summary));
        }
        self.physical = entries_by_tree.build();
        self.sort_remote_pools();
        self
    }

    fn sort_remote_pools(&mut self) {
        for pools in &mut self.remote_licensed {
            pools.values_mut().for_each(RemotePool::sort);
        }
        self.remote_anywhere.iter_mut().for_each(RemotePool::sort);
    }

    /// Like [`bulk_load`](Self::bulk_load) for slots that may have holes (a reopened index).
    pub fn bulk_load_sparse(self, mut summaries: Vec<(ProviderSlot, ProviderSummary)>) -> Self {
        summaries.sort_by_key(|(slot, _)| *slot);
        let Some(&(last_slot, _)) = summaries.last() else {
            return self;
        };
        let dense = summaries
            .iter()
            .enumerate()
            .all(|(position, (slot, _))| position as ProviderSlot == *slot);
        if dense {
            return self.bulk_load(summaries.into_iter().map(|(_, summary)| summary).collect());
        }
        let mut catalog = self;
        catalog.summaries.reserve(last_slot as usize + 1);
        let mut entries_by_tree = EntriesByTree::new();
        for (slot, summary) in summaries {
            let index = slot as usize;
            if catalog.summaries.len() <= index {
                let first_new = catalog.summaries.len();
                catalog.summaries.resize(index + 1, None);
                catalog
                    .free_slots
                    .extend((first_new..index).map(|free| free as ProviderSlot));
            }
            if summary.accepting_new_clients {
                entries_by_tree.add(slot, &summary);
            }
            catalog.add_to_retrieval(slot, &summary, false);
            catalog.slot_by_id.insert(summary.id, slot);
            catalog.summaries[index] = Some(summary);
        }
        catalog.physical = entries_by_tree.build();
        catalog.sort_remote_pools();
        catalog
    }
}
