//! The matching engine's integration tests, in one binary to link once: the public scenarios
//! of `shared/scenarios/scenarios.json` (copied under `tests/data/`), ranking rules, index
//! updates and the edge cases of the issue.

mod edge_cases;
mod index_updates;
mod ranking_rules;
mod scenarios;
mod support;
