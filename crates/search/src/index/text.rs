//! Her free text as term queries: analyzed into words, never parsed as query syntax.

//! [`ProviderIndex`]: the tantivy index and the in-memory catalog kept in step — full builds
//! from a stream of providers, incremental upserts and deletes, the recorded generation, text
//! relevance for candidates, and hydration of providers by id.

use tantivy::Term;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;

use crate::schema::{TEXT_ANALYZER_NAME, text_analyzer};

use super::ProviderIndex;

/// At most this many distinct words of her text are searched: enough for any sentence, and a
/// bound on the work a long text can cause.
const MAX_TEXT_TERMS: usize = 32;

/// Field boosts for free text: a word in the name says most about the provider, then the
/// specialties (care types, conditions, certifications), then the bio.
const TEXT_FIELD_BOOSTS: [(TextField, f32); 3] = [
    (TextField::Name, 2.0),
    (TextField::Specialties, 1.5),
    (TextField::Bio, 1.0),
];

#[derive(Debug, Clone, Copy)]
enum TextField {
    Name,
    Specialties,
    Bio,
}

impl ProviderIndex {
    /// The term queries for her words, with field boosts: each analyzed word in each text
    /// field, any may match, scores summed (a boolean "should" query). Built from tokens, never
    /// from query syntax: `pelvic AND (OR` is three plain words.
    pub(super) fn text_query(&self, text: &str) -> Option<Vec<(TermQuery, f32)>> {
        let mut analyzer = self
            .index
            .tokenizers()
            .get(TEXT_ANALYZER_NAME)
            .unwrap_or_else(text_analyzer);
        let mut words: Vec<String> = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            let word = &stream.token().text;
            if !word.is_empty() && !words.contains(word) {
                words.push(word.clone());
                if words.len() == MAX_TEXT_TERMS {
                    break;
                }
            }
        }
        if words.is_empty() {
            return None;
        }
        let mut clauses: Vec<(TermQuery, f32)> = Vec::new();
        for word in &words {
            for (field, boost) in TEXT_FIELD_BOOSTS {
                let field = match field {
                    TextField::Name => self.fields.name,
                    TextField::Specialties => self.fields.specialties,
                    TextField::Bio => self.fields.bio,
                };
                let term_query = TermQuery::new(
                    Term::from_field_text(field, word),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((term_query, boost));
            }
        }
        Some(clauses)
    }
}
