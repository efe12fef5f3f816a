//! The closed vocabularies of the contract (care types, symptoms, warning signs, ...), each with
//! its wire code (`PELVIC_FLOOR_PHYSICAL_THERAPY`) and the words a mother reads.

use std::fmt;
use std::str::FromStr;

/// A code that names no value of its vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {vocabulary} `{code}`")]
pub struct UnknownCode {
    pub vocabulary: &'static str,
    pub code: String,
}

/// Declares a vocabulary: the enum, its wire codes, plain-language labels, `ALL` in declaration
/// order, `FromStr`/`Display` on the code, and serde as the code.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $code:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $code)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire code, as in the GraphQL schema and the database.
            pub const fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// Plain words for reasons and notes.
            pub const fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(code: &str) -> Result<Self, Self::Err> {
                match code {
                    $($code => Ok($name::$variant),)+
                    _ => Err(UnknownCode { vocabulary: $what, code: code.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

vocabulary!(
    /// What kind of care a provider gives.
    CareType, "care type" {
        PelvicFloorPhysicalTherapy => "PELVIC_FLOOR_PHYSICAL_THERAPY", "pelvic-floor physical therapy";
        PostnatalMassage => "POSTNATAL_MASSAGE", "postnatal massage";
        LactationConsulting => "LACTATION_CONSULTING", "lactation consulting";
        Doula => "DOULA", "postpartum doula support";
        PerinatalMentalHealth => "PERINATAL_MENTAL_HEALTH", "perinatal mental health care";
        SupportGroup => "SUPPORT_GROUP", "a support group";
        ObstetricCare => "OBSTETRIC_CARE", "obstetric care";
    }
);

impl CareType {
    /// Clinical care given over telehealth needs a licence in the mother's state
    /// (care-guide.md section 6); support groups are open to everyone.
    pub const fn needs_state_licence(self) -> bool {
        !matches!(self, CareType::SupportGroup)
    }

    /// Clinical care (care-guide.md section 5): what an insurance contract that names no care
    /// type covers, and what a referral rule can apply to (obstetric care aside).
    pub const fn is_clinical(self) -> bool {
        matches!(
            self,
            CareType::PelvicFloorPhysicalTherapy
                | CareType::PerinatalMentalHealth
                | CareType::LactationConsulting
                | CareType::ObstetricCare
        )
    }

    /// Whether this care can be given in `mode` (care-guide.md section 6, 2nd edition):
    /// massage is hands-on (in person or at home, never by telehealth); a support group
    /// reaches her remotely only as an online group (telehealth is a clinical mode). Other
    /// care may be given in every mode (remotely only where licensed in her state).
    pub const fn can_be_given_in(self, mode: CareMode) -> bool {
        match (self, mode) {
            (_, CareMode::InPerson | CareMode::HomeVisit) => true,
            (CareType::PostnatalMassage, _) => false,
            (CareType::SupportGroup, CareMode::Telehealth) => false,
            _ => true,
        }
    }
}

vocabulary!(
    /// What the mother is experiencing.
    Symptom, "symptom" {
        UrineLeakage => "URINE_LEAKAGE", "leaking urine";
        PelvicPain => "PELVIC_PAIN", "pelvic pain";
        PelvicHeaviness => "PELVIC_HEAVINESS", "pelvic heaviness";
        DiastasisRecti => "DIASTASIS_RECTI", "abdominal separation (diastasis recti)";
        CoreWeakness => "CORE_WEAKNESS", "core weakness";
        ScarPain => "SCAR_PAIN", "scar pain";
        BackPain => "BACK_PAIN", "back pain";
        HipPain => "HIP_PAIN", "hip pain";
        NeckShoulderTension => "NECK_SHOULDER_TENSION", "neck and shoulder tension";
        Swelling => "SWELLING", "swelling";
        PoorSleep => "POOR_SLEEP", "poor sleep";
        Stress => "STRESS", "stress";
        Anxiety => "ANXIETY", "anxiety";
        LowMood => "LOW_MOOD", "low mood";
        BreastfeedingDifficulty => "BREASTFEEDING_DIFFICULTY", "breastfeeding difficulty";
        TroubleWithDailyActivities => "TROUBLE_WITH_DAILY_ACTIVITIES", "trouble with daily activities";
        ReturnToExercise => "RETURN_TO_EXERCISE", "returning to exercise";
        Isolation => "ISOLATION", "feeling isolated";
        Fatigue => "FATIGUE", "fatigue";
    }
);

vocabulary!(
    /// Urgent postpartum warning signs (AWHONN POST-BIRTH).
    WarningSign, "warning sign" {
        HeavyBleeding => "HEAVY_BLEEDING", "heavy bleeding (soaking a pad in an hour, or large clots)";
        Fever => "FEVER", "a fever of 100.4 °F (38 °C) or higher";
        ChestPain => "CHEST_PAIN", "chest pain";
        TroubleBreathing => "TROUBLE_BREATHING", "trouble breathing";
        Seizure => "SEIZURE", "a seizure";
        ThoughtsOfHarm => "THOUGHTS_OF_HARM", "thoughts of hurting yourself or your baby";
        SevereHeadache => "SEVERE_HEADACHE", "a headache that does not get better, or comes with vision changes";
        LegPainOrSwelling => "LEG_PAIN_OR_SWELLING", "a red, swollen or warm leg";
        IncisionNotHealing => "INCISION_NOT_HEALING", "an incision that is not healing";
        DizzinessOrFainting => "DIZZINESS_OR_FAINTING", "dizziness or fainting";
        SevereBellyPain => "SEVERE_BELLY_PAIN", "severe belly pain";
        RacingHeart => "RACING_HEART", "a racing or pounding heart";
        FaceOrHandSwelling => "FACE_OR_HAND_SWELLING", "sudden swelling of your face or hands";
        VisionChanges => "VISION_CHANGES", "changes in your vision";
        OverwhelmingTiredness => "OVERWHELMING_TIREDNESS", "overwhelming tiredness";
    }
);

vocabulary!(
    BirthType, "birth type" {
        Vaginal => "VAGINAL", "vaginal birth";
        Cesarean => "CESAREAN", "cesarean birth";
    }
);

vocabulary!(
    /// How care is given.
    CareMode, "care mode" {
        InPerson => "IN_PERSON", "in person";
        Telehealth => "TELEHEALTH", "telehealth";
        HomeVisit => "HOME_VISIT", "home visits";
        VirtualGroup => "VIRTUAL_GROUP", "online group";
    }
);

impl CareMode {
    /// Modes that happen somewhere on a map, so distance and radius apply.
    pub const fn is_physical(self) -> bool {
        matches!(self, CareMode::InPerson | CareMode::HomeVisit)
    }
}

vocabulary!(
    /// Whether a certification is specific to pregnancy and postpartum care.
    CertificationScope, "certification scope" {
        Perinatal => "PERINATAL", "perinatal";
        General => "GENERAL", "general";
    }
);

vocabulary!(
    /// How the mother would pay a provider, best first (care-guide.md section 5).
    PaymentFit, "payment fit" {
        InNetwork => "IN_NETWORK", "in network with your insurance";
        OutOfNetworkSuperbill => "OUT_OF_NETWORK_SUPERBILL", "out of network, with a superbill you can submit for reimbursement";
        FsaHsaEligible => "FSA_HSA_ELIGIBLE", "payable with your FSA or HSA";
        FsaHsaWithLetterOfMedicalNecessity => "FSA_HSA_WITH_LETTER_OF_MEDICAL_NECESSITY", "payable with your FSA or HSA with a letter of medical necessity";
        SelfPay => "SELF_PAY", "self-pay";
    }
);

vocabulary!(
    /// What the mother did with a match.
    MatchOutcome, "match outcome" {
        Viewed => "VIEWED", "viewed";
        Contacted => "CONTACTED", "contacted";
        Booked => "BOOKED", "booked";
        Dismissed => "DISMISSED", "dismissed";
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_from_str_and_serde() {
        for care_type in CareType::ALL {
            assert_eq!(care_type.code().parse::<CareType>(), Ok(*care_type));
            let json = serde_json::to_string(care_type).unwrap();
            assert_eq!(json, format!("\"{}\"", care_type.code()));
        }
        for symptom in Symptom::ALL {
            assert_eq!(symptom.code().parse::<Symptom>(), Ok(*symptom));
        }
        for sign in WarningSign::ALL {
            assert_eq!(sign.code().parse::<WarningSign>(), Ok(*sign));
        }
        assert_eq!(Symptom::ALL.len(), 19);
        assert_eq!(WarningSign::ALL.len(), 15);
        assert_eq!(CareType::ALL.len(), 7);
    }

    #[test]
    fn an_unknown_code_is_rejected_with_its_vocabulary() {
        let error = "MASSAGE".parse::<CareType>().unwrap_err();
        assert_eq!(error.to_string(), "unknown care type `MASSAGE`");
        assert!(serde_json::from_str::<Symptom>("\"urine_leakage\"").is_err());
    }

    #[test]
    fn payment_fit_orders_best_first() {
        let mut fits = PaymentFit::ALL.to_vec();
        fits.reverse();
        fits.sort();
        assert_eq!(fits.first(), Some(&PaymentFit::InNetwork));
        assert_eq!(fits.last(), Some(&PaymentFit::SelfPay));
    }
}
