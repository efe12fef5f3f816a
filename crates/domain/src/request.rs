//! A mother's match request: the unvalidated [`MatchRequestDraft`] (the contract's `MatchInput`)
//! and the validated [`MatchRequest`] the engine works from.

use crate::error::check_list_len;
use crate::limits::{
    DEFAULT_RADIUS_KM, MAX_CARE_TYPES, MAX_LANGUAGES, MAX_MODES, MAX_QUERY_TEXT_CHARS,
    MAX_SYMPTOMS, MAX_WARNING_SIGNS,
};
use crate::provider::{InsurancePlanDraft, blank_to_none, optional_text, sorted_unique};
use crate::triage::TriageInput;
use crate::{
    BirthType, CareMode, CareType, GeoPoint, Language, PostalCode, RadiusKm, Region, Symptom,
    ValidationError, WarningSign, WeeksPostpartum,
};

/// Postal-code knowledge the domain needs but does not own: the data lives in its own crate.
pub trait PostalDirectory {
    /// The centroid of a postal code, or `None` when the code is not a known US code.
    fn centroid(&self, postal_code: &PostalCode) -> Option<GeoPoint>;
    /// The state of the postal code whose centroid is nearest to `point`.
    fn region_near(&self, point: GeoPoint) -> Option<Region>;
}

/// The contract's `LocationInput`: exactly one of coordinates or a postal code.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationQueryDraft {
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub postal_code: Option<String>,
}

/// The contract's `MatchInput`, with its defaults applied by serde.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchRequestDraft {
    pub location: LocationQueryDraft,
    #[serde(default)]
    pub radius_km: Option<f64>,
    #[serde(default)]
    pub symptoms: Vec<Symptom>,
    #[serde(default)]
    pub warning_signs: Vec<WarningSign>,
    #[serde(default)]
    pub care_types: Option<Vec<CareType>>,
    #[serde(default)]
    pub birth_type: Option<BirthType>,
    #[serde(default)]
    pub weeks_postpartum: Option<i64>,
    #[serde(default)]
    pub cleared_for_massage: bool,
    #[serde(default)]
    pub insurance: Option<InsurancePlanDraft>,
    #[serde(default)]
    pub has_fsa_or_hsa: bool,
    #[serde(default)]
    pub has_referral: bool,
    #[serde(default)]
    pub languages: Option<Vec<String>>,
    #[serde(default)]
    pub modes: Option<Vec<CareMode>>,
    #[serde(default)]
    pub text: Option<String>,
}

/// Where she is, as she gave it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum LocationQuery {
    Coordinates,
    PostalCode(PostalCode),
}

/// Her insurance: the payer, and the plan when she knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InsuranceQuery {
    pub payer: String,
    pub plan: Option<String>,
}

/// A validated match request. Lists are sorted and without repeats, so two requests that differ
/// only in order or in defaults are equal (and share a cache key).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatchRequest {
    /// Her point: the coordinates she gave, or her postal code's centroid.
    pub origin: GeoPoint,
    pub location_given_as: LocationQuery,
    /// Her state, from the nearest postal-code centroid; `None` outside the US.
    pub region: Option<Region>,
    pub radius: RadiusKm,
    pub symptoms: Vec<Symptom>,
    pub warning_signs: Vec<WarningSign>,
    /// Care types she asked for, in her order without repeats; `None` when she asked for none.
    pub care_types: Option<Vec<CareType>>,
    pub birth_type: Option<BirthType>,
    pub weeks_postpartum: Option<WeeksPostpartum>,
    pub cleared_for_massage: bool,
    pub insurance: Option<InsuranceQuery>,
    pub has_fsa_or_hsa: bool,
    pub has_referral: bool,
    /// Languages she needs; empty means any.
    pub languages: Vec<Language>,
    /// Modes she accepts; empty means any.
    pub modes: Vec<CareMode>,
    /// Free text for names, specialties and bios; never parsed as query syntax.
    pub text: Option<String>,
}

impl MatchRequestDraft {
    /// A request at `location` with every other field at its default.
    pub fn at(location: LocationQueryDraft) -> Self {
        Self {
            location,
            radius_km: None,
            symptoms: Vec::new(),
            warning_signs: Vec::new(),
            care_types: None,
            birth_type: None,
            weeks_postpartum: None,
            cleared_for_massage: false,
            insurance: None,
            has_fsa_or_hsa: false,
            has_referral: false,
            languages: None,
            modes: None,
            text: None,
        }
    }

    /// Validates every field; errors name the field from the input's root (`location.latitude`).
    pub fn validate(self, postal: &dyn PostalDirectory) -> Result<MatchRequest, ValidationError> {
        let (origin, location_given_as) =
            validate_location(&self.location, postal).map_err(|error| error.within("location"))?;
        let radius = RadiusKm::new(self.radius_km.unwrap_or(DEFAULT_RADIUS_KM))
            .map_err(|error| error.within("radiusKm"))?;
        check_list_len(&self.symptoms, "symptoms", MAX_SYMPTOMS)?;
        check_list_len(&self.warning_signs, "warningSigns", MAX_WARNING_SIGNS)?;
        let care_types = match self.care_types {
            Some(care_types) => {
                check_list_len(&care_types, "careTypes", MAX_CARE_TYPES)?;
                // Her order is kept: asked-for care is listed in it (care-guide.md section 1).
                let mut unique: Vec<CareType> = Vec::with_capacity(care_types.len());
                for care_type in care_types {
                    if !unique.contains(&care_type) {
                        unique.push(care_type);
                    }
                }
                Some(unique).filter(|care_types| !care_types.is_empty())
            }
            None => None,
        };
        let weeks_postpartum = self
            .weeks_postpartum
            .map(WeeksPostpartum::new)
            .transpose()?;
        let insurance = self
            .insurance
            .map(|draft| {
                if !draft.care_types.is_empty() {
                    return Err(ValidationError::new(
                        "insurance.careTypes",
                        "names the care types of a provider's contract; leave it out of a match request",
                    ));
                }
                draft.validate().map_err(|error| error.within("insurance"))
            })
            .transpose()?
            .map(|plan| InsuranceQuery {
                payer: plan.payer,
                plan: plan.plan,
            });
        let languages_given = self.languages.unwrap_or_default();
        check_list_len(&languages_given, "languages", MAX_LANGUAGES)?;
        let mut languages = languages_given
            .iter()
            .enumerate()
            .map(|(index, text)| {
                Language::parse(text).map_err(|error| error.within_item("languages", index))
            })
            .collect::<Result<Vec<_>, _>>()?;
        languages.sort_by_key(Language::key);
        languages.dedup();
        let modes = self.modes.unwrap_or_default();
        check_list_len(&modes, "modes", MAX_MODES)?;
        let text = optional_text(self.text.as_deref(), "text", MAX_QUERY_TEXT_CHARS)?;

        Ok(MatchRequest {
            region: postal.region_near(origin),
            origin,
            location_given_as,
            radius,
            symptoms: sorted_unique(self.symptoms),
            warning_signs: sorted_unique(self.warning_signs),
            care_types,
            birth_type: self.birth_type,
            weeks_postpartum,
            cleared_for_massage: self.cleared_for_massage,
            insurance,
            has_fsa_or_hsa: self.has_fsa_or_hsa,
            has_referral: self.has_referral,
            languages,
            modes: sorted_unique(modes),
            text,
        })
    }
}

fn validate_location(
    draft: &LocationQueryDraft,
    postal: &dyn PostalDirectory,
) -> Result<(GeoPoint, LocationQuery), ValidationError> {
    let postal_code = blank_to_none(draft.postal_code.as_deref());
    match (draft.latitude, draft.longitude, postal_code) {
        (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => Err(ValidationError::new(
            "",
            "give either latitude and longitude, or a postal code, not both",
        )),
        (Some(latitude), Some(longitude), None) => Ok((
            GeoPoint::new(latitude, longitude)?,
            LocationQuery::Coordinates,
        )),
        (Some(_), None, None) => Err(ValidationError::new(
            "longitude",
            "is required with latitude",
        )),
        (None, Some(_), None) => Err(ValidationError::new(
            "latitude",
            "is required with longitude",
        )),
        (None, None, Some(text)) => {
            let code = PostalCode::parse(text)?;
            let centroid = postal.centroid(&code).ok_or_else(|| {
                ValidationError::new("postalCode", "is not a known US postal code")
            })?;
            Ok((centroid, LocationQuery::PostalCode(code)))
        }
        (None, None, None) => Err(ValidationError::new(
            "",
            "give either latitude and longitude, or a postal code",
        )),
    }
}

impl MatchRequest {
    /// The part of the request that triage reads.
    pub fn triage_input(&self) -> TriageInput {
        TriageInput {
            symptoms: self.symptoms.clone(),
            warning_signs: self.warning_signs.clone(),
            care_types: self.care_types.clone().unwrap_or_default(),
            birth_type: self.birth_type,
            weeks_postpartum: self.weeks_postpartum,
            cleared_for_massage: self.cleared_for_massage,
            crisis_words: self
                .text
                .as_deref()
                .map(crate::crisis_words)
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory that knows one postal code, in Portland, Oregon.
    struct OnePostalCode;

    impl PostalDirectory for OnePostalCode {
        fn centroid(&self, postal_code: &PostalCode) -> Option<GeoPoint> {
            (postal_code.as_str() == "97205").then(|| GeoPoint::new(45.5207, -122.6888).unwrap())
        }
        fn region_near(&self, _point: GeoPoint) -> Option<Region> {
            Some(Region::parse("OR").unwrap())
        }
    }

    fn at_coordinates(latitude: f64, longitude: f64) -> MatchRequestDraft {
        MatchRequestDraft::at(LocationQueryDraft {
            latitude: Some(latitude),
            longitude: Some(longitude),
            postal_code: None,
        })
    }

    fn field_of(draft: MatchRequestDraft) -> String {
        draft.validate(&OnePostalCode).unwrap_err().field
    }

    #[test]
    fn defaults_apply_and_the_region_is_resolved() {
        let request = at_coordinates(45.5152, -122.6784)
            .validate(&OnePostalCode)
            .unwrap();
        assert_eq!(request.radius.kilometres(), 25.0);
        assert_eq!(request.region.unwrap().as_str(), "OR");
        assert!(
            request.languages.is_empty()
                && request.modes.is_empty()
                && request.care_types.is_none()
        );
    }

    #[test]
    fn a_postal_code_resolves_to_its_centroid() {
        let draft = MatchRequestDraft::at(LocationQueryDraft {
            postal_code: Some("97205".into()),
            ..LocationQueryDraft::default()
        });
        let request = draft.validate(&OnePostalCode).unwrap();
        assert_eq!(request.origin.latitude(), 45.5207);
        assert_eq!(
            request.location_given_as,
            LocationQuery::PostalCode(PostalCode::parse("97205").unwrap())
        );
    }

    #[test]
    fn location_rejections_name_the_location_field() {
        assert_eq!(field_of(at_coordinates(123.0, -122.0)), "location.latitude");
        assert_eq!(field_of(at_coordinates(45.0, -222.0)), "location.longitude");
        let mut both = at_coordinates(45.5, -122.6);
        both.location.postal_code = Some("97205".into());
        assert_eq!(field_of(both), "location");
        assert_eq!(
            field_of(MatchRequestDraft::at(LocationQueryDraft::default())),
            "location"
        );
        let half = MatchRequestDraft::at(LocationQueryDraft {
            latitude: Some(45.0),
            ..Default::default()
        });
        assert_eq!(field_of(half), "location.longitude");
        let unknown = MatchRequestDraft::at(LocationQueryDraft {
            postal_code: Some("00000".into()),
            ..Default::default()
        });
        assert_eq!(field_of(unknown), "location.postalCode");
        let malformed = MatchRequestDraft::at(LocationQueryDraft {
            postal_code: Some("972".into()),
            ..Default::default()
        });
        assert_eq!(field_of(malformed), "location.postalCode");
    }

    #[test]
    fn other_rejections_name_their_field() {
        let mut draft = at_coordinates(45.5, -122.6);
        draft.radius_km = Some(0.0);
        assert_eq!(field_of(draft), "radiusKm");
        let mut draft = at_coordinates(45.5, -122.6);
        draft.radius_km = Some(250.0);
        assert_eq!(field_of(draft), "radiusKm");
        let mut draft = at_coordinates(45.5, -122.6);
        draft.weeks_postpartum = Some(521);
        assert_eq!(field_of(draft), "weeksPostpartum");
        let mut draft = at_coordinates(45.5, -122.6);
        draft.symptoms = vec![Symptom::Stress; 33];
        assert_eq!(field_of(draft), "symptoms");
        let mut draft = at_coordinates(45.5, -122.6);
        draft.languages = Some(vec!["English".into(); 21]);
        assert_eq!(field_of(draft), "languages");
        let mut draft = at_coordinates(45.5, -122.6);
        draft.insurance = Some(InsurancePlanDraft {
            payer: " ".into(),
            plan: None,
            care_types: Vec::new(),
        });
        assert_eq!(field_of(draft), "insurance.payer");
        let mut draft = at_coordinates(45.5, -122.6);
        draft.text = Some("t".repeat(501));
        assert_eq!(field_of(draft), "text");
        let mut draft = at_coordinates(45.5, -122.6);
        draft.text = Some("pelvic\u{0} pain".into());
        assert_eq!(field_of(draft), "text");
        let mut draft = at_coordinates(45.5, -122.6);
        draft.insurance = Some(InsurancePlanDraft {
            payer: "Aet\u{0}na".into(),
            plan: None,
            care_types: Vec::new(),
        });
        assert_eq!(field_of(draft), "insurance.payer");
    }

    #[test]
    fn order_and_repeats_do_not_change_the_request() {
        let mut first = at_coordinates(45.5, -122.6);
        first.symptoms = vec![Symptom::Stress, Symptom::BackPain, Symptom::Stress];
        first.languages = Some(vec!["Spanish".into(), "english".into()]);
        let mut second = at_coordinates(45.5, -122.6);
        second.symptoms = vec![Symptom::BackPain, Symptom::Stress];
        second.languages = Some(vec!["English".into(), "spanish".into()]);
        second.radius_km = Some(25.0);
        let first = first.validate(&OnePostalCode).unwrap();
        let second = second.validate(&OnePostalCode).unwrap();
        assert_eq!(first.symptoms, second.symptoms);
        assert_eq!(first.languages, second.languages);
        assert_eq!(first.radius, second.radius);
    }

    #[test]
    fn the_contract_json_shape_deserializes_with_defaults() {
        let draft: MatchRequestDraft = serde_json::from_str(
            r#"{"location": {"latitude": 45.5, "longitude": -122.6}, "symptoms": ["URINE_LEAKAGE"],
                "insurance": {"payer": "Aetna"}}"#,
        )
        .unwrap();
        let request = draft.validate(&OnePostalCode).unwrap();
        assert_eq!(request.symptoms, vec![Symptom::UrineLeakage]);
        assert_eq!(request.insurance.unwrap().payer, "Aetna");
        assert!(!request.has_fsa_or_hsa);
    }
}
