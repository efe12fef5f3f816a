//! Care-guide.md section 1: the care each symptom calls for, with its priority and reasons.

use crate::{CareType, Symptom};

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
