//! The compact form of a provider for one care type, copied into every R*-tree leaf and remote
//! pool entry, and the score groups that order them.

use carematch_domain::{CareMode, CareType, ProviderId};

use super::summary::ProviderSummary;
use super::{CertificationLevel, ProviderSlot, VocabularyKey};
use crate::sets::{CareModeSet, SymptomSet};

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
    pub(super) fn at(position: usize) -> Self {
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
pub(super) const fn key_bit<const BITS: u32>(key: VocabularyKey) -> u32 {
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

    pub(super) fn of(slot: ProviderSlot, summary: &ProviderSummary, care_type: CareType) -> Self {
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
pub(super) fn language_bits(keys: &[VocabularyKey]) -> u64 {
    keys.iter()
        .fold(0_u64, |bits, key| bits | 1_u64 << key_bit::<64>(*key))
}
