//! End-to-end tests: one binary (faster to link), one module per area.

mod federation;
mod foundation;
mod schema_file;
