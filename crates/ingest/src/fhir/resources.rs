//! The file's resources before typing: a Bundle's entries or NDJSON's lines, each with where it
//! was found.

use serde_json::Value;

use crate::IngestError;
use crate::summary::ImportSummary;

/// One resource as found in the file, before typing.
pub(super) struct RawResource {
    /// The line (NDJSON) or the entry's index plus one (Bundle).
    pub(super) position: u64,
    /// `line 3` or `entry[2]`, for resources without a usable type and id.
    pub(super) place: String,
    /// The Bundle entry's `fullUrl`, which references may use instead of `Type/id`.
    pub(super) full_url: Option<String>,
    pub(super) value: Value,
}

/// A Bundle's entries, or NDJSON's lines; a single non-Bundle resource counts as one line.
pub(super) fn split_resources(
    text: &[u8],
    summary: &mut ImportSummary,
) -> Result<Vec<RawResource>, IngestError> {
    if let Ok(document) = serde_json::from_slice::<Value>(text) {
        if document.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
            let entries = document
                .get("entry")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            return Ok(entries
                .into_iter()
                .enumerate()
                .map(|(index, mut entry)| RawResource {
                    position: index as u64 + 1,
                    place: format!("entry[{index}]"),
                    full_url: entry
                        .get("fullUrl")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    value: entry
                        .get_mut("resource")
                        .map(Value::take)
                        .unwrap_or(Value::Null),
                })
                .collect());
        }
        if document.get("resourceType").is_some() {
            return Ok(vec![RawResource {
                position: 1,
                place: "line 1".to_owned(),
                full_url: None,
                value: document,
            }]);
        }
    }
    let mut resources = Vec::new();
    let mut bad_lines = 0_u64;
    for (index, line) in text.split(|byte| *byte == b'\n').enumerate() {
        let position = index as u64 + 1;
        let line = match std::str::from_utf8(line) {
            Ok(line) => line,
            Err(error) => {
                bad_lines += 1;
                summary.read += 1;
                summary.fail(
                    position,
                    format!("line {position}"),
                    "",
                    format!(
                        "not valid UTF-8 (at byte {} of the line)",
                        error.valid_up_to() + 1
                    ),
                );
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(value) => resources.push(RawResource {
                position,
                place: format!("line {position}"),
                full_url: None,
                value,
            }),
            Err(error) => {
                bad_lines += 1;
                summary.read += 1;
                summary.fail(
                    position,
                    format!("line {position}"),
                    "",
                    format!("not JSON: {error}"),
                );
            }
        }
    }
    if resources.is_empty() && bad_lines > 0 {
        return Err(IngestError::NotFhir(
            "no line is a JSON resource and the file is no JSON Bundle".to_owned(),
        ));
    }
    Ok(resources)
}
