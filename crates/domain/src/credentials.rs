//! Care-guide.md section 4: which care type a credential belongs to, and how strong it is.
//! A credential counts only for its own care type (2nd edition): a doula's CD(DONA) or an
//! IBCLC earns nothing for the same provider's massage matches.

use crate::{CareType, Certification, CertificationScope, Provider};

use CareType::{
    Doula, LactationConsulting, ObstetricCare, PelvicFloorPhysicalTherapy, PerinatalMentalHealth,
    PostnatalMassage,
};
use CertificationScope::{General, Perinatal};

/// One credential the care guide names: its names as written on listings (compared with
/// [`credential_key`]), the care type it belongs to, its scope, and whether it is the
/// strongest of its field.
pub struct KnownCredential {
    pub names: &'static [&'static str],
    pub care_type: CareType,
    pub scope: CertificationScope,
    pub strongest: bool,
}

const fn known(
    names: &'static [&'static str],
    care_type: CareType,
    scope: CertificationScope,
) -> KnownCredential {
    KnownCredential {
        names,
        care_type,
        scope,
        strongest: false,
    }
}

/// Care-guide.md section 4, row by row (state licences are general for their own care type).
pub const KNOWN_CREDENTIALS: &[KnownCredential] = &[
    known(
        &["PWCS", "WCS", "CAPP-Pelvic", "CAPP-OB", "PRPC"],
        PelvicFloorPhysicalTherapy,
        Perinatal,
    ),
    known(
        &[
            "PT",
            "DPT",
            "MPT",
            "Physical Therapist",
            "Doctor of Physical Therapy",
        ],
        PelvicFloorPhysicalTherapy,
        General,
    ),
    known(
        &[
            "LMT",
            "NCBTMB",
            "Licensed Massage Therapist",
            "Board Certified in Therapeutic Massage and Bodywork",
        ],
        PostnatalMassage,
        General,
    ),
    KnownCredential {
        names: &[
            "IBCLC",
            "International Board Certified Lactation Consultant",
        ],
        care_type: LactationConsulting,
        scope: Perinatal,
        strongest: true,
    },
    known(
        &[
            "CLC",
            "CLE",
            "Certified Lactation Counselor",
            "Certified Lactation Educator",
        ],
        LactationConsulting,
        Perinatal,
    ),
    known(&["PCD(DONA)", "CPD", "CD(DONA)", "CLD"], Doula, Perinatal),
    known(&["PMH-C"], PerinatalMentalHealth, Perinatal),
    known(
        &[
            "LCSW",
            "LICSW",
            "LPC",
            "LPCC",
            "LMHC",
            "LMFT",
            "PsyD",
            "Psychologist",
            "Licensed Psychologist",
            "Licensed Clinical Social Worker",
            "Licensed Professional Counselor",
        ],
        PerinatalMentalHealth,
        General,
    ),
    known(
        &[
            "ABOG",
            "FACOG",
            "Board Certified in Obstetrics and Gynecology",
            "CNM",
            "CPM",
            "Certified Nurse-Midwife",
            "Certified Professional Midwife",
        ],
        ObstetricCare,
        Perinatal,
    ),
    known(
        &["MD", "DO", "LM", "Licensed Midwife"],
        ObstetricCare,
        General,
    ),
];

/// Words that make a massage certificate perinatal: section 4 names no single national
/// credential ("e.g. a maternity massage certificate program").
const PERINATAL_MASSAGE_WORDS: &[&str] = &[
    "perinatal",
    "prenatal",
    "postnatal",
    "postpartum",
    "maternity",
    "pregnancy",
];

/// Letters and digits only, upper case: "PCD (DONA)" and "pcd(dona)" are one credential.
pub fn credential_key(name: &str) -> String {
    name.chars()
        .filter(|character| character.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Whether two names are one credential by [`credential_key`], without allocating: a summary
/// is made for every provider on every index build and reopen.
fn same_credential(first: &str, second: &str) -> bool {
    let mut first = first
        .chars()
        .filter(|character| character.is_alphanumeric())
        .flat_map(char::to_uppercase);
    let mut second = second
        .chars()
        .filter(|character| character.is_alphanumeric())
        .flat_map(char::to_uppercase);
    loop {
        match (first.next(), second.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// What the care guide knows of a credential by its name: the row of its table, or a
/// maternity massage certificate recognised by its words.
pub fn known_credential(name: &str) -> Option<(CareType, CertificationScope, bool)> {
    if let Some(row) = KNOWN_CREDENTIALS
        .iter()
        .find(|row| row.names.iter().any(|known| same_credential(known, name)))
    {
        return Some((row.care_type, row.scope, row.strongest));
    }
    let lower = name.to_lowercase();
    if lower.contains("massage") {
        let perinatal = PERINATAL_MASSAGE_WORDS
            .iter()
            .any(|word| lower.contains(word));
        return Some((
            PostnatalMassage,
            if perinatal { Perinatal } else { General },
            false,
        ));
    }
    None
}

/// How a credential counts for one care type of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedCredential {
    pub scope: CertificationScope,
    pub verified: bool,
    /// The strongest credential of its field (IBCLC).
    pub strongest: bool,
}

/// The care type `certification` counts for among a provider's care types, and how, or
/// `None` when it counts for none of them (the rule of [`counts_for`], computed once).
pub fn belongs_to(
    certification: &Certification,
    provider_care_types: &[CareType],
) -> Option<(CareType, CountedCredential)> {
    let (care_type, scope, strongest) = match known_credential(&certification.name) {
        Some(known) => known,
        None => match certification.care_type {
            Some(named) => (named, certification.scope, false),
            None => match provider_care_types {
                [only] => (*only, certification.scope, false),
                _ => return None,
            },
        },
    };
    Some((
        care_type,
        CountedCredential {
            scope,
            verified: certification.verified,
            strongest,
        },
    ))
}

/// How `certification` counts for `care_type` of a provider that gives `provider_care_types`,
/// or `None` when it belongs to another care type (care-guide.md section 4, 2nd edition): a
/// name the table knows belongs to its row (with the row's scope); another name to the care
/// type its record names; without one, only to a provider that gives a single care type.
pub fn counts_for(
    certification: &Certification,
    care_type: CareType,
    provider_care_types: &[CareType],
) -> Option<CountedCredential> {
    belongs_to(certification, provider_care_types)
        .filter(|(belongs, _)| *belongs == care_type)
        .map(|(_, counted)| counted)
}

/// The best certification a provider holds for one care type, in the care guide's order
/// (section 4): perinatal above general, verified above self-reported, and a named strongest
/// credential above all. A credential counts only for its own care type (2nd edition).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum CertificationLevel {
    None,
    GeneralSelfReported,
    GeneralVerified,
    PerinatalSelfReported,
    PerinatalVerified,
    StrongestCredentialVerified,
}

impl CertificationLevel {
    /// Every level, weakest first (the order of the variants, which `as usize` numbers).
    pub const ALL: [Self; 6] = [
        Self::None,
        Self::GeneralSelfReported,
        Self::GeneralVerified,
        Self::PerinatalSelfReported,
        Self::PerinatalVerified,
        Self::StrongestCredentialVerified,
    ];

    /// The level one counted credential gives.
    pub fn of(counted: CountedCredential) -> Self {
        match (counted.scope, counted.verified) {
            (_, true) if counted.strongest => Self::StrongestCredentialVerified,
            (Perinatal, true) => Self::PerinatalVerified,
            (Perinatal, false) => Self::PerinatalSelfReported,
            (General, true) => Self::GeneralVerified,
            (General, false) => Self::GeneralSelfReported,
        }
    }

    /// The level `provider` reaches for each care type (index `CareType as usize`), from the
    /// credentials that count for it; each credential's care type is found once.
    pub fn per_care_type(provider: &Provider) -> [Self; CareType::ALL.len()] {
        let mut levels = [Self::None; CareType::ALL.len()];
        for certification in &provider.certifications {
            let Some((care_type, counted)) = belongs_to(certification, &provider.care_types) else {
                continue;
            };
            let level = Self::of(counted);
            let slot = &mut levels[care_type as usize];
            *slot = (*slot).max(level);
        }
        levels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certification(name: &str, care_type: Option<CareType>) -> Certification {
        Certification {
            name: name.to_owned(),
            issuer: None,
            scope: Perinatal,
            verified: true,
            care_type,
        }
    }

    #[test]
    fn each_row_of_the_table_belongs_to_its_care_type() {
        for row in KNOWN_CREDENTIALS {
            for name in row.names {
                assert_eq!(
                    known_credential(name),
                    Some((row.care_type, row.scope, row.strongest)),
                    "{name}"
                );
            }
        }
        assert_eq!(
            known_credential("pcd (dona)"),
            Some((Doula, Perinatal, false))
        );
        assert_eq!(
            known_credential("Maternity Massage Certificate"),
            Some((PostnatalMassage, Perinatal, false))
        );
        assert_eq!(
            known_credential("Swedish Massage Diploma"),
            Some((PostnatalMassage, General, false))
        );
        assert_eq!(known_credential("Reiki Master"), None);
        assert_eq!(
            known_credential("CAPP"),
            None,
            "a prefix is not the credential"
        );
    }

    #[test]
    fn a_doulas_birth_certificate_and_an_ibclc_earn_nothing_for_massage() {
        let clinic = [PostnatalMassage, Doula, LactationConsulting];
        for name in ["CD(DONA)", "IBCLC", "PWCS"] {
            assert_eq!(
                counts_for(&certification(name, None), PostnatalMassage, &clinic),
                None,
                "{name}"
            );
        }
        let ibclc = counts_for(&certification("IBCLC", None), LactationConsulting, &clinic);
        assert!(ibclc.is_some_and(|counted| counted.strongest));
    }

    #[test]
    fn the_table_decides_the_scope_of_a_known_licence() {
        // An LMT marked perinatal on a listing is still a general licence.
        let counted = counts_for(
            &certification("LMT", None),
            PostnatalMassage,
            &[PostnatalMassage],
        );
        assert_eq!(counted.map(|counted| counted.scope), Some(General));
    }

    #[test]
    fn an_unknown_name_counts_for_the_care_type_its_record_names_or_a_single_care_type() {
        let named = certification("Spinning Babies Parent Educator", Some(Doula));
        assert!(counts_for(&named, Doula, &[Doula, PostnatalMassage]).is_some());
        assert!(counts_for(&named, PostnatalMassage, &[Doula, PostnatalMassage]).is_none());
        let unnamed = certification("Spinning Babies Parent Educator", None);
        assert!(counts_for(&unnamed, Doula, &[Doula]).is_some());
        assert!(counts_for(&unnamed, Doula, &[Doula, PostnatalMassage]).is_none());
    }
}
