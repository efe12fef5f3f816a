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

use carematch_domain::{
    CareMode, CareType, CertificationScope, GeoPoint, Language, Provider, ProviderId, Region,
    haversine_km,
};
use rstar::RTree;
use rstar::primitives::GeomWithData;

use crate::sets::{CareModeSet, CareTypeSet, SymptomSet};
use crate::sphere::{SpherePoint, sphere_point, sphere_point_of, squared_chord_for_distance_km};

/// A provider's position in the in-memory tables. Stable while the provider exists; reused
/// after a delete. Stored in the tantivy document as a fast field to join the two sides.
pub type ProviderSlot = u32;

/// An interned string (payer, plan, language or state).
pub type VocabularyKey = u32;

/// Credentials the care guide names as the strongest of their field (care-guide.md section 4:
/// "IBCLC (IBLCE) strongest"). Matched on the certification name, without regard to case.
pub const STRONGEST_CREDENTIALS: &[&str] = &["IBCLC"];

/// The best certification a provider holds, in the care guide's order (section 4): perinatal
/// above general, verified above self-reported, and a named strongest credential above all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum CertificationLevel {
    None,
    GeneralSelfReported,
    GeneralVerified,
    PerinatalSelfReported,
    PerinatalVerified,
    StrongestCredentialVerified,
}

impl CertificationLevel {
    pub fn of(provider: &Provider) -> Self {
        provider
            .certifications
            .iter()
            .map(|certification| {
                let strongest = STRONGEST_CREDENTIALS
                    .iter()
                    .any(|name| certification.name.trim().eq_ignore_ascii_case(name));
                match (certification.scope, certification.verified) {
                    (_, true) if strongest => Self::StrongestCredentialVerified,
                    (CertificationScope::Perinatal, true) => Self::PerinatalVerified,
                    (CertificationScope::Perinatal, false) => Self::PerinatalSelfReported,
                    (CertificationScope::General, true) => Self::GeneralVerified,
                    (CertificationScope::General, false) => Self::GeneralSelfReported,
                }
            })
            .max()
            .unwrap_or(Self::None)
    }
}

/// One insurance plan a provider is in network with: the payer, and the plan when only one
/// plan of that payer is accepted (`None` means every plan of the payer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkEntry {
    pub payer: VocabularyKey,
    pub plan: Option<VocabularyKey>,
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
    pub requires_referral: bool,
    pub certification: CertificationLevel,
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

    pub fn speaks_any(&self, languages: &[VocabularyKey]) -> bool {
        self.languages.iter().any(|key| languages.contains(key))
    }

    /// Whether the provider is in network for this payer and (when given) plan.
    pub fn in_network(&self, payer: VocabularyKey, plan: Option<VocabularyKey>) -> bool {
        self.network.iter().any(|entry| {
            entry.payer == payer
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
type SpatialEntry = GeomWithData<SpherePoint, (ProviderSlot, u16)>;

/// Whether a provider is in network for her payer, as far as a [`RemoteEntry`] can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkAnswer {
    Yes,
    No,
    /// Only the full summary can tell (a plan-specific contract, or a payer key past the
    /// exact bits); ranking treats it as "yes" for a bound and checks the summary.
    Maybe,
}

/// A telehealth or online provider as the remote pools keep it: everything ranking needs, in
/// one cache line, so a pool of tens of thousands is scanned sequentially without touching the
/// summaries. Only the few entries that can reach the top are looked up in full.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RemoteEntry {
    pub id: ProviderId,
    /// Bit `k` for payer key `k` below 127, bit 127 for any larger key: in network for every
    /// plan of that payer.
    pub all_plan_payers: u128,
    /// Bit `k` (below 63; bit 63 for larger keys): in network for some plans of payer `k`.
    pub plan_specific_payers: u64,
    /// Bit `k` for language key `k` below 63; bit 63 for larger keys.
    pub languages: u64,
    pub slot: ProviderSlot,
    pub treats: SymptomSet,
    pub modes: CareModeSet,
    pub certification: CertificationLevel,
    pub accepts_fsa_hsa: bool,
    pub provides_superbill: bool,
    pub requires_referral: bool,
}

/// Bit for `key` in a set of `BITS` bits: exact below `BITS - 1`; the last bit stands for every
/// larger key (an overflow marker), so an exact bit is never set by a collision.
const fn key_bit<const BITS: u32>(key: VocabularyKey) -> u32 {
    if key < BITS - 1 { key } else { BITS - 1 }
}

impl RemoteEntry {
    fn of(slot: ProviderSlot, summary: &ProviderSummary) -> Self {
        let mut all_plan_payers = 0_u128;
        let mut plan_specific_payers = 0_u64;
        for entry in summary.network.iter() {
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
            slot,
            treats: summary.treats,
            modes: summary.modes,
            certification: summary.certification,
            accepts_fsa_hsa: summary.accepts_fsa_hsa,
            provides_superbill: summary.provides_superbill,
            requires_referral: summary.requires_referral,
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

/// Language keys as bits (see [`key_bit`]).
fn language_bits(keys: &[VocabularyKey]) -> u64 {
    keys.iter()
        .fold(0_u64, |bits, key| bits | 1_u64 << key_bit::<64>(*key))
}

/// A remote provider retrieved for one care type of the request.
#[derive(Debug, Clone, Copy)]
pub struct RemoteHit<'a> {
    pub entry: &'a RemoteEntry,
    pub care_type: CareType,
    /// Telehealth or online group, as she accepts and it offers.
    pub mode: CareMode,
}

impl RemoteHit<'_> {
    /// The candidate this hit becomes once chosen for ranking in full.
    pub fn to_candidate(&self) -> Candidate {
        let mut care_types = CareTypeSet::EMPTY;
        care_types.insert(self.care_type);
        Candidate {
            slot: self.entry.slot,
            reach: Reach::Remote,
            mode: self.mode,
            distance_km: None,
            care_types,
            also_remote: true,
        }
    }
}

/// Remote entries of one care type (and state), sorted by slot.
#[derive(Debug, Default, Clone)]
struct RemotePool {
    entries: Vec<RemoteEntry>,
}

impl RemotePool {
    fn insert(&mut self, entry: RemoteEntry) {
        match self
            .entries
            .binary_search_by_key(&entry.slot, |known| known.slot)
        {
            Ok(position) => self.entries[position] = entry,
            Err(position) => self.entries.insert(position, entry),
        }
    }

    fn remove(&mut self, slot: ProviderSlot) {
        if let Ok(position) = self.entries.binary_search_by_key(&slot, |known| known.slot) {
            self.entries.remove(position);
        }
    }
}

/// How a candidate can be seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
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
}

/// The retrieved candidates and what the search saw, for the answer's explanation.
#[derive(Debug, Clone, Default)]
pub struct CandidateSet<'a> {
    /// In-person and home-visit candidates (inside the radius, then beyond it).
    pub candidates: Vec<Candidate>,
    /// Telehealth and online candidates, one per care type they qualify for, still in their
    /// compact form: ranking bounds their scores from these and reads few in full.
    pub remote_hits: Vec<RemoteHit<'a>>,
    /// In-person and home-visit candidates inside her radius.
    pub found_within_radius: usize,
    /// Telehealth and online candidates.
    pub found_remote: usize,
    /// Candidates added from beyond her radius.
    pub found_beyond_radius: usize,
    /// Whether the search looked beyond the radius (there were too few inside it).
    pub widened: bool,
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
    /// One tree per care type (index = `CareType as usize`), of accepting providers that see
    /// clients in person or at home.
    physical: Vec<RTree<SpatialEntry>>,
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
            physical: CareType::ALL.iter().map(|_| RTree::new()).collect(),
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
            certification: CertificationLevel::of(provider),
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
            let tree = &mut self.physical[care_type as usize];
            for (position, location) in summary.locations.iter().enumerate() {
                let entry = SpatialEntry::new(
                    sphere_point(location.latitude, location.longitude),
                    (slot, position as u16),
                );
                tree.remove(&entry);
            }
            for region in summary.licensed_regions.iter() {
                if let Some(pool) = self.remote_licensed[care_type as usize].get_mut(region) {
                    pool.remove(slot);
                }
            }
            self.remote_anywhere[care_type as usize].remove(slot);
        }
    }

    /// Adds a provider to the retrieval structures. Only accepting providers are retrievable:
    /// a provider not taking new clients is never a match (care-guide.md, scenario 1).
    fn add_to_retrieval(&mut self, slot: ProviderSlot, summary: &ProviderSummary, to_trees: bool) {
        if !summary.accepting_new_clients {
            return;
        }
        let physical = PHYSICAL_MODES.iter().any(|mode| summary.offers(*mode));
        let remote = REMOTE_MODES.iter().any(|mode| summary.offers(*mode));
        for care_type in summary.care_types.iter() {
            if physical && to_trees {
                for (position, location) in summary.locations.iter().enumerate() {
                    self.physical[care_type as usize].insert(SpatialEntry::new(
                        sphere_point(location.latitude, location.longitude),
                        (slot, position as u16),
                    ));
                }
            }
            if remote {
                let entry = RemoteEntry::of(slot, summary);
                if care_type.needs_state_licence() {
                    for region in summary.licensed_regions.iter() {
                        self.remote_licensed[care_type as usize]
                            .entry(*region)
                            .or_default()
                            .insert(entry);
                    }
                } else {
                    self.remote_anywhere[care_type as usize].insert(entry);
                }
            }
        }
    }

    /// Builds a catalog from summaries in slot order (slots 0..n), bulk-loading the trees,
    /// which is several times faster than inserting one by one.
    pub fn bulk_load(mut self, summaries: Vec<ProviderSummary>) -> Self {
        let mut entries_by_care_type: Vec<Vec<SpatialEntry>> =
            CareType::ALL.iter().map(|_| Vec::new()).collect();
        self.summaries = Vec::with_capacity(summaries.len());
        self.slot_by_id.reserve(summaries.len());
        for (slot, summary) in summaries.into_iter().enumerate() {
            let slot = slot as ProviderSlot;
            if summary.accepting_new_clients
                && PHYSICAL_MODES.iter().any(|mode| summary.offers(*mode))
            {
                for care_type in summary.care_types.iter() {
                    for (position, location) in summary.locations.iter().enumerate() {
                        entries_by_care_type[care_type as usize].push(SpatialEntry::new(
                            sphere_point(location.latitude, location.longitude),
                            (slot, position as u16),
                        ));
                    }
                }
            }
            self.add_to_retrieval(slot, &summary, false);
            self.slot_by_id.insert(summary.id, slot);
            self.summaries.push(Some(summary));
        }
        self.physical = entries_by_care_type
            .into_iter()
            .map(RTree::bulk_load)
            .collect();
        self
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
        let mut entries_by_care_type: Vec<Vec<SpatialEntry>> =
            CareType::ALL.iter().map(|_| Vec::new()).collect();
        for (slot, summary) in summaries {
            let index = slot as usize;
            if catalog.summaries.len() <= index {
                let first_new = catalog.summaries.len();
                catalog.summaries.resize(index + 1, None);
                catalog
                    .free_slots
                    .extend((first_new..index).map(|free| free as ProviderSlot));
            }
            if summary.accepting_new_clients
                && PHYSICAL_MODES.iter().any(|mode| summary.offers(*mode))
            {
                for care_type in summary.care_types.iter() {
                    for (position, location) in summary.locations.iter().enumerate() {
                        entries_by_care_type[care_type as usize].push(SpatialEntry::new(
                            sphere_point(location.latitude, location.longitude),
                            (slot, position as u16),
                        ));
                    }
                }
            }
            catalog.add_to_retrieval(slot, &summary, false);
            catalog.slot_by_id.insert(summary.id, slot);
            catalog.summaries[index] = Some(summary);
        }
        catalog.physical = entries_by_care_type
            .into_iter()
            .map(RTree::bulk_load)
            .collect();
        catalog
    }

    /// Retrieves the candidates for a request (care-guide.md section 6): accepting providers of
    /// the care types, in person or at home inside her radius (home visits also inside their own
    /// service radius), by telehealth where licensed in her state, online groups anywhere; with
    /// her modes and languages; and, when too few are found, the nearest beyond the radius.
    pub fn candidates(&self, query: &CandidateQuery<'_>) -> CandidateSet<'_> {
        let mut result = CandidateSet::default();
        if query.care_types.is_empty() || self.is_empty() {
            return result;
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
        let passes_filters = |summary: &ProviderSummary| {
            wanted_languages
                .as_ref()
                .is_none_or(|languages| summary.speaks_any(languages))
        };
        // Which physical mode, if any, a location at `distance_km` qualifies for.
        let physical_mode = |summary: &ProviderSummary, distance_km: f64| {
            if summary.offers(CareMode::InPerson) && accepts(CareMode::InPerson) {
                Some(CareMode::InPerson)
            } else if summary.offers(CareMode::HomeVisit)
                && accepts(CareMode::HomeVisit)
                && distance_km <= f64::from(summary.home_visit_radius_km)
            {
                Some(CareMode::HomeVisit)
            } else {
                None
            }
        };

        let mut position_by_slot: HashMap<ProviderSlot, usize> = HashMap::new();
        let origin = sphere_point_of(query.origin);
        let searches_physical = PHYSICAL_MODES.iter().any(|mode| accepts(*mode));
        if searches_physical {
            let squared_chord = squared_chord_for_distance_km(query.radius_km);
            for care_type in query.care_types.iter() {
                for entry in
                    self.physical[care_type as usize].locate_within_distance(origin, squared_chord)
                {
                    let (slot, location_position) = entry.data;
                    let Some(summary) = self.summary(slot) else {
                        continue;
                    };
                    let location = summary.locations[location_position as usize];
                    let distance_km = haversine_km(
                        query.origin.latitude(),
                        query.origin.longitude(),
                        location.latitude,
                        location.longitude,
                    );
                    if distance_km > query.radius_km || !passes_filters(summary) {
                        continue;
                    }
                    let Some(mode) = physical_mode(summary, distance_km) else {
                        continue;
                    };
                    match position_by_slot.get(&slot) {
                        Some(&position) => {
                            let candidate: &mut Candidate = &mut result.candidates[position];
                            if candidate
                                .distance_km
                                .is_some_and(|known| distance_km < known)
                            {
                                candidate.distance_km = Some(distance_km);
                                candidate.mode = mode;
                            }
                        }
                        None => {
                            position_by_slot.insert(slot, result.candidates.len());
                            result.candidates.push(Candidate {
                                slot,
                                reach: Reach::WithinRadius,
                                mode,
                                distance_km: Some(distance_km),
                                care_types: summary.care_types.intersection(query.care_types),
                                also_remote: false,
                            });
                        }
                    }
                }
            }
            result.found_within_radius = result.candidates.len();
        }

        if REMOTE_MODES.iter().any(|mode| accepts(*mode)) {
            let region_key = query
                .region
                .and_then(|region| self.regions.key(region.as_str()));
            // Her languages as bits; exact for keys below 64, else confirmed on the summary.
            let language_bits = wanted_languages.as_ref().map(|languages| {
                (
                    language_bits(languages),
                    languages.iter().all(|key| *key < 63),
                )
            });
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
                for entry in &pool.entries {
                    let Some(mode) = REMOTE_MODES
                        .iter()
                        .copied()
                        .find(|mode| entry.modes.contains(*mode) && accepts(*mode))
                    else {
                        continue;
                    };
                    if let Some((bits, exact)) = language_bits {
                        if entry.languages & bits == 0 {
                            continue;
                        }
                        if !exact && !self.summary(entry.slot).is_some_and(passes_filters) {
                            continue;
                        }
                    }
                    if let Some(&position) = position_by_slot.get(&entry.slot) {
                        // Nearby already: she could also see this provider remotely.
                        let candidate = &mut result.candidates[position];
                        candidate.care_types.insert(care_type);
                        candidate.also_remote = true;
                        continue;
                    }
                    result.remote_hits.push(RemoteHit {
                        entry,
                        care_type,
                        mode,
                    });
                }
            }
            result.found_remote = if query.care_types.len() == 1 {
                result.remote_hits.len()
            } else {
                let mut slots: Vec<ProviderSlot> = result
                    .remote_hits
                    .iter()
                    .map(|hit| hit.entry.slot)
                    .collect();
                slots.sort_unstable();
                slots.dedup();
                slots.len()
            };
        }

        let found = result.found_within_radius + result.found_remote;
        if searches_physical && found < query.widen_when_fewer_than {
            result.widened = true;
            let wanted = query.widen_when_fewer_than - found;
            for hit in &result.remote_hits {
                position_by_slot.insert(hit.entry.slot, usize::MAX);
            }
            let mut beyond: Vec<Candidate> = Vec::new();
            for care_type in query.care_types.iter() {
                let mut found_here = 0;
                for entry in self.physical[care_type as usize]
                    .nearest_neighbor_iter(&origin)
                    .take(BEYOND_RADIUS_ENTRY_BUDGET)
                {
                    let (slot, location_position) = entry.data;
                    let Some(summary) = self.summary(slot) else {
                        continue;
                    };
                    let location = summary.locations[location_position as usize];
                    let distance_km = haversine_km(
                        query.origin.latitude(),
                        query.origin.longitude(),
                        location.latitude,
                        location.longitude,
                    );
                    if distance_km > query.beyond_radius_max_km {
                        break;
                    }
                    if distance_km <= query.radius_km
                        || position_by_slot.contains_key(&slot)
                        || !passes_filters(summary)
                    {
                        continue;
                    }
                    let Some(mode) = physical_mode(summary, distance_km) else {
                        continue;
                    };
                    if let Some(known) = beyond.iter_mut().find(|known| known.slot == slot) {
                        known.care_types.insert(care_type);
                        continue;
                    }
                    beyond.push(Candidate {
                        slot,
                        reach: Reach::BeyondRadius,
                        mode,
                        distance_km: Some(distance_km),
                        care_types: summary.care_types.intersection(query.care_types),
                        also_remote: false,
                    });
                    found_here += 1;
                    if found_here >= wanted {
                        break;
                    }
                }
            }
            beyond.sort_by(|first, second| {
                first
                    .distance_km
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&second.distance_km.unwrap_or(f64::INFINITY))
                    .then(first.slot.cmp(&second.slot))
            });
            beyond.truncate(wanted);
            result.found_beyond_radius = beyond.len();
            result.candidates.extend(beyond);
        }
        result
    }
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
