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
//!
//! `resources` splits the file, `directory` types and indexes it, `providers` builds each
//! provider from it, with its insurance from `insurance` and what the extensions say from
//! `extensions`.

mod directory;
mod extensions;
mod insurance;
pub mod model;
mod providers;
mod resources;

use std::path::Path;
use std::sync::Arc;

use carematch_store::Store;

use crate::summary::ImportSummary;
use crate::write::BatchWriter;
use crate::{IngestError, Progress};

use self::directory::Directory;
use self::resources::split_resources;

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
