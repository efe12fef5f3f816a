//! A role's insurance: each network's payer and the plans that use the network, for the care
//! types of the role that the plan's coverage names.

use carematch_domain::{CareType, InsurancePlanDraft};

use super::directory::Directory;
use super::model::{InsurancePlan, Reference};
use super::providers::{Failure, add_care_types, push_unique};

impl Directory {
    /// The insurance entries of one network: its payer, with each plan that uses the network,
    /// for the care types of the role that lists it (`role_care_types`, never empty) that the
    /// plan covers.
    pub(super) fn network_plans(
        &self,
        reference: &Reference,
        field: &str,
        role_care_types: &[CareType],
    ) -> Result<Vec<InsurancePlanDraft>, Failure> {
        let key = self.existing_key(reference, field)?;
        let network = self
            .organizations
            .get(&key)
            .ok_or_else(|| Failure::new(field, format!("{key} is not in the file")))?;
        let network_name = network.resource.name.clone();
        let payer = network
            .resource
            .part_of
            .as_ref()
            .and_then(|reference| self.resolve(reference))
            .and_then(|payer_key| self.organizations.get(&payer_key))
            .and_then(|payer| payer.resource.name.clone())
            .or(network_name)
            .ok_or_else(|| Failure::new(field, format!("{key} has no name and no payer")))?;
        let mut plans = Vec::new();
        for plan in &self.plans {
            if plan
                .status
                .as_deref()
                .is_some_and(|status| status != "active")
            {
                continue;
            }
            let uses_network = plan
                .network
                .iter()
                .chain(plan.plan.iter().flat_map(|inner| inner.network.iter()))
                .any(|candidate| self.resolve(candidate).as_deref() == Some(key.as_str()));
            if !uses_network {
                continue;
            }
            let plan_payer = plan
                .owned_by
                .as_ref()
                .and_then(|reference| self.resolve(reference))
                .and_then(|owner| self.organizations.get(&owner))
                .and_then(|owner| owner.resource.name.clone())
                .unwrap_or_else(|| payer.clone());
            let care_types: Vec<CareType> = match self.coverage_care_types(plan, &key) {
                Some(covered) => role_care_types
                    .iter()
                    .copied()
                    .filter(|care_type| covered.contains(care_type))
                    .collect(),
                None => role_care_types.to_vec(),
            };
            if care_types.is_empty() {
                // The plan uses the network for other care (a behavioral-health plan).
                continue;
            }
            add_contract(
                &mut plans,
                InsurancePlanDraft {
                    payer: plan_payer,
                    plan: plan.name.clone(),
                    care_types,
                },
            );
        }
        if plans.is_empty() {
            plans.push(InsurancePlanDraft {
                payer,
                plan: None,
                care_types: sorted(role_care_types.to_vec()),
            });
        }
        Ok(plans)
    }

    /// The care types a plan's coverage names for the network `network_key`, or `None` when it
    /// names none (no coverage, or only kinds such as `medical` that name no care type).
    pub(super) fn coverage_care_types(
        &self,
        plan: &InsurancePlan,
        network_key: &str,
    ) -> Option<Vec<CareType>> {
        let mut named = Vec::new();
        for coverage in &plan.coverage {
            let for_network = coverage.network.is_empty()
                || coverage
                    .network
                    .iter()
                    .any(|candidate| self.resolve(candidate).as_deref() == Some(network_key));
            if !for_network {
                continue;
            }
            let kinds = std::iter::once(&coverage.kind)
                .chain(coverage.benefit.iter().map(|benefit| &benefit.kind));
            for kind in kinds {
                add_care_types(&mut named, std::slice::from_ref(kind));
                // `http://terminology.hl7.org/CodeSystem/insurance-plan-type`: mental health.
                if kind.coding.iter().any(|coding| {
                    coding.code.as_deref() == Some("mental")
                        && coding
                            .system
                            .as_deref()
                            .is_none_or(|system| system == INSURANCE_PLAN_TYPE_SYSTEM)
                }) {
                    push_unique(&mut named, CareType::PerinatalMentalHealth);
                }
            }
        }
        (!named.is_empty()).then_some(named)
    }
}

/// HL7's insurance plan types (`medical`, `dental`, `mental`, ...), as `coverage.type` uses them.
const INSURANCE_PLAN_TYPE_SYSTEM: &str =
    "http://terminology.hl7.org/CodeSystem/insurance-plan-type";

fn sorted(mut care_types: Vec<CareType>) -> Vec<CareType> {
    care_types.sort();
    care_types.dedup();
    care_types
}

/// Adds a contract, or the care types of one to the entry already listing its payer and plan
/// (two roles of one practitioner in the same network).
pub(super) fn add_contract(contracts: &mut Vec<InsurancePlanDraft>, contract: InsurancePlanDraft) {
    match contracts
        .iter_mut()
        .find(|known| known.payer == contract.payer && known.plan == contract.plan)
    {
        Some(known) => {
            let mut care_types = std::mem::take(&mut known.care_types);
            care_types.extend(contract.care_types);
            known.care_types = sorted(care_types);
        }
        None => contracts.push(InsurancePlanDraft {
            care_types: sorted(contract.care_types),
            ..contract
        }),
    }
}
