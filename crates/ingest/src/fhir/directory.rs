//! Every resource of the file, typed and indexed by `Type/id`, and references resolved across
//! it (`Type/id`, a Bundle `fullUrl`, or a URL ending in `Type/id`).

use std::collections::{HashMap, HashSet};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::model::{
    HealthcareService, InsurancePlan, Location, Organization, Practitioner, PractitionerRole,
    Reference,
};
use super::resources::RawResource;
use crate::SkipReason;
use crate::summary::ImportSummary;

/// A typed resource with where it was found.
pub(super) struct Found<T> {
    pub(super) position: u64,
    pub(super) key: String,
    pub(super) resource: T,
}

/// Every resource of the file, typed and indexed by `Type/id`.
#[derive(Default)]
pub(super) struct Directory {
    pub(super) practitioners: Vec<Found<Practitioner>>,
    pub(super) roles: Vec<Found<PractitionerRole>>,
    pub(super) services: Vec<Found<HealthcareService>>,
    /// `HealthcareService/id` → its place in `services`.
    pub(super) service_index: HashMap<String, usize>,
    pub(super) locations: HashMap<String, Location>,
    pub(super) organizations: HashMap<String, Found<Organization>>,
    pub(super) plans: Vec<InsurancePlan>,
    /// Keys of resources that failed to parse: providers referring to them fail too.
    pub(super) failed: HashSet<String>,
    /// Bundle `fullUrl` → `Type/id`.
    pub(super) aliases: HashMap<String, String>,
}

impl Directory {
    pub(super) fn parse(raw: Vec<RawResource>, summary: &mut ImportSummary) -> Directory {
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

    pub(super) fn typed<T: DeserializeOwned>(
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
    pub(super) fn resolve(&self, reference: &Reference) -> Option<String> {
        let text = reference.reference.as_deref()?.trim();
        if let Some(key) = self.aliases.get(text) {
            return Some(key.clone());
        }
        let mut segments = text.rsplit('/');
        let id = segments.next()?;
        let kind = segments.next()?;
        Some(format!("{kind}/{id}"))
    }
}
