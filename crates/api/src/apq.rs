//! Automatic persisted queries, Apollo's protocol: a client sends only
//! `extensions.persistedQuery.sha256Hash`; an unknown hash is answered `PERSISTED_QUERY_NOT_FOUND`
//! and the client sends the query with its hash once, which is stored. Works over GET and POST.
//!
//! With redis configured, queries are kept there too ([`SharedPersistedQueries`]), so a hash
//! registered through one replica works on every other; each replica keeps its own LRU in
//! front, and serves from it alone while redis is down.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_graphql::ServerError;
use carematch_domain::ErrorCode;
use futures::future::BoxFuture;
use sha2::{Digest, Sha256};

use crate::limits::coded_error;

/// Where persisted queries live, keyed by the lowercase hex SHA-256 of the query text.
pub trait PersistedQueryStore: Send + Sync + 'static {
    fn get(&self, hash: &str) -> BoxFuture<'_, Option<Arc<str>>>;
    fn put(&self, hash: String, query: Arc<str>) -> BoxFuture<'_, ()>;
}

/// An in-process store bounded by a number of queries; the least recently used query goes
/// first. Each replica has its own, so a client may register the same query once per replica.
pub struct InMemoryPersistedQueries {
    capacity: usize,
    state: Mutex<LruState>,
}

#[derive(Default)]
struct LruState {
    tick: u64,
    /// hash -> (query, last use)
    queries: HashMap<String, (Arc<str>, u64)>,
    /// last use -> hash, oldest first
    by_use: BTreeMap<u64, String>,
}

impl InMemoryPersistedQueries {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            state: Mutex::new(LruState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruState> {
        // A panic while holding the lock leaves a consistent map: keep serving.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl PersistedQueryStore for InMemoryPersistedQueries {
    fn get(&self, hash: &str) -> BoxFuture<'_, Option<Arc<str>>> {
        let mut state = self.lock();
        state.tick += 1;
        let tick = state.tick;
        let found = state.queries.get_mut(hash).map(|(query, last_use)| {
            let previous = std::mem::replace(last_use, tick);
            (Arc::clone(query), previous)
        });
        let found = found.map(|(query, previous)| {
            state.by_use.remove(&previous);
            state.by_use.insert(tick, hash.to_owned());
            query
        });
        Box::pin(std::future::ready(found))
    }

    fn put(&self, hash: String, query: Arc<str>) -> BoxFuture<'_, ()> {
        if self.capacity > 0 {
            let mut state = self.lock();
            state.tick += 1;
            let tick = state.tick;
            if let Some((_, previous)) = state.queries.insert(hash.clone(), (query, tick)) {
                state.by_use.remove(&previous);
            }
            state.by_use.insert(tick, hash);
            while state.queries.len() > self.capacity {
                let Some((_, oldest)) = state.by_use.pop_first() else {
                    break;
                };
                state.queries.remove(&oldest);
            }
        }
        Box::pin(std::future::ready(()))
    }
}

/// How long a persisted query stays in redis after it was last registered.
const SHARED_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3_600);

/// Persisted queries in redis, behind this replica's LRU.
pub struct SharedPersistedQueries {
    local: InMemoryPersistedQueries,
    redis: Arc<carematch_cache::RedisLink>,
}

impl SharedPersistedQueries {
    pub fn new(capacity: usize, redis: Arc<carematch_cache::RedisLink>) -> Self {
        Self {
            local: InMemoryPersistedQueries::new(capacity),
            redis,
        }
    }

    fn key(&self, hash: &str) -> String {
        self.redis.key(&format!("apq:{hash}"))
    }
}

impl PersistedQueryStore for SharedPersistedQueries {
    fn get(&self, hash: &str) -> BoxFuture<'_, Option<Arc<str>>> {
        let hash = hash.to_owned();
        Box::pin(async move {
            if let Some(query) = self.local.get(&hash).await {
                return Some(query);
            }
            let bytes = self.redis.get(&self.key(&hash)).await.ok()??;
            let query: Arc<str> = Arc::from(String::from_utf8(bytes).ok()?);
            // A stored query is trusted only if it still hashes to its key.
            if query_hash(&query) != hash {
                return None;
            }
            self.local.put(hash, Arc::clone(&query)).await;
            Some(query)
        })
    }

    fn put(&self, hash: String, query: Arc<str>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let key = self.key(&hash);
            // A failure is counted by the link; this replica still has it.
            let _ = self.redis.set(&key, query.as_bytes(), SHARED_TTL).await;
            self.local.put(hash, query).await;
        })
    }
}

/// The persisted-query store for this replica: shared through redis when configured.
pub fn persisted_query_store(
    capacity: usize,
    redis: Option<Arc<carematch_cache::RedisLink>>,
) -> Arc<dyn PersistedQueryStore> {
    match redis {
        Some(redis) => Arc::new(SharedPersistedQueries::new(capacity, redis)),
        None => Arc::new(InMemoryPersistedQueries::new(capacity)),
    }
}

/// The lowercase hex SHA-256 of a query, as APQ clients compute it.
pub fn query_hash(query: &str) -> String {
    Sha256::digest(query.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Applies the APQ protocol to a request: fills in the query of a known hash, registers a new
/// query sent with its hash, or explains what is wrong. Requests without the extension pass.
pub async fn resolve_persisted_query(
    store: &dyn PersistedQueryStore,
    request: &mut async_graphql::Request,
    max_query_bytes: usize,
) -> Result<(), ServerError> {
    let Some(persisted) = request.extensions.get("persistedQuery") else {
        return Ok(());
    };
    let persisted = serde_json::to_value(persisted).unwrap_or_default();
    if persisted["version"].as_i64() != Some(1) {
        return Err(coded_error(
            ErrorCode::BadRequest,
            "unsupported persisted query version: only version 1 is supported",
        ));
    }
    let Some(hash) = persisted["sha256Hash"]
        .as_str()
        .map(str::to_ascii_lowercase)
    else {
        return Err(coded_error(
            ErrorCode::BadRequest,
            "persistedQuery.sha256Hash is missing",
        ));
    };
    if request.query.is_empty() {
        return match store.get(&hash).await {
            Some(query) => {
                request.query = query.to_string();
                Ok(())
            }
            // Apollo clients match on this exact message as well as on the code.
            None => Err(coded_error(
                ErrorCode::PersistedQueryNotFound,
                "PersistedQueryNotFound",
            )),
        };
    }
    if query_hash(&request.query) != hash {
        return Err(coded_error(
            ErrorCode::BadRequest,
            "provided sha does not match query",
        ));
    }
    // An oversized query is refused by the parse-time limit; it is not worth storing.
    if request.query.len() <= max_query_bytes {
        store.put(hash, Arc::from(request.query.as_str())).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_least_recently_used_query_is_evicted_first() {
        let store = InMemoryPersistedQueries::new(2);
        store.put("a".into(), Arc::from("{ a }")).await;
        store.put("b".into(), Arc::from("{ b }")).await;
        assert!(store.get("a").await.is_some());
        store.put("c".into(), Arc::from("{ c }")).await;
        assert!(store.get("b").await.is_none());
        assert!(store.get("a").await.is_some());
        assert!(store.get("c").await.is_some());
    }

    #[test]
    fn the_hash_is_lowercase_hex_sha256() {
        assert_eq!(
            query_hash("{__typename}"),
            "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"
        );
    }
}
