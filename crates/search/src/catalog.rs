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

use std::collections::HashMap;

use carematch_domain::credentials::belongs_to;
use carematch_domain::payment::{contract_covers, referral_applies};
use carematch_domain::{
    CareMode, CareType, CertificationScope, GeoPoint, Language, Provider, ProviderId, Region,
    haversine_km,
};
use rstar::primitives::GeomWithData;
use rstar::{PointDistance, RTree};

use crate::sets::{CareModeSet, CareTypeSet, SymptomSet};
use crate::sphere::{
    SpherePoint, great_circle_km, sphere_point, sphere_point_exact, sphere_point_of,
    squared_chord_for_distance_km, squared_chord_inside_distance_km,
};

/// A provider's position in the in-memory tables. Stable while the provider exists; reused
/// after a delete. Stored in the tantivy document as a fast field to join the two sides.
pub type ProviderSlot = u32;

/// An interned string (payer, plan, language or state).
pub type VocabularyKey = u32;

/// The best certification a provider holds for one care type, in the care guide's order
/// (section 4): perinatal above general, verified above self-reported, and a named strongest
/// credential above all. A credential counts only for its own care type (2nd edition).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum CertificationLevel {
    None,
    GeneralSelfReported,
    GeneralVerified,
    PerinatalSelfReported,
    PerinatalVerified,
    StrongestCredentialVerified,
}

impl CertificationLevel {
    /// Every level, weakest first (the order of the variants, which `as usize` numbers).
    pub const ALL: [Self; 6] = [
        Self::None,
        Self::GeneralSelfReported,
        Self::GeneralVerified,
        Self::PerinatalSelfReported,
        Self::PerinatalVerified,
        Self::StrongestCredentialVerified,
    ];

    /// The level `provider` reaches for each care type (index `CareType as usize`), from the
    /// credentials that count for it; each credential's care type is found once.
    pub fn per_care_type(provider: &Provider) -> [Self; CareType::ALL.len()] {
        let mut levels = [Self::None; CareType::ALL.len()];
        for certification in &provider.certifications {
            let Some((care_type, counted)) = belongs_to(certification, &provider.care_types) else {
                continue;
            };
            let level = match (counted.scope, counted.verified) {
                (_, true) if counted.strongest => Self::StrongestCredentialVerified,
                (CertificationScope::Perinatal, true) => Self::PerinatalVerified,
                (CertificationScope::Perinatal, false) => Self::PerinatalSelfReported,
                (CertificationScope::General, true) => Self::GeneralVerified,
                (CertificationScope::General, false) => Self::GeneralSelfReported,
            };
            let slot = &mut levels[care_type as usize];
            *slot = (*slot).max(level);
        }
        levels
    }
}

/// One insurance plan a provider is in network with: the payer, the plan when only one plan
/// of that payer is accepted (`None` means every plan of the payer), and the care types the
/// contract covers (care-guide.md section 5, 2nd edition, already applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkEntry {
    pub payer: VocabularyKey,
    pub plan: Option<VocabularyKey>,
    pub care_types: CareTypeSet,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocationPoint {
    pub latitude: f64,
    pub longitude: f64,
}

/// What ranking needs to know about a provider, in about a hundred bytes. The full provider
/// stays in the tantivy document store and is read only for the page being shown.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSummary {
    pub id: ProviderId,
    pub care_types: CareTypeSet,
    pub treats: SymptomSet,
    pub modes: CareModeSet,
    pub accepting_new_clients: bool,
    pub accepts_fsa_hsa: bool,
    pub provides_superbill: bool,
    /// The provider requires a referral (it applies only to some care types: see
    /// [`ProviderSummary::requires_referral_for`]).
    pub requires_referral: bool,
    /// The certification level per care type (index `CareType as usize`).
    pub certification: [CertificationLevel; CareType::ALL.len()],
    pub languages: Box<[VocabularyKey]>,
    pub network: Box<[NetworkEntry]>,
    pub locations: Box<[LocationPoint]>,
    /// States of its locations plus those it lists (care-guide.md section 6).
    pub licensed_regions: Box<[VocabularyKey]>,
    pub home_visit_radius_km: f32,
    pub self_pay_rate_usd: Option<u32>,
}

impl ProviderSummary {
    pub fn offers(&self, mode: CareMode) -> bool {
        self.modes.contains(mode)
    }

    /// The modes this provider gives `care_type` in: those it lists that the care can be given
    /// in (massage never by telehealth; a group remotely only online).
    pub fn modes_for(&self, care_type: CareType) -> CareModeSet {
        self.modes
            .iter()
            .filter(|mode| care_type.can_be_given_in(*mode))
            .collect()
    }

    pub fn certification_for(&self, care_type: CareType) -> CertificationLevel {
        self.certification[care_type as usize]
    }

    /// A referral requirement applies to physical therapy, mental health and lactation only.
    pub fn requires_referral_for(&self, care_type: CareType) -> bool {
        self.requires_referral && referral_applies(care_type)
    }

    pub fn speaks_any(&self, languages: &[VocabularyKey]) -> bool {
        self.languages.iter().any(|key| languages.contains(key))
    }

    /// Whether the provider is in network for this payer and (when given) plan, for this care.
    pub fn in_network(
        &self,
        payer: VocabularyKey,
        plan: Option<VocabularyKey>,
        care_type: CareType,
    ) -> bool {
        self.network.iter().any(|entry| {
            entry.care_types.contains(care_type)
                && entry.payer == payer
                && match (entry.plan, plan) {
                    (None, _) => true,
                    (Some(accepted), Some(asked)) => accepted == asked,
                    // She did not say her plan: the payer being in network is the best we know.
                    (Some(_), None) => true,
                }
        })
    }

    /// Distance in kilometres from `origin` to the nearest location, if any.
    pub fn nearest_location_km(&self, origin: GeoPoint) -> Option<f64> {
        self.locations
            .iter()
            .map(|location| {
                haversine_km(
                    origin.latitude(),
                    origin.longitude(),
                    location.latitude,
                    location.longitude,
                )
            })
            .min_by(f64::total_cmp)
    }
}

/// Lower case, letters and digits only, single spaces: "Oregon Health Plan (Medicaid)" and
/// "oregon health plan - medicaid" name the same payer.
pub fn normalize_name(text: &str) -> String {
    let mut normalized = String::with_capacity(text.len());
    for word in text
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
    {
        if !normalized.is_empty() {
            normalized.push(' ');
        }
        normalized.extend(word.chars().flat_map(char::to_lowercase));
    }
    normalized
}

/// Strings interned to small keys, so summaries hold `u32`s instead of strings.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    key_by_name: HashMap<Box<str>, VocabularyKey>,
    names: Vec<Box<str>>,
}

impl Vocabulary {
    pub fn intern(&mut self, name: &str) -> VocabularyKey {
        if let Some(key) = self.key_by_name.get(name) {
            return *key;
        }
        let key = self.names.len() as VocabularyKey;
        self.names.push(name.into());
        self.key_by_name.insert(name.into(), key);
        key
    }

    pub fn key(&self, name: &str) -> Option<VocabularyKey> {
        self.key_by_name.get(name).copied()
    }

    pub fn name(&self, key: VocabularyKey) -> Option<&str> {
        self.names.get(key as usize).map(|name| &**name)
    }
}

/// A physical location in a care type's R*-tree: the point, the provider and which location.
/// What a physical location carries in its R*-tree: the provider's compact entry (so a radius
/// query ranks without reading summaries) and which of its locations this is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhysicalData {
    pub entry: CompactEntry,
    pub location: u16,
}

type SpatialEntry = GeomWithData<SpherePoint, PhysicalData>;

/// The R*-tree entries of a provider's locations, each carrying `entry` (the provider's
/// compact entry for one of its care types).
fn spatial_entries(entry: CompactEntry, summary: &ProviderSummary) -> Vec<SpatialEntry> {
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

/// Whether a provider is in network for her payer, as far as a [`CompactEntry`] can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkAnswer {
    Yes,
    No,
    /// Only the full summary can tell (a plan-specific contract, or a payer key past the
    /// exact bits); ranking treats it as "yes" for a bound and checks the summary.
    Maybe,
}

/// A provider as the remote pools and R*-trees keep it for one of its care types: everything
/// ranking needs, in one cache line, so a pool of tens of thousands is scanned sequentially
/// without touching the summaries. Only the few entries that can reach the top are looked up
/// in full. Every field is for that care type: its credentials, the contracts that cover it,
/// the modes it can be given in and whether a referral rule applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompactEntry {
    pub id: ProviderId,
    /// Bit `k` for payer key `k` below 127, bit 127 for any larger key: in network for every
    /// plan of that payer.
    pub all_plan_payers: u128,
    /// Bit `k` (below 63; bit 63 for larger keys): in network for some plans of payer `k`.
    pub plan_specific_payers: u64,
    /// Bit `k` for language key `k` below 63; bit 63 for larger keys.
    pub languages: u64,
    /// Bit `k` for licensed state key `k` below 63; bit 63 for larger keys.
    pub licensed_regions: u64,
    pub slot: ProviderSlot,
    pub home_visit_radius_km: f32,
    pub treats: SymptomSet,
    pub modes: CareModeSet,
    pub certification: CertificationLevel,
    pub accepts_fsa_hsa: bool,
    pub provides_superbill: bool,
    pub requires_referral: bool,
}

/// Providers whose static score parts are equal: the same certification level and the same
/// number of ways to be seen (up to three). The remote pools are ordered by it and each care
/// type's R*-trees are split by it, so a caller whose list is full bounds a whole group's
/// score at once (see [`Catalog::candidates`]). Ordered weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolGroup {
    pub certification: CertificationLevel,
    /// Ways to be seen, counted up to three.
    pub ways: usize,
}

impl PoolGroup {
    /// Ways counted: zero to three.
    const WAYS: usize = 4;

    /// Number of distinct groups: six levels by zero to three ways.
    pub const COUNT: usize = CertificationLevel::ALL.len() * Self::WAYS;

    /// Position among all groups (below [`PoolGroup::COUNT`]), in group order.
    pub fn position(self) -> usize {
        self.certification as usize * Self::WAYS + self.ways.min(Self::WAYS - 1)
    }

    /// The group at `position` (below [`PoolGroup::COUNT`]).
    fn at(position: usize) -> Self {
        Self {
            certification: CertificationLevel::ALL[position / Self::WAYS],
            ways: position % Self::WAYS,
        }
    }
}

/// The caller's bound on nearby hits, asked per care type and group: a hit of that group
/// farther than the answer cannot reach the caller's list. Answers only shrink while a search
/// runs (the caller's list only gets better); a negative answer rules the group out.
#[derive(Clone, Copy)]
pub struct UsefulDistance<'a>(pub &'a dyn Fn(CareType, PoolGroup) -> f64);

impl std::fmt::Debug for UsefulDistance<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("UsefulDistance")
    }
}

/// Bit for `key` in a set of `BITS` bits: exact below `BITS - 1`; the last bit stands for every
/// larger key (an overflow marker), so an exact bit is never set by a collision.
const fn key_bit<const BITS: u32>(key: VocabularyKey) -> u32 {
    if key < BITS - 1 { key } else { BITS - 1 }
}

impl CompactEntry {
    pub fn offers(&self, mode: CareMode) -> bool {
        self.modes.contains(mode)
    }

    /// The provider's group: certification level and ways to be seen (counted up to three,
    /// where availability stops growing). Every static part of a score is equal in a group.
    pub fn pool_group(&self) -> PoolGroup {
        PoolGroup {
            certification: self.certification,
            ways: self.modes.len().min(3),
        }
    }

    fn of(slot: ProviderSlot, summary: &ProviderSummary, care_type: CareType) -> Self {
        let mut all_plan_payers = 0_u128;
        let mut plan_specific_payers = 0_u64;
        for entry in summary
            .network
            .iter()
            .filter(|entry| entry.care_types.contains(care_type))
        {
            match entry.plan {
                None => all_plan_payers |= 1_u128 << key_bit::<128>(entry.payer),
                Some(_) => plan_specific_payers |= 1_u64 << key_bit::<64>(entry.payer),
            }
        }
        Self {
            id: summary.id,
            all_plan_payers,
            plan_specific_payers,
            languages: language_bits(&summary.languages),
            licensed_regions: language_bits(&summary.licensed_regions),
            slot,
            home_visit_radius_km: summary.home_visit_radius_km,
            treats: summary.treats,
            modes: summary.modes_for(care_type),
            certification: summary.certification_for(care_type),
            accepts_fsa_hsa: summary.accepts_fsa_hsa,
            provides_superbill: summary.provides_superbill,
            requires_referral: summary.requires_referral_for(care_type),
        }
    }

    /// In network for `payer` (and her plan, when `plan_given`)? Exact whenever it can be.
    pub fn in_network(&self, payer: VocabularyKey, plan_given: bool) -> NetworkAnswer {
        let all_plans = self.all_plan_payers & (1_u128 << key_bit::<128>(payer)) != 0;
        let some_plans = self.plan_specific_payers & (1_u64 << key_bit::<64>(payer)) != 0;
        let all_plans_exact = payer < 127;
        let some_plans_exact = payer < 63;
        if all_plans && all_plans_exact {
            return NetworkAnswer::Yes;
        }
        if some_plans && some_plans_exact && !plan_given {
            // She did not name her plan: a plan-specific contract with her payer counts.
            return NetworkAnswer::Yes;
        }
        if (all_plans && !all_plans_exact) || some_plans {
            return NetworkAnswer::Maybe;
        }
        NetworkAnswer::No
    }
}

/// Keys (languages, states) as bits (see [`key_bit`]).
fn language_bits(keys: &[VocabularyKey]) -> u64 {
    keys.iter()
        .fold(0_u64, |bits, key| bits | 1_u64 << key_bit::<64>(*key))
}

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

/// The order of a remote pool: by [`CompactEntry::pool_group`], best first, then provider
/// id. Within a group a caller's score bound is the same for every entry and ids ascend, so
/// a caller can skip the rest of a group (see [`Catalog::candidates`]).
fn pool_order(first: &CompactEntry, second: &CompactEntry) -> std::cmp::Ordering {
    second
        .pool_group()
        .cmp(&first.pool_group())
        .then_with(|| first.id.cmp(&second.id))
}

/// What the caller of [`Catalog::candidates`] wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextHit {
    Continue,
    /// Skip the rest of this remote hit's pool group: none of it can be kept. Ignored for
    /// nearby hits.
    SkipGroup,
}

/// Remote entries of one care type (and state), in [`pool_order`].
#[derive(Debug, Default, Clone)]
struct RemotePool {
    entries: Vec<CompactEntry>,
}

impl RemotePool {
    fn insert(&mut self, entry: CompactEntry) {
        match self
            .entries
            .binary_search_by(|known| pool_order(known, &entry))
        {
            Ok(position) => self.entries[position] = entry,
            Err(position) => self.entries.insert(position, entry),
        }
    }

    fn remove(&mut self, entry: &CompactEntry) {
        if let Ok(position) = self
            .entries
            .binary_search_by(|known| pool_order(known, entry))
        {
            self.entries.remove(position);
        }
    }

    /// Sorts after a bulk load, which appends in slot order.
    fn sort(&mut self) {
        self.entries.sort_unstable_by(pool_order);
    }
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

/// The outer edges of the rings a radius search walks, nearest first: the near ring fills
/// the caller's list with near providers, so its bound cuts the outer rings of a large radius
/// short (or skips them). A ring walks only the subtrees that reach past its inner edge, so a
/// point is enumerated by one ring, not by every ring out to it. More rings (1 to 70 km in
/// ten steps, or 3/6/12/25 km) were not measurably faster on the HTTP mix at 1M (BENCHMARKS.md).
const RING_EDGES_KM: [f64; 1] = [5.0];

/// The rings of a search out to `radius_km`: `(inner, outer]` in kilometres.
fn rings(radius_km: f64) -> Vec<(f64, f64)> {
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
struct RingSelection {
    origin: SpherePoint,
    inner_squared: f32,
    outer_squared: f32,
}

impl RingSelection {
    fn new(origin: SpherePoint, inner_km: f64, outer_km: f64) -> Self {
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
const BEYOND_RADIUS_ENTRY_BUDGET: usize = 20_000;

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

const REMOTE_MODES: [CareMode; 2] = [CareMode::Telehealth, CareMode::VirtualGroup];
const PHYSICAL_MODES: [CareMode; 2] = [CareMode::InPerson, CareMode::HomeVisit];

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

/// The entries of several trees, nearest to `origin` first: one tree's nearest-neighbour walk
/// merged across the trees of a care type.
fn nearest_first(
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
fn empty_trees() -> Vec<RTree<SpatialEntry>> {
    (0..PoolGroup::COUNT).map(|_| RTree::new()).collect()
}

/// The R*-tree entries of a bulk load, per care type and group.
struct EntriesByTree(Vec<Vec<Vec<SpatialEntry>>>);

impl EntriesByTree {
    fn new() -> Self {
        Self(
            CareType::ALL
                .iter()
                .map(|_| (0..PoolGroup::COUNT).map(|_| Vec::new()).collect())
                .collect(),
        )
    }

    /// Adds an accepting provider's locations to the trees of each care type it gives in
    /// person or at home.
    fn add(&mut self, slot: ProviderSlot, summary: &ProviderSummary) {
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

    fn build(self) -> Vec<Vec<RTree<SpatialEntry>>> {
        self.0
            .into_iter()
            .map(|groups| groups.into_iter().map(build_tree).collect())
            .collect()
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

/// An R*-tree over `entries` that later inserts can grow. rstar 0.12's bulk load can leave
/// leaves at different depths for clustered points (many providers share a metro's
/// coordinates), and inserting into such a tree panics ("This is a bug in rstar", see
/// `tests/rewrite_all.rs`). A bulk-loaded tree is kept only when its leaves are all at one
/// depth; otherwise the tree is built by inserting one entry at a time.
fn build_tree(entries: Vec<SpatialEntry>) -> RTree<SpatialEntry> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payer_names_are_normalized_for_comparison() {
        assert_eq!(
            normalize_name("Oregon Health Plan (Medicaid)"),
            "oregon health plan medicaid"
        );
        assert_eq!(
            normalize_name("  oregon health-plan  MEDICAID "),
            "oregon health plan medicaid"
        );
        assert_eq!(
            normalize_name("Regence BlueCross BlueShield"),
            "regence bluecross blueshield"
        );
    }

    #[test]
    fn vocabulary_interns_each_name_once() {
        let mut vocabulary = Vocabulary::default();
        let first = vocabulary.intern("aetna");
        assert_eq!(vocabulary.intern("aetna"), first);
        assert_ne!(vocabulary.intern("cigna"), first);
        assert_eq!(vocabulary.key("aetna"), Some(first));
        assert_eq!(vocabulary.name(first), Some("aetna"));
        assert_eq!(vocabulary.key("kaiser"), None);
    }
}
