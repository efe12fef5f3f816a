//! Redis as an optimisation, never a dependency for correctness.
//!
//! - [`TwoTierCache`]: encoded answers by key, in a bounded in-process cache and, when redis is
//!   configured, shared between replicas; single flight per process.
//! - [`ChangeFeed`]: committed provider writes announced to the other replicas.
//! - [`RedisLink`]: every redis command with its own deadline and a [`CircuitBreaker`], so a
//!   dead or silent redis costs at most one timeout and then nothing while the breaker is open.
//!
//! This crate knows nothing of GraphQL or ranking: callers choose keys and encodings.

mod breaker;
mod error;
#[cfg(feature = "test-support")]
pub mod fault;
mod feed;
mod link;
mod results;

pub use breaker::{BreakerState, CircuitBreaker};
pub use error::CacheError;
pub use feed::{ChangeEvent, ChangeFeed, DEFAULT_PING_INTERVAL, FeedMessage};
pub use link::{RedisLink, RedisOptions};
pub use results::{CacheOutcome, TwoTierCache, TwoTierCacheOptions};
