//! A provider's normalized rows: one vector per child table for a batch of providers, and
//! their insert (after the provider rows, which their foreign keys point at).

use carematch_domain::Provider;
use sea_orm::{DatabaseTransaction, DbErr};

use crate::entity::{
    provider_care_types, provider_certifications, provider_insurance, provider_languages,
    provider_licensed_regions, provider_locations, provider_modes, provider_symptoms,
};
use crate::rows::{OnDuplicate, Record, insert_rows};

const CARE_TYPE_RECORD: Record = &[("provider_id", "uuid"), ("care_type", "text")];
const CERTIFICATION_RECORD: Record = &[
    ("provider_id", "uuid"),
    ("position", "integer"),
    ("name", "text"),
    ("issuer", "text"),
    ("scope", "text"),
    ("verified", "boolean"),
];
const LOCATION_RECORD: Record = &[
    ("provider_id", "uuid"),
    ("position", "integer"),
    ("latitude", "double precision"),
    ("longitude", "double precision"),
    ("address", "text"),
    ("city", "text"),
    ("region", "text"),
    ("postal_code", "text"),
];
const INSURANCE_RECORD: Record = &[
    ("provider_id", "uuid"),
    ("position", "integer"),
    ("payer", "text"),
    ("plan", "text"),
];
const SYMPTOM_RECORD: Record = &[("provider_id", "uuid"), ("symptom", "text")];
const MODE_RECORD: Record = &[("provider_id", "uuid"), ("mode", "text")];
const LANGUAGE_RECORD: Record = &[("provider_id", "uuid"), ("language", "text")];
const LICENSED_REGION_RECORD: Record = &[("provider_id", "uuid"), ("region", "text")];

/// The normalized rows of a batch of providers, one vector per child table.
#[derive(Default)]
pub(super) struct ChildRows {
    care_types: Vec<provider_care_types::Model>,
    certifications: Vec<provider_certifications::Model>,
    locations: Vec<provider_locations::Model>,
    insurance: Vec<provider_insurance::Model>,
    symptoms: Vec<provider_symptoms::Model>,
    modes: Vec<provider_modes::Model>,
    languages: Vec<provider_languages::Model>,
    licensed_regions: Vec<provider_licensed_regions::Model>,
}

/// A list position as stored (lists are bounded far below `i32::MAX` by the domain).
fn position(index: usize) -> i32 {
    i32::try_from(index).unwrap_or(i32::MAX)
}

impl ChildRows {
    pub(super) fn add(&mut self, provider: &Provider) {
        let provider_id = provider.id.as_uuid();
        self.care_types
            .extend(
                provider
                    .care_types
                    .iter()
                    .map(|care_type| provider_care_types::Model {
                        provider_id,
                        care_type: care_type.code().to_owned(),
                    }),
            );
        self.certifications
            .extend(
                provider
                    .certifications
                    .iter()
                    .enumerate()
                    .map(|(index, certification)| provider_certifications::Model {
                        provider_id,
                        position: position(index),
                        name: certification.name.clone(),
                        issuer: certification.issuer.clone(),
                        scope: certification.scope.code().to_owned(),
                        verified: certification.verified,
                    }),
            );
        self.locations.extend(
            provider
                .locations
                .iter()
                .enumerate()
                .map(|(index, location)| {
                    let draft = location.to_draft();
                    provider_locations::Model {
                        provider_id,
                        position: position(index),
                        latitude: draft.latitude,
                        longitude: draft.longitude,
                        address: draft.address,
                        city: draft.city,
                        region: draft.region,
                        postal_code: draft.postal_code,
                    }
                }),
        );
        self.insurance
            .extend(provider.insurance.iter().enumerate().map(|(index, plan)| {
                provider_insurance::Model {
                    provider_id,
                    position: position(index),
                    payer: plan.payer.clone(),
                    plan: plan.plan.clone(),
                }
            }));
        self.symptoms.extend(
            provider
                .treats
                .iter()
                .map(|symptom| provider_symptoms::Model {
                    provider_id,
                    symptom: symptom.code().to_owned(),
                }),
        );
        self.modes
            .extend(provider.modes.iter().map(|mode| provider_modes::Model {
                provider_id,
                mode: mode.code().to_owned(),
            }));
        self.languages
            .extend(
                provider
                    .languages
                    .iter()
                    .map(|language| provider_languages::Model {
                        provider_id,
                        language: language.as_str().to_owned(),
                    }),
            );
        self.licensed_regions
            .extend(provider.licensed_regions.iter().map(|region| {
                provider_licensed_regions::Model {
                    provider_id,
                    region: region.as_str().to_owned(),
                }
            }));
    }

    pub(super) async fn insert(self, transaction: &DatabaseTransaction) -> Result<(), DbErr> {
        insert_rows(
            transaction,
            self.care_types,
            CARE_TYPE_RECORD,
            OnDuplicate::Fail,
        )
        .await?;
        insert_rows(
            transaction,
            self.certifications,
            CERTIFICATION_RECORD,
            OnDuplicate::Fail,
        )
        .await?;
        insert_rows(
            transaction,
            self.locations,
            LOCATION_RECORD,
            OnDuplicate::Fail,
        )
        .await?;
        insert_rows(
            transaction,
            self.insurance,
            INSURANCE_RECORD,
            OnDuplicate::Fail,
        )
        .await?;
        insert_rows(
            transaction,
            self.symptoms,
            SYMPTOM_RECORD,
            OnDuplicate::Fail,
        )
        .await?;
        insert_rows(transaction, self.modes, MODE_RECORD, OnDuplicate::Fail).await?;
        insert_rows(
            transaction,
            self.languages,
            LANGUAGE_RECORD,
            OnDuplicate::Fail,
        )
        .await?;
        insert_rows(
            transaction,
            self.licensed_regions,
            LICENSED_REGION_RECORD,
            OnDuplicate::Fail,
        )
        .await?;
        Ok(())
    }
}
