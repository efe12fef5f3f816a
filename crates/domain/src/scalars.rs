//! Identifiers and small values that are valid by construction: provider id, NPI, postal code,
//! names, languages, regions, weeks postpartum.

use std::fmt;

use crate::ValidationError;
use crate::limits::{MAX_NAME_CHARS, MAX_WEEKS_POSTPARTUM};

/// A provider's id: a UUID, stable across imports and replicas.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct ProviderId(uuid::Uuid);

impl ProviderId {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        uuid::Uuid::parse_str(text.trim())
            .map(Self)
            .map_err(|_| ValidationError::new("id", "must be a UUID"))
    }

    pub fn from_uuid(uuid: uuid::Uuid) -> Self {
        Self(uuid)
    }

    pub fn as_uuid(self) -> uuid::Uuid {
        self.0
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// A US National Provider Identifier: ten digits whose last is a Luhn check digit computed
/// over the nine before it with the prefix 80840 (CMS, "NPI check digit").
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Npi(String);

impl Npi {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let digits = text.trim();
        if digits.len() != 10 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(ValidationError::new("npi", "must be 10 digits"));
        }
        if !luhn_valid(&format!("80840{digits}")) {
            return Err(ValidationError::new("npi", "check digit does not match"));
        }
        Ok(Self(digits.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(position, byte)| {
            let digit = u32::from(byte - b'0');
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A US postal code: exactly five digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct PostalCode(String);

impl PostalCode {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let digits = text.trim();
        if digits.len() != 5 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(ValidationError::new(
                "postalCode",
                "must be a 5-digit US postal code",
            ));
        }
        Ok(Self(digits.to_owned()))
    }

    /// Accepts ZIP+4 (`97205-1234` or `972051234`) as importers meet it, keeping the 5 digits.
    pub fn parse_truncating_plus_four(text: &str) -> Result<Self, ValidationError> {
        let trimmed = text.trim();
        let five = match trimmed.len() {
            9 if trimmed.bytes().all(|byte| byte.is_ascii_digit()) => &trimmed[..5],
            10 if trimmed.as_bytes()[5] == b'-' => &trimmed[..5],
            _ => trimmed,
        };
        Self::parse(five)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The three-digit prefix (sectional center), the coarsest part that still locates.
    pub fn prefix3(&self) -> &str {
        &self.0[..3]
    }
}

/// Refuses control characters (NUL, escape, ...) in a text field, except tab, line feed and
/// carriage return, which a bio or free text may hold. PostgreSQL's text type cannot store NUL
/// and SQLite can: rejecting them here makes a field valid or not the same on every backend,
/// and keeps terminal escapes out of stored names.
pub(crate) fn check_no_control_characters(text: &str, field: &str) -> Result<(), ValidationError> {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A display name: trimmed, not empty, at most 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ProviderName(String);

impl ProviderName {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let name = text.trim();
        if name.is_empty() {
            return Err(ValidationError::new("name", "must not be empty"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(ValidationError::new(
                "name",
                format!("must be at most {MAX_NAME_CHARS} characters"),
            ));
        }
        check_no_control_characters(name, "name")?;
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A spoken language as given ("Spanish"), compared without regard to case.
#[derive(Debug, Clone, Eq, serde::Serialize)]
pub struct Language(String);

impl Language {
    const MAX_CHARS: usize = 60;

    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let language = text.trim();
        if language.is_empty() || language.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "",
                format!("a language must be 1 to {} characters", Self::MAX_CHARS),
            ));
        }
        check_no_control_characters(language, "")?;
        Ok(Self(language.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for matching and indexing: lower case.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl PartialEq for Language {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_lowercase() == other.0.to_lowercase()
    }
}

/// A US state or territory code as two upper-case letters (`OR`), used for licensing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Region(String);

impl Region {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let code = text.trim().to_ascii_uppercase();
        if code.len() != 2 || !code.bytes().all(|byte| byte.is_ascii_uppercase()) {
            return Err(ValidationError::new(
                "region",
                "must be a two-letter state code",
            ));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Weeks since birth, 0 to 520 (ten years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct WeeksPostpartum(u16);

impl WeeksPostpartum {
    pub fn new(weeks: i64) -> Result<Self, ValidationError> {
        if !(0..=i64::from(MAX_WEEKS_POSTPARTUM)).contains(&weeks) {
            return Err(ValidationError::new(
                "weeksPostpartum",
                format!("must be between 0 and {MAX_WEEKS_POSTPARTUM}"),
            ));
        }
        Ok(Self(weeks as u16))
    }

    pub fn weeks(self) -> u16 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npi_with_a_correct_check_digit_is_accepted() {
        // CMS's worked example: 123456789 has check digit 3.
        assert_eq!(Npi::parse("1234567893").unwrap().as_str(), "1234567893");
        assert!(Npi::parse(" 1245319599 ").is_ok());
    }

    #[test]
    fn npi_with_a_wrong_check_digit_or_shape_is_rejected() {
        assert_eq!(
            Npi::parse("1234567890").unwrap_err().problem,
            "check digit does not match"
        );
        assert_eq!(Npi::parse("123456789").unwrap_err().field, "npi");
        assert!(Npi::parse("12345678901").is_err());
        assert!(Npi::parse("12345a7893").is_err());
        assert!(Npi::parse("").is_err());
    }

    #[test]
    fn postal_code_must_be_five_digits() {
        assert_eq!(PostalCode::parse("97205").unwrap().as_str(), "97205");
        assert_eq!(PostalCode::parse("97205").unwrap().prefix3(), "972");
        for bad in ["9720", "972055", "9720a", "97205-1234", ""] {
            assert_eq!(
                PostalCode::parse(bad).unwrap_err().field,
                "postalCode",
                "{bad}"
            );
        }
    }

    #[test]
    fn zip_plus_four_is_truncated_only_by_the_lenient_parser() {
        assert_eq!(
            PostalCode::parse_truncating_plus_four("97205-1234")
                .unwrap()
                .as_str(),
            "97205"
        );
        assert_eq!(
            PostalCode::parse_truncating_plus_four("972051234")
                .unwrap()
                .as_str(),
            "97205"
        );
        assert!(PostalCode::parse_truncating_plus_four("9720-51234").is_err());
    }

    #[test]
    fn names_are_trimmed_non_empty_and_bounded() {
        assert_eq!(
            ProviderName::parse("  Rose City PT ").unwrap().as_str(),
            "Rose City PT"
        );
        assert_eq!(ProviderName::parse("   ").unwrap_err().field, "name");
        assert!(ProviderName::parse(&"x".repeat(200)).is_ok());
        assert!(ProviderName::parse(&"x".repeat(201)).is_err());
        // Characters, not bytes, are counted.
        assert!(ProviderName::parse(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn weeks_postpartum_range_is_0_to_520() {
        assert!(WeeksPostpartum::new(0).is_ok());
        assert!(WeeksPostpartum::new(520).is_ok());
        assert_eq!(
            WeeksPostpartum::new(-1).unwrap_err().field,
            "weeksPostpartum"
        );
        assert!(WeeksPostpartum::new(521).is_err());
    }

    #[test]
    fn regions_are_two_letters_and_languages_compare_without_case() {
        assert_eq!(Region::parse("or").unwrap().as_str(), "OR");
        assert!(Region::parse("Oregon").is_err());
        assert!(Region::parse("O1").is_err());
        assert_eq!(
            Language::parse("spanish").unwrap(),
            Language::parse("Spanish").unwrap()
        );
        assert!(Language::parse(" ").is_err());
    }

    #[test]
    fn control_characters_are_refused_in_names_and_languages_but_not_line_breaks() {
        for bad in ["Aet\u{0}na", "Rose\u{1b}[31m City", "Rose\u{7f}"] {
            let error = ProviderName::parse(bad).unwrap_err();
            assert_eq!(
                (error.field.as_str(), error.problem.as_str()),
                ("name", "must not contain control characters"),
                "{bad:?}"
            );
        }
        assert!(Language::parse("Span\u{0}ish").is_err());
        assert!(check_no_control_characters("one\ntwo\r\n\tthree", "bio").is_ok());
        assert!(check_no_control_characters("Niña, 産後", "bio").is_ok());
    }

    #[test]
    fn provider_ids_are_uuids() {
        let id = ProviderId::parse("00000000-0000-4000-8000-000000000001").unwrap();
        assert_eq!(id.to_string(), "00000000-0000-4000-8000-000000000001");
        assert_eq!(ProviderId::parse("p-1").unwrap_err().field, "id");
    }
}
