//! The response cache: a repeated public match query (same document, operation, variables and
//! authorization, at the same index generation) is answered from the bytes of its last answer,
//! without parsing, validating or executing the document again. Parsing alone is about a third
//! of a GraphQL request's cost here, so this is what makes cached requests cheap.
//!
//! What must not be replayed is not: each replay gets new match ids, and queues the match logs
//! of the original answer again under those ids (marked as cache hits), so analysts see every
//! answer served. Only queries whose root fields are all in [`REPLAYABLE_FIELDS`] and that
//! answered without errors are kept; anything else runs normally.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection};
use moka::future::Cache;
use sha2::{Digest, Sha256};

use carematch_service::match_log::{ClientInfo, MatchLogCapture, MatchLogWriter};
use carematch_store::MatchLogRecord;

/// Root fields whose answers depend only on the request and the index generation.
pub const REPLAYABLE_FIELDS: &[&str] =
    &["matchProviders", "careTeam", "recommendCare", "__typename"];

/// A kept answer.
pub(crate) struct Replay {
    body: String,
    /// The answer's `Cache-Control` (`cache_control::for_answer`), answered again with it.
    pub(crate) cache_control: axum::http::HeaderValue,
    records: Vec<MatchLogRecord>,
}

pub(crate) struct ResponseCache {
    entries: Cache<[u8; 32], Arc<Replay>>,
}

impl ResponseCache {
    pub(crate) fn new(ttl: Duration, capacity_bytes: u64) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(capacity_bytes)
                .weigher(|_, replay: &Arc<Replay>| {
                    u32::try_from(replay.body.len() + 512 * replay.records.len())
                        .unwrap_or(u32::MAX)
                })
                .time_to_live(ttl)
                .build(),
        }
    }

    /// The key of a request, or `None` when its answer must not be replayed.
    pub(crate) fn key(
        request: &async_graphql::Request,
        authorization: Option<&[u8]>,
        generation: Option<u64>,
    ) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(b"replay-v1\0");
        hasher.update(generation.map_or(-1, i128::from).to_le_bytes());
        hasher.update(request.query.as_bytes());
        hasher.update(b"\0");
        hasher.update(request.operation_name.as_deref().unwrap_or("").as_bytes());
        hasher.update(b"\0");
        hasher.update(serde_json::to_vec(&request.variables).unwrap_or_default());
        hasher.update(b"\0");
        hasher.update(authorization.unwrap_or_default());
        hasher.finalize().into()
    }

    pub(crate) async fn get(&self, key: &[u8; 32]) -> Option<Arc<Replay>> {
        self.entries.get(key).await
    }

    pub(crate) async fn insert(
        &self,
        key: [u8; 32],
        body: String,
        cache_control: axum::http::HeaderValue,
        capture: &MatchLogCapture,
    ) {
        // A replay's log points at these records' results instead of copying them.
        let records = capture
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|record| MatchLogRecord {
                results: Vec::new(),
                ..record.clone()
            })
            .collect();
        self.entries
            .insert(
                key,
                Arc::new(Replay {
                    body,
                    cache_control,
                    records,
                }),
            )
            .await;
    }
}

/// Whether the chosen operation of `document` (parsed once per text, `parsed.rs`) is a query
/// of replayable root fields only.
pub(crate) fn is_replayable(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    let Some(operation) = crate::cache_control::selected_operation(document, operation_name) else {
        return false;
    };
    operation.node.ty == OperationType::Query
        && operation.node.selection_set.node.items.iter().all(|item| {
            matches!(&item.node, Selection::Field(field)
                if REPLAYABLE_FIELDS.contains(&field.node.name.node.as_str()))
        })
}

impl Replay {
    /// The kept answer with fresh match ids, after queueing its match logs under those ids.
    pub(crate) fn serve(
        &self,
        writer: &MatchLogWriter,
        client: &ClientInfo,
        latency: Duration,
    ) -> String {
        let mut body = self.body.clone();
        let today = chrono::Utc::now().date_naive();
        for original in &self.records {
            let mut record = original.clone();
            record.replay_of = Some(original.id);
            record.id = uuid::Uuid::new_v4();
            record.week_start = carematch_service::match_log::week_start(today);
            record.cache_hit = true;
            record.latency_ms = latency.as_secs_f64() * 1_000.0;
            record.client_name.clone_from(&client.name);
            record.client_version.clone_from(&client.version);
            body = body.replace(
                &format!("\"{}\"", original.id),
                &format!("\"{}\"", record.id),
            );
            writer.log(record);
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str) -> async_graphql::Request {
        async_graphql::Request::new(query)
    }

    /// As the HTTP layer decides: a document that does not parse is never replayed.
    fn replayable(query: &str, operation_name: Option<&str>) -> bool {
        async_graphql::parser::parse_query(query)
            .is_ok_and(|document| is_replayable(&document, operation_name))
    }

    #[test]
    fn the_decision_is_per_operation_of_the_document() {
        let named = "query A { __typename } mutation B { deleteProvider(id: \"x\") }";
        for (operation, expected) in [("A", true), ("B", false), ("A", true), ("B", false)] {
            assert_eq!(replayable(named, Some(operation)), expected, "{operation}");
        }
        let mutation = "mutation { deleteProvider(id: \"x\") }";
        assert!(!replayable(mutation, None));
        assert!(!replayable(mutation, None));
        assert!(replayable("{ __typename }", None));
    }

    #[test]
    fn only_queries_of_replayable_root_fields_are_kept() {
        assert!(replayable(
            "query($i: MatchInput!) { matchProviders(input: $i) { totalCount } __typename }",
            None
        ));
        assert!(replayable(
            "{ recommendCare(symptoms: [LOW_MOOD]) { notice } }",
            None
        ));
        assert!(!replayable("{ provider(id: \"x\") { name } }", None));
        assert!(!replayable("mutation { deleteProvider(id: \"x\") }", None));
        assert!(!replayable(
            "query { ...F } fragment F on Query { __typename }",
            None
        ));
        assert!(!replayable(
            "query A { __typename } query B { __typename }",
            None
        ));
        let named = "query A { __typename } mutation B { deleteProvider(id: \"x\") }";
        assert!(replayable(named, Some("A")));
        assert!(!replayable(named, Some("B")));
        assert!(!replayable("{ matchProviders(", None));
    }

    #[test]
    fn the_key_covers_document_operation_variables_authorization_and_generation() {
        let base = request("{ __typename }");
        let key = ResponseCache::key(&base, None, Some(1));
        assert_eq!(
            key,
            ResponseCache::key(&request("{ __typename }"), None, Some(1))
        );
        assert_ne!(key, ResponseCache::key(&base, None, Some(2)));
        assert_ne!(key, ResponseCache::key(&base, Some(b"Bearer x"), Some(1)));
        assert_ne!(
            key,
            ResponseCache::key(&request("{__typename}"), None, Some(1))
        );
        let mut named = request("{ __typename }");
        named.operation_name = Some("Q".into());
        assert_ne!(key, ResponseCache::key(&named, None, Some(1)));
        let with_variables = request("{ __typename }").variables(
            async_graphql::Variables::from_json(serde_json::json!({ "a": 1 })),
        );
        assert_ne!(key, ResponseCache::key(&with_variables, None, Some(1)));
    }
}
