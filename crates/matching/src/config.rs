//! [`RankingConfig`]: every weight and constant of the ranking, with defaults and serde so the
//! server can load it from its configuration file. Each default says where it comes from.

use crate::MatchingError;

/// How much each component counts in the weighted sum. The sum is divided by the total weight
/// of the components in play (text counts only when she gave text), so scores stay in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComponentWeights {
    /// The care guide's first question is whether the care treats her problem.
    pub need_fit: f64,
    pub distance: f64,
    /// "Look for a massage therapist certified in postnatal or perinatal massage, not just
    /// general massage" (the seed article): as heavy as distance.
    pub certification: f64,
    /// The guide ranks payment explicitly (section 5); a provider she cannot afford is no help.
    pub payment: f64,
    /// Ways to be seen; a light tie-breaker, since every candidate is accepting clients.
    pub availability: f64,
    /// Her own words, when given.
    pub text: f64,
}

impl Default for ComponentWeights {
    fn default() -> Self {
        Self {
            need_fit: 0.30,
            distance: 0.20,
            certification: 0.20,
            payment: 0.20,
            availability: 0.05,
            text: 0.15,
        }
    }
}

/// Elasticsearch `function_score` gauss decay (origin = her location): 1 up to `offset_km`,
/// then falling so that the score is `decay` at `offset_km + scale_km`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DistanceDecay {
    /// Within a kilometre everyone is equally near.
    pub offset_km: f64,
    /// Half the score is lost 10 km further: a typical urban drive of 15-20 minutes.
    pub scale_km: f64,
    pub decay: f64,
    /// Telehealth and online groups have no distance: scored as neither near nor far.
    pub remote_score: f64,
}

impl Default for DistanceDecay {
    fn default() -> Self {
        Self {
            offset_km: 1.0,
            scale_km: 10.0,
            decay: 0.5,
            remote_score: 0.5,
        }
    }
}

/// Need fit per care priority (care-guide.md section 1: 1 treats the problem, 2 supports it,
/// 3 is a useful addition).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriorityWeights {
    pub treats_the_problem: f64,
    pub supports_it: f64,
    pub useful_addition: f64,
}

impl Default for PriorityWeights {
    fn default() -> Self {
        Self {
            treats_the_problem: 1.0,
            supports_it: 0.7,
            useful_addition: 0.5,
        }
    }
}

/// Certification scores (care-guide.md section 4: perinatal above general, verified above
/// self-reported; IBCLC named as the strongest lactation credential).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CertificationScores {
    pub strongest_credential_verified: f64,
    pub perinatal_verified: f64,
    pub perinatal_self_reported: f64,
    pub general_verified: f64,
    pub general_self_reported: f64,
    pub none: f64,
}

impl Default for CertificationScores {
    fn default() -> Self {
        Self {
            strongest_credential_verified: 1.0,
            perinatal_verified: 0.9,
            perinatal_self_reported: 0.65,
            general_verified: 0.45,
            general_self_reported: 0.3,
            none: 0.15,
        }
    }
}

/// Payment scores in the care guide's order (section 5), best first.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentScores {
    pub in_network: f64,
    pub out_of_network_superbill: f64,
    pub fsa_hsa_eligible: f64,
    pub fsa_hsa_with_letter_of_medical_necessity: f64,
    pub self_pay: f64,
    /// The provider requires a referral she does not have: ranked lower, never hidden
    /// (section 5). In network without a referral still beats a superbill.
    pub referral_missing_factor: f64,
}

impl Default for PaymentScores {
    fn default() -> Self {
        Self {
            in_network: 1.0,
            out_of_network_superbill: 0.7,
            fsa_hsa_eligible: 0.55,
            fsa_hsa_with_letter_of_medical_necessity: 0.4,
            self_pay: 0.2,
            referral_missing_factor: 0.75,
        }
    }
}

/// Availability from how many of the ways she accepts the provider offers: one way 0.6, two
/// 0.8, three or more 1.0 (every candidate accepts new clients; the rest is flexibility).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AvailabilityScores {
    pub one_way: f64,
    pub two_ways: f64,
    pub three_or_more_ways: f64,
}

impl Default for AvailabilityScores {
    fn default() -> Self {
        Self {
            one_way: 0.6,
            two_ways: 0.8,
            three_or_more_ways: 1.0,
        }
    }
}

/// Everything the ranking depends on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankingConfig {
    pub weights: ComponentWeights,
    pub distance_decay: DistanceDecay,
    pub priority_weights: PriorityWeights,
    /// Need fit of a provider of the right care type that lists none of her symptoms, as a
    /// share of one that treats them all: the care type still fits.
    pub need_fit_floor: f64,
    pub certification_scores: CertificationScores,
    pub payment_scores: PaymentScores,
    pub availability_scores: AvailabilityScores,
    /// Matches kept per request, for stable pagination (the issue: "the top 200").
    pub keep_top: usize,
    /// When fewer matches than this are found inside her radius, the answer says so and adds
    /// the nearest providers beyond it, up to this many in all. Ten is the contract's default
    /// page size (`first: 10`). Not tied to the page asked for, so every page of one request
    /// comes from the same list.
    pub widen_when_fewer_than: usize,
    /// Providers farther than this are never offered, even when widening.
    pub beyond_radius_max_km: f64,
    /// With text, the best this many by the other components are re-scored with BM25
    /// (Elasticsearch's rescore window): text reorders the head of the list, and the cost of
    /// a text query stays bounded however many candidates there are. At least `keep_top`.
    pub text_rescore_window: usize,
}

impl Default for RankingConfig {
    fn default() -> Self {
        Self {
            weights: ComponentWeights::default(),
            distance_decay: DistanceDecay::default(),
            priority_weights: PriorityWeights::default(),
            need_fit_floor: 0.25,
            certification_scores: CertificationScores::default(),
            payment_scores: PaymentScores::default(),
            availability_scores: AvailabilityScores::default(),
            keep_top: 200,
            widen_when_fewer_than: 10,
            beyond_radius_max_km: 500.0,
            text_rescore_window: 400,
        }
    }
}

impl RankingConfig {
    /// Rejects a configuration that cannot rank: negative or non-finite weights, all weights
    /// zero, scores outside [0, 1], a decay outside (0, 1), a non-positive scale.
    pub fn validate(&self) -> Result<(), MatchingError> {
        let invalid = |problem: String| Err(MatchingError::InvalidConfig(problem));
        let weights = [
            ("weights.need_fit", self.weights.need_fit),
            ("weights.distance", self.weights.distance),
            ("weights.certification", self.weights.certification),
            ("weights.payment", self.weights.payment),
            ("weights.availability", self.weights.availability),
            ("weights.text", self.weights.text),
        ];
        for (name, weight) in weights {
            if !weight.is_finite() || weight < 0.0 {
                return invalid(format!("{name} must be a finite number of at least 0"));
            }
        }
        if weights[..5].iter().map(|(_, weight)| weight).sum::<f64>() <= 0.0 {
            return invalid("at least one weight other than text must be above 0".to_owned());
        }
        let unit_scores = [
            ("need_fit_floor", self.need_fit_floor),
            (
                "distance_decay.remote_score",
                self.distance_decay.remote_score,
            ),
            (
                "priority_weights.treats_the_problem",
                self.priority_weights.treats_the_problem,
            ),
            (
                "priority_weights.supports_it",
                self.priority_weights.supports_it,
            ),
            (
                "priority_weights.useful_addition",
                self.priority_weights.useful_addition,
            ),
            (
                "certification_scores.strongest_credential_verified",
                self.certification_scores.strongest_credential_verified,
            ),
            (
                "certification_scores.perinatal_verified",
                self.certification_scores.perinatal_verified,
            ),
            (
                "certification_scores.perinatal_self_reported",
                self.certification_scores.perinatal_self_reported,
            ),
            (
                "certification_scores.general_verified",
                self.certification_scores.general_verified,
            ),
            (
                "certification_scores.general_self_reported",
                self.certification_scores.general_self_reported,
            ),
            ("certification_scores.none", self.certification_scores.none),
            ("payment_scores.in_network", self.payment_scores.in_network),
            (
                "payment_scores.out_of_network_superbill",
                self.payment_scores.out_of_network_superbill,
            ),
            (
                "payment_scores.fsa_hsa_eligible",
                self.payment_scores.fsa_hsa_eligible,
            ),
            (
                "payment_scores.fsa_hsa_with_letter_of_medical_necessity",
                self.payment_scores.fsa_hsa_with_letter_of_medical_necessity,
            ),
            ("payment_scores.self_pay", self.payment_scores.self_pay),
            (
                "payment_scores.referral_missing_factor",
                self.payment_scores.referral_missing_factor,
            ),
            (
                "availability_scores.one_way",
                self.availability_scores.one_way,
            ),
            (
                "availability_scores.two_ways",
                self.availability_scores.two_ways,
            ),
            (
                "availability_scores.three_or_more_ways",
                self.availability_scores.three_or_more_ways,
            ),
        ];
        for (name, score) in unit_scores {
            if !(0.0..=1.0).contains(&score) {
                return invalid(format!("{name} must be between 0 and 1"));
            }
        }
        // Ranking relies on these orders (care-guide.md sections 4 and 5) to bound scores.
        let certification = &self.certification_scores;
        let certification_best_first = [
            certification.strongest_credential_verified,
            certification.perinatal_verified,
            certification.perinatal_self_reported,
            certification.general_verified,
            certification.general_self_reported,
            certification.none,
        ];
        if certification_best_first
            .windows(2)
            .any(|pair| pair[0] <= pair[1])
        {
            return invalid(
                "certification_scores must fall strictly from strongest_credential_verified to none"
                    .to_owned(),
            );
        }
        let availability = &self.availability_scores;
        if availability.one_way > availability.two_ways
            || availability.two_ways > availability.three_or_more_ways
        {
            return invalid("availability_scores must not fall as ways to be seen grow".to_owned());
        }
        let decay = &self.distance_decay;
        if !(decay.decay > 0.0 && decay.decay < 1.0) {
            return invalid("distance_decay.decay must be between 0 and 1, exclusive".to_owned());
        }
        if !(decay.scale_km.is_finite() && decay.scale_km > 0.0) {
            return invalid("distance_decay.scale_km must be above 0".to_owned());
        }
        if !(decay.offset_km.is_finite() && decay.offset_km >= 0.0) {
            return invalid("distance_decay.offset_km must be at least 0".to_owned());
        }
        if self.keep_top == 0 {
            return invalid("keep_top must be at least 1".to_owned());
        }
        if self.text_rescore_window < self.keep_top {
            return invalid("text_rescore_window must be at least keep_top".to_owned());
        }
        if !(self.beyond_radius_max_km.is_finite() && self.beyond_radius_max_km >= 0.0) {
            return invalid("beyond_radius_max_km must be at least 0".to_owned());
        }
        Ok(())
    }
}
