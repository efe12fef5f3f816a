//! Match-log writes: batches of logs (each answer's results packed into its row), outcomes,
//! and pruning by week.

use carematch_domain::{CareMode, CareType, Symptom, WarningSign};
use chrono::NaiveDate;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbBackend, EntityTrait, QueryFilter, TransactionTrait,
};

use super::columns::{join_codes, pack_results};
use super::{MatchLogRecord, MatchOutcomeRecord};
use crate::entity::{match_logs, match_outcomes};
use crate::error::is_foreign_key_violation;
use crate::rows::{OnDuplicate, Record, insert_json_chunks, insert_rows, json_chunks};
use crate::{Store, StoreError};

/// Columns of `match_logs` and their PostgreSQL types, for the bulk insert.
const MATCH_LOG_RECORD: Record = &[
    ("id", "uuid"),
    ("week_start", "date"),
    ("state", "text"),
    ("postal_prefix", "text"),
    ("radius_km", "double precision"),
    ("care_types_recommended", "text"),
    ("care_types_requested", "text"),
    ("symptoms", "text"),
    ("warning_signs", "text"),
    ("birth_type", "text"),
    ("weeks_postpartum_bucket", "text"),
    ("payer", "text"),
    ("has_fsa_or_hsa", "boolean"),
    ("has_referral", "boolean"),
    ("languages", "text"),
    ("modes", "text"),
    ("text_given", "boolean"),
    ("result_count", "integer"),
    ("results_within_radius", "integer"),
    ("radius_widened", "boolean"),
    ("cache_hit", "boolean"),
    ("latency_ms", "double precision"),
    ("client_name", "text"),
    ("client_version", "text"),
    ("operation", "text"),
    ("replay_of", "uuid"),
    ("results", "text"),
];

/// A batch of match logs made ready to insert: the CPU part of
/// [`Store::insert_match_logs`] (packing each answer's results and, on PostgreSQL, writing the
/// batch as the statement's JSON parameter), done apart by [`Store::prepare_match_logs`] so a
/// caller can run it off the async runtime, and kept across retries.
pub struct PreparedMatchLogs(Prepared);

enum Prepared {
    /// PostgreSQL: the JSON parameters of the bulk insert.
    Postgres(Vec<String>),
    /// SQLite: the rows, bound by the insert itself.
    Rows(Vec<match_logs::Model>),
}

impl std::fmt::Debug for PreparedMatchLogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, parts) = match &self.0 {
            Prepared::Postgres(chunks) => ("postgres", chunks.len()),
            Prepared::Rows(rows) => ("rows", rows.len()),
        };
        f.debug_struct("PreparedMatchLogs")
            .field(kind, &parts)
            .finish()
    }
}

impl Store {
    /// Inserts a batch of match logs, each with its results packed in its row, in one
    /// transaction. A log whose id is already stored is skipped, so a writer may retry a batch
    /// whose commit it did not see acknowledged without doubling anything. Returns how many
    /// logs were new.
    pub async fn insert_match_logs(&self, records: &[MatchLogRecord]) -> Result<u64, StoreError> {
        if records.is_empty() {
            return Ok(0);
        }
        let logs: Vec<match_logs::Model> = records.iter().map(log_row).collect();
        self.insert_log_rows(Prepared::Rows(logs)).await
    }

    /// The CPU part of [`Store::insert_match_logs`], for [`Store::insert_prepared_match_logs`].
    /// It does not touch the database, so it can run on a blocking thread.
    pub fn prepare_match_logs(
        &self,
        records: &[MatchLogRecord],
    ) -> Result<PreparedMatchLogs, StoreError> {
        let logs: Vec<match_logs::Model> = records.iter().map(log_row).collect();
        Ok(PreparedMatchLogs(
            match self.connection.get_database_backend() {
                DbBackend::Postgres => Prepared::Postgres(json_chunks(&logs)?),
                _ => Prepared::Rows(logs),
            },
        ))
    }

    /// [`Store::insert_match_logs`] for a batch prepared by [`Store::prepare_match_logs`] (on
    /// this backend): the same statements, skipping ids already stored. Can be called again
    /// with the same batch after a failure.
    pub async fn insert_prepared_match_logs(
        &self,
        prepared: &PreparedMatchLogs,
    ) -> Result<u64, StoreError> {
        let prepared = match &prepared.0 {
            Prepared::Postgres(chunks) => Prepared::Postgres(chunks.clone()),
            Prepared::Rows(rows) => Prepared::Rows(rows.clone()),
        };
        self.insert_log_rows(prepared).await
    }

    async fn insert_log_rows(&self, prepared: Prepared) -> Result<u64, StoreError> {
        const ON_DUPLICATE: OnDuplicate = OnDuplicate::Skip { key: &["id"] };
        // Several statements on SQLite when the batch passes the bind-parameter limit: one
        // transaction keeps the batch whole.
        let transaction = self.connection.begin().await?;
        let inserted = match prepared {
            Prepared::Rows(rows) => {
                insert_rows(&transaction, rows, MATCH_LOG_RECORD, ON_DUPLICATE).await
            }
            Prepared::Postgres(chunks) => {
                use sea_orm::EntityName;
                insert_json_chunks(
                    &transaction,
                    match_logs::Entity.table_name(),
                    MATCH_LOG_RECORD,
                    &ON_DUPLICATE,
                    chunks.into_iter().map(Ok),
                )
                .await
            }
        };
        match inserted {
            Ok(inserted) => {
                transaction.commit().await?;
                Ok(inserted)
            }
            Err(error) => {
                // Rolled back here, awaited, rather than queued by a drop: the connection goes
                // back to the pool with no transaction open. A rollback that fails leaves it
                // to the pool's release check (a SQLite connection still in a transaction is
                // closed).
                if let Err(rollback) = transaction.rollback().await {
                    tracing::warn!(error = %rollback, "rolling back a failed match-log insert failed");
                }
                Err(error.into())
            }
        }
    }

    /// Records an outcome; [`StoreError::UnknownMatch`] when the match was never logged.
    pub async fn insert_match_outcome(
        &self,
        record: &MatchOutcomeRecord,
    ) -> Result<(), StoreError> {
        let row = match_outcomes::ActiveModel {
            id: Set(record.id),
            match_id: Set(record.match_id),
            provider_id: Set(record.provider_id.as_uuid()),
            outcome: Set(record.outcome.code().to_owned()),
            recorded_week: Set(record.recorded_week),
        };
        match match_outcomes::Entity::insert(row)
            .exec_without_returning(&self.connection)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if is_foreign_key_violation(&error) => {
                Err(StoreError::UnknownMatch(record.match_id))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Deletes the matches whose week started before `cutoff`, with their results (in their
    /// rows) and outcomes, in one transaction. Returns how many matches were deleted.
    pub async fn prune_match_logs(&self, cutoff: NaiveDate) -> Result<u64, StoreError> {
        // Old matches, except one a newer replay still points at (a replay follows its answer
        // within the cache's time to live, so this keeps an answer a week longer at most).
        let doomed_ids = || {
            Query::select()
                .column(match_logs::Column::Id)
                .from(match_logs::Entity)
                .and_where(match_logs::Column::WeekStart.lt(cutoff))
                .and_where(
                    match_logs::Column::Id.not_in_subquery(
                        Query::select()
                            .column(match_logs::Column::ReplayOf)
                            .from(match_logs::Entity)
                            .and_where(match_logs::Column::ReplayOf.is_not_null())
                            .and_where(match_logs::Column::WeekStart.gte(cutoff))
                            .to_owned(),
                    ),
                )
                .to_owned()
        };
        let transaction = self.connection.begin().await?;
        match_outcomes::Entity::delete_many()
            .filter(match_outcomes::Column::MatchId.in_subquery(doomed_ids()))
            .exec(&transaction)
            .await?;
        let deleted = match_logs::Entity::delete_many()
            .filter(match_logs::Column::Id.in_subquery(doomed_ids()))
            .exec(&transaction)
            .await?
            .rows_affected;
        transaction.commit().await?;
        Ok(deleted)
    }
}

fn log_row(record: &MatchLogRecord) -> match_logs::Model {
    match_logs::Model {
        id: record.id,
        week_start: record.week_start,
        state: record.state.clone(),
        postal_prefix: record.postal_prefix.clone(),
        radius_km: record.radius_km,
        care_types_recommended: join_codes(&record.care_types_recommended, CareType::code),
        care_types_requested: join_codes(&record.care_types_requested, CareType::code),
        symptoms: join_codes(&record.symptoms, Symptom::code),
        warning_signs: join_codes(&record.warning_signs, WarningSign::code),
        birth_type: record
            .birth_type
            .map(|birth_type| birth_type.code().to_owned()),
        weeks_postpartum_bucket: record.weeks_postpartum_bucket.clone(),
        payer: record.payer.clone(),
        has_fsa_or_hsa: record.has_fsa_or_hsa,
        has_referral: record.has_referral,
        languages: record
            .languages
            .iter()
            .map(|language| language.replace(',', " "))
            .collect::<Vec<_>>()
            .join(","),
        modes: join_codes(&record.modes, CareMode::code),
        text_given: record.text_given,
        result_count: i32::try_from(record.result_count).unwrap_or(i32::MAX),
        results_within_radius: i32::try_from(record.results_within_radius).unwrap_or(i32::MAX),
        radius_widened: record.radius_widened,
        cache_hit: record.cache_hit,
        latency_ms: record.latency_ms,
        client_name: record.client_name.clone(),
        client_version: record.client_version.clone(),
        operation: record.operation.clone(),
        replay_of: record.replay_of,
        // A replay's results are the original's: not stored again.
        results: match record.replay_of {
            None => pack_results(&record.results),
            Some(_) => None,
        },
    }
}
