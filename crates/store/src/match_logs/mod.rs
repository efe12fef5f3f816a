//! De-identified match logs, their results and outcomes (issue 6): plain record structs in,
//! plain record structs out.
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
//!
//! `write` inserts and prunes, `read` reads back and exports, `columns` writes code lists and
//! results into their columns and parses them back.

mod columns;
mod read;
mod write;

use carematch_domain::{
    BirthType, CareMode, CareType, MatchOutcome, PaymentFit, ProviderId, Symptom, WarningSign,
};
use chrono::NaiveDate;
use uuid::Uuid;

pub use write::PreparedMatchLogs;

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

/// The tables that hold match logs, in the order a privacy audit reads them
/// (`match_log_results` is a view over `match_logs.results`).
pub const MATCH_LOG_TABLES: [&str; 3] = ["match_logs", "match_log_results", "match_outcomes"];
