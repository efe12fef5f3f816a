//! Provider writes: the upsert (document, normalized rows, tombstones cleared, in one
//! transaction that bumps the data generation) and the delete that leaves a tombstone.

use std::collections::{HashMap, HashSet};

use carematch_domain::{Provider, ProviderId};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use super::UpsertOutcome;
use super::child_rows::ChildRows;
use crate::entity::{provider_tombstones, providers};
use crate::error::is_unique_violation;
use crate::rows::{MAX_BIND_PARAMETERS, OnDuplicate, Record, Upsert, insert_rows};
use crate::state;
use crate::{Store, StoreError};

/// A write failure before it is mapped to [`StoreError`]: the raw database error is kept so an
/// upsert that lost a race over an NPI can be retried.
enum WriteFailure {
    Store(StoreError),
    Database(DbErr),
}

impl From<DbErr> for WriteFailure {
    fn from(error: DbErr) -> Self {
        WriteFailure::Database(error)
    }
}

impl From<StoreError> for WriteFailure {
    fn from(error: StoreError) -> Self {
        WriteFailure::Store(error)
    }
}

impl Store {
    /// Creates or replaces one provider (its document and all its child rows) in one
    /// transaction.
    pub async fn upsert_provider(&self, provider: &Provider) -> Result<UpsertOutcome, StoreError> {
        let outcomes = self
            .upsert_providers(std::slice::from_ref(provider))
            .await?;
        Ok(outcomes.first().copied().unwrap_or(UpsertOutcome::Updated))
    }

    /// Creates or replaces many providers in ONE transaction with multi-row statements (the
    /// seeding and import path). Returns one outcome per input, in order; when an id appears
    /// twice the last copy is stored and the second outcome is `Updated`. Fails as a whole with
    /// [`StoreError::NpiConflict`] when an NPI belongs to another provider.
    pub async fn upsert_providers(
        &self,
        providers: &[Provider],
    ) -> Result<Vec<UpsertOutcome>, StoreError> {
        if providers.is_empty() {
            return Ok(Vec::new());
        }
        // A unique violation means another writer took one of our NPIs between our check and
        // our insert. The retry's check then sees it and reports a proper `NpiConflict`.
        let mut retried = false;
        loop {
            match self.try_upsert_providers(providers).await {
                Ok(outcomes) => return Ok(outcomes),
                Err(WriteFailure::Store(error)) => return Err(error),
                Err(WriteFailure::Database(error)) if is_unique_violation(&error) && !retried => {
                    tracing::debug!(%error, "upsert raced another writer over an npi; retrying");
                    retried = true;
                }
                Err(WriteFailure::Database(error)) => return Err(error.into()),
            }
        }
    }

    async fn try_upsert_providers(
        &self,
        providers: &[Provider],
    ) -> Result<Vec<UpsertOutcome>, WriteFailure> {
        // The last copy of each id wins; statements must not touch one row twice.
        let mut last_index_of: HashMap<ProviderId, usize> = HashMap::new();
        for (index, provider) in providers.iter().enumerate() {
            last_index_of.insert(provider.id, index);
        }
        let mut latest: Vec<&Provider> = providers
            .iter()
            .enumerate()
            .filter(|(index, provider)| last_index_of.get(&provider.id) == Some(index))
            .map(|(_, provider)| provider)
            .collect();
        latest.sort_by_key(|provider| provider.id);
        check_npis_unique_within(&latest)?;
        let ids: Vec<Uuid> = latest
            .iter()
            .map(|provider| provider.id.as_uuid())
            .collect();

        let write = state::begin_write(&self.connection).await?;
        let transaction = &write.transaction;

        let existing = existing_ids(transaction, &ids).await?;
        check_npis_free(transaction, &latest).await?;

        delete_where_provider_in::<provider_tombstones::Entity>(
            transaction,
            provider_tombstones::Column::ProviderId,
            &ids,
        )
        .await?;
        // New providers have no child rows (the foreign keys see to that), so only replaced
        // ones need clearing: seeding skips these statements entirely.
        let replaced: Vec<Uuid> = ids
            .iter()
            .copied()
            .filter(|id| existing.contains(id))
            .collect();
        delete_children(transaction, &replaced).await?;

        let mut rows = ChildRows::default();
        let mut provider_rows = Vec::with_capacity(latest.len());
        for provider in &latest {
            provider_rows.push(provider_row(provider, write.written_at)?);
            rows.add(provider);
        }
        insert_rows(
            transaction,
            provider_rows,
            PROVIDER_RECORD,
            OnDuplicate::Update(Upsert {
                key: "id",
                keep: &["created_at"],
            }),
        )
        .await?;
        rows.insert(transaction).await?;
        write.transaction.commit().await?;

        let mut seen: HashSet<Uuid> = existing;
        Ok(providers
            .iter()
            .map(|provider| {
                if seen.insert(provider.id.as_uuid()) {
                    UpsertOutcome::Created
                } else {
                    UpsertOutcome::Updated
                }
            })
            .collect())
    }

    /// Deletes a provider and its child rows, leaving a tombstone for `changed_since`.
    /// Returns whether it existed.
    pub async fn delete_provider(&self, id: ProviderId) -> Result<bool, StoreError> {
        let write = state::begin_write(&self.connection).await?;
        let deleted = providers::Entity::delete_by_id(id.as_uuid())
            .exec(&write.transaction)
            .await?
            .rows_affected;
        if deleted == 0 {
            // Nothing changed, so the generation must not move either.
            write.transaction.rollback().await?;
            return Ok(false);
        }
        provider_tombstones::Entity::insert(provider_tombstones::ActiveModel {
            provider_id: Set(id.as_uuid()),
            deleted_at: Set(write.written_at),
        })
        .on_conflict(
            OnConflict::column(provider_tombstones::Column::ProviderId)
                .update_column(provider_tombstones::Column::DeletedAt)
                .to_owned(),
        )
        .exec_without_returning(&write.transaction)
        .await?;
        write.transaction.commit().await?;
        Ok(true)
    }
}

fn check_npis_unique_within(providers: &[&Provider]) -> Result<(), StoreError> {
    let mut owner_of: HashMap<&str, ProviderId> = HashMap::new();
    for provider in providers {
        if let Some(npi) = &provider.npi
            && let Some(existing) = owner_of.insert(npi.as_str(), provider.id)
        {
            return Err(StoreError::NpiConflict {
                npi: npi.as_str().to_owned(),
                provider_id: provider.id,
                existing_provider_id: existing,
            });
        }
    }
    Ok(())
}

/// Fails when one of the NPIs is held by a provider with another id.
async fn check_npis_free(
    transaction: &DatabaseTransaction,
    providers: &[&Provider],
) -> Result<(), WriteFailure> {
    let wanted: HashMap<&str, ProviderId> = providers
        .iter()
        .filter_map(|provider| Some((provider.npi.as_ref()?.as_str(), provider.id)))
        .collect();
    let npis: Vec<&str> = wanted.keys().copied().collect();
    for chunk in npis.chunks(MAX_BIND_PARAMETERS) {
        let holders = providers::Entity::find()
            .select_only()
            .column(providers::Column::Id)
            .column(providers::Column::Npi)
            .filter(providers::Column::Npi.is_in(chunk.iter().copied()))
            .into_tuple::<(Uuid, Option<String>)>()
            .all(transaction)
            .await?;
        for (holder, npi) in holders {
            let Some(npi) = npi else { continue };
            if let Some(provider_id) = wanted.get(npi.as_str())
                && provider_id.as_uuid() != holder
            {
                return Err(StoreError::NpiConflict {
                    npi,
                    provider_id: *provider_id,
                    existing_provider_id: ProviderId::from_uuid(holder),
                }
                .into());
            }
        }
    }
    Ok(())
}

async fn existing_ids(
    transaction: &DatabaseTransaction,
    ids: &[Uuid],
) -> Result<HashSet<Uuid>, DbErr> {
    let mut existing = HashSet::new();
    for chunk in ids.chunks(MAX_BIND_PARAMETERS) {
        let found = providers::Entity::find()
            .select_only()
            .column(providers::Column::Id)
            .filter(providers::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple::<Uuid>()
            .all(transaction)
            .await?;
        existing.extend(found);
    }
    Ok(existing)
}

async fn delete_where_provider_in<E: EntityTrait>(
    transaction: &DatabaseTransaction,
    column: E::Column,
    ids: &[Uuid],
) -> Result<(), DbErr> {
    for chunk in ids.chunks(MAX_BIND_PARAMETERS) {
        E::delete_many()
            .filter(column.is_in(chunk.iter().copied()))
            .exec(transaction)
            .await?;
    }
    Ok(())
}

async fn delete_children(transaction: &DatabaseTransaction, ids: &[Uuid]) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    use crate::entity::*;
    delete_where_provider_in::<provider_care_types::Entity>(
        transaction,
        provider_care_types::Column::ProviderId,
        ids,
    )
    .await?;
    delete_where_provider_in::<provider_certifications::Entity>(
        transaction,
        provider_certifications::Column::ProviderId,
        ids,
    )
    .await?;
    delete_where_provider_in::<provider_locations::Entity>(
        transaction,
        provider_locations::Column::ProviderId,
        ids,
    )
    .await?;
    delete_where_provider_in::<provider_insurance::Entity>(
        transaction,
        provider_insurance::Column::ProviderId,
        ids,
    )
    .await?;
    delete_where_provider_in::<provider_symptoms::Entity>(
        transaction,
        provider_symptoms::Column::ProviderId,
        ids,
    )
    .await?;
    delete_where_provider_in::<provider_modes::Entity>(
        transaction,
        provider_modes::Column::ProviderId,
        ids,
    )
    .await?;
    delete_where_provider_in::<provider_languages::Entity>(
        transaction,
        provider_languages::Column::ProviderId,
        ids,
    )
    .await?;
    delete_where_provider_in::<provider_licensed_regions::Entity>(
        transaction,
        provider_licensed_regions::Column::ProviderId,
        ids,
    )
    .await
}

fn provider_row(provider: &Provider, written_at: DateTime<Utc>) -> Result<providers::Model, DbErr> {
    let document = serde_json::to_value(provider.to_draft())
        .map_err(|error| DbErr::Json(error.to_string()))?;
    Ok(providers::Model {
        id: provider.id.as_uuid(),
        npi: provider.npi.as_ref().map(|npi| npi.as_str().to_owned()),
        name: provider.name.as_str().to_owned(),
        accepting_new_clients: provider.accepting_new_clients,
        accepts_fsa_hsa: provider.accepts_fsa_hsa,
        provides_superbill: provider.provides_superbill,
        requires_referral: provider.requires_referral,
        // At most 100,000 by the domain's rule, so it fits.
        self_pay_rate_usd: provider
            .self_pay_rate_usd
            .map(|rate| i32::try_from(rate).unwrap_or(i32::MAX)),
        bio: provider.bio.clone(),
        home_visit_radius_km: provider
            .home_visit_radius_km
            .map(|radius| radius.kilometres()),
        document,
        created_at: written_at,
        updated_at: written_at,
    })
}

const PROVIDER_RECORD: Record = &[
    ("id", "uuid"),
    ("npi", "text"),
    ("name", "text"),
    ("accepting_new_clients", "boolean"),
    ("accepts_fsa_hsa", "boolean"),
    ("provides_superbill", "boolean"),
    ("requires_referral", "boolean"),
    ("self_pay_rate_usd", "integer"),
    ("bio", "text"),
    ("home_visit_radius_km", "double precision"),
    ("document", "jsonb"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
];
