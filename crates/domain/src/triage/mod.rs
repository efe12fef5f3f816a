//! Triage: from what a mother tells us to a [`CarePlan`] — urgent guidance first, recommended care
//! types with priority and reasons, and cautions. Every rule is a row of a table below, taken
//! from `shared/domain/care-guide.md` sections 1-3 (which restate the seed article).

mod cautions;
mod symptoms;
mod warning_signs;

pub use cautions::{CAUTION_RULES, CautionKind, CautionRule};
pub use symptoms::{SYMPTOM_RULES, SymptomRule};
use warning_signs::urgency_of;
pub use warning_signs::{
    AFTER_THE_CRISIS_LINE, IF_YOU_CANNOT_REACH_YOUR_PROVIDER, MENTAL_HEALTH_CRISIS_LINES,
    SEEN_ABOUT_THE_WARNING_SIGN, UrgencyLevel, WARNING_SIGN_RULES, WarningSignCare,
};

use crate::crisis::CrisisWords;
use crate::{BirthType, CareType, Symptom, WarningSign, WeeksPostpartum};

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
