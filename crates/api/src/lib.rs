//! carematch's GraphQL subgraph: the schema (types mapped from `domain`), the axum router with
//! `/graphql`, `/healthz` and `/readyz`, and the function that serves it.
//!
//! Architecture invariant: GraphQL types live here and are mapped from domain types; the domain
//! derives no GraphQL, so the published schema changes only when this crate says so.

pub mod apq;
pub mod auth;
mod directory;
mod error;
pub mod ftv1;
mod http;
mod inputs;
pub mod limits;
pub mod match_log;
mod matches;
mod schema;
mod types;

pub use auth::{AuthConfig, Authenticator, mint_admin_token};
pub use directory::{Directory, DirectoryError};
pub use error::ApiError;
pub use http::{ApiOptions, RouterSecret, current_request_id, router, serve};
pub use limits::ApiLimits;
pub use schema::{CarematchSchema, build_schema, sdl};

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
}
