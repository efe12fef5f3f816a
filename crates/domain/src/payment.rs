//! Care-guide.md section 5, judged per care type (2nd edition): which care an insurance
//! contract covers, where a referral rule applies, how an FSA or HSA can pay, and the notes a
//! match carries about payment.

use crate::{CareType, InsurancePlan};

/// Whether `plan` covers `care_type` for a provider that gives `provider_care_types`: the care
/// types the record names; a record that names none covers the clinical care the provider
/// gives, and massage, doula or group care only when that is all the provider gives ("massage
/// usually is not covered").
pub fn contract_covers(
    plan: &InsurancePlan,
    care_type: CareType,
    provider_care_types: &[CareType],
) -> bool {
    if !plan.care_types.is_empty() {
        return plan.care_types.contains(&care_type);
    }
    if !provider_care_types.contains(&care_type) {
        return false;
    }
    care_type.is_clinical() || provider_care_types == [care_type]
}

/// A referral requirement applies to physical therapy, mental health and lactation; never to
/// obstetric care (direct access to an OB/GYN), massage, doulas or support groups.
pub const fn referral_applies(care_type: CareType) -> bool {
    matches!(
        care_type,
        CareType::PelvicFloorPhysicalTherapy
            | CareType::PerinatalMentalHealth
            | CareType::LactationConsulting
    )
}

/// How an FSA or HSA can pay for a care type (IRS Publication 502).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsaHsaRule {
    /// Medical care: physical therapy, lactation support, mental-health and obstetric care.
    Eligible,
    /// Only as treatment of a diagnosed condition, with a letter of medical necessity: massage
    /// and doula care.
    NeedsLetter,
    /// Not medical care: support groups.
    NotEligible,
}

pub const fn fsa_hsa_rule(care_type: CareType) -> FsaHsaRule {
    match care_type {
        CareType::PostnatalMassage | CareType::Doula => FsaHsaRule::NeedsLetter,
        CareType::SupportGroup => FsaHsaRule::NotEligible,
        _ => FsaHsaRule::Eligible,
    }
}

/// The note a match paid by FSA/HSA with a letter carries.
pub fn letter_of_medical_necessity_note(care_type: CareType) -> String {
    format!(
        "To pay for {} with your FSA or HSA you need a letter of medical necessity from your doctor, as treatment of a diagnosed condition (IRS Publication 502).",
        care_type.label()
    )
}

pub const FREE_GROUP_NOTE: &str = "This group is free to join.";

pub const MEDICAID_DOULA_NOTE: &str = "Many state Medicaid programs cover doula care: check your state; you may need a recommendation from your doctor or midwife.";

/// Words that name a state Medicaid program, in a payer's name folded to lower case.
const MEDICAID_NAMES: &[&str] = &[
    "medicaid",
    "medi-cal",
    "medi cal",
    "ahcccs",
    "husky health",
    "masshealth",
    "mainecare",
    "tenncare",
    "soonercare",
    "badgercare",
    "kancare",
    "apple health",
    "oregon health plan",
    "medical assistance",
    "med-quest",
    "nj familycare",
    "healthy louisiana",
    "green mountain care",
    "mo healthnet",
    "health first colorado",
    "cardinal care",
    "turquoise care",
    "ia health link",
    "healthchoice illinois",
    "heritage health",
    "healthy connections",
];

/// Whether her payer is a state Medicaid program, by the names mothers know them by.
pub fn is_medicaid(payer: &str) -> bool {
    let lower = payer.to_lowercase();
    MEDICAID_NAMES.iter().any(|name| lower.contains(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use CareType::*;

    fn contract(care_types: &[CareType]) -> InsurancePlan {
        InsurancePlan {
            payer: "Cigna".into(),
            plan: None,
            care_types: care_types.to_vec(),
        }
    }

    #[test]
    fn a_contract_naming_care_types_covers_only_those() {
        let clinic = [PelvicFloorPhysicalTherapy, PostnatalMassage];
        let named = contract(&[PelvicFloorPhysicalTherapy]);
        assert!(contract_covers(&named, PelvicFloorPhysicalTherapy, &clinic));
        assert!(!contract_covers(&named, PostnatalMassage, &clinic));
        let massage_named = contract(&[PostnatalMassage]);
        assert!(contract_covers(&massage_named, PostnatalMassage, &clinic));
    }

    #[test]
    fn a_contract_naming_none_covers_clinical_care_and_massage_only_when_it_is_all() {
        let unnamed = contract(&[]);
        let clinic = [PelvicFloorPhysicalTherapy, PostnatalMassage];
        assert!(contract_covers(
            &unnamed,
            PelvicFloorPhysicalTherapy,
            &clinic
        ));
        assert!(!contract_covers(&unnamed, PostnatalMassage, &clinic));
        assert!(contract_covers(
            &unnamed,
            PostnatalMassage,
            &[PostnatalMassage]
        ));
        assert!(contract_covers(&unnamed, Doula, &[Doula]));
        assert!(!contract_covers(
            &unnamed,
            Doula,
            &[Doula, LactationConsulting]
        ));
        assert!(contract_covers(
            &unnamed,
            LactationConsulting,
            &[Doula, LactationConsulting]
        ));
        assert!(contract_covers(
            &unnamed,
            ObstetricCare,
            &[ObstetricCare, Doula]
        ));
        assert!(!contract_covers(
            &unnamed,
            SupportGroup,
            &[SupportGroup, PerinatalMentalHealth]
        ));
    }

    #[test]
    fn referral_rules_apply_to_clinical_care_but_not_obstetric_care() {
        let applies: Vec<CareType> = CareType::ALL
            .iter()
            .copied()
            .filter(|care_type| referral_applies(*care_type))
            .collect();
        assert_eq!(
            applies,
            [
                PelvicFloorPhysicalTherapy,
                LactationConsulting,
                PerinatalMentalHealth
            ]
        );
    }

    #[test]
    fn the_letter_rule_is_for_massage_and_doulas_and_groups_are_not_medical_care() {
        assert_eq!(fsa_hsa_rule(PostnatalMassage), FsaHsaRule::NeedsLetter);
        assert_eq!(fsa_hsa_rule(Doula), FsaHsaRule::NeedsLetter);
        assert_eq!(fsa_hsa_rule(SupportGroup), FsaHsaRule::NotEligible);
        assert_eq!(
            fsa_hsa_rule(PelvicFloorPhysicalTherapy),
            FsaHsaRule::Eligible
        );
        assert!(
            letter_of_medical_necessity_note(PostnatalMassage)
                .contains("as treatment of a diagnosed condition")
        );
    }

    #[test]
    fn medicaid_programs_are_known_by_their_own_names() {
        for payer in [
            "Medi-Cal",
            "Oregon Health Plan (Medicaid)",
            "MassHealth",
            "TennCare",
        ] {
            assert!(is_medicaid(payer), "{payer}");
        }
        for payer in ["Aetna", "Cigna", "Kaiser Permanente", "Medicare"] {
            assert!(!is_medicaid(payer), "{payer}");
        }
    }
}
