//! Regression: writing every provider again into a freshly built index (what a catch-up that
//! re-reads recent writes does) must not panic in the R*-trees, whose build is a bulk load.

use carematch_search::ProviderIndex;

#[test]
fn every_provider_written_again_after_a_rebuild_keeps_the_index_whole() {
    let providers = carematch_demo::generate_range(42, 0..5_000).expect("demo providers");
    let index = ProviderIndex::in_ram().expect("index");
    index.rebuild(providers.clone(), 1).expect("rebuild");
    for batch in providers.chunks(500) {
        index.upsert_many(batch, 2).expect("upsert");
    }
    assert_eq!(index.len(), 5_000);
    index.apply(&providers, &[], 3).expect("apply");
    assert_eq!(index.len(), 5_000);
    assert_eq!(index.generation(), Some(3));
}
