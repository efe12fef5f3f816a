//! Hydrated providers are kept between reads: a write must never let a read return the
//! provider as it was before the write.

use carematch_domain::ProviderName;
use carematch_search::ProviderIndex;

#[test]
fn a_provider_read_before_a_write_is_read_as_written_after_it() {
    let providers = carematch_demo::generate_range(42, 0..200).expect("demo providers");
    let index = ProviderIndex::in_ram().expect("index");
    index.rebuild(providers.clone(), 1).expect("rebuild");
    let ids: Vec<_> = providers
        .iter()
        .take(20)
        .map(|provider| provider.id)
        .collect();

    // Read twice: the second read is served from what the first kept, and is the same.
    let first = index.get_many(&ids).expect("read");
    let second = index.get_many(&ids).expect("read again");
    assert_eq!(first, second);
    assert_eq!(first[0].as_ref(), Some(&providers[0]));

    let mut renamed = providers[0].clone();
    renamed.name = ProviderName::parse("Renamed Pelvic Health").expect("name");
    index.upsert(&renamed, 2).expect("upsert");
    assert_eq!(index.get_many(&ids[..1]).expect("read")[0], Some(renamed));

    index.apply(&[], &[ids[1]], 3).expect("delete");
    assert_eq!(index.get_many(&ids[1..2]).expect("read")[0], None);
    // The others are untouched.
    assert_eq!(
        index.get_many(&ids[2..3]).expect("read")[0].as_ref(),
        Some(&providers[2])
    );

    index.rebuild(providers[3..].to_vec(), 4).expect("rebuild");
    assert_eq!(
        index.get_many(&ids[..3]).expect("read"),
        vec![None, None, None]
    );
}
