//! One test per row of care-guide.md sections 1-3, plus the combination rules.

use super::*;
use CareType::{Doula, ObstetricCare};

fn with_symptoms(symptoms: &[Symptom]) -> TriageInput {
    TriageInput {
        symptoms: symptoms.to_vec(),
        ..TriageInput::default()
    }
}

fn recommended(plan: &CarePlan) -> Vec<(CareType, u8)> {
    plan.recommendations
        .iter()
        .map(|r| (r.care_type, r.priority))
        .collect()
}

/// Section 1, as a table a reviewer can hold next to the guide.
#[test]
fn each_symptom_row_recommends_its_care_types_with_their_priorities() {
    let table: &[(Symptom, &[(CareType, u8)])] = &[
        (Symptom::UrineLeakage, &[(PelvicFloorPhysicalTherapy, 1)]),
        (Symptom::PelvicPain, &[(PelvicFloorPhysicalTherapy, 1)]),
        (Symptom::PelvicHeaviness, &[(PelvicFloorPhysicalTherapy, 1)]),
        (Symptom::DiastasisRecti, &[(PelvicFloorPhysicalTherapy, 1)]),
        (Symptom::CoreWeakness, &[(PelvicFloorPhysicalTherapy, 1)]),
        (Symptom::ScarPain, &[(PelvicFloorPhysicalTherapy, 1)]),
        (
            Symptom::BackPain,
            &[(PelvicFloorPhysicalTherapy, 1), (PostnatalMassage, 2)],
        ),
        (
            Symptom::HipPain,
            &[(PelvicFloorPhysicalTherapy, 1), (PostnatalMassage, 2)],
        ),
        (
            Symptom::TroubleWithDailyActivities,
            &[(PelvicFloorPhysicalTherapy, 1)],
        ),
        (
            Symptom::ReturnToExercise,
            &[(PelvicFloorPhysicalTherapy, 1)],
        ),
        (Symptom::NeckShoulderTension, &[(PostnatalMassage, 1)]),
        (Symptom::Swelling, &[(PostnatalMassage, 1)]),
        (Symptom::PoorSleep, &[(PostnatalMassage, 2)]),
        (Symptom::Stress, &[(PostnatalMassage, 1), (SupportGroup, 2)]),
        (
            Symptom::Anxiety,
            &[
                (PerinatalMentalHealth, 1),
                (PostnatalMassage, 2),
                (SupportGroup, 2),
            ],
        ),
        (
            Symptom::LowMood,
            &[
                (PerinatalMentalHealth, 1),
                (SupportGroup, 2),
                (PostnatalMassage, 3),
            ],
        ),
        (
            Symptom::BreastfeedingDifficulty,
            &[(LactationConsulting, 1)],
        ),
        (Symptom::Isolation, &[(SupportGroup, 1)]),
    ];
    assert_eq!(table.len(), Symptom::ALL.len(), "every symptom has a row");
    for (symptom, expected) in table {
        let plan = triage(&with_symptoms(&[*symptom]));
        let mut expected = expected.to_vec();
        expected.sort_by_key(|&(care_type, priority)| (priority, care_type));
        assert_eq!(recommended(&plan), expected, "{symptom}");
        assert!(
            plan.recommendations.iter().all(|r| !r.reasons.is_empty()),
            "{symptom} has reasons"
        );
        assert!(plan.urgent.is_none());
        assert!(plan.notice.is_none());
    }
}

#[test]
fn several_symptoms_take_the_best_priority_and_all_their_reasons() {
    // STRESS gives massage 1 and support group 2; ISOLATION gives support group 1.
    let plan = triage(&with_symptoms(&[
        Symptom::Stress,
        Symptom::Isolation,
        Symptom::LowMood,
    ]));
    let support = plan.recommendation(SupportGroup).unwrap();
    assert_eq!(support.priority, 1);
    assert_eq!(support.reasons.len(), 3);
    assert_eq!(
        support.because_of,
        vec![Symptom::Stress, Symptom::Isolation, Symptom::LowMood]
    );
    assert_eq!(plan.recommendation(PostnatalMassage).unwrap().priority, 1);
    assert_eq!(plan.recommendations[0].priority, 1);
    let priorities: Vec<u8> = plan.recommendations.iter().map(|r| r.priority).collect();
    assert!(
        priorities.windows(2).all(|pair| pair[0] <= pair[1]),
        "sorted best first: {priorities:?}"
    );
}

#[test]
fn care_types_asked_for_are_kept_without_a_symptom() {
    let input = TriageInput {
        care_types: vec![Doula, ObstetricCare],
        ..TriageInput::default()
    };
    let plan = triage(&input);
    assert_eq!(recommended(&plan), vec![(Doula, 1), (ObstetricCare, 1)]);
    assert!(plan.recommendations.iter().all(|r| r.asked_for));
    assert_eq!(plan.search_care_types, vec![(Doula, 1), (ObstetricCare, 1)]);
}

#[test]
fn asking_for_care_types_narrows_the_search_but_keeps_symptom_recommendations() {
    let input = TriageInput {
        symptoms: vec![Symptom::UrineLeakage],
        care_types: vec![PostnatalMassage],
        ..TriageInput::default()
    };
    let plan = triage(&input);
    assert!(plan.recommendation(PelvicFloorPhysicalTherapy).is_some());
    assert_eq!(plan.search_care_types, vec![(PostnatalMassage, 1)]);
}

#[test]
fn no_symptoms_and_no_care_types_recommend_nothing_and_say_so() {
    let plan = triage(&TriageInput::default());
    assert!(plan.recommendations.is_empty());
    assert!(plan.search_care_types.is_empty());
    assert_eq!(plan.notice.as_deref(), Some(NOTHING_TO_RECOMMEND));
}

// Section 2, one test per row.

#[test]
fn a_cesarean_without_clearance_moves_massage_to_cautions() {
    let input = TriageInput {
        symptoms: vec![Symptom::Stress, Symptom::NeckShoulderTension],
        birth_type: Some(BirthType::Cesarean),
        weeks_postpartum: Some(WeeksPostpartum::new(3).unwrap()),
        ..TriageInput::default()
    };
    let plan = triage(&input);
    assert!(plan.recommendation(PostnatalMassage).is_none());
    let caution = plan.cautions_for(PostnatalMassage).next().unwrap();
    assert_eq!(caution.kind, CautionKind::Safety);
    assert!(caution.reason.contains("clearance"));
    assert!(plan.recommendation(SupportGroup).is_some());
    assert!(
        plan.search_care_types
            .iter()
            .all(|(care_type, _)| *care_type != PostnatalMassage)
    );
}

#[test]
fn a_cleared_cesarean_keeps_massage_without_caution() {
    let input = TriageInput {
        symptoms: vec![Symptom::NeckShoulderTension],
        birth_type: Some(BirthType::Cesarean),
        cleared_for_massage: true,
        ..TriageInput::default()
    };
    let plan = triage(&input);
    assert!(plan.recommendation(PostnatalMassage).is_some());
    assert_eq!(plan.cautions_for(PostnatalMassage).count(), 0);
}

#[test]
fn massage_asked_for_after_an_uncleared_cesarean_is_still_searched_with_the_caution() {
    let input = TriageInput {
        care_types: vec![PostnatalMassage],
        birth_type: Some(BirthType::Cesarean),
        weeks_postpartum: Some(WeeksPostpartum::new(4).unwrap()),
        ..TriageInput::default()
    };
    let plan = triage(&input);
    assert!(plan.recommendation(PostnatalMassage).is_none());
    assert_eq!(plan.search_care_types, vec![(PostnatalMassage, 1)]);
    assert!(
        plan.cautions_for(PostnatalMassage)
            .any(|c| c.reason.contains("clearance"))
    );
}

#[test]
fn massage_under_two_weeks_after_a_vaginal_birth_is_cautioned() {
    let early = TriageInput {
        symptoms: vec![Symptom::Swelling],
        birth_type: Some(BirthType::Vaginal),
        weeks_postpartum: Some(WeeksPostpartum::new(1).unwrap()),
        ..TriageInput::default()
    };
    let plan = triage(&early);
    assert!(plan.recommendation(PostnatalMassage).is_none());
    assert!(
        plan.cautions_for(PostnatalMassage)
            .any(|c| c.reason.contains("two weeks"))
    );

    let two_weeks = TriageInput {
        weeks_postpartum: Some(WeeksPostpartum::new(2).unwrap()),
        ..early.clone()
    };
    assert!(
        triage(&two_weeks)
            .recommendation(PostnatalMassage)
            .is_some()
    );
    let unknown_weeks = TriageInput {
        weeks_postpartum: None,
        ..early
    };
    assert!(
        triage(&unknown_weeks)
            .recommendation(PostnatalMassage)
            .is_some()
    );
}

#[test]
fn diastasis_recti_goes_to_pt_and_cautions_that_massage_will_not_heal_it() {
    let input = TriageInput {
        symptoms: vec![Symptom::DiastasisRecti],
        birth_type: Some(BirthType::Vaginal),
        weeks_postpartum: Some(WeeksPostpartum::new(12).unwrap()),
        ..TriageInput::default()
    };
    let plan = triage(&input);
    assert_eq!(
        plan.recommendations[0].care_type,
        PelvicFloorPhysicalTherapy
    );
    assert!(plan.recommendation(PostnatalMassage).is_none());
    let caution = plan.cautions_for(PostnatalMassage).next().unwrap();
    assert_eq!(caution.kind, CautionKind::Usefulness);
    assert!(caution.reason.contains("will not heal"));
    assert!(plan.urgent.is_none());
}

#[test]
fn diastasis_recti_with_back_pain_keeps_massage_recommended_with_the_caution() {
    let plan = triage(&with_symptoms(&[
        Symptom::DiastasisRecti,
        Symptom::BackPain,
    ]));
    assert!(plan.recommendation(PostnatalMassage).is_some());
    assert!(
        plan.cautions_for(PostnatalMassage)
            .any(|c| c.kind == CautionKind::Usefulness)
    );
}

#[test]
fn anxiety_or_low_mood_keep_massage_with_a_does_not_replace_therapy_caution() {
    for symptom in [Symptom::Anxiety, Symptom::LowMood] {
        let plan = triage(&with_symptoms(&[symptom]));
        assert_eq!(plan.recommendations[0].care_type, PerinatalMentalHealth);
        assert!(plan.recommendation(PostnatalMassage).is_some());
        let caution = plan.cautions_for(PostnatalMassage).next().unwrap();
        assert!(
            caution.reason.contains("does not replace therapy"),
            "{symptom}"
        );
    }
}

#[test]
fn a_safety_caution_is_not_shown_when_massage_is_not_in_question() {
    let input = TriageInput {
        symptoms: vec![Symptom::UrineLeakage],
        birth_type: Some(BirthType::Cesarean),
        ..TriageInput::default()
    };
    assert!(triage(&input).cautions.is_empty());
}

// Section 3.

#[test]
fn each_emergency_sign_says_call_911() {
    for sign in [
        WarningSign::ChestPain,
        WarningSign::TroubleBreathing,
        WarningSign::Seizure,
        WarningSign::ThoughtsOfHarm,
    ] {
        let input = TriageInput {
            warning_signs: vec![sign],
            ..TriageInput::default()
        };
        let urgent = triage(&input).urgent.unwrap();
        assert_eq!(urgent.level, UrgencyLevel::Emergency, "{sign}");
        assert!(urgent.message.starts_with("Call 911"), "{sign}");
        assert_eq!(urgent.warning_signs, vec![sign]);
    }
}

#[test]
fn each_call_your_provider_sign_says_call_your_provider() {
    for sign in [
        WarningSign::HeavyBleeding,
        WarningSign::Fever,
        WarningSign::IncisionNotHealing,
        WarningSign::LegPainOrSwelling,
        WarningSign::SevereHeadache,
    ] {
        let input = TriageInput {
            warning_signs: vec![sign],
            ..TriageInput::default()
        };
        let urgent = triage(&input).urgent.unwrap();
        assert_eq!(urgent.level, UrgencyLevel::CallProvider, "{sign}");
        assert!(
            urgent
                .message
                .starts_with("Call your healthcare provider now"),
            "{sign}"
        );
        assert!(!urgent.message.contains("988"));
    }
}

#[test]
fn every_warning_sign_has_a_level() {
    for sign in WarningSign::ALL {
        assert!(
            WARNING_SIGN_RULES
                .iter()
                .any(|(rule_sign, _)| rule_sign == sign),
            "{sign}"
        );
    }
}

#[test]
fn thoughts_of_harm_gives_the_crisis_lines_and_mental_health_first() {
    let input = TriageInput {
        symptoms: vec![Symptom::LowMood],
        warning_signs: vec![WarningSign::ThoughtsOfHarm],
        ..TriageInput::default()
    };
    let plan = triage(&input);
    let urgent = plan.urgent.unwrap();
    assert_eq!(urgent.warning_signs, vec![WarningSign::ThoughtsOfHarm]);
    assert!(urgent.message.contains("988"));
    assert!(urgent.message.contains("1-833-852-6262"));
    assert_eq!(plan.recommendations[0].care_type, PerinatalMentalHealth);
}

#[test]
fn mixed_warning_signs_put_the_emergency_first_and_never_change_recommendations() {
    let without = triage(&with_symptoms(&[Symptom::BackPain]));
    let input = TriageInput {
        symptoms: vec![Symptom::BackPain],
        warning_signs: vec![
            WarningSign::Fever,
            WarningSign::ChestPain,
            WarningSign::Fever,
        ],
        ..TriageInput::default()
    };
    let plan = triage(&input);
    let urgent = plan.urgent.as_ref().unwrap();
    assert_eq!(urgent.level, UrgencyLevel::Emergency);
    assert!(urgent.message.starts_with("Call 911"));
    assert!(urgent.message.contains("Call your healthcare provider now"));
    assert_eq!(
        urgent.warning_signs,
        vec![WarningSign::Fever, WarningSign::ChestPain]
    );
    assert_eq!(plan.recommendations, without.recommendations);
}
