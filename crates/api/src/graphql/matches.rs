//! The matching part of the contract: `MatchInput`, `MatchResult` with Relay pagination over the
//! engine's ranked list, `Match`, `ScoreBreakdown`, `CareTeam`, and the opaque cursors.

use async_graphql::{Enum, ID, InputObject, SimpleObject};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use carematch_domain as domain;
use carematch_matching as matching;
use carematch_service::{CareTeamPage, MatchPage};

use super::inputs::InsuranceInput;
use super::types::{BirthType, CareMode, CarePlan, CareType, Provider, Symptom, WarningSign};
use crate::ApiError;

/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: i32 = 50;

/// Exactly one of: latitude and longitude together, or a US postal code.
#[derive(InputObject)]
pub struct LocationInput {
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Five digits; her location is then the postal code's centroid.
    pub postal_code: Option<String>,
}

/// One mother's needs. Lists are capped (32 symptoms, 20 languages); bad values are
/// `BAD_USER_INPUT` with `extensions.field` naming the field (`input.location.latitude`).
#[derive(InputObject)]
pub struct MatchInput {
    pub location: LocationInput,
    /// Search radius for in-person and home-visit care, more than 0 and at most 200 km.
    #[graphql(default_with = "Some(25.0)")]
    pub radius_km: Option<f64>,
    #[graphql(default_with = "Some(Vec::new())")]
    pub symptoms: Option<Vec<Symptom>>,
    #[graphql(default_with = "Some(Vec::new())")]
    pub warning_signs: Option<Vec<WarningSign>>,
    /// Asked for explicitly; when absent, derived from symptoms.
    pub care_types: Option<Vec<CareType>>,
    pub birth_type: Option<BirthType>,
    /// 0 to 520.
    pub weeks_postpartum: Option<i32>,
    /// Cleared by her provider for massage (matters after a cesarean).
    #[graphql(default_with = "Some(false)")]
    pub cleared_for_massage: Option<bool>,
    pub insurance: Option<InsuranceInput>,
    #[graphql(default_with = "Some(false)")]
    pub has_fsa_or_hsa: Option<bool>,
    #[graphql(default_with = "Some(false)")]
    pub has_referral: Option<bool>,
    /// Languages she needs a provider to speak (any of them).
    pub languages: Option<Vec<String>>,
    /// Ways of receiving care she accepts; absent means any.
    pub modes: Option<Vec<CareMode>>,
    /// Free text, searched over provider names, specialties and bios. Plain words only: it is
    /// never parsed as query syntax.
    pub text: Option<String>,
}

impl From<MatchInput> for domain::MatchRequestDraft {
    fn from(input: MatchInput) -> Self {
        domain::MatchRequestDraft {
            location: domain::LocationQueryDraft {
                latitude: input.location.latitude,
                longitude: input.location.longitude,
                postal_code: input.location.postal_code,
            },
            radius_km: input.radius_km,
            symptoms: input
                .symptoms
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            warning_signs: input
                .warning_signs
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            care_types: input
                .care_types
                .map(|care_types| care_types.into_iter().map(Into::into).collect()),
            birth_type: input.birth_type.map(Into::into),
            weeks_postpartum: input.weeks_postpartum.map(i64::from),
            cleared_for_massage: input.cleared_for_massage.unwrap_or(false),
            insurance: input.insurance.map(InsuranceInput::into_draft),
            has_fsa_or_hsa: input.has_fsa_or_hsa.unwrap_or(false),
            has_referral: input.has_referral.unwrap_or(false),
            languages: input.languages,
            modes: input
                .modes
                .map(|modes| modes.into_iter().map(Into::into).collect()),
            text: input.text,
        }
    }
}

/// How the mother would pay this provider, best first.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "carematch_domain::PaymentFit")]
pub enum PaymentFit {
    /// The provider is in network with her payer (and plan, when she gave one).
    InNetwork,
    /// Out of network, but the provider gives a superbill she can submit for reimbursement.
    OutOfNetworkSuperbill,
    /// She can pay with her FSA or HSA.
    FsaHsaEligible,
    /// She can pay with her FSA or HSA once a doctor writes a letter of medical necessity.
    FsaHsaWithLetterOfMedicalNecessity,
    SelfPay,
}

/// How a match reaches her.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "carematch_search::Reach")]
pub enum Reach {
    /// In person or by home visit, inside her radius.
    WithinRadius,
    /// By telehealth or an online group, where distance does not apply.
    Remote,
    /// In person or by home visit beyond her radius: offered because too few were near.
    BeyondRadius,
}

/// Each component is in [0, 1]; `score` is their weighted sum.
#[derive(SimpleObject)]
pub struct ScoreBreakdown {
    /// Share of her symptoms the provider treats, weighted by the priority of its care type.
    pub need_fit: f64,
    /// Gaussian decay with distance; neutral for telehealth and online groups.
    pub distance: f64,
    /// Perinatal and verified certifications score highest.
    pub certification: f64,
    /// In network > superbill > FSA/HSA > FSA/HSA with a letter > self-pay.
    pub payment: f64,
    /// Accepting new clients, in the modes she asked for.
    pub availability: f64,
    /// Relevance of her free text (0 when she gave none).
    pub text: f64,
}

/// One ranked provider.
#[derive(SimpleObject)]
pub struct Match {
    /// 1-based position in the whole ranked list (not the page).
    pub rank: i32,
    pub score: f64,
    pub provider: Provider,
    /// Kilometres to the nearest location. Null for telehealth-only and virtual providers.
    pub distance_km: Option<f64>,
    pub payment_fit: PaymentFit,
    /// Why this provider ranks here, in plain words.
    pub reasons: Vec<String>,
    /// What she should know before booking (clearance, referral, letter of medical necessity).
    pub notes: Vec<String>,
    pub score_breakdown: ScoreBreakdown,
    /// The care type of her plan this provider was matched for.
    pub care_type: CareType,
    /// How she would be seen by this provider.
    pub mode: CareMode,
    pub reach: Reach,
    /// Offered only because too few providers were found inside her radius.
    pub beyond_radius: bool,
}

fn to_match(found: matching::ProviderMatch, provider: std::sync::Arc<domain::Provider>) -> Match {
    let breakdown = found.breakdown;
    Match {
        rank: i32::try_from(found.rank).unwrap_or(i32::MAX),
        score: found.score,
        provider: Provider(provider),
        distance_km: found.distance_km,
        payment_fit: found.payment_fit.into(),
        reasons: found.reasons,
        notes: found.notes,
        score_breakdown: ScoreBreakdown {
            need_fit: breakdown.need_fit,
            distance: breakdown.distance,
            certification: breakdown.certification,
            payment: breakdown.payment,
            availability: breakdown.availability,
            text: breakdown.text,
        },
        care_type: found.care_type.into(),
        mode: found.mode.into(),
        reach: found.reach.into(),
        beyond_radius: found.beyond_radius,
    }
}

#[derive(SimpleObject)]
pub struct MatchEdge {
    pub cursor: String,
    pub node: Match,
}

/// Relay page information.
#[derive(SimpleObject)]
#[graphql(shareable)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// What the search covered.
#[derive(SimpleObject)]
pub struct SearchArea {
    pub radius_km: f64,
    /// In-person and home-visit matches inside her radius.
    pub found_within_radius: i32,
    /// Telehealth and online matches.
    pub found_remote: i32,
    /// Matches added from beyond her radius because too few were found inside it.
    pub found_beyond_radius: i32,
    /// True when too few were found inside her radius and the search looked farther.
    pub widened: bool,
    /// Said when too few were found inside her radius, e.g. "nothing was found within 10 km",
    /// or when a care type she is searched for has no one to see in person inside it.
    pub radius_note: Option<String>,
    /// Care types searched for with no accepting provider to see in person (or visiting her at
    /// home) inside her radius; the nearest of each beyond it are offered, marked.
    pub care_types_without_nearby: Vec<CareType>,
}

impl From<matching::SearchArea> for SearchArea {
    fn from(area: matching::SearchArea) -> Self {
        let count = |value: usize| i32::try_from(value).unwrap_or(i32::MAX);
        SearchArea {
            radius_km: area.radius_km,
            found_within_radius: count(area.found_within_radius),
            found_remote: count(area.found_remote),
            found_beyond_radius: count(area.found_beyond_radius),
            widened: area.widened,
            radius_note: area.radius_note,
            care_types_without_nearby: area
                .care_types_without_nearby
                .into_iter()
                .map(Into::into)
                .collect(),
        }
    }
}

/// Ranked providers for one mother's needs, with the care plan behind them.
#[derive(SimpleObject)]
pub struct MatchResult {
    /// Id of the match log entry; give it to `recordMatchOutcome`.
    pub match_id: ID,
    pub plan: CarePlan,
    /// Matches in the whole ranked list (at most 200).
    pub total_count: i32,
    pub edges: Vec<MatchEdge>,
    pub page_info: PageInfo,
    pub search_area: SearchArea,
    /// True when the radius was widened (same as `searchArea.widened`).
    pub widened: bool,
    /// Why there are no matches, in plain words; null when there are.
    pub explanation: Option<String>,
}

impl MatchResult {
    /// The contract's answer for a page that starts at `start` of the ranked list of the
    /// request whose fingerprint is `request_fingerprint` (the page's cursors carry it).
    pub fn from_page(page: MatchPage, start: usize, request_fingerprint: u64) -> Self {
        let edges: Vec<MatchEdge> = page
            .matches
            .into_iter()
            .map(|shown| MatchEdge {
                cursor: Cursor {
                    fingerprint: request_fingerprint,
                    rank: shown.found.rank as usize,
                }
                .encode(),
                node: to_match(shown.found, shown.provider),
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: start + edges.len() < page.total,
            has_previous_page: start > 0,
            start_cursor: edges.first().map(|edge| edge.cursor.clone()),
            end_cursor: edges.last().map(|edge| edge.cursor.clone()),
        };
        let widened = page.search_area.widened;
        MatchResult {
            match_id: ID(page.match_id.to_string()),
            plan: page.plan.into(),
            total_count: i32::try_from(page.total).unwrap_or(i32::MAX),
            edges,
            page_info,
            search_area: page.search_area.into(),
            widened,
            explanation: page.explanation,
        }
    }
}

/// Her care team.
#[derive(SimpleObject)]
pub struct CareTeam {
    pub match_id: ID,
    pub plan: CarePlan,
    /// One per recommended care type, by care priority; no provider appears twice.
    pub members: Vec<CareTeamMember>,
    pub search_area: SearchArea,
    /// Why the team is empty or incomplete, in plain words.
    pub explanation: Option<String>,
}

#[derive(SimpleObject)]
pub struct CareTeamMember {
    pub care_type: CareType,
    /// Null when no provider was found for this care type.
    #[graphql(name = "match")]
    pub member_match: Option<Match>,
}

impl From<CareTeamPage> for CareTeam {
    fn from(team: CareTeamPage) -> Self {
        CareTeam {
            match_id: ID(team.match_id.to_string()),
            plan: team.plan.into(),
            members: team
                .members
                .into_iter()
                .map(|member| CareTeamMember {
                    care_type: member.care_type.into(),
                    member_match: member
                        .shown
                        .map(|shown| to_match(shown.found, shown.provider)),
                })
                .collect(),
            search_area: team.search_area.into(),
            explanation: team.explanation,
        }
    }
}

/// An opaque page cursor: the request's fingerprint and a rank. A cursor only works with the
/// request it came from, so a cursor from another request is refused instead of misread.
#[derive(Debug)]
pub struct Cursor {
    pub fingerprint: u64,
    pub rank: usize,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("m1:{:016x}:{}", self.fingerprint, self.rank))
    }

    pub fn decode(text: &str, fingerprint: u64) -> Result<Self, ApiError> {
        let invalid = || ApiError::BadUserInput {
            field: "after".into(),
            message: "is not a cursor of this request".into(),
        };
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.split(':');
        let (Some("m1"), Some(hash), Some(rank), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let cursor = Cursor {
            fingerprint: u64::from_str_radix(hash, 16).map_err(|_| invalid())?,
            rank: rank.parse().map_err(|_| invalid())?,
        };
        if cursor.fingerprint != fingerprint {
            return Err(invalid());
        }
        Ok(cursor)
    }
}

/// A stable fingerprint of a validated request (FNV-1a over its canonical JSON): the same on
/// every replica, unlike the standard library's hasher.
pub fn fingerprint(request: &domain::MatchRequest) -> u64 {
    let bytes = serde_json::to_vec(request).unwrap_or_default();
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_only_with_its_own_request() {
        let cursor = Cursor {
            fingerprint: 42,
            rank: 7,
        }
        .encode();
        assert_eq!(Cursor::decode(&cursor, 42).unwrap().rank, 7);
        assert!(Cursor::decode(&cursor, 43).is_err());
        for forged in [
            "",
            "abc",
            "bTE6eHg6MQ",
            &URL_SAFE_NO_PAD.encode("m1:2a:1:2"),
        ] {
            let error = Cursor::decode(forged, 42).unwrap_err();
            assert!(
                matches!(error, ApiError::BadUserInput { ref field, .. } if field == "after"),
                "{forged}"
            );
        }
    }
}
