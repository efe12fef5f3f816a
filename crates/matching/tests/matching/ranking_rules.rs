//! The ranking rules of care-guide.md through the whole engine, as tables: each row is a
//! provider that differs from a plain Portland PT in one way, and the table says the order.

use carematch_domain::{CareMode, PaymentFit, ProviderId};
use carematch_matching::MatchResults;
use serde_json::json;

use crate::support::{
    engine_over, portland_pt, portland_request, provider_from_json, ranked_ids, test_provider_id,
};

/// A provider `number` with `changes` applied to the plain Portland PT.
fn pt_with(number: u32, changes: serde_json::Value) -> carematch_domain::Provider {
    let mut provider = portland_pt(number);
    if let (Some(base), Some(changes)) = (provider.as_object_mut(), changes.as_object()) {
        for (key, value) in changes {
            base.insert(key.clone(), value.clone());
        }
    }
    provider_from_json(provider)
}

/// The default engine over `providers`, and one that keeps and scores every candidate (its
/// list never fills, so nothing is cut by a bound): their tops must be equal.
fn pruned_and_full(
    providers: Vec<carematch_domain::Provider>,
) -> (carematch_matching::Engine, carematch_matching::Engine) {
    let pruned = engine_over(providers.clone());
    let full = crate::support::engine_with_config(
        providers,
        carematch_matching::RankingConfig {
            keep_top: 10_000,
            text_rescore_window: 10_000,
            ..carematch_matching::RankingConfig::default()
        },
    );
    (pruned, full)
}

fn order(results: &MatchResults) -> Vec<ProviderId> {
    ranked_ids(results)
}

fn ids(numbers: &[u32]) -> Vec<ProviderId> {
    numbers
        .iter()
        .map(|number| test_provider_id(*number))
        .collect()
}

#[test]
fn equal_providers_are_ordered_by_id_every_time() {
    let providers = [5, 3, 9, 1, 7].map(|number| pt_with(number, json!({})));
    let engine = engine_over(providers.to_vec());
    let request = portland_request(json!({}));
    let first = engine.match_providers(&request).unwrap();
    assert_eq!(order(&first), ids(&[1, 3, 5, 7, 9]));
    let scores: Vec<f64> = first.matches.iter().map(|found| found.score).collect();
    assert!(
        scores.windows(2).all(|pair| pair[0] == pair[1]),
        "{scores:?}"
    );
    for _ in 0..5 {
        assert_eq!(engine.match_providers(&request).unwrap(), first);
    }
}

#[test]
fn certification_orders_perinatal_over_general_and_verified_over_self_reported() {
    let certification = |name: &str, scope: &str, verified: bool| json!({"certifications": [{"name": name, "issuer": null, "scope": scope, "verified": verified}]});
    let providers = vec![
        pt_with(1, json!({"certifications": []})),
        pt_with(2, certification("PT licence", "GENERAL", false)),
        pt_with(3, certification("DPT", "GENERAL", true)),
        pt_with(4, certification("PRPC", "PERINATAL", false)),
        pt_with(5, certification("PWCS", "PERINATAL", true)),
        // Care guide 2nd edition, section 4: an IBCLC is a lactation credential and earns a
        // physical therapist nothing (the first edition ranked it first here).
        pt_with(6, certification("IBCLC", "PERINATAL", true)),
    ];
    let engine = engine_over(providers);
    let results = engine
        .match_providers(&portland_request(json!({})))
        .unwrap();
    assert_eq!(order(&results), ids(&[5, 4, 3, 2, 1, 6]));
    let certification_scores: Vec<f64> = results
        .matches
        .iter()
        .map(|found| found.breakdown.certification)
        .collect();
    assert!(
        certification_scores[..5]
            .windows(2)
            .all(|pair| pair[0] > pair[1])
    );
    assert_eq!(certification_scores[4], certification_scores[5]);
}

#[test]
fn payment_orders_in_network_then_superbill_then_fsa_then_self_pay() {
    let providers = vec![
        pt_with(1, json!({})),
        pt_with(2, json!({"acceptsFsaHsa": true})),
        pt_with(3, json!({"providesSuperbill": true})),
        pt_with(4, json!({"insurance": [{"payer": "AETNA", "plan": null}]})),
        pt_with(5, json!({"insurance": [{"payer": "Cigna", "plan": null}]})),
    ];
    let engine = engine_over(providers);
    let request = portland_request(json!({"insurance": {"payer": "aetna"}, "hasFsaOrHsa": true}));
    let results = engine.match_providers(&request).unwrap();
    let rows: Vec<(ProviderId, PaymentFit)> = results
        .matches
        .iter()
        .map(|found| (found.provider_id, found.payment_fit))
        .collect();
    assert_eq!(
        rows,
        vec![
            (test_provider_id(4), PaymentFit::InNetwork),
            (test_provider_id(3), PaymentFit::OutOfNetworkSuperbill),
            (test_provider_id(2), PaymentFit::FsaHsaEligible),
            (test_provider_id(1), PaymentFit::SelfPay),
            (test_provider_id(5), PaymentFit::SelfPay),
        ]
    );
}

#[test]
fn massage_and_doula_paid_by_fsa_need_a_letter_and_say_so() {
    let massage = |number: u32, care_type: &str| {
        pt_with(
            number,
            json!({"careTypes": [care_type], "treats": [], "acceptsFsaHsa": true}),
        )
    };
    let engine = engine_over(vec![massage(1, "POSTNATAL_MASSAGE"), massage(2, "DOULA")]);
    for care_type in ["POSTNATAL_MASSAGE", "DOULA"] {
        let request = portland_request(json!({"careTypes": [care_type], "hasFsaOrHsa": true}));
        let results = engine.match_providers(&request).unwrap();
        let found = &results.matches[0];
        assert_eq!(
            found.payment_fit,
            PaymentFit::FsaHsaWithLetterOfMedicalNecessity,
            "{care_type}"
        );
        assert!(
            found
                .notes
                .iter()
                .any(|note| note.contains("letter of medical necessity"))
        );
    }
}

#[test]
fn a_plan_specific_network_counts_only_for_that_plan() {
    let providers = vec![pt_with(
        1,
        json!({"insurance": [{"payer": "Aetna", "plan": "Gold PPO"}]}),
    )];
    let engine = engine_over(providers);
    let cases = [
        (
            json!({"payer": "Aetna", "plan": "gold ppo"}),
            PaymentFit::InNetwork,
        ),
        (json!({"payer": "Aetna"}), PaymentFit::InNetwork),
        (
            json!({"payer": "Aetna", "plan": "Silver HMO"}),
            PaymentFit::SelfPay,
        ),
        (
            json!({"payer": "Cigna", "plan": "Gold PPO"}),
            PaymentFit::SelfPay,
        ),
    ];
    for (insurance, expected) in cases {
        let request = portland_request(json!({"insurance": insurance.clone()}));
        let results = engine.match_providers(&request).unwrap();
        assert_eq!(results.matches[0].payment_fit, expected, "{insurance}");
    }
}

#[test]
fn nearer_providers_rank_higher_when_all_else_is_equal() {
    // Due north of the request point, at growing distances (0.009 degrees is about 1 km).
    let at = |number: u32, kilometres: f64| {
        pt_with(
            number,
            json!({"locations": [{"latitude": 45.5152 + kilometres * 0.009, "longitude": -122.6784, "region": "OR"}]}),
        )
    };
    let providers = vec![at(1, 20.0), at(2, 3.0), at(3, 12.0), at(4, 0.5), at(5, 6.0)];
    let engine = engine_over(providers);
    let results = engine
        .match_providers(&portland_request(json!({})))
        .unwrap();
    assert_eq!(order(&results), ids(&[4, 2, 5, 3, 1]));
    let distances: Vec<f64> = results
        .matches
        .iter()
        .map(|found| found.distance_km.unwrap())
        .collect();
    assert!(distances.windows(2).all(|pair| pair[0] < pair[1]));
    let distance_scores: Vec<f64> = results
        .matches
        .iter()
        .map(|found| found.breakdown.distance)
        .collect();
    // Inside the 1 km offset the score is 1; then it decays.
    assert_eq!(distance_scores[0], 1.0);
    assert!(distance_scores.windows(2).all(|pair| pair[0] > pair[1]));
}

#[test]
fn a_missing_referral_ranks_lower_with_a_note_and_a_referral_lifts_it() {
    let providers = vec![
        pt_with(1, json!({"requiresReferral": true})),
        pt_with(2, json!({})),
    ];
    let engine = engine_over(providers);
    let without = engine
        .match_providers(&portland_request(json!({})))
        .unwrap();
    assert_eq!(order(&without), ids(&[2, 1]));
    let needs_referral = &without.matches[1];
    assert!(
        needs_referral
            .notes
            .iter()
            .any(|note| note.contains("ask your OB/GYN for a referral"))
    );
    let with = engine
        .match_providers(&portland_request(json!({"hasReferral": true})))
        .unwrap();
    assert_eq!(order(&with), ids(&[1, 2]), "equal scores, so by id");
    assert!(with.matches.iter().all(|found| found.notes.is_empty()));
}

#[test]
fn need_fit_prefers_providers_treating_more_of_her_symptoms() {
    let providers = vec![
        pt_with(1, json!({"treats": ["URINE_LEAKAGE"]})),
        pt_with(2, json!({"treats": ["URINE_LEAKAGE", "PELVIC_PAIN"]})),
        pt_with(3, json!({"treats": []})),
    ];
    let engine = engine_over(providers);
    let request = portland_request(json!({
        "careTypes": null,
        "symptoms": ["URINE_LEAKAGE", "PELVIC_PAIN"]
    }));
    let results = engine.match_providers(&request).unwrap();
    assert_eq!(order(&results), ids(&[2, 1, 3]));
    let need_fits: Vec<f64> = results
        .matches
        .iter()
        .map(|found| found.breakdown.need_fit)
        .collect();
    assert_eq!(need_fits, vec![1.0, 0.625, 0.25]);
    assert!(results.matches[0].reasons[0].contains("leaking urine and pelvic pain"));
}

#[test]
fn a_supporting_care_type_ranks_below_the_care_that_treats_the_problem() {
    // Back pain: PT treats it (priority 1), massage supports it (priority 2).
    let providers = vec![
        pt_with(
            1,
            json!({"careTypes": ["POSTNATAL_MASSAGE"], "treats": ["BACK_PAIN"]}),
        ),
        pt_with(2, json!({"treats": ["BACK_PAIN"]})),
    ];
    let engine = engine_over(providers);
    let request = portland_request(json!({"careTypes": null, "symptoms": ["BACK_PAIN"]}));
    let results = engine.match_providers(&request).unwrap();
    assert_eq!(order(&results), ids(&[2, 1]));
    assert!(results.matches[0].breakdown.need_fit > results.matches[1].breakdown.need_fit);
}

#[test]
fn home_visits_reach_only_within_the_providers_own_service_radius() {
    // 15 km north of her; she searches 25 km.
    let home_visit = |number: u32, service_radius: f64| {
        pt_with(
            number,
            json!({
                "modes": ["HOME_VISIT"],
                "homeVisitRadiusKm": service_radius,
                "locations": [{"latitude": 45.5152 + 15.0 * 0.009, "longitude": -122.6784, "region": "OR"}]
            }),
        )
    };
    let engine = engine_over(vec![home_visit(1, 10.0), home_visit(2, 20.0)]);
    let results = engine
        .match_providers(&portland_request(json!({})))
        .unwrap();
    let within: Vec<_> = results
        .matches
        .iter()
        .filter(|found| !found.beyond_radius)
        .collect();
    assert_eq!(within.len(), 1);
    assert_eq!(within[0].provider_id, test_provider_id(2));
    assert_eq!(within[0].mode, CareMode::HomeVisit);
    assert!(
        results
            .matches
            .iter()
            .all(|found| found.provider_id != test_provider_id(1))
    );
}

#[test]
fn telehealth_needs_a_licence_in_her_state_and_support_groups_do_not() {
    let seattle = json!([{"latitude": 47.6062, "longitude": -122.3321, "region": "WA"}]);
    let providers = vec![
        pt_with(
            1,
            json!({"modes": ["TELEHEALTH"], "locations": seattle.clone()}),
        ),
        pt_with(
            2,
            json!({"modes": ["TELEHEALTH"], "locations": seattle.clone(), "licensedRegions": ["OR"]}),
        ),
        pt_with(
            3,
            json!({"careTypes": ["SUPPORT_GROUP"], "modes": ["VIRTUAL_GROUP"], "locations": seattle}),
        ),
    ];
    let engine = engine_over(providers);
    let therapy = engine
        .match_providers(&portland_request(json!({})))
        .unwrap();
    assert_eq!(order(&therapy), ids(&[2]));
    assert_eq!(therapy.matches[0].distance_km, None);
    assert_eq!(therapy.matches[0].mode, CareMode::Telehealth);
    let group = engine
        .match_providers(&portland_request(json!({"careTypes": ["SUPPORT_GROUP"]})))
        .unwrap();
    assert_eq!(order(&group), ids(&[3]));
    assert_eq!(group.matches[0].mode, CareMode::VirtualGroup);
}

#[test]
fn her_modes_and_languages_filter_the_candidates() {
    let providers = vec![
        pt_with(1, json!({})),
        pt_with(
            2,
            json!({"modes": ["IN_PERSON", "TELEHEALTH"], "languages": ["English", "Spanish"]}),
        ),
        pt_with(
            3,
            json!({"modes": ["TELEHEALTH"], "languages": ["Vietnamese"]}),
        ),
    ];
    let engine = engine_over(providers);
    let cases = [
        (json!({}), vec![2, 1, 3]),
        (json!({"modes": ["TELEHEALTH"]}), vec![2, 3]),
        (json!({"modes": ["IN_PERSON"]}), vec![1, 2]),
        (json!({"languages": ["spanish"]}), vec![2]),
        (json!({"languages": ["Vietnamese", "Spanish"]}), vec![2, 3]),
        (json!({"languages": ["Klingon"]}), vec![]),
    ];
    for (extra, expected) in cases {
        let results = engine
            .match_providers(&portland_request(extra.clone()))
            .unwrap();
        let mut found = order(&results);
        found.sort();
        let mut expected = ids(&expected);
        expected.sort();
        assert_eq!(found, expected, "{extra}");
    }
}

#[test]
fn her_words_lift_providers_whose_text_matches() {
    let providers = vec![
        pt_with(1, json!({"bio": "General pelvic floor therapy."})),
        pt_with(
            2,
            json!({"bio": "Cesarean scar massage and scar tissue release."}),
        ),
        pt_with(3, json!({"bio": "Return to running after birth."})),
    ];
    let engine = engine_over(providers);
    let plain = engine
        .match_providers(&portland_request(json!({})))
        .unwrap();
    assert_eq!(order(&plain), ids(&[1, 2, 3]));
    assert!(
        plain
            .matches
            .iter()
            .all(|found| found.breakdown.text == 0.0)
    );
    let searched = engine
        .match_providers(&portland_request(json!({"text": "C-section SCARS"})))
        .unwrap();
    assert_eq!(searched.matches[0].provider_id, test_provider_id(2));
    assert_eq!(searched.matches[0].breakdown.text, 1.0);
    assert_eq!(searched.matches.len(), 3, "text ranks, it does not filter");
    // Stemming: "running" finds "Running" and "runs".
    let running = engine
        .match_providers(&portland_request(json!({"text": "runs"})))
        .unwrap();
    assert_eq!(running.matches[0].provider_id, test_provider_id(3));
}

#[test]
fn only_the_top_200_are_kept_in_a_stable_order() {
    let providers: Vec<_> = (1..=250).map(|number| pt_with(number, json!({}))).collect();
    let engine = engine_over(providers);
    let results = engine
        .match_providers(&portland_request(json!({})))
        .unwrap();
    assert_eq!(results.candidates_found, 250);
    assert_eq!(results.matches.len(), 200);
    assert_eq!(order(&results), ids(&(1..=200).collect::<Vec<_>>()));
}

#[test]
fn every_score_and_component_stays_between_zero_and_one() {
    let engine = crate::support::scenario_engine();
    for input in [
        json!({"location": {"latitude": 45.5152, "longitude": -122.6784}, "symptoms": ["BACK_PAIN", "STRESS", "LOW_MOOD"], "text": "pelvic scar"}),
        json!({"location": {"latitude": 45.5152, "longitude": -122.6784}, "radiusKm": 200, "careTypes": ["PELVIC_FLOOR_PHYSICAL_THERAPY", "DOULA", "LACTATION_CONSULTING"]}),
    ] {
        let results = engine
            .match_providers(&crate::support::request(&input))
            .unwrap();
        assert!(!results.matches.is_empty());
        for found in &results.matches {
            let breakdown = found.breakdown;
            for component in [
                found.score,
                breakdown.need_fit,
                breakdown.distance,
                breakdown.certification,
                breakdown.payment,
                breakdown.availability,
                breakdown.text,
            ] {
                assert!((0.0..=1.0).contains(&component), "{found:#?}");
            }
            assert!(!found.reasons.is_empty());
        }
    }
}

#[test]
fn ranking_many_remote_providers_from_their_compact_entries_equals_ranking_all_in_full() {
    // 1,500 telehealth PTs licensed in Oregon with varied payers (some plan-specific, some past
    // the 128 exact payer bits), certifications, flags and symptoms.
    let payer_names: Vec<String> = (0..200).map(|number| format!("Payer {number}")).collect();
    let providers: Vec<_> = (1..=1_500_u32)
        .map(|number| {
            let payers: Vec<serde_json::Value> = (0..3)
                .map(|offset| {
                    let name = &payer_names[((number * 7 + offset * 61) % 200) as usize];
                    let plan = (number + offset).is_multiple_of(4).then_some("Gold");
                    json!({"payer": name, "plan": plan})
                })
                .collect();
            let scope = if number % 3 == 0 { "PERINATAL" } else { "GENERAL" };
            pt_with(
                number,
                json!({
                    "modes": if number % 5 == 0 { json!(["TELEHEALTH", "VIRTUAL_GROUP"]) } else { json!(["TELEHEALTH"]) },
                    "insurance": payers,
                    "certifications": [{"name": "X", "issuer": null, "scope": scope, "verified": number % 2 == 0}],
                    "treats": if number % 2 == 0 { json!(["URINE_LEAKAGE", "PELVIC_PAIN"]) } else { json!(["PELVIC_PAIN"]) },
                    "providesSuperbill": number % 7 == 0,
                    "acceptsFsaHsa": number % 3 == 1,
                    "requiresReferral": number % 11 == 0,
                    "locations": [{"latitude": 44.0, "longitude": -121.0, "region": "OR"}]
                }),
            )
        })
        .collect();
    let (pruned, full) = pruned_and_full(providers);
    let payers = [
        json!({"payer": "Payer 7"}),
        json!({"payer": "Payer 150", "plan": "Gold"}),
        json!({"payer": "Payer 68", "plan": "Silver"}),
        json!({"payer": "Payer 190"}),
    ];
    for insurance in payers {
        let request = portland_request(json!({
            "careTypes": null,
            "symptoms": ["URINE_LEAKAGE", "PELVIC_PAIN"],
            "insurance": insurance,
            "hasFsaOrHsa": true
        }));
        let pruned_results = pruned.match_providers(&request).unwrap();
        let full_results = full.match_providers(&request).unwrap();
        assert_eq!(pruned_results.matches.len(), 200);
        assert_eq!(full_results.matches.len(), 1_500);
        let first_difference = pruned_results
            .matches
            .iter()
            .zip(&full_results.matches)
            .position(|(pruned, full)| pruned != full);
        if let Some(rank) = first_difference {
            panic!(
                "{insurance}: first difference at {rank}:\n{:?}\n{:?}",
                pruned_results.matches[rank], full_results.matches[rank]
            );
        }
    }
}

#[test]
fn cutting_a_large_radius_short_by_the_score_bound_keeps_the_exact_top() {
    // 1,500 providers spread over 45 km around her, some also by telehealth, some with two
    // offices; the pruned engine must keep exactly the top 200 that scoring everyone gives.
    let providers: Vec<_> = (1..=1_500_u32)
        .map(|number| {
            let angle = f64::from(number) * 2.399_963;
            let kilometres = 45.0 * (f64::from(number) / 1_500.0).sqrt();
            let latitude = 45.5152 + kilometres * angle.sin() / 111.0;
            let longitude = -122.6784 + kilometres * angle.cos() / 78.0;
            let scope = if number % 3 == 0 { "PERINATAL" } else { "GENERAL" };
            pt_with(
                number,
                json!({
                    // Every third has a second office, so a provider is visited twice.
                    "locations": if number % 3 == 0 {
                        json!([
                            {"latitude": latitude, "longitude": longitude, "region": "OR"},
                            {"latitude": latitude + 0.05, "longitude": longitude, "region": "OR"}
                        ])
                    } else {
                        json!([{"latitude": latitude, "longitude": longitude, "region": "OR"}])
                    },
                    "modes": if number % 4 == 0 { json!(["IN_PERSON", "TELEHEALTH"]) } else { json!(["IN_PERSON"]) },
                    "certifications": [{"name": "X", "issuer": null, "scope": scope, "verified": number % 2 == 0}],
                    "insurance": if number % 5 == 0 { json!([{"payer": "Aetna", "plan": null}]) } else { json!([]) },
                    "treats": if number % 2 == 0 { json!(["URINE_LEAKAGE"]) } else { json!([]) },
                }),
            )
        })
        .collect();
    let (pruned, full) = pruned_and_full(providers);
    for extra in [
        json!({"radiusKm": 50, "insurance": {"payer": "Aetna"}}),
        json!({"radiusKm": 50}),
        json!({"radiusKm": 30, "modes": ["IN_PERSON"], "hasFsaOrHsa": true}),
    ] {
        let mut input = extra.clone();
        input["location"] = json!({"latitude": 45.5152, "longitude": -122.6784});
        input["symptoms"] = json!(["URINE_LEAKAGE"]);
        let request = crate::support::request(&input);
        let pruned_ids = ranked_ids(&pruned.match_providers(&request).unwrap());
        let full_ids = ranked_ids(&full.match_providers(&request).unwrap());
        assert_eq!(pruned_ids.len(), 200, "{extra}");
        assert_eq!(pruned_ids[..], full_ids[..200], "{extra}");
    }
}

#[test]
fn skipping_whole_certification_and_availability_groups_keeps_the_exact_top() {
    // 2,400 providers of four care types packed within 12 km of her, in every certification
    // level and with one to three ways to be seen, some home visits with short reach: the
    // engine bounds each group's score separately and must still keep the exact top 200.
    let care_types = [
        "PELVIC_FLOOR_PHYSICAL_THERAPY",
        "LACTATION_CONSULTING",
        "POSTNATAL_MASSAGE",
        "DOULA",
    ];
    let mode_sets = [
        json!(["IN_PERSON"]),
        json!(["HOME_VISIT"]),
        json!(["IN_PERSON", "TELEHEALTH"]),
        json!(["IN_PERSON", "HOME_VISIT", "TELEHEALTH"]),
        json!(["HOME_VISIT", "IN_PERSON", "TELEHEALTH", "VIRTUAL_GROUP"]),
    ];
    let certifications = [
        json!([]),
        json!([{"name": "X", "issuer": null, "scope": "GENERAL", "verified": false}]),
        json!([{"name": "X", "issuer": null, "scope": "GENERAL", "verified": true}]),
        json!([{"name": "X", "issuer": null, "scope": "PERINATAL", "verified": false}]),
        json!([{"name": "X", "issuer": null, "scope": "PERINATAL", "verified": true}]),
        json!([{"name": "IBCLC", "issuer": null, "scope": "PERINATAL", "verified": true}]),
    ];
    let providers: Vec<_> = (1..=2_400_u32)
        .map(|number| {
            let angle = f64::from(number) * 2.399_963;
            let kilometres = 12.0 * (f64::from(number) / 2_400.0).sqrt();
            let latitude = 45.5152 + kilometres * angle.sin() / 111.0;
            let longitude = -122.6784 + kilometres * angle.cos() / 78.0;
            let first = care_types[(number % 4) as usize];
            let kinds = if number % 9 == 0 {
                json!([first, care_types[((number / 9) % 4) as usize]])
            } else {
                json!([first])
            };
            pt_with(
                number,
                json!({
                    "careTypes": kinds,
                    "locations": [{"latitude": latitude, "longitude": longitude, "region": "OR"}],
                    "modes": mode_sets[((number / 4) % 5) as usize],
                    "homeVisitRadiusKm": if number % 2 == 0 { 3.0 } else { 20.0 },
                    "certifications": certifications[((number / 3) % 6) as usize],
                    "insurance": if number % 5 == 0 { json!([{"payer": "Aetna", "plan": null}]) } else { json!([]) },
                    "acceptsFsaHsa": number % 7 < 3,
                    "providesSuperbill": number % 6 == 1,
                    "treats": match number % 3 {
                        0 => json!(["URINE_LEAKAGE", "BREASTFEEDING_DIFFICULTY", "BACK_PAIN"]),
                        1 => json!(["BREASTFEEDING_DIFFICULTY"]),
                        _ => json!(["BACK_PAIN", "STRESS"]),
                    },
                }),
            )
        })
        .collect();
    let (pruned, full) = pruned_and_full(providers);
    for extra in [
        json!({"radiusKm": 25, "symptoms": ["URINE_LEAKAGE", "BREASTFEEDING_DIFFICULTY", "BACK_PAIN"]}),
        json!({"radiusKm": 4, "symptoms": ["BREASTFEEDING_DIFFICULTY"], "insurance": {"payer": "Aetna"}}),
        json!({"radiusKm": 15, "symptoms": ["BACK_PAIN", "STRESS"], "modes": ["HOME_VISIT", "IN_PERSON"], "hasFsaOrHsa": true}),
        json!({"radiusKm": 10, "symptoms": ["URINE_LEAKAGE"], "modes": ["IN_PERSON"]}),
    ] {
        let mut input = extra.clone();
        input["location"] = json!({"latitude": 45.5152, "longitude": -122.6784});
        let request = crate::support::request(&input);
        let pruned_ids = ranked_ids(&pruned.match_providers(&request).unwrap());
        let full_ids = ranked_ids(&full.match_providers(&request).unwrap());
        let kept = pruned_ids.len();
        assert!(kept > 100, "{extra}: only {kept} kept");
        assert_eq!(pruned_ids[..], full_ids[..kept], "{extra}");
    }
}

#[test]
fn a_radius_search_finds_exactly_the_providers_haversine_puts_inside_it() {
    // Providers on and a metre or two either side of every ring edge the search walks, and
    // a metre either side of her radius (the stored points are exact to about half a metre),
    // each on its own bearing: none may be lost between two rings, none counted twice.
    let origin = (45.5152_f64, -122.6784_f64);
    let destination = |distance_km: f64, bearing_degrees: f64| {
        let (latitude, longitude) = (origin.0.to_radians(), origin.1.to_radians());
        let angle = distance_km / 6_371.008_8;
        let bearing = bearing_degrees.to_radians();
        let to_latitude =
            (latitude.sin() * angle.cos() + latitude.cos() * angle.sin() * bearing.cos()).asin();
        let to_longitude = longitude
            + (bearing.sin() * angle.sin() * latitude.cos())
                .atan2(angle.cos() - latitude.sin() * to_latitude.sin());
        (to_latitude.to_degrees(), to_longitude.to_degrees())
    };
    let radius_km = 33.0;
    let mut distances = Vec::new();
    for edge in [1.0, 2.0, 3.5, 5.0, 7.5, 10.0, 15.0, 25.0] {
        for offset in [-0.002, -0.0005, 0.0, 0.0005, 0.002] {
            distances.push(edge + offset);
        }
    }
    for offset in [-0.002, -0.001, 0.001, 0.002] {
        distances.push(radius_km + offset);
    }
    distances.extend((0..40).map(|step| f64::from(step) * 0.9));
    let providers: Vec<_> = distances
        .iter()
        .enumerate()
        .map(|(position, distance)| {
            let number = position as u32 + 1;
            let (latitude, longitude) = destination(*distance, f64::from(number) * 37.0);
            pt_with(
                number,
                json!({"locations": [{"latitude": latitude, "longitude": longitude, "region": "OR"}]}),
            )
        })
        .collect();
    let mut inside: Vec<ProviderId> = providers
        .iter()
        .filter(|provider| {
            let location = &provider.locations[0];
            carematch_domain::haversine_km(
                origin.0,
                origin.1,
                location.point.latitude(),
                location.point.longitude(),
            ) <= radius_km
        })
        .map(|provider| provider.id)
        .collect();
    inside.sort();
    let engine = engine_over(providers);
    let request = portland_request(json!({"radiusKm": radius_km}));
    let results = engine.match_providers(&request).unwrap();
    let mut found: Vec<ProviderId> = results
        .matches
        .iter()
        .filter(|found| !found.beyond_radius)
        .map(|found| found.provider_id)
        .collect();
    found.sort();
    assert!(inside.len() > 50, "{}", inside.len());
    assert_eq!(found, inside);
    assert_eq!(results.search_area.found_within_radius, inside.len());
}
