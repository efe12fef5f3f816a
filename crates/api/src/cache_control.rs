//! The `Cache-Control` of `/graphql` answers: which ones a CDN or browser may keep.
//!
//! Only answers that are the same for everyone who sends the same request and carry nothing
//! personal are public: a query whose root fields are all in [`PUBLIC_ROOT_FIELDS`], answered
//! without errors. Everything else is `private, no-store`: matches and care teams (her location,
//! symptoms and payment are in the variables; each answer has its own `matchId` and match log,
//! which a cached copy would skip), mutations, errors, and refusals. A GET with a persisted
//! query's hash is the short URL a CDN keys on, so APQ over GET is what makes these cacheable;
//! POST answers carry the same header (a router's entity cache reads it).

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    ExecutableDocument, OperationDefinition, OperationType, Selection,
};
use axum::http::HeaderValue;

/// Root fields whose answer depends only on the request's arguments and public data, with how
/// long a shared cache may keep it (seconds).
const PUBLIC_ROOT_FIELDS: &[(&str, u32)] = &[
    // The care rules applied to the arguments: the same for everyone who sends them, and no
    // location or identity is among them. Five minutes, so a release that changes a safety rule
    // reaches every cached plan within five minutes.
    ("recommendCare", 300),
    // Public directory data; an admin's change shows within a minute.
    ("provider", 60),
    // The subgraph's SDL; changes only with a release or a restart with other settings.
    ("_service", 300),
    // Always "Query": does not limit what it is asked beside.
    ("__typename", u32::MAX),
];

/// The header of every answer that is not public.
pub(crate) const NOT_STORED: HeaderValue = HeaderValue::from_static("private, no-store");

/// The operation of `document` that a request with `operation_name` runs (GraphQL's rule: the
/// named one, or the only one); `None` when there is no such operation.
pub(crate) fn selected_operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match operation_name {
        Some(name) => document
            .operations
            .iter()
            .find(|(operation_name, _)| operation_name.is_some_and(|found| found.as_str() == name))
            .map(|(_, operation)| operation),
        None => {
            let mut operations = document.operations.iter();
            match (operations.next(), operations.next()) {
                (Some((_, operation)), None) => Some(operation),
                _ => None,
            }
        }
    }
}

/// The `Cache-Control` of a successful answer to the operation `operation_name` of `document`:
/// `public, max-age=N` when every root field is public (N the shortest of theirs), else
/// [`NOT_STORED`]. Root fields behind fragments are not looked into: not public.
pub(crate) fn for_answer(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> HeaderValue {
    let Some(operation) = selected_operation(document, operation_name) else {
        return NOT_STORED;
    };
    if operation.node.ty != OperationType::Query {
        return NOT_STORED;
    }
    let mut max_age = u32::MAX;
    for item in &operation.node.selection_set.node.items {
        let Selection::Field(field) = &item.node else {
            return NOT_STORED;
        };
        let name = field.node.name.node.as_str();
        match PUBLIC_ROOT_FIELDS
            .iter()
            .find(|(public, _)| *public == name)
        {
            Some((_, seconds)) => max_age = max_age.min(*seconds),
            None => return NOT_STORED,
        }
    }
    if max_age == u32::MAX {
        // `__typename` alone: nothing worth keeping, and nothing to bound it by.
        return NOT_STORED;
    }
    HeaderValue::from_str(&format!("public, max-age={max_age}")).unwrap_or(NOT_STORED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(query: &str, operation_name: Option<&str>) -> String {
        let document = async_graphql::parser::parse_query(query).unwrap();
        for_answer(&document, operation_name)
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn public_operations_are_cacheable_for_their_shortest_time_and_personal_ones_are_not_stored() {
        let cases = [
            (
                "{ recommendCare(symptoms: [LOW_MOOD]) { urgent { message } } }",
                None,
                "public, max-age=300",
            ),
            (
                "{ __typename provider(id: \"x\") { name } recommendCare(symptoms: []) { cautions { reason } } }",
                None,
                "public, max-age=60",
            ),
            (
                "query M($i: MatchInput!) { matchProviders(input: $i) { matchId } }",
                None,
                "private, no-store",
            ),
            (
                "{ careTeam(input: {}) { members { rank } } }",
                None,
                "private, no-store",
            ),
            (
                "{ recommendCare(symptoms: []) { urgent { message } } careTeam(input: {}) { members { rank } } }",
                None,
                "private, no-store",
            ),
            ("{ indexedProviderCount }", None, "private, no-store"),
            ("{ __typename }", None, "private, no-store"),
            (
                "mutation { deleteProvider(id: \"x\") }",
                None,
                "private, no-store",
            ),
            (
                "{ ...F } fragment F on Query { recommendCare(symptoms: []) { urgent { message } } }",
                None,
                "private, no-store",
            ),
            // The operation that runs decides, not the others in the document.
            (
                "query A { matchProviders(input: {}) { matchId } } query B { provider(id: \"x\") { name } }",
                Some("B"),
                "public, max-age=60",
            ),
            (
                "query A { matchProviders(input: {}) { matchId } } query B { provider(id: \"x\") { name } }",
                Some("A"),
                "private, no-store",
            ),
            (
                "query A { provider(id: \"x\") { name } } query B { provider(id: \"x\") { name } }",
                None,
                "private, no-store",
            ),
        ];
        for (query, operation_name, expected) in cases {
            assert_eq!(
                header(query, operation_name),
                expected,
                "{query} {operation_name:?}"
            );
        }
    }
}
