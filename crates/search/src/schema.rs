//! The tantivy side of the index: the schema, the text analyzer, and the conversion between a
//! [`Provider`] and its document (one document per provider; see the crate header for why).

use carematch_domain::{Provider, ProviderDraft, ProviderId};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language as StemmerLanguage, LowerCaser, RemoveLongFilter, SimpleTokenizer,
    Stemmer, TextAnalyzer,
};
use tantivy::{TantivyDocument, Term};

use crate::SearchError;
use crate::catalog::{ProviderSlot, normalize_name};

/// Name under which the text analyzer is registered with the index.
pub const TEXT_ANALYZER_NAME: &str = "carematch_text";

/// Bumped whenever the schema or the stored document changes shape: an index written with
/// another version is rebuilt, never misread.
pub const INDEX_FORMAT_VERSION: u32 = 2;

/// Words, lower case, accents folded ("pélvico" finds "pelvico"), English stems ("leaking"
/// finds "leak"). Tokens longer than 40 bytes are dropped: they are never words.
pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(StemmerLanguage::English))
        .build()
}

/// Handles to the schema's fields.
#[derive(Debug, Clone)]
pub struct IndexFields {
    pub schema: Schema,
    /// The provider id (hyphenated UUID), for deletes and lookups.
    pub id: Field,
    /// The provider's slot in the in-memory catalog (fast field), to join the two sides.
    pub slot: Field,
    pub care_type: Field,
    pub treats: Field,
    pub certification_scope: Field,
    /// Normalized payer names, and `payer|plan` for plan-specific contracts.
    pub payer: Field,
    pub mode: Field,
    pub language: Field,
    pub licensed_region: Field,
    pub accepting_new_clients: Field,
    pub accepts_fsa_hsa: Field,
    pub provides_superbill: Field,
    pub requires_referral: Field,
    /// One value per location, for exact distances from fast fields.
    pub latitude: Field,
    pub longitude: Field,
    pub name: Field,
    /// Care types, conditions treated and certifications, in words.
    pub specialties: Field,
    pub bio: Field,
    /// The whole provider as JSON (the contract's `ProviderInput` shape), for hydration and
    /// for rebuilding the in-memory catalog when the index is reopened.
    pub provider_json: Field,
}

impl IndexFields {
    pub fn new() -> Self {
        let mut builder = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TEXT_ANALYZER_NAME)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let id = builder.add_text_field("id", STRING);
        let slot = builder.add_u64_field("slot", FAST);
        let care_type = builder.add_text_field("care_type", STRING);
        let treats = builder.add_text_field("treats", STRING);
        let certification_scope = builder.add_text_field("certification_scope", STRING);
        let payer = builder.add_text_field("payer", STRING);
        let mode = builder.add_text_field("mode", STRING);
        let language = builder.add_text_field("language", STRING);
        let licensed_region = builder.add_text_field("licensed_region", STRING);
        let accepting_new_clients = builder.add_bool_field("accepting_new_clients", INDEXED);
        let accepts_fsa_hsa = builder.add_bool_field("accepts_fsa_hsa", INDEXED);
        let provides_superbill = builder.add_bool_field("provides_superbill", INDEXED);
        let requires_referral = builder.add_bool_field("requires_referral", INDEXED);
        let latitude = builder.add_f64_field("latitude", FAST);
        let longitude = builder.add_f64_field("longitude", FAST);
        let name = builder.add_text_field("name", text.clone());
        let specialties = builder.add_text_field("specialties", text.clone());
        let bio = builder.add_text_field("bio", text);
        let provider_json = builder.add_text_field("provider_json", STORED);
        Self {
            schema: builder.build(),
            id,
            slot,
            care_type,
            treats,
            certification_scope,
            payer,
            mode,
            language,
            licensed_region,
            accepting_new_clients,
            accepts_fsa_hsa,
            provides_superbill,
            requires_referral,
            latitude,
            longitude,
            name,
            specialties,
            bio,
            provider_json,
        }
    }

    pub fn id_term(&self, id: ProviderId) -> Term {
        Term::from_field_text(self.id, &id.to_string())
    }

    /// The document for a provider at a catalog slot.
    pub fn document(
        &self,
        provider: &Provider,
        slot: ProviderSlot,
    ) -> Result<TantivyDocument, SearchError> {
        let mut document = TantivyDocument::default();
        document.add_text(self.id, provider.id.to_string());
        document.add_u64(self.slot, u64::from(slot));
        let mut specialties = String::new();
        for care_type in &provider.care_types {
            document.add_text(self.care_type, care_type.code());
            specialties.push_str(care_type.label());
            specialties.push_str(". ");
        }
        for symptom in &provider.treats {
            document.add_text(self.treats, symptom.code());
            specialties.push_str(symptom.label());
            specialties.push_str(". ");
        }
        for certification in &provider.certifications {
            document.add_text(self.certification_scope, certification.scope.code());
            specialties.push_str(&certification.name);
            if let Some(issuer) = &certification.issuer {
                specialties.push(' ');
                specialties.push_str(issuer);
            }
            specialties.push_str(". ");
        }
        for plan in &provider.insurance {
            let payer = normalize_name(&plan.payer);
            match &plan.plan {
                Some(plan) => {
                    document.add_text(self.payer, format!("{payer}|{}", normalize_name(plan)))
                }
                None => document.add_text(self.payer, &payer),
            }
        }
        for mode in &provider.modes {
            document.add_text(self.mode, mode.code());
        }
        for language in &provider.languages {
            document.add_text(self.language, language.key());
        }
        for region in provider.licensed_regions() {
            document.add_text(self.licensed_region, region.as_str());
        }
        document.add_bool(self.accepting_new_clients, provider.accepting_new_clients);
        document.add_bool(self.accepts_fsa_hsa, provider.accepts_fsa_hsa);
        document.add_bool(self.provides_superbill, provider.provides_superbill);
        document.add_bool(self.requires_referral, provider.requires_referral);
        for location in &provider.locations {
            document.add_f64(self.latitude, location.point.latitude());
            document.add_f64(self.longitude, location.point.longitude());
        }
        document.add_text(self.name, provider.name.as_str());
        document.add_text(self.specialties, specialties);
        if let Some(bio) = &provider.bio {
            document.add_text(self.bio, bio);
        }
        let json = serde_json::to_string(&provider.to_draft()).map_err(|error| {
            SearchError::CorruptStoredProvider {
                document: provider.id.to_string(),
                problem: error.to_string(),
            }
        })?;
        document.add_text(self.provider_json, json);
        Ok(document)
    }

    /// The provider stored in a document.
    pub fn provider_of(&self, document: &TantivyDocument) -> Result<Provider, SearchError> {
        let json = document
            .get_first(self.provider_json)
            .and_then(|value| value.as_str())
            .ok_or_else(|| SearchError::CorruptStoredProvider {
                document: "?".to_owned(),
                problem: "no stored provider".to_owned(),
            })?;
        provider_from_json(json)
    }
}

impl Default for IndexFields {
    fn default() -> Self {
        Self::new()
    }
}

pub fn provider_from_json(json: &str) -> Result<Provider, SearchError> {
    let corrupt = |problem: String| SearchError::CorruptStoredProvider {
        document: json.chars().take(60).collect(),
        problem,
    };
    let draft: ProviderDraft =
        serde_json::from_str(json).map_err(|error| corrupt(error.to_string()))?;
    let id_text = draft
        .id
        .clone()
        .ok_or_else(|| corrupt("stored provider has no id".to_owned()))?;
    let id = ProviderId::parse(&id_text).map_err(|error| corrupt(error.to_string()))?;
    draft
        .validate(id)
        .map_err(|error| corrupt(error.to_string()))
}
