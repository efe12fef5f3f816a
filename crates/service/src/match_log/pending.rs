//! The record of one answer on its way to the writer: built once the results are known,
//! queued when the answer is ready, so the logged latency covers the whole call.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use carematch_store::MatchLogRecord;
use uuid::Uuid;

use super::deidentify::{
    ClientInfo, LoggedAnswer, MatchOperation, ServedRequest, deidentified_record,
};
use super::writer::MatchLogWriter;

/// Collects the match logs a request queues, so a response replayed from the response cache
/// can queue the same records again (with new ids): every served answer is logged once.
#[derive(Clone, Default)]
pub struct MatchLogCapture(pub Arc<Mutex<Vec<MatchLogRecord>>>);

impl MatchLogCapture {
    /// The records captured so far.
    pub fn records(&self) -> Vec<MatchLogRecord> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Who asked, as far as the match log is concerned: the calling application, and the capture
/// of the HTTP request when its answer may be replayed.
#[derive(Clone, Default)]
pub struct Caller {
    pub client: ClientInfo,
    pub capture: Option<MatchLogCapture>,
}

/// How an answer is being served: which call, since when, whether from a cache, for whom.
#[derive(Clone, Copy)]
pub(crate) struct Serving<'a> {
    pub operation: MatchOperation,
    pub started: Instant,
    pub cache_hit: bool,
    pub caller: &'a Caller,
}

/// A record built and not yet queued.
pub(crate) struct PendingMatchLog {
    record: MatchLogRecord,
    started: Instant,
    capture: Option<MatchLogCapture>,
}

impl PendingMatchLog {
    pub(crate) fn new(answer: &LoggedAnswer<'_>, serving: Serving<'_>) -> Self {
        let served = ServedRequest {
            operation: serving.operation,
            latency: serving.started.elapsed(),
            cache_hit: serving.cache_hit,
            client: serving.caller.client.clone(),
        };
        let record = deidentified_record(
            Uuid::new_v4(),
            chrono::Utc::now().date_naive(),
            answer,
            served,
        );
        Self {
            record,
            started: serving.started,
            capture: serving.caller.capture.clone(),
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
                .unwrap_or_else(PoisonError::into_inner)
                .push(self.record.clone());
        }
        writer.log(self.record);
        id
    }
}
