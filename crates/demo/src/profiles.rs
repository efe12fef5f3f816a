//! What each care type looks like in a directory: how common it is, who gives it, their
//! credentials (care-guide.md section 4), what they treat (section 1), how they see clients and
//! how they are paid (section 5). Every share here is a plausible directory mix, not a statistic.

use carematch_domain::{CareMode, CareType, CertificationScope, Symptom};

/// A credential as it appears on a listing. `issuer` may contain `{state}`, replaced by the
/// state's name, for licences issued by a state board.
#[derive(Debug, Clone, Copy)]
pub struct Credential {
    pub name: &'static str,
    pub issuer: &'static str,
    pub scope: CertificationScope,
    /// Letters written after a person's name ("DPT", "IBCLC"); `None` for certificates.
    pub suffix: Option<&'static str>,
    /// Holders are addressed as "Dr." (a clinical doctorate).
    pub doctor: bool,
}

const fn perinatal(name: &'static str, issuer: &'static str, suffix: bool) -> Credential {
    Credential {
        name,
        issuer,
        scope: CertificationScope::Perinatal,
        suffix: if suffix { Some(name) } else { None },
        doctor: false,
    }
}

const fn general(name: &'static str, issuer: &'static str, doctor: bool) -> Credential {
    Credential {
        name,
        issuer,
        scope: CertificationScope::General,
        suffix: Some(name),
        doctor,
    }
}

/// Everything that varies by care type. Shares are probabilities in [0, 1]; weights are relative.
#[derive(Debug)]
pub struct CareProfile {
    pub care_type: CareType,
    /// Relative weight of this care type as a provider's main one (they sum to 100).
    pub weight: u32,
    /// Chance that a provider of this main type also offers a second one, and which.
    pub second_type_share: f64,
    pub second_types: &'static [(CareType, u32)],
    /// Chance that the listing is a person rather than a practice or group.
    pub individual_share: f64,
    /// Chance that an individual lists an NPI (practices list an organisational one less often).
    pub individual_npi_share: f64,
    pub practice_npi_share: f64,
    /// Chance of a perinatal credential, and which one (weighted).
    pub perinatal_share: f64,
    pub perinatal_credentials: &'static [(Credential, u32)],
    /// Chance of a general licence or board certification, and which one (weighted).
    pub general_share: f64,
    pub general_credentials: &'static [(Credential, u32)],
    /// An extra general credential some hold on top (NCBTMB for massage therapists).
    pub extra_general: Option<(Credential, f64)>,
    /// Symptoms always treated, and symptoms treated with the given chance. Every one of them
    /// is recommended for this care type by care-guide.md section 1 (a test checks).
    pub always_treats: &'static [Symptom],
    pub sometimes_treats: &'static [(Symptom, f64)],
    /// Chance of offering each mode; a provider that draws none gets the first.
    pub modes: &'static [(CareMode, f64)],
    /// Chance of being in at least one insurance network.
    pub in_network_share: f64,
    /// Chance that an in-network provider takes the state's Medicaid plan.
    pub medicaid_share: f64,
    pub superbill_share: f64,
    pub fsa_hsa_share: f64,
    pub referral_share: f64,
    /// Self-pay rate range in USD per session (per hour for doulas); `None` for free groups.
    pub self_pay_rate_usd: Option<(u32, u32)>,
    /// Opening phrases of bios and specialties mentioned in them.
    pub bio_openings: &'static [&'static str],
    pub specialties: &'static [&'static str],
    /// Practice names: `{place}` is replaced by a metro, town or nature word.
    pub practice_names: &'static [&'static str],
}

use CareMode::{HomeVisit, InPerson, Telehealth, VirtualGroup};
use CareType::{
    Doula, LactationConsulting, ObstetricCare, PelvicFloorPhysicalTherapy, PerinatalMentalHealth,
    PostnatalMassage, SupportGroup,
};
use Symptom::*;

pub const PROFILES: &[CareProfile] = &[
    CareProfile {
        care_type: PelvicFloorPhysicalTherapy,
        weight: 25,
        second_type_share: 0.08,
        second_types: &[(PostnatalMassage, 1)],
        individual_share: 0.45,
        individual_npi_share: 0.75,
        practice_npi_share: 0.5,
        perinatal_share: 0.40,
        perinatal_credentials: &[
            (perinatal("PWCS", "ABPTS", true), 3),
            (perinatal("CAPP-OB", "APTA Pelvic Health", true), 3),
            (perinatal("CAPP-Pelvic", "APTA Pelvic Health", true), 2),
            (perinatal("PRPC", "Herman & Wallace", true), 2),
        ],
        general_share: 1.0,
        general_credentials: &[(general("DPT", "{state} Board of Physical Therapy", true), 1)],
        extra_general: None,
        always_treats: &[UrineLeakage, PelvicPain, PelvicHeaviness],
        sometimes_treats: &[
            (DiastasisRecti, 0.85),
            (CoreWeakness, 0.8),
            (ScarPain, 0.7),
            (BackPain, 0.8),
            (HipPain, 0.6),
            (TroubleWithDailyActivities, 0.5),
            (ReturnToExercise, 0.7),
        ],
        modes: &[(InPerson, 0.97), (Telehealth, 0.35), (HomeVisit, 0.06)],
        in_network_share: 0.85,
        medicaid_share: 0.35,
        superbill_share: 0.6,
        fsa_hsa_share: 0.85,
        referral_share: 0.35,
        self_pay_rate_usd: Some((120, 220)),
        bio_openings: &[
            "Pelvic-floor physical therapy for the months after birth",
            "One-on-one pelvic health physical therapy for new mothers",
            "Postpartum rehabilitation of the pelvic floor and core",
        ],
        specialties: &[
            "C-section scar mobilisation",
            "diastasis recti rehabilitation",
            "a gradual return to running",
            "prolapse management",
            "pelvic pain after a perineal tear",
            "bladder retraining",
        ],
        practice_names: &[
            "{place} Pelvic Health",
            "{place} Pelvic Floor Physical Therapy",
            "{place} Women's Physical Therapy",
            "{place} Pelvic Rehab",
            "{place} Postpartum Physical Therapy",
        ],
    },
    CareProfile {
        care_type: PostnatalMassage,
        weight: 20,
        second_type_share: 0.06,
        second_types: &[(Doula, 2), (LactationConsulting, 1)],
        individual_share: 0.6,
        individual_npi_share: 0.2,
        practice_npi_share: 0.1,
        perinatal_share: 0.28,
        perinatal_credentials: &[
            (
                perinatal(
                    "Perinatal Massage Certificate",
                    "Bodywork for the Childbearing Year",
                    false,
                ),
                2,
            ),
            (
                perinatal(
                    "Maternity Massage Certificate",
                    "Nurturing the Mother",
                    false,
                ),
                1,
            ),
        ],
        general_share: 0.92,
        general_credentials: &[(general("LMT", "{state} Board of Massage Therapy", false), 1)],
        extra_general: Some((
            general(
                "NCBTMB",
                "National Certification Board for Therapeutic Massage & Bodywork",
                false,
            ),
            0.25,
        )),
        always_treats: &[NeckShoulderTension, BackPain, Stress],
        sometimes_treats: &[
            (Swelling, 0.7),
            (HipPain, 0.5),
            (PoorSleep, 0.55),
            (Anxiety, 0.35),
            (LowMood, 0.15),
        ],
        modes: &[(InPerson, 0.85), (HomeVisit, 0.35)],
        in_network_share: 0.08,
        medicaid_share: 0.0,
        superbill_share: 0.15,
        fsa_hsa_share: 0.5,
        referral_share: 0.0,
        self_pay_rate_usd: Some((85, 160)),
        bio_openings: &[
            "Postnatal massage for the fourth trimester",
            "Gentle massage for recovering mothers",
            "Maternity and postpartum massage",
        ],
        specialties: &[
            "side-lying massage",
            "lymphatic drainage for swelling",
            "relief for feeding posture",
            "abdominal massage after clearance",
            "in-home sessions while baby naps",
        ],
        practice_names: &[
            "{place} Postnatal Massage",
            "{place} Maternity Massage",
            "{place} Bodywork",
            "{place} Massage & Wellness",
        ],
    },
    CareProfile {
        care_type: LactationConsulting,
        weight: 15,
        second_type_share: 0.12,
        second_types: &[(Doula, 3), (SupportGroup, 1)],
        individual_share: 0.7,
        individual_npi_share: 0.7,
        practice_npi_share: 0.4,
        perinatal_share: 0.85,
        perinatal_credentials: &[
            (perinatal("IBCLC", "IBLCE", true), 6),
            (perinatal("CLC", "ALPP", true), 3),
            (perinatal("CLE", "CAPPA", true), 1),
        ],
        general_share: 0.15,
        general_credentials: &[(general("RN", "{state} Board of Nursing", false), 1)],
        extra_general: None,
        always_treats: &[BreastfeedingDifficulty],
        sometimes_treats: &[],
        modes: &[(InPerson, 0.6), (Telehealth, 0.55), (HomeVisit, 0.4)],
        in_network_share: 0.55,
        medicaid_share: 0.3,
        superbill_share: 0.7,
        fsa_hsa_share: 0.75,
        referral_share: 0.05,
        self_pay_rate_usd: Some((100, 250)),
        bio_openings: &[
            "Lactation support from the first feed onwards",
            "Breastfeeding and infant feeding consultations",
            "Help with feeding your baby, at home or in clinic",
        ],
        specialties: &[
            "latch and positioning",
            "low milk supply",
            "tongue-tie assessment",
            "pumping and return to work",
            "feeding twins",
            "nipple pain",
        ],
        practice_names: &[
            "{place} Lactation Services",
            "{place} Breastfeeding Center",
            "{place} Feeding & Lactation",
            "{place} Lactation Collective",
        ],
    },
    CareProfile {
        care_type: PerinatalMentalHealth,
        weight: 15,
        second_type_share: 0.1,
        second_types: &[(SupportGroup, 1)],
        individual_share: 0.65,
        individual_npi_share: 0.75,
        practice_npi_share: 0.5,
        perinatal_share: 0.35,
        perinatal_credentials: &[(
            perinatal("PMH-C", "Postpartum Support International", true),
            1,
        )],
        general_share: 1.0,
        general_credentials: &[
            (general("LCSW", "{state} Board of Social Work", false), 4),
            (
                general("LPC", "{state} Board of Professional Counselors", false),
                3,
            ),
            (
                general(
                    "LMFT",
                    "{state} Board of Marriage and Family Therapy",
                    false,
                ),
                2,
            ),
            (general("PsyD", "{state} Board of Psychology", true), 1),
        ],
        extra_general: None,
        always_treats: &[Anxiety, LowMood],
        sometimes_treats: &[],
        modes: &[(InPerson, 0.6), (Telehealth, 0.85)],
        in_network_share: 0.65,
        medicaid_share: 0.3,
        superbill_share: 0.8,
        fsa_hsa_share: 0.7,
        referral_share: 0.03,
        self_pay_rate_usd: Some((120, 250)),
        bio_openings: &[
            "Therapy for new and expecting parents",
            "Counselling for postpartum depression and anxiety",
            "Perinatal mental health care for the transition to parenthood",
        ],
        specialties: &[
            "postpartum depression",
            "birth trauma",
            "intrusive thoughts",
            "pregnancy loss",
            "identity and relationship changes",
            "NICU stays",
        ],
        practice_names: &[
            "{place} Perinatal Counseling",
            "{place} Maternal Mental Health",
            "{place} Postpartum Therapy Center",
            "{place} Counseling Collective",
        ],
    },
    CareProfile {
        care_type: Doula,
        weight: 10,
        second_type_share: 0.15,
        second_types: &[(LactationConsulting, 2), (PostnatalMassage, 1)],
        individual_share: 0.75,
        individual_npi_share: 0.25,
        practice_npi_share: 0.15,
        perinatal_share: 0.5,
        perinatal_credentials: &[
            (perinatal("PCD(DONA)", "DONA International", true), 4),
            (perinatal("CPD", "CAPPA", true), 3),
            (perinatal("CD(DONA)", "DONA International", true), 2),
            (perinatal("CLD", "CAPPA", true), 1),
        ],
        general_share: 0.0,
        general_credentials: &[],
        extra_general: None,
        // Care-guide.md section 1 sends no symptom to doulas: they are found by care type.
        always_treats: &[],
        sometimes_treats: &[],
        modes: &[(HomeVisit, 1.0), (Telehealth, 0.2), (InPerson, 0.1)],
        in_network_share: 0.25,
        medicaid_share: 0.8,
        superbill_share: 0.35,
        fsa_hsa_share: 0.45,
        referral_share: 0.0,
        self_pay_rate_usd: Some((35, 75)),
        bio_openings: &[
            "Postpartum doula support, day and night",
            "Practical and emotional support at home after birth",
            "Fourth-trimester doula care for the whole family",
        ],
        specialties: &[
            "overnight newborn care",
            "feeding support",
            "meal preparation and light housework",
            "sibling adjustment",
            "recovery after a cesarean",
        ],
        practice_names: &[
            "{place} Doula Collective",
            "{place} Postpartum Doulas",
            "{place} Birth & Postpartum Support",
            "{place} Fourth Trimester Care",
        ],
    },
    CareProfile {
        care_type: SupportGroup,
        weight: 8,
        second_type_share: 0.0,
        second_types: &[],
        individual_share: 0.0,
        individual_npi_share: 0.0,
        practice_npi_share: 0.0,
        // Groups usually list no credential; some are led by a trained facilitator.
        perinatal_share: 0.12,
        perinatal_credentials: &[(
            perinatal(
                "Support Group Facilitator Training",
                "Postpartum Support International",
                false,
            ),
            1,
        )],
        general_share: 0.0,
        general_credentials: &[],
        extra_general: None,
        always_treats: &[Isolation],
        sometimes_treats: &[(Stress, 0.6), (Anxiety, 0.4), (LowMood, 0.4)],
        // One of the two forms is chosen in `build` (a group meets in person or online).
        modes: &[(InPerson, 0.55), (VirtualGroup, 0.45)],
        in_network_share: 0.0,
        medicaid_share: 0.0,
        superbill_share: 0.0,
        // A support group is not medical care (IRS Publication 502): no FSA or HSA pays it.
        fsa_hsa_share: 0.0,
        referral_share: 0.0,
        self_pay_rate_usd: None,
        bio_openings: &[
            "A weekly circle for new mothers",
            "Peer support for the first year after birth",
            "A drop-in group where mothers share their recovery",
        ],
        specialties: &[
            "babies welcome",
            "a trained peer facilitator",
            "a group for mothers of NICU babies",
            "an evening group for working parents",
            "a group in Spanish and English",
        ],
        practice_names: &[
            "{place} Postpartum Support Circle",
            "{place} New Moms Group",
            "{place} Mothers' Circle",
            "{place} Perinatal Support Group",
        ],
    },
    CareProfile {
        care_type: ObstetricCare,
        weight: 7,
        second_type_share: 0.15,
        second_types: &[(LactationConsulting, 2), (PelvicFloorPhysicalTherapy, 1)],
        individual_share: 0.35,
        individual_npi_share: 0.9,
        practice_npi_share: 0.8,
        perinatal_share: 0.55,
        perinatal_credentials: &[
            (
                perinatal(
                    "Board Certified in Obstetrics and Gynecology",
                    "ABOG",
                    false,
                ),
                3,
            ),
            (
                perinatal("CNM", "American Midwifery Certification Board", true),
                2,
            ),
        ],
        general_share: 0.0,
        general_credentials: &[],
        extra_general: None,
        // Care-guide.md section 1 sends no symptom to obstetric care.
        always_treats: &[],
        sometimes_treats: &[],
        modes: &[(InPerson, 1.0), (Telehealth, 0.25), (HomeVisit, 0.04)],
        in_network_share: 0.97,
        medicaid_share: 0.6,
        superbill_share: 0.3,
        fsa_hsa_share: 0.8,
        referral_share: 0.05,
        self_pay_rate_usd: Some((150, 350)),
        bio_openings: &[
            "Obstetric care through pregnancy, birth and the postpartum visits",
            "Prenatal, birth and postpartum care",
            "Midwifery and obstetric care for every kind of birth",
        ],
        specialties: &[
            "the comprehensive postpartum visit",
            "high-risk pregnancy follow-up",
            "vaginal birth after cesarean",
            "contraception after birth",
            "perineal repair follow-up",
        ],
        practice_names: &[
            "{place} Women's Health",
            "{place} OB/GYN",
            "{place} Obstetrics & Gynecology",
            "{place} Midwifery",
        ],
    },
];

/// The profile of a care type.
pub fn profile(care_type: CareType) -> &'static CareProfile {
    PROFILES
        .iter()
        .find(|profile| profile.care_type == care_type)
        .unwrap_or(&PROFILES[0])
}

/// Names of practices that offer more than one kind of care.
pub const MULTI_TYPE_PRACTICE_NAMES: &[&str] = &[
    "{place} Postpartum Wellness",
    "{place} Family Wellness Center",
    "{place} Fourth Trimester Center",
];

/// Practice name words that are not places.
pub const NATURE_WORDS: &[&str] = &[
    "Willow",
    "Cedar",
    "Harbor",
    "Summit",
    "Riverbend",
    "Lakeside",
    "Bloom",
    "Evergreen",
    "Magnolia",
    "Juniper",
    "Sage",
    "North Star",
    "Bright Path",
    "Blossom",
    "Nest",
    "Haven",
    "Lotus",
    "Wildflower",
    "Hearth",
    "Sunrise",
    "Meadow",
    "Cascade",
    "Oak Tree",
    "Little Acorn",
];

#[rustfmt::skip]
pub const FIRST_NAMES: &[&str] = &[
    "Maya", "Jordan", "Sofia", "Aisha", "Emily", "Priya", "Grace", "Hannah", "Camila", "Leah",
    "Olivia", "Mei", "Linh", "Fatima", "Rachel", "Jasmine", "Elena", "Nadia", "Chloe", "Isabel",
    "Ana", "Sarah", "Keisha", "Rosa", "Yuki", "Amara", "Laura", "Megan", "Tamara", "Ji-woo",
    "Gabriela", "Naomi", "Lauren", "Erin", "Alexis", "Brianna", "Catherine", "Daniela", "Imani",
    "Julia", "Kavya", "Lucia", "Mariana", "Nicole", "Paige", "Quinn", "Rebecca", "Sam", "Taylor",
    "Valentina", "Whitney", "Ximena", "Yasmin", "Zoe", "Ahmed", "David", "Marcus", "Daniel",
    "Miguel", "Kevin",
];

#[rustfmt::skip]
pub const LAST_NAMES: &[&str] = &[
    "Alvarez", "Lee", "Nguyen", "Patel", "Johnson", "Garcia", "Kim", "Smith", "Williams", "Brown",
    "Martinez", "Chen", "Rodriguez", "Davis", "Lopez", "Wilson", "Anderson", "Thomas", "Hernandez",
    "Moore", "Jackson", "Martin", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Hill", "Flores", "Green",
    "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Tran", "Shah", "Okafor", "Haddad", "Ivanova", "Santos", "Cohen", "Murphy", "O'Brien",
    "Reyes", "Park", "Singh", "Yamamoto", "Dubois", "Kowalski", "Mensah", "Castillo", "Jean-Baptiste",
];

/// Languages besides English and the chance a provider offers each. Spanish follows the US
/// share of Spanish speakers; the rest are the next most spoken languages at home (ACS).
pub const OTHER_LANGUAGES: &[(&str, f64)] = &[
    ("Spanish", 0.20),
    ("Chinese", 0.03),
    ("Vietnamese", 0.02),
    ("Tagalog", 0.02),
    ("Arabic", 0.015),
    ("Russian", 0.015),
    ("Korean", 0.015),
    ("Haitian Creole", 0.01),
    ("Portuguese", 0.01),
    ("French", 0.01),
    ("American Sign Language", 0.005),
];
/// Share of Spanish speakers who list Spanish only.
pub const SPANISH_ONLY_SHARE: f64 = 0.05;

pub const ACCEPTING_NEW_CLIENTS_SHARE: f64 = 0.8;
/// Share of certifications a listing marks as verified.
pub const VERIFIED_SHARE: f64 = 0.7;
/// Share of telehealth providers licensed in a neighbouring state too.
pub const NEIGHBOUR_LICENCE_SHARE: f64 = 0.2;
/// Share of practices (not support groups) with a second location in the same area.
pub const SECOND_LOCATION_SHARE: f64 = 0.08;
/// Share of locations listed with a street address.
pub const ADDRESS_SHARE: f64 = 0.7;
/// Home-visit radii in km that providers state; some state none (the default applies).
pub const HOME_VISIT_RADII_KM: &[f64] = &[10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0];
pub const HOME_VISIT_RADIUS_STATED_SHARE: f64 = 0.85;

pub const STREET_NAMES: &[&str] = &[
    "Main",
    "Oak",
    "Maple",
    "Park",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Pine",
    "Market",
    "Broadway",
    "Church",
    "Highland",
    "Union",
    "Grand",
    "Mill",
    "River",
    "Center",
    "Jefferson",
];
pub const STREET_KINDS: &[&str] = &["St", "Ave", "Blvd", "Rd", "Way", "Dr"];
