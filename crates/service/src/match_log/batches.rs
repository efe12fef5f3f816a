//! The writer task: takes records off the queue in batches, inserts them (one batch at a time
//! on SQLite, a few at once on PostgreSQL), retries an outage keeping the batch, and writes
//! around the records the database refuses.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use carematch_store::{MatchLogRecord, PreparedMatchLogs, Store, StoreError};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{mpsc, oneshot};

use super::writer::{MatchLogWriterOptions, Message, Shared, WriterPlan};

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

pub(super) async fn run_writer(
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
mod tests {
    use super::*;

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
}
