//! The ranking components, each a pure function into [0, 1], and their weighted sum. Every
//! constant comes from [`RankingConfig`], whose defaults say where they come from.

use carematch_domain::CertificationLevel;
use carematch_domain::payment::{FsaHsaRule, fsa_hsa_rule};
use carematch_domain::{CareMode, CareType, PaymentFit};
use carematch_search::{CareModeSet, ProviderSummary, SymptomSet};

use crate::config::{
    AvailabilityScores, CertificationScores, ComponentWeights, DistanceDecay, PaymentScores,
    PriorityWeights,
};

/// The component scores of one match, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ScoreBreakdown {
    pub need_fit: f64,
    pub distance: f64,
    pub certification: f64,
    pub payment: f64,
    pub availability: f64,
    /// 0 when she gave no text.
    pub text: f64,
}

impl ScoreBreakdown {
    /// The weighted mean of the components in play: text counts only when she gave text.
    pub fn total(&self, weights: &ComponentWeights, text_given: bool) -> f64 {
        let text_weight = if text_given { weights.text } else { 0.0 };
        let weighted = weights.need_fit * self.need_fit
            + weights.distance * self.distance
            + weights.certification * self.certification
            + weights.payment * self.payment
            + weights.availability * self.availability
            + text_weight * self.text;
        let total_weight = weights.need_fit
            + weights.distance
            + weights.certification
            + weights.payment
            + weights.availability
            + text_weight;
        if total_weight > 0.0 {
            (weighted / total_weight).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// The distance score of a provider offered from beyond her radius: the gauss decay, with a
/// small tail that keeps falling with distance, so beyond the radius nearer always ranks
/// higher (care-guide.md section 6, 2nd edition) where the gauss decay alone has flattened
/// to zero. Beyond-radius matches rank after every match inside it, so the tail never lifts
/// one above a nearer match.
pub fn beyond_radius_distance_score(distance_km: f64, decay: &DistanceDecay) -> f64 {
    const TAIL_SHARE: f64 = 0.05;
    let tail = 1.0 / (1.0 + distance_km.max(0.0) / decay.scale_km.max(f64::MIN_POSITIVE));
    (1.0 - TAIL_SHARE) * gauss_distance_score(distance_km, decay) + TAIL_SHARE * tail
}

/// Elasticsearch's gauss decay: 1 within `offset_km`, `decay` at `offset_km + scale_km`.
pub fn gauss_distance_score(distance_km: f64, decay: &DistanceDecay) -> f64 {
    let beyond_offset = (distance_km - decay.offset_km).max(0.0);
    let two_sigma_squared = -(decay.scale_km * decay.scale_km) / decay.decay.ln();
    let score = (-(beyond_offset * beyond_offset) / two_sigma_squared).exp();
    // Far beyond the scale the score is effectively zero; say so instead of 1e-250.
    if score < 1e-9 { 0.0 } else { score }
}

/// Distance score for a match: gauss decay for in-person and home visits, the neutral remote
/// score for telehealth and online groups; a nearby provider she could also see remotely is
/// never scored below the remote score.
pub fn distance_score(distance_km: Option<f64>, also_remote: bool, decay: &DistanceDecay) -> f64 {
    match distance_km {
        Some(distance_km) => {
            let by_distance = gauss_distance_score(distance_km, decay);
            if also_remote {
                by_distance.max(decay.remote_score)
            } else {
                by_distance
            }
        }
        None => decay.remote_score,
    }
}

pub fn priority_weight(priority: u8, weights: &PriorityWeights) -> f64 {
    match priority {
        0 | 1 => weights.treats_the_problem,
        2 => weights.supports_it,
        _ => weights.useful_addition,
    }
}

/// Need fit: the share of her relevant symptoms the provider treats, weighted by the priority
/// of the care type. `relevant_symptoms` are those that led to this care type; with none (she
/// asked for the care type herself), the care type alone fits fully.
pub fn need_fit_score(
    treats: SymptomSet,
    relevant_symptoms: SymptomSet,
    priority: u8,
    floor: f64,
    weights: &PriorityWeights,
) -> f64 {
    let share = if relevant_symptoms.is_empty() {
        1.0
    } else {
        treats.intersection(relevant_symptoms).len() as f64 / relevant_symptoms.len() as f64
    };
    (priority_weight(priority, weights) * (floor + (1.0 - floor) * share)).clamp(0.0, 1.0)
}

pub fn certification_score(level: CertificationLevel, scores: &CertificationScores) -> f64 {
    match level {
        CertificationLevel::StrongestCredentialVerified => scores.strongest_credential_verified,
        CertificationLevel::PerinatalVerified => scores.perinatal_verified,
        CertificationLevel::PerinatalSelfReported => scores.perinatal_self_reported,
        CertificationLevel::GeneralVerified => scores.general_verified,
        CertificationLevel::GeneralSelfReported => scores.general_self_reported,
        CertificationLevel::None => scores.none,
    }
}

/// Her side of the payment question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PayerSituation {
    /// Her payer as known to the index (`None`: no insurance given, or a payer no provider
    /// in the index takes).
    pub payer: Option<carematch_search::VocabularyKey>,
    pub plan: Option<carematch_search::VocabularyKey>,
    pub has_insurance: bool,
    pub has_fsa_or_hsa: bool,
}

/// How she would pay (care-guide.md section 5, best first): in network for her payer (and
/// plan) > out of network with a superbill (only with insurance to claim from) > FSA/HSA for
/// medical care > FSA/HSA with a letter of medical necessity (massage and doula care) >
/// self-pay. A support group is not medical care: no FSA/HSA fit.
pub fn payment_fit(
    in_network: bool,
    provides_superbill: bool,
    accepts_fsa_hsa: bool,
    care_type: CareType,
    situation: &PayerSituation,
) -> PaymentFit {
    if in_network {
        return PaymentFit::InNetwork;
    }
    if situation.has_insurance && provides_superbill {
        return PaymentFit::OutOfNetworkSuperbill;
    }
    if situation.has_fsa_or_hsa && accepts_fsa_hsa {
        match fsa_hsa_rule(care_type) {
            FsaHsaRule::Eligible => return PaymentFit::FsaHsaEligible,
            FsaHsaRule::NeedsLetter => return PaymentFit::FsaHsaWithLetterOfMedicalNecessity,
            FsaHsaRule::NotEligible => {}
        }
    }
    PaymentFit::SelfPay
}

/// [`payment_fit`] for a provider's summary.
pub fn payment_fit_of(
    summary: &ProviderSummary,
    care_type: CareType,
    situation: &PayerSituation,
) -> PaymentFit {
    let in_network = situation
        .payer
        .is_some_and(|payer| summary.in_network(payer, situation.plan, care_type));
    payment_fit(
        in_network,
        summary.provides_superbill,
        summary.accepts_fsa_hsa,
        care_type,
        situation,
    )
}

pub fn payment_score(fit: PaymentFit, referral_missing: bool, scores: &PaymentScores) -> f64 {
    let base = match fit {
        PaymentFit::InNetwork => scores.in_network,
        PaymentFit::OutOfNetworkSuperbill => scores.out_of_network_superbill,
        PaymentFit::FsaHsaEligible => scores.fsa_hsa_eligible,
        PaymentFit::FsaHsaWithLetterOfMedicalNecessity => {
            scores.fsa_hsa_with_letter_of_medical_necessity
        }
        PaymentFit::SelfPay => scores.self_pay,
    };
    if referral_missing {
        base * scores.referral_missing_factor
    } else {
        base
    }
}

/// Availability: the number of ways she accepts (all, when she named none) that the provider
/// offers. Every candidate already accepts new clients.
pub fn availability_score(
    provider_modes: CareModeSet,
    accepted_modes: CareModeSet,
    scores: &AvailabilityScores,
) -> f64 {
    let ways = if accepted_modes.is_empty() {
        provider_modes.len()
    } else {
        provider_modes.intersection(accepted_modes).len()
    };
    ways_score(ways, scores)
}

/// The availability score of `ways` ways to be seen. Never falls as `ways` grows (the
/// configuration checks it), so the count a provider offers bounds every count she accepts.
pub fn ways_score(ways: usize, scores: &AvailabilityScores) -> f64 {
    match ways {
        0 | 1 => scores.one_way,
        2 => scores.two_ways,
        _ => scores.three_or_more_ways,
    }
}

/// BM25 relative to the best text match among the candidates: the best gets 1.
pub fn text_score(raw_bm25: f32, best_raw_bm25: f32) -> f64 {
    if best_raw_bm25 > 0.0 && raw_bm25 > 0.0 {
        (f64::from(raw_bm25) / f64::from(best_raw_bm25)).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Whether `mode` is a remote mode (no distance).
pub fn is_remote(mode: CareMode) -> bool {
    !mode.is_physical()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RankingConfig;
    use carematch_domain::{ProviderId, Symptom};
    use carematch_search::{NetworkEntry, VocabularyKey};

    fn summary() -> ProviderSummary {
        ProviderSummary {
            id: ProviderId::parse("00000000-0000-4000-8000-000000000001").unwrap(),
            care_types: [CareType::PelvicFloorPhysicalTherapy].into_iter().collect(),
            treats: SymptomSet::EMPTY,
            modes: [CareMode::InPerson].into_iter().collect(),
            accepting_new_clients: true,
            accepts_fsa_hsa: false,
            provides_superbill: false,
            requires_referral: false,
            certification: [CertificationLevel::None; 7],
            languages: Box::new([]),
            network: Box::new([]),
            locations: Box::new([]),
            licensed_regions: Box::new([]),
            home_visit_radius_km: 25.0,
            self_pay_rate_usd: None,
        }
    }

    const AETNA: VocabularyKey = 0;
    const CIGNA: VocabularyKey = 1;
    const GOLD_PLAN: VocabularyKey = 0;
    const SILVER_PLAN: VocabularyKey = 1;

    #[test]
    fn gauss_decay_follows_elasticsearch_at_origin_offset_and_scale() {
        let decay = DistanceDecay::default();
        let cases = [
            // (distance, expected score)
            (0.0, 1.0),
            (1.0, 1.0),     // inside the offset
            (11.0, 0.5),    // offset + scale gives `decay`
            (21.0, 0.0625), // two scales: decay^(2^2)
        ];
        for (distance, expected) in cases {
            let score = gauss_distance_score(distance, &decay);
            assert!((score - expected).abs() < 1e-9, "{distance} km: {score}");
        }
        assert!(gauss_distance_score(5.0, &decay) > gauss_distance_score(6.0, &decay));
    }

    #[test]
    fn beyond_the_radius_nearer_always_scores_higher_where_the_gauss_decay_is_flat() {
        let decay = DistanceDecay::default();
        assert_eq!(
            gauss_distance_score(120.0, &decay),
            gauss_distance_score(150.0, &decay)
        );
        let mut previous = f64::INFINITY;
        for distance in [2.0, 12.0, 30.0, 60.0, 120.0, 150.0, 300.0, 499.0] {
            let score = beyond_radius_distance_score(distance, &decay);
            assert!(score < previous, "{distance} km: {score} !< {previous}");
            assert!((0.0..=1.0).contains(&score));
            previous = score;
        }
    }

    #[test]
    fn remote_matches_get_the_neutral_distance_score_and_nearby_remote_ones_never_less() {
        let decay = DistanceDecay::default();
        let cases = [
            (None, false, 0.5),
            (None, true, 0.5),
            (Some(0.5), false, 1.0),
            (Some(0.5), true, 1.0),
            (Some(30.0), true, 0.5),
        ];
        for (distance, also_remote, expected) in cases {
            let score = distance_score(distance, also_remote, &decay);
            assert!(
                (score - expected).abs() < 1e-9,
                "{distance:?} {also_remote}: {score}"
            );
        }
        assert!(distance_score(Some(30.0), false, &decay) < 0.01);
    }

    #[test]
    fn need_fit_weighs_the_share_of_symptoms_treated_by_care_priority() {
        let weights = PriorityWeights::default();
        let both: SymptomSet = [Symptom::BackPain, Symptom::HipPain].into_iter().collect();
        let one: SymptomSet = [Symptom::BackPain].into_iter().collect();
        let cases = [
            // (treats, relevant, priority, expected)
            (both, both, 1, 1.0),
            (one, both, 1, 0.625),
            (SymptomSet::EMPTY, both, 1, 0.25),
            (both, both, 2, 0.7),
            (both, both, 3, 0.5),
            (SymptomSet::EMPTY, SymptomSet::EMPTY, 1, 1.0), // asked for the care type
        ];
        for (treats, relevant, priority, expected) in cases {
            let score = need_fit_score(treats, relevant, priority, 0.25, &weights);
            assert!(
                (score - expected).abs() < 1e-9,
                "{relevant:?} p{priority}: {score}"
            );
        }
    }

    #[test]
    fn certification_ranks_perinatal_above_general_and_verified_above_self_reported() {
        let scores = CertificationScores::default();
        let best_first = [
            CertificationLevel::StrongestCredentialVerified,
            CertificationLevel::PerinatalVerified,
            CertificationLevel::PerinatalSelfReported,
            CertificationLevel::GeneralVerified,
            CertificationLevel::GeneralSelfReported,
            CertificationLevel::None,
        ];
        for pair in best_first.windows(2) {
            assert!(
                certification_score(pair[0], &scores) > certification_score(pair[1], &scores),
                "{:?} should beat {:?}",
                pair[0],
                pair[1]
            );
        }
    }

    #[test]
    fn payment_fit_follows_the_care_guide_order() {
        let with_aetna = PayerSituation {
            payer: Some(AETNA),
            plan: None,
            has_insurance: true,
            has_fsa_or_hsa: true,
        };
        let fsa_only = PayerSituation {
            has_fsa_or_hsa: true,
            ..PayerSituation::default()
        };
        let unknown_payer = PayerSituation {
            payer: None,
            has_insurance: true,
            ..PayerSituation::default()
        };
        let in_aetna = ProviderSummary {
            network: Box::new([NetworkEntry {
                payer: AETNA,
                plan: None,
                care_types: CareType::ALL.iter().copied().collect(),
            }]),
            ..summary()
        };
        let in_cigna_with_superbill = ProviderSummary {
            network: Box::new([NetworkEntry {
                payer: CIGNA,
                plan: None,
                care_types: CareType::ALL.iter().copied().collect(),
            }]),
            provides_superbill: true,
            ..summary()
        };
        let fsa = ProviderSummary {
            accepts_fsa_hsa: true,
            ..summary()
        };
        use CareType::{
            Doula, LactationConsulting, PelvicFloorPhysicalTherapy, PostnatalMassage, SupportGroup,
        };
        use PaymentFit::*;
        let cases = [
            (
                &in_aetna,
                PelvicFloorPhysicalTherapy,
                &with_aetna,
                InNetwork,
            ),
            (
                &in_cigna_with_superbill,
                PelvicFloorPhysicalTherapy,
                &with_aetna,
                OutOfNetworkSuperbill,
            ),
            (
                &in_cigna_with_superbill,
                PelvicFloorPhysicalTherapy,
                &unknown_payer,
                OutOfNetworkSuperbill,
            ),
            // A superbill is for an insurer: without insurance it does not help.
            (
                &in_cigna_with_superbill,
                PelvicFloorPhysicalTherapy,
                &fsa_only,
                SelfPay,
            ),
            (&fsa, PelvicFloorPhysicalTherapy, &fsa_only, FsaHsaEligible),
            (&fsa, LactationConsulting, &fsa_only, FsaHsaEligible),
            (
                &fsa,
                PostnatalMassage,
                &fsa_only,
                FsaHsaWithLetterOfMedicalNecessity,
            ),
            (&fsa, Doula, &fsa_only, FsaHsaWithLetterOfMedicalNecessity),
            // 2nd edition: a support group is not medical care.
            (&fsa, SupportGroup, &fsa_only, SelfPay),
            (&fsa, PostnatalMassage, &PayerSituation::default(), SelfPay),
            (&summary(), PelvicFloorPhysicalTherapy, &with_aetna, SelfPay),
        ];
        for (provider, care_type, situation, expected) in cases {
            assert_eq!(
                payment_fit_of(provider, care_type, situation),
                expected,
                "{care_type:?} {situation:?}"
            );
        }
    }

    #[test]
    fn a_plan_specific_contract_is_in_network_only_for_that_plan_or_an_unknown_plan() {
        let gold_only = ProviderSummary {
            network: Box::new([NetworkEntry {
                payer: AETNA,
                plan: Some(GOLD_PLAN),
                care_types: CareType::ALL.iter().copied().collect(),
            }]),
            ..summary()
        };
        let situation = |plan| PayerSituation {
            payer: Some(AETNA),
            plan,
            has_insurance: true,
            has_fsa_or_hsa: false,
        };
        let care_type = CareType::PelvicFloorPhysicalTherapy;
        assert_eq!(
            payment_fit_of(&gold_only, care_type, &situation(Some(GOLD_PLAN))),
            PaymentFit::InNetwork
        );
        assert_eq!(
            payment_fit_of(&gold_only, care_type, &situation(None)),
            PaymentFit::InNetwork
        );
        assert_eq!(
            payment_fit_of(&gold_only, care_type, &situation(Some(SILVER_PLAN))),
            PaymentFit::SelfPay
        );
    }

    #[test]
    fn payment_scores_keep_the_order_and_a_missing_referral_lowers_without_hiding() {
        let scores = PaymentScores::default();
        let order = [
            PaymentFit::InNetwork,
            PaymentFit::OutOfNetworkSuperbill,
            PaymentFit::FsaHsaEligible,
            PaymentFit::FsaHsaWithLetterOfMedicalNecessity,
            PaymentFit::SelfPay,
        ];
        for pair in order.windows(2) {
            assert!(
                payment_score(pair[0], false, &scores) > payment_score(pair[1], false, &scores)
            );
        }
        let without_referral = payment_score(PaymentFit::InNetwork, true, &scores);
        assert!(without_referral < payment_score(PaymentFit::InNetwork, false, &scores));
        assert!(
            without_referral > payment_score(PaymentFit::OutOfNetworkSuperbill, false, &scores)
        );
        assert!(payment_score(PaymentFit::SelfPay, true, &scores) > 0.0);
    }

    #[test]
    fn availability_counts_the_ways_she_accepts() {
        let scores = AvailabilityScores::default();
        let in_person: CareModeSet = [CareMode::InPerson].into_iter().collect();
        let two: CareModeSet = [CareMode::InPerson, CareMode::Telehealth]
            .into_iter()
            .collect();
        let three: CareModeSet = [
            CareMode::InPerson,
            CareMode::Telehealth,
            CareMode::HomeVisit,
        ]
        .into_iter()
        .collect();
        let cases = [
            (in_person, CareModeSet::EMPTY, 0.6),
            (two, CareModeSet::EMPTY, 0.8),
            (three, CareModeSet::EMPTY, 1.0),
            (three, in_person, 0.6),
        ];
        for (offered, accepted, expected) in cases {
            assert_eq!(availability_score(offered, accepted, &scores), expected);
        }
    }

    #[test]
    fn text_scores_are_relative_to_the_best_match() {
        let cases = [
            (2.0, 4.0, 0.5),
            (4.0, 4.0, 1.0),
            (0.0, 4.0, 0.0),
            (1.0, 0.0, 0.0),
        ];
        for (raw, best, expected) in cases {
            assert_eq!(text_score(raw, best), expected);
        }
    }

    #[test]
    fn the_total_is_the_weighted_mean_of_components_in_play() {
        let weights = RankingConfig::default().weights;
        let perfect = ScoreBreakdown {
            need_fit: 1.0,
            distance: 1.0,
            certification: 1.0,
            payment: 1.0,
            availability: 1.0,
            text: 0.0,
        };
        assert!((perfect.total(&weights, false) - 1.0).abs() < 1e-12);
        assert!(perfect.total(&weights, true) < 1.0);
        let zero = ScoreBreakdown::default();
        assert_eq!(zero.total(&weights, true), 0.0);
    }
}
