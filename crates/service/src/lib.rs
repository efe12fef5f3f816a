//! carematch's application layer, between the GraphQL surface (`api`) and the engine: what
//! one request does, in plain Rust types.
//!
//! - [`MatchService`]: a match page or a care team in one call (ranked-list cache, ranking,
//!   words, providers, match log), and outcomes.
//! - [`ProviderDirectory`]: provider writes (database, then this replica's index, then the
//!   audit log and the change feed), reads of the index, and the catch-up with other replicas'
//!   writes; [`propagation`] runs it for the life of the process.
//! - [`match_log`]: de-identified records of the answers and their background writer.
//! - [`Readiness`]: what `/readyz` answers; [`metrics`]: the application's Prometheus series.
//! - [`auth`]: admin bearer tokens.
//!
//! Architecture invariant: nothing here knows of GraphQL or HTTP (no async-graphql, axum or
//! hyper); `api` calls these services and maps their types to the contract.

pub mod auth;
mod directory;
pub mod match_log;
mod match_service;
pub mod metrics;
pub mod propagation;
mod ranked_lists;
pub mod readiness;

pub use auth::{
    Admin, AuthConfig, AuthError, Authenticator, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    mint_admin_token,
};
pub use directory::{CatchUp, DirectoryError, ProviderDirectory, indexed_providers};
pub use match_service::{
    CareTeamPage, MatchPage, MatchService, MatchServiceError, OUTCOME_FLUSH_TIMEOUT, OutcomeError,
    OutcomeReport, PageRequest, ShownMatch, ShownTeamMember,
};
pub use ranked_lists::{RankedListCache, RankedListError};
pub use readiness::{Readiness, RedisStatus};
