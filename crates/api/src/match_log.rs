//! The match log: what is kept of each `matchProviders` and `careTeam` request (de-identified
//! after HIPAA's Safe Harbor method), and the background writer that stores it without ever
//! making a request wait on the database.
//!
//! De-identification happens here, before anything is queued: a [`MatchLogRecord`] holds the
//! ISO week (never the date), the state and 3-digit postal prefix (never coordinates or the
//! postal code), a weeks-postpartum bucket, the payer's name (never the plan) and whether text
//! was given (never the text). The store writes what it is given.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use carematch_domain::{LocationQuery, MatchRequest};
use carematch_matching::{ProviderMatch, SearchArea};
use carematch_postal::PostalCodes;
use carematch_store::{MatchLogRecord, MatchLogResultRecord, PreparedMatchLogs, Store, StoreError};
use chrono::{Datelike, NaiveDate};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// The Monday of the ISO week of `date`.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    date - chrono::Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

/// 3-digit postal prefixes whose areas hold 20,000 people or fewer (HHS guidance on Safe
/// Harbor, from 2000 Census data): they are logged as `000`.
pub const SPARSE_POSTAL_PREFIXES: [&str; 17] = [
    "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878",
    "879", "884", "890", "893",
];

/// The prefix as logged: `000` for a sparsely populated prefix, the prefix otherwise.
pub fn safe_postal_prefix(prefix: &str) -> String {
    if SPARSE_POSTAL_PREFIXES.contains(&prefix) {
        "000".to_owned()
    } else {
        prefix.to_owned()
    }
}

/// Weeks postpartum in the buckets analysts use: `0-2`, `2-6`, `6-12`, `12-26`, `26-52`, `52+`
/// (each includes its lower bound and excludes its upper one).
pub fn weeks_postpartum_bucket(weeks: u16) -> &'static str {
    match weeks {
        0..2 => "0-2",
        2..6 => "2-6",
        6..12 => "6-12",
        12..26 => "12-26",
        26..52 => "26-52",
        _ => "52+",
    }
}

/// Languages are free text in the contract; one that does not look like a language name
/// (letters, spaces and hyphens, at most 40 characters) is logged as `other`, so a
/// language field cannot smuggle a name or a sentence into the log.
fn safe_language(language: &str) -> String {
    let key = language.trim().to_lowercase();
    let looks_like_a_language = !key.is_empty()
        && key.chars().count() <= 40
        && key
            .chars()
            .all(|c| c.is_alphabetic() || c == ' ' || c == '-');
    if looks_like_a_language {
        key
    } else {
        "other".to_owned()
    }
}

/// The payer's name, trimmed and capped: it names a company, never a person or a plan.
fn safe_payer(payer: &str) -> String {
    payer.trim().chars().take(64).collect()
}

/// The calling application, from the `apollographql-client-name` and
/// `apollographql-client-version` headers the router forwards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub name: Option<String>,
    pub version: Option<String>,
}

impl ClientInfo {
    /// Keeps at most 64 characters of each header: they name software, not people.
    pub fn from_headers(name: Option<&str>, version: Option<&str>) -> Self {
        let clean = |value: Option<&str>| {
            value
                .map(|value| value.trim().chars().take(64).collect::<String>())
                .filter(|value| !value.is_empty())
        };
        Self {
            name: clean(name),
            version: clean(version),
        }
    }
}

/// How a request was served, beside what it asked and what it got.
#[derive(Debug, Clone)]
pub struct ServedRequest {
    /// `matchProviders` or `careTeam`.
    pub operation: &'static str,
    pub latency: Duration,
    pub cache_hit: bool,
    pub client: ClientInfo,
}

/// The de-identified record of one request (its id random, never derived from the input). `results` are the providers she was shown, with
/// the rank to log each under; `result_count` is how many the engine ranked in all.
#[allow(clippy::too_many_arguments)]
pub fn deidentified_record(
    id: Uuid,
    today: NaiveDate,
    request: &MatchRequest,
    care_types_recommended: Vec<carematch_domain::CareType>,
    search_area: &SearchArea,
    result_count: usize,
    results: &[(u32, &ProviderMatch)],
    served: ServedRequest,
) -> MatchLogRecord {
    let postal_prefix = match &request.location_given_as {
        LocationQuery::PostalCode(code) => Some(code.prefix3().to_owned()),
        // Coordinates are never logged: only the prefix of the nearest postal-code centroid,
        // and none at all outside the US (no state), where the nearest US code says nothing.
        LocationQuery::Coordinates if request.region.is_some() => PostalCodes::embedded()
            .nearest(request.origin.latitude(), request.origin.longitude())
            .map(|entry| entry.code()[..3].to_owned()),
        LocationQuery::Coordinates => None,
    }
    .map(|prefix| safe_postal_prefix(&prefix));
    MatchLogRecord {
        id,
        week_start: week_start(today),
        state: request
            .region
            .as_ref()
            .map(|region| region.as_str().to_owned()),
        postal_prefix,
        radius_km: request.radius.kilometres(),
        care_types_recommended,
        care_types_requested: request.care_types.clone().unwrap_or_default(),
        symptoms: request.symptoms.clone(),
        warning_signs: request.warning_signs.clone(),
        birth_type: request.birth_type,
        weeks_postpartum_bucket: request
            .weeks_postpartum
            .map(|weeks| weeks_postpartum_bucket(weeks.weeks()).to_owned()),
        payer: request
            .insurance
            .as_ref()
            .map(|insurance| safe_payer(&insurance.payer)),
        has_fsa_or_hsa: request.has_fsa_or_hsa,
        has_referral: request.has_referral,
        languages: request
            .languages
            .iter()
            .map(|language| safe_language(language.as_str()))
            .collect(),
        modes: request.modes.clone(),
        text_given: request
            .text
            .as_deref()
            .is_some_and(|text| !text.trim().is_empty()),
        result_count: u32::try_from(result_count).unwrap_or(u32::MAX),
        results_within_radius: u32::try_from(search_area.found_within_radius).unwrap_or(u32::MAX),
        radius_widened: search_area.widened,
        cache_hit: served.cache_hit,
        latency_ms: served.latency.as_secs_f64() * 1_000.0,
        client_name: served.client.name,
        client_version: served.client.version,
        operation: served.operation.to_owned(),
        replay_of: None,
        results: results
            .iter()
            .map(|(rank, found)| MatchLogResultRecord {
                rank: *rank,
                provider_id: found.provider_id,
                score: found.score,
                need_fit: found.breakdown.need_fit,
                distance: found.breakdown.distance,
                certification: found.breakdown.certification,
                payment: found.breakdown.payment,
                availability: found.breakdown.availability,
                text: found.breakdown.text,
                payment_fit: found.payment_fit,
                beyond_radius: found.beyond_radius,
            })
            .collect(),
    }
}

/// How long `recordMatchOutcome` waits for its match to leave the writer's queue.
pub const OUTCOME_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// A resolver's record, built once the results are known and queued when the answer is
/// ready, so the logged latency covers the whole resolver.
pub(crate) struct PendingMatchLog {
    record: MatchLogRecord,
    started: Instant,
    capture: Option<MatchLogCapture>,
}

/// Collects the match logs a request queues, so a response replayed from the response cache
/// can queue the same records again (with new ids): every served answer is logged once.
#[derive(Clone, Default)]
pub(crate) struct MatchLogCapture(pub(crate) Arc<std::sync::Mutex<Vec<MatchLogRecord>>>);

impl PendingMatchLog {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        context: &async_graphql::Context<'_>,
        operation: &'static str,
        started: Instant,
        cache_hit: bool,
        request: &MatchRequest,
        plan: &carematch_domain::CarePlan,
        search_area: &SearchArea,
        result_count: usize,
        shown: &[(u32, &ProviderMatch)],
    ) -> Self {
        let served = ServedRequest {
            operation,
            latency: started.elapsed(),
            cache_hit,
            client: context
                .data_opt::<ClientInfo>()
                .cloned()
                .unwrap_or_default(),
        };
        let recommended = plan
            .recommendations
            .iter()
            .map(|recommendation| recommendation.care_type)
            .collect();
        let record = deidentified_record(
            Uuid::new_v4(),
            chrono::Utc::now().date_naive(),
            request,
            recommended,
            search_area,
            result_count,
            shown,
            served,
        );
        Self {
            record,
            started,
            capture: context.data_opt::<MatchLogCapture>().cloned(),
        }
    }

    /// Queues the record (never waiting) and returns the match id to answer with.
    pub(crate) fn submit(mut self, writer: &MatchLogWriter) -> Uuid {
        self.record.latency_ms = self.started.elapsed().as_secs_f64() * 1_000.0;
        let id = self.record.id;
        if let Some(capture) = &self.capture {
            capture
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(self.record.clone());
        }
        writer.log(self.record);
        id
    }
}

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

enum Message {
    Record(Box<MatchLogRecord>),
    /// Answered once every record queued before it is stored.
    Flush(oneshot::Sender<()>),
}

/// What the request path and the writer task share.
struct Shared {
    /// Ids accepted but not yet committed, so `recordMatchOutcome` can tell a match still in
    /// the queue from an unknown one.
    pending: Mutex<HashSet<Uuid>>,
    /// Records refused because the queue was full (or the writer had stopped), and records
    /// still unwritten when shutdown gave up waiting.
    dropped: AtomicU64,
    /// Records the database refused (a constraint, a value it cannot store): set aside,
    /// one by one, so the rest of their batch is written.
    set_aside: AtomicU64,
    /// True while inserts have failed twice or more in a row for a reason other than a
    /// refused record: the database cannot be written (full disk, lock held, down).
    /// Readiness reports it.
    writes_failing: AtomicBool,
    /// Insert attempts failed since the last one that landed, across concurrent batches.
    failures_in_a_row: AtomicU64,
    /// Records committed.
    written: AtomicU64,
    /// Insert transactions committed.
    batches: AtomicU64,
    /// Insert attempts that failed and were retried.
    failed_attempts: AtomicU64,
    /// Batches being inserted (retries included) right now.
    inserting: AtomicUsize,
}

impl Shared {
    fn pending(&self) -> std::sync::MutexGuard<'_, HashSet<Uuid>> {
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
struct WriterPlan {
    /// Batches inserted at once.
    concurrent_inserts: usize,
    /// Prepare each batch (pack its results, write its JSON parameter: about 20 ms of CPU for
    /// 2,000 answers of 20 results) on a blocking thread, off the runtime workers that serve
    /// requests. PostgreSQL only: SQLite's path stays as it was measured, its writer alone on
    /// the runtime (running whole inserts on a blocking thread once starved it).
    prepare_off_runtime: bool,
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

/// The batches handed to inserts and not landed yet, numbered in the order they left the
/// queue, and the flushes waiting for them: a flush waits for every batch numbered before it,
/// which holds every record queued before it, whichever insert lands first.
#[derive(Default)]
struct InFlight {
    next_batch: u64,
    unfinished: BTreeSet<u64>,
    /// Each flush with the number of batches started before it.
    flushes: Vec<(u64, oneshot::Sender<()>)>,
}

impl InFlight {
    /// Numbers a batch that is starting.
    fn start_batch(&mut self) -> u64 {
        let number = self.next_batch;
        self.next_batch += 1;
        self.unfinished.insert(number);
        number
    }

    fn landed(&mut self, number: u64) {
        self.unfinished.remove(&number);
    }

    /// A flush that waits for every batch started so far.
    fn flush(&mut self, done: oneshot::Sender<()>) {
        self.flushes.push((self.next_batch, done));
    }

    /// Answers the flushes none of whose batches is still being inserted.
    fn answer_flushes(&mut self) {
        let first_unfinished = self.unfinished.first().copied().unwrap_or(self.next_batch);
        let (answered, waiting) = std::mem::take(&mut self.flushes)
            .into_iter()
            .partition(|(batches_before, _)| *batches_before <= first_unfinished);
        self.flushes = waiting;
        for (_, done) in answered {
            let _ = done.send(());
        }
    }
}

async fn run_writer(
    store: Store,
    mut receiver: mpsc::Receiver<Message>,
    shared: Arc<Shared>,
    options: MatchLogWriterOptions,
    plan: WriterPlan,
) {
    let max_batch = options.max_batch.max(1);
    let concurrent_inserts = plan.concurrent_inserts.max(1);
    // The inserts are futures of this one task: their waits on the database overlap, while
    // the CPU part of each (packing and serialising its batch) runs on one worker at a time.
    let mut inserts = FuturesUnordered::new();
    let mut in_flight = InFlight::default();
    let mut queue_open = true;
    let mut next_batch_at = tokio::time::Instant::now();
    loop {
        let mut batch: Vec<MatchLogRecord> = Vec::new();
        let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
        if queue_open
            && inserts.len() < concurrent_inserts
            && tokio::time::Instant::now() < next_batch_at
        {
            // Too soon after the last batch: let records gather (inserts may land meanwhile).
            tokio::select! {
                Some(landed) = inserts.next() => in_flight.landed(landed),
                () = tokio::time::sleep_until(next_batch_at) => {}
            }
        } else if queue_open && inserts.len() < concurrent_inserts {
            tokio::select! {
                Some(landed) = inserts.next() => in_flight.landed(landed),
                message = receiver.recv() => match message {
                    None => queue_open = false,
                    // Take what is already queued, up to a batch, without waiting for more:
                    // under load batches fill while the previous inserts run; when idle a
                    // record goes alone.
                    Some(first) => {
                        let mut next = Some(first);
                        while let Some(message) = next.take() {
                            match message {
                                Message::Record(record) => batch.push(*record),
                                Message::Flush(done) => {
                                    // Everything queued before the flush is in `batch` or an
                                    // earlier batch: the flush waits for those.
                                    flushes.push(done);
                                    break;
                                }
                            }
                            if batch.len() >= max_batch {
                                break;
                            }
                            next = receiver.try_recv().ok();
                        }
                    }
                },
            }
        } else {
            // Every insert slot is busy, or the queue is closed: wait for an insert to land.
            match inserts.next().await {
                Some(landed) => in_flight.landed(landed),
                None => break,
            }
        }
        if !batch.is_empty() {
            next_batch_at = tokio::time::Instant::now() + options.min_batch_interval;
            let number = in_flight.start_batch();
            inserts.push(write_batch(
                &store,
                batch,
                &shared,
                &options,
                plan.prepare_off_runtime,
                number,
            ));
        }
        for done in flushes {
            in_flight.flush(done);
        }
        in_flight.answer_flushes();
    }
}

/// Inserts one batch until it lands, then marks its records stored. Returns its number.
async fn write_batch(
    store: &Store,
    batch: Vec<MatchLogRecord>,
    shared: &Shared,
    options: &MatchLogWriterOptions,
    prepare_off_runtime: bool,
    number: u64,
) -> u64 {
    shared.inserting.fetch_add(1, Ordering::Relaxed);
    let batch = Arc::new(batch);
    let prepared = if prepare_off_runtime {
        prepare_on_blocking_thread(store, &batch).await
    } else {
        None
    };
    if let Err(refused) = write_with_retry(store, &batch, prepared.as_ref(), shared, options).await
    {
        write_around_refused_records(store, &batch, refused, shared, options).await;
    }
    shared.inserting.fetch_sub(1, Ordering::Relaxed);
    let mut pending = shared.pending();
    for record in batch.iter() {
        pending.remove(&record.id);
    }
    number
}

/// The batch prepared on a blocking thread, once for all its attempts. `None` if that failed
/// (it cannot, short of a bug): the attempts then prepare it themselves.
async fn prepare_on_blocking_thread(
    store: &Store,
    batch: &Arc<Vec<MatchLogRecord>>,
) -> Option<PreparedMatchLogs> {
    let (store, records) = (store.clone(), Arc::clone(batch));
    match tokio::task::spawn_blocking(move || store.prepare_match_logs(&records)).await {
        Ok(Ok(prepared)) => Some(prepared),
        Ok(Err(error)) => {
            tracing::error!(error = %error_chain(&error), records = batch.len(), "match logs not prepared");
            None
        }
        Err(error) => {
            tracing::error!(error = %error, records = batch.len(), "match logs not prepared");
            None
        }
    }
}

/// Inserts `batch` (as `prepared` when given), retrying with exponential backoff until it
/// lands, or until the database refuses its values: then the error is returned for the caller
/// to find the refused records. Every other error is retried, not only the ones the store
/// calls transient: a full disk, a SQLite file locked by another process or a PostgreSQL
/// connection cut mid-statement read as plain database errors. While they last,
/// `writes_failing` is set (readiness reports it) and the queue behind fills, then drops and
/// counts.
async fn write_with_retry(
    store: &Store,
    batch: &[MatchLogRecord],
    prepared: Option<&PreparedMatchLogs>,
    shared: &Shared,
    options: &MatchLogWriterOptions,
) -> Result<(), StoreError> {
    let mut backoff = options.initial_backoff;
    let mut attempt: u32 = 1;
    loop {
        let inserted = match prepared {
            Some(prepared) => store.insert_prepared_match_logs(prepared).await,
            None => store.insert_match_logs(batch).await,
        };
        match inserted {
            Ok(inserted) => {
                // Counted once committed: an insert whose commit failed returned an error.
                shared.batches.fetch_add(1, Ordering::Relaxed);
                shared
                    .written
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                shared.failures_in_a_row.store(0, Ordering::Relaxed);
                if shared.writes_failing.swap(false, Ordering::Relaxed) || attempt > 1 {
                    tracing::info!(
                        records = batch.len(),
                        inserted,
                        attempt,
                        "match logs written after retrying"
                    );
                }
                return Ok(());
            }
            Err(error) if error.is_refused_data() => return Err(error),
            Err(error) => {
                shared.failed_attempts.fetch_add(1, Ordering::Relaxed);
                // One failed attempt is not yet "cannot be written": a PostgreSQL restart cuts
                // every pooled connection, the retry reconnects, and every replica reporting
                // unready at once for that would leave the router with none.
                let in_a_row = shared.failures_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
                if in_a_row >= 2 {
                    shared.writes_failing.store(true, Ordering::Relaxed);
                }
                let error_chain = error_chain(&error);
                if error.is_transient() {
                    tracing::warn!(error = %error_chain, records = batch.len(), attempt, retry_in_ms = backoff.as_millis() as u64, "match logs not written: database unavailable, retrying");
                } else {
                    tracing::error!(error = %error_chain, records = batch.len(), attempt, retry_in_ms = backoff.as_millis() as u64, "match logs not written: the database cannot be written, retrying");
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(options.max_backoff);
                attempt = attempt.saturating_add(1);
            }
        }
    }
}

/// Writes a batch the database refused for its values: halves it until every refused record
/// is alone (a batch of 2,000 with one poison record costs about 22 inserts), writes the rest
/// and sets the refused ones aside, counted and logged by id and error code only. Their
/// contents are never logged, nor the database's message, which can quote a value.
async fn write_around_refused_records(
    store: &Store,
    batch: &[MatchLogRecord],
    refused: StoreError,
    shared: &Shared,
    options: &MatchLogWriterOptions,
) {
    tracing::warn!(
        records = batch.len(),
        code = refused.database_code().as_deref().unwrap_or("unknown"),
        "the database refused a batch of match logs; writing its records apart to find the refused ones"
    );
    let mut parts: Vec<(&[MatchLogRecord], StoreError)> = vec![(batch, refused)];
    while let Some((part, refused)) = parts.pop() {
        if let [record] = part {
            let set_aside = shared.set_aside.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::error!(
                match_id = %record.id,
                operation = record.operation,
                code = refused.database_code().as_deref().unwrap_or("unknown"),
                set_aside_total = set_aside,
                "match log set aside: the database refused it"
            );
            continue;
        }
        let (first, second) = part.split_at(part.len() / 2);
        // The second half is tried after the first, whose refused records come first.
        let mut failed = Vec::with_capacity(2);
        for half in [first, second] {
            if let Err(refused) = write_with_retry(store, half, None, shared, options).await {
                failed.push((half, refused));
            }
        }
        parts.extend(failed.into_iter().rev());
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn week_start_is_the_monday_of_the_iso_week() {
        let wednesday = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(
            week_start(wednesday),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(week_start(monday), monday);
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(week_start(sunday), monday);
    }

    #[test]
    fn weeks_postpartum_fall_in_buckets_that_include_their_lower_bound() {
        let cases = [
            (0, "0-2"),
            (1, "0-2"),
            (2, "2-6"),
            (5, "2-6"),
            (6, "6-12"),
            (11, "6-12"),
            (12, "12-26"),
            (25, "12-26"),
            (26, "26-52"),
            (51, "26-52"),
            (52, "52+"),
            (104, "52+"),
        ];
        for (weeks, bucket) in cases {
            assert_eq!(weeks_postpartum_bucket(weeks), bucket, "{weeks} weeks");
        }
    }

    #[test]
    fn every_sparse_prefix_hhs_lists_is_written_as_000_and_others_are_kept() {
        for prefix in SPARSE_POSTAL_PREFIXES {
            assert_eq!(safe_postal_prefix(prefix), "000", "{prefix}");
        }
        assert_eq!(safe_postal_prefix("972"), "972");
        assert_eq!(safe_postal_prefix("100"), "100");
    }

    #[test]
    fn a_language_that_is_not_a_language_name_is_logged_as_other() {
        assert_eq!(safe_language(" Spanish "), "spanish");
        assert_eq!(safe_language("Haitian Creole"), "haitian creole");
        assert_eq!(safe_language("my name is Jane, call 555-0100"), "other");
        assert_eq!(safe_language(&"a".repeat(41)), "other");
    }

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

    #[test]
    fn a_flush_waits_for_every_batch_started_before_it_whichever_lands_first() {
        let mut in_flight = InFlight::default();
        let first = in_flight.start_batch();
        let second = in_flight.start_batch();
        let (done, mut flushed) = oneshot::channel();
        in_flight.flush(done);
        let after = in_flight.start_batch();
        let (done, mut flushed_empty) = oneshot::channel();

        in_flight.landed(second);
        in_flight.answer_flushes();
        assert!(
            flushed.try_recv().is_err(),
            "the first batch is still in flight"
        );
        in_flight.landed(first);
        in_flight.answer_flushes();
        assert!(flushed.try_recv().is_ok());

        // A later flush also waits for the batch started after the first flush.
        in_flight.flush(done);
        in_flight.answer_flushes();
        assert!(flushed_empty.try_recv().is_err());
        in_flight.landed(after);
        in_flight.answer_flushes();
        assert!(flushed_empty.try_recv().is_ok());
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

    #[test]
    fn client_headers_are_trimmed_capped_and_empty_means_none() {
        let client = ClientInfo::from_headers(Some(" web "), Some(""));
        assert_eq!(client.name.as_deref(), Some("web"));
        assert_eq!(client.version, None);
        let long = "x".repeat(100);
        let client = ClientInfo::from_headers(Some(&long), None);
        assert_eq!(client.name.map(|name| name.len()), Some(64));
    }
}
