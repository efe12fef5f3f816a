//! End-to-end tests: one binary (faster to link), one module per area.

// Helpers shared by tests panic on unexpected answers, as tests do.
#![allow(clippy::unwrap_used)]

mod api;
mod cache;
mod care_guide;
mod contract;
mod control_characters;
mod csrf;
mod federation;
mod foundation;
mod fuzz;
mod http;
mod interop;
mod limits;
mod match_logs;
mod operations;
mod schema_file;
mod slow_clients;
