//! carematch's matching engine: a validated request becomes a care plan (domain triage), the
//! plan's care types become candidates (the search index), candidates get component scores
//! and a weighted sum (weights from [`RankingConfig`]), and the top 200 come back with plain
//! reasons and notes. Care teams pick the best provider per recommended care type.
//!
//! Architecture invariant: this crate does not know how it is served. Its outputs are plain
//! Rust types; the API maps them to the GraphQL contract.

mod config;
mod engine;
mod error;
mod reasons;
mod results;
pub mod scoring;
mod words;

pub use carematch_search::Reach;
pub use config::{
    AvailabilityScores, CertificationScores, ComponentWeights, DistanceDecay, PaymentScores,
    PriorityWeights, RankingConfig,
};
pub use engine::Engine;
pub use error::MatchingError;
pub use reasons::write_words;
pub use results::{CareTeam, CareTeamMember, MatchFacts, MatchResults, ProviderMatch, SearchArea};
pub use scoring::ScoreBreakdown;
