//! Every public scenario of `scenarios.json`, one test each, every expectation an assertion.
//! GraphQL-level expectations are asserted at the engine's level: `BAD_USER_INPUT` is the
//! validation error naming the field, and cursor pagination is slicing the ranked top 200.

use carematch_domain::triage::triage;
use carematch_domain::{BirthType, Symptom};
use carematch_domain::{
    CareMode, CareType, MatchRequestDraft, PaymentFit, TriageInput, WarningSign, WeeksPostpartum,
};
use carematch_postal::PostalCodes;

use crate::support::{position_of, provider, ranked_ids, request, scenario, scenario_engine};

fn mentions(text: &str, word: &str) -> bool {
    text.to_lowercase().contains(&word.to_lowercase())
}

#[test]
fn leaking_urine_in_network_pelvic_pt_first() {
    let scenario = scenario(
        "leaking_urine_in_network_pelvic_pt_first",
        "matchProviders",
        7,
    );
    let results = scenario_engine()
        .match_providers(&request(&scenario.input))
        .unwrap();
    // plan.recommendations[0].careType == PELVIC_FLOOR_PHYSICAL_THERAPY
    assert_eq!(
        results.plan.recommendations[0].care_type,
        CareType::PelvicFloorPhysicalTherapy
    );
    // every match is PELVIC_FLOOR_PHYSICAL_THERAPY
    assert!(!results.matches.is_empty());
    for found in &results.matches {
        assert_eq!(
            found.care_type,
            CareType::PelvicFloorPhysicalTherapy,
            "{found:?}"
        );
    }
    // first match is 1 (perinatal-certified, in network, near)
    assert_eq!(
        results.matches[0].provider_id,
        provider(1),
        "{:#?}",
        ranked_ids(&results)
    );
    // 1 ranks above 2 (same network, general certification, slightly nearer)
    let first = position_of(&results, provider(1)).unwrap();
    let second = position_of(&results, provider(2)).expect("2 is a match");
    assert!(first < second);
    // 16 is absent (not accepting new clients)
    assert_eq!(position_of(&results, provider(16)), None);
    // 15 (24 km, in network) ranks below 1
    let fifteenth = position_of(&results, provider(15)).expect("15 is a match");
    assert!(first < fifteenth);
    // first match paymentFit == IN_NETWORK
    assert_eq!(results.matches[0].payment_fit, PaymentFit::InNetwork);
}

#[test]
fn cesarean_without_clearance_has_no_massage() {
    let scenario = scenario(
        "cesarean_without_clearance_has_no_massage",
        "matchProviders",
        4,
    );
    let results = scenario_engine()
        .match_providers(&request(&scenario.input))
        .unwrap();
    // plan.cautions contains POSTNATAL_MASSAGE with a reason mentioning clearance
    assert!(
        results
            .plan
            .cautions
            .iter()
            .any(|caution| caution.care_type == CareType::PostnatalMassage
                && mentions(&caution.reason, "clearance")),
        "{:#?}",
        results.plan.cautions
    );
    // plan.recommendations has no POSTNATAL_MASSAGE
    assert!(
        results
            .plan
            .recommendations
            .iter()
            .all(|recommendation| recommendation.care_type != CareType::PostnatalMassage)
    );
    // no match is a POSTNATAL_MASSAGE provider
    let massage_providers = [provider(5), provider(6), provider(7)];
    for found in &results.matches {
        assert_ne!(found.care_type, CareType::PostnatalMassage);
        assert!(!massage_providers.contains(&found.provider_id), "{found:?}");
    }
    // plan.recommendations contains SUPPORT_GROUP
    assert!(
        results
            .plan
            .recommendations
            .iter()
            .any(|recommendation| recommendation.care_type == CareType::SupportGroup)
    );
}

#[test]
fn cleared_cesarean_prefers_perinatal_massage() {
    let scenario = scenario(
        "cleared_cesarean_prefers_perinatal_massage",
        "matchProviders",
        2,
    );
    let results = scenario_engine()
        .match_providers(&request(&scenario.input))
        .unwrap();
    // 5 (perinatal, 4 km) ranks above 6 (general licence only, 0.5 km)
    let perinatal = position_of(&results, provider(5)).expect("5 is a match");
    let general = position_of(&results, provider(6)).expect("6 is a match");
    assert!(perinatal < general, "{:#?}", ranked_ids(&results));
    assert!(results.matches[general].distance_km < results.matches[perinatal].distance_km);
    // plan.cautions has no POSTNATAL_MASSAGE
    assert!(
        results
            .plan
            .cautions
            .iter()
            .all(|caution| caution.care_type != CareType::PostnatalMassage)
    );
}

#[test]
fn explicit_massage_request_without_clearance_carries_note() {
    let scenario = scenario(
        "explicit_massage_request_without_clearance_carries_note",
        "matchProviders",
        2,
    );
    let results = scenario_engine()
        .match_providers(&request(&scenario.input))
        .unwrap();
    // matches are returned
    assert!(!results.matches.is_empty());
    assert_eq!(results.explanation, None);
    // every POSTNATAL_MASSAGE match has a note mentioning clearance
    let massage: Vec<_> = results
        .matches
        .iter()
        .filter(|found| found.care_type == CareType::PostnatalMassage)
        .collect();
    assert!(!massage.is_empty());
    for found in massage {
        assert!(
            found.notes.iter().any(|note| mentions(note, "clearance")),
            "{found:#?}"
        );
    }
}

#[test]
fn diastasis_recti_goes_to_pt_not_massage() {
    let scenario = scenario("diastasis_recti_goes_to_pt_not_massage", "recommendCare", 3);
    assert_eq!(scenario.input["symptoms"][0], "DIASTASIS_RECTI");
    let plan = triage(&TriageInput {
        symptoms: vec![Symptom::DiastasisRecti],
        birth_type: Some(BirthType::Vaginal),
        weeks_postpartum: Some(WeeksPostpartum::new(12).unwrap()),
        ..TriageInput::default()
    });
    // recommendations[0].careType == PELVIC_FLOOR_PHYSICAL_THERAPY
    assert_eq!(
        plan.recommendations[0].care_type,
        CareType::PelvicFloorPhysicalTherapy
    );
    // no recommendation is POSTNATAL_MASSAGE, or it carries a caution that massage will not
    // heal separation
    let massage_recommended = plan
        .recommendations
        .iter()
        .any(|recommendation| recommendation.care_type == CareType::PostnatalMassage);
    let separation_caution = plan.cautions.iter().any(|caution| {
        caution.care_type == CareType::PostnatalMassage && mentions(&caution.reason, "separation")
    });
    assert!(!massage_recommended || separation_caution);
    // urgent is null
    assert!(plan.urgent.is_none());
}

#[test]
fn thoughts_of_harm_is_urgent() {
    let scenario = scenario("thoughts_of_harm_is_urgent", "recommendCare", 3);
    assert_eq!(scenario.input["warningSigns"][0], "THOUGHTS_OF_HARM");
    let plan = triage(&TriageInput {
        symptoms: vec![Symptom::LowMood],
        warning_signs: vec![WarningSign::ThoughtsOfHarm],
        ..TriageInput::default()
    });
    // urgent is set and lists THOUGHTS_OF_HARM
    let urgent = plan.urgent.as_ref().expect("urgent guidance");
    assert!(urgent.warning_signs.contains(&WarningSign::ThoughtsOfHarm));
    // urgent.message mentions 988 and 1-833-852-6262
    assert!(urgent.message.contains("988") && urgent.message.contains("1-833-852-6262"));
    // recommendations[0].careType == PERINATAL_MENTAL_HEALTH
    assert_eq!(
        plan.recommendations[0].care_type,
        CareType::PerinatalMentalHealth
    );
}

#[test]
fn thoughts_of_harm_keeps_urgent_guidance_first_in_a_match_answer_too() {
    let input = serde_json::json!({
        "location": {"latitude": 45.5152, "longitude": -122.6784},
        "symptoms": ["LOW_MOOD"],
        "warningSigns": ["THOUGHTS_OF_HARM"]
    });
    let results = scenario_engine().match_providers(&request(&input)).unwrap();
    assert!(results.plan.urgent.is_some());
    // Care guide 2nd edition, section 3: "warning signs never change the matches" is
    // withdrawn. THOUGHTS_OF_HARM holds massage back and puts mental-health follow-up first.
    let without_signs = serde_json::json!({
        "location": {"latitude": 45.5152, "longitude": -122.6784},
        "symptoms": ["LOW_MOOD"]
    });
    let plain = scenario_engine()
        .match_providers(&request(&without_signs))
        .unwrap();
    assert!(
        plain
            .matches
            .iter()
            .any(|found| found.care_type == CareType::PostnatalMassage)
    );
    assert!(
        results
            .matches
            .iter()
            .all(|found| found.care_type != CareType::PostnatalMassage)
    );
    assert_eq!(
        results.matches[0].care_type,
        CareType::PerinatalMentalHealth
    );
}

#[test]
fn breastfeeding_ibclc_in_network_first() {
    let scenario = scenario("breastfeeding_ibclc_in_network_first", "matchProviders", 1);
    let results = scenario_engine()
        .match_providers(&request(&scenario.input))
        .unwrap();
    // first match is 8 (IBCLC, in network) although 9 is nearer
    assert_eq!(
        results.matches[0].provider_id,
        provider(8),
        "{:#?}",
        ranked_ids(&results)
    );
    let nearer = position_of(&results, provider(9)).expect("9 is a match");
    assert!(results.matches[nearer].distance_km < results.matches[0].distance_km);
}

#[test]
fn massage_with_fsa_needs_letter() {
    let scenario = scenario("massage_with_fsa_needs_letter", "matchProviders", 2);
    let results = scenario_engine()
        .match_providers(&request(&scenario.input))
        .unwrap();
    // match 5 has paymentFit FSA_HSA_WITH_LETTER_OF_MEDICAL_NECESSITY and a letter note
    let perinatal = &results.matches[position_of(&results, provider(5)).expect("5 is a match")];
    assert_eq!(
        perinatal.payment_fit,
        PaymentFit::FsaHsaWithLetterOfMedicalNecessity
    );
    assert!(
        perinatal
            .notes
            .iter()
            .any(|note| mentions(note, "letter of medical necessity")),
        "{perinatal:#?}"
    );
    // match 6 (no FSA/HSA) has paymentFit SELF_PAY
    let general = &results.matches[position_of(&results, provider(6)).expect("6 is a match")];
    assert_eq!(general.payment_fit, PaymentFit::SelfPay);
}

#[test]
fn referral_required_is_noted_not_hidden() {
    let scenario = scenario("referral_required_is_noted_not_hidden", "matchProviders", 1);
    let results = scenario_engine()
        .match_providers(&request(&scenario.input))
        .unwrap();
    // 3 is present, paymentFit IN_NETWORK, with a note about a referral
    let found = &results.matches[position_of(&results, provider(3)).expect("3 is a match")];
    assert_eq!(found.payment_fit, PaymentFit::InNetwork);
    assert!(
        found.notes.iter().any(|note| mentions(note, "referral")),
        "{found:#?}"
    );
}

#[test]
fn spanish_speaker_medicaid() {
    let scenario = scenario("spanish_speaker_medicaid", "matchProviders", 1);
    let results = scenario_engine()
        .match_providers(&request(&scenario.input))
        .unwrap();
    // first match is 17
    assert_eq!(
        results.matches[0].provider_id,
        provider(17),
        "{:#?}",
        ranked_ids(&results)
    );
    assert_eq!(results.matches[0].payment_fit, PaymentFit::InNetwork);
}

#[test]
fn nothing_nearby_explains_and_offers_telehealth() {
    let scenario = scenario(
        "nothing_nearby_explains_and_offers_telehealth",
        "matchProviders",
        2,
    );
    let results = scenario_engine()
        .match_providers(&request(&scenario.input))
        .unwrap();
    // the answer says nothing was found within 10 km
    assert_eq!(results.search_area.found_within_radius, 0);
    assert!(results.search_area.widened);
    let note = results
        .search_area
        .radius_note
        .as_deref()
        .expect("a radius note");
    assert!(mentions(note, "nothing was found within 10 km"), "{note}");
    // 18 is offered as a telehealth option (licensed in OR), with distanceKm null
    let telehealth = &results.matches[position_of(&results, provider(18)).expect("18 is offered")];
    assert_eq!(telehealth.distance_km, None);
    assert_eq!(telehealth.mode, CareMode::Telehealth);
    assert!(!telehealth.beyond_radius);
    assert!(
        telehealth
            .reasons
            .iter()
            .any(|reason| reason.contains("licensed in OR")),
        "{telehealth:#?}"
    );
}

#[test]
fn virtual_group_matches_anywhere() {
    let scenario = scenario("virtual_group_matches_anywhere", "matchProviders", 1);
    let results = scenario_engine()
        .match_providers(&request(&scenario.input))
        .unwrap();
    // 13 is present with distanceKm null
    let online = &results.matches[position_of(&results, provider(13)).expect("13 is a match")];
    assert_eq!(online.distance_km, None);
    assert_eq!(online.mode, CareMode::VirtualGroup);
}

#[test]
fn care_team_for_three_needs() {
    let scenario = scenario("care_team_for_three_needs", "careTeam", 3);
    let team = scenario_engine()
        .care_team(&request(&scenario.input))
        .unwrap();
    let member_of = |care_type: CareType| {
        team.members
            .iter()
            .find(|member| member.care_type == care_type)
            .and_then(|member| member.provider_match.as_ref())
    };
    // members cover PELVIC_FLOOR_PHYSICAL_THERAPY, POSTNATAL_MASSAGE and SUPPORT_GROUP
    for care_type in [
        CareType::PelvicFloorPhysicalTherapy,
        CareType::PostnatalMassage,
        CareType::SupportGroup,
    ] {
        assert!(member_of(care_type).is_some(), "{care_type:?}: {team:#?}");
    }
    // the PELVIC_FLOOR_PHYSICAL_THERAPY member is 1
    assert_eq!(
        member_of(CareType::PelvicFloorPhysicalTherapy)
            .unwrap()
            .provider_id,
        provider(1)
    );
    // no provider appears twice
    let mut ids: Vec<_> = team
        .members
        .iter()
        .filter_map(|member| member.provider_match.as_ref())
        .map(|found| found.provider_id)
        .collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count);
    // Members come by care priority.
    let priorities: Vec<u8> = team.members.iter().map(|member| member.priority).collect();
    let mut sorted = priorities.clone();
    sorted.sort();
    assert_eq!(priorities, sorted);
}

#[test]
fn pagination_is_stable() {
    let scenario = scenario("pagination_is_stable", "matchProviders", 2);
    let results = scenario_engine()
        .match_providers(&request(&scenario.input))
        .unwrap();
    // first: 2 then first: 2 after endCursor, repeated, gives the same order as first: 20,
    // with no repeats. A cursor is a position in the kept list; every page is recomputed.
    let first_twenty: Vec<_> = ranked_ids(&results).into_iter().take(20).collect();
    let mut walked = Vec::new();
    let mut after = 0;
    loop {
        let page_results = scenario_engine()
            .match_providers(&request(&scenario.input))
            .unwrap();
        let page: Vec<_> = ranked_ids(&page_results)
            .into_iter()
            .skip(after)
            .take(2)
            .collect();
        if page.is_empty() {
            break;
        }
        after += page.len();
        walked.extend(page);
    }
    assert_eq!(
        walked.iter().take(20).cloned().collect::<Vec<_>>(),
        first_twenty
    );
    let mut unique = walked.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), walked.len(), "no repeats");
    // totalCount equals the number of nodes walked
    assert_eq!(results.matches.len(), walked.len());
    assert!(walked.len() >= 2);
    // Ranks are the 1-based positions.
    for (position, found) in results.matches.iter().enumerate() {
        assert_eq!(found.rank as usize, position + 1);
    }
}

#[test]
fn invalid_latitude_is_bad_user_input() {
    let scenario = scenario("invalid_latitude_is_bad_user_input", "matchProviders", 2);
    let draft: MatchRequestDraft = serde_json::from_value(scenario.input.clone()).unwrap();
    // errors[0].extensions.code == BAD_USER_INPUT and the message names location.latitude;
    // no data.matchProviders: validation fails, so the engine is never asked.
    let error = scenario_engine().validate_request(draft).unwrap_err();
    assert_eq!(error.field, "location.latitude");
    assert!(error.to_string().contains("location.latitude"));
}

#[test]
fn both_coordinates_and_postal_code_is_bad_user_input() {
    let scenario = scenario(
        "both_coordinates_and_postal_code_is_bad_user_input",
        "matchProviders",
        1,
    );
    let draft: MatchRequestDraft = serde_json::from_value(scenario.input.clone()).unwrap();
    // errors[0].extensions.code == BAD_USER_INPUT naming location
    let error = draft.validate(&PostalCodes::embedded()).unwrap_err();
    assert_eq!(error.field, "location");
}

#[test]
fn postal_code_location_works() {
    let scenario = scenario("postal_code_location_works", "matchProviders", 1);
    let results = scenario_engine()
        .match_providers(&request(&scenario.input))
        .unwrap();
    // first match is 1
    assert_eq!(
        results.matches[0].provider_id,
        provider(1),
        "{:#?}",
        ranked_ids(&results)
    );
}

#[test]
fn every_public_scenario_has_a_test() {
    let covered = [
        "leaking_urine_in_network_pelvic_pt_first",
        "cesarean_without_clearance_has_no_massage",
        "cleared_cesarean_prefers_perinatal_massage",
        "explicit_massage_request_without_clearance_carries_note",
        "diastasis_recti_goes_to_pt_not_massage",
        "thoughts_of_harm_is_urgent",
        "breastfeeding_ibclc_in_network_first",
        "massage_with_fsa_needs_letter",
        "referral_required_is_noted_not_hidden",
        "spanish_speaker_medicaid",
        "nothing_nearby_explains_and_offers_telehealth",
        "virtual_group_matches_anywhere",
        "care_team_for_three_needs",
        "pagination_is_stable",
        "invalid_latitude_is_bad_user_input",
        "both_coordinates_and_postal_code_is_bad_user_input",
        "postal_code_location_works",
    ];
    let mut names: Vec<&str> = crate::support::scenarios()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort();
    let mut covered = covered.to_vec();
    covered.extend_from_slice(crate::second_edition::SCENARIOS);
    covered.sort();
    assert_eq!(names, covered);
}
