//! Parsed documents, kept by query text: apps send the same few documents with different
//! variables, and parsing is about a third of a small request's cost. Registered as the
//! innermost extension, so the request guard and tracing still see every document; only the
//! parse itself is skipped. Documents that fail to parse are not kept.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerResult, Variables};
use moka::future::Cache;

/// Bytes of query text whose parsed documents are kept.
const CAPACITY_BYTES: u64 = 8 * 1024 * 1024;

pub struct ParsedDocuments {
    documents: Cache<Arc<str>, ExecutableDocument>,
}

impl ParsedDocuments {
    pub fn new() -> Self {
        Self {
            documents: Cache::builder()
                .max_capacity(CAPACITY_BYTES)
                // The text's length stands for the document's size (a parsed document is a
                // small multiple of it).
                .weigher(|query: &Arc<str>, _| u32::try_from(query.len()).unwrap_or(u32::MAX))
                .build(),
        }
    }
}

impl Default for ParsedDocuments {
    fn default() -> Self {
        Self::new()
    }
}

impl ExtensionFactory for ParsedDocuments {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ParsedDocumentsExtension {
            documents: self.documents.clone(),
        })
    }
}

struct ParsedDocumentsExtension {
    documents: Cache<Arc<str>, ExecutableDocument>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for ParsedDocumentsExtension {
    async fn parse_query(
        &self,
        context: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if let Some(document) = self.documents.get(query).await {
            return Ok(document);
        }
        let document = next.run(context, query, variables).await?;
        self.documents
            .insert(Arc::from(query), document.clone())
            .await;
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Query;

    #[Object]
    impl Query {
        async fn echo(&self, text: String) -> String {
            text
        }
    }

    /// Counts the parses that reach it (it sits inside `ParsedDocuments`).
    struct CountParses(Arc<AtomicUsize>);

    impl ExtensionFactory for CountParses {
        fn create(&self) -> Arc<dyn Extension> {
            Arc::new(CountParsesExtension(Arc::clone(&self.0)))
        }
    }

    struct CountParsesExtension(Arc<AtomicUsize>);

    #[async_graphql::async_trait::async_trait]
    impl Extension for CountParsesExtension {
        async fn parse_query(
            &self,
            context: &ExtensionContext<'_>,
            query: &str,
            variables: &Variables,
            next: NextParseQuery<'_>,
        ) -> ServerResult<ExecutableDocument> {
            self.0.fetch_add(1, Ordering::SeqCst);
            next.run(context, query, variables).await
        }
    }

    #[tokio::test]
    async fn a_document_is_parsed_once_and_answers_with_each_requests_variables() {
        let parses = Arc::new(AtomicUsize::new(0));
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(ParsedDocuments::new())
            .extension(CountParses(Arc::clone(&parses)))
            .finish();
        let query = "query($t: String!) { echo(text: $t) }";
        for text in ["one", "two", "three"] {
            let request = async_graphql::Request::new(query)
                .variables(Variables::from_json(serde_json::json!({ "t": text })));
            let response = schema.execute(request).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            assert_eq!(
                response.data.into_json().unwrap(),
                serde_json::json!({ "echo": text })
            );
        }
        assert_eq!(parses.load(Ordering::SeqCst), 1);
        // A document that does not parse is refused each time, never kept.
        for _ in 0..2 {
            let response = schema.execute("{ echo(").await;
            assert!(!response.errors.is_empty());
        }
        assert_eq!(parses.load(Ordering::SeqCst), 3);
    }
}
