//! carematch's GraphQL subgraph: the schema (types mapped from `domain`), the axum router with
//! `/graphql`, `/healthz`, `/readyz` and `/metrics`, and the function that serves it.
//!
//! Architecture invariant: GraphQL types live here and are mapped from domain types; the domain
//! derives no GraphQL, so the published schema changes only when this crate says so.

pub mod apq;
pub mod auth;
pub mod cache;
mod cache_control;
mod directory;
mod error;
pub mod ftv1;
pub mod health;
mod http;
mod inputs;
pub mod limits;
pub mod match_log;
mod matches;
pub mod metrics;
mod parsed;
mod playground;
pub mod propagation;
mod replay;
mod schema;
mod server;
mod types;
mod variables;

pub use auth::{AuthConfig, Authenticator, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, mint_admin_token};
pub use directory::{CatchUp, Directory, DirectoryError};
pub use error::ApiError;
pub use health::{Readiness, RedisStatus};
pub use http::{
    ApiOptions, ApplicationSlot, RouterSecret, current_request_id, router, service_router,
};
pub use limits::ApiLimits;
pub use schema::{CarematchSchema, build_schema, sdl, sdl_of};
pub use server::{ServeOptions, serve};

use std::sync::Arc;

use carematch_matching::Engine;

/// What request handlers share.
#[derive(Clone)]
pub struct AppState {
    /// Provider writes and the local index.
    pub directory: Directory,
    /// Ranking over the same index.
    pub engine: Arc<Engine>,
    pub authenticator: Authenticator,
    /// De-identified match logs, queued for the background writer.
    pub match_log: match_log::MatchLogWriter,
    /// What `/readyz` answers; the cache and change propagation report redis and catch-up here.
    pub readiness: Arc<Readiness>,
    /// Ranked lists by normalized request and index generation (redis-shared when configured).
    pub match_cache: cache::MatchCache,
}
