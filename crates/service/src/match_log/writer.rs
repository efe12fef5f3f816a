//! The background match-log writer's handle: a bounded queue the request path fills without
//! waiting, the counters readiness and `/metrics` read, flush and shutdown. The task behind it
//! is in `batches.rs`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use carematch_store::{MatchLogRecord, Store};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::batches::run_writer;

/// Sizes and pacing of the writer.
#[derive(Debug, Clone)]
pub struct MatchLogWriterOptions {
    /// Records waiting to be written; beyond this, new records are counted as dropped.
    pub queue_capacity: usize,
    /// Most records per insert transaction.
    pub max_batch: usize,
    /// The first wait after a failed insert; it doubles on each failure up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Batches inserted at once on PostgreSQL, each on its own pooled connection: one insert
    /// at a time fell behind at about 16,000 answers/s. SQLite always inserts one batch at a
    /// time: it has one write lock, so a second insert would only wait for the first.
    pub postgres_concurrent_inserts: usize,
    /// Least time between the starts of two batches. Under load, records gather for this long
    /// instead of leaving in batches of a few: on SQLite each commit rewrites the same B-tree
    /// pages and feeds the WAL checkpoint, which cost ~15 % of an uncached answer at 2,000
    /// answers/s. When idle a record still goes at once.
    pub min_batch_interval: Duration,
}

impl Default for MatchLogWriterOptions {
    fn default() -> Self {
        Self {
            // About 2.5 KB a record with 20 results: at most ~50 MB queued, several seconds
            // of a replica's peak rate, to ride out a database pause without dropping.
            queue_capacity: 20_000,
            // Larger batches cost fewer commits; the insert is a few multi-row statements.
            max_batch: 2_000,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            postgres_concurrent_inserts: 3,
            min_batch_interval: Duration::from_millis(20),
        }
    }
}

pub(super) enum Message {
    Record(Box<MatchLogRecord>),
    /// Answered once every record queued before it is stored.
    Flush(oneshot::Sender<()>),
}

/// What the request path and the writer task share.
pub(super) struct Shared {
    /// Ids accepted but not yet committed, so an outcome (`MatchService::record_outcome`) can
    /// tell a match still in the queue from an unknown one.
    pub(super) pending: Mutex<HashSet<Uuid>>,
    /// Records refused because the queue was full (or the writer had stopped), and records
    /// still unwritten when shutdown gave up waiting.
    pub(super) dropped: AtomicU64,
    /// Records the database refused (a constraint, a value it cannot store): set aside,
    /// one by one, so the rest of their batch is written.
    pub(super) set_aside: AtomicU64,
    /// True while inserts have failed twice or more in a row for a reason other than a
    /// refused record: the database cannot be written (full disk, lock held, down).
    /// Readiness reports it.
    pub(super) writes_failing: AtomicBool,
    /// Insert attempts failed since the last one that landed, across concurrent batches.
    pub(super) failures_in_a_row: AtomicU64,
    /// Records committed.
    pub(super) written: AtomicU64,
    /// Insert transactions committed.
    pub(super) batches: AtomicU64,
    /// Insert attempts that failed and were retried.
    pub(super) failed_attempts: AtomicU64,
    /// Batches being inserted (retries included) right now.
    pub(super) inserting: AtomicUsize,
}

impl Shared {
    pub(super) fn pending(&self) -> std::sync::MutexGuard<'_, HashSet<Uuid>> {
        // A panic while holding the lock leaves a plain set behind: still usable.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The background match-log writer: a bounded queue in front of one task that inserts in
/// batches, one batch at a time on SQLite and a few at once on PostgreSQL
/// ([`MatchLogWriterOptions::postgres_concurrent_inserts`]). Cheap to clone; clones share the
/// queue.
///
/// - The request path calls [`MatchLogWriter::log`], which never waits: a full queue drops
///   the record, counts it ([`MatchLogWriter::dropped_count`]) and warns.
/// - A failed insert is retried with exponential backoff, keeping the batch: nothing accepted
///   is lost while the process lives. Retrying a batch whose commit was in fact applied
///   doubles nothing (the store skips ids it holds). While inserts fail,
///   [`MatchLogWriter::writes_failing`] is true and readiness says the database cannot be
///   written.
/// - A batch the database refuses for its values (a poison record: a constraint, a value the
///   column cannot store) is split in halves until each refused record is alone; those are
///   set aside, counted ([`MatchLogWriter::set_aside_count`]) and logged by id and error code
///   only, and the rest is written. One bad record never stalls the records behind it.
/// - [`MatchLogWriter::flush`] returns once every record queued before it is stored, whichever
///   of the concurrent inserts holds it.
/// - [`MatchLogWriter::shutdown`] writes everything queued, then stops the task.
#[derive(Clone)]
pub struct MatchLogWriter {
    sender: mpsc::Sender<Message>,
    shared: Arc<Shared>,
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl std::fmt::Debug for MatchLogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatchLogWriter")
            .field("written", &self.written_count())
            .field("dropped", &self.dropped_count())
            .finish_non_exhaustive()
    }
}

impl MatchLogWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Store, options: MatchLogWriterOptions) -> Self {
        let plan = WriterPlan::for_store(&store, &options);
        Self::start_with(store, options, plan)
    }

    fn start_with(store: Store, options: MatchLogWriterOptions, plan: WriterPlan) -> Self {
        let (sender, receiver) = mpsc::channel(options.queue_capacity.max(1));
        let shared = Arc::new(Shared {
            pending: Mutex::new(HashSet::new()),
            dropped: AtomicU64::new(0),
            set_aside: AtomicU64::new(0),
            writes_failing: AtomicBool::new(false),
            failures_in_a_row: AtomicU64::new(0),
            written: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            failed_attempts: AtomicU64::new(0),
            inserting: AtomicUsize::new(0),
        });
        let task = tokio::spawn(run_writer(
            store,
            receiver,
            Arc::clone(&shared),
            options,
            plan,
        ));
        Self {
            sender,
            shared,
            task: Arc::new(Mutex::new(Some(task))),
        }
    }

    /// Queues a record without waiting. Returns false when it was dropped (queue full or
    /// writer stopped); the drop is counted and logged, with no field of the record.
    pub fn log(&self, record: MatchLogRecord) -> bool {
        let id = record.id;
        let operation = record.operation.clone();
        self.shared.pending().insert(id);
        match self.sender.try_send(Message::Record(Box::new(record))) {
            Ok(()) => true,
            Err(error) => {
                self.shared.pending().remove(&id);
                let dropped = self.shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                let reason = match error {
                    mpsc::error::TrySendError::Full(_) => "queue full",
                    mpsc::error::TrySendError::Closed(_) => "writer stopped",
                };
                tracing::warn!(
                    operation,
                    reason,
                    dropped_total = dropped,
                    "match log dropped"
                );
                false
            }
        }
    }

    /// Whether `id` was accepted and is not yet stored.
    pub fn is_pending(&self, id: Uuid) -> bool {
        self.shared.pending().contains(&id)
    }

    /// Waits until every record queued before this call is stored, or `timeout` passes.
    /// Returns whether the flush completed.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let (done, flushed) = oneshot::channel();
        let queued_and_answered =
            async { self.sender.send(Message::Flush(done)).await.is_ok() && flushed.await.is_ok() };
        tokio::time::timeout(timeout, queued_and_answered)
            .await
            .unwrap_or(false)
    }

    /// Writes everything queued and stops the task, waiting at most `timeout` (the database
    /// may be down). Records still unwritten then are reported in an error log; later calls
    /// to [`MatchLogWriter::log`] count as dropped.
    pub async fn shutdown(&self, timeout: Duration) {
        let flushed = self.flush(timeout).await;
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
        // Lost with the process: counted (once), so every answer is written, dropped or set
        // aside.
        let unwritten = {
            let mut pending = self.shared.pending();
            let unwritten = pending.len();
            pending.clear();
            unwritten
        };
        self.shared
            .dropped
            .fetch_add(unwritten as u64, Ordering::Relaxed);
        if flushed && unwritten == 0 {
            tracing::info!(
                written = self.written_count(),
                dropped = self.dropped_count(),
                "match log writer flushed and stopped"
            );
        } else {
            tracing::error!(
                unwritten,
                timeout_seconds = timeout.as_secs_f64(),
                "match log writer stopped before writing everything"
            );
        }
    }

    /// Records accepted and not yet committed (queued, or in the batch being inserted).
    pub fn queue_depth(&self) -> usize {
        self.shared.pending().len()
    }

    /// Records dropped because the queue was full or the writer had stopped, or left
    /// unwritten at shutdown.
    pub fn dropped_count(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Records the database refused and the writer set aside (poison records).
    pub fn set_aside_count(&self) -> u64 {
        self.shared.set_aside.load(Ordering::Relaxed)
    }

    /// True while inserts have failed twice or more in a row for a reason other than a refused
    /// record: the database cannot be written now. Cleared by the next insert that lands.
    pub fn writes_failing(&self) -> bool {
        self.shared.writes_failing.load(Ordering::Relaxed)
    }

    /// Records stored.
    pub fn written_count(&self) -> u64 {
        self.shared.written.load(Ordering::Relaxed)
    }

    /// Insert transactions committed: against `written_count`, the mean batch size.
    pub fn batch_count(&self) -> u64 {
        self.shared.batches.load(Ordering::Relaxed)
    }

    /// Insert attempts that failed and were retried.
    pub fn failed_attempt_count(&self) -> u64 {
        self.shared.failed_attempts.load(Ordering::Relaxed)
    }

    /// Batches being inserted right now.
    #[cfg(test)]
    fn inserts_in_flight(&self) -> usize {
        self.shared.inserting.load(Ordering::Relaxed)
    }
}

/// How the writer inserts, by backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WriterPlan {
    /// Batches inserted at once.
    pub(super) concurrent_inserts: usize,
    /// Prepare each batch (pack its results, write its JSON parameter: about 20 ms of CPU for
    /// 2,000 answers of 20 results) on a blocking thread, off the runtime workers that serve
    /// requests. PostgreSQL only: SQLite's path stays as it was measured, its writer alone on
    /// the runtime (running whole inserts on a blocking thread once starved it).
    pub(super) prepare_off_runtime: bool,
}

impl WriterPlan {
    /// One insert at a time on SQLite whatever the options say; on PostgreSQL as many as the
    /// options allow, prepared off the runtime.
    fn for_store(store: &Store, options: &MatchLogWriterOptions) -> Self {
        match store.backend_name() {
            "postgres" => Self {
                concurrent_inserts: options.postgres_concurrent_inserts.max(1),
                prepare_off_runtime: true,
            },
            _ => Self {
                concurrent_inserts: 1,
                prepare_off_runtime: false,
            },
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Instant;

    use chrono::NaiveDate;

    use super::*;

    pub(crate) fn record(n: u128) -> MatchLogRecord {
        MatchLogRecord::example(
            Uuid::from_u128(n),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        )
    }

    async fn memory_store() -> Store {
        let store = Store::connect("sqlite::memory:", &carematch_store::StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_the_overflow_and_writes_what_it_accepted() {
        let store = memory_store().await;
        let options = MatchLogWriterOptions {
            queue_capacity: 2,
            ..MatchLogWriterOptions::default()
        };
        let writer = MatchLogWriter::start(store.clone(), options);
        // The test runtime runs one task at a time: the writer cannot drain before we yield.
        let accepted: Vec<bool> = (1..=5).map(|n| writer.log(record(n))).collect();
        assert_eq!(accepted, [true, true, false, false, false]);
        assert_eq!(writer.dropped_count(), 3);
        assert!(writer.is_pending(Uuid::from_u128(1)));
        assert!(
            !writer.is_pending(Uuid::from_u128(3)),
            "a dropped record is not pending"
        );

        assert!(writer.flush(Duration::from_secs(5)).await);
        assert_eq!(writer.written_count(), 2);
        assert!(!writer.is_pending(Uuid::from_u128(1)));
        assert!(store.match_exists(Uuid::from_u128(2)).await.unwrap());
        assert!(!store.match_exists(Uuid::from_u128(3)).await.unwrap());
    }

    #[tokio::test]
    async fn records_gather_between_batches_and_an_idle_record_goes_at_once() {
        let store = memory_store().await;
        let options = MatchLogWriterOptions {
            min_batch_interval: Duration::from_secs(1),
            ..MatchLogWriterOptions::default()
        };
        let writer = MatchLogWriter::start(store.clone(), options);
        assert!(writer.log(record(1)));
        // Idle: the first record does not wait for the interval.
        assert!(writer.flush(Duration::from_millis(500)).await);
        assert_eq!((writer.written_count(), writer.batch_count()), (1, 1));
        // Records trickling in faster than the interval land together, not one commit each.
        for n in 2..=21 {
            assert!(writer.log(record(n)));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(writer.flush(Duration::from_secs(10)).await);
        assert_eq!(writer.written_count(), 21);
        assert_eq!(writer.batch_count(), 2);
        assert!(store.match_exists(Uuid::from_u128(21)).await.unwrap());
    }

    #[tokio::test]
    async fn shutdown_writes_everything_queued_and_later_records_count_as_dropped() {
        let store = memory_store().await;
        let writer = MatchLogWriter::start(store.clone(), MatchLogWriterOptions::default());
        for n in 1..=1_200 {
            assert!(writer.log(record(n)));
        }
        writer.shutdown(Duration::from_secs(30)).await;
        assert_eq!(writer.written_count(), 1_200);
        for n in [1, 600, 1_200] {
            assert!(store.match_exists(Uuid::from_u128(n)).await.unwrap());
        }
        assert!(!writer.log(record(5_000)));
        assert_eq!(writer.dropped_count(), 1);
    }

    #[tokio::test]
    async fn a_failed_insert_is_retried_until_the_database_is_back() {
        // No tables until `migrate`: every insert fails until then, as with a database down.
        let store = Store::connect("sqlite::memory:", &carematch_store::StoreOptions::default())
            .await
            .unwrap();
        let options = MatchLogWriterOptions {
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
            ..MatchLogWriterOptions::default()
        };
        let writer = MatchLogWriter::start(store.clone(), options);
        assert!(writer.log(record(1)));
        while writer.failed_attempt_count() < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(writer.is_pending(Uuid::from_u128(1)), "kept while failing");
        store.migrate().await.unwrap();
        assert!(writer.flush(Duration::from_secs(5)).await);
        assert!(store.match_exists(Uuid::from_u128(1)).await.unwrap());
        assert_eq!(writer.written_count(), 1);
    }

    /// The writer as it runs on PostgreSQL, here on SQLite (whose pool of one in-memory
    /// connection makes the inserts take turns).
    const POSTGRES_LIKE: WriterPlan = WriterPlan {
        concurrent_inserts: 3,
        prepare_off_runtime: true,
    };

    #[tokio::test]
    async fn sqlite_inserts_one_batch_at_a_time_whatever_the_options_say() {
        let options = MatchLogWriterOptions {
            postgres_concurrent_inserts: 5,
            ..MatchLogWriterOptions::default()
        };
        assert_eq!(
            WriterPlan::for_store(&memory_store().await, &options),
            WriterPlan {
                concurrent_inserts: 1,
                prepare_off_runtime: false
            }
        );
    }

    #[tokio::test]
    async fn concurrent_inserts_each_retry_until_the_database_is_back_and_a_flush_waits_for_all() {
        // No tables until `migrate`: every insert fails, each batch in its own retry loop.
        let store = Store::connect("sqlite::memory:", &carematch_store::StoreOptions::default())
            .await
            .unwrap();
        let options = MatchLogWriterOptions {
            max_batch: 1,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
            ..MatchLogWriterOptions::default()
        };
        let writer = MatchLogWriter::start_with(store.clone(), options, POSTGRES_LIKE);
        for n in 1..=4 {
            assert!(writer.log(record(n)));
        }
        let started = Instant::now();
        while writer.inserts_in_flight() < 3 {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "three batches never were in flight at once"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(writer.inserts_in_flight(), 3, "never more than allowed");
        assert!((1..=4).all(|n| writer.is_pending(Uuid::from_u128(n))));

        store.migrate().await.unwrap();
        assert!(writer.flush(Duration::from_secs(5)).await);
        assert_eq!(writer.written_count(), 4);
        assert_eq!(writer.queue_depth(), 0);
        for n in 1..=4 {
            assert!(store.match_exists(Uuid::from_u128(n)).await.unwrap());
        }
    }

    #[tokio::test]
    async fn shutdown_with_concurrent_inserts_writes_everything_queued() {
        let store = memory_store().await;
        let options = MatchLogWriterOptions {
            max_batch: 100,
            ..MatchLogWriterOptions::default()
        };
        let writer = MatchLogWriter::start_with(store.clone(), options, POSTGRES_LIKE);
        for n in 1..=1_250 {
            assert!(writer.log(record(n)));
        }
        writer.shutdown(Duration::from_secs(30)).await;
        assert_eq!(writer.written_count(), 1_250);
        assert_eq!(writer.queue_depth(), 0);
        for n in [1, 625, 1_250] {
            assert!(store.match_exists(Uuid::from_u128(n)).await.unwrap());
        }
    }
}
