//! The catalog snapshot beside the index: a reopen on the commit it names reads it and gets
//! the same catalog as decoding every stored provider; any other commit, or a damaged file,
//! falls back to the stored providers.

use std::path::Path;

use carematch_domain::ProviderName;
use carematch_search::{Catalog, ProviderIndex, ProviderSummary, Vocabulary};

fn contents(catalog: &Catalog) -> Vec<(u32, ProviderSummary, Vec<String>)> {
    // Keys depend on the order names were first seen; compare the names they stand for.
    let [payers, plans, languages, regions] = catalog.vocabularies();
    let name = |vocabulary: &Vocabulary, key: u32| vocabulary.name(key).unwrap_or("?").to_owned();
    catalog
        .slotted_summaries()
        .map(|(slot, summary)| {
            let mut names: Vec<String> = summary
                .network
                .iter()
                .map(|entry| {
                    let plan = entry.plan.map(|key| name(plans, key));
                    format!(
                        "{}/{plan:?}/{:?}",
                        name(payers, entry.payer),
                        entry.care_types
                    )
                })
                .collect();
            names.extend(summary.languages.iter().map(|key| name(languages, *key)));
            names.extend(
                summary
                    .licensed_regions
                    .iter()
                    .map(|key| name(regions, *key)),
            );
            let mut keyless = summary.clone();
            keyless.network = Box::default();
            keyless.languages = Box::default();
            keyless.licensed_regions = Box::default();
            (slot, keyless, names)
        })
        .collect()
}

/// The catalog as a reopen decodes it from the stored providers, without the snapshot.
fn decoded(directory: &Path) -> Vec<(u32, ProviderSummary, Vec<String>)> {
    let copy = tempfile::tempdir().expect("temporary directory");
    for entry in std::fs::read_dir(directory).expect("index directory") {
        let entry = entry.expect("entry");
        if entry.file_name() != "catalog.snapshot" {
            std::fs::copy(entry.path(), copy.path().join(entry.file_name())).expect("copy");
        }
    }
    let index = ProviderIndex::open_or_create(copy.path()).expect("reopen");
    assert!(!index.opened_from_snapshot());
    contents(index.view().catalog())
}

#[test]
fn a_reopen_on_the_saved_commit_reads_the_snapshot_and_gets_the_same_catalog() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let providers = carematch_demo::generate_range(42, 0..1_500).expect("demo providers");
    let built = {
        let index = ProviderIndex::open_or_create(directory.path()).expect("create");
        index.rebuild(providers.clone(), 7).expect("rebuild");
        contents(index.view().catalog())
    };
    assert!(directory.path().join("catalog.snapshot").exists());

    let index = ProviderIndex::open_or_create(directory.path()).expect("reopen");
    assert!(index.opened_from_snapshot());
    assert_eq!(index.generation(), Some(7));
    let reopened = contents(index.view().catalog());
    assert_eq!(reopened.len(), 1_500);
    assert_eq!(reopened, built);
    assert_eq!(reopened, decoded(directory.path()));
    // Keys point at the same names: a payer found by name in both.
    let payer = providers
        .iter()
        .find_map(|provider| provider.insurance.first())
        .map(|plan| plan.payer.clone())
        .expect("some provider takes insurance");
    assert!(index.view().payer_key(&payer).is_some());
    assert_eq!(
        index.get(providers[10].id).expect("read").as_ref(),
        Some(&providers[10])
    );
}

#[test]
fn writes_after_the_snapshot_are_never_lost_on_reopen() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let providers = carematch_demo::generate_range(42, 0..300).expect("demo providers");
    let mut renamed = providers[0].clone();
    renamed.name = ProviderName::parse("Renamed Pelvic Health").expect("name");
    renamed.accepting_new_clients = !renamed.accepting_new_clients;
    {
        let index = ProviderIndex::open_or_create(directory.path()).expect("create");
        index.rebuild(providers.clone(), 1).expect("rebuild");
        index.upsert(&renamed, 2).expect("upsert");
        index.apply(&[], &[providers[1].id], 3).expect("delete");
    }
    // The snapshot names the rebuild's commit, not the last one: decoded, not read.
    let index = ProviderIndex::open_or_create(directory.path()).expect("reopen");
    assert!(!index.opened_from_snapshot());
    {
        let view = index.view();
        let catalog = view.catalog();
        let slot = catalog.slot_of(renamed.id).expect("still indexed");
        assert_eq!(
            catalog
                .summary(slot)
                .map(|summary| summary.accepting_new_clients),
            Some(renamed.accepting_new_clients)
        );
        assert_eq!(catalog.slot_of(providers[1].id), None);
        assert_eq!(catalog.len(), 299);
    }
    drop(index);

    // That reopen saved its catalog: the next one reads it, with both writes in it.
    let index = ProviderIndex::open_or_create(directory.path()).expect("reopen again");
    assert!(index.opened_from_snapshot());
    assert_eq!(index.view().catalog().slot_of(providers[1].id), None);
    assert_eq!(index.len(), 299);

    // Saved at shutdown after a write: read back with the write in it.
    let mut moved = providers[2].clone();
    moved.accepting_new_clients = !moved.accepting_new_clients;
    index.upsert(&moved, 4).expect("upsert");
    assert!(index.save_snapshot().expect("save"));
    assert!(
        !index.save_snapshot().expect("save again"),
        "nothing new to save"
    );
    drop(index);
    let index = ProviderIndex::open_or_create(directory.path()).expect("reopen a third time");
    assert!(index.opened_from_snapshot());
    let view = index.view();
    let catalog = view.catalog();
    let slot = catalog.slot_of(moved.id).expect("indexed");
    assert_eq!(
        catalog
            .summary(slot)
            .map(|summary| summary.accepting_new_clients),
        Some(moved.accepting_new_clients)
    );
    assert_eq!(contents(catalog), decoded(directory.path()));
}

#[test]
fn a_damaged_snapshot_is_not_trusted() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let providers = carematch_demo::generate_range(42, 0..300).expect("demo providers");
    ProviderIndex::open_or_create(directory.path())
        .expect("create")
        .rebuild(providers, 1)
        .expect("rebuild");
    let path = directory.path().join("catalog.snapshot");
    let mut bytes = std::fs::read(&path).expect("snapshot");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&path, &bytes).expect("damage one byte");
    let index = ProviderIndex::open_or_create(directory.path()).expect("reopen");
    assert!(!index.opened_from_snapshot());
    assert_eq!(index.len(), 300);
    drop(index);

    // Cut short (a torn write by something other than our rename).
    let whole = std::fs::read(&path).expect("snapshot rewritten by the reopen");
    std::fs::write(&path, &whole[..whole.len() - 10]).expect("truncate");
    let index = ProviderIndex::open_or_create(directory.path()).expect("reopen");
    assert!(!index.opened_from_snapshot());
    assert_eq!(index.len(), 300);
}

#[test]
fn a_snapshot_of_an_earlier_commit_with_as_many_providers_is_not_read() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let providers = carematch_demo::generate_range(42, 0..300).expect("demo providers");
    let mut changed = providers[5].clone();
    changed.accepting_new_clients = !changed.accepting_new_clients;
    {
        let index = ProviderIndex::open_or_create(directory.path()).expect("create");
        index.rebuild(providers.clone(), 1).expect("rebuild");
        // Same number of providers after the write: only the commit tells the two apart.
        index.upsert(&changed, 2).expect("upsert");
    }
    let index = ProviderIndex::open_or_create(directory.path()).expect("reopen");
    assert!(!index.opened_from_snapshot());
    let view = index.view();
    let catalog = view.catalog();
    let slot = catalog.slot_of(changed.id).expect("indexed");
    assert_eq!(
        catalog
            .summary(slot)
            .map(|summary| summary.accepting_new_clients),
        Some(changed.accepting_new_clients)
    );
}
