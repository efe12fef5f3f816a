//! carematch's demo data: a deterministic, pure generator of realistic postpartum-care providers
//! around real US metros, for `carematch seed-demo`, first start and benchmarks.
//!
//! Provider `i` of a seed depends only on `(seed, i)`: it draws from its own ChaCha8 stream
//! (stream number `i` of the seed's key), so any range can be generated on its own, chunks can
//! be generated in parallel, and 5,000 providers are a prefix of 1,000,000. Every provider is
//! built as a [`ProviderDraft`](carematch_domain::ProviderDraft) and validated like an import.
//!
//! Architecture invariant: this crate does no I/O; the tables it draws from are compiled in.

mod build;
mod payers;
mod places;
mod profiles;

#[cfg(test)]
mod tests;

use std::ops::Range;

use carematch_domain::{Provider, ProviderId, ValidationError};
use carematch_postal::PostalCodes;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use payers::{KAISER_STATES, STATES, StateInfo};
pub use places::{METROS, Metro, RURAL_SHARE};

/// How many providers to generate, from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoConfig {
    pub count: u64,
    pub seed: u64,
}

impl DemoConfig {
    /// What `carematch serve` seeds into an empty database.
    pub const DEFAULT_COUNT: u64 = 5_000;
    pub const DEFAULT_SEED: u64 = 42;

    pub fn new(count: u64, seed: u64) -> Self {
        Self { count, seed }
    }
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self::new(Self::DEFAULT_COUNT, Self::DEFAULT_SEED)
    }
}

/// A generated provider that failed validation, or a point the postal table could not place.
/// Either is a bug in this crate's tables, never a problem with the caller's input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DemoError {
    #[error("demo provider {index} of seed {seed} is invalid: {source}")]
    Invalid {
        seed: u64,
        index: u64,
        #[source]
        source: ValidationError,
    },
    #[error("demo provider {index} of seed {seed} could not be placed on the postal table")]
    Unplaceable { seed: u64, index: u64 },
}

/// The random stream of provider `index`: the seed's key, stream `index`. ChaCha's output is
/// specified (and portable), so the same seed gives the same providers on every machine.
fn provider_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// Provider `index` of `seed`.
pub fn generate_one(seed: u64, index: u64) -> Result<Provider, DemoError> {
    let drawn = build::draw(seed, index, PostalCodes::embedded())
        .ok_or(DemoError::Unplaceable { seed, index })?;
    drawn
        .draft
        .validate(drawn.id)
        .map_err(|source| DemoError::Invalid {
            seed,
            index,
            source,
        })
}

/// The id of provider `index` of `seed`, without generating the rest of it (the id is the
/// first draw of the provider's stream): equal to `generate_one(seed, index)?.id`.
pub fn provider_id(seed: u64, index: u64) -> ProviderId {
    build::draw_id(&mut provider_rng(seed, index))
}

/// The indexes `0..count` ordered by the id of their provider. Generating in this order gives
/// the same providers as `0..count`, sorted by id: a database then appends each primary key at
/// the end of its B-tree instead of at a random place, which is what keeps a million-provider
/// seed fast once the indexes outgrow memory.
pub fn indexes_in_id_order(seed: u64, count: u64) -> Vec<u64> {
    let mut keyed: Vec<(ProviderId, u64)> = (0..count)
        .map(|index| (provider_id(seed, index), index))
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, index)| index).collect()
}

/// Providers `0..config.count` of `config.seed`, lazily.
pub fn generate(config: &DemoConfig) -> impl Iterator<Item = Result<Provider, DemoError>> + use<> {
    let seed = config.seed;
    (0..config.count).map(move |index| generate_one(seed, index))
}

/// Providers `range` of `seed`, e.g. one chunk of a parallel seed; the first error stops it.
pub fn generate_range(seed: u64, range: Range<u64>) -> Result<Vec<Provider>, DemoError> {
    range.map(|index| generate_one(seed, index)).collect()
}

/// Splits `0..count` into consecutive ranges of at most `chunk_size` (at least 1), for callers
/// that generate and insert chunk by chunk or on several threads.
pub fn chunks(count: u64, chunk_size: u64) -> impl Iterator<Item = Range<u64>> {
    let chunk_size = chunk_size.max(1);
    (0..count.div_ceil(chunk_size))
        .map(move |chunk| chunk * chunk_size..((chunk + 1) * chunk_size).min(count))
}
