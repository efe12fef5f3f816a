//! The provider repository: upserts that write the JSON document and the normalized child rows
//! in one transaction, reads that hydrate from the document, keyset streaming, and the
//! change feed (`changed_since`) with tombstones.
//!
//! `write` changes providers, `read` hydrates them from their documents, `child_rows` turns a
//! provider into the rows of the normalized tables.

mod child_rows;
mod read;
mod write;

use carematch_domain::{Provider, ProviderId};
use chrono::{DateTime, Utc};

/// Whether an upsert created the provider or replaced an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    Created,
    Updated,
}

/// What changed since a point in time: for replicas that catch up after missing events.
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    /// Providers created or updated at or after `since`, oldest change first.
    pub upserted: Vec<Provider>,
    /// Providers deleted at or after `since` (and not re-created since).
    pub deleted: Vec<ProviderId>,
    /// The latest change seen, or `since` when nothing changed: pass it as the next `since`.
    /// Changes stamped exactly at it are delivered again next time, never missed.
    pub high_water: DateTime<Utc>,
}
