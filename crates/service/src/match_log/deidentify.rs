//! De-identification of a match request after HIPAA's Safe Harbor method, before anything is
//! queued: a [`MatchLogRecord`] holds the ISO week (never the date), the state and 3-digit
//! postal prefix (never coordinates or the postal code), a weeks-postpartum bucket, the payer's
//! name (never the plan) and whether text was given (never the text). The store writes what it
//! is given.

use std::time::Duration;

use carematch_domain::{CarePlan, LocationQuery, MatchRequest};
use carematch_matching::{ProviderMatch, SearchArea};
use carematch_postal::PostalCodes;
use carematch_store::{MatchLogRecord, MatchLogResultRecord};
use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

/// The Monday of the ISO week of `date`.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    date - chrono::Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

/// 3-digit postal prefixes whose areas hold 20,000 people or fewer (HHS guidance on Safe
/// Harbor, from 2000 Census data): they are logged as `000`.
pub const SPARSE_POSTAL_PREFIXES: [&str; 17] = [
    "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878",
    "879", "884", "890", "893",
];

/// The prefix as logged: `000` for a sparsely populated prefix, the prefix otherwise.
pub fn safe_postal_prefix(prefix: &str) -> String {
    if SPARSE_POSTAL_PREFIXES.contains(&prefix) {
        "000".to_owned()
    } else {
        prefix.to_owned()
    }
}

/// Weeks postpartum in the buckets analysts use: `0-2`, `2-6`, `6-12`, `12-26`, `26-52`, `52+`
/// (each includes its lower bound and excludes its upper one).
pub fn weeks_postpartum_bucket(weeks: u16) -> &'static str {
    match weeks {
        0..2 => "0-2",
        2..6 => "2-6",
        6..12 => "6-12",
        12..26 => "12-26",
        26..52 => "26-52",
        _ => "52+",
    }
}

/// Languages are free text in the contract; one that does not look like a language name
/// (letters, spaces and hyphens, at most 40 characters) is logged as `other`, so a
/// language field cannot smuggle a name or a sentence into the log.
fn safe_language(language: &str) -> String {
    let key = language.trim().to_lowercase();
    let looks_like_a_language = !key.is_empty()
        && key.chars().count() <= 40
        && key
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '-');
    if looks_like_a_language {
        key
    } else {
        "other".to_owned()
    }
}

/// The payer's name, trimmed and capped: it names a company, never a person or a plan.
fn safe_payer(payer: &str) -> String {
    payer.trim().chars().take(64).collect()
}

/// The calling application, from the `apollographql-client-name` and
/// `apollographql-client-version` headers the router forwards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub name: Option<String>,
    pub version: Option<String>,
}

impl ClientInfo {
    /// Keeps at most 64 characters of each header: they name software, not people.
    pub fn from_headers(name: Option<&str>, version: Option<&str>) -> Self {
        let clean = |value: Option<&str>| {
            value
                .map(|value| value.trim().chars().take(64).collect::<String>())
                .filter(|value| !value.is_empty())
        };
        Self {
            name: clean(name),
            version: clean(version),
        }
    }
}

/// The two calls whose answers are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOperation {
    MatchProviders,
    CareTeam,
}

impl MatchOperation {
    /// The name logged: the GraphQL field the answer was given for.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOperation::MatchProviders => "matchProviders",
            MatchOperation::CareTeam => "careTeam",
        }
    }
}

/// What one answer logs: what she asked, the plan the ranking made for it, what the search
/// covered and the matches she was shown.
#[derive(Debug, Clone, Copy)]
pub struct LoggedAnswer<'a> {
    pub request: &'a MatchRequest,
    pub plan: &'a CarePlan,
    pub search_area: &'a SearchArea,
    /// Matches ranked in all (not only shown).
    pub result_count: usize,
    /// The matches she was shown, each with the rank to log it under.
    pub shown: &'a [(u32, &'a ProviderMatch)],
}

/// How a request was served, beside what it asked and what it got.
#[derive(Debug, Clone)]
pub struct ServedRequest {
    pub operation: MatchOperation,
    pub latency: Duration,
    pub cache_hit: bool,
    pub client: ClientInfo,
}

/// The de-identified record of one answer (its id random, never derived from the input).
pub fn deidentified_record(
    id: Uuid,
    today: NaiveDate,
    answer: &LoggedAnswer<'_>,
    served: ServedRequest,
) -> MatchLogRecord {
    let request = answer.request;
    let search_area = answer.search_area;
    let postal_prefix = match &request.location_given_as {
        LocationQuery::PostalCode(code) => Some(code.prefix3().to_owned()),
        // Coordinates are never logged: only the prefix of the nearest postal-code centroid,
        // and none at all outside the US (no state), where the nearest US code says nothing.
        LocationQuery::Coordinates if request.region.is_some() => PostalCodes::embedded()
            .nearest(request.origin.latitude(), request.origin.longitude())
            .map(|entry| entry.code()[..3].to_owned()),
        LocationQuery::Coordinates => None,
    }
    .map(|prefix| safe_postal_prefix(&prefix));
    MatchLogRecord {
        id,
        week_start: week_start(today),
        state: request
            .region
            .as_ref()
            .map(|region| region.as_str().to_owned()),
        postal_prefix,
        radius_km: request.radius.kilometres(),
        care_types_recommended: answer
            .plan
            .recommendations
            .iter()
            .map(|recommendation| recommendation.care_type)
            .collect(),
        care_types_requested: request.care_types.clone().unwrap_or_default(),
        symptoms: request.symptoms.clone(),
        warning_signs: request.warning_signs.clone(),
        birth_type: request.birth_type,
        weeks_postpartum_bucket: request
            .weeks_postpartum
            .map(|weeks| weeks_postpartum_bucket(weeks.weeks()).to_owned()),
        payer: request
            .insurance
            .as_ref()
            .map(|insurance| safe_payer(&insurance.payer)),
        has_fsa_or_hsa: request.has_fsa_or_hsa,
        has_referral: request.has_referral,
        languages: request
            .languages
            .iter()
            .map(|language| safe_language(language.as_str()))
            .collect(),
        modes: request.modes.clone(),
        text_given: request
            .text
            .as_deref()
            .is_some_and(|text| !text.trim().is_empty()),
        result_count: u32::try_from(answer.result_count).unwrap_or(u32::MAX),
        results_within_radius: u32::try_from(search_area.found_within_radius).unwrap_or(u32::MAX),
        radius_widened: search_area.widened,
        cache_hit: served.cache_hit,
        latency_ms: served.latency.as_secs_f64() * 1_000.0,
        client_name: served.client.name,
        client_version: served.client.version,
        operation: served.operation.as_str().to_owned(),
        replay_of: None,
        results: answer
            .shown
            .iter()
            .map(|(rank, found)| MatchLogResultRecord {
                rank: *rank,
                provider_id: found.provider_id,
                score: found.score,
                need_fit: found.breakdown.need_fit,
                distance: found.breakdown.distance,
                certification: found.breakdown.certification,
                payment: found.breakdown.payment,
                availability: found.breakdown.availability,
                text: found.breakdown.text,
                payment_fit: found.payment_fit,
                beyond_radius: found.beyond_radius,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn week_start_is_the_monday_of_the_iso_week() {
        let wednesday = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(
            week_start(wednesday),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(week_start(monday), monday);
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(week_start(sunday), monday);
    }

    #[test]
    fn weeks_postpartum_fall_in_buckets_that_include_their_lower_bound() {
        let cases = [
            (0, "0-2"),
            (1, "0-2"),
            (2, "2-6"),
            (5, "2-6"),
            (6, "6-12"),
            (11, "6-12"),
            (12, "12-26"),
            (25, "12-26"),
            (26, "26-52"),
            (51, "26-52"),
            (52, "52+"),
            (104, "52+"),
        ];
        for (weeks, bucket) in cases {
            assert_eq!(weeks_postpartum_bucket(weeks), bucket, "{weeks} weeks");
        }
    }

    #[test]
    fn every_sparse_prefix_hhs_lists_is_written_as_000_and_others_are_kept() {
        for prefix in SPARSE_POSTAL_PREFIXES {
            assert_eq!(safe_postal_prefix(prefix), "000", "{prefix}");
        }
        assert_eq!(safe_postal_prefix("972"), "972");
        assert_eq!(safe_postal_prefix("100"), "100");
    }

    #[test]
    fn a_language_that_is_not_a_language_name_is_logged_as_other() {
        assert_eq!(safe_language(" Spanish "), "spanish");
        assert_eq!(safe_language("Haitian Creole"), "haitian creole");
        assert_eq!(safe_language("my name is Jane, call 555-0100"), "other");
        assert_eq!(safe_language(&"a".repeat(41)), "other");
    }

    #[test]
    fn client_headers_are_trimmed_capped_and_empty_means_none() {
        let client = ClientInfo::from_headers(Some(" web "), Some(""));
        assert_eq!(client.name.as_deref(), Some("web"));
        assert_eq!(client.version, None);
        let long = "x".repeat(100);
        let client = ClientInfo::from_headers(Some(&long), None);
        assert_eq!(client.name.map(|name| name.len()), Some(64));
    }
}
