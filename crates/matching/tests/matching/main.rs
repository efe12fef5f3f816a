//! The matching engine's integration tests, in one binary to link once: the public scenarios
//! of `shared/scenarios/scenarios.json` (copied under `tests/data/`), ranking rules, index
//! updates and the edge cases of the issue.

// Test helpers outside `#[test]` functions panic on bad fixtures, which is what a test wants.
#![allow(clippy::unwrap_used)]

mod edge_cases;
mod index_updates;
mod ranking_rules;
mod scenarios;
mod second_edition;
mod support;
mod truth;
mod words;
