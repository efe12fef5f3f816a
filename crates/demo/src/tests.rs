//! Distribution and consistency tests over the generator's own decisions (main care type,
//! individual or practice, metro or rural), which the public API does not expose.

use std::collections::HashMap;
use std::sync::OnceLock;

use carematch_domain::credentials::{counts_for, known_credential};
use carematch_domain::payment::{contract_covers, is_medicaid};
use carematch_domain::triage::SYMPTOM_RULES;
use carematch_domain::{CareMode, CareType, CertificationScope, Npi, Provider, haversine_km};
use carematch_postal::PostalCodes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::build::{self, Drawn};
use crate::payers::{self, KAISER, KAISER_STATES, STATES};
use crate::places::{self, METROS, Origin, RURAL_JITTER_KM};
use crate::profiles::{self, PROFILES};

const SAMPLE_SIZE: u64 = 20_000;
const SEED: u64 = 7;

/// A 20,000-provider sample, drawn once for every test here.
fn sample() -> &'static [(Drawn, Provider)] {
    static SAMPLE: OnceLock<Vec<(Drawn, Provider)>> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        (0..SAMPLE_SIZE)
            .map(|index| {
                let drawn = build::draw(SEED, index, PostalCodes::embedded())
                    .unwrap_or_else(|| panic!("provider {index} could not be placed"));
                let provider = drawn
                    .draft
                    .clone()
                    .validate(drawn.id)
                    .unwrap_or_else(|error| panic!("provider {index} is invalid: {error}"));
                (drawn, provider)
            })
            .collect()
    })
}

fn share(predicate: impl Fn(&Drawn, &Provider) -> bool) -> f64 {
    let sample = sample();
    let hits = sample
        .iter()
        .filter(|(drawn, provider)| predicate(drawn, provider))
        .count();
    hits as f64 / sample.len() as f64
}

fn share_among(
    filter: impl Fn(&Drawn, &Provider) -> bool,
    predicate: impl Fn(&Drawn, &Provider) -> bool,
) -> f64 {
    let among: Vec<_> = sample()
        .iter()
        .filter(|(drawn, provider)| filter(drawn, provider))
        .collect();
    assert!(!among.is_empty(), "no provider matched the filter");
    let hits = among
        .iter()
        .filter(|(drawn, provider)| predicate(drawn, provider))
        .count();
    hits as f64 / among.len() as f64
}

fn assert_near(name: &str, actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{name}: {actual:.4} is not within {tolerance} of {expected}"
    );
}

#[test]
fn main_care_types_follow_the_directory_mix() {
    let total: u32 = PROFILES.iter().map(|profile| profile.weight).sum();
    assert_eq!(total, 100);
    for profile in PROFILES {
        let actual = share(|drawn, _| drawn.main_care_type == profile.care_type);
        assert_near(
            profile.care_type.code(),
            actual,
            f64::from(profile.weight) / 100.0,
            0.015,
        );
    }
}

#[test]
fn a_minority_offers_more_than_one_care_type_and_each_type_is_offered_as_expected() {
    let multi = share(|_, provider| provider.care_types.len() > 1);
    assert!((0.05..0.15).contains(&multi), "multi-type share {multi}");
    for care_type in CareType::ALL {
        // Its own weight, plus what other types bring as their second type.
        let mut expected = f64::from(profiles::profile(*care_type).weight) / 100.0;
        for profile in PROFILES {
            let total: u32 = profile.second_types.iter().map(|(_, weight)| weight).sum();
            for (second, weight) in profile.second_types {
                if second == care_type {
                    expected += f64::from(profile.weight) / 100.0
                        * profile.second_type_share
                        * f64::from(*weight)
                        / f64::from(total);
                }
            }
        }
        let actual = share(|_, provider| provider.care_types.contains(care_type));
        assert_near(care_type.code(), actual, expected, 0.015);
    }
}

#[test]
fn about_45_percent_hold_a_perinatal_certification() {
    let actual = share(|_, provider| {
        provider
            .certifications
            .iter()
            .any(|certification| certification.scope == CertificationScope::Perinatal)
    });
    assert_near("perinatal share", actual, 0.45, 0.03);
}

#[test]
fn about_70_percent_of_certifications_are_verified() {
    let certifications: Vec<_> = sample()
        .iter()
        .flat_map(|(_, provider)| provider.certifications.iter())
        .collect();
    let verified = certifications.iter().filter(|c| c.verified).count();
    assert_near(
        "verified share",
        verified as f64 / certifications.len() as f64,
        0.70,
        0.02,
    );
}

#[test]
fn support_groups_usually_have_no_certification() {
    let uncertified = share_among(
        |drawn, _| drawn.main_care_type == CareType::SupportGroup,
        |_, provider| provider.certifications.is_empty(),
    );
    assert!(uncertified > 0.8, "{uncertified}");
}

#[test]
fn about_15_percent_are_rural() {
    let actual = share(|drawn, _| drawn.origin == Origin::Rural);
    assert_near("rural share", actual, places::RURAL_SHARE, 0.01);
}

#[test]
fn english_is_nearly_universal_and_about_20_percent_speak_spanish() {
    let speaks = |language: &'static str| {
        move |_: &Drawn, provider: &Provider| {
            provider
                .languages
                .iter()
                .any(|spoken| spoken.as_str() == language)
        }
    };
    assert!(share(speaks("English")) > 0.98);
    assert_near("Spanish", share(speaks("Spanish")), 0.20, 0.015);
    assert_near("Vietnamese", share(speaks("Vietnamese")), 0.02, 0.005);
    assert!(share(speaks("Haitian Creole")) > 0.0);
}

#[test]
fn about_80_percent_accept_new_clients() {
    assert_near(
        "accepting share",
        share(|_, provider| provider.accepting_new_clients),
        0.80,
        0.015,
    );
}

#[test]
fn metro_locations_lie_within_60_km_of_their_metro_centre_and_rural_ones_at_a_centroid() {
    let postal = PostalCodes::embedded();
    for (drawn, provider) in sample() {
        for location in &provider.locations {
            let (latitude, longitude) = (location.point.latitude(), location.point.longitude());
            match drawn.origin {
                Origin::Metro(index) => {
                    let metro = &METROS[index];
                    let distance =
                        haversine_km(latitude, longitude, metro.latitude, metro.longitude);
                    assert!(distance <= 60.0, "{} at {distance} km", metro.city);
                    let city = location.city.as_deref().unwrap();
                    let region = location.region.as_ref().unwrap().as_str();
                    if region == metro.state {
                        assert_eq!(city, metro.city);
                    } else {
                        assert_ne!(city, metro.city, "{city} listed in {region}");
                    }
                }
                Origin::Rural => {
                    let nearest = postal.nearest(latitude, longitude).unwrap();
                    let distance =
                        haversine_km(latitude, longitude, nearest.latitude, nearest.longitude);
                    assert!(distance <= RURAL_JITTER_KM + 0.01, "rural at {distance} km");
                    assert!(
                        location
                            .city
                            .as_deref()
                            .is_some_and(|city| !city.is_empty())
                    );
                }
            }
        }
    }
}

#[test]
fn metro_providers_are_weighted_by_population() {
    let new_york = METROS
        .iter()
        .position(|metro| metro.city == "New York")
        .unwrap();
    let cheyenne = METROS
        .iter()
        .position(|metro| metro.city == "Cheyenne")
        .unwrap();
    let in_new_york = share(|drawn, _| drawn.origin == Origin::Metro(new_york));
    let in_cheyenne = share(|drawn, _| drawn.origin == Origin::Metro(cheyenne));
    let total: u32 = METROS.iter().map(|metro| metro.population_thousands).sum();
    let expected = 0.85 * 17_500.0 / f64::from(total);
    assert_near("New York share", in_new_york, expected, 0.01);
    assert!(in_cheyenne < in_new_york / 50.0);
}

#[test]
fn every_region_and_postal_code_comes_from_the_nearest_postal_centroid() {
    let postal = PostalCodes::embedded();
    for (_, provider) in sample() {
        for location in &provider.locations {
            let (latitude, longitude) = (location.point.latitude(), location.point.longitude());
            let nearest = postal.nearest(latitude, longitude).unwrap();
            assert_eq!(
                location.region.as_ref().map(|region| region.as_str()),
                Some(nearest.state())
            );
            // Equal distance rather than equal code: some codes share one centroid.
            let code = location.postal_code.as_ref().unwrap();
            let entry = postal.get(code.as_str()).unwrap();
            let listed = haversine_km(latitude, longitude, entry.latitude, entry.longitude);
            let best = haversine_km(latitude, longitude, nearest.latitude, nearest.longitude);
            assert!(
                listed - best < 0.01,
                "{code:?}: {listed} km, nearest {best} km"
            );
        }
    }
}

#[test]
fn the_fast_nearest_index_agrees_with_postal_codes_nearest() {
    let postal = PostalCodes::embedded();
    // Points up to 45 km from a random centroid: every place the generator asks about.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for _ in 0..3_000 {
        let around = &postal.entries()[rng.random_range(0..postal.len())];
        let (latitude, longitude) = places::offset(
            around.latitude,
            around.longitude,
            rng.random_range(-45.0..45.0),
            rng.random_range(-45.0..45.0),
        );
        let fast = places::nearest(postal, latitude, longitude).unwrap();
        let reference = postal.nearest(latitude, longitude).unwrap();
        let fast_km = haversine_km(latitude, longitude, fast.latitude, fast.longitude);
        let reference_km =
            haversine_km(latitude, longitude, reference.latitude, reference.longitude);
        assert!(
            fast_km - reference_km < 0.05,
            "{latitude},{longitude}: {} at {fast_km} km, {} at {reference_km} km",
            fast.code(),
            reference.code()
        );
    }
}

#[test]
fn every_metro_centre_lies_in_its_state() {
    assert!(METROS.len() >= 60);
    let postal = PostalCodes::embedded();
    for metro in METROS {
        let nearest = postal.nearest(metro.latitude, metro.longitude).unwrap();
        assert_eq!(nearest.state(), metro.state, "{}", metro.city);
    }
}

#[test]
fn the_state_table_is_sorted_complete_and_its_borders_are_symmetric() {
    assert_eq!(STATES.len(), 51);
    assert!(STATES.windows(2).all(|pair| pair[0].code < pair[1].code));
    for info in STATES {
        assert!(!info.blue_plans.is_empty(), "{}", info.code);
        assert!(info.medicaid.contains("Medicaid") || info.medicaid.len() > 3);
        for neighbour in info.neighbours {
            let other = payers::state(neighbour).unwrap();
            assert!(
                other.neighbours.contains(&info.code),
                "{} borders {neighbour} but not the reverse",
                info.code
            );
        }
    }
    assert_eq!(
        payers::state("OR").unwrap().medicaid,
        "Oregon Health Plan (Medicaid)"
    );
    assert!(payers::state("PR").is_none());
}

#[test]
fn npi_check_digits_follow_the_cms_example_and_every_drawn_npi_parses() {
    // CMS's worked example: 123456789 has check digit 3.
    assert_eq!(build::npi_check_digit(&[1, 2, 3, 4, 5, 6, 7, 8, 9]), 3);
    for index in 0..2_000 {
        let npi = build::npi_for(3, index);
        assert!(Npi::parse(&npi).is_ok(), "{npi}");
    }
}

#[test]
fn npis_never_repeat_within_a_seed() {
    // Random draws collided at about half a million; a million indexes must all differ.
    let mut seen = std::collections::HashSet::new();
    for index in 0..1_000_000 {
        assert!(
            seen.insert(build::npi_for(42, index)),
            "index {index} repeats an NPI"
        );
    }
}

#[test]
fn most_clinical_individuals_list_an_npi_and_support_groups_never_do() {
    let clinical = [
        CareType::PelvicFloorPhysicalTherapy,
        CareType::LactationConsulting,
        CareType::PerinatalMentalHealth,
        CareType::ObstetricCare,
    ];
    let with_npi = share_among(
        |drawn, _| drawn.individual && clinical.contains(&drawn.main_care_type),
        |_, provider| provider.npi.is_some(),
    );
    assert_near("clinical individuals with an NPI", with_npi, 0.75, 0.05);
    let groups_with_npi = share_among(
        |drawn, _| drawn.main_care_type == CareType::SupportGroup,
        |_, provider| provider.npi.is_some(),
    );
    assert_eq!(groups_with_npi, 0.0);
}

#[test]
fn each_care_types_symptoms_are_recommended_for_it_by_the_care_guide() {
    let recommended = |care_type: CareType| -> Vec<_> {
        SYMPTOM_RULES
            .iter()
            .filter(|rule| {
                rule.care
                    .iter()
                    .any(|(rule_type, _, _)| *rule_type == care_type)
            })
            .map(|rule| rule.symptom)
            .collect()
    };
    for profile in PROFILES {
        let allowed = recommended(profile.care_type);
        for symptom in profile
            .always_treats
            .iter()
            .chain(profile.sometimes_treats.iter().map(|(symptom, _)| symptom))
        {
            assert!(
                allowed.contains(symptom),
                "{} is not recommended for {}",
                symptom.code(),
                profile.care_type.code()
            );
        }
    }
    for (_, provider) in sample() {
        for symptom in &provider.treats {
            assert!(
                provider
                    .care_types
                    .iter()
                    .any(|care_type| recommended(*care_type).contains(symptom)),
                "{} treats {} outside its care types",
                provider.name.as_str(),
                symptom.code()
            );
        }
    }
    // The symptoms each type is first choice for are always covered.
    for (_, provider) in sample() {
        if provider.care_types.contains(&CareType::LactationConsulting) {
            assert!(
                provider
                    .treats
                    .contains(&carematch_domain::Symptom::BreastfeedingDifficulty)
            );
        }
        if provider
            .care_types
            .contains(&CareType::PelvicFloorPhysicalTherapy)
        {
            assert!(
                provider
                    .treats
                    .contains(&carematch_domain::Symptom::UrineLeakage)
            );
        }
    }
}

#[test]
fn support_groups_meet_in_person_and_online() {
    let groups: Vec<_> = sample()
        .iter()
        .filter(|(drawn, _)| drawn.main_care_type == CareType::SupportGroup)
        .collect();
    let in_person = groups
        .iter()
        .filter(|(_, provider)| provider.offers(CareMode::InPerson))
        .count();
    let virtual_only = groups
        .iter()
        .filter(|(_, provider)| provider.modes == [CareMode::VirtualGroup])
        .count();
    assert!(in_person as f64 > 0.4 * groups.len() as f64, "{in_person}");
    assert!(
        virtual_only as f64 > 0.3 * groups.len() as f64,
        "{virtual_only}"
    );
    for (_, provider) in &groups {
        assert!(provider.insurance.is_empty());
        assert!(provider.self_pay_rate_usd.is_some_and(|rate| rate <= 30));
    }
}

#[test]
fn modes_fit_the_care_type() {
    for (drawn, provider) in sample() {
        match drawn.main_care_type {
            CareType::Doula => assert!(provider.offers(CareMode::HomeVisit)),
            CareType::SupportGroup => assert!(!provider.offers(CareMode::HomeVisit)),
            _ => {}
        }
        if provider.offers(CareMode::VirtualGroup) {
            assert!(provider.care_types.contains(&CareType::SupportGroup));
        }
        if provider.home_visit_radius_km.is_some() {
            assert!(provider.offers(CareMode::HomeVisit));
        }
        if !provider.licensed_regions.is_empty() {
            assert!(provider.offers(CareMode::Telehealth));
        }
    }
    let mental_health_telehealth = share_among(
        |drawn, _| drawn.main_care_type == CareType::PerinatalMentalHealth,
        |_, provider| provider.offers(CareMode::Telehealth),
    );
    assert!(
        mental_health_telehealth > 0.75,
        "{mental_health_telehealth}"
    );
    let some_licensed_next_door = share(|_, provider| !provider.licensed_regions.is_empty());
    assert!((0.02..0.15).contains(&some_licensed_next_door));
}

#[test]
fn telehealth_licences_beyond_the_home_state_are_neighbouring_states() {
    for (_, provider) in sample() {
        for extra in &provider.licensed_regions {
            let home = provider.locations[0].region.as_ref().unwrap();
            let neighbours = payers::state(home.as_str()).unwrap().neighbours;
            assert!(
                neighbours.contains(&extra.as_str()),
                "{home:?} -> {extra:?}"
            );
        }
    }
}

#[test]
fn massage_is_rarely_in_network_and_referrals_are_mostly_for_physical_therapy() {
    let massage_in_network = share_among(
        |drawn, _| drawn.main_care_type == CareType::PostnatalMassage,
        |_, provider| !provider.insurance.is_empty(),
    );
    assert!(massage_in_network < 0.15, "{massage_in_network}");
    let pt_in_network = share_among(
        |drawn, _| drawn.main_care_type == CareType::PelvicFloorPhysicalTherapy,
        |_, provider| !provider.insurance.is_empty(),
    );
    assert!(pt_in_network > 0.75, "{pt_in_network}");
    let referrals_for_pt = share_among(
        |_, provider| provider.requires_referral,
        |drawn, _| drawn.main_care_type == CareType::PelvicFloorPhysicalTherapy,
    );
    assert!(referrals_for_pt > 0.7, "{referrals_for_pt}");
    let pt_fsa = share_among(
        |drawn, _| drawn.main_care_type == CareType::PelvicFloorPhysicalTherapy,
        |_, provider| provider.accepts_fsa_hsa,
    );
    assert!(pt_fsa > 0.75, "{pt_fsa}");
}

#[test]
fn payers_are_real_names_for_the_providers_state() {
    let mut payer_counts: HashMap<&str, usize> = HashMap::new();
    for (_, provider) in sample() {
        let state = provider.locations[0].region.as_ref().unwrap().as_str();
        let info = payers::state(state).unwrap();
        for plan in &provider.insurance {
            let payer = plan.payer.as_str();
            *payer_counts.entry(payer).or_default() += 1;
            let national = ["Aetna", "Cigna", "UnitedHealthcare", "Humana"].contains(&payer);
            let kaiser = payer == KAISER;
            assert!(
                national || kaiser || payer == info.medicaid || info.blue_plans.contains(&payer),
                "{payer} in {state}"
            );
            if kaiser {
                assert!(KAISER_STATES.contains(&state), "Kaiser in {state}");
            }
        }
    }
    for payer in [
        "Aetna",
        "Cigna",
        "UnitedHealthcare",
        "Humana",
        KAISER,
        "Medi-Cal",
        "Texas Medicaid",
        "Blue Cross Blue Shield of Texas",
        "Anthem Blue Cross",
    ] {
        assert!(
            payer_counts.get(payer).is_some_and(|count| *count > 0),
            "{payer}"
        );
    }
    let with_plan_name = sample()
        .iter()
        .flat_map(|(_, provider)| provider.insurance.iter())
        .filter(|plan| plan.plan.is_some())
        .count();
    assert!(with_plan_name > 0);
}

#[test]
fn self_pay_rates_fall_in_each_care_types_range() {
    for (drawn, provider) in sample() {
        let profile = profiles::profile(drawn.main_care_type);
        if let (Some((low, high)), Some(rate)) =
            (profile.self_pay_rate_usd, provider.self_pay_rate_usd)
        {
            assert!(
                (low..=high).contains(&rate),
                "{rate} outside {low}..={high}"
            );
            assert_eq!(rate % 5, 0);
        }
    }
}

#[test]
fn names_and_bios_read_like_a_directory() {
    for (drawn, provider) in sample().iter().take(2_000) {
        let name = provider.name.as_str();
        if drawn.individual && drawn.main_care_type == CareType::PelvicFloorPhysicalTherapy {
            assert!(name.starts_with("Dr. ") && name.contains(", DPT"), "{name}");
        }
        assert!(!name.contains("{place}"), "{name}");
        let bio = provider.bio.as_deref().unwrap();
        if let Some(symptom) = provider.treats.first() {
            assert!(bio.contains(symptom.label()), "{bio}");
        }
        assert!(bio.ends_with('.'), "{bio}");
    }
}

#[test]
fn cross_state_cities_name_real_metros_and_other_states() {
    for (metro_city, state, city) in places::CROSS_STATE_CITIES {
        let metro = METROS.iter().find(|metro| metro.city == *metro_city);
        assert!(
            metro.is_some_and(|metro| metro.state != *state),
            "{metro_city} -> {city}"
        );
        assert!(payers::state(state).is_some(), "{state}");
    }
}

#[test]
fn provider_id_is_the_generated_providers_id() {
    for (index, (_, provider)) in sample().iter().enumerate().take(2_000) {
        assert_eq!(crate::provider_id(SEED, index as u64), provider.id);
    }
    assert_ne!(crate::provider_id(SEED, 0), crate::provider_id(SEED + 1, 0));
}

#[test]
fn indexes_in_id_order_are_a_permutation_sorted_by_id() {
    let count = 5_000;
    let order = crate::indexes_in_id_order(SEED, count);
    let mut seen = order.clone();
    seen.sort_unstable();
    assert_eq!(seen, (0..count).collect::<Vec<_>>());
    let ids: Vec<_> = order
        .iter()
        .map(|&index| crate::provider_id(SEED, index))
        .collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    // Random v4 ids: the order really is a reordering.
    assert_ne!(order, (0..count).collect::<Vec<_>>());
}

// Care-guide.md, 2nd edition: the demo looks like the world its rules describe.

fn gives(provider: &Provider, care_type: CareType) -> bool {
    provider.care_types.contains(&care_type)
}

#[test]
fn massage_practices_and_support_groups_never_list_telehealth() {
    for (drawn, provider) in sample() {
        let massage_practice = drawn.main_care_type == CareType::PostnatalMassage;
        let group_only = provider.care_types == [CareType::SupportGroup];
        if massage_practice || group_only {
            assert!(
                !provider.offers(CareMode::Telehealth),
                "{} lists telehealth",
                provider.name.as_str()
            );
        }
        if provider.offers(CareMode::Telehealth) && gives(provider, CareType::PostnatalMassage) {
            // A PT clinic's massage room: the bio says telehealth is for its other care.
            let bio = provider.bio.as_deref().unwrap_or_default();
            assert!(bio.contains("massage in person only"), "{bio}");
        }
    }
    let groups_online = share_among(
        |_, provider| provider.care_types == [CareType::SupportGroup],
        |_, provider| provider.offers(CareMode::VirtualGroup),
    );
    assert!(groups_online > 0.3, "{groups_online}");
}

#[test]
fn every_contract_of_a_multi_care_type_provider_names_the_care_it_covers() {
    let mut multi_type_contracts = 0;
    for (drawn, provider) in sample() {
        for contract in &provider.insurance {
            if provider.care_types.len() == 1 {
                assert!(contract.care_types.is_empty(), "{contract:?}");
                continue;
            }
            multi_type_contracts += 1;
            assert!(contract.care_types.contains(&drawn.main_care_type));
            for care_type in &contract.care_types {
                assert!(gives(provider, *care_type), "{contract:?}");
                assert_ne!(*care_type, CareType::SupportGroup);
                if *care_type == CareType::PostnatalMassage {
                    assert_eq!(drawn.main_care_type, CareType::PostnatalMassage);
                }
                if *care_type == CareType::Doula && drawn.main_care_type != CareType::Doula {
                    assert!(is_medicaid(&contract.payer), "{contract:?}");
                }
            }
        }
    }
    assert!(multi_type_contracts > 300, "{multi_type_contracts}");
}

#[test]
fn a_pt_clinics_contracts_cover_physical_therapy_and_never_its_massage_room() {
    let clinics: Vec<&Provider> = sample()
        .iter()
        .filter(|(drawn, provider)| {
            drawn.main_care_type == CareType::PelvicFloorPhysicalTherapy
                && gives(provider, CareType::PostnatalMassage)
                && !provider.insurance.is_empty()
        })
        .map(|(_, provider)| provider)
        .collect();
    assert!(clinics.len() > 100, "{}", clinics.len());
    for clinic in clinics {
        for contract in &clinic.insurance {
            assert!(contract_covers(
                contract,
                CareType::PelvicFloorPhysicalTherapy,
                &clinic.care_types
            ));
            assert!(!contract_covers(
                contract,
                CareType::PostnatalMassage,
                &clinic.care_types
            ));
        }
    }
}

#[test]
fn massage_only_providers_are_mostly_without_insurance() {
    let insured = share_among(
        |_, provider| provider.care_types == [CareType::PostnatalMassage],
        |_, provider| !provider.insurance.is_empty(),
    );
    assert!(insured < 0.15, "{insured}");
}

#[test]
fn every_credential_counts_for_a_care_type_of_its_provider_and_unknown_names_say_which() {
    let mut named = 0;
    for (_, provider) in sample() {
        for certification in &provider.certifications {
            if known_credential(&certification.name).is_none() {
                assert!(certification.care_type.is_some(), "{certification:?}");
                named += 1;
            } else {
                assert_eq!(certification.care_type, None, "{certification:?}");
            }
            assert!(
                provider.care_types.iter().any(|care_type| {
                    counts_for(certification, *care_type, &provider.care_types).is_some()
                }),
                "{} on {:?}",
                certification.name,
                provider.care_types
            );
        }
    }
    // Lactation consultants' RN licences and group facilitators' training.
    assert!(named > 100, "{named}");
}

#[test]
fn multi_discipline_practices_keep_each_credential_to_its_own_care() {
    // A doula who is also an IBCLC: the IBCLC earns nothing for her doula care.
    let doula_ibclc = sample().iter().find(|(drawn, provider)| {
        drawn.main_care_type == CareType::Doula
            && gives(provider, CareType::LactationConsulting)
            && provider.certifications.iter().any(|c| c.name == "IBCLC")
    });
    let (_, doula) = doula_ibclc.expect("a doula who is also an IBCLC");
    let ibclc = doula
        .certifications
        .iter()
        .find(|c| c.name == "IBCLC")
        .unwrap();
    assert!(counts_for(ibclc, CareType::LactationConsulting, &doula.care_types).is_some());
    assert!(counts_for(ibclc, CareType::Doula, &doula.care_types).is_none());

    // A PT clinic with a massage room and a licensed massage therapist: the LMT counts for
    // massage, the PT's DPT and PWCS do not.
    let clinic = sample().iter().find(|(drawn, provider)| {
        drawn.main_care_type == CareType::PelvicFloorPhysicalTherapy
            && gives(provider, CareType::PostnatalMassage)
            && provider.certifications.iter().any(|c| c.name == "LMT")
            && provider.certifications.iter().any(|c| c.name == "PWCS")
    });
    let (_, clinic) = clinic.expect("a PT clinic with a massage room");
    for certification in &clinic.certifications {
        let for_massage = counts_for(
            certification,
            CareType::PostnatalMassage,
            &clinic.care_types,
        )
        .is_some();
        let for_pt = counts_for(
            certification,
            CareType::PelvicFloorPhysicalTherapy,
            &clinic.care_types,
        )
        .is_some();
        match certification.name.as_str() {
            "LMT" => assert!(for_massage && !for_pt),
            "DPT" | "PWCS" => assert!(for_pt && !for_massage),
            _ => assert!(for_pt != for_massage, "{certification:?}"),
        }
    }

    // A mental-health practice that runs a support group.
    assert!(sample().iter().any(|(drawn, provider)| {
        drawn.main_care_type == CareType::PerinatalMentalHealth
            && gives(provider, CareType::SupportGroup)
    }));
}

#[test]
fn most_support_groups_are_free_some_charge_a_fee_and_none_takes_fsa_or_hsa() {
    let groups: Vec<&Provider> = sample()
        .iter()
        .filter(|(_, provider)| provider.care_types == [CareType::SupportGroup])
        .map(|(_, provider)| provider)
        .collect();
    let free = groups
        .iter()
        .filter(|group| group.self_pay_rate_usd == Some(0))
        .count();
    let paid = groups
        .iter()
        .filter(|group| group.self_pay_rate_usd.is_some_and(|rate| rate > 0))
        .count();
    assert_near("free groups", free as f64 / groups.len() as f64, 0.7, 0.05);
    assert!(paid > 0);
    assert_eq!(free + paid, groups.len());
    assert!(groups.iter().all(|group| !group.accepts_fsa_hsa));
}
