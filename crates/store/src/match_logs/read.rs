//! Match-log reads: one match with its results, outcomes, the analysts' export by page, and
//! whole tables as JSON for the privacy audit.

use std::collections::{HashMap, HashSet};

use carematch_domain::ProviderId;
use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

use super::columns::{parse_code, split_codes, unpack_results};
use super::{
    ExportCursor, ExportedMatch, MATCH_LOG_TABLES, MatchLogRecord, MatchLogResultRecord,
    MatchOutcomeRecord,
};
use crate::entity::{match_logs, match_outcomes};
use crate::{Store, StoreError};

/// The column of `match_logs` that holds the packed results.
const PACKED_RESULTS_COLUMN: &str = "results";

impl Store {
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
