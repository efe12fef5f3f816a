//! HTTP-level switches and limits, set from configuration.

use std::fmt;
use std::sync::Arc;

use crate::limits::ApiLimits;

/// HTTP-level switches and limits, set from configuration.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Serve the GraphQL playground on a browser GET of `/graphql`.
    pub playground: bool,
    /// Answer introspection queries (`__schema`, `__type`) and suggest field names in errors.
    /// `_service { sdl }` is federation, not introspection: the router always gets it.
    pub introspection: bool,
    /// Query and request limits.
    pub limits: ApiLimits,
    /// Browser origins allowed by CORS (`*` for any); empty: no CORS headers at all.
    pub cors_allowed_origins: Vec<String>,
    /// When set, every `/graphql` request must carry it in `x-router-secret`.
    pub router_secret: Option<RouterSecret>,
    /// Persisted queries (APQ) kept in this replica's memory.
    pub persisted_queries_capacity: usize,
    /// Redis, when configured: persisted queries are shared through it.
    pub redis: Option<Arc<carematch_cache::RedisLink>>,
    /// How long a replayable answer is kept (see `replay`).
    pub response_cache_ttl: std::time::Duration,
    /// Bytes of replayable answers kept; 0 turns replaying off.
    pub response_cache_bytes: u64,
    /// Publish and resolve `CareListing` as an `@interfaceObject` (see `schema::CarematchSchema`).
    /// Off by default: the subgraph then composes with any subgraph; on, only beside a subgraph
    /// that owns `interface CareListing @key(fields: "id")`.
    pub care_listing_interface_object: bool,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            playground: true,
            introspection: true,
            limits: ApiLimits::default(),
            cors_allowed_origins: Vec::new(),
            router_secret: None,
            persisted_queries_capacity: 1_000,
            redis: None,
            response_cache_ttl: std::time::Duration::from_secs(300),
            response_cache_bytes: 32 * 1024 * 1024,
            care_listing_interface_object: false,
        }
    }
}

/// The router's shared secret: never printed.
#[derive(Clone)]
pub struct RouterSecret(pub String);

impl fmt::Debug for RouterSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}
