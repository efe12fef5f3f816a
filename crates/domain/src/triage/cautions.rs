//! Care-guide.md section 2: the safety cautions, when each applies and to which care.

use super::TriageInput;
use crate::{BirthType, CareType, Symptom, WarningSign};

use CareType::{PelvicFloorPhysicalTherapy, PostnatalMassage};

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
