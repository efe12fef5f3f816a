//! Parsed documents, kept by query text: apps send the same few documents with different
//! variables, and parsing is about a third of a small request's cost. Documents that fail to
//! parse are not kept.
//!
//! Every HTTP request's document is parsed and checked here first, before async-graphql sees
//! it: the nesting limit before parsing, then the document limits (`limits::check_document`),
//! whose refusal the HTTP layer answers itself. async-graphql's own walks (its recursion-depth
//! and directive checks, validation) follow every fragment spread anew, so they must never see
//! a document whose fragments multiply.
//!
//! Each kept document also remembers whether it may run on the plain schema (one without
//! extensions, see `schema::build_plain_schema`): a document of queries only that passed the
//! request guard's parse-time checks. async-graphql sends every field of every request through
//! the extension chain as soon as a schema has one extension, which costs a fifth of a
//! 20-result answer; a checked query needs none of the chain.

use std::sync::Arc;

use async_graphql::ServerError;
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use moka::sync::Cache;

use crate::limits::{ApiLimits, check_document, check_nesting};

/// Bytes of query text whose parsed documents are kept.
const CAPACITY_BYTES: u64 = 8 * 1024 * 1024;

/// A parsed document and what the guard concluded about it.
pub(crate) struct ParsedDocument {
    pub(crate) document: ExecutableDocument,
    /// Why the document is refused (a parse-time limit), answered without executing.
    pub(crate) refusal: Option<ServerError>,
    /// Queries only, within every parse-time limit: may run without the guard.
    pub(crate) plain: bool,
}

pub(crate) struct ParsedDocuments {
    documents: Cache<Arc<str>, Arc<ParsedDocument>>,
    limits: ApiLimits,
    introspection: bool,
}

impl ParsedDocuments {
    pub(crate) fn new(limits: ApiLimits, introspection: bool) -> Self {
        Self {
            documents: Cache::builder()
                .max_capacity(CAPACITY_BYTES)
                // The text's length stands for the document's size (a parsed document is a
                // small multiple of it).
                .weigher(|query: &Arc<str>, _| u32::try_from(query.len()).unwrap_or(u32::MAX))
                .build(),
            limits,
            introspection,
        }
    }

    /// The document of `query`, parsed once; `None` when it is too long, nested too deep or
    /// does not parse (the guarded schema then refuses it again, with the coded error, before
    /// parsing it or while parsing it).
    pub(crate) fn get(&self, query: &str) -> Option<Arc<ParsedDocument>> {
        if let Some(parsed) = self.documents.get(query) {
            return Some(parsed);
        }
        if query.len() > self.limits.max_query_bytes || check_nesting(query).is_err() {
            return None;
        }
        let document = async_graphql::parser::parse_query(query).ok()?;
        let queries_only = document
            .operations
            .iter()
            .all(|(_, operation)| operation.node.ty == OperationType::Query);
        let refusal = check_document(&document, &self.limits, self.introspection).err();
        let plain = queries_only && refusal.is_none();
        let parsed = Arc::new(ParsedDocument {
            document,
            refusal,
            plain,
        });
        self.documents.insert(Arc::from(query), Arc::clone(&parsed));
        Some(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documents() -> ParsedDocuments {
        ParsedDocuments::new(ApiLimits::default(), false)
    }

    #[test]
    fn a_document_is_parsed_once_and_kept() {
        let documents = documents();
        let query = "query($t: String!) { echo(text: $t) }";
        let first = documents.get(query).expect("parses");
        let second = documents.get(query).expect("parses");
        assert!(
            Arc::ptr_eq(&first, &second),
            "the second lookup parsed again"
        );
        assert!(first.plain);
    }

    #[test]
    fn a_document_that_does_not_parse_is_never_kept() {
        let documents = documents();
        for _ in 0..2 {
            assert!(documents.get("{ echo(").is_none());
        }
        documents.documents.run_pending_tasks();
        assert_eq!(documents.documents.entry_count(), 0);
    }

    #[test]
    fn only_checked_queries_may_run_plain() {
        let documents = documents();
        let plain = |query: &str| documents.get(query).expect("parses").plain;
        assert!(plain("{ a b c }"));
        assert!(!plain("mutation { a }"), "a mutation must meet the guard");
        assert!(!plain("query A { a } mutation B { b }"));
        assert!(
            !plain("{ __schema { types { name } } }"),
            "introspection is off"
        );
        let aliases: String = (0..=ApiLimits::default().max_aliases)
            .map(|n| format!("a{n}: a "))
            .collect();
        assert!(!plain(&format!("{{ {aliases} }}")), "too many aliases");
        let roots: String = (0..=ApiLimits::default().max_root_fields)
            .map(|n| format!("f{n} "))
            .collect();
        assert!(!plain(&format!("{{ {roots} }}")), "too many root fields");
    }

    #[test]
    fn a_query_over_the_size_limit_is_left_to_the_guard() {
        let documents = ParsedDocuments::new(
            ApiLimits {
                max_query_bytes: 16,
                ..ApiLimits::default()
            },
            true,
        );
        assert!(documents.get("{ a }").is_some());
        assert!(documents.get("{ a b c d e f g h i j }").is_none());
    }
}
