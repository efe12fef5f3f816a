//! The NPPES importer on a fixture in the real `npidata_pfile` format (the full 330-column
//! header, every field quoted): one individual per mapped taxonomy code, organisations,
//! several taxonomies with licences in other states, deactivated and reactivated NPIs, ZIP+4,
//! bad NPIs, a foreign practice, a postal code without a centroid, and broken rows.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use carematch_domain::credentials::counts_for;
use carematch_domain::{
    CareMode, CareType, Certification, CertificationScope, Npi, PostalCode, Provider,
};
use carematch_ingest::nppes::{NppesOptions, import_nppes, import_nppes_file};
use carematch_ingest::taxonomy::TAXONOMY_CARE_TYPES;
use carematch_ingest::{ImportSummary, IngestError, NoProgress, SkipReason};
use carematch_store::Store;
use carematch_store::on_every_backend;
use carematch_store::test_support::TestContext;
use futures::StreamExt;

const FIXTURE: &str = "npidata_pfile_fixture.csv";
/// Clinics, a birthing center, a midwifery practice group and a doula who is also an IBCLC
/// (care-guide.md sections 4 and 7, 2nd edition).
const ORGANISATIONS: &str = "npidata_pfile_organisations.csv";

async fn import_fixture(store: &Store) -> ImportSummary {
    import_nppes_file(
        store,
        &support::fixture(FIXTURE),
        Arc::new(NoProgress),
        // Small batches so the fixture spans several transactions.
        NppesOptions { batch_size: 7 },
    )
    .await
    .unwrap()
}

async fn provider(store: &Store, npi: &str) -> Provider {
    let npi = Npi::parse(npi).unwrap();
    store
        .providers_by_npi(std::slice::from_ref(&npi))
        .await
        .unwrap()
        .remove(&npi)
        .unwrap_or_else(|| panic!("no provider with npi {}", npi.as_str()))
}

async fn all_providers(store: &Store) -> Vec<Provider> {
    let pages: Vec<_> = store.stream_providers(100).collect().await;
    pages.into_iter().flat_map(Result::unwrap).collect()
}

/// The NPI the fixture gives the `index`-th row of its per-taxonomy block (base 100000000).
fn fixture_npi(base: u64) -> String {
    let base = base.to_string();
    (0..10)
        .map(|digit| format!("{base}{digit}"))
        .find(|candidate| Npi::parse(candidate).is_ok())
        .unwrap()
}

async fn counts_every_row_by_outcome_and_reason(TestContext { store, .. }: TestContext) {
    let summary = import_fixture(&store).await;
    assert_eq!(summary.read, 41);
    assert_eq!(summary.created, 30);
    assert_eq!((summary.updated, summary.unchanged), (0, 0));
    assert_eq!(summary.skipped[&SkipReason::Deactivated], 2);
    assert_eq!(summary.skipped[&SkipReason::NoMappedTaxonomy], 2);
    assert_eq!(summary.skipped[&SkipReason::PracticeLocationOutsideUs], 1);
    assert_eq!(summary.skipped[&SkipReason::PostalCodeWithoutCentroid], 1);
    assert_eq!(summary.skipped_total(), 6);
    let failures: Vec<(String, String)> = summary
        .failures
        .iter()
        .map(|failure| (failure.record.clone(), failure.field.clone()))
        .collect();
    assert_eq!(
        failures,
        vec![
            ("line 35".to_owned(), "NPI".to_owned()),
            ("line 36".to_owned(), "NPI".to_owned()),
            (
                "line 39".to_owned(),
                "Provider Business Practice Location Address Postal Code".to_owned()
            ),
            (
                "line 40".to_owned(),
                "Provider Last Name (Legal Name)".to_owned()
            ),
            ("line 41".to_owned(), String::new()),
        ]
    );
    assert_eq!(summary.failures[0].problem, "check digit does not match");
    assert_eq!(summary.failures[1].problem, "must be 10 digits");
    assert!(summary.failures[4].problem.contains("has 6 fields"));
    assert_eq!(
        summary.failures_by_field()["NPI"],
        2,
        "{}",
        summary.describe()
    );
    assert!(summary.describe().starts_with(
        "read 41: imported 30 (30 created, 0 updated, 0 unchanged), skipped 6, failed 5"
    ));
    assert_eq!(summary.changed_provider_ids.len(), 30);
    assert_eq!(store.count_providers().await.unwrap(), 30);
}

async fn maps_each_taxonomy_code_to_its_care_type(TestContext { store, .. }: TestContext) {
    import_fixture(&store).await;
    for (index, (code, _, care_type)) in TAXONOMY_CARE_TYPES.iter().enumerate() {
        let provider = provider(&store, &fixture_npi(100_000_000 + index as u64)).await;
        assert_eq!(provider.care_types, vec![*care_type], "{code}");
        assert_eq!(
            provider.modes.contains(&CareMode::HomeVisit),
            *care_type == CareType::Doula
        );
    }
}

async fn maps_every_field_of_an_individual(TestContext { store, .. }: TestContext) {
    import_fixture(&store).await;
    let jane = provider(&store, "1000000004").await;
    assert_eq!(jane.name.as_str(), "Jane Doe, PT, DPT");
    assert_eq!(jane.npi.as_ref().map(Npi::as_str), Some("1000000004"));
    assert_eq!(jane.care_types, vec![CareType::PelvicFloorPhysicalTherapy]);
    // Each credential of the text, then the licence of her taxonomy row, for its care type.
    let self_reported = |name: &str| Certification {
        name: name.to_owned(),
        issuer: None,
        scope: CertificationScope::General,
        verified: false,
        care_type: None,
    };
    assert_eq!(
        jane.certifications,
        vec![
            self_reported("PT"),
            self_reported("DPT"),
            Certification {
                name: "Physical Therapist license LIC10004".to_owned(),
                issuer: Some("OR licensing board".to_owned()),
                scope: CertificationScope::General,
                verified: false,
                care_type: Some(CareType::PelvicFloorPhysicalTherapy),
            },
        ]
    );
    assert_eq!(jane.modes, vec![CareMode::InPerson]);
    assert!(jane.accepting_new_clients);
    assert!(jane.languages.is_empty() && jane.insurance.is_empty() && jane.treats.is_empty());
    assert_eq!(jane.bio, None);
    // Licensed in OR only, the state of her practice: no extra licensed regions.
    assert!(jane.licensed_regions.is_empty());
    let location = &jane.locations[..];
    assert_eq!(location.len(), 1);
    // 97205-1234 (written 972051234) is cut to 97205 and placed at its centroid.
    assert_eq!(
        location[0].postal_code,
        Some(PostalCode::parse("97205").unwrap())
    );
    assert_eq!(location[0].point.latitude(), 45.5207);
    assert_eq!(location[0].point.longitude(), -122.6888);
    assert_eq!(location[0].address.as_deref(), Some("1 N Main St"));
    assert_eq!(location[0].city.as_deref(), Some("Portland"));
    assert_eq!(location[0].region.as_ref().map(|r| r.as_str()), Some("OR"));

    // A hyphenated ZIP+4 and a name with an apostrophe.
    let kate = provider(&store, "1000000046").await;
    assert_eq!(kate.name.as_str(), "Kate O'Brien, RN, IBCLC");
    assert_eq!(
        kate.locations[0].postal_code.as_ref().unwrap().as_str(),
        "94110"
    );
    assert_eq!(kate.care_types, vec![CareType::LactationConsulting]);

    // No credential: no trailing comma, and only the licence of her doula row.
    let rosa = provider(&store, "1000000053").await;
    assert_eq!(rosa.name.as_str(), "Rosa Martinez");
    let names: Vec<&str> = rosa
        .certifications
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["Doula license LIC10053"]);
    assert_eq!(rosa.modes, vec![CareMode::InPerson, CareMode::HomeVisit]);
    assert_eq!(
        rosa.locations[0].postal_code.as_ref().unwrap().as_str(),
        "78701"
    );
}

async fn maps_organisations_several_taxonomies_and_reactivated_npis(
    TestContext { store, .. }: TestContext,
) {
    import_fixture(&store).await;
    let clinic = provider(&store, &fixture_npi(100_000_100)).await;
    assert_eq!(clinic.name.as_str(), "Rose City Pelvic Health LLC");
    // The licence of its unmapped rehabilitation row is not kept; its PT licence is.
    let names: Vec<&str> = clinic
        .certifications
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["Physical Therapist license LIC21002"]);
    // Its first taxonomy (a rehabilitation clinic) is not mapped; its second is.
    assert_eq!(
        clinic.care_types,
        vec![CareType::PelvicFloorPhysicalTherapy]
    );
    assert_eq!(
        clinic.locations[0].address.as_deref(),
        Some("500 Sw Broadway")
    );
    assert_eq!(
        clinic.locations[0].postal_code.as_ref().unwrap().as_str(),
        "97205"
    );

    // Mixed case is kept as the registry wrote it.
    let lactation = provider(&store, &fixture_npi(100_000_101)).await;
    assert_eq!(lactation.name.as_str(), "Milk & Honey Lactation, Inc.");
    assert_eq!(lactation.care_types, vec![CareType::LactationConsulting]);

    // Lactation and women's health NP, licensed in OR (her practice), WA and ID.
    let meera = provider(&store, &fixture_npi(100_000_102)).await;
    assert_eq!(meera.name.as_str(), "Meera Patel, RN, IBCLC, WHNP");
    assert_eq!(
        meera.care_types,
        vec![CareType::LactationConsulting, CareType::ObstetricCare]
    );
    let regions: Vec<&str> = meera.licensed_regions.iter().map(|r| r.as_str()).collect();
    assert_eq!(regions, vec!["ID", "WA"]);
    // Each licence is for the care type of its row: the lactation licence, then the women's
    // health NP licences of two states.
    let licences: Vec<(&str, Option<&str>, Option<CareType>)> = meera
        .certifications
        .iter()
        .filter(|certification| certification.care_type.is_some())
        .map(|c| (c.name.as_str(), c.issuer.as_deref(), c.care_type))
        .collect();
    assert_eq!(
        licences,
        [
            (
                "Registered Nurse, Lactation Consultant license LIC21028",
                Some("OR licensing board"),
                Some(CareType::LactationConsulting)
            ),
            (
                "Nurse Practitioner, Women's Health license LIC31028",
                Some("WA licensing board"),
                Some(CareType::ObstetricCare)
            ),
            (
                "Nurse Practitioner, Women's Health license LIC41028",
                Some("ID licensing board"),
                Some(CareType::ObstetricCare)
            ),
        ]
    );

    // Deactivated in 2019, reactivated in 2020: imported.
    let tara = provider(&store, &fixture_npi(100_000_103)).await;
    assert_eq!(tara.care_types, vec![CareType::PostnatalMassage]);
    // The row after a truncated one is imported.
    let after = provider(&store, &fixture_npi(100_000_113)).await;
    assert_eq!(after.name.as_str(), "Badrow After, CD(DONA)");

    // Skipped and failed rows wrote nothing.
    for skipped in [104, 105, 106, 107, 108, 109, 110, 111, 112] {
        let npi = Npi::parse(&fixture_npi(100_000_000 + skipped)).unwrap();
        assert!(
            store.providers_by_npi(&[npi]).await.unwrap().is_empty(),
            "row {skipped} was written"
        );
    }
}

async fn import_organisations(store: &Store) -> ImportSummary {
    import_nppes_file(
        store,
        &support::fixture(ORGANISATIONS),
        Arc::new(NoProgress),
        NppesOptions::default(),
    )
    .await
    .unwrap()
}

async fn organisations_are_providers_under_their_name_with_the_clinic_codes_of_section_7(
    TestContext { store, .. }: TestContext,
) {
    let summary = import_organisations(&store).await;
    assert_eq!(
        (summary.read, summary.created),
        (6, 5),
        "{}",
        summary.describe()
    );
    assert_eq!(summary.skipped[&SkipReason::NoMappedTaxonomy], 1);
    assert!(summary.failures.is_empty(), "{}", summary.describe());

    let clinic = provider(&store, "1200000010").await;
    assert_eq!(clinic.name.as_str(), "Bridgetown Pelvic PT And Massage LLC");
    assert_eq!(
        clinic.care_types,
        [
            CareType::PelvicFloorPhysicalTherapy,
            CareType::PostnatalMassage
        ]
    );
    assert_eq!(clinic.modes, [CareMode::InPerson]);
    assert_eq!(
        clinic.locations[0].postal_code.as_ref().unwrap().as_str(),
        "97201"
    );

    let mental_health = provider(&store, "1200000028").await;
    assert_eq!(
        mental_health.name.as_str(),
        "Emerald City Perinatal Mental Health Clinic"
    );
    assert_eq!(mental_health.care_types, [CareType::PerinatalMentalHealth]);

    let birth_center = provider(&store, "1200000036").await;
    assert_eq!(birth_center.name.as_str(), "Hill Country Birth Center PLLC");
    assert_eq!(birth_center.care_types, [CareType::ObstetricCare]);

    // A midwifery practice group registers under the midwife code; without a licence number
    // it lists no certification.
    let midwives = provider(&store, "1200000044").await;
    assert_eq!(midwives.name.as_str(), "Mission Midwives Collective");
    assert_eq!(midwives.care_types, [CareType::ObstetricCare]);
    assert!(midwives.certifications.is_empty());

    // The multi-specialty clinic has no code of section 7 and wrote nothing.
    let skipped = Npi::parse("1200000069").unwrap();
    assert!(store.providers_by_npi(&[skipped]).await.unwrap().is_empty());
}

async fn a_licence_on_a_taxonomy_row_counts_only_for_that_taxonomys_care_type(
    TestContext { store, .. }: TestContext,
) {
    import_organisations(&store).await;

    // The PT clinic's licence is the clinic's: general for physical therapy, nothing for
    // its massage room (care-guide.md section 4, 2nd edition).
    let clinic = provider(&store, "1200000010").await;
    assert_eq!(
        clinic.certifications,
        [Certification {
            name: "Clinic/Center, Physical Therapy license PTC-4471".to_owned(),
            issuer: Some("OR licensing board".to_owned()),
            scope: CertificationScope::General,
            verified: false,
            care_type: Some(CareType::PelvicFloorPhysicalTherapy),
        }]
    );
    let licence = &clinic.certifications[0];
    let for_pt = counts_for(
        licence,
        CareType::PelvicFloorPhysicalTherapy,
        &clinic.care_types,
    );
    assert_eq!(
        for_pt.map(|counted| counted.scope),
        Some(CertificationScope::General)
    );
    assert_eq!(
        counts_for(licence, CareType::PostnatalMassage, &clinic.care_types),
        None
    );

    // Clinics with no perinatal credential rank as general: every credential imported for an
    // organisation is a general licence.
    for npi in ["1200000010", "1200000028", "1200000036"] {
        let organisation = provider(&store, npi).await;
        assert_eq!(organisation.certifications.len(), 1, "{npi}");
        for care_type in &organisation.care_types {
            for certification in &organisation.certifications {
                if let Some(counted) =
                    counts_for(certification, *care_type, &organisation.care_types)
                {
                    assert_eq!(counted.scope, CertificationScope::General, "{npi}");
                }
            }
        }
    }

    // A doula who is also an IBCLC: her birth-doula certificate counts for doula care, the
    // IBCLC and her lactation licence for lactation, none of them for the other.
    let amara = provider(&store, "1200000051").await;
    assert_eq!(amara.name.as_str(), "Amara Okafor, CD(DONA), IBCLC");
    assert_eq!(
        amara.care_types,
        [CareType::LactationConsulting, CareType::Doula]
    );
    let counted_for = |care_type: CareType| -> Vec<&str> {
        amara
            .certifications
            .iter()
            .filter(|certification| {
                counts_for(certification, care_type, &amara.care_types).is_some()
            })
            .map(|certification| certification.name.as_str())
            .collect()
    };
    assert_eq!(counted_for(CareType::Doula), ["CD(DONA)"]);
    assert_eq!(
        counted_for(CareType::LactationConsulting),
        ["IBCLC", "Lactation Consultant, Non-RN license LC-2210"]
    );
}

async fn importing_the_same_file_twice_leaves_the_same_providers(
    TestContext { store, .. }: TestContext,
) {
    import_fixture(&store).await;
    let first = all_providers(&store).await;
    let generation = store.data_generation().await.unwrap();
    let again = import_fixture(&store).await;
    assert_eq!(again.created + again.updated, 0);
    assert_eq!(again.unchanged, 30);
    assert!(again.changed_provider_ids.is_empty());
    assert_eq!(all_providers(&store).await, first);
    // Nothing was written, so replicas have nothing to catch up on.
    assert_eq!(store.data_generation().await.unwrap(), generation);
}

async fn a_changed_row_updates_the_same_provider_and_keeps_what_nppes_does_not_know(
    TestContext { store, .. }: TestContext,
) {
    import_fixture(&store).await;
    let before = provider(&store, "1000000004").await;
    // An admin adds a bio and a perinatal certification.
    let mut edited = before.clone();
    edited.bio = Some("Pelvic health after birth".to_owned());
    edited.certifications = vec![Certification {
        name: "PWCS".to_owned(),
        issuer: Some("ABPTS".to_owned()),
        scope: CertificationScope::Perinatal,
        verified: true,
        care_type: None,
    }];
    store.upsert_provider(&edited).await.unwrap();
    let generation = store.data_generation().await.unwrap();

    // Next month she has moved to Seattle.
    let text = std::fs::read_to_string(support::fixture(FIXTURE)).unwrap();
    let moved = text.replacen(
        "\"1 N MAIN ST\",\"\",\"PORTLAND\",\"OR\",\"972051234\"",
        "\"9 PIKE ST\",\"\",\"SEATTLE\",\"WA\",\"98101\"",
        1,
    );
    assert_ne!(moved, text, "the fixture's practice address changed");
    let summary = import_nppes(
        &store,
        std::io::Cursor::new(moved.into_bytes()),
        Arc::new(NoProgress),
        NppesOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        (summary.created, summary.updated, summary.unchanged),
        (0, 1, 29)
    );
    assert_eq!(summary.changed_provider_ids, vec![before.id]);
    assert!(store.data_generation().await.unwrap() > generation);

    let after = provider(&store, "1000000004").await;
    assert_eq!(after.id, before.id);
    assert_eq!(after.locations[0].city.as_deref(), Some("Seattle"));
    assert_eq!(
        after.locations[0].postal_code.as_ref().unwrap().as_str(),
        "98101"
    );
    assert_eq!(after.bio, edited.bio);
    assert_eq!(after.certifications, edited.certifications);
    assert_eq!(store.count_providers().await.unwrap(), 30);
}

async fn a_file_without_the_nppes_columns_is_refused(TestContext { store, .. }: TestContext) {
    let error = import_nppes(
        &store,
        std::io::Cursor::new(b"npi,name\n1234567893,Jane\n".to_vec()),
        Arc::new(NoProgress),
        NppesOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, IngestError::MissingColumn(ref column) if column == "Healthcare Provider Taxonomy Code_1"),
        "{error}"
    );
    assert_eq!(store.count_providers().await.unwrap(), 0);
}

async fn a_row_that_is_not_utf8_does_not_stop_the_rows_after_it(
    TestContext { store, .. }: TestContext,
) {
    // The fixture with a Latin-1 "É" (0xC9) in the first row's last name: the registry is
    // ASCII, so a stray byte is read as a replacement character, never the end of the file.
    let mut bytes = std::fs::read(support::fixture(FIXTURE)).unwrap();
    let at = bytes
        .windows(5)
        .position(|window| window == b"\"DOE\"")
        .unwrap();
    bytes[at + 2] = 0xC9;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("latin1.csv");
    std::fs::write(&path, bytes).unwrap();
    let summary = import_nppes_file(
        &store,
        &path,
        Arc::new(NoProgress),
        NppesOptions { batch_size: 7 },
    )
    .await
    .unwrap();
    assert_eq!((summary.read, summary.created), (41, 30));
    assert_eq!(summary.failures.len(), 5, "{}", summary.describe());
    assert_eq!(store.count_providers().await.unwrap(), 30);
}

on_every_backend!(
    counts_every_row_by_outcome_and_reason,
    maps_each_taxonomy_code_to_its_care_type,
    maps_every_field_of_an_individual,
    maps_organisations_several_taxonomies_and_reactivated_npis,
    importing_the_same_file_twice_leaves_the_same_providers,
    a_changed_row_updates_the_same_provider_and_keeps_what_nppes_does_not_know,
    a_file_without_the_nppes_columns_is_refused,
    organisations_are_providers_under_their_name_with_the_clinic_codes_of_section_7,
    a_licence_on_a_taxonomy_row_counts_only_for_that_taxonomys_care_type,
    a_row_that_is_not_utf8_does_not_stop_the_rows_after_it,
);
