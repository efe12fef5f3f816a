//! Step 3: the parsed document's own checks, answered without executing. A document refused
//! by a parse-time limit (`limits::check_document`) never reaches async-graphql, whose own
//! walks follow every fragment spread anew (see `parsed`); a required variable that was not
//! sent is refused before anything runs (`variables::check_required`).

use carematch_domain::ErrorCode;

use crate::limits::error_code;
use crate::metrics::OperationSlot;
use crate::parsed::ParsedDocument;

/// The answer refusing `parsed` (the request's document, when it parsed), or `None` when it
/// may run. A refused document's operation is recorded for the metrics and its code counted.
pub(super) fn refusal(
    parsed: Option<&ParsedDocument>,
    request: &async_graphql::Request,
    slot: &OperationSlot,
) -> Option<async_graphql::Response> {
    // A document that did not parse: the guarded schema refuses it again, with the coded error.
    let parsed = parsed?;
    if let Some(refusal) = &parsed.refusal {
        slot.record(&parsed.document);
        let code = error_code(refusal).unwrap_or_default();
        crate::metrics::record_error(&code);
        return Some(async_graphql::Response::from_errors(vec![refusal.clone()]));
    }
    if let Err(error) = crate::variables::check_required(
        &parsed.document,
        request.operation_name.as_deref(),
        &request.variables,
    ) {
        slot.record(&parsed.document);
        crate::metrics::record_error(ErrorCode::BadUserInput.as_str());
        return Some(async_graphql::Response::from_errors(vec![error]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::ApiLimits;
    use crate::parsed::ParsedDocuments;

    fn checked(query: &str, variables: serde_json::Value) -> (Option<String>, OperationSlot) {
        let documents = ParsedDocuments::new(ApiLimits::default(), false);
        let parsed = documents.get(query);
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        let slot = OperationSlot::new(None);
        let code = refusal(parsed.as_deref(), &request, &slot).map(|response| {
            assert_eq!(response.errors.len(), 1);
            error_code(&response.errors[0]).unwrap_or_default()
        });
        (code, slot)
    }

    #[test]
    fn a_document_past_a_limit_is_refused_with_its_code_and_its_operation_recorded() {
        let aliases: String = (0..=ApiLimits::default().max_aliases)
            .map(|n| format!("a{n}: a "))
            .collect();
        let (code, slot) = checked(
            &format!("query Many {{ a {{ {aliases} }} }}"),
            serde_json::json!({}),
        );
        assert_eq!(code.as_deref(), Some("TOO_MANY_ALIASES"));
        assert_eq!(slot.labels(), ("Many".to_owned(), "query"));
    }

    #[test]
    fn a_required_variable_not_sent_is_bad_user_input() {
        let query = "query Echo($t: String!) { echo(text: $t) }";
        let (code, slot) = checked(query, serde_json::json!({}));
        assert_eq!(code.as_deref(), Some("BAD_USER_INPUT"));
        assert_eq!(slot.labels(), ("Echo".to_owned(), "query"));
        let (code, _) = checked(query, serde_json::json!({ "t": "hello" }));
        assert_eq!(code, None);
    }

    #[test]
    fn a_document_that_did_not_parse_is_left_to_the_guarded_schema() {
        let (code, slot) = checked("{ echo(", serde_json::json!({}));
        assert_eq!(code, None);
        assert_eq!(slot.labels(), ("unknown".to_owned(), "unknown"));
    }
}
