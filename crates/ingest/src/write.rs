//! The write side shared by both importers: a batch of parsed records becomes providers through
//! the store's ordinary upsert (so the data generation moves and `updated_at` is stamped like
//! any other write), each matched to the provider already holding its NPI (or, for FHIR
//! resources without one, its stable id) and merged with it, so a re-import updates instead of
//! duplicating, and leaves untouched what it does not know.

use std::collections::{HashMap, HashSet};

use carematch_domain::{Npi, Provider, ProviderDraft, ProviderId};
use carematch_store::{Store, StoreError, UpsertOutcome};

use crate::IngestError;
use crate::summary::ImportSummary;

/// Which importer a record came from: it decides which fields the record owns in a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Nppes,
    Fhir,
}

/// One parsed record, ready to become a provider.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// Line number or resource position, for ordering failures.
    pub position: u64,
    /// `line 12` or `Practitioner/abc`.
    pub record: String,
    pub npi: Option<Npi>,
    /// The id a provider without a stored match gets, when it must be stable across imports
    /// (FHIR resources without an NPI); `None` draws a random id.
    pub stable_id: Option<ProviderId>,
    /// The record's data; its `id` is ignored.
    pub draft: ProviderDraft,
    pub source: Source,
}

impl Candidate {
    fn key(&self) -> Key {
        match (&self.npi, self.stable_id) {
            (Some(npi), _) => Key::Npi(npi.clone()),
            (None, Some(id)) => Key::Id(id),
            (None, None) => Key::Position(self.position),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Npi(Npi),
    Id(ProviderId),
    Position(u64),
}

/// Writes batches and counts what happened.
pub(crate) struct BatchWriter<'a> {
    store: &'a Store,
    pub summary: ImportSummary,
}

impl<'a> BatchWriter<'a> {
    pub fn new(store: &'a Store) -> Self {
        Self {
            store,
            summary: ImportSummary::default(),
        }
    }

    /// Writes one batch. Two records for the same provider go to separate transactions, in
    /// file order, so the later one merges onto the earlier.
    pub async fn write(&mut self, batch: Vec<Candidate>) -> Result<(), IngestError> {
        let mut part: Vec<Candidate> = Vec::with_capacity(batch.len());
        let mut keys: HashSet<Key> = HashSet::with_capacity(batch.len());
        for candidate in batch {
            if !keys.insert(candidate.key()) {
                self.write_unique(std::mem::take(&mut part)).await?;
                keys = HashSet::from([candidate.key()]);
            }
            part.push(candidate);
        }
        self.write_unique(part).await
    }

    async fn write_unique(&mut self, batch: Vec<Candidate>) -> Result<(), IngestError> {
        if batch.is_empty() {
            return Ok(());
        }
        let npis: Vec<Npi> = batch
            .iter()
            .filter_map(|candidate| candidate.npi.clone())
            .collect();
        let by_npi = self.store.providers_by_npi(&npis).await?;
        let stable_ids: Vec<ProviderId> = batch
            .iter()
            .filter_map(|candidate| candidate.stable_id)
            .collect();
        let by_id: HashMap<ProviderId, Provider> = if stable_ids.is_empty() {
            HashMap::new()
        } else {
            self.store
                .get_providers(&stable_ids)
                .await?
                .into_iter()
                .map(|provider| (provider.id, provider))
                .collect()
        };

        let mut to_write: Vec<(Candidate, Provider)> = Vec::with_capacity(batch.len());
        for candidate in batch {
            let existing = candidate
                .npi
                .as_ref()
                .and_then(|npi| by_npi.get(npi))
                .or_else(|| candidate.stable_id.and_then(|id| by_id.get(&id)));
            let (id, draft) = match existing {
                Some(existing) => (
                    existing.id,
                    merge(
                        existing.to_draft(),
                        candidate.draft.clone(),
                        candidate.source,
                    ),
                ),
                None => (
                    candidate
                        .stable_id
                        .unwrap_or_else(|| ProviderId::from_uuid(uuid::Uuid::new_v4())),
                    candidate.draft.clone(),
                ),
            };
            let mut draft = draft;
            draft.id = Some(id.to_string());
            match draft.validate(id) {
                Ok(provider) if existing == Some(&provider) => self.summary.unchanged += 1,
                Ok(provider) => to_write.push((candidate, provider)),
                Err(error) => self.summary.fail(
                    candidate.position,
                    candidate.record,
                    error.field,
                    error.problem,
                ),
            }
        }
        if to_write.is_empty() {
            return Ok(());
        }

        let providers: Vec<Provider> = to_write
            .iter()
            .map(|(_, provider)| provider.clone())
            .collect();
        match self.store.upsert_providers(&providers).await {
            Ok(outcomes) => {
                for (provider, outcome) in providers.iter().zip(outcomes) {
                    self.count(provider.id, outcome);
                }
            }
            // A conflict fails the whole transaction: retry one by one so only the
            // offending records fail.
            Err(StoreError::NpiConflict { .. }) => {
                for (candidate, provider) in to_write {
                    match self.store.upsert_provider(&provider).await {
                        Ok(outcome) => self.count(provider.id, outcome),
                        Err(error @ StoreError::NpiConflict { .. }) => self.summary.fail(
                            candidate.position,
                            candidate.record,
                            "npi",
                            error.to_string(),
                        ),
                        Err(error) => return Err(error.into()),
                    }
                }
            }
            Err(error) => return Err(error.into()),
        }
        Ok(())
    }

    fn count(&mut self, id: ProviderId, outcome: UpsertOutcome) {
        match outcome {
            UpsertOutcome::Created => self.summary.created += 1,
            UpsertOutcome::Updated => self.summary.updated += 1,
        }
        self.summary.changed_provider_ids.push(id);
    }
}

/// The stored provider updated with what the record knows. Each source owns the fields it
/// describes and leaves the rest (an admin's bio, a directory's certifications) alone:
///
/// - NPPES owns the name and NPI; its care types, modes and licence states are added to the
///   stored ones; its practice location replaces the stored locations unless one of them is
///   already at the same postal code (a directory's exact coordinates beat a centroid); its
///   credential becomes a certification only when the provider has none.
/// - FHIR owns the name, modes, accepting new clients and insurance; replaces locations,
///   certifications and languages when it lists any; adds its care types and licence states.
fn merge(stored: ProviderDraft, record: ProviderDraft, source: Source) -> ProviderDraft {
    let mut merged = stored;
    merged.name = record.name;
    merged.npi = record.npi.or(merged.npi);
    union_into(&mut merged.care_types, record.care_types);
    union_into(&mut merged.licensed_regions, record.licensed_regions);
    match source {
        Source::Nppes => {
            let same_place = record.locations.iter().any(|new| {
                merged
                    .locations
                    .iter()
                    .any(|old| old.postal_code.is_some() && old.postal_code == new.postal_code)
            });
            if !same_place {
                merged.locations = record.locations;
            }
            union_into(&mut merged.modes, record.modes);
            if merged.certifications.is_empty() {
                merged.certifications = record.certifications;
            }
        }
        Source::Fhir => {
            if !record.locations.is_empty() {
                merged.locations = record.locations;
            }
            merged.modes = record.modes;
            if !record.certifications.is_empty() {
                merged.certifications = record.certifications;
            }
            if !record.languages.is_empty() {
                merged.languages = record.languages;
            }
            merged.accepting_new_clients = record.accepting_new_clients;
            merged.insurance = record.insurance;
        }
    }
    merged
}

fn union_into<T: PartialEq>(into: &mut Vec<T>, more: Vec<T>) {
    for item in more {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

/// A provider id derived from a text (a FHIR resource's type and id): the same text gives the
/// same id on every import, so a directory entry without an NPI is still updated in place.
pub(crate) fn stable_provider_id(text: &str) -> ProviderId {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(text.as_bytes());
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    ProviderId::from_uuid(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

#[cfg(test)]
mod tests {
    use carematch_domain::{
        CareMode, CareType, CertificationDraft, CertificationScope, LocationDraft,
    };

    use super::*;

    fn draft(name: &str, postal_code: &str, latitude: f64) -> ProviderDraft {
        ProviderDraft {
            id: None,
            npi: Some("1234567893".to_owned()),
            name: name.to_owned(),
            care_types: vec![CareType::Doula],
            certifications: vec![],
            treats: vec![],
            locations: vec![LocationDraft {
                latitude,
                longitude: -122.6,
                address: None,
                city: None,
                region: Some("OR".to_owned()),
                postal_code: Some(postal_code.to_owned()),
            }],
            modes: vec![CareMode::InPerson],
            languages: vec![],
            accepting_new_clients: true,
            insurance: vec![],
            accepts_fsa_hsa: false,
            provides_superbill: false,
            requires_referral: false,
            self_pay_rate_usd: None,
            bio: None,
            licensed_regions: vec![],
            home_visit_radius_km: None,
        }
    }

    #[test]
    fn nppes_keeps_a_directory_location_at_the_same_postal_code_and_what_it_does_not_know() {
        let mut stored = draft("Old Name", "97205", 45.52);
        stored.bio = Some("Written by an admin".to_owned());
        stored.certifications = vec![CertificationDraft {
            name: "PCD(DONA)".to_owned(),
            issuer: Some("DONA International".to_owned()),
            scope: CertificationScope::Perinatal,
            verified: true,
            care_type: None,
        }];
        let mut record = draft("New Name", "97205", 45.0);
        record.care_types = vec![CareType::LactationConsulting];
        record.certifications = vec![CertificationDraft {
            name: "CD".to_owned(),
            issuer: None,
            scope: CertificationScope::General,
            verified: false,
            care_type: None,
        }];
        let merged = merge(stored.clone(), record, Source::Nppes);
        assert_eq!(merged.name, "New Name");
        assert_eq!(merged.locations, stored.locations);
        assert_eq!(merged.certifications, stored.certifications);
        assert_eq!(merged.bio.as_deref(), Some("Written by an admin"));
        assert_eq!(
            merged.care_types,
            vec![CareType::Doula, CareType::LactationConsulting]
        );
    }

    #[test]
    fn nppes_moves_a_provider_whose_practice_moved() {
        let stored = draft("Name", "97205", 45.52);
        let record = draft("Name", "98101", 47.6);
        let merged = merge(stored, record.clone(), Source::Nppes);
        assert_eq!(merged.locations, record.locations);
    }

    #[test]
    fn fhir_owns_insurance_and_accepting_but_keeps_stored_languages_when_it_lists_none() {
        let mut stored = draft("Name", "97205", 45.52);
        stored.languages = vec!["Spanish".to_owned()];
        stored.accepting_new_clients = true;
        let mut record = draft("Name", "97205", 45.52);
        record.accepting_new_clients = false;
        let merged = merge(stored, record, Source::Fhir);
        assert_eq!(merged.languages, vec!["Spanish".to_owned()]);
        assert!(!merged.accepting_new_clients);
    }

    #[test]
    fn stable_ids_depend_only_on_the_text() {
        assert_eq!(
            stable_provider_id("Practitioner/a"),
            stable_provider_id("Practitioner/a")
        );
        assert_ne!(
            stable_provider_id("Practitioner/a"),
            stable_provider_id("Practitioner/b")
        );
    }
}
