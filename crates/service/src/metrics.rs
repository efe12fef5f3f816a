//! The application's Prometheus series: this replica's index, the match-log writer and the
//! database pool. The recorder is installed by the process (`api`'s `/metrics`); these gauges
//! are read from the services on every scrape.

use crate::directory::ProviderDirectory;
use crate::match_log::MatchLogWriter;

/// Providers in this replica's index.
pub const INDEX_DOCUMENTS: &str = "carematch_index_documents";
/// The database data generation this replica's index reflects.
pub const INDEX_GENERATION: &str = "carematch_index_generation";
/// Match-log records queued and not yet written.
pub const MATCH_LOG_QUEUE_DEPTH: &str = "carematch_match_log_queue_depth";
/// Match-log records dropped because the queue was full or the writer had stopped.
pub const MATCH_LOG_DROPPED: &str = "carematch_match_log_dropped_total";
/// Match-log records committed.
pub const MATCH_LOG_WRITTEN: &str = "carematch_match_log_written_total";
/// Match-log insert transactions committed (records written / batches = mean batch size).
pub const MATCH_LOG_BATCHES: &str = "carematch_match_log_batches_total";
/// Match-log records the database refused (poison records), set aside so the rest is written.
pub const MATCH_LOG_SET_ASIDE: &str = "carematch_match_log_set_aside_total";
/// Match-log insert attempts that failed and were retried (full disk, lock, outage).
pub const MATCH_LOG_FAILED_INSERTS: &str = "carematch_match_log_failed_inserts_total";
/// 1 while the match-log writer's inserts fail (the database cannot be written), else 0.
pub const MATCH_LOG_WRITES_FAILING: &str = "carematch_match_log_writes_failing";
/// Connections open in the database pool.
pub const DATABASE_POOL_CONNECTIONS: &str = "carematch_database_pool_connections";
/// Of those, idle ones.
pub const DATABASE_POOL_IDLE: &str = "carematch_database_pool_idle_connections";
/// The pool's maximum size.
pub const DATABASE_POOL_MAX: &str = "carematch_database_pool_max_connections";

/// Describes the series above to the installed recorder.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge};
    describe_gauge!(INDEX_DOCUMENTS, "providers in this replica's index");
    describe_gauge!(
        INDEX_GENERATION,
        "database data generation reflected by this replica's index"
    );
    describe_gauge!(
        MATCH_LOG_QUEUE_DEPTH,
        "match-log records waiting to be written"
    );
    describe_counter!(
        MATCH_LOG_DROPPED,
        "match-log records dropped (queue full, or unwritten at shutdown)"
    );
    describe_counter!(MATCH_LOG_WRITTEN, "match-log records committed");
    describe_counter!(MATCH_LOG_BATCHES, "match-log insert transactions committed");
    describe_counter!(
        MATCH_LOG_SET_ASIDE,
        "match-log records the database refused, set aside"
    );
    describe_counter!(
        MATCH_LOG_FAILED_INSERTS,
        "match-log insert attempts that failed and were retried"
    );
    describe_gauge!(
        MATCH_LOG_WRITES_FAILING,
        "1 while match-log inserts fail (the database cannot be written)"
    );
    describe_gauge!(DATABASE_POOL_CONNECTIONS, "open database connections");
    describe_gauge!(DATABASE_POOL_IDLE, "idle database connections");
    describe_gauge!(DATABASE_POOL_MAX, "largest database pool size");
}

/// Sets the gauges and counters read from the services.
pub fn refresh_gauges(directory: &ProviderDirectory, match_log: &MatchLogWriter) {
    let index = &directory.index;
    metrics::gauge!(INDEX_DOCUMENTS).set(index.len() as f64);
    if let Some(generation) = index.generation() {
        metrics::gauge!(INDEX_GENERATION).set(generation as f64);
    }
    metrics::gauge!(MATCH_LOG_QUEUE_DEPTH).set(match_log.queue_depth() as f64);
    metrics::counter!(MATCH_LOG_DROPPED).absolute(match_log.dropped_count());
    metrics::counter!(MATCH_LOG_WRITTEN).absolute(match_log.written_count());
    metrics::counter!(MATCH_LOG_BATCHES).absolute(match_log.batch_count());
    metrics::counter!(MATCH_LOG_SET_ASIDE).absolute(match_log.set_aside_count());
    metrics::counter!(MATCH_LOG_FAILED_INSERTS).absolute(match_log.failed_attempt_count());
    metrics::gauge!(MATCH_LOG_WRITES_FAILING).set(if match_log.writes_failing() {
        1.0
    } else {
        0.0
    });
    let pool = directory.pool_status();
    metrics::gauge!(DATABASE_POOL_CONNECTIONS).set(f64::from(pool.size));
    metrics::gauge!(DATABASE_POOL_IDLE).set(pool.idle as f64);
    metrics::gauge!(DATABASE_POOL_MAX).set(f64::from(pool.max_size));
}
