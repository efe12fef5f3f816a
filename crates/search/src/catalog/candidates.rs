//! Candidate retrieval for one request (care-guide.md section 6): nearby providers from the
//! R*-trees, remote ones from the pools, and the nearest beyond the radius when too few.

use carematch_domain::{CareMode, CareType, GeoPoint, Language, Region};

use super::compact::{CompactEntry, PoolGroup, UsefulDistance, key_bit, language_bits};
use super::trees::{RingSelection, nearest_first, rings};
use super::{Catalog, PHYSICAL_MODES, ProviderSlot, REMOTE_MODES, VocabularyKey};
use crate::sets::{CareModeSet, CareTypeSet};
use crate::sphere::{SpherePoint, great_circle_km, sphere_point_exact, sphere_point_of};

/// A provider retrieved for one care type of the request, in its compact form: ranking
/// scores it from the entry and reads the full summary only for the few it keeps.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    pub entry: &'a CompactEntry,
    pub care_type: CareType,
    pub mode: CareMode,
    pub reach: Reach,
    /// Great-circle distance to this location; `None` for remote hits.
    pub distance_km: Option<f64>,
    /// A nearby hit she could also see by telehealth or online for this care type.
    pub also_remote: bool,
}

impl Hit<'_> {
    /// The candidate this hit becomes once kept.
    pub fn to_candidate(&self) -> Candidate {
        let mut care_types = CareTypeSet::EMPTY;
        care_types.insert(self.care_type);
        Candidate {
            slot: self.entry.slot,
            reach: self.reach,
            mode: self.mode,
            distance_km: self.distance_km,
            care_types,
            also_remote: self.also_remote,
        }
    }
}

/// What the caller of [`Catalog::candidates`] wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextHit {
    Continue,
    /// Skip the rest of this remote hit's pool group: none of it can be kept. Ignored for
    /// nearby hits.
    SkipGroup,
}

/// How a candidate can be seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Reach {
    /// In person or by home visit, inside her radius.
    WithinRadius,
    /// By telehealth or an online group, where distance does not apply.
    Remote,
    /// In person or by home visit, but beyond her radius: offered because too few were near.
    BeyondRadius,
}

/// A provider retrieved for a request, with how it can be seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub slot: ProviderSlot,
    pub reach: Reach,
    /// The mode the match is offered in.
    pub mode: CareMode,
    /// Distance to the nearest location that qualified; `None` for remote candidates.
    pub distance_km: Option<f64>,
    /// The requested care types this candidate qualifies for (a telehealth licence applies
    /// per care type: a support group is open everywhere, therapy is not).
    pub care_types: CareTypeSet,
    /// A nearby candidate that she could also see by telehealth or online.
    pub also_remote: bool,
}

/// What a request retrieves: the filters of care-guide.md section 6 and the request's own.
#[derive(Debug, Clone)]
pub struct CandidateQuery<'a> {
    pub origin: GeoPoint,
    pub radius_km: f64,
    /// Her state; telehealth for licensed care needs it.
    pub region: Option<&'a Region>,
    pub care_types: CareTypeSet,
    /// Modes she accepts; empty means any.
    pub modes: CareModeSet,
    /// Languages she needs (any one of them); empty means any.
    pub languages: &'a [Language],
    /// When fewer candidates than this are found, add the nearest beyond the radius (up to
    /// this many in all, no farther than `beyond_radius_max_km`). Zero turns widening off.
    pub widen_when_fewer_than: usize,
    pub beyond_radius_max_km: f64,
    /// Asked while hits are visited: a nearby hit of a group farther than this cannot reach
    /// the caller's top list (its bound), so the search skips it, or the whole group. A
    /// provider skipped here that she could also see remotely is still visited as a remote
    /// hit. `None`: visit all.
    pub useful_distance_km: Option<UsefulDistance<'a>>,
}

/// What the search saw, for the answer's explanation. Each count is of distinct providers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CandidateCounts {
    /// In-person and home-visit candidates inside her radius (those visited: when the
    /// caller's bound cut the search short, at least this many).
    pub found_within_radius: usize,
    /// Telehealth and online candidates (not already nearby).
    pub found_remote: usize,
    /// Candidates added from beyond her radius.
    pub found_beyond_radius: usize,
    /// Whether the search looked beyond the radius (there were too few inside it, or a care
    /// type had none).
    pub widened: bool,
    /// Searched care types with no accepting provider (matching her filters) to see in person
    /// inside her radius, nor a home visitor covering her (care-guide.md section 6, 2nd
    /// edition). Empty when she accepts remote modes only.
    pub missing_nearby: CareTypeSet,
}

/// Upper bound on R*-tree entries examined while looking beyond the radius, so a rare care
/// type far from everything costs a bounded amount of work.
pub(super) const BEYOND_RADIUS_ENTRY_BUDGET: usize = 20_000;

impl Catalog {
    /// Whether some accepting provider of `care_type` inside the radius passes `qualifies`
    /// (her languages and modes), in any group: asked only for a care type whose search the
    /// caller's bound cut short before it visited anything nearby.
    fn any_nearby(
        &self,
        care_type: CareType,
        query: &CandidateQuery<'_>,
        origin: SpherePoint,
        origin_exact: [f64; 3],
        qualifies: impl Fn(&CompactEntry, f64) -> bool,
    ) -> bool {
        self.physical[care_type as usize].iter().any(|tree| {
            tree.locate_with_selection_function(RingSelection::new(origin, 0.0, query.radius_km))
                .any(|spatial| {
                    let distance_km = great_circle_km(origin_exact, spatial.geom());
                    distance_km <= query.radius_km && qualifies(&spatial.data.entry, distance_km)
                })
        })
    }

    /// Retrieves the candidates for a request (care-guide.md section 6), handing each to
    /// `visit` as a [`Hit`]: accepting providers of the care types, in person or at home inside
    /// her radius (home visits also inside their own service radius), by telehealth where
    /// licensed in her state, online groups anywhere; with her modes and languages; and, when
    /// too few are found, the nearest beyond the radius. A provider is visited once per care
    /// type and qualifying location; nearby providers are not visited again as remote ones.
    ///
    /// Remote pools are visited in [`pool_order`]: by group (certification level, ways to be
    /// seen), then id. When `visit` answers [`NextHit::SkipGroup`] for a remote hit, the rest
    /// of its group is skipped: a caller whose list is full skips a group whose score bound
    /// cannot beat its worst kept. Counts of remote candidates then cover those visited.
    pub fn candidates<'a>(
        &'a self,
        query: &CandidateQuery<'_>,
        mut visit: impl FnMut(&Hit<'a>) -> NextHit,
    ) -> CandidateCounts {
        let mut counts = CandidateCounts::default();
        if query.care_types.is_empty() || self.is_empty() {
            return counts;
        }
        let accepts = |mode: CareMode| query.modes.is_empty() || query.modes.contains(mode);
        let wanted_languages: Option<Vec<VocabularyKey>> =
            (!query.languages.is_empty()).then(|| {
                query
                    .languages
                    .iter()
                    .filter_map(|language| self.language_key(language))
                    .collect()
            });
        let language_filter = wanted_languages.as_ref().map(|languages| {
            (
                language_bits(languages),
                languages.iter().all(|key| *key < 63),
            )
        });
        let speaks = |entry: &CompactEntry| match (&language_filter, &wanted_languages) {
            (Some((bits, exact)), Some(languages)) => {
                entry.languages & bits != 0
                    && (*exact
                        || self
                            .summary(entry.slot)
                            .is_some_and(|summary| summary.speaks_any(languages)))
            }
            _ => true,
        };
        let region_key = query
            .region
            .and_then(|region| self.regions.key(region.as_str()));
        let licensed = |entry: &CompactEntry, care_type: CareType| {
            if !care_type.needs_state_licence() {
                return true;
            }
            let Some(key) = region_key else {
                return false;
            };
            let bit = entry.licensed_regions & (1_u64 << key_bit::<64>(key)) != 0;
            bit && (key < 63
                || self
                    .summary(entry.slot)
                    .is_some_and(|summary| summary.licensed_regions.contains(&key)))
        };
        let remote_mode = |entry: &CompactEntry| {
            REMOTE_MODES
                .iter()
                .copied()
                .find(|mode| entry.offers(*mode) && accepts(*mode))
        };
        // Which physical mode, if any, a location at `distance_km` qualifies for.
        let physical_mode = |entry: &CompactEntry, distance_km: f64| {
            if entry.offers(CareMode::InPerson) && accepts(CareMode::InPerson) {
                Some(CareMode::InPerson)
            } else if entry.offers(CareMode::HomeVisit)
                && accepts(CareMode::HomeVisit)
                && distance_km <= f64::from(entry.home_visit_radius_km)
            {
                Some(CareMode::HomeVisit)
            } else {
                None
            }
        };

        let origin = sphere_point_of(query.origin);
        let origin_exact = sphere_point_exact(query.origin);
        let mut seen_nearby = SlotBits::new(self.summaries.len());
        let searches_physical = PHYSICAL_MODES.iter().any(|mode| accepts(*mode));
        // Care types with a nearby hit, and those whose search the caller's bound cut short
        // (they may have nearby providers that were not visited).
        let mut nearby_found = CareTypeSet::EMPTY;
        let mut cut_short = CareTypeSet::EMPTY;
        if searches_physical {
            let useful = |care_type: CareType, group: PoolGroup| {
                query
                    .useful_distance_km
                    .map_or(f64::INFINITY, |useful| (useful.0)(care_type, group))
            };
            // Rings nearest first; within a ring the strongest groups go first, so the bound
            // rises before the weaker groups are searched. A ring past every group's bound
            // ends the search.
            for (inner_km, ring_outer_km) in rings(query.radius_km) {
                let mut searched = false;
                for position in (0..PoolGroup::COUNT).rev() {
                    let group = PoolGroup::at(position);
                    for care_type in query.care_types.iter() {
                        let tree = &self.physical[care_type as usize][position];
                        if tree.size() == 0 {
                            continue;
                        }
                        let outer_km = ring_outer_km.min(useful(care_type, group));
                        if outer_km < ring_outer_km {
                            cut_short.insert(care_type);
                        }
                        if outer_km <= inner_km {
                            continue;
                        }
                        searched = true;
                        let ring = RingSelection::new(origin, inner_km, outer_km);
                        for spatial in tree.locate_with_selection_function(ring) {
                            let entry = &spatial.data.entry;
                            let distance_km = great_circle_km(origin_exact, spatial.geom());
                            if distance_km > outer_km
                                || (inner_km > 0.0 && distance_km <= inner_km)
                                || !speaks(entry)
                            {
                                continue;
                            }
                            let Some(mode) = physical_mode(entry, distance_km) else {
                                continue;
                            };
                            if distance_km > useful(care_type, group) {
                                cut_short.insert(care_type);
                                continue;
                            }
                            nearby_found.insert(care_type);
                            let also_remote =
                                remote_mode(entry).is_some() && licensed(entry, care_type);
                            visit(&Hit {
                                entry,
                                care_type,
                                mode,
                                reach: Reach::WithinRadius,
                                distance_km: Some(distance_km),
                                also_remote,
                            });
                            if seen_nearby.insert(entry.slot) {
                                counts.found_within_radius += 1;
                            }
                        }
                    }
                }
                if !searched {
                    break;
                }
            }
            for care_type in query.care_types.iter() {
                let found_nearby = nearby_found.contains(care_type)
                    || (cut_short.contains(care_type)
                        && self.any_nearby(
                            care_type,
                            query,
                            origin,
                            origin_exact,
                            |entry, distance_km| {
                                speaks(entry) && physical_mode(entry, distance_km).is_some()
                            },
                        ));
                let missing = !found_nearby;
                if missing {
                    counts.missing_nearby.insert(care_type);
                }
            }
        }

        let mut seen_remote = SlotBits::new(0);
        if REMOTE_MODES.iter().any(|mode| accepts(*mode)) {
            seen_remote = SlotBits::new(self.summaries.len());
            for care_type in query.care_types.iter() {
                let pool = if care_type.needs_state_licence() {
                    match region_key
                        .and_then(|key| self.remote_licensed[care_type as usize].get(&key))
                    {
                        Some(pool) => pool,
                        None => continue,
                    }
                } else {
                    &self.remote_anywhere[care_type as usize]
                };
                let entries = &pool.entries;
                let mut position = 0;
                while let Some(entry) = entries.get(position) {
                    position += 1;
                    let Some(mode) = remote_mode(entry) else {
                        continue;
                    };
                    if seen_nearby.contains(entry.slot) || !speaks(entry) {
                        continue;
                    }
                    if seen_remote.insert(entry.slot) {
                        counts.found_remote += 1;
                    }
                    let next = visit(&Hit {
                        entry,
                        care_type,
                        mode,
                        reach: Reach::Remote,
                        distance_km: None,
                        also_remote: true,
                    });
                    if next == NextHit::SkipGroup {
                        let group = entry.pool_group();
                        position += entries[position..]
                            .partition_point(|later| later.pool_group() == group);
                    }
                }
            }
        }

        // Widen when too few were found in all, for every care type; and for each care type
        // with nothing nearby, whatever the remote options (care-guide.md section 6).
        let found = counts.found_within_radius + counts.found_remote;
        let widen_all = found < query.widen_when_fewer_than;
        let per_care_type = query.widen_when_fewer_than;
        let widen_care_types = if widen_all {
            query.care_types
        } else {
            counts.missing_nearby
        };
        if searches_physical && per_care_type > 0 && !widen_care_types.is_empty() {
            counts.widened = true;
            let wanted_overall = if widen_all {
                query.widen_when_fewer_than - found
            } else {
                0
            };
            // Per care type, its nearest beyond the radius, nearest first.
            let mut beyond_by_care_type: Vec<Vec<Hit<'a>>> = Vec::new();
            for care_type in widen_care_types.iter() {
                let wanted_here = if counts.missing_nearby.contains(care_type) {
                    per_care_type.max(wanted_overall)
                } else {
                    wanted_overall
                };
                let mut found_here: Vec<Hit<'a>> = Vec::new();
                for spatial in nearest_first(&self.physical[care_type as usize], origin)
                    .take(BEYOND_RADIUS_ENTRY_BUDGET)
                {
                    if found_here.len() >= wanted_here {
                        break;
                    }
                    let entry = &spatial.data.entry;
                    let distance_km = great_circle_km(origin_exact, spatial.geom());
                    if distance_km > query.beyond_radius_max_km {
                        break;
                    }
                    if distance_km <= query.radius_km
                        || seen_nearby.contains(entry.slot)
                        || seen_remote.contains(entry.slot)
                        || found_here.iter().any(|hit| hit.entry.slot == entry.slot)
                        || !speaks(entry)
                    {
                        continue;
                    }
                    let Some(mode) = physical_mode(entry, distance_km) else {
                        continue;
                    };
                    found_here.push(Hit {
                        entry,
                        care_type,
                        mode,
                        reach: Reach::BeyondRadius,
                        distance_km: Some(distance_km),
                        also_remote: false,
                    });
                }
                beyond_by_care_type.push(found_here);
            }
            // The nearest `wanted_overall` of all, and the nearest of each care type with
            // nothing nearby.
            let mut chosen: Vec<ProviderSlot> = Vec::new();
            let mut all: Vec<&Hit<'a>> = beyond_by_care_type.iter().flatten().collect();
            all.sort_by(|first, second| {
                first
                    .distance_km
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&second.distance_km.unwrap_or(f64::INFINITY))
                    .then(first.entry.slot.cmp(&second.entry.slot))
            });
            for hit in &all {
                if chosen.len() >= wanted_overall {
                    break;
                }
                if !chosen.contains(&hit.entry.slot) {
                    chosen.push(hit.entry.slot);
                }
            }
            for (care_type, hits) in widen_care_types.iter().zip(&beyond_by_care_type) {
                if counts.missing_nearby.contains(care_type) {
                    for hit in hits.iter().take(per_care_type) {
                        if !chosen.contains(&hit.entry.slot) {
                            chosen.push(hit.entry.slot);
                        }
                    }
                }
            }
            for hit in all
                .into_iter()
                .filter(|hit| chosen.contains(&hit.entry.slot))
            {
                visit(hit);
            }
            counts.found_beyond_radius = chosen.len();
        }
        counts
    }
}

/// A set of slots as bits, for one query: which providers were already seen.
struct SlotBits(Vec<u64>);

impl SlotBits {
    fn new(capacity: usize) -> Self {
        Self(vec![0; capacity.div_ceil(64)])
    }

    /// Adds a slot; returns whether it was new.
    fn insert(&mut self, slot: ProviderSlot) -> bool {
        let (word, bit) = (slot as usize / 64, slot % 64);
        let Some(bits) = self.0.get_mut(word) else {
            return false;
        };
        let new = *bits & (1 << bit) == 0;
        *bits |= 1 << bit;
        new
    }

    fn contains(&self, slot: ProviderSlot) -> bool {
        self.0
            .get(slot as usize / 64)
            .is_some_and(|bits| bits & (1 << (slot % 64)) != 0)
    }
}
