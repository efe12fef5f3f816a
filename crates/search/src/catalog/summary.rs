//! What ranking keeps of each provider: the summary, with payers, plans, languages and states
//! interned to small keys.

use std::collections::HashMap;

use carematch_domain::payment::referral_applies;
use carematch_domain::{
    CareMode, CareType, CertificationLevel, GeoPoint, ProviderId, haversine_km,
};

use super::VocabularyKey;
use crate::sets::{CareModeSet, CareTypeSet, SymptomSet};

/// One insurance plan a provider is in network with: the payer, the plan when only one plan
/// of that payer is accepted (`None` means every plan of the payer), and the care types the
/// contract covers (care-guide.md section 5, 2nd edition, already applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetworkEntry {
    pub payer: VocabularyKey,
    pub plan: Option<VocabularyKey>,
    pub care_types: CareTypeSet,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LocationPoint {
    pub latitude: f64,
    pub longitude: f64,
}

/// What ranking needs to know about a provider, in about a hundred bytes. The full provider
/// stays in the tantivy document store and is read only for the page being shown.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProviderSummary {
    pub id: ProviderId,
    pub care_types: CareTypeSet,
    pub treats: SymptomSet,
    pub modes: CareModeSet,
    pub accepting_new_clients: bool,
    pub accepts_fsa_hsa: bool,
    pub provides_superbill: bool,
    /// The provider requires a referral (it applies only to some care types: see
    /// [`ProviderSummary::requires_referral_for`]).
    pub requires_referral: bool,
    /// The certification level per care type (index `CareType as usize`).
    pub certification: [CertificationLevel; CareType::ALL.len()],
    pub languages: Box<[VocabularyKey]>,
    pub network: Box<[NetworkEntry]>,
    pub locations: Box<[LocationPoint]>,
    /// States of its locations plus those it lists (care-guide.md section 6).
    pub licensed_regions: Box<[VocabularyKey]>,
    pub home_visit_radius_km: f32,
    pub self_pay_rate_usd: Option<u32>,
}

impl ProviderSummary {
    pub fn offers(&self, mode: CareMode) -> bool {
        self.modes.contains(mode)
    }

    /// The modes this provider gives `care_type` in: those it lists that the care can be given
    /// in (massage never by telehealth; a group remotely only online).
    pub fn modes_for(&self, care_type: CareType) -> CareModeSet {
        self.modes
            .iter()
            .filter(|mode| care_type.can_be_given_in(*mode))
            .collect()
    }

    pub fn certification_for(&self, care_type: CareType) -> CertificationLevel {
        self.certification[care_type as usize]
    }

    /// A referral requirement applies to physical therapy, mental health and lactation only.
    pub fn requires_referral_for(&self, care_type: CareType) -> bool {
        self.requires_referral && referral_applies(care_type)
    }

    pub fn speaks_any(&self, languages: &[VocabularyKey]) -> bool {
        self.languages.iter().any(|key| languages.contains(key))
    }

    /// Whether the provider is in network for this payer and (when given) plan, for this care.
    pub fn in_network(
        &self,
        payer: VocabularyKey,
        plan: Option<VocabularyKey>,
        care_type: CareType,
    ) -> bool {
        self.network.iter().any(|entry| {
            entry.care_types.contains(care_type)
                && entry.payer == payer
                && match (entry.plan, plan) {
                    (None, _) => true,
                    (Some(accepted), Some(asked)) => accepted == asked,
                    // She did not say her plan: the payer being in network is the best we know.
                    (Some(_), None) => true,
                }
        })
    }

    /// Distance in kilometres from `origin` to the nearest location, if any.
    pub fn nearest_location_km(&self, origin: GeoPoint) -> Option<f64> {
        self.locations
            .iter()
            .map(|location| {
                haversine_km(
                    origin.latitude(),
                    origin.longitude(),
                    location.latitude,
                    location.longitude,
                )
            })
            .min_by(f64::total_cmp)
    }
}

/// Lower case, letters and digits only, single spaces: "Oregon Health Plan (Medicaid)" and
/// "oregon health plan - medicaid" name the same payer.
pub fn normalize_name(text: &str) -> String {
    let mut normalized = String::with_capacity(text.len());
    for word in text
        .split(|character: char| !character.is_alphanumeric())
        .filter(|word| !word.is_empty())
    {
        if !normalized.is_empty() {
            normalized.push(' ');
        }
        normalized.extend(word.chars().flat_map(char::to_lowercase));
    }
    normalized
}

/// Strings interned to small keys, so summaries hold `u32`s instead of strings.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    key_by_name: HashMap<Box<str>, VocabularyKey>,
    names: Vec<Box<str>>,
}

impl Vocabulary {
    /// A vocabulary whose keys are the positions of `names` (as [`Vocabulary::names`] gave).
    pub fn from_names(names: Vec<String>) -> Self {
        let mut vocabulary = Self::default();
        for name in names {
            vocabulary.intern(&name);
        }
        vocabulary
    }

    pub fn intern(&mut self, name: &str) -> VocabularyKey {
        if let Some(key) = self.key_by_name.get(name) {
            return *key;
        }
        let key = self.names.len() as VocabularyKey;
        self.names.push(name.into());
        self.key_by_name.insert(name.into(), key);
        key
    }

    pub fn key(&self, name: &str) -> Option<VocabularyKey> {
        self.key_by_name.get(name).copied()
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every name, in key order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|name| &**name)
    }

    pub fn name(&self, key: VocabularyKey) -> Option<&str> {
        self.names.get(key as usize).map(|name| &**name)
    }
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payer_names_are_normalized_for_comparison() {
        assert_eq!(
            normalize_name("Oregon Health Plan (Medicaid)"),
            "oregon health plan medicaid"
        );
        assert_eq!(
            normalize_name("  oregon health-plan  MEDICAID "),
            "oregon health plan medicaid"
        );
        assert_eq!(
            normalize_name("Regence BlueCross BlueShield"),
            "regence bluecross blueshield"
        );
    }

    #[test]
    fn vocabulary_interns_each_name_once() {
        let mut vocabulary = Vocabulary::default();
        let first = vocabulary.intern("aetna");
        assert_eq!(vocabulary.intern("aetna"), first);
        assert_ne!(vocabulary.intern("cigna"), first);
        assert_eq!(vocabulary.key("aetna"), Some(first));
        assert_eq!(vocabulary.name(first), Some("aetna"));
        assert_eq!(vocabulary.key("kaiser"), None);
    }
}
