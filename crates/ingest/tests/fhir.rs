//! The FHIR Plan-Net importer on a fixture Bundle and the same resources as NDJSON: payer,
//! networks and insurance plans, locations with and without a position, practitioners with
//! roles, qualifications and languages, an organisation providing services, and resources that
//! are inactive, unmapped, broken or dangling.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use carematch_domain::credentials::counts_for;
use carematch_domain::{
    CareMode, CareType, Certification, CertificationScope, InsurancePlan, Npi, Provider,
};
use carematch_ingest::fhir::{import_fhir, import_fhir_file};
use carematch_ingest::nppes::{NppesOptions, import_nppes_file};
use carematch_ingest::{ImportSummary, IngestError, NoProgress, SkipReason};
use carematch_store::Store;
use carematch_store::on_every_backend;
use carematch_store::test_support::TestContext;
use futures::StreamExt;

async fn import(store: &Store, name: &str) -> ImportSummary {
    import_fhir_file(store, &support::fixture(name), Arc::new(NoProgress))
        .await
        .unwrap()
}

async fn all_providers(store: &Store) -> Vec<Provider> {
    let pages: Vec<_> = store.stream_providers(100).collect().await;
    pages.into_iter().flat_map(Result::unwrap).collect()
}

fn named<'a>(providers: &'a [Provider], name: &str) -> &'a Provider {
    providers
        .iter()
        .find(|provider| provider.name.as_str() == name)
        .unwrap_or_else(|| panic!("no provider named {name}"))
}

fn failures(summary: &ImportSummary) -> Vec<(String, String, String)> {
    summary
        .failures
        .iter()
        .map(|failure| {
            (
                failure.record.clone(),
                failure.field.clone(),
                failure.problem.clone(),
            )
        })
        .collect()
}

async fn a_bundle_is_counted_by_outcome_and_reason(TestContext { store, .. }: TestContext) {
    let summary = import(&store, "plannet_bundle.json").await;
    assert_eq!(summary.read, 28);
    assert_eq!((summary.created, summary.updated), (3, 0));
    assert_eq!(summary.skipped[&SkipReason::Inactive], 1);
    assert_eq!(summary.skipped[&SkipReason::NoMappedTaxonomy], 1);
    assert_eq!(summary.skipped[&SkipReason::UnsupportedResourceType], 1);
    let failures = failures(&summary);
    assert_eq!(failures.len(), 4, "{failures:?}");
    assert_eq!(failures[0].0, "Location/loc-broken");
    assert_eq!(failures[0].1, "position.latitude");
    assert_eq!(
        failures[1],
        (
            "Practitioner/ghost-office".to_owned(),
            "PractitionerRole/role-ghost.location[0]".to_owned(),
            "Location/nowhere is not in the file".to_owned()
        )
    );
    assert_eq!(
        failures[2],
        (
            "Practitioner/bad-npi".to_owned(),
            "identifier(us-npi)".to_owned(),
            "check digit does not match".to_owned()
        )
    );
    assert_eq!(
        failures[3],
        (
            "Practitioner/broken-office".to_owned(),
            "PractitionerRole/role-broken.location[0]".to_owned(),
            "Location/loc-broken failed to parse".to_owned()
        )
    );
    assert_eq!(store.count_providers().await.unwrap(), 3);
}

async fn maps_every_field_of_a_practitioner(TestContext { store, .. }: TestContext) {
    import(&store, "plannet_bundle.json").await;
    let providers = all_providers(&store).await;
    let lisa = named(&providers, "Lisa Nguyen, IBCLC");
    assert_eq!(lisa.npi.as_ref().map(Npi::as_str), Some("1000000038"));
    // Family medicine is not mapped; lactation is.
    assert_eq!(lisa.care_types, vec![CareType::LactationConsulting]);
    assert_eq!(
        lisa.certifications,
        vec![
            Certification {
                name: "IBCLC".to_owned(),
                issuer: Some("IBLCE".to_owned()),
                scope: CertificationScope::Perinatal,
                verified: true,
                care_type: None,
            },
            Certification {
                name: "Registered Nurse".to_owned(),
                issuer: Some("Oregon State Board of Nursing".to_owned()),
                scope: CertificationScope::General,
                verified: true,
                care_type: None,
            },
        ]
    );
    // French at elementary proficiency is left out; Vietnamese has no proficiency given.
    let languages: Vec<&str> = lisa.languages.iter().map(|l| l.as_str()).collect();
    assert_eq!(languages, vec!["English", "Spanish", "Vietnamese"]);
    assert_eq!(lisa.modes, vec![CareMode::InPerson, CareMode::Telehealth]);
    assert!(lisa.accepting_new_clients);
    // Her one role is for lactation: every contract it lists is for lactation.
    assert_eq!(
        lisa.insurance,
        vec![
            InsurancePlan {
                payer: "Acme Health".to_owned(),
                plan: Some("Acme Gold PPO".to_owned()),
                care_types: vec![CareType::LactationConsulting],
            },
            InsurancePlan {
                payer: "Acme Health".to_owned(),
                plan: Some("Acme Silver HMO".to_owned()),
                care_types: vec![CareType::LactationConsulting],
            },
            InsurancePlan {
                payer: "River Valley Network".to_owned(),
                plan: None,
                care_types: vec![CareType::LactationConsulting],
            },
        ]
    );
    let regions: Vec<&str> = lisa.licensed_regions.iter().map(|r| r.as_str()).collect();
    assert_eq!(regions, vec!["OR", "WA"]);

    assert_eq!(lisa.locations.len(), 2);
    // Location.position is used as given.
    let pearl = &lisa.locations[0];
    assert_eq!(
        (pearl.point.latitude(), pearl.point.longitude()),
        (45.5252, -122.684)
    );
    assert_eq!(
        pearl.address.as_deref(),
        Some("1200 NW Everett St, Suite 300")
    );
    assert_eq!(pearl.city.as_deref(), Some("Portland"));
    assert_eq!(pearl.region.as_ref().map(|r| r.as_str()), Some("OR"));
    assert_eq!(
        pearl.postal_code.as_ref().map(|p| p.as_str()),
        Some("97209")
    );
    // Without a position: the centroid of the ZIP+4's five digits.
    let eastside = &lisa.locations[1];
    assert_eq!(
        (eastside.point.latitude(), eastside.point.longitude()),
        (45.5207, -122.6888)
    );
    assert_eq!(
        eastside.postal_code.as_ref().map(|p| p.as_str()),
        Some("97205")
    );
}

async fn maps_a_telehealth_only_practitioner_and_an_organisation(
    TestContext { store, .. }: TestContext,
) {
    import(&store, "plannet_bundle.json").await;
    let providers = all_providers(&store).await;
    let dana = named(&providers, "Dana Scott, LPC, PMH-C");
    assert_eq!(dana.npi, None);
    assert_eq!(dana.care_types, vec![CareType::PerinatalMentalHealth]);
    assert_eq!(dana.modes, vec![CareMode::Telehealth]);
    assert!(dana.locations.is_empty());
    // newpatients says `nopt`: not accepting.
    assert!(!dana.accepting_new_clients);
    assert_eq!(dana.certifications[0].name, "PMH-C");
    assert_eq!(dana.certifications[0].scope, CertificationScope::Perinatal);
    assert_eq!(
        dana.certifications[0].issuer.as_deref(),
        Some("Postpartum Support International")
    );
    assert_eq!(dana.certifications[1].name, "LPC");
    assert_eq!(dana.certifications[1].scope, CertificationScope::General);

    let bloom = named(&providers, "Bloom Lactation & Doula Collective");
    assert_eq!(bloom.npi.as_ref().map(Npi::as_str), Some("1000002000"));
    assert_eq!(
        bloom.care_types,
        vec![CareType::LactationConsulting, CareType::Doula]
    );
    // One location shared by both services; the doula service visits homes.
    assert_eq!(bloom.locations.len(), 1);
    assert_eq!(bloom.locations[0].city.as_deref(), Some("Seattle"));
    assert_eq!(bloom.modes, vec![CareMode::InPerson, CareMode::HomeVisit]);
    assert!(bloom.accepting_new_clients);
    let languages: Vec<&str> = bloom.languages.iter().map(|l| l.as_str()).collect();
    assert_eq!(languages, vec!["Somali"]);
}

async fn importing_the_same_bundle_twice_leaves_the_same_providers(
    TestContext { store, .. }: TestContext,
) {
    import(&store, "plannet_bundle.json").await;
    let first = all_providers(&store).await;
    let again = import(&store, "plannet_bundle.json").await;
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
    assert_eq!(all_providers(&store).await, first);

    // The same resources as NDJSON are the same providers (same ids, even without an NPI).
    let ndjson = import(&store, "plannet.ndjson").await;
    assert_eq!(
        (ndjson.created, ndjson.updated, ndjson.unchanged),
        (0, 0, 3)
    );
    assert_eq!(all_providers(&store).await, first);
}

async fn ndjson_reports_a_bad_line_by_number_and_imports_the_rest(
    TestContext { store, .. }: TestContext,
) {
    let summary = import(&store, "plannet.ndjson").await;
    assert_eq!(summary.read, 29);
    assert_eq!(summary.created, 3);
    let last = summary.failures.last().unwrap();
    assert_eq!(last.record, "line 29");
    assert!(last.problem.starts_with("not JSON"), "{}", last.problem);
    assert_eq!(summary.failures.len(), 5);
}

async fn an_ndjson_line_that_is_not_utf8_is_one_bad_line(TestContext { store, .. }: TestContext) {
    // A resource with a Latin-1 "é" (0xE9) in its name, inserted as line 2 of the fixture.
    let fixture = std::fs::read(support::fixture("plannet.ndjson")).unwrap();
    let first_line_end = fixture.iter().position(|byte| *byte == b'\n').unwrap() + 1;
    let mut bytes = fixture[..first_line_end].to_vec();
    bytes.extend_from_slice(
        b"{\"resourceType\": \"Organization\", \"id\": \"caf\xe9\", \"name\": \"Caf\xe9\"}\n",
    );
    bytes.extend_from_slice(&fixture[first_line_end..]);
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("latin1.ndjson");
    std::fs::write(&path, bytes).unwrap();
    let summary = import_fhir_file(&store, &path, Arc::new(NoProgress))
        .await
        .unwrap();
    assert_eq!(summary.read, 30);
    assert_eq!(summary.created, 3, "{}", summary.describe());
    let not_utf8 = &summary.failures[0];
    assert_eq!(not_utf8.record, "line 2");
    assert!(
        not_utf8.problem.starts_with("not valid UTF-8"),
        "{}",
        not_utf8.problem
    );
    assert_eq!(summary.failures.len(), 6);
}

async fn a_directory_updates_the_provider_nppes_created_for_the_same_npi(
    TestContext { store, .. }: TestContext,
) {
    import_nppes_file(
        &store,
        &support::fixture("npidata_pfile_fixture.csv"),
        Arc::new(NoProgress),
        NppesOptions::default(),
    )
    .await
    .unwrap();
    let npi = Npi::parse("1000000038").unwrap();
    let from_nppes = store
        .providers_by_npi(std::slice::from_ref(&npi))
        .await
        .unwrap()[&npi]
        .clone();
    let count = store.count_providers().await.unwrap();

    let summary = import(&store, "plannet_bundle.json").await;
    assert_eq!((summary.created, summary.updated), (2, 1));
    let updated = store
        .providers_by_npi(std::slice::from_ref(&npi))
        .await
        .unwrap()[&npi]
        .clone();
    assert_eq!(updated.id, from_nppes.id);
    assert_eq!(updated.name.as_str(), "Lisa Nguyen, IBCLC");
    assert_eq!(
        updated.certifications[0].scope,
        CertificationScope::Perinatal
    );
    assert_eq!(updated.insurance.len(), 3);
    assert_eq!(store.count_providers().await.unwrap(), count + 2);
    assert!(summary.changed_provider_ids.contains(&from_nppes.id));
}

async fn a_file_that_is_not_fhir_is_refused(TestContext { store, .. }: TestContext) {
    let error = import_fhir(&store, "NPI,Entity Type Code\n1,2\n", &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(error, IngestError::NotFhir(_)), "{error}");
}

async fn contracts_and_credentials_belong_to_the_care_type_the_directory_names(
    TestContext { store, .. }: TestContext,
) {
    let summary = import(&store, "plannet_care_types.ndjson").await;
    assert!(summary.failures.is_empty(), "{}", summary.describe());
    assert_eq!(summary.created, 3, "{}", summary.describe());
    let providers = all_providers(&store).await;
    let contract = |plan: &str, care_types: &[CareType]| InsurancePlan {
        payer: "Cigna".to_owned(),
        plan: Some(plan.to_owned()),
        care_types: care_types.to_vec(),
    };

    // A PT with a massage room and doula work: only her PT role is in Cigna's network, so
    // every Cigna contract names physical therapy alone; the behavioral-health plan on the
    // same network covers none of her care and is left out (care-guide.md section 5).
    let june = named(&providers, "June Park, DPT");
    assert_eq!(
        june.care_types,
        [
            CareType::PelvicFloorPhysicalTherapy,
            CareType::PostnatalMassage,
            CareType::Doula
        ]
    );
    let pt = [CareType::PelvicFloorPhysicalTherapy];
    assert_eq!(
        june.insurance,
        [
            contract("Open Access Plus", &pt),
            contract("Rehab Select", &pt)
        ]
    );
    // A credential the care guide's table does not know gets the care type of the NUCC code
    // beside it; names the table knows (a DPT, a massage licence) keep the table's.
    let credentials: Vec<(&str, Option<CareType>)> = june
        .certifications
        .iter()
        .map(|certification| (certification.name.as_str(), certification.care_type))
        .collect();
    assert_eq!(
        credentials,
        [
            ("Doctor of Physical Therapy", None),
            ("Oregon Board of Massage Therapists licence", None),
            ("Spinning Babies Parent Educator", Some(CareType::Doula)),
        ]
    );
    let counted_for = |care_type: CareType| -> Vec<&str> {
        june.certifications
            .iter()
            .filter(|certification| {
                counts_for(certification, care_type, &june.care_types).is_some()
            })
            .map(|certification| certification.name.as_str())
            .collect()
    };
    assert_eq!(
        counted_for(CareType::PelvicFloorPhysicalTherapy),
        ["Doctor of Physical Therapy"]
    );
    assert_eq!(
        counted_for(CareType::PostnatalMassage),
        ["Oregon Board of Massage Therapists licence"]
    );
    assert_eq!(
        counted_for(CareType::Doula),
        ["Spinning Babies Parent Educator"]
    );

    // A therapist in the behavioral network and the medical one: the behavioral plan listed
    // by both networks is one contract; the rehabilitation plan covers no mental health.
    let nadia = named(&providers, "Nadia Haddad, LCSW, PMH-C");
    let mental_health = [CareType::PerinatalMentalHealth];
    assert_eq!(
        nadia.insurance,
        [
            contract("Behavioral Health", &mental_health),
            contract("Open Access Plus", &mental_health)
        ]
    );

    // A family-medicine role's network says nothing of the lactation care she is listed for.
    let omar = named(&providers, "Omar Reyes, MD, IBCLC");
    assert_eq!(omar.care_types, [CareType::LactationConsulting]);
    assert!(omar.insurance.is_empty(), "{:?}", omar.insurance);

    // Importing it again changes nothing: the care types are stored with the provider.
    let again = import(&store, "plannet_care_types.ndjson").await;
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 3));
}

on_every_backend!(
    contracts_and_credentials_belong_to_the_care_type_the_directory_names,
    a_bundle_is_counted_by_outcome_and_reason,
    maps_every_field_of_a_practitioner,
    maps_a_telehealth_only_practitioner_and_an_organisation,
    importing_the_same_bundle_twice_leaves_the_same_providers,
    ndjson_reports_a_bad_line_by_number_and_imports_the_rest,
    a_directory_updates_the_provider_nppes_created_for_the_same_npi,
    a_file_that_is_not_fhir_is_refused,
    an_ndjson_line_that_is_not_utf8_is_one_bad_line,
);
