//! A provider's words: the name of a person (with credential suffixes) or of a practice, and
//! the bio that says what it offers, how and where.

use carematch_domain::{CareMode, CareType, CertificationScope, Symptom};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::pick;
use crate::profiles::{self, CareProfile, Credential};

pub(super) fn provider_name(
    rng: &mut ChaCha8Rng,
    main: &CareProfile,
    care_types: &[CareType],
    individual: bool,
    credentials: &[Credential],
    city: &str,
) -> String {
    if individual {
        let first = pick(rng, profiles::FIRST_NAMES);
        let last = pick(rng, profiles::LAST_NAMES);
        let mut suffixes: Vec<&str> = credentials
            .iter()
            .filter_map(|credential| credential.suffix)
            .collect();
        let mut doctor = credentials.iter().any(|credential| credential.doctor);
        // Obstetric care is given by physicians (MD) or certified nurse-midwives (CNM).
        if main.care_type == CareType::ObstetricCare && !suffixes.contains(&"CNM") {
            suffixes.insert(0, "MD");
            doctor = true;
        }
        let title = if doctor { "Dr. " } else { "" };
        if suffixes.is_empty() {
            format!("{title}{first} {last}")
        } else {
            format!("{title}{first} {last}, {}", suffixes.join(", "))
        }
    } else {
        let place_word = if rng.random_bool(0.5) {
            city
        } else {
            pick(rng, profiles::NATURE_WORDS)
        };
        let template = if care_types.len() > 1 && rng.random_bool(0.5) {
            pick(rng, profiles::MULTI_TYPE_PRACTICE_NAMES)
        } else {
            pick(rng, main.practice_names)
        };
        template.replace("{place}", place_word)
    }
}

/// Joins words as a reader expects: "a", "a and b", "a, b and c".
fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn bio(
    rng: &mut ChaCha8Rng,
    main: &CareProfile,
    second: Option<&CareProfile>,
    treats: &[Symptom],
    credentials: &[Credential],
    modes: &[CareMode],
    home_visit_radius_km: Option<f64>,
    languages: &[String],
    requires_referral: bool,
) -> String {
    let mut sentences: Vec<String> = Vec::with_capacity(6);
    let opening = pick(rng, main.bio_openings);
    match second {
        Some(second) => sentences.push(format!("{opening}, and {}.", second.care_type.label())),
        None => sentences.push(format!("{opening}.")),
    }
    if !treats.is_empty() {
        let mut symptoms: Vec<Symptom> = treats.to_vec();
        symptoms.sort();
        symptoms.dedup();
        let labels: Vec<&str> = symptoms
            .iter()
            .take(5)
            .map(|symptom| symptom.label())
            .collect();
        sentences.push(format!("Helps with {}.", join_words(&labels)));
    }
    let specialties = main.specialties;
    if specialties.len() >= 2 {
        let first = rng.random_range(0..specialties.len());
        let other = (first + 1 + rng.random_range(0..specialties.len() - 1)) % specialties.len();
        sentences.push(format!(
            "Special interest in {} and {}.",
            specialties[first], specialties[other]
        ));
    }
    let perinatal: Vec<&str> = credentials
        .iter()
        .filter(|credential| credential.scope == CertificationScope::Perinatal)
        .map(|credential| credential.name)
        .collect();
    if !perinatal.is_empty() {
        sentences.push(format!("Perinatal training: {}.", join_words(&perinatal)));
    }
    let gives_massage = std::iter::once(main)
        .chain(second)
        .any(|profile| profile.care_type == CareType::PostnatalMassage);
    let mode_words: Vec<String> = modes
        .iter()
        .map(|mode| match (mode, home_visit_radius_km) {
            (CareMode::InPerson, _) => "in person".to_owned(),
            // Massage is hands-on: telehealth is for the practice's other care.
            (CareMode::Telehealth, _) if gives_massage => {
                "by telehealth (massage in person only)".to_owned()
            }
            (CareMode::Telehealth, _) => "by telehealth".to_owned(),
            (CareMode::HomeVisit, Some(radius)) => format!("at home within {radius} km"),
            (CareMode::HomeVisit, None) => "at home".to_owned(),
            (CareMode::VirtualGroup, _) => "online".to_owned(),
        })
        .collect();
    let mode_refs: Vec<&str> = mode_words.iter().map(String::as_str).collect();
    let verb = if main.care_type == CareType::SupportGroup {
        "Meets"
    } else {
        "Sees clients"
    };
    sentences.push(format!("{verb} {}.", join_words(&mode_refs)));
    let other_languages: Vec<&str> = languages
        .iter()
        .map(String::as_str)
        .filter(|language| *language != "English")
        .collect();
    if !other_languages.is_empty() {
        sentences.push(format!("Also in {}.", join_words(&other_languages)));
    }
    if requires_referral {
        sentences.push("Insurance may need a referral from your OB/GYN.".to_owned());
    }
    sentences.join(" ")
}
