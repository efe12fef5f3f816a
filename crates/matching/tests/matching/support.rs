//! Test helpers: the scenario providers and scenarios from `tests/data/`, an engine over an
//! in-memory index, and requests from the contract's JSON shape.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use carematch_domain::{MatchRequest, MatchRequestDraft, Provider, ProviderDraft, ProviderId};
use carematch_matching::{Engine, MatchResults, RankingConfig};
use carematch_postal::PostalCodes;
use carematch_search::ProviderIndex;

pub fn data_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file)
}

/// The scenario directory's providers (one `ProviderInput` as JSON per line).
pub fn scenario_providers() -> Vec<Provider> {
    let text = std::fs::read_to_string(data_path("providers.jsonl")).unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let draft: ProviderDraft = serde_json::from_str(line).unwrap();
            let id = ProviderId::parse(draft.id.as_deref().unwrap()).unwrap();
            draft.validate(id).unwrap()
        })
        .collect()
}

#[derive(Debug, serde::Deserialize)]
pub struct Scenario {
    pub name: String,
    pub query: String,
    pub input: serde_json::Value,
    pub expect: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
struct ScenarioFile {
    scenarios: Vec<Scenario>,
}

pub fn scenarios() -> &'static HashMap<String, Scenario> {
    static SCENARIOS: OnceLock<HashMap<String, Scenario>> = OnceLock::new();
    SCENARIOS.get_or_init(|| {
        let text = std::fs::read_to_string(data_path("scenarios.json")).unwrap();
        let file: ScenarioFile = serde_json::from_str(&text).unwrap();
        file.scenarios
            .into_iter()
            .map(|scenario| (scenario.name.clone(), scenario))
            .collect()
    })
}

/// The scenario by name, checking that the file still has the expectations this test encodes.
pub fn scenario(name: &str, query: &str, expectations: usize) -> &'static Scenario {
    let scenario = scenarios()
        .get(name)
        .unwrap_or_else(|| panic!("scenario {name} is missing from scenarios.json"));
    assert_eq!(scenario.query, query, "{name}");
    assert_eq!(
        scenario.expect.len(),
        expectations,
        "{name}: the scenario's expectations changed; update its test: {:#?}",
        scenario.expect
    );
    scenario
}

pub fn engine_over(providers: Vec<Provider>) -> Engine {
    engine_with_config(providers, RankingConfig::default())
}

pub fn engine_with_config(providers: Vec<Provider>, config: RankingConfig) -> Engine {
    let index = ProviderIndex::in_ram().unwrap();
    index.rebuild(providers, 1).unwrap();
    Engine::new(Arc::new(index), PostalCodes::embedded(), config).unwrap()
}

/// One engine over the scenario providers, shared by the read-only tests.
pub fn scenario_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| engine_over(scenario_providers()))
}

pub fn request(input: &serde_json::Value) -> MatchRequest {
    let draft: MatchRequestDraft = serde_json::from_value(input.clone()).unwrap();
    draft.validate(&PostalCodes::embedded()).unwrap()
}

/// The scenario providers' ids end in their line number: `provider(1)` is the first line.
pub fn provider(number: u32) -> ProviderId {
    ProviderId::parse(&format!("00000000-0000-4000-8000-{number:012}")).unwrap()
}

pub fn ranked_ids(results: &MatchResults) -> Vec<ProviderId> {
    results
        .matches
        .iter()
        .map(|found| found.provider_id)
        .collect()
}

pub fn position_of(results: &MatchResults, id: ProviderId) -> Option<usize> {
    results
        .matches
        .iter()
        .position(|found| found.provider_id == id)
}

/// A provider in the contract's JSON shape, changed by `edit`, for tests that need their own.
pub fn provider_from_json(json: serde_json::Value) -> Provider {
    let draft: ProviderDraft = serde_json::from_value(json).unwrap();
    let id = ProviderId::parse(draft.id.as_deref().unwrap()).unwrap();
    draft.validate(id).unwrap()
}

/// A pelvic-floor PT in Portland with every field set to a plain default; tests change fields.
pub fn portland_pt(number: u32) -> serde_json::Value {
    serde_json::json!({
        "id": format!("00000000-0000-4000-9000-{number:012}"),
        "name": format!("Test Pelvic PT {number}"),
        "careTypes": ["PELVIC_FLOOR_PHYSICAL_THERAPY"],
        "certifications": [],
        "treats": ["URINE_LEAKAGE"],
        "locations": [{"latitude": 45.52, "longitude": -122.68, "region": "OR", "postalCode": "97205"}],
        "modes": ["IN_PERSON"],
        "languages": ["English"],
        "acceptingNewClients": true,
        "insurance": [],
        "acceptsFsaHsa": false,
        "providesSuperbill": false,
        "requiresReferral": false,
        "selfPayRateUsd": 100,
        "bio": "Pelvic floor physical therapy."
    })
}

pub fn test_provider_id(number: u32) -> ProviderId {
    ProviderId::parse(&format!("00000000-0000-4000-9000-{number:012}")).unwrap()
}

/// A request in Portland for pelvic-floor PT, changed by the caller.
pub fn portland_request(extra: serde_json::Value) -> MatchRequest {
    let mut input = serde_json::json!({
        "location": {"latitude": 45.5152, "longitude": -122.6784},
        "careTypes": ["PELVIC_FLOOR_PHYSICAL_THERAPY"]
    });
    if let (Some(base), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
    }
    request(&input)
}
