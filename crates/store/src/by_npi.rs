//! Providers looked up by NPI in bulk, keyed by NPI, for importers that upsert by NPI (the
//! NPPES registry and FHIR directories): one query per chunk of NPIs instead of one per row.

use std::collections::HashMap;

use carematch_domain::{Npi, Provider};

use crate::{Store, StoreError};

impl Store {
    /// The stored providers holding these NPIs, keyed by NPI. NPIs nobody holds are absent.
    pub async fn providers_by_npi(
        &self,
        npis: &[Npi],
    ) -> Result<HashMap<Npi, Provider>, StoreError> {
        Ok(self
            .get_providers_by_npis(npis)
            .await?
            .into_iter()
            .filter_map(|provider| provider.npi.clone().map(|npi| (npi, provider)))
            .collect())
    }
}
