//! GraphQL input types of the contract and their mapping to the domain's drafts, which do the
//! validation (so the API, imports and the domain agree on every rule).

use async_graphql::{ID, InputObject};
use carematch_domain as domain;

use super::types::{CareMode, CareType, CertificationScope, Symptom};

/// A provider to create or replace.
#[derive(InputObject)]
pub struct ProviderInput {
    /// Omit to create; give to replace.
    pub id: Option<ID>,
    /// US National Provider Identifier: 10 digits with a valid check digit.
    pub npi: Option<String>,
    pub name: String,
    pub care_types: Vec<CareType>,
    pub certifications: Vec<CertificationInput>,
    pub treats: Vec<Symptom>,
    pub locations: Vec<LocationDetailsInput>,
    pub modes: Vec<CareMode>,
    pub languages: Vec<String>,
    pub accepting_new_clients: bool,
    pub insurance: Vec<InsuranceInput>,
    pub accepts_fsa_hsa: bool,
    pub provides_superbill: bool,
    pub requires_referral: bool,
    pub self_pay_rate_usd: Option<i32>,
    pub bio: Option<String>,
    /// Two-letter states the provider is licensed in besides those of its locations.
    pub licensed_regions: Option<Vec<String>>,
    /// How far a home-visit provider travels, in km (default 25).
    pub home_visit_radius_km: Option<f64>,
}

#[derive(InputObject)]
pub struct CertificationInput {
    pub name: String,
    pub issuer: Option<String>,
    pub scope: CertificationScope,
    pub verified: bool,
    /// The care type this credential is for, when the care guide's table does not know its
    /// name; without it, such a credential counts only for a provider of one care type.
    pub care_type: Option<CareType>,
}

#[derive(InputObject)]
pub struct LocationDetailsInput {
    pub latitude: f64,
    pub longitude: f64,
    pub address: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
}

#[derive(InputObject)]
pub struct InsuranceInput {
    pub payer: String,
    pub plan: Option<String>,
    /// On a provider's record only: the care types this contract covers. Without it, a
    /// contract covers the clinical care the provider gives, and massage, doula or group care
    /// only when that is all it gives. Must be left out of `MatchInput.insurance`.
    pub care_types: Option<Vec<CareType>>,
}

impl From<ProviderInput> for domain::ProviderDraft {
    fn from(input: ProviderInput) -> Self {
        domain::ProviderDraft {
            id: input.id.map(|id| id.0),
            npi: input.npi,
            name: input.name,
            care_types: input.care_types.into_iter().map(Into::into).collect(),
            certifications: input
                .certifications
                .into_iter()
                .map(|certification| domain::CertificationDraft {
                    name: certification.name,
                    issuer: certification.issuer,
                    scope: certification.scope.into(),
                    verified: certification.verified,
                    care_type: certification.care_type.map(Into::into),
                })
                .collect(),
            treats: input.treats.into_iter().map(Into::into).collect(),
            locations: input
                .locations
                .into_iter()
                .map(|location| domain::LocationDraft {
                    latitude: location.latitude,
                    longitude: location.longitude,
                    address: location.address,
                    city: location.city,
                    region: location.region,
                    postal_code: location.postal_code,
                })
                .collect(),
            modes: input.modes.into_iter().map(Into::into).collect(),
            languages: input.languages,
            accepting_new_clients: input.accepting_new_clients,
            insurance: input
                .insurance
                .into_iter()
                .map(InsuranceInput::into_draft)
                .collect(),
            accepts_fsa_hsa: input.accepts_fsa_hsa,
            provides_superbill: input.provides_superbill,
            requires_referral: input.requires_referral,
            self_pay_rate_usd: input.self_pay_rate_usd.map(i64::from),
            bio: input.bio,
            licensed_regions: input.licensed_regions.unwrap_or_default(),
            home_visit_radius_km: input.home_visit_radius_km,
        }
    }
}

impl InsuranceInput {
    pub fn into_draft(self) -> domain::InsurancePlanDraft {
        domain::InsurancePlanDraft {
            payer: self.payer,
            plan: self.plan,
            care_types: self
                .care_types
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
        }
    }
}
