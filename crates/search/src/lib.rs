//! carematch's provider index: retrieval of candidate providers for a match request, text
//! relevance, and the stored providers. It knows nothing of GraphQL or of how it is served.
//!
//! Design, in short:
//! - **One tantivy document per provider**, not per location. A provider is ranked once, at its
//!   nearest qualifying location; per-location documents would return the same provider
//!   several times and need a collapse step, and multi-location providers are few. Locations
//!   are multi-valued fast fields (`latitude`, `longitude`) in the document and points in the
//!   spatial index.
//! - **Geo retrieval by in-memory R*-trees per care type** (rstar, on 3-D points so chord
//!   distance orders like great-circle distance), holding only providers accepting new
//!   clients, one tree per group of equal static score parts (certification, ways to be
//!   seen), so a full ranked list searches a weaker group only as far as it can still place.
//!   A 25 km query touches only the points inside the radius; geo-cell terms or fast-field
//!   ranges in tantivy would intersect with posting lists of hundreds of thousands of
//!   documents for a common care type. See `catalog.rs`.
//! - **A compact in-memory summary per provider** (bit sets, interned payers and languages,
//!   locations) carries every filter and ranking input, so ranking never reads a document.
//!   A one-cache-line `CompactEntry` (id, payer/language/state bits, symptoms, modes,
//!   certification, flags) is copied into every R*-tree leaf and into the telehealth/online
//!   pools, so a query scores tens of thousands of candidates by scanning memory in order.
//!   Full providers are stored as JSON in tantivy's document store and read only to hydrate
//!   the page shown (`get`/`get_many`), and to rebuild the summaries on reopen.
//! - **Tantivy** holds the text fields (name, specialties, bio; stemmed, accents folded) for
//!   BM25 relevance, the stored providers, and term fields for every attribute (care types,
//!   symptoms, certification scope, payers, modes, languages, licensed states, flags) so the
//!   index is a complete, queryable projection of the store.
//! - **The generation** the caller passes with each write is recorded in tantivy's commit
//!   payload, atomically with the data: a restart whose generation matches the store reopens
//!   the index instead of rebuilding it.
//!
//! Architecture invariant: user text is never parsed as tantivy query syntax; it is analyzed
//! into words, each a term query.

mod catalog;
mod error;
mod index;
mod schema;
mod sets;
mod snapshot;
mod sphere;

pub use catalog::{
    Candidate, CandidateCounts, CandidateQuery, Catalog, CatalogMemory, CompactEntry, Hit,
    LocationPoint, NetworkAnswer, NetworkEntry, NextHit, PhysicalData, PoolGroup, ProviderSlot,
    ProviderSummary, Reach, UsefulDistance, Vocabulary, VocabularyKey, normalize_name,
};
pub use error::SearchError;
pub use index::{BuildReport, IndexMemory, IndexOptions, IndexView, ProviderIndex};
pub use schema::{INDEX_FORMAT_VERSION, IndexFields, text_analyzer};
pub use sets::{CareModeSet, CareTypeSet, SymptomSet};
