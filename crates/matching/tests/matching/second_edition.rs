//! The public scenarios of the care guide's second edition (`scenarios.json`, each naming the
//! rule it shows), one test each, every expectation an assertion.

use carematch_domain::CertificationLevel;
use carematch_domain::triage::{CautionKind, UrgencyLevel, triage};
use carematch_domain::{CareMode, CarePlan, CareType, PaymentFit, WarningSign};
use carematch_matching::{MatchResults, ProviderMatch};
use carematch_search::Reach;

use crate::support::{position_of, provider, request, scenario, scenario_engine};

pub const SCENARIOS: &[&str] = &[
    "leg_swelling_holds_massage_back_and_says_why",
    "thoughts_of_harm_adds_mental_health_matches",
    "crisis_words_in_free_text_raise_the_guidance",
    "massage_is_never_offered_by_telehealth",
    "a_group_by_telehealth_is_not_open_everywhere",
    "credentials_count_for_their_own_care_type",
    "a_clinics_pt_contract_and_referral_rule_do_not_cover_its_massage_room",
    "groups_have_no_fsa_fit_and_free_groups_say_so",
    "medicaid_doula_note",
    "asking_for_care_never_lifts_it_above_symptom_care",
    "fatigue_calls_for_obstetric_care",
    "nothing_within_the_radius_is_named_per_care_type",
    "beyond_the_radius_nearer_ranks_higher",
    "speaks_names_only_the_languages_the_provider_speaks",
    "swelling_cautions_to_call_before_booking",
    "unknown_birth_type_under_two_weeks_blocks_massage",
    "return_to_exercise_after_a_c_section_is_paced_by_pt_and_ob",
    "scar_work_waits_for_an_early_c_section_scar",
    "cdc_signs_say_get_medical_care_right_away",
];

fn matches_for(name: &str, expectations: usize) -> MatchResults {
    let scenario = scenario(name, "matchProviders", expectations);
    scenario_engine()
        .match_providers(&request(&scenario.input))
        .unwrap()
}

/// recommendCare's plan for a scenario (its input has no location: one is added).
fn plan_for(name: &str, expectations: usize) -> CarePlan {
    let scenario = scenario(name, "recommendCare", expectations);
    let mut input = scenario.input.clone();
    input["location"] = serde_json::json!({"latitude": 45.5152, "longitude": -122.6784});
    triage(&request(&input).triage_input())
}

fn found(results: &MatchResults, number: u32) -> &ProviderMatch {
    let position = position_of(results, provider(number))
        .unwrap_or_else(|| panic!("{number} is a match: {:#?}", results.matches));
    &results.matches[position]
}

fn noted(found: &ProviderMatch, words: &str) -> bool {
    found.notes.iter().any(|note| note.contains(words))
}

#[test]
fn leg_swelling_holds_massage_back_and_says_why() {
    let results = matches_for("leg_swelling_holds_massage_back_and_says_why", 5);
    let plan = &results.plan;
    let urgent = plan.urgent.as_ref().unwrap();
    assert!(urgent.message.contains("Call your healthcare provider now"));
    assert!(urgent.message.contains("If you can't reach your provider"));
    assert!(
        results
            .matches
            .iter()
            .all(|found| found.care_type != CareType::PostnatalMassage)
    );
    assert!(plan.cautions.iter().any(|caution| {
        caution.care_type == CareType::PostnatalMassage
            && caution.kind == CautionKind::WarningSign
            && caution.reason.contains("blood clot")
    }));
    let pt: Vec<&ProviderMatch> = results
        .matches
        .iter()
        .filter(|found| found.care_type == CareType::PelvicFloorPhysicalTherapy)
        .collect();
    assert!(!pt.is_empty());
    for found in pt {
        assert!(
            noted(found, "until a blood clot has been ruled out"),
            "{found:?}"
        );
    }
    assert_eq!(
        plan.recommendation(CareType::ObstetricCare)
            .unwrap()
            .priority,
        1
    );
    assert_eq!(found(&results, 24).care_type, CareType::ObstetricCare);
}

#[test]
fn thoughts_of_harm_adds_mental_health_matches() {
    let scenario = scenario("thoughts_of_harm_adds_mental_health_matches", "careTeam", 3);
    let team = scenario_engine()
        .care_team(&request(&scenario.input))
        .unwrap();
    let first = &team.members[0];
    assert_eq!(first.care_type, CareType::PerinatalMentalHealth);
    let member = first
        .provider_match
        .as_ref()
        .expect("a mental-health provider");
    assert!([provider(10), provider(11)].contains(&member.provider_id));
    assert!(
        team.members
            .iter()
            .all(|member| member.care_type != CareType::PostnatalMassage)
    );
    assert!(team.plan.urgent.as_ref().unwrap().message.contains("988"));
}

#[test]
fn crisis_words_in_free_text_raise_the_guidance() {
    let plan = plan_for("crisis_words_in_free_text_raise_the_guidance", 3);
    let urgent = plan.urgent.as_ref().unwrap();
    assert_eq!(urgent.warning_signs, vec![WarningSign::ThoughtsOfHarm]);
    assert_eq!(urgent.level, UrgencyLevel::Emergency);
    assert_eq!(
        plan.recommendations[0].care_type,
        CareType::PerinatalMentalHealth
    );
}

#[test]
fn massage_is_never_offered_by_telehealth() {
    let results = matches_for("massage_is_never_offered_by_telehealth", 2);
    assert_eq!(position_of(&results, provider(21)), None);
    assert!(results.matches.is_empty(), "{:#?}", results.matches);
    assert!(results.explanation.is_some());
}

#[test]
fn a_group_by_telehealth_is_not_open_everywhere() {
    let results = matches_for("a_group_by_telehealth_is_not_open_everywhere", 2);
    assert_eq!(position_of(&results, provider(22)), None);
    assert_eq!(found(&results, 13).mode, CareMode::VirtualGroup);
}

#[test]
fn credentials_count_for_their_own_care_type() {
    let results = matches_for("credentials_count_for_their_own_care_type", 3);
    let collective = position_of(&results, provider(20)).unwrap();
    assert!(position_of(&results, provider(6)).unwrap() < collective);
    assert_eq!(
        found(&results, 20).facts.certification,
        CertificationLevel::None
    );
    let clinic = found(&results, 19);
    assert_eq!(clinic.care_type, CareType::PostnatalMassage);
    assert_eq!(
        clinic.facts.certification,
        CertificationLevel::GeneralVerified
    );
}

#[test]
fn a_clinics_pt_contract_and_referral_rule_do_not_cover_its_massage_room() {
    let results = matches_for(
        "a_clinics_pt_contract_and_referral_rule_do_not_cover_its_massage_room",
        3,
    );
    let clinic = found(&results, 19);
    assert_eq!(clinic.care_type, CareType::PostnatalMassage);
    assert_ne!(clinic.payment_fit, PaymentFit::InNetwork);
    assert!(!noted(clinic, "referral"), "{:?}", clinic.notes);
    assert_eq!(clinic.mode, CareMode::InPerson);
}

#[test]
fn groups_have_no_fsa_fit_and_free_groups_say_so() {
    let results = matches_for("groups_have_no_fsa_fit_and_free_groups_say_so", 2);
    let paid = found(&results, 23);
    assert_eq!(paid.payment_fit, PaymentFit::SelfPay);
    assert!(
        paid.reasons
            .iter()
            .any(|reason| reason == "Self-pay: $25 a visit.")
    );
    assert!(noted(found(&results, 12), "free"));
}

#[test]
fn medicaid_doula_note() {
    let results = matches_for("medicaid_doula_note", 3);
    assert!(!results.matches.is_empty());
    for found in &results.matches {
        assert!(
            noted(found, "Medicaid programs cover doula care"),
            "{found:?}"
        );
    }
    assert_eq!(found(&results, 20).payment_fit, PaymentFit::InNetwork);
    let doulas = found(&results, 14);
    assert_eq!(
        doulas.payment_fit,
        PaymentFit::FsaHsaWithLetterOfMedicalNecessity
    );
    assert!(noted(doulas, "as treatment of a diagnosed condition"));
}

#[test]
fn asking_for_care_never_lifts_it_above_symptom_care() {
    let plan = plan_for("asking_for_care_never_lifts_it_above_symptom_care", 1);
    let recommended: Vec<(CareType, u8)> = plan
        .recommendations
        .iter()
        .map(|recommendation| (recommendation.care_type, recommendation.priority))
        .collect();
    assert_eq!(
        recommended,
        [
            (CareType::PelvicFloorPhysicalTherapy, 1),
            (CareType::PostnatalMassage, 2),
            (CareType::Doula, 3)
        ]
    );
}

#[test]
fn fatigue_calls_for_obstetric_care() {
    let results = matches_for("fatigue_calls_for_obstetric_care", 3);
    let recommended: Vec<(CareType, u8)> = results
        .plan
        .recommendations
        .iter()
        .map(|recommendation| (recommendation.care_type, recommendation.priority))
        .collect();
    assert_eq!(
        recommended,
        [(CareType::ObstetricCare, 1), (CareType::Doula, 2)]
    );
    assert_eq!(results.matches[0].provider_id, provider(24));
    assert!(!noted(&results.matches[0], "referral"));
}

#[test]
fn nothing_within_the_radius_is_named_per_care_type() {
    let results = matches_for("nothing_within_the_radius_is_named_per_care_type", 3);
    let area = &results.search_area;
    assert_eq!(
        area.care_types_without_nearby,
        vec![CareType::LactationConsulting]
    );
    let note = area.radius_note.as_deref().unwrap();
    assert!(note.contains("lactation consulting"), "{note}");
    assert!(results.matches.iter().any(|found| {
        found.care_type == CareType::LactationConsulting
            && found.reach == Reach::BeyondRadius
            && noted(found, "Beyond the")
    }));
}

#[test]
fn beyond_the_radius_nearer_ranks_higher() {
    let results = matches_for("beyond_the_radius_nearer_ranks_higher", 2);
    let nearer = position_of(&results, provider(26)).unwrap();
    let farther = position_of(&results, provider(25)).unwrap();
    assert!(nearer < farther, "{:#?}", results.matches);
    assert!(results.matches[nearer].beyond_radius && results.matches[farther].beyond_radius);
}

#[test]
fn speaks_names_only_the_languages_the_provider_speaks() {
    let results = matches_for("speaks_names_only_the_languages_the_provider_speaks", 2);
    assert!(
        found(&results, 1)
            .reasons
            .contains(&"Speaks English.".to_owned())
    );
    assert!(
        found(&results, 17)
            .reasons
            .contains(&"Speaks English and Spanish.".to_owned())
    );
}

#[test]
fn swelling_cautions_to_call_before_booking() {
    let results = matches_for("swelling_cautions_to_call_before_booking", 1);
    let massage: Vec<&ProviderMatch> = results
        .matches
        .iter()
        .filter(|found| found.care_type == CareType::PostnatalMassage)
        .collect();
    assert!(!massage.is_empty());
    for found in massage {
        assert!(noted(found, "in one leg") && noted(found, "face or hands"));
    }
}

#[test]
fn unknown_birth_type_under_two_weeks_blocks_massage() {
    let plan = plan_for("unknown_birth_type_under_two_weeks_blocks_massage", 1);
    assert!(plan.recommendation(CareType::PostnatalMassage).is_none());
    assert!(
        plan.cautions_for(CareType::PostnatalMassage)
            .any(|caution| {
                caution.kind == CautionKind::Safety
                    && caution.reason.contains("two weeks")
                    && caution.reason.contains("C-section")
            })
    );
}

#[test]
fn return_to_exercise_after_a_c_section_is_paced_by_pt_and_ob() {
    let results = matches_for(
        "return_to_exercise_after_a_c_section_is_paced_by_pt_and_ob",
        1,
    );
    assert!(!results.matches.is_empty());
    for found in &results.matches {
        assert_eq!(found.care_type, CareType::PelvicFloorPhysicalTherapy);
        assert!(noted(found, "your PT and OB/GYN set the pace"));
    }
}

#[test]
fn scar_work_waits_for_an_early_c_section_scar() {
    let plan = plan_for("scar_work_waits_for_an_early_c_section_scar", 1);
    assert!(
        plan.recommendation(CareType::PelvicFloorPhysicalTherapy)
            .is_some()
    );
    assert!(
        plan.cautions_for(CareType::PelvicFloorPhysicalTherapy)
            .any(|caution| caution.reason.contains("usually 6 to 8 weeks"))
    );
}

#[test]
fn cdc_signs_say_get_medical_care_right_away() {
    let plan = plan_for("cdc_signs_say_get_medical_care_right_away", 2);
    let urgent = plan.urgent.as_ref().unwrap();
    assert_eq!(urgent.level, UrgencyLevel::MedicalCareNow);
    assert!(urgent.message.starts_with("Get medical care right away"));
    assert!(plan.held_back(CareType::PostnatalMassage));
    assert!(plan.recommendation(CareType::ObstetricCare).is_some());
}
