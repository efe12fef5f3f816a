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

use async_graphql::parser::types::{OperationType, Selection};
use moka::future::Cache;
use sha2::{Digest, Sha256};

use crate::match_log::{ClientInfo, MatchLogCapture, MatchLogWriter};
use carematch_store::MatchLogRecord;

/// Root fields whose answers depend only on the request and the index generation.
pub const REPLAYABLE_FIELDS: &[&str] =
    &["matchProviders", "careTeam", "recommendCare", "__typename"];

/// A kept answer.
pub(crate) struct Replay {
    body: String,
    records: Vec<MatchLogRecord>,
}

pub(crate) struct ResponseCache {
    entries: Cache<[u8; 32], Arc<Replay>>,
    /// Whether a document (operation name, with its length in front so no two split alike,
    /// and query text) is replayable: deciding parses it, and clients send the same few
    /// documents with new variables.
    replayable: moka::sync::Cache<String, bool>,
}

/// Documents whose replayability is remembered.
const REMEMBERED_DOCUMENTS: u64 = 1_024;

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
            replayable: moka::sync::Cache::new(REMEMBERED_DOCUMENTS),
        }
    }

    /// [`is_replayable`], remembered per document.
    pub(crate) fn is_replayable(&self, request: &async_graphql::Request) -> bool {
        let operation = request.operation_name.as_deref().unwrap_or("");
        let document = format!("{}:{operation}{}", operation.len(), request.query);
        if let Some(known) = self.replayable.get(&document) {
            return known;
        }
        let replayable = is_replayable(request);
        self.replayable.insert(document, replayable);
        replayable
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

    pub(crate) async fn insert(&self, key: [u8; 32], body: String, capture: &MatchLogCapture) {
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
            .insert(key, Arc::new(Replay { body, records }))
            .await;
    }
}

/// Whether the document's chosen operation is a query of replayable root fields only.
pub(crate) fn is_replayable(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let operation = match request.operation_name.as_deref() {
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
    };
    let Some(operation) = operation else {
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
            record.week_start = crate::match_log::week_start(today);
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

    #[test]
    fn the_remembered_decision_is_per_operation_and_document() {
        let cache = ResponseCache::new(Duration::from_secs(60), 1 << 20);
        let mut named = request("query A { __typename } mutation B { deleteProvider(id: \"x\") }");
        for (operation, replayable) in [("A", true), ("B", false), ("A", true), ("B", false)] {
            named.operation_name = Some(operation.into());
            assert_eq!(cache.is_replayable(&named), replayable, "{operation}");
        }
        let mutation = request("mutation { deleteProvider(id: \"x\") }");
        assert!(!cache.is_replayable(&mutation));
        assert!(!cache.is_replayable(&mutation));
        assert!(cache.is_replayable(&request("{ __typename }")));
    }

    #[test]
    fn only_queries_of_replayable_root_fields_are_kept() {
        assert!(is_replayable(&request(
            "query($i: MatchInput!) { matchProviders(input: $i) { totalCount } __typename }"
        )));
        assert!(is_replayable(&request(
            "{ recommendCare(symptoms: [LOW_MOOD]) { notice } }"
        )));
        assert!(!is_replayable(&request("{ provider(id: \"x\") { name } }")));
        assert!(!is_replayable(&request(
            "mutation { deleteProvider(id: \"x\") }"
        )));
        assert!(!is_replayable(&request(
            "query { ...F } fragment F on Query { __typename }"
        )));
        assert!(!is_replayable(&request(
            "query A { __typename } query B { __typename }"
        )));
        let mut named = request("query A { __typename } mutation B { deleteProvider(id: \"x\") }");
        named.operation_name = Some("A".into());
        assert!(is_replayable(&named));
        named.operation_name = Some("B".into());
        assert!(!is_replayable(&named));
        assert!(!is_replayable(&request("{ matchProviders(")));
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
