//! FHIR R4 provider directories in the Da Vinci PDex Plan-Net profiles: a Bundle (JSON) or
//! NDJSON (one resource per line, as bulk `$export` writes) of Practitioner, PractitionerRole,
//! Location, Organization, HealthcareService and InsurancePlan resources.
//!
//! The whole file is read into memory, since references must be resolved across it (a payer's
//! directory, not a national registry). Two kinds of resources become providers:
//!
//! - a **Practitioner** with its active PractitionerRoles (`PractitionerRole.practitioner`);
//! - an **Organization** that provides active HealthcareServices (`HealthcareService.providedBy`):
//!   a clinic, practice or group.
//!
//! Fields, per provider:
//!
//! | provider field | from |
//! |---|---|
//! | npi | `identifier` with system `http://hl7.org/fhir/sid/us-npi` |
//! | name | `Practitioner.name[0]` (`text`, else given + family + suffixes); `Organization.name` |
//! | care types | NUCC codes in the roles' / services' `specialty` ([`crate::taxonomy`]) |
//! | locations | the roles' / services' `location` references: `Location.position`, else the centroid of `address.postalCode` (ZIP+4 cut) |
//! | modes | IN_PERSON with a location; TELEHEALTH when a role or service has the `delivery-method` extension of type `virtual`; HOME_VISIT for a service of category `home` |
//! | accepting new clients | the `newpatients` extension (`acceptingPatients` `newpt`, or `true`) on any role or service; yes when none says |
//! | languages | `Practitioner.communication` / `HealthcareService.communication`, dropping those whose `communication-proficiency` is below `30` (general professional) |
//! | insurance | each role's `network-reference` → the network Organization → payer: the network's `partOf` Organization (else the network's name); plan: each InsurancePlan listing the network (`network` or `plan.network`), else every plan of the payer |
//! | insurance care types | the care types of the role's specialties: a contract belongs to the care the role gives (care-guide.md section 5, 2nd edition), so a PT role's network says nothing of the same practitioner's massage; narrowed to those the plan's `coverage` (`type` or `benefit.type`, for that network or every network) names by NUCC code or as `mental` health, when it names any; a plan whose coverage names none of the role's care types is left out for that role, and a role whose specialties map to no care type contributes no network |
//! | certifications | `Practitioner.qualification`: the perinatal credentials of care-guide section 4 (IBCLC, CLC, CLE, PMH-C, CD(DONA), PCD(DONA), CPD, CLD, PWCS, CAPP-OB, CAPP-Pelvic, PRPC) with scope PERINATAL, any other (a licence, a degree) GENERAL; verified, as the payer's directory credentialed them |
//! | certification care type | a qualification that also carries a NUCC coding (`Massage Therapist` beside the text `State massage licence`) is for that taxonomy's care type; a credential the care guide's table names keeps the table's care type, so none is written for it |
//! | licensed regions | the `whereValid` states of the `practitioner-qualification` extension |
//!
//! A provider is matched to the stored one by NPI, else by a stable id derived from its
//! resource (`Practitioner/abc`), so a re-import updates in place. A resource that does not parse
//! fails with its JSON path; a provider whose role or service refers to a resource missing from
//! the file, or that failed, fails as a whole (nothing partial is written).

pub mod model;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use carematch_domain::credentials::known_credential;
use carematch_domain::{
    CareMode, CareType, CertificationDraft, CertificationScope, InsurancePlanDraft, LocationDraft,
    Npi, PostalCode, ProviderDraft, Region,
};
use carematch_postal::PostalCodes;
use carematch_store::Store;
use serde::de::DeserializeOwned;
use serde_json::Value;

use self::model::{
    CodeableConcept, Extension, HealthcareService, InsurancePlan, Location, Organization,
    Practitioner, PractitionerRole, Reference, extensions_named, npi_of,
};
use crate::summary::ImportSummary;
use crate::taxonomy::{NUCC_SYSTEM, care_type_of_taxonomy};
use crate::write::{BatchWriter, Candidate, Source, stable_provider_id};
use crate::{IngestError, Progress, SkipReason};

/// Imports a FHIR Bundle or NDJSON file. See the module documentation for the mapping.
pub async fn import_fhir_file(
    store: &Store,
    path: &Path,
    progress: Arc<dyn Progress>,
) -> Result<ImportSummary, IngestError> {
    // Bytes, not text: an NDJSON line that is not UTF-8 is one bad line, not a file that
    // cannot be read.
    let bytes = std::fs::read(path).map_err(|source| IngestError::Open {
        path: path.display().to_string(),
        source,
    })?;
    progress.start(bytes.len() as u64);
    let summary = import_fhir_bytes(store, &bytes, progress.as_ref()).await;
    progress.finish();
    summary
}

/// Imports a FHIR Bundle or NDJSON text.
pub async fn import_fhir(
    store: &Store,
    text: &str,
    progress: &dyn Progress,
) -> Result<ImportSummary, IngestError> {
    import_fhir_bytes(store, text.as_bytes(), progress).await
}

/// Imports a FHIR Bundle or NDJSON file's bytes; an NDJSON line that is not UTF-8 fails alone.
pub async fn import_fhir_bytes(
    store: &Store,
    text: &[u8],
    progress: &dyn Progress,
) -> Result<ImportSummary, IngestError> {
    let mut summary = ImportSummary::default();
    let raw = split_resources(text, &mut summary)?;
    let directory = Directory::parse(raw, &mut summary);
    let candidates = directory.providers(&mut summary);
    let total = candidates.len().max(1) as u64;
    let mut writer = BatchWriter::new(store);
    let mut written = 0_u64;
    for batch in candidates.chunks(crate::DEFAULT_BATCH_SIZE) {
        writer.write(batch.to_vec()).await?;
        written += batch.len() as u64;
        progress.advance_to(text.len() as u64 * written / total);
    }
    summary.absorb(writer.summary);
    Ok(summary)
}

/// One resource as found in the file, before typing.
struct RawResource {
    /// The line (NDJSON) or the entry's index plus one (Bundle).
    position: u64,
    /// `line 3` or `entry[2]`, for resources without a usable type and id.
    place: String,
    /// The Bundle entry's `fullUrl`, which references may use instead of `Type/id`.
    full_url: Option<String>,
    value: Value,
}

/// A Bundle's entries, or NDJSON's lines; a single non-Bundle resource counts as one line.
fn split_resources(
    text: &[u8],
    summary: &mut ImportSummary,
) -> Result<Vec<RawResource>, IngestError> {
    if let Ok(document) = serde_json::from_slice::<Value>(text) {
        if document.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
            let entries = document
                .get("entry")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            return Ok(entries
                .into_iter()
                .enumerate()
                .map(|(index, mut entry)| RawResource {
                    position: index as u64 + 1,
                    place: format!("entry[{index}]"),
                    full_url: entry
                        .get("fullUrl")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    value: entry
                        .get_mut("resource")
                        .map(Value::take)
                        .unwrap_or(Value::Null),
                })
                .collect());
        }
        if document.get("resourceType").is_some() {
            return Ok(vec![RawResource {
                position: 1,
                place: "line 1".to_owned(),
                full_url: None,
                value: document,
            }]);
        }
    }
    let mut resources = Vec::new();
    let mut bad_lines = 0_u64;
    for (index, line) in text.split(|byte| *byte == b'\n').enumerate() {
        let position = index as u64 + 1;
        let line = match std::str::from_utf8(line) {
            Ok(line) => line,
            Err(error) => {
                bad_lines += 1;
                summary.read += 1;
                summary.fail(
                    position,
                    format!("line {position}"),
                    "",
                    format!(
                        "not valid UTF-8 (at byte {} of the line)",
                        error.valid_up_to() + 1
                    ),
                );
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(value) => resources.push(RawResource {
                position,
                place: format!("line {position}"),
                full_url: None,
                value,
            }),
            Err(error) => {
                bad_lines += 1;
                summary.read += 1;
                summary.fail(
                    position,
                    format!("line {position}"),
                    "",
                    format!("not JSON: {error}"),
                );
            }
        }
    }
    if resources.is_empty() && bad_lines > 0 {
        return Err(IngestError::NotFhir(
            "no line is a JSON resource and the file is no JSON Bundle".to_owned(),
        ));
    }
    Ok(resources)
}

/// A typed resource with where it was found.
struct Found<T> {
    position: u64,
    key: String,
    resource: T,
}

/// Every resource of the file, typed and indexed by `Type/id`.
#[derive(Default)]
struct Directory {
    practitioners: Vec<Found<Practitioner>>,
    roles: Vec<Found<PractitionerRole>>,
    services: Vec<Found<HealthcareService>>,
    /// `HealthcareService/id` → its place in `services`.
    service_index: HashMap<String, usize>,
    locations: HashMap<String, Location>,
    organizations: HashMap<String, Found<Organization>>,
    plans: Vec<InsurancePlan>,
    /// Keys of resources that failed to parse: providers referring to them fail too.
    failed: HashSet<String>,
    /// Bundle `fullUrl` → `Type/id`.
    aliases: HashMap<String, String>,
}

impl Directory {
    fn parse(raw: Vec<RawResource>, summary: &mut ImportSummary) -> Directory {
        let mut directory = Directory::default();
        for resource in raw {
            summary.read += 1;
            let Some(kind) = resource
                .value
                .get("resourceType")
                .and_then(Value::as_str)
                .map(str::to_owned)
            else {
                summary.fail(
                    resource.position,
                    resource.place,
                    "resourceType",
                    "is missing",
                );
                continue;
            };
            let id = resource.value.get("id").and_then(Value::as_str);
            let key = match id {
                Some(id) => format!("{kind}/{id}"),
                None => format!("{kind} at {}", resource.place),
            };
            if let Some(full_url) = &resource.full_url {
                directory.aliases.insert(full_url.clone(), key.clone());
            }
            let position = resource.position;
            match kind.as_str() {
                "Practitioner" => {
                    if let Some(practitioner) =
                        directory.typed::<Practitioner>(&key, position, resource.value, summary)
                    {
                        directory.practitioners.push(Found {
                            position,
                            key,
                            resource: practitioner,
                        });
                    }
                }
                "PractitionerRole" => {
                    if let Some(role) =
                        directory.typed::<PractitionerRole>(&key, position, resource.value, summary)
                    {
                        directory.roles.push(Found {
                            position,
                            key,
                            resource: role,
                        });
                    }
                }
                "HealthcareService" => {
                    if let Some(service) = directory.typed::<HealthcareService>(
                        &key,
                        position,
                        resource.value,
                        summary,
                    ) {
                        directory
                            .service_index
                            .insert(key.clone(), directory.services.len());
                        directory.services.push(Found {
                            position,
                            key,
                            resource: service,
                        });
                    }
                }
                "Location" => {
                    if let Some(location) =
                        directory.typed::<Location>(&key, position, resource.value, summary)
                    {
                        directory.locations.insert(key, location);
                    }
                }
                "Organization" => {
                    if let Some(organization) =
                        directory.typed::<Organization>(&key, position, resource.value, summary)
                    {
                        directory.organizations.insert(
                            key.clone(),
                            Found {
                                position,
                                key,
                                resource: organization,
                            },
                        );
                    }
                }
                "InsurancePlan" => {
                    if let Some(plan) =
                        directory.typed::<InsurancePlan>(&key, position, resource.value, summary)
                    {
                        directory.plans.push(plan);
                    }
                }
                _ => summary.skip(SkipReason::UnsupportedResourceType),
            }
        }
        directory
    }

    fn typed<T: DeserializeOwned>(
        &mut self,
        key: &str,
        position: u64,
        value: Value,
        summary: &mut ImportSummary,
    ) -> Option<T> {
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(resource) => Some(resource),
            Err(error) => {
                let path = error.path().to_string();
                summary.fail(position, key, path, error.into_inner().to_string());
                self.failed.insert(key.to_owned());
                None
            }
        }
    }

    /// `Type/id` of a reference: relative (`Location/1`), absolute
    /// (`https://example.org/fhir/Location/1`) or a Bundle `fullUrl` (`urn:uuid:...`).
    fn resolve(&self, reference: &Reference) -> Option<String> {
        let text = reference.reference.as_deref()?.trim();
        if let Some(key) = self.aliases.get(text) {
            return Some(key.clone());
        }
        let mut segments = text.rsplit('/');
        let id = segments.next()?;
        let kind = segments.next()?;
        Some(format!("{kind}/{id}"))
    }

    /// Every provider the directory describes, in file order.
    fn providers(&self, summary: &mut ImportSummary) -> Vec<Candidate> {
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

    fn practitioner_provider(
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

    fn organization_provider(
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
    fn existing_key(&self, reference: &Reference, field: &str) -> Result<String, Failure> {
        let key = self
            .resolve(reference)
            .ok_or_else(|| Failure::new(field, "has no reference"))?;
        if self.failed.contains(&key) {
            return Err(Failure::new(field, format!("{key} failed to parse")));
        }
        Ok(key)
    }

    fn location(&self, reference: &Reference, field: &str) -> Result<LocationDraft, Failure> {
        let key = self.existing_key(reference, field)?;
        let location = self
            .locations
            .get(&key)
            .ok_or_else(|| Failure::new(field, format!("{key} is not in the file")))?;
        location_draft(location, &key)
    }

    /// The insurance entries of one network: its payer, with each plan that uses the network,
    /// for the care types of the role that lists it (`role_care_types`, never empty) that the
    /// plan covers.
    fn network_plans(
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
    fn coverage_care_types(
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

/// Why a provider could not be built: the field and the problem.
struct Failure {
    field: String,
    problem: String,
}

impl Failure {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
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
fn add_contract(contracts: &mut Vec<InsurancePlanDraft>, contract: InsurancePlanDraft) {
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

fn push_unique<T: PartialEq>(items: &mut Vec<T>, item: T) {
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
fn add_care_types(care_types: &mut Vec<CareType>, specialties: &[CodeableConcept]) {
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

/// What roles' and services' extensions say about how and whether care is given.
#[derive(Default)]
struct DeliveryFacts {
    virtual_delivery: bool,
    home_visits: bool,
    /// One entry per `newpatients` extension seen: whether it accepts new patients.
    accepting: Vec<bool>,
}

impl DeliveryFacts {
    fn read(&mut self, extensions: &[Extension]) {
        for extension in extensions_named(extensions, "delivery-method") {
            for kind in extension.sub("type") {
                if kind
                    .value_codeable_concept
                    .as_ref()
                    .is_some_and(|concept| concept.has_code("virtual"))
                    || kind.value_code.as_deref() == Some("virtual")
                {
                    self.virtual_delivery = true;
                }
            }
        }
        for extension in extensions_named(extensions, "newpatients") {
            for accepting in extension.sub("acceptingPatients") {
                let yes = accepting.value_boolean.unwrap_or(false)
                    || accepting
                        .value_codeable_concept
                        .as_ref()
                        .is_some_and(|concept| concept.has_code("newpt"));
                self.accepting.push(yes);
            }
        }
    }

    /// Plan-Net's HealthcareService category `home` (home health).
    fn read_categories(&mut self, categories: &[CodeableConcept]) {
        if categories.iter().any(|category| category.has_code("home")) {
            self.home_visits = true;
        }
    }

    /// `None` when the provider can be reached no way at all.
    fn modes(&self, has_location: bool) -> Option<Vec<CareMode>> {
        let mut modes = Vec::new();
        if has_location {
            modes.push(CareMode::InPerson);
            if self.home_visits {
                modes.push(CareMode::HomeVisit);
            }
        }
        if self.virtual_delivery {
            modes.push(CareMode::Telehealth);
        }
        (!modes.is_empty()).then_some(modes)
    }

    /// Accepting when any `newpatients` extension says so, or when none is given.
    fn accepting(&self) -> bool {
        self.accepting.is_empty() || self.accepting.iter().any(|yes| *yes)
    }
}

/// Plan-Net's `communication-proficiency` codes below this (`00` none, `10` elementary, `20`
/// limited working) are not enough to give care in the language.
const MIN_PROFICIENCY: &str = "30";

/// The languages a provider can give care in, as names (`Spanish`).
fn languages_of(communication: &[CodeableConcept]) -> Vec<String> {
    let mut languages = Vec::new();
    for concept in communication {
        let proficient = extensions_named(&concept.extension, "communication-proficiency")
            .filter_map(|extension| extension.value_codeable_concept.as_ref())
            .flat_map(CodeableConcept::codes)
            .all(|code| code >= MIN_PROFICIENCY);
        if !proficient {
            continue;
        }
        let name = concept
            .coding
            .iter()
            .find_map(|coding| coding.display.clone())
            .or_else(|| concept.text.clone())
            .or_else(|| {
                concept
                    .codes()
                    .next()
                    .map(|code| language_name(code).unwrap_or(code).to_owned())
            });
        if let Some(name) = name
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
        {
            push_unique(&mut languages, name);
        }
    }
    languages
}

/// English names of the BCP-47 primary language subtags common in US directories.
fn language_name(code: &str) -> Option<&'static str> {
    let primary = code.split('-').next().unwrap_or(code).to_ascii_lowercase();
    Some(match primary.as_str() {
        "en" => "English",
        "es" => "Spanish",
        "zh" => "Chinese",
        "vi" => "Vietnamese",
        "ko" => "Korean",
        "tl" => "Tagalog",
        "ru" => "Russian",
        "ar" => "Arabic",
        "fr" => "French",
        "ht" => "Haitian Creole",
        "pt" => "Portuguese",
        "de" => "German",
        "hi" => "Hindi",
        "ja" => "Japanese",
        "so" => "Somali",
        "am" => "Amharic",
        "pl" => "Polish",
        "fa" => "Persian",
        "ur" => "Urdu",
        "bn" => "Bengali",
        "pa" => "Punjabi",
        "it" => "Italian",
        "hmn" => "Hmong",
        "sgn" | "ase" => "American Sign Language",
        _ => return None,
    })
}

/// The perinatal credentials of care-guide.md section 4: the spellings met in directories (upper
/// case, without spaces), the canonical name and the issuer.
const PERINATAL_CREDENTIALS: &[(&[&str], &str, &str)] = &[
    (&["IBCLC"], "IBCLC", "IBLCE"),
    (&["CLC"], "CLC", "ALPP"),
    (&["CLE"], "CLE", "CAPPA"),
    (
        &["PMH-C", "PMHC"],
        "PMH-C",
        "Postpartum Support International",
    ),
    (
        &["CD(DONA)", "CDDONA", "CD-DONA"],
        "CD(DONA)",
        "DONA International",
    ),
    (
        &["PCD(DONA)", "PCDDONA", "PCD-DONA"],
        "PCD(DONA)",
        "DONA International",
    ),
    (&["CPD"], "CPD", "CAPPA"),
    (&["CLD"], "CLD", "CAPPA"),
    (&["PWCS", "WCS"], "PWCS", "ABPTS"),
    (&["CAPP-OB", "CAPPOB"], "CAPP-OB", "APTA Pelvic Health"),
    (
        &["CAPP-PELVIC", "CAPPPELVIC"],
        "CAPP-Pelvic",
        "APTA Pelvic Health",
    ),
    (&["PRPC"], "PRPC", "Herman & Wallace"),
];

/// A qualification as a certification: a known perinatal credential (by code, display or text)
/// with scope PERINATAL, anything else GENERAL under the name the directory gives. A NUCC code
/// alone is a specialty, not a certification, and gives none; beside another coding or a text
/// it says which care type the credential is for.
fn certification_of(qualification: &model::Qualification) -> Option<CertificationDraft> {
    let code = &qualification.code;
    let is_nucc = |coding: &model::Coding| coding.system.as_deref() == Some(NUCC_SYSTEM);
    let taxonomy_care_type = code
        .coding
        .iter()
        .filter(|coding| is_nucc(coding))
        .find_map(|coding| coding.code.as_deref().and_then(care_type_of_taxonomy));
    let named: Vec<&model::Coding> = code
        .coding
        .iter()
        .filter(|coding| !is_nucc(coding))
        .collect();
    if named.is_empty() && code.text.is_none() {
        return None;
    }
    let spellings: Vec<String> = named
        .iter()
        .flat_map(|coding| [coding.code.as_deref(), coding.display.as_deref()])
        .chain([code.text.as_deref()])
        .flatten()
        .map(|text| text.to_ascii_uppercase().replace(' ', ""))
        .collect();
    let issuer = qualification
        .issuer
        .as_ref()
        .and_then(|issuer| issuer.display.clone());
    for (aliases, name, credential_issuer) in PERINATAL_CREDENTIALS {
        if spellings
            .iter()
            .any(|spelling| aliases.contains(&spelling.as_str()))
        {
            // The care guide's table knows these: it decides their care type.
            return Some(CertificationDraft {
                name: (*name).to_owned(),
                issuer: Some((*credential_issuer).to_owned()),
                scope: CertificationScope::Perinatal,
                verified: true,
                care_type: None,
            });
        }
    }
    let name = code
        .text
        .clone()
        .or_else(|| named.iter().find_map(|coding| coding.display.clone()))
        .or_else(|| named.iter().find_map(|coding| coding.code.clone()))?;
    let name = name.trim().to_owned();
    // Written only where the table does not already say it (care-guide.md section 4).
    let care_type = taxonomy_care_type.filter(|_| known_credential(&name).is_none());
    Some(CertificationDraft {
        name,
        issuer,
        scope: CertificationScope::General,
        verified: true,
        care_type,
    })
}
