//! De-identified match logs, their results and outcomes (issue 6), and the audit log of admin
//! writes (issue 4): plain record structs in, plain record structs out.
//!
//! Code lists (care types, symptoms, ...) are stored as comma-separated codes so SQLite,
//! PostgreSQL and DuckDB read them alike.
//!
//! An answer's results are packed into one text column of its `match_logs` row, `results`: a
//! JSON array holding one array per result, in rank order, `[rank, provider_id, score,
//! need_fit, distance, certification, payment, availability, text, payment_fit,
//! beyond_radius]` (migration 5). One row per answer instead of one per result made the
//! writer several times cheaper; the `match_log_results` view unpacks the column for SQL, and
//! the reads here parse it themselves. Deciding what is safe to log (week, not date; postal
//! prefix, not code) is the caller's job: these records carry only what they are given.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use carematch_domain::{
    BirthType, CareMode, CareType, MatchOutcome, PaymentFit, ProviderId, Symptom, WarningSign,
};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::entity::{audit_log, match_logs, match_outcomes};
use crate::error::is_foreign_key_violation;
use crate::providers::{OnDuplicate, Record, insert_json_chunks, insert_rows, json_chunks};
use crate::{Store, StoreError};

/// One `matchProviders` or `careTeam` request, de-identified.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchLogRecord {
    /// Random (UUIDv4), never derived from the request.
    pub id: Uuid,
    /// The Monday of the request's ISO week.
    pub week_start: NaiveDate,
    /// Two-letter state code.
    pub state: Option<String>,
    /// The 3-digit postal prefix (`000` for sparsely populated prefixes).
    pub postal_prefix: Option<String>,
    pub radius_km: f64,
    pub care_types_recommended: Vec<CareType>,
    pub care_types_requested: Vec<CareType>,
    pub symptoms: Vec<Symptom>,
    pub warning_signs: Vec<WarningSign>,
    pub birth_type: Option<BirthType>,
    /// `0-2`, `2-6`, `6-12`, `12-26`, `26-52` or `52+`.
    pub weeks_postpartum_bucket: Option<String>,
    /// The payer's name only, never plan or member details.
    pub payer: Option<String>,
    pub has_fsa_or_hsa: bool,
    pub has_referral: bool,
    /// Stored comma-separated: a comma inside a language is replaced by a space.
    pub languages: Vec<String>,
    pub modes: Vec<CareMode>,
    /// Whether free text was given (the text itself is never logged).
    pub text_given: bool,
    /// How many results the engine ranked in all (a page of the list may show fewer).
    pub result_count: u32,
    /// In-person and home-visit results inside her radius: fewer than 3 marks a care desert.
    pub results_within_radius: u32,
    pub radius_widened: bool,
    pub cache_hit: bool,
    pub latency_ms: f64,
    pub client_name: Option<String>,
    pub client_version: Option<String>,
    /// `matchProviders` or `careTeam`.
    pub operation: String,
    /// Set when this answer was replayed from the response cache: the logged match whose
    /// answer it repeats, whose results are this match's results. Its own `results` are not
    /// stored then; reads return the replayed match's.
    pub replay_of: Option<Uuid>,
    /// The returned providers, one per rank.
    pub results: Vec<MatchLogResultRecord>,
}

impl MatchLogRecord {
    /// A `matchProviders` record in Oregon (postal prefix 972, 25 km) with every optional
    /// field empty and nothing found: the base tests and tools change what they need of.
    pub fn example(id: Uuid, week_start: NaiveDate) -> Self {
        Self {
            id,
            week_start,
            state: Some("OR".into()),
            postal_prefix: Some("972".into()),
            radius_km: 25.0,
            care_types_recommended: Vec::new(),
            care_types_requested: Vec::new(),
            symptoms: Vec::new(),
            warning_signs: Vec::new(),
            birth_type: None,
            weeks_postpartum_bucket: None,
            payer: None,
            has_fsa_or_hsa: false,
            has_referral: false,
            languages: Vec::new(),
            modes: Vec::new(),
            text_given: false,
            result_count: 0,
            results_within_radius: 0,
            radius_widened: false,
            cache_hit: false,
            latency_ms: 1.0,
            client_name: None,
            client_version: None,
            operation: "matchProviders".into(),
            replay_of: None,
            results: Vec::new(),
        }
    }
}

/// One ranked result of a logged match, with its component scores.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchLogResultRecord {
    /// 1 for the first result.
    pub rank: u32,
    pub provider_id: ProviderId,
    pub score: f64,
    pub need_fit: f64,
    pub distance: f64,
    pub certification: f64,
    pub payment: f64,
    pub availability: f64,
    pub text: f64,
    pub payment_fit: PaymentFit,
    pub beyond_radius: bool,
}

/// What a mother did with one provider of a match.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchOutcomeRecord {
    pub id: Uuid,
    pub match_id: Uuid,
    pub provider_id: ProviderId,
    pub outcome: MatchOutcome,
    /// The Monday of the ISO week it was recorded in.
    pub recorded_week: NaiveDate,
}

/// One logged match with the outcomes recorded for it, as exports read them.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedMatch {
    pub log: MatchLogRecord,
    pub outcomes: Vec<MatchOutcomeRecord>,
}

/// Where the next page of an export starts: after this (week, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportCursor {
    pub week_start: NaiveDate,
    pub id: Uuid,
}

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

/// The tables that hold match logs, in the order a privacy audit reads them
/// (`match_log_results` is a view over `match_logs.results`).
pub const MATCH_LOG_TABLES: [&str; 3] = ["match_logs", "match_log_results", "match_outcomes"];

/// The column of `match_logs` that holds the packed results.
const PACKED_RESULTS_COLUMN: &str = "results";

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

/// Who did what to which provider, when: one row per admin write.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: Uuid,
    pub actor: String,
    /// e.g. `upsertProvider`, `deleteProvider`.
    pub action: String,
    pub provider_id: Option<ProviderId>,
    pub at: DateTime<Utc>,
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

    pub async fn match_exists(&self, id: Uuid) -> Result<bool, StoreError> {
        let count = match_logs::Entity::find_by_id(id)
            .count(&self.connection)
            .await?;
        Ok(count > 0)
    }

    /// A logged match with its results in rank order (a replay's are those of the match it
    /// replays).
    pub async fn get_match_log(&self, id: Uuid) -> Result<Option<MatchLogRecord>, StoreError> {
        let Some(mut log) = match_logs::Entity::find_by_id(id)
            .one(&self.connection)
            .await?
        else {
            return Ok(None);
        };
        let packed = match log.replay_of {
            None => log.results.take(),
            Some(original) => self
                .packed_results([original])
                .await?
                .remove(&original)
                .flatten(),
        };
        let results = unpack_results(packed.as_deref())?;
        Ok(Some(log_record(log, results)?))
    }

    /// The packed results of the given matches (absent: not stored, or pruned).
    async fn packed_results(
        &self,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> Result<HashMap<Uuid, Option<String>>, StoreError> {
        Ok(match_logs::Entity::find()
            .select_only()
            .column(match_logs::Column::Id)
            .column(match_logs::Column::Results)
            .filter(match_logs::Column::Id.is_in(ids))
            .into_tuple::<(Uuid, Option<String>)>()
            .all(&self.connection)
            .await?
            .into_iter()
            .collect())
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

    /// The outcomes recorded for a match, oldest week first.
    pub async fn match_outcomes(
        &self,
        match_id: Uuid,
    ) -> Result<Vec<MatchOutcomeRecord>, StoreError> {
        match_outcomes::Entity::find()
            .filter(match_outcomes::Column::MatchId.eq(match_id))
            .order_by_asc(match_outcomes::Column::RecordedWeek)
            .order_by_asc(match_outcomes::Column::Id)
            .all(&self.connection)
            .await?
            .into_iter()
            .map(|row| {
                Ok(MatchOutcomeRecord {
                    id: row.id,
                    match_id: row.match_id,
                    provider_id: ProviderId::from_uuid(row.provider_id),
                    outcome: parse_code("match_outcomes", &row.outcome)?,
                    recorded_week: row.recorded_week,
                })
            })
            .collect()
    }

    /// A page of logged matches whose week starts between `since` and `until` (both
    /// inclusive; a missing bound does not limit that side), ordered by week then id, each with
    /// its results and outcomes. Pass the returned cursor to read the next page; `None` when
    /// this page was the last.
    pub async fn export_match_logs(
        &self,
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
        after: Option<ExportCursor>,
        page_size: u64,
    ) -> Result<(Vec<ExportedMatch>, Option<ExportCursor>), StoreError> {
        let mut condition = Condition::all()
            .add_option(since.map(|since| match_logs::Column::WeekStart.gte(since)))
            .add_option(until.map(|until| match_logs::Column::WeekStart.lte(until)));
        if let Some(cursor) = after {
            condition = condition.add(
                Condition::any()
                    .add(match_logs::Column::WeekStart.gt(cursor.week_start))
                    .add(
                        Condition::all()
                            .add(match_logs::Column::WeekStart.eq(cursor.week_start))
                            .add(match_logs::Column::Id.gt(cursor.id)),
                    ),
            );
        }
        let mut logs = match_logs::Entity::find()
            .filter(condition)
            .order_by_asc(match_logs::Column::WeekStart)
            .order_by_asc(match_logs::Column::Id)
            .limit(page_size.max(1))
            .all(&self.connection)
            .await?;
        let next = logs
            .last()
            .filter(|_| logs.len() as u64 >= page_size.max(1))
            .map(|last| ExportCursor {
                week_start: last.week_start,
                id: last.id,
            });
        let ids: Vec<Uuid> = logs.iter().map(|log| log.id).collect();
        let mut packed_by_match: HashMap<Uuid, Option<String>> = logs
            .iter_mut()
            .map(|log| (log.id, log.results.take()))
            .collect();
        // A replay's results are those of the match it replays: often on the same page, read
        // apart otherwise.
        let originals: HashSet<Uuid> = logs
            .iter()
            .filter_map(|log| log.replay_of)
            .filter(|original| !packed_by_match.contains_key(original))
            .collect();
        if !originals.is_empty() {
            packed_by_match.extend(self.packed_results(originals).await?);
        }
        let mut outcomes_by_match: HashMap<Uuid, Vec<match_outcomes::Model>> = HashMap::new();
        for row in match_outcomes::Entity::find()
            .filter(match_outcomes::Column::MatchId.is_in(ids))
            .order_by_asc(match_outcomes::Column::RecordedWeek)
            .order_by_asc(match_outcomes::Column::Id)
            .all(&self.connection)
            .await?
        {
            outcomes_by_match.entry(row.match_id).or_default().push(row);
        }
        let mut exported = Vec::with_capacity(logs.len());
        for log in logs {
            let results = unpack_results(
                packed_by_match
                    .get(&log.replay_of.unwrap_or(log.id))
                    .and_then(Option::as_deref),
            )?;
            let outcomes = outcomes_by_match
                .remove(&log.id)
                .unwrap_or_default()
                .into_iter()
                .map(|row| {
                    Ok(MatchOutcomeRecord {
                        id: row.id,
                        match_id: row.match_id,
                        provider_id: ProviderId::from_uuid(row.provider_id),
                        outcome: parse_code("match_outcomes", &row.outcome)?,
                        recorded_week: row.recorded_week,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            exported.push(ExportedMatch {
                log: log_record(log, results)?,
                outcomes,
            });
        }
        Ok((exported, next))
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

    /// Every column of every row of one of [`MATCH_LOG_TABLES`], as JSON objects keyed by
    /// column name: what a privacy audit (and its test) reads to prove nothing identifying
    /// was stored. Not for production paths: it reads the whole table.
    ///
    /// `match_logs.results` is left out: it packs exactly what the `match_log_results` view
    /// reads back, column by column with its types, and the audit reads that view.
    pub async fn match_log_table_as_json(
        &self,
        table: &str,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        // The name is checked against the fixed list, so formatting it into SQL is safe.
        let Some(table) = MATCH_LOG_TABLES.iter().find(|known| **known == table) else {
            return Err(StoreError::CorruptRow {
                table: "match_log_table_as_json",
                problem: format!("`{table}` is not a match-log table"),
            });
        };
        let backend = self.connection.get_database_backend();
        let packed = (*table == "match_logs").then_some(PACKED_RESULTS_COLUMN);
        let sql = match (backend, packed) {
            (DbBackend::Postgres, Some(column)) => {
                format!("SELECT (to_jsonb(t) - '{column}')::text FROM {table} t")
            }
            (DbBackend::Postgres, None) => format!("SELECT row_to_json(t)::text FROM {table} t"),
            _ => {
                let columns = self
                    .connection
                    .query_all_raw(Statement::from_string(
                        backend,
                        format!("SELECT name FROM pragma_table_info('{table}')"),
                    ))
                    .await?
                    .into_iter()
                    .map(|row| row.try_get_by_index::<String>(0))
                    .filter(|column| {
                        !matches!((column, packed), (Ok(name), Some(skip)) if name == skip)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let pairs = columns
                    .iter()
                    // UUIDs are blobs in SQLite, which JSON cannot hold: they read as hex.
                    .map(|column| {
                        format!(
                            "'{column}', CASE WHEN typeof(\"{column}\") = 'blob' \
                             THEN lower(hex(\"{column}\")) ELSE \"{column}\" END"
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("SELECT json_object({pairs}) FROM {table}")
            }
        };
        self.connection
            .query_all_raw(Statement::from_string(backend, sql))
            .await?
            .into_iter()
            .map(|row| {
                let text: String = row.try_get_by_index(0)?;
                serde_json::from_str(&text).map_err(|error| StoreError::CorruptRow {
                    table,
                    problem: error.to_string(),
                })
            })
            .collect()
    }

    pub async fn insert_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        audit_log::Entity::insert(audit_log::ActiveModel {
            id: Set(record.id),
            actor: Set(record.actor.clone()),
            action: Set(record.action.clone()),
            provider_id: Set(record.provider_id.map(ProviderId::as_uuid)),
            at: Set(record.at),
        })
        .exec_without_returning(&self.connection)
        .await?;
        Ok(())
    }

    /// The audit trail of one provider, oldest first.
    pub async fn audit_for_provider(
        &self,
        provider_id: ProviderId,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(audit_log::Entity::find()
            .filter(audit_log::Column::ProviderId.eq(provider_id.as_uuid()))
            .order_by_asc(audit_log::Column::At)
            .order_by_asc(audit_log::Column::Id)
            .all(&self.connection)
            .await?
            .into_iter()
            .map(|row| AuditRecord {
                id: row.id,
                actor: row.actor,
                action: row.action,
                provider_id: row.provider_id.map(ProviderId::from_uuid),
                at: row.at,
            })
            .collect())
    }
}

fn join_codes<T: Copy>(items: &[T], code: fn(T) -> &'static str) -> String {
    items
        .iter()
        .map(|item| code(*item))
        .collect::<Vec<_>>()
        .join(",")
}

fn split_codes<T: FromStr>(table: &'static str, text: &str) -> Result<Vec<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.split(',')
        .filter(|code| !code.is_empty())
        .map(|code| parse_code(table, code))
        .collect()
}

fn parse_code<T: FromStr>(table: &'static str, code: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    code.parse()
        .map_err(|error: T::Err| StoreError::CorruptRow {
            table,
            problem: error.to_string(),
        })
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

/// One result as packed: the `match_log_results` view's columns after `match_id`, in order.
#[derive(serde::Serialize)]
struct PackedResult<'a>(u32, Uuid, f64, f64, f64, f64, f64, f64, f64, &'a str, bool);

/// One packed result as read back. The doubles are kept as their JSON text and parsed by
/// `f64::from_str`, which is exact: serde_json's default float parsing may be one bit off
/// for 17-digit numbers, and a stored score must read back as the score written.
#[derive(serde::Deserialize)]
struct StoredResult<'a>(
    u32,
    Uuid,
    #[serde(borrow)] &'a RawValue,
    #[serde(borrow)] &'a RawValue,
    #[serde(borrow)] &'a RawValue,
    #[serde(borrow)] &'a RawValue,
    #[serde(borrow)] &'a RawValue,
    #[serde(borrow)] &'a RawValue,
    #[serde(borrow)] &'a RawValue,
    #[serde(borrow)] Cow<'a, str>,
    bool,
);

/// The results as the `results` column holds them; `None` (NULL) when there are none.
/// A non-finite score, which no ranking produces, would be written as JSON `null` and refused
/// on reading as a corrupt row.
fn pack_results(results: &[MatchLogResultRecord]) -> Option<String> {
    if results.is_empty() {
        return None;
    }
    let packed: Vec<PackedResult<'_>> = results
        .iter()
        .map(|result| {
            PackedResult(
                result.rank,
                result.provider_id.as_uuid(),
                result.score,
                result.need_fit,
                result.distance,
                result.certification,
                result.payment,
                result.availability,
                result.text,
                result.payment_fit.code(),
                result.beyond_radius,
            )
        })
        .collect();
    // Tuples of numbers, strings and booleans: serialising them to a string cannot fail.
    serde_json::to_string(&packed).ok()
}

fn unpack_results(packed: Option<&str>) -> Result<Vec<MatchLogResultRecord>, StoreError> {
    const TABLE: &str = "match_log_results";
    let corrupt = |problem: String| StoreError::CorruptRow {
        table: TABLE,
        problem,
    };
    let Some(packed) = packed else {
        return Ok(Vec::new());
    };
    let stored: Vec<StoredResult<'_>> =
        serde_json::from_str(packed).map_err(|error| corrupt(error.to_string()))?;
    let number = |raw: &RawValue| {
        raw.get()
            .parse::<f64>()
            .map_err(|error| corrupt(format!("`{}` is not a number: {error}", raw.get())))
    };
    stored
        .into_iter()
        .map(|result| {
            Ok(MatchLogResultRecord {
                rank: result.0,
                provider_id: ProviderId::from_uuid(result.1),
                score: number(result.2)?,
                need_fit: number(result.3)?,
                distance: number(result.4)?,
                certification: number(result.5)?,
                payment: number(result.6)?,
                availability: number(result.7)?,
                text: number(result.8)?,
                payment_fit: parse_code(TABLE, &result.9)?,
                beyond_radius: result.10,
            })
        })
        .collect()
}

fn log_record(
    log: match_logs::Model,
    results: Vec<MatchLogResultRecord>,
) -> Result<MatchLogRecord, StoreError> {
    const TABLE: &str = "match_logs";
    Ok(MatchLogRecord {
        id: log.id,
        week_start: log.week_start,
        state: log.state,
        postal_prefix: log.postal_prefix,
        radius_km: log.radius_km,
        care_types_recommended: split_codes(TABLE, &log.care_types_recommended)?,
        care_types_requested: split_codes(TABLE, &log.care_types_requested)?,
        symptoms: split_codes(TABLE, &log.symptoms)?,
        warning_signs: split_codes(TABLE, &log.warning_signs)?,
        birth_type: log
            .birth_type
            .as_deref()
            .map(|code| parse_code(TABLE, code))
            .transpose()?,
        weeks_postpartum_bucket: log.weeks_postpartum_bucket,
        payer: log.payer,
        has_fsa_or_hsa: log.has_fsa_or_hsa,
        has_referral: log.has_referral,
        languages: log
            .languages
            .split(',')
            .filter(|language| !language.is_empty())
            .map(str::to_owned)
            .collect(),
        modes: split_codes(TABLE, &log.modes)?,
        text_given: log.text_given,
        result_count: u32::try_from(log.result_count).unwrap_or_default(),
        results_within_radius: u32::try_from(log.results_within_radius).unwrap_or_default(),
        radius_widened: log.radius_widened,
        cache_hit: log.cache_hit,
        latency_ms: log.latency_ms,
        client_name: log.client_name,
        client_version: log.client_version,
        operation: log.operation,
        replay_of: log.replay_of,
        results,
    })
}
