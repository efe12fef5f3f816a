//! carematch's GraphQL subgraph: the schema (types mapped from `domain`), the axum router with
//! `/graphql`, `/healthz` and `/readyz`, and the function that serves it.
//!
//! Architecture invariant: GraphQL types live here and are mapped from domain types; the domain
//! derives no GraphQL, so the published schema changes only when this crate says so.

mod error;
mod http;
mod schema;
mod types;

pub use error::ApiError;
pub use http::{ApiOptions, router, serve};
pub use schema::{CarematchSchema, build_schema, sdl};

use carematch_postal::PostalCodes;
use carematch_store::Store;

/// What request handlers share: the store and the postal table.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub postal: PostalCodes,
}
