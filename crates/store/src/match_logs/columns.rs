//! How a match log's lists and results sit in their columns: code lists as comma-separated
//! codes, an answer's results as one packed JSON array, and both parsed back.

use std::borrow::Cow;
use std::str::FromStr;

use carematch_domain::ProviderId;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::MatchLogResultRecord;
use crate::StoreError;

pub(super) fn join_codes<T: Copy>(items: &[T], code: fn(T) -> &'static str) -> String {
    items
        .iter()
        .map(|item| code(*item))
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn split_codes<T: FromStr>(table: &'static str, text: &str) -> Result<Vec<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.split(',')
        .filter(|code| !code.is_empty())
        .map(|code| parse_code(table, code))
        .collect()
}

pub(super) fn parse_code<T: FromStr>(table: &'static str, code: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    code.parse()
        .map_err(|error: T::Err| StoreError::CorruptRow {
            table,
            problem: error.to_string(),
        })
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
pub(super) fn pack_results(results: &[MatchLogResultRecord]) -> Option<String> {
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

pub(super) fn unpack_results(
    packed: Option<&str>,
) -> Result<Vec<MatchLogResultRecord>, StoreError> {
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
