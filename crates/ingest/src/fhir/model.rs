//! Typed serde structs for the subset of FHIR R4 (Da Vinci PDex Plan-Net profiles) the import
//! reads. Unknown fields are ignored; every field is optional or defaults to empty, so a valid
//! resource of any Plan-Net version parses and a wrongly typed field fails with its path.
//!
//! No FHIR model crate is used: six resources and a few dozen fields are read, and typed
//! structs for just those keep the build light and every mapped field visible here.

use serde::Deserialize;

/// `http://hl7.org/fhir/sid/us-npi`: the identifier system of NPIs.
pub const NPI_SYSTEM: &str = "http://hl7.org/fhir/sid/us-npi";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Identifier {
    pub system: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Coding {
    pub system: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CodeableConcept {
    pub coding: Vec<Coding>,
    pub text: Option<String>,
    /// Plan-Net puts `communication-proficiency` on `Practitioner.communication` itself.
    pub extension: Vec<Extension>,
}

impl CodeableConcept {
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.coding
            .iter()
            .filter_map(|coding| coding.code.as_deref())
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.codes().any(|candidate| candidate == code)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Reference {
    pub reference: Option<String>,
    pub display: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Extension {
    pub url: String,
    pub value_boolean: Option<bool>,
    pub value_code: Option<String>,
    pub value_codeable_concept: Option<CodeableConcept>,
    pub value_reference: Option<Reference>,
    pub extension: Vec<Extension>,
}

impl Extension {
    /// The last path segment of the url: `newpatients` for
    /// `http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/newpatients`, and the
    /// whole url of a sub-extension (`acceptingPatients`).
    pub fn name(&self) -> &str {
        self.url.rsplit('/').next().unwrap_or_default()
    }

    /// The sub-extensions called `name`.
    pub fn sub<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Extension> {
        self.extension
            .iter()
            .filter(move |extension| extension.name() == name)
    }
}

/// The extensions among `extensions` whose url ends in `/name`.
pub fn extensions_named<'a>(
    extensions: &'a [Extension],
    name: &'a str,
) -> impl Iterator<Item = &'a Extension> {
    extensions
        .iter()
        .filter(move |extension| extension.name() == name)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HumanName {
    pub text: Option<String>,
    pub family: Option<String>,
    pub given: Vec<String>,
    pub suffix: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Address {
    pub line: Vec<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Qualification {
    pub code: CodeableConcept,
    pub issuer: Option<Reference>,
    pub extension: Vec<Extension>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Practitioner {
    pub id: Option<String>,
    pub active: Option<bool>,
    pub identifier: Vec<Identifier>,
    pub name: Vec<HumanName>,
    pub qualification: Vec<Qualification>,
    pub communication: Vec<CodeableConcept>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PractitionerRole {
    pub id: Option<String>,
    pub active: Option<bool>,
    pub practitioner: Option<Reference>,
    pub organization: Option<Reference>,
    pub specialty: Vec<CodeableConcept>,
    pub location: Vec<Reference>,
    pub healthcare_service: Vec<Reference>,
    pub extension: Vec<Extension>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct Position {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Location {
    pub id: Option<String>,
    pub status: Option<String>,
    pub name: Option<String>,
    pub address: Option<Address>,
    pub position: Option<Position>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Organization {
    pub id: Option<String>,
    pub active: Option<bool>,
    pub identifier: Vec<Identifier>,
    #[serde(rename = "type")]
    pub kind: Vec<CodeableConcept>,
    pub name: Option<String>,
    pub part_of: Option<Reference>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HealthcareService {
    pub id: Option<String>,
    pub active: Option<bool>,
    pub provided_by: Option<Reference>,
    pub category: Vec<CodeableConcept>,
    pub specialty: Vec<CodeableConcept>,
    pub location: Vec<Reference>,
    pub name: Option<String>,
    pub communication: Vec<CodeableConcept>,
    pub extension: Vec<Extension>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PlanNetwork {
    pub network: Vec<Reference>,
}

/// `InsurancePlan.coverage.benefit`: a benefit of a coverage, by type.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CoverageBenefit {
    #[serde(rename = "type")]
    pub kind: CodeableConcept,
}

/// `InsurancePlan.coverage`: the kind of service covered (`type`), in which networks (none
/// listed: every network of the plan), with which benefits.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Coverage {
    #[serde(rename = "type")]
    pub kind: CodeableConcept,
    pub network: Vec<Reference>,
    pub benefit: Vec<CoverageBenefit>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InsurancePlan {
    pub id: Option<String>,
    pub status: Option<String>,
    pub name: Option<String>,
    pub owned_by: Option<Reference>,
    pub network: Vec<Reference>,
    pub coverage: Vec<Coverage>,
    pub plan: Vec<PlanNetwork>,
}

/// The NPI among a resource's identifiers, as written.
pub fn npi_of(identifiers: &[Identifier]) -> Option<&str> {
    identifiers
        .iter()
        .find(|identifier| identifier.system.as_deref() == Some(NPI_SYSTEM))
        .and_then(|identifier| identifier.value.as_deref())
}
