//! Importers of real directory data into the store: the NPPES NPI registry's monthly
//! `npidata_pfile` CSV ([`nppes`]) and FHIR R4 Da Vinci PDex Plan-Net provider directories
//! ([`fhir`]).
//!
//! Both turn records into [`carematch_domain::ProviderDraft`]s, map NUCC taxonomy codes to care
//! types through the one table in [`taxonomy`], geocode by postal-code centroid
//! ([`carematch_postal`]) when a record has no coordinates, and write through the store's
//! ordinary upsert in batches, matched by NPI so a re-import updates the same provider (same
//! id) instead of adding one. A record that cannot be imported is counted as skipped (by
//! reason) or failed (by record and field) and never aborts the import; only an unreadable
//! file or a failing database does. Every write bumps the store's data generation like any
//! other write; [`ImportSummary::changed_provider_ids`] lists what changed for the caller to
//! publish to other replicas.

pub mod fhir;
pub mod nppes;
mod summary;
pub mod taxonomy;
mod text;
mod write;

pub use summary::{ImportSummary, RecordFailure, SkipReason};

use carematch_store::StoreError;

/// Why an import stopped. Bad records never stop one: they are counted in the summary.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The NPPES header lacks a column the import needs (a file of another format).
    #[error("the csv header has no column `{0}`: is this an NPPES npidata_pfile?")]
    MissingColumn(String),
    /// Reading the file failed part way (an I/O error, not a bad row).
    #[error("reading the file failed near line {line}")]
    Read {
        line: u64,
        #[source]
        source: std::io::Error,
    },
    /// A FHIR file that is neither a Bundle nor NDJSON of resources.
    #[error("not a FHIR Bundle or NDJSON file: {0}")]
    NotFhir(String),
    #[error("writing providers failed")]
    Store(#[from] StoreError),
    /// The reading thread ended without a result (it panicked).
    #[error("the file reader stopped unexpectedly")]
    ReaderStopped,
}

/// Progress reporting, in bytes of the input file read. The CLI draws a bar on a terminal;
/// tests and libraries pass [`NoProgress`].
pub trait Progress: Send + Sync {
    /// Called once with the file's size, when known.
    fn start(&self, _total_bytes: u64) {}
    /// Called as reading advances, with the bytes read so far.
    fn advance_to(&self, bytes_read: u64);
    /// Called once at the end.
    fn finish(&self) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn advance_to(&self, _bytes_read: u64) {}
}

/// Records per write transaction: large enough that per-transaction costs vanish, small enough
/// that a batch is a few megabytes at most.
pub const DEFAULT_BATCH_SIZE: usize = 1_000;
