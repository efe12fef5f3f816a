//! The provider repository: upserts that write the JSON document and the normalized child rows
//! in one transaction, reads that hydrate from the document, keyset streaming, and the
//! change feed (`changed_since`) with tombstones.

use std::collections::{HashMap, HashSet};

use carematch_domain::{Npi, Provider, ProviderDraft, ProviderId};
use chrono::{DateTime, Utc};
use futures::Stream;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    AccessMode, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseTransaction, DbBackend, DbErr, EntityName, EntityTrait, IntoActiveModel,
    IsolationLevel, Iterable, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, TransactionOptions, TransactionTrait,
};
use uuid::Uuid;

use crate::entity::{
    provider_care_types, provider_certifications, provider_insurance, provider_languages,
    provider_licensed_regions, provider_locations, provider_modes, provider_symptoms,
    provider_tombstones, providers,
};
use crate::error::is_unique_violation;
use crate::state::{self, DATA_GENERATION};
use crate::{Store, StoreError};

/// Bind parameters per statement: under SQLite's limit (32,766) and PostgreSQL's (65,535).
/// Multi-row inserts and `IN` lists are cut into chunks that stay below it.
const MAX_BIND_PARAMETERS: usize = 30_000;

/// Whether an upsert created the provider or replaced an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Created,
    Updated,
}

/// What changed since a point in time: for replicas that catch up after missing events.
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    /// Providers created or updated at or after `since`, oldest change first.
    pub upserted: Vec<Provider>,
    /// Providers deleted at or after `since` (and not re-created since).
    pub deleted: Vec<ProviderId>,
    /// The latest change seen, or `since` when nothing changed: pass it as the next `since`.
    /// Changes stamped exactly at it are delivered again next time, never missed.
    pub high_water: DateTime<Utc>,
}

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

/// The columns of each provider table with their PostgreSQL types: the record type of the
/// PostgreSQL bulk insert, and the column list of the upsert on both backends.
pub(crate) type Record = &'static [(&'static str, &'static str)];

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

/// Rows to be updated rather than refused when `key` already exists; `keep` columns are not
/// overwritten (e.g. `created_at`).
pub(crate) struct Upsert {
    pub(crate) key: &'static str,
    pub(crate) keep: &'static [&'static str],
}

/// What an insert does with a row whose key is already stored.
pub(crate) enum OnDuplicate {
    /// The statement fails.
    Fail,
    /// The stored row is updated.
    Update(Upsert),
    /// The new row is skipped (`key` lists the conflict target's columns).
    Skip { key: &'static [&'static str] },
}

impl OnDuplicate {
    /// The `ON CONFLICT` clause; `excluded` is how the backend spells the proposed row.
    fn clause(&self, record: Record, excluded: &str) -> String {
        match self {
            OnDuplicate::Fail => String::new(),
            OnDuplicate::Update(upsert) => format!(
                " ON CONFLICT (\"{}\") DO UPDATE SET {}",
                upsert.key,
                record
                    .iter()
                    .map(|(name, _)| *name)
                    .filter(|name| *name != upsert.key && !upsert.keep.contains(name))
                    .map(|name| format!("\"{name}\" = {excluded}.\"{name}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            OnDuplicate::Skip { key } => format!(
                " ON CONFLICT ({}) DO NOTHING",
                key.iter()
                    .map(|name| format!("\"{name}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Rows per statement on the PostgreSQL bulk path (one JSON parameter each).
const ROWS_PER_JSON_STATEMENT: usize = 10_000;

/// Inserts rows of one table; returns how many were written (skipped duplicates excluded).
///
/// PostgreSQL: a multi-row `VALUES` with thousands of parameters is slow to parse and plan,
/// and its text changes with the row count, so every batch is prepared anew. Instead the rows
/// travel as ONE JSON text parameter, cast to `jsonb` and expanded by `jsonb_to_recordset`: the statement text is
/// constant (prepared once per connection) and planning is trivial. This made batch upserts
/// several times faster. SQLite parses multi-row `VALUES` fast: see [`insert_values`].
pub(crate) async fn insert_rows<M, A>(
    transaction: &DatabaseTransaction,
    rows: Vec<M>,
    record: Record,
    on_duplicate: OnDuplicate,
) -> Result<u64, DbErr>
where
    M: ModelTrait + IntoActiveModel<A> + serde::Serialize,
    A: ActiveModelTrait<Entity = M::Entity> + Send,
{
    if rows.is_empty() {
        return Ok(0);
    }
    let table = M::Entity::default().table_name().to_owned();
    if transaction.get_database_backend() != DbBackend::Postgres {
        let on_conflict = on_duplicate.clause(record, "excluded");
        return insert_values(transaction, &table, rows, &on_conflict).await;
    }

    // Serialised one chunk at a time, as each statement runs.
    let chunks = rows.chunks(ROWS_PER_JSON_STATEMENT).map(chunk_json);
    insert_json_chunks(transaction, &table, record, &on_duplicate, chunks).await
}

/// PostgreSQL: the rows as the JSON text parameters of [`insert_json_chunks`], one per
/// [`ROWS_PER_JSON_STATEMENT`] rows. Only CPU work, so a caller may run it off the runtime.
pub(crate) fn json_chunks<M: serde::Serialize>(rows: &[M]) -> Result<Vec<String>, DbErr> {
    rows.chunks(ROWS_PER_JSON_STATEMENT)
        .map(chunk_json)
        .collect()
}

/// Written straight to text: a `serde_json::Value` tree first cost an allocation per field of
/// every row.
fn chunk_json<M: serde::Serialize>(chunk: &[M]) -> Result<String, DbErr> {
    serde_json::to_string(chunk).map_err(|error| DbErr::Json(error.to_string()))
}

/// PostgreSQL: inserts the rows of `chunks` (from [`json_chunks`]) into `table`, whose
/// columns and their types are `record`; returns how many were written.
pub(crate) async fn insert_json_chunks(
    transaction: &DatabaseTransaction,
    table: &str,
    record: Record,
    on_duplicate: &OnDuplicate,
    chunks: impl IntoIterator<Item = Result<String, DbErr>>,
) -> Result<u64, DbErr> {
    let columns = record
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let record_type = record
        .iter()
        .map(|(name, sql_type)| format!("\"{name}\" {sql_type}"))
        .collect::<Vec<_>>()
        .join(", ");
    let on_conflict = on_duplicate.clause(record, "EXCLUDED");
    let sql = format!(
        "INSERT INTO \"{table}\" ({columns}) SELECT {columns} \
         FROM jsonb_to_recordset($1::jsonb) AS row_values({record_type}){on_conflict}"
    );
    let mut written = 0;
    for json in chunks {
        let json = json?;
        written += transaction
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                sql.clone(),
                [json.into()],
            ))
            .await?
            .rows_affected();
    }
    Ok(written)
}

/// SQLite: inserts rows with multi-row `VALUES` statements of as many rows as stay under
/// [`MAX_BIND_PARAMETERS`], written directly rather than through sea-orm's `insert_many`
/// (which wraps every value in an active model and a query expression, then copies it into the
/// statement: most of the writer's time at a million providers). The values are the model's
/// own, moved out of it, in the entity's column order, so they bind exactly as sea-orm's insert
/// binds them. Full chunks share one statement text, which sqlx prepares once per connection.
async fn insert_values<M, A>(
    transaction: &DatabaseTransaction,
    table: &str,
    rows: Vec<M>,
    on_conflict: &str,
) -> Result<u64, DbErr>
where
    M: ModelTrait + IntoActiveModel<A>,
    A: ActiveModelTrait<Entity = M::Entity>,
{
    use sea_orm::IdenStatic;
    let columns: Vec<<M::Entity as EntityTrait>::Column> =
        <M::Entity as EntityTrait>::Column::iter().collect();
    let names = columns
        .iter()
        .map(|column| format!("\"{}\"", column.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let row_placeholders = format!("({})", vec!["?"; columns.len()].join(", "));
    let rows_per_statement = (MAX_BIND_PARAMETERS / columns.len().max(1)).max(1);
    let mut full_chunk_sql: Option<String> = None;
    let mut written = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut values = Vec::with_capacity(rows_per_statement * columns.len());
        let mut count = 0;
        for row in rows.by_ref().take(rows_per_statement) {
            let mut active = row.into_active_model();
            for column in &columns {
                values.push(active.take(*column).into_value().ok_or_else(|| {
                    DbErr::Custom(format!("{table}.{} has no value", column.as_str()))
                })?);
            }
            count += 1;
        }
        let statement_sql = |count: usize| {
            format!(
                "INSERT INTO \"{table}\" ({names}) VALUES {}{on_conflict}",
                vec![row_placeholders.as_str(); count].join(", ")
            )
        };
        let sql = if count == rows_per_statement {
            full_chunk_sql
                .get_or_insert_with(|| statement_sql(count))
                .clone()
        } else {
            statement_sql(count)
        };
        written += transaction
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                sql,
                values,
            ))
            .await?
            .rows_affected();
    }
    Ok(written)
}

/// The normalized rows of a batch of providers, one vector per child table.
#[derive(Default)]
struct ChildRows {
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
    fn add(&mut self, provider: &Provider) {
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

    async fn insert(self, transaction: &DatabaseTransaction) -> Result<(), DbErr> {
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
