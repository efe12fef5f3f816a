//! Prometheus metrics: the process-wide recorder, the series the HTTP layer records, and the
//! application's gauges (`carematch_service::metrics`) refreshed on every scrape of `/metrics`.
//!
//! Every series is named `carematch_*`. Code anywhere in the process records with the `metrics`
//! macros (`metrics::counter!("carematch_cache_hits_total").increment(1)`) and the series
//! appears on `/metrics` without further wiring: one recorder is installed per process, the
//! first time [`prometheus`] is called. Tests run several servers in one process; they share it.
//!
//! Labels are bounded so that a client cannot grow the series without limit: operation names
//! are kept only when they are valid GraphQL names, and only the first
//! [`MAX_OPERATION_NAMES`] distinct ones; others count as `other`. Error codes come from the
//! API's own table. No label ever carries a variable, a query text or anything she typed.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;

/// GraphQL request latency (parse to serialized answer), by operation name and type.
pub const GRAPHQL_REQUEST_DURATION: &str = "carematch_graphql_request_duration_seconds";
/// GraphQL errors answered, by `extensions.code` (refusals before GraphQL ran included).
pub const GRAPHQL_ERRORS: &str = "carematch_graphql_errors_total";
/// HTTP requests being served now.
pub const HTTP_REQUESTS_IN_FLIGHT: &str = "carematch_http_requests_in_flight";
/// HTTP requests answered, by route and status code.
pub const HTTP_REQUESTS: &str = "carematch_http_requests_total";
/// 1 while the replica is ready (`/readyz` 200), 0 otherwise.
pub const READY: &str = "carematch_ready";

/// Distinct operation names kept as labels; later ones count as `other`.
pub const MAX_OPERATION_NAMES: usize = 100;
/// Longest operation name kept as a label.
const MAX_OPERATION_NAME_LEN: usize = 64;

/// Latency buckets in seconds: the engine answers in about a millisecond, the deadline is 15 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0,
];

/// The process's Prometheus handle, installing the global recorder on first use. When another
/// recorder was installed first (a test harness), this handle renders its own, empty registry.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = || {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(GRAPHQL_REQUEST_DURATION.to_owned()),
                    LATENCY_BUCKETS,
                )
                .expect("the latency buckets are not empty")
        };
        match builder().install_recorder() {
            Ok(handle) => {
                describe();
                carematch_service::metrics::describe();
                handle
            }
            Err(error) => {
                tracing::warn!(error = %error, "a metrics recorder was already installed");
                builder().build_recorder().handle()
            }
        }
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_histogram!(
        GRAPHQL_REQUEST_DURATION,
        Unit::Seconds,
        "GraphQL request latency by operation name and type"
    );
    describe_counter!(
        GRAPHQL_ERRORS,
        "GraphQL errors answered, by extensions.code"
    );
    describe_gauge!(HTTP_REQUESTS_IN_FLIGHT, "HTTP requests being served");
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route and status");
    describe_gauge!(READY, "1 when /readyz answers 200");
}

/// Renders every series, after refreshing the gauges read from `state` (when the application
/// has started) and the readiness flag.
pub fn render(state: Option<&AppState>, ready: bool) -> String {
    let handle = prometheus();
    metrics::gauge!(READY).set(if ready { 1.0 } else { 0.0 });
    if let Some(state) = state {
        carematch_service::metrics::refresh_gauges(&state.directory, &state.match_log);
    }
    handle.run_upkeep();
    handle.render()
}

/// Counts one HTTP request in flight until dropped.
pub(crate) struct InFlight;

impl InFlight {
    pub(crate) fn start() -> Self {
        metrics::gauge!(HTTP_REQUESTS_IN_FLIGHT).increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(HTTP_REQUESTS_IN_FLIGHT).decrement(1.0);
    }
}

/// Counts an answered HTTP request. `route` is a known route or `other`, never the raw path.
pub(crate) fn record_http_request(route: &'static str, status: u16) {
    metrics::counter!(HTTP_REQUESTS, "route" => route, "status" => status.to_string()).increment(1);
}

/// Counts one answered GraphQL error under its code. Codes come from the API's table; anything
/// else (which `ensure_codes` should have made impossible) is counted as `OTHER`.
pub(crate) fn record_error(code: &str) {
    let bounded = if !code.is_empty()
        && code.len() <= 48
        && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
    {
        code.to_owned()
    } else {
        "OTHER".to_owned()
    };
    metrics::counter!(GRAPHQL_ERRORS, "code" => bounded).increment(1);
}

/// The operation a request ran, filled in by the request guard once the document is parsed.
/// Put into the request's data by the HTTP layer, read back after execution.
#[derive(Debug, Clone, Default)]
pub struct OperationSlot {
    /// The `operationName` the client sent.
    requested_name: Option<String>,
    found: Arc<Mutex<Option<FoundOperation>>>,
}

/// The type of the operation that ran, and its name when it has one.
type FoundOperation = (OperationType, Option<String>);

impl OperationSlot {
    pub fn new(requested_name: Option<String>) -> Self {
        Self {
            requested_name,
            found: Arc::default(),
        }
    }

    /// Records the type and name of the operation `document` will run.
    pub fn record(&self, document: &ExecutableDocument) {
        let found = match (&document.operations, &self.requested_name) {
            (DocumentOperations::Single(operation), _) => Some((operation.node.ty, None)),
            (DocumentOperations::Multiple(operations), Some(name)) => operations
                .iter()
                .find(|(candidate, _)| candidate.as_str() == name)
                .map(|(name, operation)| (operation.node.ty, Some(name.to_string()))),
            (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations
                .iter()
                .next()
                .map(|(name, operation)| (operation.node.ty, Some(name.to_string()))),
            _ => None,
        };
        *self.found.lock().unwrap_or_else(PoisonError::into_inner) = found;
    }

    /// Records a replayed answer (never parsed; only queries are replayed): a query named by
    /// the client's `operationName`, `anonymous` without one.
    pub fn record_replayed_query(&self) {
        *self.found.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((OperationType::Query, self.requested_name.clone()));
    }

    /// The `(name, type)` labels: `unknown` type when the document never parsed, `anonymous`
    /// for an unnamed operation, `other` past the name budget.
    pub fn labels(&self) -> (String, &'static str) {
        let found = self
            .found
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match found {
            None => ("unknown".to_owned(), "unknown"),
            Some((kind, name)) => {
                let kind = match kind {
                    OperationType::Query => "query",
                    OperationType::Mutation => "mutation",
                    OperationType::Subscription => "subscription",
                };
                let name = match name {
                    None => "anonymous".to_owned(),
                    Some(name) => bounded_operation_name(&name),
                };
                (name, kind)
            }
        }
    }
}

/// `name` when it is a short GraphQL name among the first [`MAX_OPERATION_NAMES`] seen by this
/// process, `other` otherwise.
fn bounded_operation_name(name: &str) -> String {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    bounded_operation_name_in(SEEN.get_or_init(Mutex::default), name)
}

fn bounded_operation_name_in(seen: &Mutex<HashSet<String>>, name: &str) -> String {
    let valid = !name.is_empty()
        && name.len() <= MAX_OPERATION_NAME_LEN
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
    if !valid {
        return "other".to_owned();
    }
    let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
    if seen.contains(name) {
        return name.to_owned();
    }
    if seen.len() < MAX_OPERATION_NAMES {
        seen.insert(name.to_owned());
        return name.to_owned();
    }
    "other".to_owned()
}

/// Records one GraphQL request's latency under its operation's labels.
pub(crate) fn record_graphql_request(slot: &OperationSlot, elapsed: Duration) {
    let (name, kind) = slot.labels();
    metrics::histogram!(GRAPHQL_REQUEST_DURATION, "operation" => name, "type" => kind)
        .record(elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).expect("valid GraphQL")
    }

    #[test]
    fn the_slot_finds_the_operation_type_and_name() {
        let slot = OperationSlot::new(None);
        assert_eq!(slot.labels(), ("unknown".to_owned(), "unknown"));
        slot.record(&parsed("{ __typename }"));
        assert_eq!(slot.labels(), ("anonymous".to_owned(), "query"));
        slot.record(&parsed("mutation Upsert { x }"));
        assert_eq!(slot.labels(), ("Upsert".to_owned(), "mutation"));
        let replayed = OperationSlot::new(Some("OpsMatch".into()));
        replayed.record_replayed_query();
        assert_eq!(replayed.labels(), ("OpsMatch".to_owned(), "query"));
        let slot = OperationSlot::new(Some("B".into()));
        slot.record(&parsed("query A { x } mutation B { y }"));
        assert_eq!(slot.labels(), ("B".to_owned(), "mutation"));
    }

    #[test]
    fn operation_names_are_bounded() {
        // A set of its own: the process-wide one is shared with the other tests.
        let seen = Mutex::default();
        let bounded = |name: &str| bounded_operation_name_in(&seen, name);
        assert_eq!(bounded("MatchProviders"), "MatchProviders");
        assert_eq!(bounded(&"x".repeat(65)), "other");
        assert_eq!(bounded("has space"), "other");
        for n in 0..MAX_OPERATION_NAMES + 5 {
            bounded(&format!("Generated{n}"));
        }
        assert_eq!(bounded("OneMoreAfterTheBudget"), "other");
        // Names admitted before the budget ran out keep their label.
        assert_eq!(bounded("MatchProviders"), "MatchProviders");
    }

    #[test]
    fn error_codes_outside_the_table_shape_are_other() {
        // The recorder must exist before anything is recorded.
        prometheus();
        record_error("BAD_USER_INPUT");
        record_error("not a code {with} labels");
        let text = render(None, true);
        assert!(text.contains("code=\"BAD_USER_INPUT\""), "{text}");
        assert!(text.contains("code=\"OTHER\""), "{text}");
        assert!(!text.contains("with}"), "{text}");
    }
}
