//! Triage: from what a mother tells us to a [`CarePlan`] — urgent guidance first, recommended care
//! types with priority and reasons, and cautions. Every rule is a row of a table below, taken
//! from `shared/domain/care-guide.md` sections 1-3 (which restate the seed article).

use crate::{BirthType, CareType, Symptom, WarningSign, WeeksPostpartum};

use CareType::{
    LactationConsulting, PelvicFloorPhysicalTherapy, PerinatalMentalHealth, PostnatalMassage,
    SupportGroup,
};

/// One row of care-guide.md section 1: a symptom, the care types it calls for with their
/// priority (1 treats the problem, 2 supports it, 3 is a useful addition), and why.
pub struct SymptomRule {
    pub symptom: Symptom,
    pub care: &'static [(CareType, u8)],
    pub reason: &'static str,
}

const fn rule(
    symptom: Symptom,
    care: &'static [(CareType, u8)],
    reason: &'static str,
) -> SymptomRule {
    SymptomRule {
        symptom,
        care,
        reason,
    }
}

/// Care-guide.md section 1, row by row.
pub const SYMPTOM_RULES: &[SymptomRule] = &[
    rule(
        Symptom::UrineLeakage,
        &[(PelvicFloorPhysicalTherapy, 1)],
        "Leaking urine when you sneeze or cough is pelvic-floor dysfunction, not just part of motherhood; pelvic-floor physical therapy treats it.",
    ),
    rule(
        Symptom::PelvicPain,
        &[(PelvicFloorPhysicalTherapy, 1)],
        "Pelvic pain after birth is a sign of pelvic-floor dysfunction that pelvic-floor physical therapy treats.",
    ),
    rule(
        Symptom::PelvicHeaviness,
        &[(PelvicFloorPhysicalTherapy, 1)],
        "A feeling of pelvic heaviness is a sign of pelvic-floor dysfunction that pelvic-floor physical therapy treats.",
    ),
    rule(
        Symptom::DiastasisRecti,
        &[(PelvicFloorPhysicalTherapy, 1)],
        "Physical therapy heals abdominal separation (diastasis recti); massage cannot.",
    ),
    rule(
        Symptom::CoreWeakness,
        &[(PelvicFloorPhysicalTherapy, 1)],
        "Physical therapy rebuilds core strength after pregnancy and delivery.",
    ),
    rule(
        Symptom::ScarPain,
        &[(PelvicFloorPhysicalTherapy, 1)],
        "Physical therapy helps scar tissue recover after a cesarean or a perineal tear.",
    ),
    rule(
        Symptom::BackPain,
        &[(PelvicFloorPhysicalTherapy, 1), (PostnatalMassage, 2)],
        "Physical therapy treats back pain from pregnancy and delivery; massage relieves back pain from feeding and carrying your baby.",
    ),
    rule(
        Symptom::HipPain,
        &[(PelvicFloorPhysicalTherapy, 1), (PostnatalMassage, 2)],
        "Physical therapy treats hip pain from pregnancy and delivery; massage eases the tension around it.",
    ),
    rule(
        Symptom::TroubleWithDailyActivities,
        &[(PelvicFloorPhysicalTherapy, 1)],
        "Physical therapy guides a safe return to daily movement.",
    ),
    rule(
        Symptom::ReturnToExercise,
        &[(PelvicFloorPhysicalTherapy, 1)],
        "Physical therapy guides a safe return to exercise.",
    ),
    rule(
        Symptom::NeckShoulderTension,
        &[(PostnatalMassage, 1)],
        "Massage relieves neck and shoulder soreness from breastfeeding or holding your baby.",
    ),
    rule(
        Symptom::Swelling,
        &[(PostnatalMassage, 1)],
        "Massage reduces swelling and fluid retention after birth.",
    ),
    rule(
        Symptom::PoorSleep,
        &[(PostnatalMassage, 2)],
        "Massage may help you sleep more deeply.",
    ),
    rule(
        Symptom::Stress,
        &[(PostnatalMassage, 1), (SupportGroup, 2)],
        "When you feel overwhelmed, tense or emotionally drained, massage lowers stress and other mothers can support you.",
    ),
    rule(
        Symptom::Anxiety,
        &[
            (PerinatalMentalHealth, 1),
            (PostnatalMassage, 2),
            (SupportGroup, 2),
        ],
        "A perinatal mental-health provider treats anxiety; massage eases it but does not replace therapy.",
    ),
    rule(
        Symptom::LowMood,
        &[
            (PerinatalMentalHealth, 1),
            (SupportGroup, 2),
            (PostnatalMassage, 3),
        ],
        "Low mood after birth can be postpartum depression: talk with a perinatal mental-health provider first.",
    ),
    rule(
        Symptom::BreastfeedingDifficulty,
        &[(LactationConsulting, 1)],
        "A lactation consultant helps with feeding difficulties.",
    ),
    rule(
        Symptom::Isolation,
        &[(SupportGroup, 1)],
        "Hearing other mothers' recovery stories can help you feel less alone.",
    ),
];

/// Why a caution applies: it makes the care type unsafe for now, or only limits what it can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum CautionKind {
    /// Not safe yet: the care type leaves `recommendations` (care-guide.md section 2, rows 1-2).
    Safety,
    /// Safe but limited: the care type may stay recommended with the caution attached.
    Usefulness,
}

/// What triage reads from a request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TriageInput {
    pub symptoms: Vec<Symptom>,
    pub warning_signs: Vec<WarningSign>,
    /// Care types asked for explicitly; empty when none were.
    pub care_types: Vec<CareType>,
    pub birth_type: Option<BirthType>,
    pub weeks_postpartum: Option<WeeksPostpartum>,
    pub cleared_for_massage: bool,
}

/// One row of care-guide.md section 2: a condition on the input, the care type it limits, and
/// what to tell her.
pub struct CautionRule {
    pub care_type: CareType,
    pub kind: CautionKind,
    pub applies: fn(&TriageInput) -> bool,
    pub reason: &'static str,
    /// Whether the caution is shown only when the care type was suggested or asked for.
    pub only_when_relevant: bool,
}

/// Care-guide.md section 2, row by row.
pub const CAUTION_RULES: &[CautionRule] = &[
    CautionRule {
        care_type: PostnatalMassage,
        kind: CautionKind::Safety,
        applies: |input| {
            input.birth_type == Some(BirthType::Cesarean) && !input.cleared_for_massage
        },
        reason: "After a cesarean, get clearance from your provider before lying flat or having massage near the scar.",
        only_when_relevant: true,
    },
    CautionRule {
        care_type: PostnatalMassage,
        kind: CautionKind::Safety,
        applies: |input| {
            input.birth_type == Some(BirthType::Vaginal)
                && input
                    .weeks_postpartum
                    .is_some_and(|weeks| weeks.weeks() < 2)
        },
        reason: "After a vaginal birth, gentle massage is usually fine after about two weeks.",
        only_when_relevant: true,
    },
    CautionRule {
        care_type: PostnatalMassage,
        kind: CautionKind::Usefulness,
        applies: |input| input.symptoms.contains(&Symptom::DiastasisRecti),
        reason: "Massage can ease tension but will not heal abdominal separation (diastasis recti); physical therapy does.",
        // The article answers this question directly, so it is said whenever separation is.
        only_when_relevant: false,
    },
    CautionRule {
        care_type: PostnatalMassage,
        kind: CautionKind::Usefulness,
        applies: |input| {
            input
                .symptoms
                .iter()
                .any(|s| matches!(s, Symptom::Anxiety | Symptom::LowMood))
        },
        reason: "Massage supports recovery from anxiety and low mood but does not replace therapy.",
        only_when_relevant: true,
    },
];

/// How urgently a warning sign needs care (AWHONN POST-BIRTH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum UrgencyLevel {
    /// Call your healthcare provider now.
    CallProvider,
    /// Call emergency services (911 in the US).
    Emergency,
}

/// Care-guide.md section 3: each warning sign and how urgent it is.
pub const WARNING_SIGN_RULES: &[(WarningSign, UrgencyLevel)] = &[
    (WarningSign::ChestPain, UrgencyLevel::Emergency),
    (WarningSign::TroubleBreathing, UrgencyLevel::Emergency),
    (WarningSign::Seizure, UrgencyLevel::Emergency),
    (WarningSign::ThoughtsOfHarm, UrgencyLevel::Emergency),
    (WarningSign::HeavyBleeding, UrgencyLevel::CallProvider),
    (WarningSign::Fever, UrgencyLevel::CallProvider),
    (WarningSign::IncisionNotHealing, UrgencyLevel::CallProvider),
    (WarningSign::LegPainOrSwelling, UrgencyLevel::CallProvider),
    (WarningSign::SevereHeadache, UrgencyLevel::CallProvider),
];

/// The crisis lines given with THOUGHTS_OF_HARM.
pub const MENTAL_HEALTH_CRISIS_LINES: &str = "You are not alone: call or text the National Maternal Mental Health Hotline at 1-833-TLC-MAMA (1-833-852-6262), or call or text 988 for the 988 Suicide & Crisis Lifeline.";

pub const NOTHING_TO_RECOMMEND: &str = "No symptoms or care types were given, so there is nothing to recommend yet. Tell us what you are experiencing, or which kind of care you are looking for.";

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UrgentGuidance {
    pub level: UrgencyLevel,
    pub message: String,
    /// The warning signs she gave, in the order of the contract's enum.
    pub warning_signs: Vec<WarningSign>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CareRecommendation {
    pub care_type: CareType,
    /// 1 treats the problem, 2 supports it, 3 is a useful addition.
    pub priority: u8,
    pub reasons: Vec<String>,
    /// Symptoms that led here (empty when only asked for).
    pub because_of: Vec<Symptom>,
    pub asked_for: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Caution {
    pub care_type: CareType,
    pub kind: CautionKind,
    pub reason: String,
}

/// What triage concludes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CarePlan {
    pub urgent: Option<UrgentGuidance>,
    /// Best priority first; ties in care-type order.
    pub recommendations: Vec<CareRecommendation>,
    pub cautions: Vec<Caution>,
    /// Said when there is nothing to recommend, so an empty plan is never silent.
    pub notice: Option<String>,
    /// Care types to search providers for: the recommendations, or what she asked for when she
    /// asked (including a care type a safety caution took out of the recommendations: she still
    /// gets matches, each carrying the caution as a note).
    pub search_care_types: Vec<(CareType, u8)>,
}

impl CarePlan {
    /// Cautions about `care_type`, to attach as notes to its matches.
    pub fn cautions_for(&self, care_type: CareType) -> impl Iterator<Item = &Caution> {
        self.cautions
            .iter()
            .filter(move |caution| caution.care_type == care_type)
    }

    pub fn recommendation(&self, care_type: CareType) -> Option<&CareRecommendation> {
        self.recommendations
            .iter()
            .find(|recommendation| recommendation.care_type == care_type)
    }
}

/// Turns what she told us into a care plan. Pure and total: every input gives a plan.
pub fn triage(input: &TriageInput) -> CarePlan {
    let mut suggested: Vec<CareRecommendation> = Vec::new();
    for symptom in &input.symptoms {
        for rule in SYMPTOM_RULES.iter().filter(|rule| rule.symptom == *symptom) {
            for &(care_type, priority) in rule.care {
                let recommendation = match suggested.iter_mut().find(|r| r.care_type == care_type) {
                    Some(existing) => existing,
                    None => {
                        suggested.push(CareRecommendation {
                            care_type,
                            priority,
                            reasons: Vec::new(),
                            because_of: Vec::new(),
                            asked_for: false,
                        });
                        suggested.last_mut().expect("just pushed")
                    }
                };
                recommendation.priority = recommendation.priority.min(priority);
                if !recommendation
                    .reasons
                    .iter()
                    .any(|reason| reason == rule.reason)
                {
                    recommendation.reasons.push(rule.reason.to_owned());
                }
                if !recommendation.because_of.contains(symptom) {
                    recommendation.because_of.push(*symptom);
                }
            }
        }
    }
    // Care types she asked for stay, even with no symptom behind them, at top priority.
    for &care_type in &input.care_types {
        match suggested.iter_mut().find(|r| r.care_type == care_type) {
            Some(existing) => {
                existing.asked_for = true;
                existing.priority = 1;
            }
            None => suggested.push(CareRecommendation {
                care_type,
                priority: 1,
                reasons: vec![format!("You asked for {}.", care_type.label())],
                because_of: Vec::new(),
                asked_for: true,
            }),
        }
    }

    let mut cautions: Vec<Caution> = Vec::new();
    for rule in CAUTION_RULES {
        let relevant = suggested.iter().any(|r| r.care_type == rule.care_type);
        if (relevant || !rule.only_when_relevant) && (rule.applies)(input) {
            cautions.push(Caution {
                care_type: rule.care_type,
                kind: rule.kind,
                reason: rule.reason.to_owned(),
            });
        }
    }

    let unsafe_now = |care_type: CareType| {
        cautions
            .iter()
            .any(|c| c.care_type == care_type && c.kind == CautionKind::Safety)
    };
    let mut search_care_types: Vec<(CareType, u8)> = if input.care_types.is_empty() {
        suggested
            .iter()
            .filter(|r| !unsafe_now(r.care_type))
            .map(|r| (r.care_type, r.priority))
            .collect()
    } else {
        suggested
            .iter()
            .filter(|r| r.asked_for)
            .map(|r| (r.care_type, r.priority))
            .collect()
    };
    search_care_types.sort_by_key(|&(care_type, priority)| (priority, care_type));

    let mut recommendations: Vec<CareRecommendation> = suggested
        .into_iter()
        .filter(|r| !unsafe_now(r.care_type))
        .collect();
    recommendations.sort_by_key(|r| (r.priority, r.care_type));

    let notice = (input.symptoms.is_empty() && input.care_types.is_empty())
        .then(|| NOTHING_TO_RECOMMEND.to_owned());

    CarePlan {
        urgent: urgent_guidance(&input.warning_signs),
        recommendations,
        cautions,
        notice,
        search_care_types,
    }
}

fn urgent_guidance(warning_signs: &[WarningSign]) -> Option<UrgentGuidance> {
    let mut signs: Vec<WarningSign> = warning_signs.to_vec();
    signs.sort();
    signs.dedup();
    let level_of = |sign: WarningSign| {
        WARNING_SIGN_RULES
            .iter()
            .find(|(rule_sign, _)| *rule_sign == sign)
            .map_or(UrgencyLevel::Emergency, |(_, level)| *level)
    };
    let level = signs.iter().map(|sign| level_of(*sign)).max()?;
    let describe = |wanted: UrgencyLevel| {
        signs
            .iter()
            .filter(|sign| level_of(**sign) == wanted)
            .map(|sign| sign.label())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts: Vec<String> = Vec::new();
    let emergencies = describe(UrgencyLevel::Emergency);
    if !emergencies.is_empty() {
        parts.push(format!(
            "Call 911 (emergency services) now: you told us about {emergencies}."
        ));
    }
    let call_provider = describe(UrgencyLevel::CallProvider);
    if !call_provider.is_empty() {
        parts.push(format!("Call your healthcare provider now: you told us about {call_provider}. If you cannot reach them, call 911."));
    }
    if signs.contains(&WarningSign::ThoughtsOfHarm) {
        parts.push(MENTAL_HEALTH_CRISIS_LINES.to_owned());
    }
    Some(UrgentGuidance {
        level,
        message: parts.join(" "),
        warning_signs: signs,
    })
}

#[cfg(test)]
mod tests;
