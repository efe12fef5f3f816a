//! The edges the issue names: malformed text never errors, an empty index explains itself,
//! nothing to search for explains itself, and the configuration loads and validates.

use std::sync::Arc;

use carematch_matching::{Engine, MatchingError, RankingConfig};
use carematch_postal::PostalCodes;
use carematch_search::ProviderIndex;
use serde_json::json;

use crate::support::{portland_request, ranked_ids, request, scenario_engine};

#[test]
fn malformed_query_text_is_searched_as_plain_words_and_never_errors() {
    let engine = scenario_engine();
    let plain = engine
        .match_providers(&portland_request(json!({})))
        .unwrap();
    let texts = [
        "pelvic AND (OR",
        "title:*",
        "name:\"unclosed",
        "((((",
        ")",
        "*",
        "?",
        "~2",
        "^3",
        "NOT",
        "-",
        "+pelvic -scar",
        "[1 TO *]",
        "{}",
        "\\",
        "\"\"",
        "a:b:c",
        "🤱 postpartum",
        "ﬁsioterapia pélvica",
        "\u{0}\u{1}",
        "   ",
        &"word ".repeat(100),
        &"x".repeat(500),
    ];
    for text in texts {
        let mut input = json!({
            "location": {"latitude": 45.5152, "longitude": -122.6784},
            "careTypes": ["PELVIC_FLOOR_PHYSICAL_THERAPY"]
        });
        input["text"] = json!(text);
        let draft: carematch_domain::MatchRequestDraft = serde_json::from_value(input).unwrap();
        let Ok(request) = engine.validate_request(draft) else {
            // Only the length limit and control characters (NUL and the like, refused in every
            // text field since issue 20) may reject text, and then as bad input, not an error.
            assert!(
                text.chars().count() > 500 || text.chars().any(|character| character.is_control()),
                "{text:?}"
            );
            continue;
        };
        let results = engine
            .match_providers(&request)
            .unwrap_or_else(|error| panic!("{text:?}: {error}"));
        let mut with_text = ranked_ids(&results);
        let mut without_text = ranked_ids(&plain);
        with_text.sort();
        without_text.sort();
        assert_eq!(
            with_text, without_text,
            "text ranks, never filters: {text:?}"
        );
    }
}

#[test]
fn query_syntax_characters_match_the_words_around_them() {
    let engine = scenario_engine();
    let results = engine
        .match_providers(&portland_request(json!({"text": "title:* Bend AND (OR"})))
        .unwrap();
    // "Bend Pelvic PT" (telehealth in Oregon) has "Bend" in its name.
    assert_eq!(
        results.matches[0].provider_id,
        crate::support::provider(18),
        "{:#?}",
        ranked_ids(&results)
    );
}

#[test]
fn an_empty_index_answers_with_an_explained_empty_result() {
    let index = ProviderIndex::in_ram().unwrap();
    let engine = Engine::new(
        Arc::new(index),
        PostalCodes::embedded(),
        RankingConfig::default(),
    )
    .unwrap();
    let scenario = &crate::support::scenarios()["leaking_urine_in_network_pelvic_pt_first"];
    let results = engine.match_providers(&request(&scenario.input)).unwrap();
    assert!(results.matches.is_empty());
    let explanation = results.explanation.expect("an explanation");
    assert!(explanation.contains("directory is empty"), "{explanation}");
    assert!(
        !results.plan.recommendations.is_empty(),
        "the plan still comes back"
    );
    let team = engine.care_team(&request(&scenario.input)).unwrap();
    assert!(
        team.members
            .iter()
            .all(|member| member.provider_match.is_none())
    );
    assert!(team.explanation.unwrap().contains("directory is empty"));
}

#[test]
fn a_request_with_nothing_to_look_for_says_so() {
    let results = scenario_engine()
        .match_providers(&request(&json!({"location": {"postalCode": "97205"}})))
        .unwrap();
    assert!(results.matches.is_empty());
    assert_eq!(results.explanation, results.plan.notice);
    assert!(results.explanation.is_some());
}

#[test]
fn when_the_only_fitting_care_is_not_safe_yet_the_answer_points_to_the_cautions() {
    let results = scenario_engine()
        .match_providers(&request(&json!({
            "location": {"postalCode": "97205"},
            "symptoms": ["NECK_SHOULDER_TENSION"],
            "birthType": "CESAREAN",
            "clearedForMassage": false
        })))
        .unwrap();
    assert!(results.matches.is_empty());
    assert!(results.explanation.unwrap().contains("cautions"));
    assert!(!results.plan.cautions.is_empty());
}

#[test]
fn no_provider_in_reach_is_explained_in_plain_words() {
    // Doula care only, in rural Nevada, with a 5 km radius and no widening.
    let config = RankingConfig {
        widen_when_fewer_than: 0,
        ..RankingConfig::default()
    };
    let engine = crate::support::engine_with_config(crate::support::scenario_providers(), config);
    let results = engine
        .match_providers(&request(&json!({
            "location": {"latitude": 39.5, "longitude": -117.0},
            "radiusKm": 5,
            "careTypes": ["DOULA"]
        })))
        .unwrap();
    assert!(results.matches.is_empty());
    let explanation = results.explanation.unwrap();
    assert!(explanation.contains("within 5 km"), "{explanation}");
    assert!(explanation.contains("licensed in NV"), "{explanation}");
}

#[test]
fn outside_the_us_only_care_open_everywhere_is_offered_remotely() {
    // Mid-Atlantic: no state, so no licensed telehealth; the online group is still open.
    let results = scenario_engine()
        .match_providers(&request(&json!({
            "location": {"latitude": 30.0, "longitude": -40.0},
            "radiusKm": 10,
            "symptoms": ["ISOLATION", "URINE_LEAKAGE"]
        })))
        .unwrap();
    let ids = ranked_ids(&results);
    assert_eq!(ids, vec![crate::support::provider(13)]);
}

#[test]
fn far_beyond_the_radius_nothing_is_offered_past_the_configured_limit() {
    let results = scenario_engine()
        .match_providers(&request(&json!({
            "location": {"latitude": 40.7128, "longitude": -74.0060},
            "radiusKm": 10,
            "careTypes": ["LACTATION_CONSULTING"]
        })))
        .unwrap();
    assert!(results.matches.is_empty());
    assert!(results.search_area.widened);
    assert!(results.search_area.radius_note.is_some());
    assert!(results.explanation.is_some());
}

#[test]
fn the_ranking_configuration_loads_partially_and_rejects_nonsense() {
    let partial: RankingConfig =
        serde_json::from_value(json!({"weights": {"distance": 0.5}, "keep_top": 50})).unwrap();
    assert_eq!(partial.weights.distance, 0.5);
    assert_eq!(
        partial.weights.need_fit,
        RankingConfig::default().weights.need_fit
    );
    assert_eq!(partial.keep_top, 50);
    partial.validate().unwrap();
    let round_trip: RankingConfig =
        serde_json::from_str(&serde_json::to_string(&RankingConfig::default()).unwrap()).unwrap();
    assert_eq!(round_trip, RankingConfig::default());
    assert!(serde_json::from_value::<RankingConfig>(json!({"wieghts": {}})).is_err());

    let invalid = [
        json!({"weights": {"distance": -1.0}}),
        json!({"weights": {"need_fit": 0, "distance": 0, "certification": 0, "payment": 0, "availability": 0}}),
        json!({"distance_decay": {"decay": 1.0}}),
        json!({"distance_decay": {"scale_km": 0.0}}),
        json!({"payment_scores": {"in_network": 1.5}}),
        json!({"keep_top": 0}),
    ];
    for config in invalid {
        let config: RankingConfig = serde_json::from_value(config.clone()).unwrap();
        let error = Engine::new(
            Arc::new(ProviderIndex::in_ram().unwrap()),
            PostalCodes::embedded(),
            config.clone(),
        )
        .unwrap_err();
        assert!(
            matches!(error, MatchingError::InvalidConfig(_)),
            "{config:?}"
        );
    }
}

#[test]
fn the_weights_from_configuration_change_the_order() {
    // Massage 6 is nearer, 5 is perinatal: with distance dominant, 6 wins.
    let config = RankingConfig {
        weights: carematch_matching::ComponentWeights {
            need_fit: 0.0,
            distance: 1.0,
            certification: 0.0,
            payment: 0.0,
            availability: 0.0,
            text: 0.0,
        },
        ..RankingConfig::default()
    };
    let engine = crate::support::engine_with_config(crate::support::scenario_providers(), config);
    let input = json!({
        "location": {"latitude": 45.5152, "longitude": -122.6784},
        "careTypes": ["POSTNATAL_MASSAGE"],
        "birthType": "VAGINAL",
        "weeksPostpartum": 8
    });
    let by_distance = ranked_ids(&engine.match_providers(&request(&input)).unwrap());
    let by_default = ranked_ids(&scenario_engine().match_providers(&request(&input)).unwrap());
    let position = |ids: &[carematch_domain::ProviderId], number| {
        ids.iter()
            .position(|id| *id == crate::support::provider(number))
            .unwrap()
    };
    assert!(position(&by_distance, 6) < position(&by_distance, 5));
    assert!(position(&by_default, 5) < position(&by_default, 6));
}
