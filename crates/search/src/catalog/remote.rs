//! The telehealth and online pools: a care type's remote providers, ordered by score group.

use super::compact::CompactEntry;

/// The order of a remote pool: by [`CompactEntry::pool_group`], best first, then provider
/// id. Within a group a caller's score bound is the same for every entry and ids ascend, so
/// a caller can skip the rest of a group (see [`Catalog::candidates`]).
fn pool_order(first: &CompactEntry, second: &CompactEntry) -> std::cmp::Ordering {
    second
        .pool_group()
        .cmp(&first.pool_group())
        .then_with(|| first.id.cmp(&second.id))
}

/// Remote entries of one care type (and state), in [`pool_order`].
#[derive(Debug, Default, Clone)]
pub(super) struct RemotePool {
    pub(super) entries: Vec<CompactEntry>,
}

impl RemotePool {
    pub(super) fn insert(&mut self, entry: CompactEntry) {
        match self
            .entries
            .binary_search_by(|known| pool_order(known, &entry))
        {
            Ok(position) => self.entries[position] = entry,
            Err(position) => self.entries.insert(position, entry),
        }
    }

    pub(super) fn remove(&mut self, entry: &CompactEntry) {
        if let Ok(position) = self
            .entries
            .binary_search_by(|known| pool_order(known, entry))
        {
            self.entries.remove(position);
        }
    }

    /// Sorts after a bulk load, which appends in slot order.
    pub(super) fn sort(&mut self) {
        self.entries.sort_unstable_by(pool_order);
    }
}
