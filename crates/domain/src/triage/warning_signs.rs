//! Care-guide.md section 3: how urgent each warning sign is, the care a sign adds, and the
//! words of the urgent guidance.

use crate::{CareType, WarningSign};

use CareType::{ObstetricCare, PerinatalMentalHealth};

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

pub(super) fn urgency_of(sign: WarningSign) -> UrgencyLevel {
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
