//! `Engine::rank` leaves the words out so the API writes them for the shown page only, from a
//! list that went through the ranked-list cache: the facts the words are written from must
//! survive that round trip, so the words come out as `match_providers` writes them.

use carematch_demo::{DemoConfig, generate_range};
use carematch_domain::{MatchRequest, MatchRequestDraft};
use carematch_matching::{Engine, ProviderMatch, write_words};
use carematch_postal::PostalCodes;
use serde_json::json;

use crate::support::{engine_over, request, scenario_engine, scenarios};

fn assert_words_written_later_are_the_same(engine: &Engine, request: &MatchRequest) {
    let input = serde_json::to_string(request).unwrap();
    let request = request.clone();
    let full = engine.match_providers(&request).unwrap();
    let ranked = engine.rank(&request).unwrap();
    assert!(
        ranked
            .matches
            .iter()
            .all(|found| found.reasons.is_empty() && found.notes.is_empty()),
        "rank writes no words: {input}"
    );
    assert!(
        full.matches.iter().all(|found| !found.reasons.is_empty()),
        "every match of the full answer says why: {input}"
    );
    // Through the ranked-list cache's encoding.
    let encoded = postcard::to_stdvec(&ranked.matches).unwrap();
    let mut cached: Vec<ProviderMatch> = postcard::from_bytes(&encoded).unwrap();
    for found in &mut cached {
        write_words(found, &ranked.plan, &request);
    }
    assert_eq!(cached, full.matches, "{input}");
}

#[test]
fn words_written_for_a_ranked_list_equal_the_full_answer_for_every_scenario() {
    let mut compared = 0;
    for scenario in scenarios().values() {
        let Ok(draft) = serde_json::from_value::<MatchRequestDraft>(scenario.input.clone()) else {
            continue;
        };
        // Scenarios of bad input are refused before ranking: nothing to compare.
        if let (true, Ok(request)) = (
            scenario.query == "matchProviders",
            draft.validate(&PostalCodes::embedded()),
        ) {
            assert_words_written_later_are_the_same(scenario_engine(), &request);
            compared += 1;
        }
    }
    assert!(
        compared >= 10,
        "only {compared} matchProviders scenarios were compared"
    );
}

#[test]
fn words_written_for_a_ranked_list_equal_the_full_answer_on_demo_providers() {
    let providers = generate_range(DemoConfig::DEFAULT_SEED, 0..4_000).unwrap();
    let engine = engine_over(providers);
    // Every branch of the words: insurance, FSA/HSA with and without a letter, languages,
    // text, a tiny radius that widens, home visits, telehealth, cesarean cautions, referral.
    let inputs = [
        json!({"location": {"postalCode": "10001"}, "radiusKm": 25.0,
               "symptoms": ["URINE_LEAKAGE", "BACK_PAIN"],
               "insurance": {"payer": "Aetna"}}),
        json!({"location": {"postalCode": "94110"}, "radiusKm": 1.0,
               "symptoms": ["BREASTFEEDING_DIFFICULTY"], "hasFsaOrHsa": true,
               "languages": ["Spanish"]}),
        json!({"location": {"postalCode": "60614"}, "radiusKm": 50.0,
               "symptoms": ["LOW_MOOD", "ANXIETY"], "text": "postpartum anxiety therapy",
               "insurance": {"payer": "Cigna"}, "hasReferral": false}),
        json!({"location": {"postalCode": "97205"}, "radiusKm": 30.0,
               "symptoms": ["BACK_PAIN"], "birthType": "CESAREAN", "weeksPostpartum": 3,
               "clearedForMassage": false, "hasFsaOrHsa": true,
               "careTypes": ["POSTNATAL_MASSAGE", "PELVIC_FLOOR_PHYSICAL_THERAPY", "DOULA"]}),
        json!({"location": {"postalCode": "59001"}, "radiusKm": 10.0,
               "symptoms": ["PELVIC_PAIN", "POOR_SLEEP"], "modes": ["HOME_VISIT", "TELEHEALTH"]}),
    ];
    for input in &inputs {
        assert_words_written_later_are_the_same(&engine, &request(input));
    }
}
