//! carematch's domain: the types of the API contract, valid by construction, and the care rules
//! (triage) from `shared/domain/care-guide.md`.
//!
//! Architecture invariant: this crate does no I/O. It depends on no async runtime, database,
//! index or GraphQL crate, so every rule here can be read and tested on its own.

mod codes;
pub mod credentials;
pub mod crisis;
mod error;
mod error_code;
mod geo;
pub mod payment;
mod provider;
mod request;
mod scalars;
pub mod triage;

pub use codes::{
    BirthType, CareMode, CareType, CertificationScope, MatchOutcome, PaymentFit, Symptom,
    UnknownCode, WarningSign,
};
pub use credentials::CertificationLevel;
pub use crisis::{CrisisWords, crisis_words};
pub use error::ValidationError;
pub use error_code::{ErrorCode, HasErrorCode};
pub use geo::{GeoPoint, RadiusKm, haversine_km};
pub use provider::{
    Certification, CertificationDraft, InsurancePlan, InsurancePlanDraft, LocationDraft, Provider,
    ProviderDraft, ProviderLocation,
};
pub use request::{
    InsuranceQuery, LocationQuery, LocationQueryDraft, MatchRequest, MatchRequestDraft,
    PostalDirectory,
};
pub use scalars::{Language, Npi, PostalCode, ProviderId, ProviderName, Region, WeeksPostpartum};
pub use triage::{
    CarePlan, CareRecommendation, Caution, CautionKind, TriageInput, UrgencyLevel, UrgentGuidance,
};

/// Upper bounds on list inputs. They keep one request from carrying unbounded work and are
/// generous for any real mother or provider.
pub mod limits {
    pub const MAX_SYMPTOMS: usize = 32;
    pub const MAX_WARNING_SIGNS: usize = 32;
    pub const MAX_CARE_TYPES: usize = 16;
    pub const MAX_MODES: usize = 8;
    pub const MAX_LANGUAGES: usize = 20;
    pub const MAX_LOCATIONS: usize = 50;
    pub const MAX_CERTIFICATIONS: usize = 30;
    pub const MAX_INSURANCE_PLANS: usize = 100;
    pub const MAX_LICENSED_REGIONS: usize = 60;
    pub const MAX_NAME_CHARS: usize = 200;
    pub const MAX_SHORT_TEXT_CHARS: usize = 200;
    pub const MAX_BIO_CHARS: usize = 4_000;
    pub const MAX_QUERY_TEXT_CHARS: usize = 500;
    pub const MAX_RADIUS_KM: f64 = 200.0;
    pub const DEFAULT_RADIUS_KM: f64 = 25.0;
    pub const MAX_WEEKS_POSTPARTUM: u16 = 520;
    pub const MAX_SELF_PAY_RATE_USD: u32 = 100_000;
}

/// "a", "a and b", "a, b and c": a list in a sentence.
pub(crate) fn words_join(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [head @ .., last] => format!("{} and {last}", head.join(", ")),
    }
}
