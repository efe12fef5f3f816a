//! The two-tier cache: encoded answers by key, in a bounded in-process cache, and in redis too
//! when configured so that replicas share them. Concurrent misses of one key in one process
//! compute once (single flight); the others wait for that answer.
//!
//! Keys are chosen by the caller and must already hold everything the answer depends on (the
//! request, the index generation, the ranking configuration): nothing here invalidates.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use moka::future::Cache;

use crate::link::RedisLink;

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// This process's cache (or a concurrent identical request computed it).
    LocalHit,
    /// Another replica computed it; redis had it.
    SharedHit,
    /// Computed for this request.
    Miss,
}

impl CacheOutcome {
    pub fn is_hit(self) -> bool {
        self != CacheOutcome::Miss
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CacheOutcome::LocalHit => "local",
            CacheOutcome::SharedHit => "shared",
            CacheOutcome::Miss => "miss",
        }
    }

    fn from_u8(value: u8) -> Self {
        match value {
            1 => CacheOutcome::SharedHit,
            2 => CacheOutcome::Miss,
            _ => CacheOutcome::LocalHit,
        }
    }
}

/// Sizes and lifetimes.
#[derive(Debug, Clone)]
pub struct TwoTierCacheOptions {
    /// How long an answer is kept (locally and in redis).
    pub ttl: Duration,
    /// Bytes of encoded answers kept in this process.
    pub local_capacity_bytes: u64,
}

impl Default for TwoTierCacheOptions {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            local_capacity_bytes: 64 * 1024 * 1024,
        }
    }
}

pub struct TwoTierCache {
    local: Cache<String, Arc<Vec<u8>>>,
    shared: Option<Arc<RedisLink>>,
    ttl: Duration,
}

impl std::fmt::Debug for TwoTierCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TwoTierCache")
            .field("entries", &self.local.entry_count())
            .field("shared", &self.shared.is_some())
            .finish()
    }
}

impl TwoTierCache {
    /// `shared`: redis, when configured.
    pub fn new(options: &TwoTierCacheOptions, shared: Option<Arc<RedisLink>>) -> Self {
        let local = Cache::builder()
            .max_capacity(options.local_capacity_bytes)
            .weigher(|key: &String, value: &Arc<Vec<u8>>| {
                u32::try_from(key.len() + value.len()).unwrap_or(u32::MAX)
            })
            .time_to_live(options.ttl)
            .build();
        Self {
            local,
            shared,
            ttl: options.ttl,
        }
    }

    /// The answer under `key`, computing (and storing) it when neither this process nor redis
    /// has it. A redis failure is a miss, never an error: only `compute` can fail.
    pub async fn get_or_compute<F, Fut, E>(
        &self,
        key: &str,
        compute: F,
    ) -> Result<(Arc<Vec<u8>>, CacheOutcome), Arc<E>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<u8>, E>>,
        E: Send + Sync + 'static,
    {
        let outcome = AtomicU8::new(0);
        let shared = self.shared.clone();
        let ttl = self.ttl;
        let shared_key = shared.as_ref().map(|link| link.key(&format!("r:{key}")));
        let load = async {
            if let (Some(link), Some(shared_key)) = (&shared, &shared_key)
                && let Ok(Some(bytes)) = link.get(shared_key).await
            {
                outcome.store(1, Ordering::Relaxed);
                return Ok(Arc::new(bytes));
            }
            let bytes = Arc::new(compute().await?);
            outcome.store(2, Ordering::Relaxed);
            if let (Some(link), Some(shared_key)) = (shared, shared_key) {
                // Writing to redis is not on the request's path.
                let value = Arc::clone(&bytes);
                tokio::spawn(async move {
                    // A failure is counted by the link; the answer is still served.
                    let _ = link.set(&shared_key, &value, ttl).await;
                });
            }
            Ok(bytes)
        };
        let entry = self
            .local
            .entry_by_ref(key)
            .or_try_insert_with(load)
            .await?;
        let outcome = if entry.is_fresh() {
            CacheOutcome::from_u8(outcome.load(Ordering::Relaxed))
        } else {
            CacheOutcome::LocalHit
        };
        metrics::counter!("carematch_cache_requests_total", "outcome" => outcome.as_str())
            .increment(1);
        Ok((entry.into_value(), outcome))
    }

    /// Forgets every answer kept in this process (redis entries age out by TTL).
    pub fn clear_local(&self) {
        self.local.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test]
    async fn a_repeated_key_is_a_hit_and_concurrent_misses_compute_once() {
        let cache = TwoTierCache::new(&TwoTierCacheOptions::default(), None);
        let computed = Arc::new(AtomicUsize::new(0));
        let compute = || {
            let computed = Arc::clone(&computed);
            async move {
                computed.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<_, String>(b"answer".to_vec())
            }
        };
        let (first, second, third) = tokio::join!(
            cache.get_or_compute("k", compute),
            cache.get_or_compute("k", compute),
            cache.get_or_compute("k", compute),
        );
        assert_eq!(computed.load(Ordering::SeqCst), 1, "single flight");
        let outcomes = [first, second, third].map(|result| result.unwrap());
        assert_eq!(
            outcomes
                .iter()
                .filter(|(_, outcome)| *outcome == CacheOutcome::Miss)
                .count(),
            1
        );
        assert!(
            outcomes
                .iter()
                .all(|(bytes, _)| bytes.as_slice() == b"answer")
        );
        let (_, again) = cache.get_or_compute("k", compute).await.unwrap();
        assert_eq!(again, CacheOutcome::LocalHit);
        let (_, other) = cache.get_or_compute("other", compute).await.unwrap();
        assert_eq!(other, CacheOutcome::Miss);
        assert_eq!(computed.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_computation_is_not_cached() {
        let cache = TwoTierCache::new(&TwoTierCacheOptions::default(), None);
        let failed = cache
            .get_or_compute("k", || async { Err::<Vec<u8>, _>("boom".to_owned()) })
            .await;
        assert_eq!(failed.unwrap_err().as_str(), "boom");
        let (_, outcome) = cache
            .get_or_compute("k", || async { Ok::<_, String>(vec![1]) })
            .await
            .unwrap();
        assert_eq!(outcome, CacheOutcome::Miss);
    }
}
