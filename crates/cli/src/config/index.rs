//! Index settings: where this replica's search index lives, the demo data it may be seeded
//! with, and how often it catches up with the database.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, more_than_zero};

/// Keys are the file's keys; the environment name is `CAREMATCH_` + the key in upper case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexSettings {
    /// Where the local search index lives.
    pub index_dir: PathBuf,
    /// How many demo providers to seed when the database is empty; 0 turns seeding off.
    pub seed_demo: u64,
    /// The generator seed for demo data, so every replica seeds the same providers.
    pub seed_demo_seed: u64,
    /// How often the index catches up with the database (repairs change events lost while
    /// redis was unreachable, and picks up imports written by `carematch import`).
    pub catch_up_interval_ms: u64,
}

impl Default for IndexSettings {
    fn default() -> Self {
        Self {
            index_dir: PathBuf::from("data/index"),
            seed_demo: 5_000,
            seed_demo_seed: 42,
            catch_up_interval_ms: 5_000,
        }
    }
}

impl IndexSettings {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        more_than_zero("CAREMATCH_CATCH_UP_INTERVAL_MS", self.catch_up_interval_ms)
    }
}
