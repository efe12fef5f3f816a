//! carematch's GraphQL subgraph: the schema (types mapped from `domain`), the axum router with
//! `/graphql`, `/healthz`, `/readyz` and `/metrics`, and the function that serves it.
//!
//! Architecture invariant: GraphQL types live here and are mapped from domain types; the domain
//! derives no GraphQL, so the published schema changes only when this crate says so.

pub mod apq;
mod cache_control;
mod error;
pub mod ftv1;
mod graphql;
mod http;
pub mod limits;
pub mod metrics;
mod parsed;
mod playground;
mod replay;
mod server;
mod variables;

// Admin tokens are checked in the service layer; the binary mints them through this crate.
pub use carematch_service::{
    AuthConfig, Authenticator, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, mint_admin_token,
};
pub use error::ApiError;
pub use graphql::{CarematchSchema, build_schema, sdl, sdl_of};
pub use http::{
    ApiOptions, ApplicationSlot, RouterSecret, current_request_id, router, service_router,
};
pub use limits::ApiLimits;
pub use server::{ServeOptions, serve};

use std::sync::Arc;

use carematch_service::match_log::MatchLogWriter;
use carematch_service::{MatchService, ProviderDirectory, Readiness};

/// The services request handlers call. Resolvers only map between these services' types and
/// the contract's.
#[derive(Clone)]
pub struct AppState {
    /// Provider writes, reads of this replica's index (entity lookups) and its catch-up.
    pub directory: ProviderDirectory,
    /// Match pages, care teams and outcomes, ranked over the directory's index.
    pub matches: MatchService,
    pub authenticator: Authenticator,
    /// De-identified match logs: the response replay queues its records here.
    pub match_log: MatchLogWriter,
    /// What `/readyz` answers; the cache and change propagation report redis and catch-up here.
    pub readiness: Arc<Readiness>,
}
