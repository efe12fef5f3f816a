//! The bounds that let a full ranked list skip work: how far a nearby hit of a score group
//! can be and still be kept, and whether a remote pool group can beat the worst kept.

use std::cell::Cell;

use carematch_domain::CareType;
use carematch_search::{Hit, PoolGroup};

use crate::scoring::{PayerSituation, ScoreBreakdown, certification_score, distance_score};

use super::best::Scored;
use super::{Engine, Prepared};

/// How far past the exact bound a group's best distance score must be needed before the
/// group is skipped whole, so rounding in the two sums never drops a provider that ties.
pub(super) const GROUP_BOUND_MARGIN: f64 = 1e-9;

/// The useful distance per care type and group for the current threshold of one ranking,
/// each computed when first asked after the threshold rose (the search asks once per hit).
pub(super) struct DistanceBounds<'engine, 'prepared, 'view, 'index> {
    engine: &'engine Engine,
    prepared: &'prepared Prepared<'view, 'index>,
    /// `NEG_INFINITY` until the list is full: every distance is useful.
    threshold: Cell<f64>,
    /// Per care type and group: the threshold it was computed for, and the distance.
    computed: Vec<Cell<(f64, f64)>>,
}

impl<'engine, 'prepared, 'view, 'index> DistanceBounds<'engine, 'prepared, 'view, 'index> {
    pub(super) fn new(
        engine: &'engine Engine,
        prepared: &'prepared Prepared<'view, 'index>,
    ) -> Self {
        Self {
            engine,
            prepared,
            threshold: Cell::new(f64::NEG_INFINITY),
            computed: vec![
                Cell::new((f64::NEG_INFINITY, f64::INFINITY));
                CareType::ALL.len() * PoolGroup::COUNT
            ],
        }
    }

    pub(super) fn raise(&self, threshold: f64) {
        self.threshold.set(threshold);
    }

    pub(super) fn get(&self, care_type: CareType, group: PoolGroup) -> f64 {
        let threshold = self.threshold.get();
        let position = care_type as usize * PoolGroup::COUNT + group.position();
        let Some(cell) = self.computed.get(position) else {
            return f64::INFINITY;
        };
        let (computed_for, distance) = cell.get();
        if computed_for == threshold {
            return distance;
        }
        let distance = self
            .engine
            .useful_distance_km(self.prepared, threshold, care_type, group);
        cell.set((threshold, distance));
        distance
    }
}

impl Engine {
    /// The best total a hit of `care_type` and `group` can reach with `distance` as its
    /// distance score: the best need fit and payment her request allows, the group's
    /// certification and ways to be seen, full text. `None` when she did not ask for the care.
    pub(super) fn group_best_total(
        &self,
        prepared: &Prepared<'_, '_>,
        care_type: CareType,
        group: PoolGroup,
        distance: f64,
    ) -> Option<f64> {
        let wanted = prepared.wanted(care_type)?;
        let config = &self.config;
        let bound = ScoreBreakdown {
            need_fit: crate::scoring::priority_weight(wanted.priority, &config.priority_weights),
            distance,
            certification: certification_score(group.certification, &config.certification_scores),
            payment: self.best_payment_score(&prepared.situation),
            availability: crate::scoring::ways_score(group.ways, &config.availability_scores),
            text: 1.0,
        };
        Some(bound.total(&config.weights, prepared.text_given))
    }

    /// The distance past which a nearby hit of `care_type` and `group` cannot beat
    /// `threshold`: its total is at most the group's best, which is linear in the distance
    /// score, and the distance score decays with distance. Negative when no hit of the group
    /// can beat it at any distance.
    pub(super) fn useful_distance_km(
        &self,
        prepared: &Prepared<'_, '_>,
        threshold: f64,
        care_type: CareType,
        group: PoolGroup,
    ) -> f64 {
        let (Some(at_far), Some(at_door)) = (
            self.group_best_total(prepared, care_type, group, 0.0),
            self.group_best_total(prepared, care_type, group, 1.0),
        ) else {
            return f64::INFINITY;
        };
        if at_door <= at_far {
            // Distance does not count: every distance is as good as any.
            return f64::INFINITY;
        }
        let needed_distance_score = (threshold - at_far) / (at_door - at_far);
        if needed_distance_score <= 0.0 {
            return f64::INFINITY;
        }
        if needed_distance_score > 1.0 + GROUP_BOUND_MARGIN {
            // Not even a provider at her door: the whole group is out.
            return -1.0;
        }
        let decay = &self.config.distance_decay;
        if needed_distance_score > 1.0 {
            return decay.offset_km;
        }
        let two_sigma_squared = -(decay.scale_km * decay.scale_km) / decay.decay.ln();
        // A small margin keeps rounding from skipping a hit exactly at the bound.
        decay.offset_km + (-needed_distance_score.ln() * two_sigma_squared).sqrt() + 0.001
    }

    /// The best payment score her situation allows (care-guide.md section 5).
    pub(super) fn best_payment_score(&self, situation: &PayerSituation) -> f64 {
        let scores = &self.config.payment_scores;
        let mut best = scores.self_pay;
        if situation.payer.is_some() {
            best = best.max(scores.in_network);
        }
        if situation.has_insurance {
            best = best.max(scores.out_of_network_superbill);
        }
        if situation.has_fsa_or_hsa {
            best = best
                .max(scores.fsa_hsa_eligible)
                .max(scores.fsa_hsa_with_letter_of_medical_necessity);
        }
        best
    }

    /// Whether no remote hit of this hit's pool group, from this one on, can be kept: their
    /// scores are at most this bound (best need fit and payment, the group's certification and
    /// ways to be seen, full text), and their ids only grow.
    pub(super) fn group_cannot_beat(
        &self,
        prepared: &Prepared<'_, '_>,
        hit: &Hit<'_>,
        worst: &Scored,
    ) -> bool {
        if worst.beyond_radius {
            return false;
        }
        let remote_distance = distance_score(None, true, &self.config.distance_decay);
        let Some(bound) = self.group_best_total(
            prepared,
            hit.care_type,
            hit.entry.pool_group(),
            remote_distance,
        ) else {
            return false;
        };
        bound < worst.total || (bound == worst.total && hit.entry.id > worst.provider_id)
    }
}
