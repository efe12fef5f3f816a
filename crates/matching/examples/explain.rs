//! Prints the engine's answer to one match request as JSON, over the scenario providers:
//! `cargo run -p carematch-matching --example explain -- '{"location": {"postalCode": "97205"}, "symptoms": ["URINE_LEAKAGE"]}'`.

use std::sync::Arc;

use carematch_domain::{MatchRequestDraft, ProviderDraft, ProviderId};
use carematch_matching::{Engine, RankingConfig};
use carematch_postal::PostalCodes;
use carematch_search::ProviderIndex;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let input = std::env::args()
        .nth(1)
        .ok_or("usage: explain '<MatchInput JSON>' [careTeam]")?;
    let care_team = std::env::args()
        .nth(2)
        .is_some_and(|mode| mode == "careTeam");
    let providers_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/providers.jsonl");
    let mut providers = Vec::new();
    for line in std::fs::read_to_string(providers_path)?.lines() {
        let draft: ProviderDraft = serde_json::from_str(line)?;
        let id = ProviderId::parse(draft.id.as_deref().unwrap_or_default())?;
        providers.push(draft.validate(id)?);
    }
    let index = ProviderIndex::in_ram()?;
    index.rebuild(providers, 1)?;
    let engine = Engine::new(
        Arc::new(index),
        PostalCodes::embedded(),
        RankingConfig::default(),
    )?;
    let draft: MatchRequestDraft = serde_json::from_str(&input)?;
    let request = engine.validate_request(draft)?;
    let answer = if care_team {
        serde_json::to_string_pretty(&engine.care_team(&request)?)?
    } else {
        serde_json::to_string_pretty(&engine.match_providers(&request)?)?
    };
    println!("{answer}");
    Ok(())
}
