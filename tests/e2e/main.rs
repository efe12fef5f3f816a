//! End-to-end tests: one binary (faster to link), one module per area.

mod foundation;
mod schema_file;
