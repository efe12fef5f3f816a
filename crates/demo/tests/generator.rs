//! The public promises of the demo generator: determinism by (seed, index), prefixes and
//! parallel chunks that agree, and providers that are valid and distinct.

use std::collections::HashSet;

use carematch_demo::{DemoConfig, chunks, generate, generate_one, generate_range};
use carematch_domain::Provider;

fn providers(count: u64, seed: u64) -> Vec<Provider> {
    generate(&DemoConfig::new(count, seed))
        .collect::<Result<_, _>>()
        .expect("every demo provider validates")
}

#[test]
fn the_same_seed_gives_byte_identical_providers() {
    let first = providers(500, 11);
    let second = providers(500, 11);
    assert_eq!(first, second);
    assert_eq!(format!("{first:?}"), format!("{second:?}"));
}

#[test]
fn a_different_seed_gives_different_providers() {
    let first = providers(200, 11);
    let other = providers(200, 12);
    let same_ids = first
        .iter()
        .zip(&other)
        .filter(|(a, b)| a.id == b.id)
        .count();
    assert_eq!(same_ids, 0);
    assert_ne!(
        first.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        other.iter().map(|p| p.name.as_str()).collect::<Vec<_>>()
    );
}

#[test]
fn a_smaller_count_is_a_prefix_of_a_larger_one() {
    let small = providers(300, 5);
    let large = providers(1_000, 5);
    assert_eq!(small[..], large[..300]);
    assert_eq!(generate_range(5, 700..1_000).unwrap()[..], large[700..]);
    assert_eq!(generate_one(5, 999).unwrap(), large[999]);
}

#[test]
fn chunks_generated_on_several_threads_equal_one_pass() {
    let whole = providers(1_000, 9);
    let ranges: Vec<_> = chunks(1_000, 300).collect();
    assert_eq!(ranges, [0..300, 300..600, 600..900, 900..1_000]);
    let parts: Vec<Vec<Provider>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .iter()
            .cloned()
            .map(|range| scope.spawn(move || generate_range(9, range).unwrap()))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });
    assert_eq!(parts.concat(), whole);
    assert_eq!(chunks(0, 10).count(), 0);
    assert_eq!(chunks(5, 0).count(), 5);
}

#[test]
fn every_provider_validates_and_round_trips_through_its_draft() {
    let all = providers(20_000, 3);
    assert_eq!(all.len(), 20_000);
    for provider in all.iter().take(2_000) {
        let again = provider.to_draft().validate(provider.id).unwrap();
        assert_eq!(&again, provider);
    }
}

#[test]
fn ids_are_distinct_version_4_uuids() {
    let all = providers(5_000, 1);
    let ids: HashSet<_> = all.iter().map(|provider| provider.id).collect();
    assert_eq!(ids.len(), all.len());
    for provider in &all {
        let uuid = provider.id.as_uuid();
        assert_eq!(uuid.get_version_num(), 4);
        assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
    }
}

#[test]
fn the_default_config_seeds_5000_providers() {
    let config = DemoConfig::default();
    assert_eq!(config.count, 5_000);
    assert_eq!(generate(&config).count(), 5_000);
}
