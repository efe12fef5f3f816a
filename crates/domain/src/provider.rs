//! Providers: the validated [`Provider`] and the [`ProviderDraft`] it is parsed from (the JSON
//! shape of the contract's `ProviderInput`, used by the API, imports and exports).

use crate::error::check_list_len;
use crate::limits::{
    MAX_BIO_CHARS, MAX_CARE_TYPES, MAX_CERTIFICATIONS, MAX_INSURANCE_PLANS, MAX_LANGUAGES,
    MAX_LICENSED_REGIONS, MAX_LOCATIONS, MAX_MODES, MAX_SELF_PAY_RATE_USD, MAX_SHORT_TEXT_CHARS,
    MAX_SYMPTOMS,
};
use crate::{
    CareMode, CareType, CertificationScope, GeoPoint, Language, Npi, PostalCode, ProviderId,
    ProviderName, RadiusKm, Region, Symptom, ValidationError,
};

/// A care provider (a person, a practice or a group), as stored, indexed and matched.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Provider {
    pub id: ProviderId,
    pub npi: Option<Npi>,
    pub name: ProviderName,
    /// Sorted and without repeats; never empty.
    pub care_types: Vec<CareType>,
    pub certifications: Vec<Certification>,
    /// The symptoms the provider treats, sorted and without repeats.
    pub treats: Vec<Symptom>,
    pub locations: Vec<ProviderLocation>,
    /// Sorted and without repeats; never empty.
    pub modes: Vec<CareMode>,
    pub languages: Vec<Language>,
    pub accepting_new_clients: bool,
    pub insurance: Vec<InsurancePlan>,
    pub accepts_fsa_hsa: bool,
    pub provides_superbill: bool,
    pub requires_referral: bool,
    pub self_pay_rate_usd: Option<u32>,
    pub bio: Option<String>,
    /// States the provider is licensed in beyond those of its locations (for telehealth).
    pub licensed_regions: Vec<Region>,
    /// How far a home-visit provider travels; `None` means [`Provider::DEFAULT_HOME_VISIT_RADIUS_KM`].
    pub home_visit_radius_km: Option<RadiusKm>,
}

impl Provider {
    /// Used when a home-visit provider does not say how far it travels: a typical metro drive.
    pub const DEFAULT_HOME_VISIT_RADIUS_KM: f64 = 25.0;

    /// The states a provider may give telehealth in: those of its locations plus those it lists
    /// (care-guide.md section 6).
    pub fn licensed_regions(&self) -> Vec<Region> {
        let mut regions: Vec<Region> = self
            .locations
            .iter()
            .filter_map(|location| location.region.clone())
            .chain(self.licensed_regions.iter().cloned())
            .collect();
        regions.sort();
        regions.dedup();
        regions
    }

    pub fn is_licensed_in(&self, region: &Region) -> bool {
        self.licensed_regions.contains(region)
            || self
                .locations
                .iter()
                .any(|location| location.region.as_ref() == Some(region))
    }

    pub fn offers(&self, mode: CareMode) -> bool {
        self.modes.contains(&mode)
    }

    pub fn home_visit_radius_km(&self) -> f64 {
        self.home_visit_radius_km
            .map_or(Self::DEFAULT_HOME_VISIT_RADIUS_KM, RadiusKm::kilometres)
    }

    /// The draft that parses back into this provider (for export and for editing).
    pub fn to_draft(&self) -> ProviderDraft {
        ProviderDraft {
            id: Some(self.id.to_string()),
            npi: self.npi.as_ref().map(|npi| npi.as_str().to_owned()),
            name: self.name.as_str().to_owned(),
            care_types: self.care_types.clone(),
            certifications: self
                .certifications
                .iter()
                .map(|certification| CertificationDraft {
                    name: certification.name.clone(),
                    issuer: certification.issuer.clone(),
                    scope: certification.scope,
                    verified: certification.verified,
                    care_type: certification.care_type,
                })
                .collect(),
            treats: self.treats.clone(),
            locations: self
                .locations
                .iter()
                .map(ProviderLocation::to_draft)
                .collect(),
            modes: self.modes.clone(),
            languages: self
                .languages
                .iter()
                .map(|language| language.as_str().to_owned())
                .collect(),
            accepting_new_clients: self.accepting_new_clients,
            insurance: self
                .insurance
                .iter()
                .map(|plan| InsurancePlanDraft {
                    payer: plan.payer.clone(),
                    plan: plan.plan.clone(),
                    care_types: plan.care_types.clone(),
                })
                .collect(),
            accepts_fsa_hsa: self.accepts_fsa_hsa,
            provides_superbill: self.provides_superbill,
            requires_referral: self.requires_referral,
            self_pay_rate_usd: self.self_pay_rate_usd.map(i64::from),
            bio: self.bio.clone(),
            licensed_regions: self
                .licensed_regions
                .iter()
                .map(|region| region.as_str().to_owned())
                .collect(),
            home_visit_radius_km: self.home_visit_radius_km.map(RadiusKm::kilometres),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Certification {
    pub name: String,
    pub issuer: Option<String>,
    pub scope: CertificationScope,
    /// Checked by carematch or a directory, as opposed to self-reported.
    pub verified: bool,
    /// The care type the credential is for, as the record says. Needed only for a name the
    /// care guide's table does not know (care-guide.md section 4, 2nd edition).
    pub care_type: Option<CareType>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProviderLocation {
    pub point: GeoPoint,
    pub address: Option<String>,
    pub city: Option<String>,
    pub region: Option<Region>,
    pub postal_code: Option<PostalCode>,
}

impl ProviderLocation {
    /// The draft that parses back into this location: the one mapping from a location to
    /// plain fields, used by exports, the store's rows and the API's `Location`.
    pub fn to_draft(&self) -> LocationDraft {
        LocationDraft {
            latitude: self.point.latitude(),
            longitude: self.point.longitude(),
            address: self.address.clone(),
            city: self.city.clone(),
            region: self
                .region
                .as_ref()
                .map(|region| region.as_str().to_owned()),
            postal_code: self
                .postal_code
                .as_ref()
                .map(|code| code.as_str().to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InsurancePlan {
    pub payer: String,
    pub plan: Option<String>,
    /// The care types this contract covers, sorted; empty when the record names none (then
    /// [`crate::payment::contract_covers`] decides, care-guide.md section 5).
    pub care_types: Vec<CareType>,
}

/// The unvalidated provider as it arrives: the contract's `ProviderInput` in JSON (camelCase),
/// plus the optional additions `licensedRegions` and `homeVisitRadiusKm`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderDraft {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub npi: Option<String>,
    pub name: String,
    pub care_types: Vec<CareType>,
    pub certifications: Vec<CertificationDraft>,
    pub treats: Vec<Symptom>,
    pub locations: Vec<LocationDraft>,
    pub modes: Vec<CareMode>,
    pub languages: Vec<String>,
    pub accepting_new_clients: bool,
    pub insurance: Vec<InsurancePlanDraft>,
    pub accepts_fsa_hsa: bool,
    pub provides_superbill: bool,
    pub requires_referral: bool,
    #[serde(default)]
    pub self_pay_rate_usd: Option<i64>,
    #[serde(default)]
    pub bio: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licensed_regions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_visit_radius_km: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CertificationDraft {
    pub name: String,
    #[serde(default)]
    pub issuer: Option<String>,
    pub scope: CertificationScope,
    pub verified: bool,
    /// For a credential the care guide's table does not name: the care type it is for.
    #[serde(default, rename = "careType", skip_serializing_if = "Option::is_none")]
    pub care_type: Option<CareType>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationDraft {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InsurancePlanDraft {
    pub payer: String,
    #[serde(default)]
    pub plan: Option<String>,
    /// On a provider's record: the care types the contract covers (empty: see
    /// [`crate::payment::contract_covers`]). Never part of a match request.
    #[serde(default, rename = "careTypes", skip_serializing_if = "Vec::is_empty")]
    pub care_types: Vec<CareType>,
}

impl ProviderDraft {
    /// Validates every field. A draft without an id becomes a new provider with `new_id`.
    /// The first problem found is returned, its field named from the draft's root.
    pub fn validate(self, new_id: ProviderId) -> Result<Provider, ValidationError> {
        let id = match blank_to_none(self.id.as_deref()) {
            Some(text) => ProviderId::parse(text)?,
            None => new_id,
        };
        let npi = blank_to_none(self.npi.as_deref())
            .map(Npi::parse)
            .transpose()?;
        let name = ProviderName::parse(&self.name)?;

        check_list_len(&self.care_types, "careTypes", MAX_CARE_TYPES)?;
        let care_types = sorted_unique(self.care_types);
        if care_types.is_empty() {
            return Err(ValidationError::new(
                "careTypes",
                "at least one care type is needed",
            ));
        }

        check_list_len(&self.certifications, "certifications", MAX_CERTIFICATIONS)?;
        let certifications = self
            .certifications
            .into_iter()
            .enumerate()
            .map(|(index, draft)| {
                draft
                    .validate()
                    .map_err(|error| error.within_item("certifications", index))
            })
            .collect::<Result<Vec<_>, _>>()?;

        check_list_len(&self.treats, "treats", MAX_SYMPTOMS)?;
        let treats = sorted_unique(self.treats);

        check_list_len(&self.modes, "modes", MAX_MODES)?;
        let modes = sorted_unique(self.modes);
        if modes.is_empty() {
            return Err(ValidationError::new(
                "modes",
                "at least one care mode is needed",
            ));
        }

        check_list_len(&self.locations, "locations", MAX_LOCATIONS)?;
        let locations = self
            .locations
            .into_iter()
            .enumerate()
            .map(|(index, draft)| {
                draft
                    .validate()
                    .map_err(|error| error.within_item("locations", index))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if locations.is_empty() && modes.iter().any(|mode| mode.is_physical()) {
            return Err(ValidationError::new(
                "locations",
                "in-person and home-visit providers need at least one location",
            ));
        }

        check_list_len(&self.languages, "languages", MAX_LANGUAGES)?;
        let mut languages: Vec<Language> = Vec::with_capacity(self.languages.len());
        for (index, text) in self.languages.iter().enumerate() {
            let language =
                Language::parse(text).map_err(|error| error.within_item("languages", index))?;
            if !languages.contains(&language) {
                languages.push(language);
            }
        }

        check_list_len(&self.insurance, "insurance", MAX_INSURANCE_PLANS)?;
        let mut insurance: Vec<InsurancePlan> = Vec::with_capacity(self.insurance.len());
        for (index, draft) in self.insurance.into_iter().enumerate() {
            let plan = draft
                .validate()
                .map_err(|error| error.within_item("insurance", index))?;
            if !insurance.contains(&plan) {
                insurance.push(plan);
            }
        }

        let self_pay_rate_usd = self
            .self_pay_rate_usd
            .map(|rate| {
                u32::try_from(rate)
                    .ok()
                    .filter(|rate| *rate <= MAX_SELF_PAY_RATE_USD)
                    .ok_or_else(|| {
                        ValidationError::new(
                            "selfPayRateUsd",
                            format!("must be between 0 and {MAX_SELF_PAY_RATE_USD}"),
                        )
                    })
            })
            .transpose()?;
        let bio = optional_text(self.bio.as_deref(), "bio", MAX_BIO_CHARS)?;

        check_list_len(
            &self.licensed_regions,
            "licensedRegions",
            MAX_LICENSED_REGIONS,
        )?;
        let licensed_regions = sorted_unique(
            self.licensed_regions
                .iter()
                .enumerate()
                .map(|(index, text)| {
                    Region::parse(text).map_err(|error| {
                        ValidationError::new(format!("licensedRegions[{index}]"), error.problem)
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        );
        let home_visit_radius_km = self
            .home_visit_radius_km
            .map(|kilometres| {
                RadiusKm::new(kilometres).map_err(|error| error.within("homeVisitRadiusKm"))
            })
            .transpose()?;

        Ok(Provider {
            id,
            npi,
            name,
            care_types,
            certifications,
            treats,
            locations,
            modes,
            languages,
            accepting_new_clients: self.accepting_new_clients,
            insurance,
            accepts_fsa_hsa: self.accepts_fsa_hsa,
            provides_superbill: self.provides_superbill,
            requires_referral: self.requires_referral,
            self_pay_rate_usd,
            bio,
            licensed_regions,
            home_visit_radius_km,
        })
    }
}

impl CertificationDraft {
    fn validate(self) -> Result<Certification, ValidationError> {
        let name = required_text(&self.name, "name", MAX_SHORT_TEXT_CHARS)?;
        let issuer = optional_text(self.issuer.as_deref(), "issuer", MAX_SHORT_TEXT_CHARS)?;
        Ok(Certification {
            name,
            issuer,
            scope: self.scope,
            verified: self.verified,
            care_type: self.care_type,
        })
    }
}

impl LocationDraft {
    fn validate(self) -> Result<ProviderLocation, ValidationError> {
        let point = GeoPoint::new(self.latitude, self.longitude)?;
        Ok(ProviderLocation {
            point,
            address: optional_text(self.address.as_deref(), "address", MAX_SHORT_TEXT_CHARS)?,
            city: optional_text(self.city.as_deref(), "city", MAX_SHORT_TEXT_CHARS)?,
            region: blank_to_none(self.region.as_deref())
                .map(Region::parse)
                .transpose()?,
            postal_code: blank_to_none(self.postal_code.as_deref())
                .map(PostalCode::parse)
                .transpose()?,
        })
    }
}

impl InsurancePlanDraft {
    pub(crate) fn validate(self) -> Result<InsurancePlan, ValidationError> {
        check_list_len(&self.care_types, "careTypes", MAX_CARE_TYPES)?;
        Ok(InsurancePlan {
            payer: required_text(&self.payer, "payer", MAX_SHORT_TEXT_CHARS)?,
            plan: optional_text(self.plan.as_deref(), "plan", MAX_SHORT_TEXT_CHARS)?,
            care_types: sorted_unique(self.care_types),
        })
    }
}

pub(crate) fn blank_to_none(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|text| !text.is_empty())
}

pub(crate) fn required_text(
    text: &str,
    field: &str,
    max_chars: usize,
) -> Result<String, ValidationError> {
    optional_text(Some(text), field, max_chars)?
        .ok_or_else(|| ValidationError::new(field, "must not be empty"))
}

pub(crate) fn optional_text(
    text: Option<&str>,
    field: &str,
    max_chars: usize,
) -> Result<Option<String>, ValidationError> {
    match blank_to_none(text) {
        None => Ok(None),
        Some(text) if text.chars().count() > max_chars => Err(ValidationError::new(
            field,
            format!("must be at most {max_chars} characters"),
        )),
        Some(text) => {
            crate::scalars::check_no_control_characters(text, field)?;
            Ok(Some(text.to_owned()))
        }
    }
}

pub(crate) fn sorted_unique<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items.dedup();
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn portland_pt() -> ProviderDraft {
        serde_json::from_str(
            r#"{"id": "00000000-0000-4000-8000-000000000001", "npi": null, "name": "Willamette Pelvic Health",
            "careTypes": ["PELVIC_FLOOR_PHYSICAL_THERAPY"],
            "certifications": [{"name": "CAPP-OB", "issuer": "APTA Pelvic Health", "scope": "PERINATAL", "verified": true}],
            "treats": ["URINE_LEAKAGE", "PELVIC_PAIN"],
            "locations": [{"latitude": 45.533166, "longitude": -122.66558, "address": null, "city": "Portland", "region": "OR", "postalCode": "97205"}],
            "modes": ["IN_PERSON"], "languages": ["English"], "acceptingNewClients": true,
            "insurance": [{"payer": "Aetna", "plan": null}], "acceptsFsaHsa": true, "providesSuperbill": true,
            "requiresReferral": false, "selfPayRateUsd": 160, "bio": "Pelvic floor rehab after birth."}"#,
        )
        .unwrap()
    }

    fn new_id() -> ProviderId {
        ProviderId::parse("00000000-0000-4000-8000-0000000000ff").unwrap()
    }

    #[test]
    fn a_complete_draft_validates_and_round_trips_through_to_draft() {
        let provider = portland_pt().validate(new_id()).unwrap();
        assert_eq!(
            provider.id.to_string(),
            "00000000-0000-4000-8000-000000000001"
        );
        assert_eq!(
            provider.locations[0].region.as_ref().unwrap().as_str(),
            "OR"
        );
        assert!(provider.is_licensed_in(&Region::parse("OR").unwrap()));
        assert!(!provider.is_licensed_in(&Region::parse("WA").unwrap()));
        assert_eq!(provider.to_draft().validate(new_id()).unwrap(), provider);
    }

    #[test]
    fn a_draft_without_id_gets_the_new_id() {
        let mut draft = portland_pt();
        draft.id = None;
        assert_eq!(draft.validate(new_id()).unwrap().id, new_id());
    }

    #[test]
    fn location_errors_name_the_item_and_field() {
        let mut draft = portland_pt();
        draft.locations[0].latitude = 123.0;
        assert_eq!(
            draft.validate(new_id()).unwrap_err().field,
            "locations[0].latitude"
        );
        let mut draft = portland_pt();
        draft.locations[0].postal_code = Some("9720".into());
        assert_eq!(
            draft.validate(new_id()).unwrap_err().field,
            "locations[0].postalCode"
        );
    }

    #[test]
    fn each_field_rule_rejects_with_its_field_named() {
        type Breaker = fn(&mut ProviderDraft);
        let cases: Vec<(&str, Breaker)> = vec![
            ("id", |draft| draft.id = Some("not-a-uuid".into())),
            ("npi", |draft| draft.npi = Some("1234567890".into())),
            ("name", |draft| draft.name = " ".into()),
            ("name", |draft| draft.name = "x".repeat(201)),
            ("careTypes", |draft| draft.care_types.clear()),
            ("modes", |draft| draft.modes.clear()),
            ("locations", |draft| draft.locations.clear()),
            ("locations", |draft| {
                let location = draft.locations[0].clone();
                draft.locations = vec![location; 51];
            }),
            ("languages", |draft| {
                draft.languages = vec!["English".into(); 21]
            }),
            ("languages[0]", |draft| draft.languages = vec![" ".into()]),
            ("certifications[0].name", |draft| {
                draft.certifications[0].name.clear()
            }),
            ("insurance[0].payer", |draft| {
                draft.insurance[0].payer = String::new()
            }),
            ("selfPayRateUsd", |draft| draft.self_pay_rate_usd = Some(-1)),
            ("bio", |draft| draft.bio = Some("b".repeat(4_001))),
            ("bio", |draft| draft.bio = Some("Pelvic\u{0} floor".into())),
            ("name", |draft| draft.name = "Rose\u{0} City".into()),
            ("insurance[0].payer", |draft| {
                draft.insurance[0].payer = "Aet\u{0}na".into()
            }),
            ("licensedRegions[0]", |draft| {
                draft.licensed_regions = vec!["Oregon".into()]
            }),
            ("homeVisitRadiusKm", |draft| {
                draft.home_visit_radius_km = Some(0.0)
            }),
            ("treats", |draft| draft.treats = vec![Symptom::Stress; 33]),
        ];
        for (field, break_draft) in cases {
            let mut draft = portland_pt();
            break_draft(&mut draft);
            assert_eq!(draft.validate(new_id()).unwrap_err().field, field);
        }
    }

    #[test]
    fn telehealth_only_providers_need_no_location_and_lists_are_deduplicated() {
        let mut draft = portland_pt();
        draft.locations.clear();
        draft.modes = vec![CareMode::Telehealth, CareMode::Telehealth];
        draft.licensed_regions = vec!["wa".into(), "OR".into(), "WA".into()];
        draft.languages = vec!["English".into(), "english".into()];
        let provider = draft.validate(new_id()).unwrap();
        assert_eq!(provider.modes, vec![CareMode::Telehealth]);
        assert_eq!(provider.languages.len(), 1);
        let regions: Vec<_> = provider
            .licensed_regions()
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect();
        assert_eq!(regions, ["OR", "WA"]);
    }

    #[test]
    fn a_valid_npi_is_kept_and_a_blank_one_is_none() {
        let mut draft = portland_pt();
        draft.npi = Some("1234567893".into());
        assert_eq!(
            draft
                .clone()
                .validate(new_id())
                .unwrap()
                .npi
                .unwrap()
                .as_str(),
            "1234567893"
        );
        draft.npi = Some("  ".into());
        assert_eq!(draft.validate(new_id()).unwrap().npi, None);
    }
}
