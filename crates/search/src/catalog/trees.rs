//! The R*-trees of physical locations: their leaves, bulk loading, and the ring and
//! nearest-first walks a search makes over them.

use rstar::primitives::GeomWithData;
use rstar::{PointDistance, RTree};

use carematch_domain::CareType;

use super::compact::{CompactEntry, PoolGroup};
use super::summary::ProviderSummary;
use super::{PHYSICAL_MODES, ProviderSlot};
use crate::sphere::{
    SpherePoint, sphere_point, squared_chord_for_distance_km, squared_chord_inside_distance_km,
};

/// What a physical location carries in its R*-tree: the provider's compact entry (so a radius
/// query ranks without reading summaries) and which of its locations this is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhysicalData {
    pub entry: CompactEntry,
    pub location: u16,
}

pub(super) type SpatialEntry = GeomWithData<SpherePoint, PhysicalData>;

/// The R*-tree entries of a provider's locations, each carrying `entry` (the provider's
/// compact entry for one of its care types).
pub(super) fn spatial_entries(entry: CompactEntry, summary: &ProviderSummary) -> Vec<SpatialEntry> {
    summary
        .locations
        .iter()
        .enumerate()
        .map(|(position, location)| {
            SpatialEntry::new(
                sphere_point(location.latitude, location.longitude),
                PhysicalData {
                    entry,
                    location: position as u16,
                },
            )
        })
        .collect()
}

/// The outer edges of the rings a radius search walks, nearest first: the near ring fills
/// the caller's list with near providers, so its bound cuts the outer rings of a large radius
/// short (or skips them). A ring walks only the subtrees that reach past its inner edge, so a
/// point is enumerated by one ring, not by every ring out to it. More rings (1 to 70 km in
/// ten steps, or 3/6/12/25 km) were not measurably faster on the HTTP mix at 1M (BENCHMARKS.md).
const RING_EDGES_KM: [f64; 1] = [5.0];

/// The rings of a search out to `radius_km`: `(inner, outer]` in kilometres.
pub(super) fn rings(radius_km: f64) -> Vec<(f64, f64)> {
    let mut rings = Vec::with_capacity(RING_EDGES_KM.len() + 1);
    let mut inner_km = 0.0;
    for edge_km in RING_EDGES_KM {
        if edge_km >= radius_km {
            break;
        }
        rings.push((inner_km, edge_km));
        inner_km = edge_km;
    }
    rings.push((inner_km, radius_km));
    rings
}

/// An R*-tree selection of the entries in one ring around `origin`: chord squared at most
/// `outer_squared`, skipping subtrees (and points) certainly inside `inner_squared`, which an
/// earlier ring walked. Both bounds are padded outward, so every point of the ring is kept;
/// the caller checks exact distances.
pub(super) struct RingSelection {
    origin: SpherePoint,
    inner_squared: f32,
    outer_squared: f32,
}

impl RingSelection {
    pub(super) fn new(origin: SpherePoint, inner_km: f64, outer_km: f64) -> Self {
        Self {
            origin,
            inner_squared: squared_chord_inside_distance_km(inner_km),
            outer_squared: squared_chord_for_distance_km(outer_km),
        }
    }
}

impl rstar::SelectionFunction<SpatialEntry> for RingSelection {
    fn should_unpack_parent(&self, envelope: &rstar::AABB<SpherePoint>) -> bool {
        if envelope.distance_2(&self.origin) > self.outer_squared {
            return false;
        }
        // The farthest corner: a box wholly inside the inner sphere holds nothing new.
        let (lower, upper) = (envelope.lower(), envelope.upper());
        let farthest_squared: f32 = (0..3)
            .map(|axis| {
                let near = (self.origin[axis] - lower[axis]).abs();
                let far = (upper[axis] - self.origin[axis]).abs();
                near.max(far).powi(2)
            })
            .sum();
        farthest_squared >= self.inner_squared
    }

    fn should_unpack_leaf(&self, leaf: &SpatialEntry) -> bool {
        let squared = leaf.geom().distance_2(&self.origin);
        squared <= self.outer_squared && squared >= self.inner_squared
    }
}

/// The entries of several trees, nearest to `origin` first: one tree's nearest-neighbour walk
/// merged across the trees of a care type.
pub(super) fn nearest_first(
    trees: &[RTree<SpatialEntry>],
    origin: SpherePoint,
) -> impl Iterator<Item = &SpatialEntry> {
    let mut walks: Vec<_> = trees
        .iter()
        .filter(|tree| tree.size() > 0)
        .map(|tree| tree.nearest_neighbor_iter(&origin).peekable())
        .collect();
    std::iter::from_fn(move || {
        let nearest = walks
            .iter_mut()
            .enumerate()
            .filter_map(|(position, walk)| {
                walk.peek()
                    .map(|spatial| (position, spatial.distance_2(&origin)))
            })
            .min_by(|first, second| first.1.total_cmp(&second.1))?
            .0;
        walks[nearest].next()
    })
}

/// One empty tree per [`PoolGroup`].
pub(super) fn empty_trees() -> Vec<RTree<SpatialEntry>> {
    (0..PoolGroup::COUNT).map(|_| RTree::new()).collect()
}

/// The R*-tree entries of a bulk load, per care type and group.
pub(super) struct EntriesByTree(Vec<Vec<Vec<SpatialEntry>>>);

impl EntriesByTree {
    pub(super) fn new() -> Self {
        Self(
            CareType::ALL
                .iter()
                .map(|_| (0..PoolGroup::COUNT).map(|_| Vec::new()).collect())
                .collect(),
        )
    }

    /// Adds an accepting provider's locations to the trees of each care type it gives in
    /// person or at home.
    pub(super) fn add(&mut self, slot: ProviderSlot, summary: &ProviderSummary) {
        for care_type in summary.care_types.iter() {
            let modes = summary.modes_for(care_type);
            if !PHYSICAL_MODES.iter().any(|mode| modes.contains(*mode)) {
                continue;
            }
            let entries = spatial_entries(CompactEntry::of(slot, summary, care_type), summary);
            let Some(group) = entries
                .first()
                .map(|entry| entry.data.entry.pool_group().position())
            else {
                continue;
            };
            self.0[care_type as usize][group].extend_from_slice(&entries);
        }
    }

    /// Builds every tree, on every core: the trees are independent, and building them is
    /// most of a reopen that reads the catalog snapshot.
    pub(super) fn build(self) -> Vec<Vec<RTree<SpatialEntry>>> {
        let (care_types, groups) = (self.0.len(), self.0.first().map_or(0, Vec::len));
        // Popped from the back, largest first, so one big tree does not start last and run
        // alone.
        let mut jobs: Vec<(usize, Vec<SpatialEntry>)> =
            self.0.into_iter().flatten().enumerate().collect();
        jobs.sort_by_key(|(_, entries)| entries.len());
        let jobs = std::sync::Mutex::new(jobs);
        let workers = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .clamp(1, 8);
        let mut built: Vec<(usize, RTree<SpatialEntry>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let next = jobs
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .pop();
                            let Some((position, entries)) = next else {
                                return done;
                            };
                            done.push((position, build_tree(entries)));
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        built.sort_by_key(|(position, _)| *position);
        let mut trees = built.into_iter().map(|(_, tree)| tree);
        (0..care_types)
            .map(|_| trees.by_ref().take(groups).collect())
            .collect()
    }
}

/// An R*-tree over `entries` that later inserts can grow. rstar 0.12's bulk load can leave
/// leaves at different depths for clustered points (many providers share a metro's
/// coordinates), and inserting into such a tree panics ("This is a bug in rstar", see
/// `tests/rewrite_all.rs`). A bulk-loaded tree is kept only when its leaves are all at one
/// depth; otherwise the tree is built by inserting one entry at a time.
pub(super) fn build_tree(entries: Vec<SpatialEntry>) -> RTree<SpatialEntry> {
    let tree = RTree::bulk_load(entries);
    if leaf_depths_are_uniform(tree.root()) {
        return tree;
    }
    let mut grown = RTree::new();
    for entry in tree.iter() {
        grown.insert(*entry);
    }
    grown
}

fn leaf_depths_are_uniform(root: &rstar::ParentNode<SpatialEntry>) -> bool {
    fn depth(
        node: &rstar::ParentNode<SpatialEntry>,
        level: usize,
        leaf_level: &mut Option<usize>,
    ) -> bool {
        node.children().iter().all(|child| match child {
            rstar::RTreeNode::Leaf(_) => *leaf_level.get_or_insert(level) == level,
            rstar::RTreeNode::Parent(parent) => depth(parent, level + 1, leaf_level),
        })
    }
    depth(root, 0, &mut None)
}
