//! Providers looked up by NPI in bulk, for importers that upsert by NPI (the NPPES registry and
//! FHIR directories): one query per chunk of NPIs instead of one per row.

use std::collections::HashMap;

use carematch_domain::{Npi, Provider, ProviderDraft, ProviderId};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::entity::providers;
use crate::{Store, StoreError};

/// NPIs per `IN` list: far below both backends' bind-parameter limits.
const NPIS_PER_QUERY: usize = 10_000;

impl Store {
    /// The stored providers holding these NPIs, keyed by NPI. NPIs nobody holds are absent.
    pub async fn providers_by_npi(
        &self,
        npis: &[Npi],
    ) -> Result<HashMap<Npi, Provider>, StoreError> {
        let mut found: HashMap<Npi, Provider> = HashMap::with_capacity(npis.len());
        for chunk in npis.chunks(NPIS_PER_QUERY) {
            let rows = providers::Entity::find()
                .select_only()
                .column(providers::Column::Id)
                .column(providers::Column::Document)
                .filter(providers::Column::Npi.is_in(chunk.iter().map(Npi::as_str)))
                .into_tuple::<(Uuid, serde_json::Value)>()
                .all(&self.connection)
                .await?;
            for (id, document) in rows {
                let provider = hydrate_document(id, document)?;
                if let Some(npi) = provider.npi.clone() {
                    found.insert(npi, provider);
                }
            }
        }
        Ok(found)
    }
}

/// Parses a stored document back into a provider, as the repository's reads do; the row's id
/// is authoritative. (A copy of the private `providers::hydrate`, kept here so this additive
/// module does not reach into that file.)
fn hydrate_document(id: Uuid, document: serde_json::Value) -> Result<Provider, StoreError> {
    let provider_id = ProviderId::from_uuid(id);
    let corrupt = |problem: String| StoreError::CorruptDocument {
        provider_id,
        problem,
    };
    let mut draft: ProviderDraft =
        serde_json::from_value(document).map_err(|error| corrupt(error.to_string()))?;
    draft.id = Some(provider_id.to_string());
    draft
        .validate(provider_id)
        .map_err(|error| corrupt(error.to_string()))
}
