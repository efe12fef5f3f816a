//! Provider fixtures shared by the store's integration tests. The databases they run on come
//! from `carematch_store::test_support`.

// Unwrapping is how a fixture fails.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use carematch_domain::{
    CareMode, CareType, CertificationDraft, CertificationScope, InsurancePlanDraft, LocationDraft,
    Npi, Provider, ProviderDraft, ProviderId, Symptom,
};

/// A valid NPI for each `n`: nine digits from `n` and the check digit that fits.
pub fn npi(n: u32) -> Npi {
    let prefix = format!("{:09}", 100_000_000 + n);
    (0..10)
        .find_map(|check| Npi::parse(&format!("{prefix}{check}")).ok())
        .unwrap()
}

pub fn provider_id(n: u128) -> ProviderId {
    ProviderId::from_uuid(uuid::Uuid::from_u128(n))
}

/// A provider that uses every field, optional ones included.
pub fn full_provider(n: u128) -> Provider {
    ProviderDraft {
        id: Some(provider_id(n).to_string()),
        npi: Some(npi(n as u32).as_str().to_owned()),
        name: format!("Rose City Pelvic Health {n}"),
        care_types: vec![
            CareType::PelvicFloorPhysicalTherapy,
            CareType::PostnatalMassage,
        ],
        certifications: vec![
            CertificationDraft {
                name: "CAPP-OB".into(),
                issuer: Some("APTA Pelvic Health".into()),
                scope: CertificationScope::Perinatal,
                verified: true,
                care_type: None,
            },
            CertificationDraft {
                name: "LMT".into(),
                issuer: None,
                scope: CertificationScope::General,
                verified: false,
                care_type: None,
            },
        ],
        treats: vec![
            Symptom::UrineLeakage,
            Symptom::PelvicPain,
            Symptom::DiastasisRecti,
        ],
        locations: vec![
            LocationDraft {
                latitude: 45.533166,
                longitude: -122.665_58,
                address: Some("1 NW Main St, Suite 2".into()),
                city: Some("Portland".into()),
                region: Some("OR".into()),
                postal_code: Some("97205".into()),
            },
            LocationDraft {
                latitude: 45.6387,
                longitude: -122.6615,
                address: None,
                city: None,
                region: None,
                postal_code: None,
            },
        ],
        modes: vec![
            CareMode::InPerson,
            CareMode::Telehealth,
            CareMode::HomeVisit,
        ],
        languages: vec!["English".into(), "Spanish".into()],
        accepting_new_clients: true,
        insurance: vec![
            InsurancePlanDraft {
                payer: "Aetna".into(),
                plan: Some("Choice POS II".into()),
                care_types: Vec::new(),
            },
            InsurancePlanDraft {
                payer: "Oregon Health Plan".into(),
                plan: None,
                care_types: Vec::new(),
            },
        ],
        accepts_fsa_hsa: true,
        provides_superbill: true,
        requires_referral: true,
        self_pay_rate_usd: Some(165),
        bio: Some("Pelvic floor rehab after birth, in clinic or at home.".into()),
        licensed_regions: vec!["WA".into(), "CA".into()],
        home_visit_radius_km: Some(32.5),
    }
    .validate(provider_id(n))
    .unwrap()
}

/// A smaller provider: one care type, no optional fields, telehealth only.
pub fn minimal_provider(n: u128) -> Provider {
    ProviderDraft {
        id: Some(provider_id(n).to_string()),
        npi: None,
        name: format!("Virtual Lactation {n}"),
        care_types: vec![CareType::LactationConsulting],
        certifications: vec![],
        treats: vec![],
        locations: vec![],
        modes: vec![CareMode::Telehealth],
        languages: vec![],
        accepting_new_clients: false,
        insurance: vec![],
        accepts_fsa_hsa: false,
        provides_superbill: false,
        requires_referral: false,
        self_pay_rate_usd: None,
        bio: None,
        licensed_regions: vec![],
        home_visit_radius_km: None,
    }
    .validate(provider_id(n))
    .unwrap()
}
