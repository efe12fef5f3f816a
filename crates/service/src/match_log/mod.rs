//! The match log: what is kept of each `matchProviders` and `careTeam` answer, and how it gets
//! to the database without ever making a request wait on it.
//!
//! - `deidentify`: the record, de-identified after HIPAA's Safe Harbor method before anything
//!   is queued.
//! - `pending`: a record built with the answer and queued when the answer is ready.
//! - `writer` and `batches`: the background writer, a bounded queue in front of a task that
//!   inserts in batches and rides out outages and refused records.

mod batches;
mod deidentify;
mod pending;
mod writer;

pub use deidentify::{
    ClientInfo, LoggedAnswer, MatchOperation, SPARSE_POSTAL_PREFIXES, ServedRequest,
    deidentified_record, safe_postal_prefix, week_start, weeks_postpartum_bucket,
};
pub use pending::{Caller, MatchLogCapture};
pub(crate) use pending::{PendingMatchLog, Serving};
pub use writer::{MatchLogWriter, MatchLogWriterOptions};

#[cfg(test)]
pub(crate) use writer::tests::record as example_record;
