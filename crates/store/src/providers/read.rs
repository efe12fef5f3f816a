//! Provider reads: by id, by NPI, in keyset-paginated pages, and what changed since a point
//! in time. Every read hydrates from the JSON document alone.

use std::collections::HashMap;

use carematch_domain::{Npi, Provider, ProviderDraft, ProviderId};
use chrono::{DateTime, Utc};
use futures::Stream;
use sea_orm::{
    AccessMode, ColumnTrait, DbBackend, EntityTrait, IsolationLevel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionOptions, TransactionTrait,
};
use uuid::Uuid;

use super::Changes;
use crate::entity::{provider_tombstones, providers};
use crate::rows::MAX_BIND_PARAMETERS;
use crate::state::{self, DATA_GENERATION};
use crate::{Store, StoreError};

impl Store {
    pub async fn get_provider(&self, id: ProviderId) -> Result<Option<Provider>, StoreError> {
        let row = documents()
            .filter(providers::Column::Id.eq(id.as_uuid()))
            .into_tuple::<(Uuid, serde_json::Value)>()
            .one(&self.connection)
            .await?;
        row.map(|(id, document)| hydrate(id, document)).transpose()
    }

    pub async fn get_provider_by_npi(&self, npi: &Npi) -> Result<Option<Provider>, StoreError> {
        let row = documents()
            .filter(providers::Column::Npi.eq(npi.as_str()))
            .into_tuple::<(Uuid, serde_json::Value)>()
            .one(&self.connection)
            .await?;
        row.map(|(id, document)| hydrate(id, document)).transpose()
    }

    /// The providers holding these NPIs, in the order of `npis`, in one query per
    /// [`MAX_BIND_PARAMETERS`] NPIs; NPIs nobody holds are skipped, a repeated NPI gives its
    /// provider once per mention. For batched lookups (federation `_entities` by `npi`).
    pub async fn get_providers_by_npis(&self, npis: &[Npi]) -> Result<Vec<Provider>, StoreError> {
        let mut found: HashMap<String, Provider> = HashMap::with_capacity(npis.len());
        for chunk in npis.chunks(MAX_BIND_PARAMETERS) {
            let rows = documents()
                .column(providers::Column::Npi)
                .filter(providers::Column::Npi.is_in(chunk.iter().map(Npi::as_str)))
                .into_tuple::<(Uuid, serde_json::Value, Option<String>)>()
                .all(&self.connection)
                .await?;
            for (id, document, npi) in rows {
                if let Some(npi) = npi {
                    found.insert(npi, hydrate(id, document)?);
                }
            }
        }
        Ok(npis
            .iter()
            .filter_map(|npi| found.get(npi.as_str()).cloned())
            .collect())
    }

    /// The providers with these ids, in the order of `ids`; unknown ids are skipped.
    pub async fn get_providers(&self, ids: &[ProviderId]) -> Result<Vec<Provider>, StoreError> {
        let uuids: Vec<Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
        let mut found: HashMap<Uuid, Provider> = HashMap::with_capacity(ids.len());
        for chunk in uuids.chunks(MAX_BIND_PARAMETERS) {
            let rows = documents()
                .filter(providers::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple::<(Uuid, serde_json::Value)>()
                .all(&self.connection)
                .await?;
            for (id, document) in rows {
                found.insert(id, hydrate(id, document)?);
            }
        }
        Ok(uuids
            .iter()
            .filter_map(|id| found.get(id).cloned())
            .collect())
    }

    /// Every provider exactly once, in pages of `page_size` ordered by id. Keyset pagination
    /// (`id > last`) keeps each page one indexed query, however deep the stream goes.
    pub fn stream_providers(
        &self,
        page_size: u64,
    ) -> impl Stream<Item = Result<Vec<Provider>, StoreError>> + Send + '_ {
        let page_size = page_size.max(1);
        async_stream::try_stream! {
            let mut after: Option<Uuid> = None;
            loop {
                let mut query = documents().order_by_asc(providers::Column::Id).limit(page_size);
                if let Some(last) = after {
                    query = query.filter(providers::Column::Id.gt(last));
                }
                let rows = query
                    .into_tuple::<(Uuid, serde_json::Value)>()
                    .all(&self.connection)
                    .await?;
                let full_page = rows.len() as u64 == page_size;
                after = rows.last().map(|(id, _)| *id);
                let page = rows
                    .into_iter()
                    .map(|(id, document)| hydrate(id, document))
                    .collect::<Result<Vec<_>, _>>()?;
                if !page.is_empty() {
                    yield page;
                }
                if !full_page {
                    break;
                }
            }
        }
    }

    /// Providers written and deleted at or after `since` (inclusive, so a write in the same
    /// microsecond as the last catch-up is delivered again rather than missed). Both reads
    /// see one snapshot, so `high_water` covers exactly what is returned.
    pub async fn changed_since(&self, since: DateTime<Utc>) -> Result<Changes, StoreError> {
        let options = match self.connection.get_database_backend() {
            DbBackend::Postgres => TransactionOptions {
                isolation_level: Some(IsolationLevel::RepeatableRead),
                access_mode: Some(AccessMode::ReadOnly),
                sqlite_transaction_mode: None,
            },
            // A SQLite read transaction already reads one snapshot.
            _ => TransactionOptions::default(),
        };
        let transaction = self.connection.begin_with_options(options).await?;
        let rows = documents()
            .column(providers::Column::UpdatedAt)
            .filter(providers::Column::UpdatedAt.gte(since))
            .order_by_asc(providers::Column::UpdatedAt)
            .order_by_asc(providers::Column::Id)
            .into_tuple::<(Uuid, serde_json::Value, DateTime<Utc>)>()
            .all(&transaction)
            .await?;
        let tombstones = provider_tombstones::Entity::find()
            .filter(provider_tombstones::Column::DeletedAt.gte(since))
            .order_by_asc(provider_tombstones::Column::DeletedAt)
            .order_by_asc(provider_tombstones::Column::ProviderId)
            .all(&transaction)
            .await?;
        transaction.commit().await?;

        let mut high_water = since;
        let mut upserted = Vec::with_capacity(rows.len());
        for (id, document, updated_at) in rows {
            high_water = high_water.max(updated_at);
            upserted.push(hydrate(id, document)?);
        }
        let deleted = tombstones
            .into_iter()
            .map(|tombstone| {
                high_water = high_water.max(tombstone.deleted_at);
                ProviderId::from_uuid(tombstone.provider_id)
            })
            .collect();
        Ok(Changes {
            upserted,
            deleted,
            high_water,
        })
    }

    pub async fn count_providers(&self) -> Result<u64, StoreError> {
        Ok(providers::Entity::find().count(&self.connection).await?)
    }

    /// The counter bumped by every provider write and delete.
    pub async fn data_generation(&self) -> Result<i64, StoreError> {
        Ok(state::read_counter(&self.connection, DATA_GENERATION).await?)
    }

    /// The timestamp of the latest committed provider write or delete (the epoch when there
    /// was none). Every later write is stamped at or after it, so `changed_since` from here
    /// misses nothing written after this call.
    pub async fn last_write_at(&self) -> Result<DateTime<Utc>, StoreError> {
        let micros = state::read_counter(&self.connection, state::LAST_WRITE_MICROS).await?;
        Ok(DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or_default())
    }
}

/// `SELECT id, document FROM providers`: all a read needs.
fn documents() -> sea_orm::Select<providers::Entity> {
    providers::Entity::find()
        .select_only()
        .column(providers::Column::Id)
        .column(providers::Column::Document)
}

/// Parses a stored document back into a provider. The row's id is authoritative.
fn hydrate(id: Uuid, document: serde_json::Value) -> Result<Provider, StoreError> {
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
