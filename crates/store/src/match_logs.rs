//! De-identified match logs, their per-result rows and outcomes (issue 6), and the audit log of
//! admin writes (issue 4): plain record structs in, plain record structs out.
//!
//! Code lists (care types, symptoms, ...) are stored as comma-separated codes so SQLite,
//! PostgreSQL and DuckDB read them alike. Deciding what is safe to log (week, not date; postal
//! prefix, not code) is the caller's job: these records carry only what they are given.

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
use uuid::Uuid;

use crate::entity::{audit_log, match_log_results, match_logs, match_outcomes};
use crate::error::is_foreign_key_violation;
use crate::providers::{OnDuplicate, Record, insert_rows};
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
];

const MATCH_LOG_RESULT_RECORD: Record = &[
    ("match_id", "uuid"),
    ("rank", "integer"),
    ("provider_id", "uuid"),
    ("score", "double precision"),
    ("need_fit", "double precision"),
    ("distance", "double precision"),
    ("certification", "double precision"),
    ("payment", "double precision"),
    ("availability", "double precision"),
    ("text", "double precision"),
    ("payment_fit", "text"),
    ("beyond_radius", "boolean"),
];

/// The tables that hold match logs, in the order a privacy audit reads them.
pub const MATCH_LOG_TABLES: [&str; 3] = ["match_logs", "match_log_results", "match_outcomes"];

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
    /// Inserts a batch of match logs with their results in one transaction. A log whose id is
    /// already stored is skipped, so a writer may retry a batch whose commit it did not see
    /// acknowledged without doubling anything. Returns how many logs were new.
    pub async fn insert_match_logs(&self, records: &[MatchLogRecord]) -> Result<u64, StoreError> {
        if records.is_empty() {
            return Ok(0);
        }
        let logs: Vec<match_logs::Model> = records.iter().map(log_row).collect();
        let results: Vec<match_log_results::Model> = records
            .iter()
            .filter(|record| record.replay_of.is_none())
            .flat_map(|record| {
                record
                    .results
                    .iter()
                    .map(move |result| result_row(record.id, result))
            })
            .collect();
        let transaction = self.connection.begin().await?;
        let inserted = insert_rows(
            &transaction,
            logs,
            MATCH_LOG_RECORD,
            OnDuplicate::Skip { key: &["id"] },
        )
        .await?;
        insert_rows(
            &transaction,
            results,
            MATCH_LOG_RESULT_RECORD,
            OnDuplicate::Skip {
                key: &["match_id", "rank"],
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(inserted)
    }

    pub async fn match_exists(&self, id: Uuid) -> Result<bool, StoreError> {
        let count = match_logs::Entity::find_by_id(id)
            .count(&self.connection)
            .await?;
        Ok(count > 0)
    }

    /// A logged match with its results in rank order.
    pub async fn get_match_log(&self, id: Uuid) -> Result<Option<MatchLogRecord>, StoreError> {
        let Some(log) = match_logs::Entity::find_by_id(id)
            .one(&self.connection)
            .await?
        else {
            return Ok(None);
        };
        let results = match_log_results::Entity::find()
            .filter(match_log_results::Column::MatchId.eq(log.replay_of.unwrap_or(id)))
            .order_by_asc(match_log_results::Column::Rank)
            .all(&self.connection)
            .await?;
        Ok(Some(log_record(log, results)?))
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
    /// inclusive), ordered by week then id, each with its results and outcomes. Pass the
    /// returned cursor to read the next page; `None` when this page was the last.
    pub async fn export_match_logs(
        &self,
        since: NaiveDate,
        until: NaiveDate,
        after: Option<ExportCursor>,
        page_size: u64,
    ) -> Result<(Vec<ExportedMatch>, Option<ExportCursor>), StoreError> {
        let mut condition = Condition::all()
            .add(match_logs::Column::WeekStart.gte(since))
            .add(match_logs::Column::WeekStart.lte(until));
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
        let logs = match_logs::Entity::find()
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
        // A replay's results are those of the match it replays (often on the same page).
        let result_ids: HashSet<Uuid> = logs
            .iter()
            .map(|log| log.replay_of.unwrap_or(log.id))
            .collect();
        let mut results_by_match: HashMap<Uuid, Vec<match_log_results::Model>> = HashMap::new();
        for row in match_log_results::Entity::find()
            .filter(match_log_results::Column::MatchId.is_in(result_ids))
            .order_by_asc(match_log_results::Column::MatchId)
            .order_by_asc(match_log_results::Column::Rank)
            .all(&self.connection)
            .await?
        {
            results_by_match.entry(row.match_id).or_default().push(row);
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
            let results = results_by_match
                .get(&log.replay_of.unwrap_or(log.id))
                .cloned()
                .unwrap_or_default();
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

    /// Deletes the matches whose week started before `cutoff`, with their results and
    /// outcomes, in one transaction. Returns how many matches were deleted.
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
        match_log_results::Entity::delete_many()
            .filter(match_log_results::Column::MatchId.in_subquery(doomed_ids()))
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
        let sql = match backend {
            DbBackend::Postgres => format!("SELECT row_to_json(t)::text FROM {table} t"),
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
    }
}

fn result_row(match_id: Uuid, result: &MatchLogResultRecord) -> match_log_results::Model {
    match_log_results::Model {
        match_id,
        rank: i32::try_from(result.rank).unwrap_or(i32::MAX),
        provider_id: result.provider_id.as_uuid(),
        score: result.score,
        need_fit: result.need_fit,
        distance: result.distance,
        certification: result.certification,
        payment: result.payment,
        availability: result.availability,
        text: result.text,
        payment_fit: result.payment_fit.code().to_owned(),
        beyond_radius: result.beyond_radius,
    }
}

fn log_record(
    log: match_logs::Model,
    results: Vec<match_log_results::Model>,
) -> Result<MatchLogRecord, StoreError> {
    const TABLE: &str = "match_logs";
    let results = results
        .into_iter()
        .map(|row| {
            Ok(MatchLogResultRecord {
                rank: u32::try_from(row.rank).unwrap_or_default(),
                provider_id: ProviderId::from_uuid(row.provider_id),
                score: row.score,
                need_fit: row.need_fit,
                distance: row.distance,
                certification: row.certification,
                payment: row.payment,
                availability: row.availability,
                text: row.text,
                payment_fit: parse_code("match_log_results", &row.payment_fit)?,
                beyond_radius: row.beyond_radius,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
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
