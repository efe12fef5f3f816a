//! Triage: from what a mother tells us to a [`CarePlan`] — urgent guidance first, recommended care
//! types with priority and reasons, and cautions. Every rule is a row of a table below, taken
//! from `shared/domain/care-guide.md` sections 1-3 (which restate the seed article).

use crate::crisis::CrisisWords;
use crate::{BirthType, CareType, Symptom, WarningSign, WeeksPostpartum};

use CareType::{
    Doula, LactationConsulting, ObstetricCare, PelvicFloorPhysicalTherapy, PerinatalMentalHealth,
    PostnatalMassage, SupportGroup,
};

/// One row of care-guide.md section 1: a symptom, the care types it calls for with their
/// priority (1 treats the problem, 2 supports it, 3 is a useful addition) and, per care type,
/// why. Each reason speaks of its own care type only (2nd edition), so a reason never promotes
/// care that a caution holds back.
pub struct SymptomRule {
    pub symptom: Symptom,
    pub care: &'static [(CareType, u8, &'static str)],
}

const fn rule(symptom: Symptom, care: &'static [(CareType, u8, &'static str)]) -> SymptomRule {
    SymptomRule { symptom, care }
}

/// Care-guide.md section 1, row by row.
pub const SYMPTOM_RULES: &[SymptomRule] = &[
    rule(
        Symptom::UrineLeakage,
        &[(
            PelvicFloorPhysicalTherapy,
            1,
            "Leaking urine when you sneeze or cough is pelvic-floor dysfunction, not just part of motherhood; pelvic-floor physical therapy treats it.",
        )],
    ),
    rule(
        Symptom::PelvicPain,
        &[(
            PelvicFloorPhysicalTherapy,
            1,
            "Pelvic pain after birth is a sign of pelvic-floor dysfunction that pelvic-floor physical therapy treats.",
        )],
    ),
    rule(
        Symptom::PelvicHeaviness,
        &[(
            PelvicFloorPhysicalTherapy,
            1,
            "A feeling of pelvic heaviness is a sign of pelvic-floor dysfunction that pelvic-floor physical therapy treats.",
        )],
    ),
    rule(
        Symptom::DiastasisRecti,
        &[(
            PelvicFloorPhysicalTherapy,
            1,
            "Physical therapy heals abdominal separation (diastasis recti).",
        )],
    ),
    rule(
        Symptom::CoreWeakness,
        &[(
            PelvicFloorPhysicalTherapy,
            1,
            "Physical therapy rebuilds core strength after pregnancy and delivery.",
        )],
    ),
    rule(
        Symptom::ScarPain,
        &[(
            PelvicFloorPhysicalTherapy,
            1,
            "Physical therapy helps scar tissue recover after a cesarean or a perineal tear.",
        )],
    ),
    rule(
        Symptom::BackPain,
        &[
            (
                PelvicFloorPhysicalTherapy,
                1,
                "Physical therapy treats back pain from pregnancy and delivery.",
            ),
            (
                PostnatalMassage,
                2,
                "Massage relieves back pain from feeding and carrying your baby.",
            ),
        ],
    ),
    rule(
        Symptom::HipPain,
        &[
            (
                PelvicFloorPhysicalTherapy,
                1,
                "Physical therapy treats hip pain from pregnancy and delivery.",
            ),
            (
                PostnatalMassage,
                2,
                "Massage eases the tension around hip pain.",
            ),
        ],
    ),
    rule(
        Symptom::TroubleWithDailyActivities,
        &[(
            PelvicFloorPhysicalTherapy,
            1,
            "Physical therapy guides a safe return to daily movement.",
        )],
    ),
    rule(
        Symptom::ReturnToExercise,
        &[(
            PelvicFloorPhysicalTherapy,
            1,
            "Physical therapy guides a safe return to exercise.",
        )],
    ),
    rule(
        Symptom::NeckShoulderTension,
        &[(
            PostnatalMassage,
            1,
            "Massage relieves neck and shoulder soreness from breastfeeding or holding your baby.",
        )],
    ),
    rule(
        Symptom::Swelling,
        &[(
            PostnatalMassage,
            1,
            "Massage reduces swelling and fluid retention after birth.",
        )],
    ),
    rule(
        Symptom::PoorSleep,
        &[(
            PostnatalMassage,
            2,
            "Massage may help you sleep more deeply.",
        )],
    ),
    rule(
        Symptom::Stress,
        &[
            (
                PostnatalMassage,
                1,
                "When you feel overwhelmed, tense or emotionally drained, massage lowers stress.",
            ),
            (
                SupportGroup,
                2,
                "When you feel overwhelmed, other mothers can support you.",
            ),
        ],
    ),
    rule(
        Symptom::Anxiety,
        &[
            (
                PerinatalMentalHealth,
                1,
                "A perinatal mental-health provider treats anxiety.",
            ),
            (
                PostnatalMassage,
                2,
                "Massage eases anxiety, alongside therapy, not instead of it.",
            ),
            (
                SupportGroup,
                2,
                "Other mothers who have felt anxious can support you.",
            ),
        ],
    ),
    rule(
        Symptom::LowMood,
        &[
            (
                PerinatalMentalHealth,
                1,
                "Low mood after birth can be postpartum depression: talk with a perinatal mental-health provider first.",
            ),
            (
                SupportGroup,
                2,
                "Other mothers can support you alongside care for low mood.",
            ),
            (
                PostnatalMassage,
                3,
                "Massage may ease low mood, alongside therapy, not instead of it.",
            ),
        ],
    ),
    rule(
        Symptom::BreastfeedingDifficulty,
        &[(
            LactationConsulting,
            1,
            "A lactation consultant helps with feeding difficulties.",
        )],
    ),
    rule(
        Symptom::Isolation,
        &[(
            SupportGroup,
            1,
            "Hearing other mothers' recovery stories can help you feel less alone.",
        )],
    ),
    rule(
        Symptom::Fatigue,
        &[
            (
                ObstetricCare,
                1,
                "Lasting tiredness after birth is not just normal: it can have medical causes, such as anaemia or a thyroid problem, that your OB/GYN or midwife can check.",
            ),
            (
                Doula,
                2,
                "A postpartum doula can help you rest and care for your newborn.",
            ),
        ],
    ),
];

/// Care a warning sign adds (care-guide.md section 1, 2nd edition), always searched.
pub struct WarningSignCare {
    pub care_type: CareType,
    pub reason: &'static str,
}

/// THOUGHTS_OF_HARM: follow-up after the crisis line.
pub const AFTER_THE_CRISIS_LINE: WarningSignCare = WarningSignCare {
    care_type: PerinatalMentalHealth,
    reason: "After you have reached the crisis line, a perinatal mental-health provider can follow up with you.",
};

/// A "call your healthcare provider" sign: her OB/GYN or midwife.
pub const SEEN_ABOUT_THE_WARNING_SIGN: WarningSignCare = WarningSignCare {
    care_type: ObstetricCare,
    reason: "Your OB/GYN or midwife should see you about the warning sign you told us about.",
};

/// Why a caution applies: it makes the care type unsafe for now, or only limits what it can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum CautionKind {
    /// Not safe yet: the care type leaves `recommendations`; she still gets matches when she
    /// asks for it, each carrying the caution (the cesarean-clearance and two-week rows).
    Safety,
    /// Held back by a warning sign (2nd edition): out of `recommendations`, never searched,
    /// even when asked for, until her provider has seen her.
    WarningSign,
    /// Safe but limited: the care type may stay recommended with the caution attached.
    Usefulness,
}

impl CautionKind {
    /// Whether the care type leaves `recommendations`.
    pub const fn blocks(self) -> bool {
        matches!(self, CautionKind::Safety | CautionKind::WarningSign)
    }
}

/// What triage reads from a request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TriageInput {
    pub symptoms: Vec<Symptom>,
    pub warning_signs: Vec<WarningSign>,
    /// Care types asked for explicitly, in the order she gave them; empty when none were.
    pub care_types: Vec<CareType>,
    pub birth_type: Option<BirthType>,
    pub weeks_postpartum: Option<WeeksPostpartum>,
    pub cleared_for_massage: bool,
    /// What her free text says of harm or psychosis (care-guide.md section 3, 2nd edition).
    pub crisis_words: CrisisWords,
}

impl TriageInput {
    /// Her warning signs, with THOUGHTS_OF_HARM when her words speak of harm or psychosis;
    /// sorted, without repeats.
    pub fn effective_warning_signs(&self) -> Vec<WarningSign> {
        let mut signs = self.warning_signs.clone();
        if self.crisis_words.any() {
            signs.push(WarningSign::ThoughtsOfHarm);
        }
        signs.sort();
        signs.dedup();
        signs
    }

    fn has_warning_sign(&self) -> bool {
        !self.warning_signs.is_empty() || self.crisis_words.any()
    }

    fn weeks_under(&self, weeks: u16) -> bool {
        self.weeks_postpartum
            .is_some_and(|given| given.weeks() < weeks)
    }
}

/// One row of care-guide.md section 2: a condition on the input, the care type it limits, and
/// what to tell her.
pub struct CautionRule {
    pub care_type: CareType,
    pub kind: CautionKind,
    /// What to say when the row applies, or `None` when it does not.
    pub applies: fn(&TriageInput) -> Option<&'static str>,
    /// Whether the caution is shown only when the care type was suggested or asked for.
    pub only_when_relevant: bool,
}

const BLOOD_CLOT_SIGNS: &[WarningSign] = &[
    WarningSign::LegPainOrSwelling,
    WarningSign::TroubleBreathing,
    WarningSign::ChestPain,
];

/// Care-guide.md section 2, row by row. `clearedForMassage` lifts the cesarean and two-week
/// rows, never a warning sign's.
pub const CAUTION_RULES: &[CautionRule] = &[
    CautionRule {
        care_type: PostnatalMassage,
        kind: CautionKind::WarningSign,
        applies: |input| {
            // Her words only ever add THOUGHTS_OF_HARM, so the signs she chose say which.
            if input
                .warning_signs
                .contains(&WarningSign::LegPainOrSwelling)
            {
                Some(
                    "A red, swollen, warm leg can be a blood clot, and massage must wait until one is ruled out.",
                )
            } else if input.has_warning_sign() {
                Some("Massage waits until your provider has seen you about the warning sign.")
            } else {
                None
            }
        },
        only_when_relevant: true,
    },
    CautionRule {
        care_type: PostnatalMassage,
        kind: CautionKind::Safety,
        applies: |input| {
            (input.birth_type == Some(BirthType::Cesarean) && !input.cleared_for_massage).then_some(
                "After a cesarean, get clearance from your provider before lying flat or having massage near the scar.",
            )
        },
        only_when_relevant: true,
    },
    CautionRule {
        care_type: PostnatalMassage,
        kind: CautionKind::Safety,
        applies: |input| {
            (input.birth_type == Some(BirthType::Vaginal)
                && input.weeks_under(2)
                && !input.cleared_for_massage)
                .then_some(
                    "After a vaginal birth, gentle massage is usually fine after about two weeks.",
                )
        },
        only_when_relevant: true,
    },
    CautionRule {
        care_type: PostnatalMassage,
        kind: CautionKind::Safety,
        applies: |input| {
            (input.birth_type.is_none() && input.weeks_under(2) && !input.cleared_for_massage)
                .then_some("Gentle massage usually waits about two weeks after birth, and after a C-section until your provider clears you.")
        },
        only_when_relevant: true,
    },
    CautionRule {
        care_type: PostnatalMassage,
        kind: CautionKind::Usefulness,
        applies: |input| {
            let unknown_birth = input.birth_type.is_none() && !input.cleared_for_massage;
            match input.weeks_postpartum {
                Some(weeks) if unknown_birth && weeks.weeks() >= 2 => {
                    Some("If you had a C-section, get your provider's clearance first.")
                }
                None if unknown_birth => Some(
                    "Gentle massage usually waits about two weeks after birth, and after a C-section until your provider clears you.",
                ),
                _ => None,
            }
        },
        only_when_relevant: true,
    },
    CautionRule {
        care_type: PostnatalMassage,
        kind: CautionKind::Usefulness,
        applies: |input| {
            input.symptoms.contains(&Symptom::DiastasisRecti).then_some(
                "Massage can ease tension but will not heal abdominal separation (diastasis recti); physical therapy does.",
            )
        },
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
                .then_some("Massage supports recovery from anxiety and low mood but does not replace therapy.")
        },
        only_when_relevant: true,
    },
    CautionRule {
        care_type: PostnatalMassage,
        kind: CautionKind::Usefulness,
        applies: |input| {
            input.symptoms.contains(&Symptom::Swelling).then_some(
                "If the swelling is in one leg, came on suddenly in your face or hands, or comes with a headache or breathlessness, call your provider before booking: it can be a blood clot or postpartum preeclampsia.",
            )
        },
        only_when_relevant: true,
    },
    CautionRule {
        care_type: PelvicFloorPhysicalTherapy,
        kind: CautionKind::Usefulness,
        applies: |input| {
            if input
                .warning_signs
                .iter()
                .any(|sign| BLOOD_CLOT_SIGNS.contains(sign))
            {
                Some("Exercise waits until a blood clot has been ruled out.")
            } else if input.has_warning_sign() {
                Some("Exercise waits until your provider has seen you about the warning sign.")
            } else {
                None
            }
        },
        only_when_relevant: true,
    },
    CautionRule {
        care_type: PelvicFloorPhysicalTherapy,
        kind: CautionKind::Usefulness,
        applies: |input| {
            (input.symptoms.contains(&Symptom::ReturnToExercise)
                && input.birth_type != Some(BirthType::Vaginal))
                .then_some("After a C-section, return to exercise usually takes longer: your PT and OB/GYN set the pace.")
        },
        only_when_relevant: true,
    },
    CautionRule {
        care_type: PelvicFloorPhysicalTherapy,
        kind: CautionKind::Usefulness,
        applies: |input| {
            if input
                .warning_signs
                .contains(&WarningSign::IncisionNotHealing)
            {
                Some("Scar work waits until your provider has checked the incision.")
            } else if input.symptoms.contains(&Symptom::ScarPain)
                && input.birth_type == Some(BirthType::Cesarean)
                && input.weeks_under(6)
            {
                Some("Scar work waits until the incision has healed, usually 6 to 8 weeks.")
            } else {
                None
            }
        },
        only_when_relevant: true,
    },
];

/// How urgently a warning sign needs care, least urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum UrgencyLevel {
    /// Call your healthcare provider now (AWHONN POST-BIRTH).
    CallProvider,
    /// Get medical care right away (CDC Hear Her).
    MedicalCareNow,
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
    (
        WarningSign::DizzinessOrFainting,
        UrgencyLevel::MedicalCareNow,
    ),
    (WarningSign::SevereBellyPain, UrgencyLevel::MedicalCareNow),
    (WarningSign::RacingHeart, UrgencyLevel::MedicalCareNow),
    (
        WarningSign::FaceOrHandSwelling,
        UrgencyLevel::MedicalCareNow,
    ),
    (WarningSign::VisionChanges, UrgencyLevel::MedicalCareNow),
    (
        WarningSign::OverwhelmingTiredness,
        UrgencyLevel::MedicalCareNow,
    ),
];

fn urgency_of(sign: WarningSign) -> UrgencyLevel {
    WARNING_SIGN_RULES
        .iter()
        .find(|(rule_sign, _)| *rule_sign == sign)
        .map_or(UrgencyLevel::Emergency, |(_, level)| *level)
}

/// The crisis lines given with THOUGHTS_OF_HARM: 988 is the crisis line; the maternal
/// mental-health hotline is support, not a crisis line.
pub const MENTAL_HEALTH_CRISIS_LINES: &str = "Call or text 988, the 988 Suicide & Crisis Lifeline (call 911 if you are in danger now). For support, you can also call or text the National Maternal Mental Health Hotline at 1-833-TLC-MAMA (1-833-852-6262); it is not a crisis line.";

/// Added to every "call your provider" and "get medical care" message (AWHONN).
pub const IF_YOU_CANNOT_REACH_YOUR_PROVIDER: &str = "If you can't reach your provider, call 911 or go to the emergency room, and say that you gave birth and when.";

pub const NOTHING_TO_RECOMMEND: &str = "No symptoms or care types were given, so there is nothing to recommend yet. Tell us what you are experiencing, or which kind of care you are looking for.";

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UrgentGuidance {
    pub level: UrgencyLevel,
    pub message: String,
    /// The warning signs she gave (and THOUGHTS_OF_HARM when her words spoke of it), in the
    /// order of the contract's enum.
    pub warning_signs: Vec<WarningSign>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CareRecommendation {
    pub care_type: CareType,
    /// 1 treats the problem, 2 supports it, 3 is a useful addition.
    pub priority: u8,
    pub reasons: Vec<String>,
    /// Symptoms that led here (empty when only asked for or added by a warning sign).
    pub because_of: Vec<Symptom>,
    pub asked_for: bool,
    /// Added by a warning sign (care-guide.md section 1, 2nd edition): always searched.
    pub for_warning_sign: bool,
}

impl CareRecommendation {
    /// Called for by her symptoms or a warning sign, as opposed to only asked for.
    pub fn called_for(&self) -> bool {
        !self.because_of.is_empty() || self.for_warning_sign
    }
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
    /// Best priority first; among equals, care her symptoms or warning signs call for (in
    /// care-type order), then care she asked for in the order she gave it.
    pub recommendations: Vec<CareRecommendation>,
    pub cautions: Vec<Caution>,
    /// Said when there is nothing to recommend, so an empty plan is never silent.
    pub notice: Option<String>,
    /// Care types to search providers for, in the order of `recommendations`: the
    /// recommendations, or what she asked for when she asked (including a care type a safety
    /// caution took out of the recommendations: she still gets matches, each carrying the
    /// caution as a note), plus what a warning sign added. Never a care type a warning sign
    /// holds back.
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

    /// Whether a caution holds this care type back (no matches, no care-team member).
    pub fn held_back(&self, care_type: CareType) -> bool {
        self.cautions_for(care_type)
            .any(|caution| caution.kind == CautionKind::WarningSign)
    }
}

/// Turns what she told us into a care plan. Pure and total: every input gives a plan.
pub fn triage(input: &TriageInput) -> CarePlan {
    let mut suggested: Vec<CareRecommendation> = Vec::new();
    for symptom in &input.symptoms {
        for rule in SYMPTOM_RULES.iter().filter(|rule| rule.symptom == *symptom) {
            for &(care_type, priority, reason) in rule.care {
                let recommendation = add(&mut suggested, care_type, priority, reason);
                if !recommendation.because_of.contains(symptom) {
                    recommendation.because_of.push(*symptom);
                }
            }
        }
    }
    let signs = input.effective_warning_signs();
    let mut sign_care: Vec<&WarningSignCare> = Vec::new();
    if signs.contains(&WarningSign::ThoughtsOfHarm) {
        sign_care.push(&AFTER_THE_CRISIS_LINE);
    }
    if signs
        .iter()
        .any(|sign| urgency_of(*sign) != UrgencyLevel::Emergency)
    {
        sign_care.push(&SEEN_ABOUT_THE_WARNING_SIGN);
    }
    for care in sign_care {
        add(&mut suggested, care.care_type, 1, care.reason).for_warning_sign = true;
    }
    // Asking for care never lifts it above what her symptoms call for: it keeps their
    // priority, or comes after them (3), or leads when she gave no symptoms at all (1).
    let asked_priority = if input.symptoms.is_empty() { 1 } else { 3 };
    for &care_type in &input.care_types {
        let reason = format!("You asked for {}.", care_type.label());
        let known = suggested.iter().any(|r| r.care_type == care_type);
        let recommendation = add(
            &mut suggested,
            care_type,
            asked_priority,
            if known { "" } else { &reason },
        );
        recommendation.asked_for = true;
    }

    let mut cautions: Vec<Caution> = Vec::new();
    for rule in CAUTION_RULES {
        let relevant = suggested.iter().any(|r| r.care_type == rule.care_type);
        if rule.only_when_relevant && !relevant {
            continue;
        }
        if let Some(reason) = (rule.applies)(input) {
            cautions.push(Caution {
                care_type: rule.care_type,
                kind: rule.kind,
                reason: reason.to_owned(),
            });
        }
    }

    let caution_kinds = |care_type: CareType| {
        cautions
            .iter()
            .filter(move |caution| caution.care_type == care_type)
            .map(|caution| caution.kind)
    };
    let blocked = |care_type: CareType| caution_kinds(care_type).any(CautionKind::blocks);
    let held_back =
        |care_type: CareType| caution_kinds(care_type).any(|kind| kind == CautionKind::WarningSign);

    // Order: priority; then care her symptoms or warning signs call for, by care type; then
    // care she only asked for, in her order.
    let asked_position = |care_type: CareType| {
        input
            .care_types
            .iter()
            .position(|asked| *asked == care_type)
            .unwrap_or(usize::MAX)
    };
    suggested.sort_by_key(|r| {
        let called_for = r.called_for();
        (
            r.priority,
            !called_for,
            if called_for {
                0
            } else {
                asked_position(r.care_type)
            },
            r.care_type,
        )
    });

    let search_care_types: Vec<(CareType, u8)> = suggested
        .iter()
        .filter(|r| {
            if held_back(r.care_type) {
                return false;
            }
            if input.care_types.is_empty() {
                !blocked(r.care_type)
            } else {
                r.asked_for || r.for_warning_sign
            }
        })
        .map(|r| (r.care_type, r.priority))
        .collect();

    let recommendations: Vec<CareRecommendation> = suggested
        .into_iter()
        .filter(|r| !blocked(r.care_type))
        .collect();

    let notice =
        (input.symptoms.is_empty() && input.care_types.is_empty() && !input.has_warning_sign())
            .then(|| NOTHING_TO_RECOMMEND.to_owned());

    CarePlan {
        urgent: urgent_guidance(&signs, input.crisis_words, &input.warning_signs),
        recommendations,
        cautions,
        notice,
        search_care_types,
    }
}

/// The recommendation of `care_type` in `suggested`, made at `priority` when new; its priority
/// becomes the best of both and `reason` (when not empty) is added once.
fn add<'plan>(
    suggested: &'plan mut Vec<CareRecommendation>,
    care_type: CareType,
    priority: u8,
    reason: &str,
) -> &'plan mut CareRecommendation {
    let position = match suggested.iter().position(|r| r.care_type == care_type) {
        Some(position) => position,
        None => {
            suggested.push(CareRecommendation {
                care_type,
                priority,
                reasons: Vec::new(),
                because_of: Vec::new(),
                asked_for: false,
                for_warning_sign: false,
            });
            suggested.len() - 1
        }
    };
    let recommendation = &mut suggested[position];
    recommendation.priority = recommendation.priority.min(priority);
    if !reason.is_empty() && !recommendation.reasons.iter().any(|known| known == reason) {
        recommendation.reasons.push(reason.to_owned());
    }
    recommendation
}

fn urgent_guidance(
    signs: &[WarningSign],
    crisis_words: CrisisWords,
    given: &[WarningSign],
) -> Option<UrgentGuidance> {
    let level = signs.iter().map(|sign| urgency_of(*sign)).max()?;
    let describe = |wanted: UrgencyLevel| {
        signs
            .iter()
            .filter(|sign| urgency_of(**sign) == wanted)
            // A sign read from her words is said as such below, not as one she chose.
            .filter(|sign| given.contains(sign))
            .map(|sign| sign.label())
            .collect::<Vec<_>>()
    };
    let mut parts: Vec<String> = Vec::new();
    let emergencies = describe(UrgencyLevel::Emergency);
    if !emergencies.is_empty() {
        parts.push(format!(
            "Call 911 (emergency services) now: you told us about {}.",
            crate::words_join(&emergencies)
        ));
    }
    if crisis_words.harm && !given.contains(&WarningSign::ThoughtsOfHarm) {
        parts.push("Call 911 (emergency services) now if you might act on it: what you wrote sounds like thoughts of hurting yourself or your baby.".to_owned());
    }
    if crisis_words.psychosis {
        parts.push("Call 911 (emergency services) now: what you wrote (hearing voices, seeing things, or days without sleep) can be a sign of postpartum psychosis, a medical emergency.".to_owned());
    }
    let care_now = describe(UrgencyLevel::MedicalCareNow);
    if !care_now.is_empty() {
        parts.push(format!(
            "Get medical care right away: you told us about {}.",
            crate::words_join(&care_now)
        ));
    }
    let call_provider = describe(UrgencyLevel::CallProvider);
    if !call_provider.is_empty() {
        parts.push(format!(
            "Call your healthcare provider now: you told us about {}.",
            crate::words_join(&call_provider)
        ));
    }
    if !care_now.is_empty() || !call_provider.is_empty() {
        parts.push(IF_YOU_CANNOT_REACH_YOUR_PROVIDER.to_owned());
    }
    if signs.contains(&WarningSign::ThoughtsOfHarm) {
        parts.push(MENTAL_HEALTH_CRISIS_LINES.to_owned());
    }
    Some(UrgentGuidance {
        level,
        message: parts.join(" "),
        warning_signs: signs.to_vec(),
    })
}

#[cfg(test)]
mod tests;
