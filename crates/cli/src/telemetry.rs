//! Logging: JSON lines for machines, text for people at a terminal.
//!
//! JSON lines carry the enclosing spans' fields, so every line logged while serving a request
//! names its `request_id` and W3C `trace_id`/`span_id` (the `http_request` span of
//! `crates/api/src/http/request_span.rs`). OpenTelemetry export is deliberately not built: the
//! OTLP crates (`opentelemetry-otlp` with tonic, `tracing-opentelemetry`) are a large dependency tree for a
//! collector nobody runs here; propagating and logging the trace context is what joining with
//! the router's traces needs (docs/operations.md, "Logs").

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

pub fn init(settings: &LogSettings) {
    let filter =
        EnvFilter::try_new(&settings.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match settings.log_format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests calling twice) is harmless: the first subscriber stays.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
