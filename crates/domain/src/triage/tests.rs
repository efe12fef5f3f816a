//! One test per row of care-guide.md sections 1-3, plus the combination rules.

use super::*;
use CareType::{
    Doula, LactationConsulting, ObstetricCare, PelvicFloorPhysicalTherapy, PerinatalMentalHealth,
    PostnatalMassage, SupportGroup,
};

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
        // 2nd edition: FATIGUE.
        (Symptom::Fatigue, &[(ObstetricCare, 1), (Doula, 2)]),
    ];
    assert_eq!(table.len(), Symptom::ALL.len(), "every symptom has a row");
    for (symptom, expected) in table {
        // Birth and weeks given, so the 2nd edition's "birth type not given" caution on
        // massage stays out of this table.
        let plan = triage(&TriageInput {
            birth_type: Some(BirthType::Vaginal),
            weeks_postpartum: Some(WeeksPostpartum::new(8).unwrap()),
            ..with_symptoms(&[*symptom])
        });
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
    // 2nd edition: asked-for care no symptom leads to comes after her symptoms' care (3).
    assert_eq!(plan.search_care_types, vec![(PostnatalMassage, 3)]);
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
        let plan = triage(&TriageInput {
            birth_type: Some(BirthType::Vaginal),
            ..with_symptoms(&[symptom])
        });
        assert_eq!(plan.recommendations[0].care_type, PerinatalMentalHealth);
        assert!(plan.recommendation(PostnatalMassage).is_some());
        assert!(
            plan.cautions_for(PostnatalMassage)
                .any(|caution| caution.reason.contains("does not replace therapy")),
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
fn mixed_warning_signs_put_the_emergency_first_and_keep_every_other_recommendation() {
    // 2nd edition: "warning signs never change the matches" is withdrawn. Warning signs hold
    // massage back and add care; every other recommendation stays, after the urgent guidance.
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
    for recommendation in &without.recommendations {
        if recommendation.care_type != PostnatalMassage {
            assert!(plan.recommendation(recommendation.care_type).is_some());
        }
    }
    assert!(plan.recommendation(PostnatalMassage).is_none());
}

// Second edition: one test per rule marked (2nd).

fn weeks(weeks: i64) -> Option<WeeksPostpartum> {
    Some(WeeksPostpartum::new(weeks).unwrap())
}

#[test]
fn asking_for_a_care_type_never_lifts_it_above_what_her_symptoms_call_for() {
    // BACK_PAIN gives massage priority 2: asking for it keeps 2.
    let plan = triage(&TriageInput {
        symptoms: vec![Symptom::BackPain],
        care_types: vec![PostnatalMassage, PelvicFloorPhysicalTherapy],
        birth_type: Some(BirthType::Vaginal),
        weeks_postpartum: weeks(8),
        ..TriageInput::default()
    });
    assert_eq!(plan.recommendation(PostnatalMassage).unwrap().priority, 2);
    assert_eq!(
        plan.recommendations[0].care_type,
        PelvicFloorPhysicalTherapy
    );
    // Asked for with no symptom behind it: after the care her symptoms call for (3).
    let plan = triage(&TriageInput {
        symptoms: vec![Symptom::UrineLeakage],
        care_types: vec![Doula],
        ..TriageInput::default()
    });
    assert_eq!(
        recommended(&plan),
        vec![(PelvicFloorPhysicalTherapy, 1), (Doula, 3)]
    );
    // No symptoms at all: what she asked for leads, in her order.
    let plan = triage(&TriageInput {
        care_types: vec![ObstetricCare, Doula, LactationConsulting],
        ..TriageInput::default()
    });
    assert_eq!(
        recommended(&plan),
        vec![(ObstetricCare, 1), (Doula, 1), (LactationConsulting, 1)]
    );
    assert_eq!(
        plan.search_care_types,
        vec![(ObstetricCare, 1), (Doula, 1), (LactationConsulting, 1)]
    );
}

#[test]
fn among_equal_priorities_symptom_care_comes_before_asked_for_care_in_her_order() {
    let plan = triage(&TriageInput {
        symptoms: vec![Symptom::Isolation, Symptom::UrineLeakage],
        care_types: vec![SupportGroup, LactationConsulting, Doula],
        ..TriageInput::default()
    });
    assert_eq!(
        recommended(&plan),
        vec![
            (PelvicFloorPhysicalTherapy, 1),
            (SupportGroup, 1),
            (LactationConsulting, 3),
            (Doula, 3)
        ]
    );
}

#[test]
fn each_reason_speaks_of_its_own_care_type() {
    let massage_words = ["massage", "Massage"];
    for rule in SYMPTOM_RULES {
        for (care_type, _, reason) in rule.care {
            if *care_type != PostnatalMassage {
                assert!(
                    !massage_words.iter().any(|word| reason.contains(word)),
                    "{}: {reason}",
                    rule.symptom
                );
            }
            if *care_type != PelvicFloorPhysicalTherapy {
                assert!(!reason.contains("hysical therapy"), "{reason}");
            }
        }
    }
    // With massage held back, no reason in the plan speaks of massage.
    let plan = triage(&TriageInput {
        symptoms: vec![Symptom::BackPain, Symptom::HipPain, Symptom::Stress],
        warning_signs: vec![WarningSign::LegPainOrSwelling],
        ..TriageInput::default()
    });
    for recommendation in &plan.recommendations {
        for reason in &recommendation.reasons {
            assert!(!reason.to_lowercase().contains("massage"), "{reason}");
        }
    }
}

#[test]
fn fatigue_calls_for_obstetric_care_then_a_doula() {
    let plan = triage(&with_symptoms(&[Symptom::Fatigue]));
    assert_eq!(recommended(&plan), vec![(ObstetricCare, 1), (Doula, 2)]);
    assert!(plan.recommendations[0].reasons[0].contains("OB/GYN or midwife"));
}

#[test]
fn a_warning_sign_alone_is_not_nothing_given() {
    let plan = triage(&TriageInput {
        warning_signs: vec![WarningSign::Fever],
        ..TriageInput::default()
    });
    assert!(plan.notice.is_none());
    assert!(plan.urgent.is_some());
    assert_eq!(recommended(&plan), vec![(ObstetricCare, 1)]);
}

#[test]
fn thoughts_of_harm_adds_perinatal_mental_health_at_priority_one_with_matches() {
    let plan = triage(&TriageInput {
        warning_signs: vec![WarningSign::ThoughtsOfHarm],
        care_types: vec![PostnatalMassage, SupportGroup],
        ..TriageInput::default()
    });
    assert_eq!(plan.recommendations[0].care_type, PerinatalMentalHealth);
    assert_eq!(plan.recommendations[0].priority, 1);
    assert!(plan.recommendations[0].for_warning_sign);
    // Always searched, even when she narrowed the search to other care types; never massage.
    assert!(plan.search_care_types.contains(&(PerinatalMentalHealth, 1)));
    assert!(
        plan.search_care_types
            .iter()
            .all(|(care, _)| *care != PostnatalMassage)
    );
    assert!(
        plan.search_care_types
            .iter()
            .any(|(care, _)| *care == SupportGroup)
    );
}

#[test]
fn a_call_your_provider_sign_adds_obstetric_care_and_is_searched_when_narrowed() {
    let plan = triage(&TriageInput {
        warning_signs: vec![WarningSign::HeavyBleeding],
        symptoms: vec![Symptom::UrineLeakage],
        care_types: vec![PelvicFloorPhysicalTherapy],
        ..TriageInput::default()
    });
    assert!(
        plan.recommendation(ObstetricCare)
            .is_some_and(|r| r.priority == 1)
    );
    assert!(plan.search_care_types.contains(&(ObstetricCare, 1)));
    assert!(
        plan.search_care_types
            .contains(&(PelvicFloorPhysicalTherapy, 1))
    );
}

#[test]
fn every_warning_sign_holds_massage_back_even_when_asked_for_and_says_why() {
    for sign in WarningSign::ALL {
        let plan = triage(&TriageInput {
            warning_signs: vec![*sign],
            symptoms: vec![Symptom::NeckShoulderTension],
            care_types: vec![PostnatalMassage],
            birth_type: Some(BirthType::Vaginal),
            weeks_postpartum: weeks(10),
            cleared_for_massage: true,
            ..TriageInput::default()
        });
        assert!(plan.recommendation(PostnatalMassage).is_none(), "{sign}");
        assert!(plan.held_back(PostnatalMassage), "{sign}");
        assert!(
            plan.search_care_types
                .iter()
                .all(|(care, _)| *care != PostnatalMassage),
            "{sign}"
        );
        let caution = plan
            .cautions_for(PostnatalMassage)
            .find(|caution| caution.kind == CautionKind::WarningSign)
            .unwrap();
        if *sign == WarningSign::LegPainOrSwelling {
            assert!(caution.reason.contains("blood clot"), "{}", caution.reason);
        } else {
            assert!(caution.reason.contains("seen you about the warning sign"));
        }
    }
}

#[test]
fn warning_signs_limit_physical_therapy_until_seen_and_until_a_clot_is_ruled_out() {
    for sign in WarningSign::ALL {
        let plan = triage(&TriageInput {
            warning_signs: vec![*sign],
            symptoms: vec![Symptom::UrineLeakage],
            ..TriageInput::default()
        });
        assert!(
            plan.recommendation(PelvicFloorPhysicalTherapy).is_some(),
            "{sign}"
        );
        let caution = plan
            .cautions_for(PelvicFloorPhysicalTherapy)
            .next()
            .unwrap();
        assert_eq!(caution.kind, CautionKind::Usefulness);
        let clot = matches!(
            sign,
            WarningSign::LegPainOrSwelling | WarningSign::TroubleBreathing | WarningSign::ChestPain
        );
        assert_eq!(
            caution.reason.contains("blood clot has been ruled out"),
            clot,
            "{sign}"
        );
    }
}

#[test]
fn swelling_cautions_to_call_before_booking_massage() {
    let plan = triage(&TriageInput {
        symptoms: vec![Symptom::Swelling],
        birth_type: Some(BirthType::Vaginal),
        weeks_postpartum: weeks(6),
        ..TriageInput::default()
    });
    assert!(plan.recommendation(PostnatalMassage).is_some());
    assert!(
        plan.cautions_for(PostnatalMassage)
            .any(|c| c.kind == CautionKind::Usefulness
                && c.reason.contains("in one leg")
                && c.reason.contains("preeclampsia"))
    );
}

#[test]
fn birth_type_not_given_under_two_weeks_blocks_massage_as_after_a_vaginal_birth() {
    let input = TriageInput {
        symptoms: vec![Symptom::NeckShoulderTension],
        weeks_postpartum: weeks(1),
        ..TriageInput::default()
    };
    let plan = triage(&input);
    assert!(plan.recommendation(PostnatalMassage).is_none());
    let caution = plan.cautions_for(PostnatalMassage).next().unwrap();
    assert_eq!(caution.kind, CautionKind::Safety);
    assert!(caution.reason.contains("about two weeks after birth"));
    let cleared = triage(&TriageInput {
        cleared_for_massage: true,
        ..input
    });
    assert!(cleared.recommendation(PostnatalMassage).is_some());
    assert_eq!(cleared.cautions_for(PostnatalMassage).count(), 0);
}

#[test]
fn birth_type_not_given_after_two_weeks_only_limits_massage_with_the_c_section_clearance() {
    let plan = triage(&TriageInput {
        symptoms: vec![Symptom::NeckShoulderTension],
        weeks_postpartum: weeks(3),
        ..TriageInput::default()
    });
    assert!(plan.recommendation(PostnatalMassage).is_some());
    let caution = plan.cautions_for(PostnatalMassage).next().unwrap();
    assert_eq!(caution.kind, CautionKind::Usefulness);
    assert_eq!(
        caution.reason,
        "If you had a C-section, get your provider's clearance first."
    );
}

#[test]
fn birth_type_and_weeks_not_given_only_limit_massage() {
    let plan = triage(&with_symptoms(&[Symptom::NeckShoulderTension]));
    assert!(plan.recommendation(PostnatalMassage).is_some());
    let caution = plan.cautions_for(PostnatalMassage).next().unwrap();
    assert_eq!(caution.kind, CautionKind::Usefulness);
    assert!(caution.reason.contains("about two weeks after birth"));
    assert!(caution.reason.contains("until your provider clears you"));
}

#[test]
fn return_to_exercise_after_a_c_section_or_an_unknown_birth_is_paced_by_pt_and_ob() {
    for (birth_type, cautioned) in [
        (Some(BirthType::Cesarean), true),
        (None, true),
        (Some(BirthType::Vaginal), false),
    ] {
        let plan = triage(&TriageInput {
            symptoms: vec![Symptom::ReturnToExercise],
            birth_type,
            weeks_postpartum: weeks(20),
            ..TriageInput::default()
        });
        assert!(plan.recommendation(PelvicFloorPhysicalTherapy).is_some());
        let said = plan
            .cautions_for(PelvicFloorPhysicalTherapy)
            .any(|c| c.kind == CautionKind::Usefulness && c.reason.contains("set the pace"));
        assert_eq!(said, cautioned, "{birth_type:?}");
    }
}

#[test]
fn scar_work_waits_for_an_unhealed_incision_or_an_early_c_section_scar() {
    let plan = triage(&TriageInput {
        symptoms: vec![Symptom::ScarPain],
        warning_signs: vec![WarningSign::IncisionNotHealing],
        ..TriageInput::default()
    });
    assert!(
        plan.cautions_for(PelvicFloorPhysicalTherapy)
            .any(|c| c.reason == "Scar work waits until your provider has checked the incision.")
    );
    let early = TriageInput {
        symptoms: vec![Symptom::ScarPain],
        birth_type: Some(BirthType::Cesarean),
        weeks_postpartum: weeks(4),
        ..TriageInput::default()
    };
    assert!(
        triage(&early)
            .cautions_for(PelvicFloorPhysicalTherapy)
            .any(|c| c.reason.contains("usually 6 to 8 weeks"))
    );
    let healed = TriageInput {
        weeks_postpartum: weeks(9),
        ..early
    };
    assert_eq!(
        triage(&healed)
            .cautions_for(PelvicFloorPhysicalTherapy)
            .count(),
        0
    );
}

#[test]
fn call_your_provider_messages_say_what_to_do_if_she_cannot_reach_them() {
    let plan = triage(&TriageInput {
        warning_signs: vec![WarningSign::SevereHeadache],
        ..TriageInput::default()
    });
    let message = plan.urgent.unwrap().message;
    assert!(
        message.contains(IF_YOU_CANNOT_REACH_YOUR_PROVIDER),
        "{message}"
    );
    assert!(message.contains("say that you gave birth and when"));
}

#[test]
fn the_cdc_signs_say_get_medical_care_right_away_and_follow_the_same_rules() {
    for sign in [
        WarningSign::DizzinessOrFainting,
        WarningSign::SevereBellyPain,
        WarningSign::RacingHeart,
        WarningSign::FaceOrHandSwelling,
        WarningSign::VisionChanges,
        WarningSign::OverwhelmingTiredness,
    ] {
        let plan = triage(&TriageInput {
            warning_signs: vec![sign],
            symptoms: vec![Symptom::Stress],
            ..TriageInput::default()
        });
        let urgent = plan.urgent.as_ref().unwrap();
        assert_eq!(urgent.level, UrgencyLevel::MedicalCareNow, "{sign}");
        assert!(
            urgent.message.starts_with("Get medical care right away"),
            "{sign}"
        );
        assert!(urgent.message.contains(IF_YOU_CANNOT_REACH_YOUR_PROVIDER));
        assert!(plan.held_back(PostnatalMassage), "{sign}");
        assert!(plan.recommendation(ObstetricCare).is_some(), "{sign}");
    }
}

#[test]
fn crisis_words_in_her_text_raise_the_thoughts_of_harm_guidance() {
    let plan = triage(&TriageInput {
        symptoms: vec![Symptom::PoorSleep],
        crisis_words: crate::crisis_words("lately I think my baby would be better off without me"),
        ..TriageInput::default()
    });
    let urgent = plan.urgent.as_ref().unwrap();
    assert_eq!(urgent.level, UrgencyLevel::Emergency);
    assert_eq!(urgent.warning_signs, vec![WarningSign::ThoughtsOfHarm]);
    assert!(urgent.message.contains("988"));
    assert_eq!(plan.recommendations[0].care_type, PerinatalMentalHealth);
    assert!(plan.held_back(PostnatalMassage));
}

#[test]
fn words_of_postpartum_psychosis_are_an_emergency_like_thoughts_of_harm() {
    let plan = triage(&TriageInput {
        crisis_words: crate::crisis_words("llevo cuatro días sin dormir y oigo voces"),
        ..TriageInput::default()
    });
    let urgent = plan.urgent.as_ref().unwrap();
    assert_eq!(urgent.level, UrgencyLevel::Emergency);
    assert!(urgent.message.contains("postpartum psychosis"));
    assert_eq!(urgent.warning_signs, vec![WarningSign::ThoughtsOfHarm]);
    assert!(plan.notice.is_none());
    assert!(plan.search_care_types.contains(&(PerinatalMentalHealth, 1)));
}
