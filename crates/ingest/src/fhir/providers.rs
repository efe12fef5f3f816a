//! The providers a directory describes: a practitioner with its roles, an organisation with the
//! services it provides, each built from the resources they refer to.

use std::collections::{BTreeMap, HashMap};

use carematch_domain::{CareType, LocationDraft, Npi, PostalCode, ProviderDraft, Region};
use carematch_postal::PostalCodes;

use super::directory::{Directory, Found};
use super::extensions::{DeliveryFacts, certification_of, languages_of};
use super::insurance::add_contract;
use super::model::{
    CodeableConcept, HealthcareService, Location, Organization, Practitioner, PractitionerRole,
    Reference, extensions_named, npi_of,
};
use crate::SkipReason;
use crate::summary::ImportSummary;
use crate::taxonomy::{NUCC_SYSTEM, care_type_of_taxonomy};
use crate::write::{Candidate, Source, stable_provider_id};

impl Directory {
    /// Every provider the directory describes, in file order.
    pub(super) fn providers(&self, summary: &mut ImportSummary) -> Vec<Candidate> {
        let mut roles_of: HashMap<String, Vec<&Found<PractitionerRole>>> = HashMap::new();
        for role in &self.roles {
            if role.resource.active == Some(false) {
                continue;
            }
            if let Some(practitioner) = role
                .resource
                .practitioner
                .as_ref()
                .and_then(|reference| self.resolve(reference))
            {
                roles_of.entry(practitioner).or_default().push(role);
            }
        }
        let mut services_of: BTreeMap<String, Vec<&Found<HealthcareService>>> = BTreeMap::new();
        for service in &self.services {
            if service.resource.active == Some(false) {
                summary.skip(SkipReason::Inactive);
                continue;
            }
            if let Some(organization) = service
                .resource
                .provided_by
                .as_ref()
                .and_then(|reference| self.resolve(reference))
            {
                services_of.entry(organization).or_default().push(service);
            }
        }

        let mut candidates = Vec::new();
        for practitioner in &self.practitioners {
            if practitioner.resource.active == Some(false) {
                summary.skip(SkipReason::Inactive);
                continue;
            }
            let roles = roles_of
                .get(&practitioner.key)
                .map(Vec::as_slice)
                .unwrap_or_default();
            match self.practitioner_provider(practitioner, roles) {
                Ok(Some(candidate)) => candidates.push(candidate),
                Ok(None) => summary.skip(SkipReason::NoMappedTaxonomy),
                Err(failure) => summary.fail(
                    practitioner.position,
                    practitioner.key.clone(),
                    failure.field,
                    failure.problem,
                ),
            }
        }
        for (organization_key, services) in &services_of {
            let Some(organization) = self.organizations.get(organization_key) else {
                let first = services[0];
                let problem = if self.failed.contains(organization_key) {
                    format!("{organization_key} failed to parse")
                } else {
                    format!("{organization_key} is not in the file")
                };
                summary.fail(first.position, first.key.clone(), "providedBy", problem);
                continue;
            };
            if organization.resource.active == Some(false) {
                summary.skip(SkipReason::Inactive);
                continue;
            }
            match self.organization_provider(organization, services) {
                Ok(Some(candidate)) => candidates.push(candidate),
                Ok(None) => summary.skip(SkipReason::NoMappedTaxonomy),
                Err(failure) => summary.fail(
                    organization.position,
                    organization.key.clone(),
                    failure.field,
                    failure.problem,
                ),
            }
        }
        candidates.sort_by_key(|candidate| candidate.position);
        candidates
    }

    pub(super) fn practitioner_provider(
        &self,
        practitioner: &Found<Practitioner>,
        roles: &[&Found<PractitionerRole>],
    ) -> Result<Option<Candidate>, Failure> {
        let resource = &practitioner.resource;
        let mut care_types = Vec::new();
        for role in roles {
            add_care_types(&mut care_types, &role.resource.specialty);
        }
        if care_types.is_empty() {
            return Ok(None);
        }
        let npi = parse_npi(npi_of(&resource.identifier))?;
        let name = practitioner_name(resource)
            .ok_or_else(|| Failure::new("name", "has no text, given or family name"))?;

        let mut locations = Vec::new();
        let mut facts = DeliveryFacts::default();
        let mut insurance = Vec::new();
        for role in roles {
            for (index, reference) in role.resource.location.iter().enumerate() {
                let field = format!("{}.location[{index}]", role.key);
                push_unique(&mut locations, self.location(reference, &field)?);
            }
            facts.read(&role.resource.extension);
            for (index, reference) in role.resource.healthcare_service.iter().enumerate() {
                let field = format!("{}.healthcareService[{index}]", role.key);
                let key = self.existing_key(reference, &field)?;
                if let Some(service) = self
                    .service_index
                    .get(&key)
                    .and_then(|index| self.services.get(*index))
                {
                    facts.read(&service.resource.extension);
                    facts.read_categories(&service.resource.category);
                }
            }
            let mut role_care_types = Vec::new();
            add_care_types(&mut role_care_types, &role.resource.specialty);
            if role_care_types.is_empty() {
                // A role for care carematch does not match (family medicine): its contracts
                // say nothing of the care this provider is listed for.
                continue;
            }
            for (index, extension) in
                extensions_named(&role.resource.extension, "network-reference").enumerate()
            {
                let field = format!("{}.extension(network-reference)[{index}]", role.key);
                let reference = extension
                    .value_reference
                    .as_ref()
                    .ok_or_else(|| Failure::new(field.clone(), "has no valueReference"))?;
                for plan in self.network_plans(reference, &field, &role_care_types)? {
                    add_contract(&mut insurance, plan);
                }
            }
        }
        let modes = facts.modes(!locations.is_empty()).ok_or_else(|| {
            Failure::new(
                "PractitionerRole.location",
                "no role has a location or a virtual delivery method",
            )
        })?;

        let mut certifications = Vec::new();
        let mut licensed_regions = Vec::new();
        for qualification in &resource.qualification {
            if let Some(certification) = certification_of(qualification) {
                push_unique(&mut certifications, certification);
            }
            for extension in
                extensions_named(&qualification.extension, "practitioner-qualification")
            {
                for where_valid in extension.sub("whereValid") {
                    let codes = where_valid
                        .value_codeable_concept
                        .iter()
                        .flat_map(CodeableConcept::codes)
                        .chain(where_valid.value_code.as_deref());
                    for code in codes {
                        if let Ok(region) = Region::parse(code) {
                            push_unique(&mut licensed_regions, region.as_str().to_owned());
                        }
                    }
                }
            }
        }

        Ok(Some(Candidate {
            position: practitioner.position,
            record: practitioner.key.clone(),
            stable_id: Some(stable_provider_id(&practitioner.key)),
            npi: npi.clone(),
            draft: ProviderDraft {
                id: None,
                npi: npi.map(|npi| npi.as_str().to_owned()),
                name,
                care_types,
                certifications,
                treats: Vec::new(),
                locations,
                modes,
                languages: languages_of(&resource.communication),
                accepting_new_clients: facts.accepting(),
                insurance,
                accepts_fsa_hsa: false,
                provides_superbill: false,
                requires_referral: false,
                self_pay_rate_usd: None,
                bio: None,
                licensed_regions,
                home_visit_radius_km: None,
            },
            source: Source::Fhir,
        }))
    }

    pub(super) fn organization_provider(
        &self,
        organization: &Found<Organization>,
        services: &[&Found<HealthcareService>],
    ) -> Result<Option<Candidate>, Failure> {
        let mut care_types = Vec::new();
        for service in services {
            add_care_types(&mut care_types, &service.resource.specialty);
        }
        if care_types.is_empty() {
            return Ok(None);
        }
        let resource = &organization.resource;
        let npi = parse_npi(npi_of(&resource.identifier))?;
        let name = resource
            .name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| Failure::new("name", "is missing"))?
            .to_owned();
        let mut locations = Vec::new();
        let mut facts = DeliveryFacts::default();
        let mut languages = Vec::new();
        for service in services {
            for (index, reference) in service.resource.location.iter().enumerate() {
                let field = format!("{}.location[{index}]", service.key);
                push_unique(&mut locations, self.location(reference, &field)?);
            }
            facts.read(&service.resource.extension);
            facts.read_categories(&service.resource.category);
            for language in languages_of(&service.resource.communication) {
                push_unique(&mut languages, language);
            }
        }
        let modes = facts.modes(!locations.is_empty()).ok_or_else(|| {
            Failure::new(
                "HealthcareService.location",
                "no service has a location or a virtual delivery method",
            )
        })?;
        Ok(Some(Candidate {
            position: organization.position,
            record: organization.key.clone(),
            stable_id: Some(stable_provider_id(&organization.key)),
            npi: npi.clone(),
            draft: ProviderDraft {
                id: None,
                npi: npi.map(|npi| npi.as_str().to_owned()),
                name,
                care_types,
                certifications: Vec::new(),
                treats: Vec::new(),
                locations,
                modes,
                languages,
                accepting_new_clients: facts.accepting(),
                insurance: Vec::new(),
                accepts_fsa_hsa: false,
                provides_superbill: false,
                requires_referral: false,
                self_pay_rate_usd: None,
                bio: None,
                licensed_regions: Vec::new(),
                home_visit_radius_km: None,
            },
            source: Source::Fhir,
        }))
    }

    /// The key of a reference that must name a resource of the file that parsed.
    pub(super) fn existing_key(
        &self,
        reference: &Reference,
        field: &str,
    ) -> Result<String, Failure> {
        let key = self
            .resolve(reference)
            .ok_or_else(|| Failure::new(field, "has no reference"))?;
        if self.failed.contains(&key) {
            return Err(Failure::new(field, format!("{key} failed to parse")));
        }
        Ok(key)
    }

    pub(super) fn location(
        &self,
        reference: &Reference,
        field: &str,
    ) -> Result<LocationDraft, Failure> {
        let key = self.existing_key(reference, field)?;
        let location = self
            .locations
            .get(&key)
            .ok_or_else(|| Failure::new(field, format!("{key} is not in the file")))?;
        location_draft(location, &key)
    }
}

/// Why a provider could not be built: the field and the problem.
pub(super) struct Failure {
    pub(super) field: String,
    pub(super) problem: String,
}

impl Failure {
    pub(super) fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

pub(super) fn push_unique<T: PartialEq>(items: &mut Vec<T>, item: T) {
    if !items.contains(&item) {
        items.push(item);
    }
}

fn parse_npi(text: Option<&str>) -> Result<Option<Npi>, Failure> {
    text.map(|text| {
        Npi::parse(text).map_err(|error| Failure::new("identifier(us-npi)", error.problem))
    })
    .transpose()
}

/// NUCC codes (system NUCC, or no system) of `specialties` that map to care types.
pub(super) fn add_care_types(care_types: &mut Vec<CareType>, specialties: &[CodeableConcept]) {
    for specialty in specialties {
        for coding in &specialty.coding {
            let nucc = coding
                .system
                .as_deref()
                .is_none_or(|system| system == NUCC_SYSTEM);
            if let (true, Some(care_type)) =
                (nucc, coding.code.as_deref().and_then(care_type_of_taxonomy))
            {
                push_unique(care_types, care_type);
            }
        }
    }
}

fn practitioner_name(practitioner: &Practitioner) -> Option<String> {
    let name = practitioner.name.first()?;
    if let Some(text) = name
        .text
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        return Some(text.to_owned());
    }
    let mut words: Vec<&str> = name.given.iter().map(String::as_str).collect();
    words.extend(name.family.as_deref());
    let mut full = words
        .iter()
        .map(|word| word.trim())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if full.is_empty() {
        return None;
    }
    for suffix in &name.suffix {
        full.push_str(", ");
        full.push_str(suffix.trim());
    }
    Some(full)
}

/// Coordinates from `position`, else the postal-code centroid; the address as written.
fn location_draft(location: &Location, key: &str) -> Result<LocationDraft, Failure> {
    let address = location.address.clone().unwrap_or_default();
    let postal_code = address
        .postal_code
        .as_deref()
        .filter(|text| !text.trim().is_empty())
        .map(|text| {
            PostalCode::parse_truncating_plus_four(text).map_err(|_| {
                Failure::new(
                    format!("{key}.address.postalCode"),
                    format!("`{text}` is not a 5-digit or ZIP+4 postal code"),
                )
            })
        })
        .transpose()?;
    let centroid = postal_code
        .as_ref()
        .and_then(|code| PostalCodes::embedded().get(code.as_str()));
    let (latitude, longitude) = match (location.position, centroid) {
        (Some(position), _) => (position.latitude, position.longitude),
        (None, Some(centroid)) => (centroid.latitude, centroid.longitude),
        (None, None) => {
            return Err(Failure::new(
                format!("{key}.position"),
                "is missing and the postal code has no centroid",
            ));
        }
    };
    let region = match address.state.as_deref().map(str::trim) {
        Some(state) if !state.is_empty() => Some(
            Region::parse(state)
                .map_err(|error| Failure::new(format!("{key}.address.state"), error.problem))?
                .as_str()
                .to_owned(),
        ),
        _ => centroid.map(|centroid| centroid.state().to_owned()),
    };
    let line = address
        .line
        .iter()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(LocationDraft {
        latitude,
        longitude,
        address: (!line.is_empty()).then_some(line),
        city: address
            .city
            .map(|city| city.trim().to_owned())
            .filter(|city| !city.is_empty()),
        region,
        postal_code: postal_code.map(|code| code.as_str().to_owned()),
    })
}
