//! The ranked list a request keeps while candidates stream in: the best `capacity` so far,
//! each provider at its best hit, and the score a newcomer must beat.

use std::cmp::Ordering;

use carematch_domain::{CareType, PaymentFit, ProviderId};
use carematch_search::{Candidate, SymptomSet};
use rustc_hash::FxHashMap;

use crate::scoring::ScoreBreakdown;

/// One candidate scored for one care type.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scored {
    pub(super) candidate: Candidate,
    pub(super) provider_id: ProviderId,
    pub(super) care_type: CareType,
    pub(super) relevant_symptoms: SymptomSet,
    pub(super) breakdown: ScoreBreakdown,
    pub(super) total: f64,
    pub(super) payment_fit: PaymentFit,
    pub(super) referral_missing: bool,
    pub(super) beyond_radius: bool,
}

/// Best first: inside the radius (or remote) before beyond it, then score, then provider id
/// so equal scores always come out in the same order.
pub(super) fn ranking_order(first: &Scored, second: &Scored) -> Ordering {
    first
        .beyond_radius
        .cmp(&second.beyond_radius)
        .then_with(|| second.total.total_cmp(&first.total))
        .then_with(|| first.provider_id.cmp(&second.provider_id))
}

/// Keeps the best `count` in `items` (unordered), in linear time.
pub(super) fn keep_best(items: &mut Vec<Scored>, count: usize) {
    if items.len() > count {
        if count == 0 {
            items.clear();
            return;
        }
        items.select_nth_unstable_by(count - 1, ranking_order);
        items.truncate(count);
    }
}

/// The best `capacity` providers offered so far (each at its best hit), in amortized constant
/// time per offer: once full, anything not better than the worst kept is turned away with one
/// comparison.
pub(super) struct BestScored {
    capacity: usize,
    items: Vec<Scored>,
    worst_kept: Option<Scored>,
    /// Scratch for [`BestScored::shrink`], kept so a request allocates it once.
    position_by_provider: FxHashMap<ProviderId, usize>,
    unique: Vec<Scored>,
}

impl BestScored {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            items: Vec::new(),
            worst_kept: None,
            position_by_provider: FxHashMap::default(),
            unique: Vec::new(),
        }
    }

    /// Offers a candidate; returns whether the worst kept score changed.
    pub(super) fn offer(&mut self, scored: Scored) -> bool {
        if let Some(worst) = &self.worst_kept
            && ranking_order(&scored, worst) != Ordering::Less
        {
            return false;
        }
        self.items.push(scored);
        if self.items.len() >= 2 * self.capacity {
            self.shrink();
            return true;
        }
        false
    }

    pub(super) fn worst(&self) -> Option<&Scored> {
        self.worst_kept.as_ref()
    }

    /// The score a candidate must beat to be kept, once the list is full.
    pub(super) fn threshold(&self) -> Option<f64> {
        self.worst_kept
            .filter(|worst| !worst.beyond_radius)
            .map(|worst| worst.total)
    }

    pub(super) fn shrink(&mut self) {
        // One entry per provider (its best: a provider is visited once per location and care
        // type) before counting, so the list holds `capacity` providers and anything turned
        // away is worse than the `capacity`-th best provider: exact.
        self.position_by_provider.clear();
        self.unique.clear();
        for item in self.items.drain(..) {
            match self.position_by_provider.get(&item.provider_id) {
                Some(&position) => {
                    if ranking_order(&item, &self.unique[position]) == Ordering::Less {
                        self.unique[position] = item;
                    }
                }
                None => {
                    self.position_by_provider
                        .insert(item.provider_id, self.unique.len());
                    self.unique.push(item);
                }
            }
        }
        std::mem::swap(&mut self.items, &mut self.unique);
        keep_best(&mut self.items, self.capacity);
        self.worst_kept = if self.items.len() >= self.capacity {
            self.items.iter().copied().max_by(ranking_order)
        } else {
            None
        };
    }

    pub(super) fn into_items(mut self) -> Vec<Scored> {
        self.shrink();
        self.items
    }
}
