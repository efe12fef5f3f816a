//! The fixture files' paths. The databases the tests run on come from
//! `carematch_store::test_support`.

use std::path::PathBuf;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}
