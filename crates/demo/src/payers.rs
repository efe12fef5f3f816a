//! Real US payer names by state (national carriers, the state's Blue Cross Blue Shield plans,
//! Kaiser Permanente where it operates, the state's Medicaid program by its own name), and state
//! neighbours for telehealth licences.

/// A state (or DC): its name, its Medicaid program as mothers know it, its Blue Cross Blue Shield
/// plans, and the states it borders (for providers licensed across a state line).
#[derive(Debug, Clone, Copy)]
pub struct StateInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub medicaid: &'static str,
    pub blue_plans: &'static [&'static str],
    pub neighbours: &'static [&'static str],
}

const fn state_info(
    code: &'static str,
    name: &'static str,
    medicaid: &'static str,
    blue_plans: &'static [&'static str],
    neighbours: &'static [&'static str],
) -> StateInfo {
    StateInfo {
        code,
        name,
        medicaid,
        blue_plans,
        neighbours,
    }
}

const ANTHEM: &str = "Anthem Blue Cross and Blue Shield";

/// Sorted by code (a test checks), so [`state`] can binary-search it.
#[rustfmt::skip]
pub const STATES: &[StateInfo] = &[
    state_info("AK", "Alaska", "Alaska Medicaid", &["Premera Blue Cross Blue Shield of Alaska"], &[]),
    state_info("AL", "Alabama", "Alabama Medicaid", &["Blue Cross and Blue Shield of Alabama"], &["FL", "GA", "MS", "TN"]),
    state_info("AR", "Arkansas", "Arkansas Medicaid", &["Arkansas Blue Cross and Blue Shield"], &["LA", "MO", "MS", "OK", "TN", "TX"]),
    state_info("AZ", "Arizona", "AHCCCS (Arizona Medicaid)", &["Blue Cross Blue Shield of Arizona"], &["CA", "CO", "NM", "NV", "UT"]),
    state_info("CA", "California", "Medi-Cal", &["Anthem Blue Cross", "Blue Shield of California"], &["AZ", "NV", "OR"]),
    state_info("CO", "Colorado", "Health First Colorado (Medicaid)", &[ANTHEM], &["AZ", "KS", "NE", "NM", "OK", "UT", "WY"]),
    state_info("CT", "Connecticut", "HUSKY Health (Connecticut Medicaid)", &[ANTHEM], &["MA", "NY", "RI"]),
    state_info("DC", "District of Columbia", "DC Medicaid", &["CareFirst BlueCross BlueShield"], &["MD", "VA"]),
    state_info("DE", "Delaware", "Delaware Medicaid", &["Highmark Blue Cross Blue Shield"], &["MD", "NJ", "PA"]),
    state_info("FL", "Florida", "Florida Medicaid", &["Florida Blue"], &["AL", "GA"]),
    state_info("GA", "Georgia", "Georgia Medicaid", &[ANTHEM], &["AL", "FL", "NC", "SC", "TN"]),
    state_info("HI", "Hawaii", "Med-QUEST (Hawaii Medicaid)", &["HMSA (Blue Cross Blue Shield of Hawaii)"], &[]),
    state_info("IA", "Iowa", "IA Health Link (Iowa Medicaid)", &["Wellmark Blue Cross Blue Shield"], &["IL", "MN", "MO", "NE", "SD", "WI"]),
    state_info("ID", "Idaho", "Idaho Medicaid", &["Blue Cross of Idaho", "Regence BlueShield of Idaho"], &["MT", "NV", "OR", "UT", "WA", "WY"]),
    state_info("IL", "Illinois", "HealthChoice Illinois (Medicaid)", &["Blue Cross and Blue Shield of Illinois"], &["IA", "IN", "KY", "MO", "WI"]),
    state_info("IN", "Indiana", "Indiana Medicaid", &[ANTHEM], &["IL", "KY", "MI", "OH"]),
    state_info("KS", "Kansas", "KanCare (Kansas Medicaid)", &["Blue Cross and Blue Shield of Kansas", "Blue Cross and Blue Shield of Kansas City"], &["CO", "MO", "NE", "OK"]),
    state_info("KY", "Kentucky", "Kentucky Medicaid", &[ANTHEM], &["IL", "IN", "MO", "OH", "TN", "VA", "WV"]),
    state_info("LA", "Louisiana", "Healthy Louisiana (Medicaid)", &["Blue Cross and Blue Shield of Louisiana"], &["AR", "MS", "TX"]),
    state_info("MA", "Massachusetts", "MassHealth", &["Blue Cross Blue Shield of Massachusetts"], &["CT", "NH", "NY", "RI", "VT"]),
    state_info("MD", "Maryland", "Maryland Medicaid (HealthChoice)", &["CareFirst BlueCross BlueShield"], &["DC", "DE", "PA", "VA", "WV"]),
    state_info("ME", "Maine", "MaineCare", &[ANTHEM], &["NH"]),
    state_info("MI", "Michigan", "Michigan Medicaid", &["Blue Cross Blue Shield of Michigan"], &["IN", "OH", "WI"]),
    state_info("MN", "Minnesota", "Medical Assistance (Minnesota Medicaid)", &["Blue Cross and Blue Shield of Minnesota"], &["IA", "ND", "SD", "WI"]),
    state_info("MO", "Missouri", "MO HealthNet (Missouri Medicaid)", &[ANTHEM, "Blue Cross and Blue Shield of Kansas City"], &["AR", "IA", "IL", "KS", "KY", "NE", "OK", "TN"]),
    state_info("MS", "Mississippi", "Mississippi Medicaid", &["Blue Cross & Blue Shield of Mississippi"], &["AL", "AR", "LA", "TN"]),
    state_info("MT", "Montana", "Montana Medicaid", &["Blue Cross and Blue Shield of Montana"], &["ID", "ND", "SD", "WY"]),
    state_info("NC", "North Carolina", "NC Medicaid", &["Blue Cross and Blue Shield of North Carolina"], &["GA", "SC", "TN", "VA"]),
    state_info("ND", "North Dakota", "North Dakota Medicaid", &["Blue Cross Blue Shield of North Dakota"], &["MN", "MT", "SD"]),
    state_info("NE", "Nebraska", "Heritage Health (Nebraska Medicaid)", &["Blue Cross and Blue Shield of Nebraska"], &["CO", "IA", "KS", "MO", "SD", "WY"]),
    state_info("NH", "New Hampshire", "New Hampshire Medicaid", &[ANTHEM], &["MA", "ME", "VT"]),
    state_info("NJ", "New Jersey", "NJ FamilyCare (Medicaid)", &["Horizon Blue Cross Blue Shield of New Jersey"], &["DE", "NY", "PA"]),
    state_info("NM", "New Mexico", "Turquoise Care (New Mexico Medicaid)", &["Blue Cross and Blue Shield of New Mexico"], &["AZ", "CO", "OK", "TX", "UT"]),
    state_info("NV", "Nevada", "Nevada Medicaid", &[ANTHEM], &["AZ", "CA", "ID", "OR", "UT"]),
    state_info("NY", "New York", "NY Medicaid", &["Empire BlueCross BlueShield", "Excellus BlueCross BlueShield"], &["CT", "MA", "NJ", "PA", "VT"]),
    state_info("OH", "Ohio", "Ohio Medicaid", &[ANTHEM], &["IN", "KY", "MI", "PA", "WV"]),
    state_info("OK", "Oklahoma", "SoonerCare (Oklahoma Medicaid)", &["Blue Cross and Blue Shield of Oklahoma"], &["AR", "CO", "KS", "MO", "NM", "TX"]),
    state_info("OR", "Oregon", "Oregon Health Plan (Medicaid)", &["Regence BlueCross BlueShield"], &["CA", "ID", "NV", "WA"]),
    state_info("PA", "Pennsylvania", "Pennsylvania Medical Assistance (Medicaid)", &["Highmark Blue Cross Blue Shield", "Independence Blue Cross"], &["DE", "MD", "NJ", "NY", "OH", "WV"]),
    state_info("RI", "Rhode Island", "Rhode Island Medicaid", &["Blue Cross & Blue Shield of Rhode Island"], &["CT", "MA"]),
    state_info("SC", "South Carolina", "Healthy Connections (South Carolina Medicaid)", &["BlueCross BlueShield of South Carolina"], &["GA", "NC"]),
    state_info("SD", "South Dakota", "South Dakota Medicaid", &["Wellmark Blue Cross Blue Shield"], &["IA", "MN", "MT", "ND", "NE", "WY"]),
    state_info("TN", "Tennessee", "TennCare", &["BlueCross BlueShield of Tennessee"], &["AL", "AR", "GA", "KY", "MO", "MS", "NC", "VA"]),
    state_info("TX", "Texas", "Texas Medicaid", &["Blue Cross Blue Shield of Texas"], &["AR", "LA", "NM", "OK"]),
    state_info("UT", "Utah", "Utah Medicaid", &["Regence BlueCross BlueShield of Utah"], &["AZ", "CO", "ID", "NM", "NV", "WY"]),
    state_info("VA", "Virginia", "Cardinal Care (Virginia Medicaid)", &[ANTHEM, "CareFirst BlueCross BlueShield"], &["DC", "KY", "MD", "NC", "TN", "WV"]),
    state_info("VT", "Vermont", "Green Mountain Care (Vermont Medicaid)", &["Blue Cross and Blue Shield of Vermont"], &["MA", "NH", "NY"]),
    state_info("WA", "Washington", "Apple Health (Washington Medicaid)", &["Regence BlueCross BlueShield", "Premera Blue Cross"], &["ID", "OR"]),
    state_info("WI", "Wisconsin", "BadgerCare Plus (Wisconsin Medicaid)", &[ANTHEM], &["IA", "IL", "MI", "MN"]),
    state_info("WV", "West Virginia", "West Virginia Medicaid", &["Highmark Blue Cross Blue Shield West Virginia"], &["KY", "MD", "OH", "PA", "VA"]),
    state_info("WY", "Wyoming", "Wyoming Medicaid", &["Blue Cross Blue Shield of Wyoming"], &["CO", "ID", "MT", "NE", "SD", "UT"]),
];

/// The state table entry for a two-letter code, if it is one of the 50 states or DC.
pub fn state(code: &str) -> Option<&'static StateInfo> {
    STATES
        .binary_search_by(|info| info.code.cmp(code))
        .ok()
        .map(|index| &STATES[index])
}

/// Kaiser Permanente's regions (kp.org): California, the Northwest (Oregon, Washington),
/// Colorado, Georgia, the Mid-Atlantic States (Maryland, Virginia, DC) and Hawaii.
pub const KAISER_STATES: &[&str] = &["CA", "CO", "DC", "GA", "HI", "MD", "OR", "VA", "WA"];
pub const KAISER: &str = "Kaiser Permanente";

/// A national carrier, how often a provider in some network takes it, and plan names seen on
/// directory listings (a listing names a plan only some of the time).
#[derive(Debug, Clone, Copy)]
pub struct NationalPayer {
    pub payer: &'static str,
    pub share: f64,
    pub plans: &'static [&'static str],
}

pub const NATIONAL_PAYERS: &[NationalPayer] = &[
    NationalPayer {
        payer: "Aetna",
        share: 0.55,
        plans: &["Choice POS II", "Open Access Managed Choice", "HMO", "PPO"],
    },
    NationalPayer {
        payer: "Cigna",
        share: 0.45,
        plans: &["Open Access Plus", "LocalPlus", "PPO"],
    },
    NationalPayer {
        payer: "UnitedHealthcare",
        share: 0.55,
        plans: &["Choice Plus", "Options PPO", "Navigate HMO"],
    },
    NationalPayer {
        payer: "Humana",
        share: 0.15,
        plans: &["ChoiceCare PPO", "National POS"],
    },
];

/// Plan names for a state's Blue plan and for Kaiser.
pub const BLUE_PLANS: &[&str] = &["PPO", "HMO", "Blue Choice", "BlueCard PPO"];
pub const KAISER_PLANS: &[&str] = &["HMO", "Deductible HMO"];
/// Share of accepted payers listed with a plan name rather than the payer alone.
pub const PLAN_NAME_SHARE: f64 = 0.3;
