//! A provider's insurance contracts: national and state payers by care type, Medicaid where it
//! pays for the care, and the care types each contract covers (care-guide.md section 5).

use carematch_domain::payment::is_medicaid;
use carematch_domain::{CareType, InsurancePlanDraft};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::pick;
use crate::payers::{
    self, BLUE_PLANS, KAISER, KAISER_PLANS, KAISER_STATES, NATIONAL_PAYERS, PLAN_NAME_SHARE,
};
use crate::profiles::CareProfile;

/// The care types a contract of a provider that gives several names (care-guide.md section 5,
/// 2nd edition): the main care it was drawn for, the clinical care it also gives, and doula
/// care under Medicaid (which many states pay for); never a support group, and massage only
/// when it is the main care (a PT clinic's Cigna contract does not cover its massage room). A
/// provider of one care type lists none, as most directory records do.
pub(super) fn contract_care_types(
    mut contract: InsurancePlanDraft,
    main: CareType,
    care_types: &[CareType],
) -> InsurancePlanDraft {
    if care_types.len() > 1 {
        let medicaid = is_medicaid(&contract.payer);
        contract.care_types = care_types
            .iter()
            .copied()
            .filter(|care_type| {
                *care_type == main
                    || care_type.is_clinical()
                    || (*care_type == CareType::Doula && medicaid)
            })
            .collect();
    }
    contract
}

fn plan_name(rng: &mut ChaCha8Rng, plans: &[&str]) -> Option<String> {
    (!plans.is_empty() && rng.random_bool(PLAN_NAME_SHARE)).then(|| (*pick(rng, plans)).to_owned())
}

pub(super) fn draw_insurance(
    rng: &mut ChaCha8Rng,
    profile: &CareProfile,
    state_code: &str,
) -> Vec<InsurancePlanDraft> {
    let mut plans = Vec::new();
    let state = payers::state(state_code);
    // Doulas are mostly paid by Medicaid where it covers them, rarely by commercial plans.
    let commercial_factor = if profile.care_type == CareType::Doula {
        0.3
    } else {
        1.0
    };
    if let Some(info) = state
        && !info.blue_plans.is_empty()
        && rng.random_bool(0.65 * commercial_factor)
    {
        let payer = *pick(rng, info.blue_plans);
        plans.push(InsurancePlanDraft {
            payer: payer.to_owned(),
            plan: plan_name(rng, BLUE_PLANS),
            care_types: Vec::new(),
        });
    }
    for national in NATIONAL_PAYERS {
        if rng.random_bool(national.share * commercial_factor) {
            plans.push(InsurancePlanDraft {
                payer: national.payer.to_owned(),
                plan: plan_name(rng, national.plans),
                care_types: Vec::new(),
            });
        }
    }
    if KAISER_STATES.contains(&state_code) && rng.random_bool(0.2 * commercial_factor) {
        plans.push(InsurancePlanDraft {
            payer: KAISER.to_owned(),
            plan: plan_name(rng, KAISER_PLANS),
            care_types: Vec::new(),
        });
    }
    if rng.random_bool(profile.medicaid_share) || plans.is_empty() {
        let medicaid = match state {
            Some(info) => info.medicaid.to_owned(),
            None => format!("{state_code} Medicaid"),
        };
        plans.push(InsurancePlanDraft {
            payer: medicaid,
            plan: None,
            care_types: Vec::new(),
        });
    }
    plans
}
