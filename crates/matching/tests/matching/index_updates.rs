//! Incremental updates and reopening: a match sees an upsert and stops seeing a delete, and a
//! restart with a current generation reopens the index instead of rebuilding it.

use std::sync::Arc;

use carematch_matching::{Engine, RankingConfig};
use carematch_postal::PostalCodes;
use carematch_search::{IndexOptions, ProviderIndex};
use serde_json::json;

use crate::support::{
    portland_pt, portland_request, provider, provider_from_json, ranked_ids, request,
    scenario_providers, test_provider_id,
};

fn engine_on(index: Arc<ProviderIndex>) -> Engine {
    Engine::new(index, PostalCodes::embedded(), RankingConfig::default()).unwrap()
}

fn small_disk_options() -> IndexOptions {
    IndexOptions {
        writer_threads: 1,
        writer_memory_bytes: 30_000_000,
    }
}

#[test]
fn an_upserted_provider_is_matched_right_away() {
    let index = Arc::new(ProviderIndex::in_ram().unwrap());
    index.rebuild(scenario_providers(), 1).unwrap();
    let engine = engine_on(index.clone());
    let request = portland_request(json!({}));
    assert!(!ranked_ids(&engine.match_providers(&request).unwrap()).contains(&test_provider_id(1)));

    let mut newcomer = portland_pt(1);
    newcomer["certifications"] =
        json!([{"name": "PWCS", "issuer": "ABPTS", "scope": "PERINATAL", "verified": true}]);
    newcomer["insurance"] = json!([{"payer": "Aetna", "plan": null}]);
    index.upsert(&provider_from_json(newcomer), 2).unwrap();

    assert_eq!(index.generation(), Some(2));
    let results = engine.match_providers(&request).unwrap();
    assert!(ranked_ids(&results).contains(&test_provider_id(1)));
    assert_eq!(results.index_generation, Some(2));
    assert_eq!(
        index
            .get(test_provider_id(1))
            .unwrap()
            .unwrap()
            .name
            .as_str(),
        "Test Pelvic PT 1"
    );
}

#[test]
fn an_upsert_that_changes_a_provider_changes_its_match() {
    let index = Arc::new(ProviderIndex::in_ram().unwrap());
    index.rebuild(scenario_providers(), 1).unwrap();
    let engine = engine_on(index.clone());
    let request = portland_request(json!({}));
    let before = engine.match_providers(&request).unwrap();
    let position = before
        .matches
        .iter()
        .position(|found| found.provider_id == provider(2))
        .unwrap();
    assert!(before.matches[position].distance_km.unwrap() < 2.0);

    // Provider 2 moves 20 km east, then stops accepting new clients.
    let mut moved = index.get(provider(2)).unwrap().unwrap().to_draft();
    moved.locations[0].longitude += 0.26;
    let moved = moved.validate(provider(2)).unwrap();
    index.upsert(&moved, 2).unwrap();
    let after = engine.match_providers(&request).unwrap();
    let found = after
        .matches
        .iter()
        .find(|found| found.provider_id == provider(2))
        .unwrap();
    assert!(found.distance_km.unwrap() > 15.0, "{found:?}");

    let mut closed = moved.to_draft();
    closed.accepting_new_clients = false;
    index
        .upsert(&closed.validate(provider(2)).unwrap(), 3)
        .unwrap();
    let closed_results = engine.match_providers(&request).unwrap();
    assert!(!ranked_ids(&closed_results).contains(&provider(2)));
    assert_eq!(
        index.len(),
        scenario_providers().len(),
        "replaced, not added"
    );
}

#[test]
fn a_deleted_provider_is_no_longer_matched_or_found() {
    let index = Arc::new(ProviderIndex::in_ram().unwrap());
    index.rebuild(scenario_providers(), 1).unwrap();
    let engine = engine_on(index.clone());
    let scenario = &crate::support::scenarios()["leaking_urine_in_network_pelvic_pt_first"];
    let request = request(&scenario.input);
    assert_eq!(
        engine.match_providers(&request).unwrap().matches[0].provider_id,
        provider(1)
    );

    assert!(index.delete(provider(1), 2).unwrap());
    let results = engine.match_providers(&request).unwrap();
    assert!(!ranked_ids(&results).contains(&provider(1)));
    assert_eq!(index.get(provider(1)).unwrap(), None);
    assert_eq!(index.len(), scenario_providers().len() - 1);
    assert_eq!(index.generation(), Some(2));
    assert!(!index.delete(provider(1), 3).unwrap(), "already gone");
    assert_eq!(index.generation(), Some(3));
}

#[test]
fn get_many_hydrates_in_order_with_none_for_unknown_ids() {
    let index = ProviderIndex::in_ram().unwrap();
    index.rebuild(scenario_providers(), 1).unwrap();
    let found = index
        .get_many(&[provider(17), test_provider_id(99), provider(1)])
        .unwrap();
    assert_eq!(
        found[0].as_ref().unwrap().name.as_str(),
        "Clínica Mamá Sana"
    );
    assert_eq!(found[1], None);
    assert_eq!(found[2].as_ref().unwrap().id, provider(1));
    // The stored provider is the provider that was indexed, field for field.
    let original = scenario_providers()
        .into_iter()
        .find(|candidate| candidate.id == provider(17))
        .unwrap();
    assert_eq!(found[0].as_ref().unwrap(), &original);
}

#[test]
fn a_rebuild_replaces_everything_and_a_repeated_id_keeps_the_last() {
    let index = ProviderIndex::in_ram().unwrap();
    index.rebuild(scenario_providers(), 1).unwrap();
    let mut renamed = portland_pt(1);
    renamed["name"] = json!("Renamed");
    let report = index
        .rebuild(
            vec![
                provider_from_json(portland_pt(1)),
                provider_from_json(renamed),
            ],
            7,
        )
        .unwrap();
    assert_eq!(report.providers, 1);
    assert_eq!(index.len(), 1);
    assert_eq!(index.generation(), Some(7));
    assert_eq!(index.get(provider(1)).unwrap(), None);
    assert_eq!(
        index
            .get(test_provider_id(1))
            .unwrap()
            .unwrap()
            .name
            .as_str(),
        "Renamed"
    );
}

#[test]
fn a_restart_with_a_current_generation_reopens_the_index_without_rebuilding() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("index");
    assert_eq!(ProviderIndex::stored_generation(&path).unwrap(), None);
    let scenario = &crate::support::scenarios()["leaking_urine_in_network_pelvic_pt_first"];
    let text_request = {
        let mut input = scenario.input.clone();
        input["text"] = json!("diastasis scar");
        request(&input)
    };
    let before = {
        let index =
            Arc::new(ProviderIndex::open_or_create_with(&path, small_disk_options()).unwrap());
        assert_eq!(index.generation(), None);
        index.rebuild(scenario_providers(), 41).unwrap();
        // Holes in the slots: the reopened catalog must keep text relevance aligned.
        index.delete(provider(2), 42).unwrap();
        engine_on(index).match_providers(&text_request).unwrap()
    };
    assert_eq!(ProviderIndex::stored_generation(&path).unwrap(), Some(42));

    let reopened =
        Arc::new(ProviderIndex::open_or_create_with(&path, small_disk_options()).unwrap());
    assert_eq!(reopened.generation(), Some(42));
    assert_eq!(reopened.len(), scenario_providers().len() - 1);
    assert!(reopened.disk_size_bytes().unwrap() > 0);
    let after = engine_on(reopened.clone())
        .match_providers(&text_request)
        .unwrap();
    assert_eq!(after.matches, before.matches);
    assert!(after.matches.iter().any(|found| found.breakdown.text > 0.0));

    // The reopened index takes updates; a new provider reuses the freed slot.
    reopened
        .upsert(&provider_from_json(portland_pt(5)), 43)
        .unwrap();
    assert_eq!(reopened.len(), scenario_providers().len());
    assert_eq!(
        reopened.get(test_provider_id(5)).unwrap().unwrap().id,
        test_provider_id(5)
    );
    let with_text = engine_on(reopened)
        .match_providers(&portland_request(json!({"text": "Test Pelvic"})))
        .unwrap();
    let newcomer = with_text
        .matches
        .iter()
        .find(|found| found.provider_id == test_provider_id(5))
        .unwrap();
    assert_eq!(newcomer.breakdown.text, 1.0, "its name matches best");
}

#[test]
fn an_index_of_another_format_is_discarded_on_open() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("index");
    {
        let index = ProviderIndex::open_or_create_with(&path, small_disk_options()).unwrap();
        index.rebuild(scenario_providers(), 5).unwrap();
    }
    // Rewrite the commit payload as if an older release had written it.
    let meta_path = path.join("meta.json");
    let meta = std::fs::read_to_string(&meta_path).unwrap();
    let format = format!("\\\"format\\\":{}", carematch_search::INDEX_FORMAT_VERSION);
    assert!(meta.contains(&format), "{meta}");
    std::fs::write(&meta_path, meta.replace(&format, "\\\"format\\\":0")).unwrap();
    assert_eq!(ProviderIndex::stored_generation(&path).unwrap(), None);
    let reopened = ProviderIndex::open_or_create_with(&path, small_disk_options()).unwrap();
    assert_eq!(reopened.generation(), None);
    assert!(reopened.is_empty());
}

#[test]
fn telehealth_providers_are_added_changed_and_removed_incrementally() {
    let index = Arc::new(ProviderIndex::in_ram().unwrap());
    index.rebuild(scenario_providers(), 1).unwrap();
    let engine = engine_on(index.clone());
    // Eastern Oregon: nothing in person nearby, so only telehealth licensed in Oregon.
    let request = request(&json!({
        "location": {"latitude": 44.6, "longitude": -119.2},
        "radiusKm": 10,
        "symptoms": ["URINE_LEAKAGE"]
    }));
    // The care guide's table decides a known credential's scope (2nd edition): DPT is a
    // general licence, PWCS a perinatal certification.
    let seattle_telehealth = |name: &str, scope: &str| {
        let mut draft = portland_pt(7);
        draft["modes"] = json!(["TELEHEALTH"]);
        draft["locations"] = json!([{"latitude": 47.6062, "longitude": -122.3321, "region": "WA"}]);
        draft["licensedRegions"] = json!(["OR"]);
        draft["certifications"] =
            json!([{"name": name, "issuer": null, "scope": scope, "verified": true}]);
        provider_from_json(draft)
    };
    let count = |results: &carematch_matching::MatchResults| {
        ranked_ids(results)
            .iter()
            .filter(|id| **id == test_provider_id(7))
            .count()
    };
    assert_eq!(count(&engine.match_providers(&request).unwrap()), 0);

    index
        .upsert(&seattle_telehealth("DPT", "GENERAL"), 2)
        .unwrap();
    let added = engine.match_providers(&request).unwrap();
    assert_eq!(count(&added), 1);
    let found = added
        .matches
        .iter()
        .find(|found| found.provider_id == test_provider_id(7))
        .unwrap();
    assert_eq!(found.distance_km, None);
    assert_eq!(found.breakdown.certification, 0.45);

    // A new certification moves it to another pool group: replaced, not duplicated.
    index
        .upsert(&seattle_telehealth("PWCS", "PERINATAL"), 3)
        .unwrap();
    let changed = engine.match_providers(&request).unwrap();
    assert_eq!(count(&changed), 1);
    let found = changed
        .matches
        .iter()
        .find(|found| found.provider_id == test_provider_id(7))
        .unwrap();
    assert_eq!(found.breakdown.certification, 0.9);

    assert!(index.delete(test_provider_id(7), 4).unwrap());
    assert_eq!(count(&engine.match_providers(&request).unwrap()), 0);
}
