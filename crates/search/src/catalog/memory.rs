//! What the catalog's structures hold, in bytes, so a replica's memory can be split by
//! structure (BENCHMARKS.md, "Where memory goes") and watched in production.
//!
//! Counted from lengths and capacities and the types' sizes: what the structures asked the
//! allocator for, not what the allocator rounded it up to.

use std::mem::size_of;

use rstar::{ParentNode, RTreeNode};

use std::collections::HashMap;

use super::compact::CompactEntry;
use super::remote::RemotePool;
use super::summary::{NetworkEntry, ProviderSummary, Vocabulary};
use super::trees::SpatialEntry;
use super::{Catalog, LocationPoint, ProviderSlot, VocabularyKey};
use carematch_domain::ProviderId;

/// Bytes held by each part of a [`Catalog`], and the number of items in each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogMemory {
    /// The summaries (one per slot) and what they point to.
    pub summaries_bytes: usize,
    pub summaries: usize,
    /// The id → slot map and the free slots.
    pub slots_bytes: usize,
    /// The R*-trees of physical locations: their nodes, leaves included.
    pub trees_bytes: usize,
    pub tree_leaves: usize,
    /// The telehealth and online pools.
    pub remote_pools_bytes: usize,
    pub remote_entries: usize,
    /// Interned payer, plan, language and state names.
    pub vocabularies_bytes: usize,
}

impl CatalogMemory {
    pub fn total_bytes(&self) -> usize {
        self.summaries_bytes
            + self.slots_bytes
            + self.trees_bytes
            + self.remote_pools_bytes
            + self.vocabularies_bytes
    }
}

/// Bytes of a hash map's table: a control byte per bucket beside each bucket's entry
/// (hashbrown's layout; buckets are the capacity rounded up to 8/7 and a power of two).
fn hash_map_bytes<K, V>(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = (capacity * 8 / 7).next_power_of_two();
    buckets * (size_of::<(K, V)>() + 1)
}

fn summary_heap_bytes(summary: &ProviderSummary) -> usize {
    summary.languages.len() * size_of::<VocabularyKey>()
        + summary.network.len() * size_of::<NetworkEntry>()
        + summary.locations.len() * size_of::<LocationPoint>()
        + summary.licensed_regions.len() * size_of::<VocabularyKey>()
}

fn vocabulary_bytes(vocabulary: &Vocabulary) -> usize {
    let names: usize = vocabulary.names().map(|name| 2 * name.len()).sum();
    names
        + vocabulary.len() * size_of::<Box<str>>()
        + hash_map_bytes::<Box<str>, VocabularyKey>(vocabulary.len())
}

/// Nodes under `parent` (children, recursively) and how many of them are leaves.
fn tree_nodes(parent: &ParentNode<SpatialEntry>) -> (usize, usize) {
    parent
        .children()
        .iter()
        .fold((0, 0), |(nodes, leaves), child| match child {
            RTreeNode::Leaf(_) => (nodes + 1, leaves + 1),
            RTreeNode::Parent(inner) => {
                let (inner_nodes, inner_leaves) = tree_nodes(inner);
                (nodes + 1 + inner_nodes, leaves + inner_leaves)
            }
        })
}

impl Catalog {
    /// What each part of the catalog holds now.
    pub fn memory(&self) -> CatalogMemory {
        let mut memory = CatalogMemory {
            summaries_bytes: self.summaries.capacity() * size_of::<Option<ProviderSummary>>(),
            slots_bytes: hash_map_bytes::<ProviderId, ProviderSlot>(self.slot_by_id.capacity())
                + self.free_slots.capacity() * size_of::<ProviderSlot>(),
            vocabularies_bytes: [&self.payers, &self.plans, &self.languages, &self.regions]
                .into_iter()
                .map(vocabulary_bytes)
                .sum(),
            ..CatalogMemory::default()
        };
        for summary in self.summaries.iter().flatten() {
            memory.summaries += 1;
            memory.summaries_bytes += summary_heap_bytes(summary);
        }
        for tree in self.physical.iter().flatten() {
            let (nodes, leaves) = tree_nodes(tree.root());
            memory.tree_leaves += leaves;
            memory.trees_bytes += (nodes + 1) * size_of::<RTreeNode<SpatialEntry>>();
        }
        let tables: usize = self
            .remote_licensed
            .iter()
            .map(|by_state| hash_map_bytes::<VocabularyKey, RemotePool>(by_state.capacity()))
            .sum();
        memory.remote_pools_bytes += tables;
        let pools = self.remote_licensed.iter().flat_map(HashMap::values);
        for pool in pools.chain(&self.remote_anywhere) {
            memory.remote_entries += pool.entries.len();
            memory.remote_pools_bytes += pool.entries.capacity() * size_of::<CompactEntry>();
        }
        memory
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_catalog_holds_little_and_counts_nothing() {
        let memory = Catalog::new().memory();
        assert_eq!(
            (memory.summaries, memory.tree_leaves, memory.remote_entries),
            (0, 0, 0)
        );
        assert!(memory.total_bytes() < 64 * 1024, "{memory:?}");
    }

    #[test]
    fn leaves_and_pool_entries_are_counted_per_care_type_location_and_state() {
        use carematch_domain::CareMode;
        let providers = carematch_demo::generate_range(7, 0..2_000).expect("demo providers");
        let mut catalog = Catalog::new();
        let summaries: Vec<_> = providers.iter().map(|p| catalog.summarize(p)).collect();
        let catalog = catalog.bulk_load(summaries.clone());
        let (mut leaves, mut remote) = (0, 0);
        for summary in summaries.iter().filter(|s| s.accepting_new_clients) {
            for care_type in summary.care_types.iter() {
                let modes = summary.modes_for(care_type);
                if modes.contains(CareMode::InPerson) || modes.contains(CareMode::HomeVisit) {
                    leaves += summary.locations.len();
                }
                if modes.contains(CareMode::Telehealth) || modes.contains(CareMode::VirtualGroup) {
                    remote += if care_type.needs_state_licence() {
                        summary.licensed_regions.len()
                    } else {
                        1
                    };
                }
            }
        }
        let memory = catalog.memory();
        assert_eq!(memory.summaries, 2_000);
        assert_eq!(memory.tree_leaves, leaves);
        assert_eq!(memory.remote_entries, remote);
        assert!(memory.trees_bytes >= leaves * size_of::<SpatialEntry>());
        assert!(memory.summaries_bytes >= 2_000 * size_of::<ProviderSummary>());
    }
}
