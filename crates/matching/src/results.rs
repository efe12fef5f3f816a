//! What the engine answers: plain Rust types, no GraphQL. The API maps them to the contract.

use carematch_domain::CertificationLevel;
use carematch_domain::{CareMode, CarePlan, CareType, PaymentFit, ProviderId};
use carematch_search::{Reach, SymptomSet};

use crate::scoring::ScoreBreakdown;

/// One ranked provider.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProviderMatch {
    /// 1-based position in the ranked list.
    pub rank: u32,
    pub provider_id: ProviderId,
    /// Weighted sum of the breakdown, in [0, 1].
    pub score: f64,
    pub breakdown: ScoreBreakdown,
    /// Kilometres to the nearest qualifying location; `None` for telehealth and online groups.
    pub distance_km: Option<f64>,
    pub payment_fit: PaymentFit,
    /// The care type of her plan this provider was matched for.
    pub care_type: CareType,
    /// How she would be seen.
    pub mode: CareMode,
    pub reach: Reach,
    /// Offered only because too few were found inside her radius.
    pub beyond_radius: bool,
    /// Why it ranks here, in plain words. Empty in a list from [`crate::Engine::rank`] until
    /// [`crate::write_words`] writes them.
    pub reasons: Vec<String>,
    /// What she should know before booking: clearance, referral, letter of medical necessity.
    pub notes: Vec<String>,
    /// What the reasons and notes are written from.
    pub facts: MatchFacts,
}

/// The provider facts behind a match's words, kept with the ranked list so the words can be
/// written for the page she is shown only: a list holds up to 200 matches and a page 10 to 50,
/// and writing every match's sentences was a tenth of a request's time.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MatchFacts {
    /// Her symptoms (relevant to the matched care type) that this provider treats.
    pub treated: SymptomSet,
    pub certification: CertificationLevel,
    pub self_pay_rate_usd: Option<u32>,
    /// A nearby provider she could also see by telehealth or online.
    pub also_remote: bool,
    /// The provider requires a referral she does not have (for this care type).
    pub referral_missing: bool,
    /// Bit `i`: the provider speaks the `i`-th language of her request (in the request's
    /// order), so "speaks" names only languages it speaks.
    pub spoken_languages: u32,
}

/// What the search covered, and what to tell her about it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchArea {
    pub radius_km: f64,
    /// In-person and home-visit matches inside her radius.
    pub found_within_radius: usize,
    /// Telehealth and online matches.
    pub found_remote: usize,
    /// Matches added from beyond her radius.
    pub found_beyond_radius: usize,
    /// Whether too few were found inside her radius, so the search looked farther.
    pub widened: bool,
    /// Said when too few were found inside her radius ("nothing was found within 10 km"), or
    /// when a care type has nothing to see in person inside it.
    pub radius_note: Option<String>,
    /// Searched care types with no accepting provider to see in person (or visiting her at
    /// home) inside her radius (care-guide.md section 6, 2nd edition).
    pub care_types_without_nearby: Vec<CareType>,
}

/// The answer to a match request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatchResults {
    pub plan: CarePlan,
    /// Best first, at most `keep_top` (200): pages are cut from this list.
    pub matches: Vec<ProviderMatch>,
    pub search_area: SearchArea,
    /// Why the list is empty, in plain words; `None` when there are matches.
    pub explanation: Option<String>,
    /// Candidates found before keeping the top ones.
    pub candidates_found: usize,
    /// The index generation the answer was computed on (for cache keys).
    pub index_generation: Option<u64>,
}

/// One member of her care team: the best provider for one recommended care type.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CareTeamMember {
    pub care_type: CareType,
    pub priority: u8,
    /// `None` when no provider was found for this care type.
    pub provider_match: Option<ProviderMatch>,
}

/// The best provider per recommended care type, no provider twice, by care priority.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CareTeam {
    pub plan: CarePlan,
    pub members: Vec<CareTeamMember>,
    pub search_area: SearchArea,
    /// Why the team is empty or incomplete, in plain words.
    pub explanation: Option<String>,
    pub index_generation: Option<u64>,
}
