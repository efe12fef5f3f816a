//! What Plan-Net extensions and codings say of a provider: how and whether care is given
//! (delivery method, home visits, new patients), the languages care is given in, and the
//! perinatal credentials among qualifications.

use carematch_domain::credentials::known_credential;
use carematch_domain::{CareMode, CertificationDraft, CertificationScope};

use super::model::{CodeableConcept, Extension, extensions_named};
use super::providers::push_unique;
use crate::taxonomy::{NUCC_SYSTEM, care_type_of_taxonomy};

/// What roles' and services' extensions say about how and whether care is given.
#[derive(Default)]
pub(super) struct DeliveryFacts {
    pub(super) virtual_delivery: bool,
    pub(super) home_visits: bool,
    /// One entry per `newpatients` extension seen: whether it accepts new patients.
    pub(super) accepting: Vec<bool>,
}

impl DeliveryFacts {
    pub(super) fn read(&mut self, extensions: &[Extension]) {
        for extension in extensions_named(extensions, "delivery-method") {
            for kind in extension.sub("type") {
                if kind
                    .value_codeable_concept
                    .as_ref()
                    .is_some_and(|concept| concept.has_code("virtual"))
                    || kind.value_code.as_deref() == Some("virtual")
                {
                    self.virtual_delivery = true;
                }
            }
        }
        for extension in extensions_named(extensions, "newpatients") {
            for accepting in extension.sub("acceptingPatients") {
                let yes = accepting.value_boolean.unwrap_or(false)
                    || accepting
                        .value_codeable_concept
                        .as_ref()
                        .is_some_and(|concept| concept.has_code("newpt"));
                self.accepting.push(yes);
            }
        }
    }

    /// Plan-Net's HealthcareService category `home` (home health).
    pub(super) fn read_categories(&mut self, categories: &[CodeableConcept]) {
        if categories.iter().any(|category| category.has_code("home")) {
            self.home_visits = true;
        }
    }

    /// `None` when the provider can be reached no way at all.
    pub(super) fn modes(&self, has_location: bool) -> Option<Vec<CareMode>> {
        let mut modes = Vec::new();
        if has_location {
            modes.push(CareMode::InPerson);
            if self.home_visits {
                modes.push(CareMode::HomeVisit);
            }
        }
        if self.virtual_delivery {
            modes.push(CareMode::Telehealth);
        }
        (!modes.is_empty()).then_some(modes)
    }

    /// Accepting when any `newpatients` extension says so, or when none is given.
    pub(super) fn accepting(&self) -> bool {
        self.accepting.is_empty() || self.accepting.iter().any(|yes| *yes)
    }
}

/// Plan-Net's `communication-proficiency` codes below this (`00` none, `10` elementary, `20`
/// limited working) are not enough to give care in the language.
const MIN_PROFICIENCY: &str = "30";

/// The languages a provider can give care in, as names (`Spanish`).
pub(super) fn languages_of(communication: &[CodeableConcept]) -> Vec<String> {
    let mut languages = Vec::new();
    for concept in communication {
        let proficient = extensions_named(&concept.extension, "communication-proficiency")
            .filter_map(|extension| extension.value_codeable_concept.as_ref())
            .flat_map(CodeableConcept::codes)
            .all(|code| code >= MIN_PROFICIENCY);
        if !proficient {
            continue;
        }
        let name = concept
            .coding
            .iter()
            .find_map(|coding| coding.display.clone())
            .or_else(|| concept.text.clone())
            .or_else(|| {
                concept
                    .codes()
                    .next()
                    .map(|code| language_name(code).unwrap_or(code).to_owned())
            });
        if let Some(name) = name
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
        {
            push_unique(&mut languages, name);
        }
    }
    languages
}

/// English names of the BCP-47 primary language subtags common in US directories.
fn language_name(code: &str) -> Option<&'static str> {
    let primary = code.split('-').next().unwrap_or(code).to_ascii_lowercase();
    Some(match primary.as_str() {
        "en" => "English",
        "es" => "Spanish",
        "zh" => "Chinese",
        "vi" => "Vietnamese",
        "ko" => "Korean",
        "tl" => "Tagalog",
        "ru" => "Russian",
        "ar" => "Arabic",
        "fr" => "French",
        "ht" => "Haitian Creole",
        "pt" => "Portuguese",
        "de" => "German",
        "hi" => "Hindi",
        "ja" => "Japanese",
        "so" => "Somali",
        "am" => "Amharic",
        "pl" => "Polish",
        "fa" => "Persian",
        "ur" => "Urdu",
        "bn" => "Bengali",
        "pa" => "Punjabi",
        "it" => "Italian",
        "hmn" => "Hmong",
        "sgn" | "ase" => "American Sign Language",
        _ => return None,
    })
}

/// The perinatal credentials of care-guide.md section 4: the spellings met in directories (upper
/// case, without spaces), the canonical name and the issuer.
const PERINATAL_CREDENTIALS: &[(&[&str], &str, &str)] = &[
    (&["IBCLC"], "IBCLC", "IBLCE"),
    (&["CLC"], "CLC", "ALPP"),
    (&["CLE"], "CLE", "CAPPA"),
    (
        &["PMH-C", "PMHC"],
        "PMH-C",
        "Postpartum Support International",
    ),
    (
        &["CD(DONA)", "CDDONA", "CD-DONA"],
        "CD(DONA)",
        "DONA International",
    ),
    (
        &["PCD(DONA)", "PCDDONA", "PCD-DONA"],
        "PCD(DONA)",
        "DONA International",
    ),
    (&["CPD"], "CPD", "CAPPA"),
    (&["CLD"], "CLD", "CAPPA"),
    (&["PWCS", "WCS"], "PWCS", "ABPTS"),
    (&["CAPP-OB", "CAPPOB"], "CAPP-OB", "APTA Pelvic Health"),
    (
        &["CAPP-PELVIC", "CAPPPELVIC"],
        "CAPP-Pelvic",
        "APTA Pelvic Health",
    ),
    (&["PRPC"], "PRPC", "Herman & Wallace"),
];

/// A qualification as a certification: a known perinatal credential (by code, display or text)
/// with scope PERINATAL, anything else GENERAL under the name the directory gives. A NUCC code
/// alone is a specialty, not a certification, and gives none; beside another coding or a text
/// it says which care type the credential is for.
pub(super) fn certification_of(
    qualification: &super::model::Qualification,
) -> Option<CertificationDraft> {
    let code = &qualification.code;
    let is_nucc = |coding: &super::model::Coding| coding.system.as_deref() == Some(NUCC_SYSTEM);
    let taxonomy_care_type = code
        .coding
        .iter()
        .filter(|coding| is_nucc(coding))
        .find_map(|coding| coding.code.as_deref().and_then(care_type_of_taxonomy));
    let named: Vec<&super::model::Coding> = code
        .coding
        .iter()
        .filter(|coding| !is_nucc(coding))
        .collect();
    if named.is_empty() && code.text.is_none() {
        return None;
    }
    let spellings: Vec<String> = named
        .iter()
        .flat_map(|coding| [coding.code.as_deref(), coding.display.as_deref()])
        .chain([code.text.as_deref()])
        .flatten()
        .map(|text| text.to_ascii_uppercase().replace(' ', ""))
        .collect();
    let issuer = qualification
        .issuer
        .as_ref()
        .and_then(|issuer| issuer.display.clone());
    for (aliases, name, credential_issuer) in PERINATAL_CREDENTIALS {
        if spellings
            .iter()
            .any(|spelling| aliases.contains(&spelling.as_str()))
        {
            // The care guide's table knows these: it decides their care type.
            return Some(CertificationDraft {
                name: (*name).to_owned(),
                issuer: Some((*credential_issuer).to_owned()),
                scope: CertificationScope::Perinatal,
                verified: true,
                care_type: None,
            });
        }
    }
    let name = code
        .text
        .clone()
        .or_else(|| named.iter().find_map(|coding| coding.display.clone()))
        .or_else(|| named.iter().find_map(|coding| coding.code.clone()))?;
    let name = name.trim().to_owned();
    // Written only where the table does not already say it (care-guide.md section 4).
    let care_type = taxonomy_care_type.filter(|_| known_credential(&name).is_none());
    Some(CertificationDraft {
        name,
        issuer,
        scope: CertificationScope::General,
        verified: true,
        care_type,
    })
}
