//! The one table from NUCC Health Care Provider Taxonomy codes to carematch care types, used by
//! both importers (NPPES rows carry up to fifteen codes; Plan-Net `PractitionerRole.specialty`
//! and `HealthcareService.specialty` carry them as codings of `http://nucc.org/provider-taxonomy`).
//!
//! Source: the NUCC Health Care Provider Taxonomy code set (National Uniform Claim Committee,
//! <https://taxonomy.nucc.org>, the code list CMS uses in NPPES), restricted to the codes
//! `shared/domain/care-guide.md` section 7 names. Codes not in the table give no care type,
//! and an NPPES row or a FHIR role with none of them is skipped.
//!
//! | NUCC code | NUCC name | care type |
//! |---|---|---|
//! | 225100000X | Physical Therapist | PELVIC_FLOOR_PHYSICAL_THERAPY |
//! | 225700000X | Massage Therapist | POSTNATAL_MASSAGE |
//! | 163WM1400X | Registered Nurse, Massage Therapy | POSTNATAL_MASSAGE |
//! | 174N00000X | Lactation Consultant, Non-RN | LACTATION_CONSULTING |
//! | 163WL0100X | Registered Nurse, Lactation Consultant | LACTATION_CONSULTING |
//! | 374J00000X | Doula | DOULA |
//! | 176B00000X | Midwife | OBSTETRIC_CARE |
//! | 175M00000X | Midwife, Lay | OBSTETRIC_CARE |
//! | 367A00000X | Advanced Practice Midwife (CNM) | OBSTETRIC_CARE |
//! | 207V00000X | Obstetrics & Gynecology | OBSTETRIC_CARE |
//! | 207VX0000X | Obstetrics & Gynecology, Obstetrics | OBSTETRIC_CARE |
//! | 207VM0101X | Obstetrics & Gynecology, Maternal & Fetal Medicine | OBSTETRIC_CARE |
//! | 207VF0040X | Obstetrics & Gynecology, Female Pelvic Medicine & Reconstructive Surgery | OBSTETRIC_CARE |
//! | 363LP1700X | Nurse Practitioner, Perinatal | OBSTETRIC_CARE |
//! | 363LW0102X | Nurse Practitioner, Women's Health | OBSTETRIC_CARE |
//! | 103T00000X | Psychologist | PERINATAL_MENTAL_HEALTH |
//! | 103TC0700X | Psychologist, Clinical | PERINATAL_MENTAL_HEALTH |
//! | 101Y00000X | Counselor | PERINATAL_MENTAL_HEALTH |
//! | 101YM0800X | Counselor, Mental Health | PERINATAL_MENTAL_HEALTH |
//! | 101YP2500X | Counselor, Professional | PERINATAL_MENTAL_HEALTH |
//! | 104100000X | Social Worker | PERINATAL_MENTAL_HEALTH |
//! | 1041C0700X | Social Worker, Clinical | PERINATAL_MENTAL_HEALTH |
//! | 106H00000X | Marriage & Family Therapist | PERINATAL_MENTAL_HEALTH |
//! | 2084P0800X | Psychiatry & Neurology, Psychiatry | PERINATAL_MENTAL_HEALTH |
//! | 363LP0808X | Nurse Practitioner, Psychiatric/Mental Health | PERINATAL_MENTAL_HEALTH |
//!
//! Organisations (NPPES entity type 2) are providers too, under their organisation name
//! (care-guide.md section 7, 2nd edition): besides the codes above (a midwifery practice group
//! registers under the midwife codes), the clinic codes of [`CLINIC_TAXONOMY_CARE_TYPES`]:
//!
//! | NUCC code | NUCC name | care type |
//! |---|---|---|
//! | 261QP2000X | Clinic/Center, Physical Therapy | PELVIC_FLOOR_PHYSICAL_THERAPY |
//! | 261QM0801X | Clinic/Center, Mental Health (Including Community Mental Health Center) | PERINATAL_MENTAL_HEALTH |
//! | 261QB0400X | Clinic/Center, Birthing | OBSTETRIC_CARE |
//!
//! NUCC has no pelvic-floor code: every physical therapist maps to pelvic-floor physical therapy
//! with general scope, and the perinatal certifications (PWCS, CAPP-OB, ...) that set them
//! apart in ranking come from a directory or an admin. No NUCC code means "support group", so
//! no import yields SUPPORT_GROUP.

use carematch_domain::CareType;

/// The FHIR code system of NUCC taxonomy codes.
pub const NUCC_SYSTEM: &str = "http://nucc.org/provider-taxonomy";

/// Every mapped code with its NUCC name and care type (the table above, as data).
pub const TAXONOMY_CARE_TYPES: &[(&str, &str, CareType)] = &[
    (
        "225100000X",
        "Physical Therapist",
        CareType::PelvicFloorPhysicalTherapy,
    ),
    (
        "225700000X",
        "Massage Therapist",
        CareType::PostnatalMassage,
    ),
    (
        "163WM1400X",
        "Registered Nurse, Massage Therapy",
        CareType::PostnatalMassage,
    ),
    (
        "174N00000X",
        "Lactation Consultant, Non-RN",
        CareType::LactationConsulting,
    ),
    (
        "163WL0100X",
        "Registered Nurse, Lactation Consultant",
        CareType::LactationConsulting,
    ),
    ("374J00000X", "Doula", CareType::Doula),
    ("176B00000X", "Midwife", CareType::ObstetricCare),
    ("175M00000X", "Midwife, Lay", CareType::ObstetricCare),
    (
        "367A00000X",
        "Advanced Practice Midwife",
        CareType::ObstetricCare,
    ),
    (
        "207V00000X",
        "Obstetrics & Gynecology",
        CareType::ObstetricCare,
    ),
    (
        "207VX0000X",
        "Obstetrics & Gynecology, Obstetrics",
        CareType::ObstetricCare,
    ),
    (
        "207VM0101X",
        "Obstetrics & Gynecology, Maternal & Fetal Medicine",
        CareType::ObstetricCare,
    ),
    (
        "207VF0040X",
        "Obstetrics & Gynecology, Female Pelvic Medicine & Reconstructive Surgery",
        CareType::ObstetricCare,
    ),
    (
        "363LP1700X",
        "Nurse Practitioner, Perinatal",
        CareType::ObstetricCare,
    ),
    (
        "363LW0102X",
        "Nurse Practitioner, Women's Health",
        CareType::ObstetricCare,
    ),
    (
        "103T00000X",
        "Psychologist",
        CareType::PerinatalMentalHealth,
    ),
    (
        "103TC0700X",
        "Psychologist, Clinical",
        CareType::PerinatalMentalHealth,
    ),
    ("101Y00000X", "Counselor", CareType::PerinatalMentalHealth),
    (
        "101YM0800X",
        "Counselor, Mental Health",
        CareType::PerinatalMentalHealth,
    ),
    (
        "101YP2500X",
        "Counselor, Professional",
        CareType::PerinatalMentalHealth,
    ),
    (
        "104100000X",
        "Social Worker",
        CareType::PerinatalMentalHealth,
    ),
    (
        "1041C0700X",
        "Social Worker, Clinical",
        CareType::PerinatalMentalHealth,
    ),
    (
        "106H00000X",
        "Marriage & Family Therapist",
        CareType::PerinatalMentalHealth,
    ),
    (
        "2084P0800X",
        "Psychiatry & Neurology, Psychiatry",
        CareType::PerinatalMentalHealth,
    ),
    (
        "363LP0808X",
        "Nurse Practitioner, Psychiatric/Mental Health",
        CareType::PerinatalMentalHealth,
    ),
];

/// The clinic codes organisations register under (the second table above, as data).
pub const CLINIC_TAXONOMY_CARE_TYPES: &[(&str, &str, CareType)] = &[
    (
        "261QP2000X",
        "Clinic/Center, Physical Therapy",
        CareType::PelvicFloorPhysicalTherapy,
    ),
    (
        "261QM0801X",
        "Clinic/Center, Mental Health",
        CareType::PerinatalMentalHealth,
    ),
    (
        "261QB0400X",
        "Clinic/Center, Birthing",
        CareType::ObstetricCare,
    ),
];

/// The row of either table for a code (surrounding spaces and case ignored).
fn mapped_taxonomy(code: &str) -> Option<&'static (&'static str, &'static str, CareType)> {
    let code = code.trim();
    TAXONOMY_CARE_TYPES
        .iter()
        .chain(CLINIC_TAXONOMY_CARE_TYPES)
        .find(|(mapped, _, _)| mapped.eq_ignore_ascii_case(code))
}

/// The care type of a NUCC taxonomy code (surrounding spaces and case ignored), or `None` for
/// a code outside the tables.
pub fn care_type_of_taxonomy(code: &str) -> Option<CareType> {
    mapped_taxonomy(code).map(|(_, _, care_type)| *care_type)
}

/// The NUCC name of a mapped code (`Physical Therapist`), for naming what a source ties to it.
pub fn taxonomy_name(code: &str) -> Option<&'static str> {
    mapped_taxonomy(code).map(|(_, name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_care_guide_section_7_maps_to_its_care_type() {
        let expected = [
            ("225100000X", CareType::PelvicFloorPhysicalTherapy),
            ("225700000X", CareType::PostnatalMassage),
            ("163WM1400X", CareType::PostnatalMassage),
            ("174N00000X", CareType::LactationConsulting),
            ("163WL0100X", CareType::LactationConsulting),
            ("374J00000X", CareType::Doula),
            ("176B00000X", CareType::ObstetricCare),
            ("175M00000X", CareType::ObstetricCare),
            ("367A00000X", CareType::ObstetricCare),
            ("207V00000X", CareType::ObstetricCare),
            ("207VX0000X", CareType::ObstetricCare),
            ("207VM0101X", CareType::ObstetricCare),
            ("207VF0040X", CareType::ObstetricCare),
            ("103T00000X", CareType::PerinatalMentalHealth),
            ("103TC0700X", CareType::PerinatalMentalHealth),
            ("101Y00000X", CareType::PerinatalMentalHealth),
            ("101YM0800X", CareType::PerinatalMentalHealth),
            ("101YP2500X", CareType::PerinatalMentalHealth),
            ("104100000X", CareType::PerinatalMentalHealth),
            ("1041C0700X", CareType::PerinatalMentalHealth),
            ("106H00000X", CareType::PerinatalMentalHealth),
            ("2084P0800X", CareType::PerinatalMentalHealth),
            ("363LP0808X", CareType::PerinatalMentalHealth),
            ("363LP1700X", CareType::ObstetricCare),
            ("363LW0102X", CareType::ObstetricCare),
        ];
        assert_eq!(TAXONOMY_CARE_TYPES.len(), expected.len());
        for (code, care_type) in expected {
            assert_eq!(care_type_of_taxonomy(code), Some(care_type), "{code}");
        }
    }

    #[test]
    fn the_clinic_codes_of_care_guide_section_7_map_for_organisations() {
        let expected = [
            ("261QP2000X", CareType::PelvicFloorPhysicalTherapy),
            ("261QM0801X", CareType::PerinatalMentalHealth),
            ("261QB0400X", CareType::ObstetricCare),
        ];
        assert_eq!(CLINIC_TAXONOMY_CARE_TYPES.len(), expected.len());
        for (code, care_type) in expected {
            assert_eq!(care_type_of_taxonomy(code), Some(care_type), "{code}");
        }
        assert_eq!(taxonomy_name("261qb0400x"), Some("Clinic/Center, Birthing"));
        assert_eq!(taxonomy_name("225100000X"), Some("Physical Therapist"));
        // Rehabilitation and multi-specialty clinics are not.
        assert_eq!(care_type_of_taxonomy("261QR0400X"), None);
        assert_eq!(care_type_of_taxonomy("261QM1300X"), None);
    }

    #[test]
    fn unmapped_codes_give_no_care_type() {
        // Family medicine, dentist, pharmacist, an empty cell.
        for code in ["207Q00000X", "122300000X", "183500000X", "", "   "] {
            assert_eq!(care_type_of_taxonomy(code), None, "{code:?}");
        }
        assert_eq!(
            care_type_of_taxonomy(" 225100000x "),
            Some(CareType::PelvicFloorPhysicalTherapy)
        );
    }
}
