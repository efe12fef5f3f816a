//! [`Engine`]: request -> care plan -> candidates -> component scores -> ranked matches with
//! reasons and notes; and care teams. Pure over one read view of the index, so the same
//! request on the same index generation always gives the same answer.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use carematch_domain::triage::triage;
use carematch_domain::{
    CareMode, CarePlan, CareType, MatchRequest, MatchRequestDraft, PaymentFit, Provider,
    ProviderId, ValidationError,
};
use carematch_postal::PostalCodes;
use carematch_search::{
    Candidate, CandidateQuery, CandidateSet, CareModeSet, CareTypeSet, CertificationLevel,
    IndexView, ProviderIndex, ProviderSummary, Reach, SymptomSet, VocabularyKey,
};

use crate::MatchingError;
use crate::config::RankingConfig;
use crate::results::{CareTeam, CareTeamMember, MatchResults, ProviderMatch, SearchArea};
use crate::scoring::{
    PayerSituation, ScoreBreakdown, availability_score, certification_score, distance_score,
    need_fit_score, payment_fit, payment_score, text_score,
};
use crate::words;

/// The matching engine. Cheap to share (`Arc` inside); every method takes `&self`.
#[derive(Debug, Clone)]
pub struct Engine {
    index: Arc<ProviderIndex>,
    postal: PostalCodes,
    config: RankingConfig,
}

/// A care type of her plan, with the symptoms that led to it.
#[derive(Debug, Clone, Copy)]
struct WantedCare {
    care_type: CareType,
    priority: u8,
    relevant_symptoms: SymptomSet,
}

/// One candidate scored for one care type.
#[derive(Debug, Clone, Copy)]
struct Scored {
    candidate_position: usize,
    provider_id: ProviderId,
    care_type: CareType,
    relevant_symptoms: SymptomSet,
    breakdown: ScoreBreakdown,
    total: f64,
    payment_fit: PaymentFit,
    referral_missing: bool,
    beyond_radius: bool,
}

/// Best first: inside the radius (or remote) before beyond it, then score, then provider id
/// so equal scores always come out in the same order.
fn ranking_order(first: &Scored, second: &Scored) -> Ordering {
    first
        .beyond_radius
        .cmp(&second.beyond_radius)
        .then_with(|| second.total.total_cmp(&first.total))
        .then_with(|| first.provider_id.cmp(&second.provider_id))
}

/// Everything one request needs, computed once under one read view.
struct Prepared<'index> {
    view: IndexView<'index>,
    plan: CarePlan,
    wanted: Vec<WantedCare>,
    candidate_set: CandidateSet,
    raw_text_scores: Option<Vec<f32>>,
    best_raw_text_score: f32,
    situation: PayerSituation,
    accepted_modes: CareModeSet,
}

impl Engine {
    /// An engine over `index`, with postal codes for validating requests and `config` for
    /// ranking. Fails only on a configuration that cannot rank.
    pub fn new(
        index: Arc<ProviderIndex>,
        postal: PostalCodes,
        config: RankingConfig,
    ) -> Result<Self, MatchingError> {
        config.validate()?;
        Ok(Self {
            index,
            postal,
            config,
        })
    }

    pub fn index(&self) -> &Arc<ProviderIndex> {
        &self.index
    }

    pub fn config(&self) -> &RankingConfig {
        &self.config
    }

    /// Validates the contract's `MatchInput` with this engine's postal codes. Errors name the
    /// field (`location.latitude`, `location`), for `BAD_USER_INPUT`.
    pub fn validate_request(
        &self,
        draft: MatchRequestDraft,
    ) -> Result<MatchRequest, ValidationError> {
        draft.validate(&self.postal)
    }

    /// Ranked providers for her request: at most `keep_top` (200), best first, each with its
    /// score breakdown, reasons and notes; and what the search covered.
    pub fn match_providers(&self, request: &MatchRequest) -> Result<MatchResults, MatchingError> {
        let prepared = self.prepare(request)?;
        let mut ranked: Vec<Scored> = prepared
            .candidate_set
            .candidates
            .iter()
            .enumerate()
            .filter_map(|(position, candidate)| {
                prepared
                    .wanted
                    .iter()
                    .filter(|wanted| candidate.care_types.contains(wanted.care_type))
                    .filter_map(|wanted| {
                        self.score(&prepared, request, position, candidate, wanted)
                    })
                    // The earlier (higher-priority) care type wins a tie.
                    .reduce(|best, next| if next.total > best.total { next } else { best })
            })
            .collect();
        let candidates_found = ranked.len();
        let keep_top = self.config.keep_top;
        if ranked.len() > keep_top {
            ranked.select_nth_unstable_by(keep_top - 1, ranking_order);
            ranked.truncate(keep_top);
        }
        ranked.sort_unstable_by(ranking_order);
        let matches: Vec<ProviderMatch> = ranked
            .iter()
            .enumerate()
            .filter_map(|(position, scored)| {
                self.provider_match(&prepared, request, scored, position as u32 + 1)
            })
            .collect();
        let search_area = self.search_area(&prepared, request);
        let explanation = matches
            .is_empty()
            .then(|| self.explain_empty(&prepared, request));
        Ok(MatchResults {
            index_generation: prepared.view.generation(),
            plan: prepared.plan,
            matches,
            search_area,
            explanation,
            candidates_found,
        })
    }

    /// Her care team: for each care type of her plan, by care priority, the best provider not
    /// already on the team.
    pub fn care_team(&self, request: &MatchRequest) -> Result<CareTeam, MatchingError> {
        let prepared = self.prepare(request)?;
        let mut used: HashSet<ProviderId> = HashSet::new();
        let mut members: Vec<CareTeamMember> = Vec::new();
        for wanted in &prepared.wanted {
            let best = prepared
                .candidate_set
                .candidates
                .iter()
                .enumerate()
                .filter(|(_, candidate)| candidate.care_types.contains(wanted.care_type))
                .filter_map(|(position, candidate)| {
                    self.score(&prepared, request, position, candidate, wanted)
                })
                .filter(|scored| !used.contains(&scored.provider_id))
                .min_by(ranking_order);
            let provider_match =
                best.and_then(|scored| self.provider_match(&prepared, request, &scored, 1));
            if let Some(found) = &provider_match {
                used.insert(found.provider_id);
            }
            members.push(CareTeamMember {
                care_type: wanted.care_type,
                priority: wanted.priority,
                provider_match,
            });
        }
        let search_area = self.search_area(&prepared, request);
        let missing: Vec<&str> = members
            .iter()
            .filter(|member| member.provider_match.is_none())
            .map(|member| member.care_type.label())
            .collect();
        let explanation = if members.iter().all(|member| member.provider_match.is_none()) {
            Some(self.explain_empty(&prepared, request))
        } else if missing.is_empty() {
            None
        } else {
            Some(format!(
                "We could not find a provider for {} near you yet.",
                words::join(&missing)
            ))
        };
        Ok(CareTeam {
            index_generation: prepared.view.generation(),
            plan: prepared.plan,
            members,
            search_area,
            explanation,
        })
    }

    /// The full providers of these matches, in order (`None` for one deleted since).
    pub fn hydrate(
        &self,
        matches: &[ProviderMatch],
    ) -> Result<Vec<Option<Provider>>, MatchingError> {
        let ids: Vec<ProviderId> = matches.iter().map(|found| found.provider_id).collect();
        Ok(self.index.get_many(&ids)?)
    }

    fn prepare(&self, request: &MatchRequest) -> Result<Prepared<'_>, MatchingError> {
        let plan = triage(&request.triage_input());
        let wanted: Vec<WantedCare> = plan
            .search_care_types
            .iter()
            .map(|&(care_type, priority)| WantedCare {
                care_type,
                priority,
                relevant_symptoms: plan
                    .recommendation(care_type)
                    .map(|recommendation| recommendation.because_of.iter().copied().collect())
                    .unwrap_or_default(),
            })
            .collect();
        let care_types: CareTypeSet = wanted.iter().map(|wanted| wanted.care_type).collect();
        let accepted_modes: CareModeSet = request.modes.iter().copied().collect();
        let view = self.index.view();
        let candidate_set = view.candidates(&CandidateQuery {
            origin: request.origin,
            radius_km: request.radius.kilometres(),
            region: request.region.as_ref(),
            care_types,
            modes: accepted_modes,
            languages: &request.languages,
            widen_when_fewer_than: self.config.widen_when_fewer_than,
            beyond_radius_max_km: self.config.beyond_radius_max_km,
        });
        let raw_text_scores = match request.text.as_deref() {
            Some(text) if !candidate_set.candidates.is_empty() => {
                let slots: Vec<u32> = candidate_set
                    .candidates
                    .iter()
                    .map(|candidate| candidate.slot)
                    .collect();
                Some(view.text_relevance(text, &slots)?)
            }
            _ => None,
        };
        let best_raw_text_score = raw_text_scores
            .as_ref()
            .and_then(|scores| scores.iter().copied().max_by(f32::total_cmp))
            .unwrap_or(0.0);
        let situation = PayerSituation {
            payer: request
                .insurance
                .as_ref()
                .and_then(|insurance| view.payer_key(&insurance.payer)),
            plan: request
                .insurance
                .as_ref()
                .and_then(|insurance| insurance.plan.as_deref())
                // A plan no provider lists still rules out plan-specific contracts.
                .map(|plan| view.plan_key(plan).unwrap_or(VocabularyKey::MAX)),
            has_insurance: request.insurance.is_some(),
            has_fsa_or_hsa: request.has_fsa_or_hsa,
        };
        Ok(Prepared {
            view,
            plan,
            wanted,
            candidate_set,
            raw_text_scores,
            best_raw_text_score,
            situation,
            accepted_modes,
        })
    }

    fn score(
        &self,
        prepared: &Prepared<'_>,
        request: &MatchRequest,
        candidate_position: usize,
        candidate: &Candidate,
        wanted: &WantedCare,
    ) -> Option<Scored> {
        let summary = prepared.view.summary(candidate.slot)?;
        let config = &self.config;
        let fit = payment_fit(summary, wanted.care_type, &prepared.situation);
        let referral_missing = summary.requires_referral && !request.has_referral;
        let text = prepared.raw_text_scores.as_ref().map_or(0.0, |scores| {
            text_score(scores[candidate_position], prepared.best_raw_text_score)
        });
        let breakdown = ScoreBreakdown {
            need_fit: need_fit_score(
                summary.treats,
                wanted.relevant_symptoms,
                wanted.priority,
                config.need_fit_floor,
                &config.priority_weights,
            ),
            distance: distance_score(
                candidate.distance_km,
                candidate.also_remote,
                &config.distance_decay,
            ),
            certification: certification_score(summary.certification, &config.certification_scores),
            payment: payment_score(fit, referral_missing, &config.payment_scores),
            availability: availability_score(
                summary.modes,
                prepared.accepted_modes,
                &config.availability_scores,
            ),
            text,
        };
        Some(Scored {
            candidate_position,
            provider_id: summary.id,
            care_type: wanted.care_type,
            relevant_symptoms: wanted.relevant_symptoms,
            total: breakdown.total(&config.weights, prepared.raw_text_scores.is_some()),
            breakdown,
            payment_fit: fit,
            referral_missing,
            beyond_radius: candidate.reach == Reach::BeyondRadius,
        })
    }

    fn provider_match(
        &self,
        prepared: &Prepared<'_>,
        request: &MatchRequest,
        scored: &Scored,
        rank: u32,
    ) -> Option<ProviderMatch> {
        let candidate = &prepared.candidate_set.candidates[scored.candidate_position];
        let summary = prepared.view.summary(candidate.slot)?;
        Some(ProviderMatch {
            rank,
            provider_id: scored.provider_id,
            score: scored.total,
            breakdown: scored.breakdown,
            distance_km: candidate.distance_km,
            payment_fit: scored.payment_fit,
            care_type: scored.care_type,
            mode: candidate.mode,
            reach: candidate.reach,
            beyond_radius: scored.beyond_radius,
            reasons: reasons(summary, candidate, scored, request),
            notes: notes(&prepared.plan, candidate, scored, request),
        })
    }

    fn search_area(&self, prepared: &Prepared<'_>, request: &MatchRequest) -> SearchArea {
        let set = &prepared.candidate_set;
        let radius = words::kilometres(request.radius.kilometres());
        let radius_note = set.widened.then(|| {
            let mut note = if set.found_within_radius == 0 {
                format!("Nothing was found within {radius} of you.")
            } else {
                format!(
                    "Only {} {} found within {radius} of you.",
                    set.found_within_radius,
                    if set.found_within_radius == 1 {
                        "provider was"
                    } else {
                        "providers were"
                    }
                )
            };
            let mut offers: Vec<String> = Vec::new();
            if set.found_remote > 0 {
                offers.push("telehealth and online options".to_owned());
            }
            if set.found_beyond_radius > 0 {
                offers.push(format!(
                    "the nearest providers beyond {radius}, marked as farther away"
                ));
            }
            if offers.is_empty() {
                note.push_str(" Try a larger distance, or telehealth if you can.");
            } else {
                note.push_str(&format!(" We also show {}.", offers.join(", and ")));
            }
            note
        });
        SearchArea {
            radius_km: request.radius.kilometres(),
            found_within_radius: set.found_within_radius,
            found_remote: set.found_remote,
            found_beyond_radius: set.found_beyond_radius,
            widened: set.widened,
            radius_note,
        }
    }

    fn explain_empty(&self, prepared: &Prepared<'_>, request: &MatchRequest) -> String {
        if prepared.wanted.is_empty() {
            if let Some(notice) = &prepared.plan.notice {
                return notice.clone();
            }
            return "The care that fits what you told us is not advised yet (see the cautions in your care plan), so there are no providers to show. Ask your provider when it is safe, then search again.".to_owned();
        }
        if prepared.view.is_empty() {
            return "The provider directory is empty right now, so there is no one to match yet. Please try again later.".to_owned();
        }
        let care: Vec<&str> = prepared
            .wanted
            .iter()
            .map(|wanted| wanted.care_type.label())
            .collect();
        let mut ways = vec![format!(
            "within {} of you",
            words::kilometres(request.radius.kilometres())
        )];
        if let Some(region) = &request.region {
            ways.push(format!("by telehealth licensed in {}", region.as_str()));
        }
        ways.push("online".to_owned());
        format!(
            "No provider of {} taking new clients was found {}. Try a larger distance, fewer languages or other ways of being seen.",
            words::join(&care),
            words::join_with_or(&ways.iter().map(String::as_str).collect::<Vec<_>>())
        )
    }
}

/// Why this provider ranks here, in words a mother understands.
fn reasons(
    summary: &ProviderSummary,
    candidate: &Candidate,
    scored: &Scored,
    request: &MatchRequest,
) -> Vec<String> {
    let mut reasons = Vec::new();
    let treated: Vec<&str> = summary
        .treats
        .intersection(scored.relevant_symptoms)
        .iter()
        .map(|symptom| symptom.label())
        .collect();
    if treated.is_empty() {
        reasons.push(format!("Offers {}.", scored.care_type.label()));
    } else {
        reasons.push(format!(
            "Offers {} and treats {}.",
            scored.care_type.label(),
            words::join(&treated)
        ));
    }
    match summary.certification {
        CertificationLevel::StrongestCredentialVerified => reasons
            .push("Holds the strongest credential in the field (IBCLC), verified.".to_owned()),
        CertificationLevel::PerinatalVerified => {
            reasons.push("Certified in pregnancy and postpartum care, verified.".to_owned())
        }
        CertificationLevel::PerinatalSelfReported => reasons.push(
            "Reports a pregnancy and postpartum certification (not yet verified).".to_owned(),
        ),
        CertificationLevel::GeneralVerified => reasons.push(
            "Has a general licence or certification (verified), not one specific to postpartum care."
                .to_owned(),
        ),
        CertificationLevel::GeneralSelfReported => reasons.push(
            "Reports a general licence or certification (not yet verified).".to_owned(),
        ),
        CertificationLevel::None => {}
    }
    let distance = candidate.distance_km.map(words::distance);
    match (candidate.reach, candidate.mode, distance) {
        (Reach::BeyondRadius, CareMode::HomeVisit, Some(distance)) => reasons.push(format!(
            "Visits you at home, {distance} away: farther than the {} you asked for.",
            words::kilometres(request.radius.kilometres())
        )),
        (Reach::BeyondRadius, _, Some(distance)) => reasons.push(format!(
            "{distance} away: farther than the {} you asked for.",
            words::kilometres(request.radius.kilometres())
        )),
        (_, CareMode::HomeVisit, Some(distance)) => {
            reasons.push(format!("Visits you at home ({distance} away)."))
        }
        (_, _, Some(distance)) => reasons.push(format!("{distance} from you.")),
        (_, CareMode::VirtualGroup, None) => {
            reasons.push("Meets online, open to you wherever you live.".to_owned())
        }
        (_, _, None) => match (&request.region, scored.care_type.needs_state_licence()) {
            (Some(region), true) => reasons.push(format!(
                "Sees you by telehealth, licensed in {}.",
                region.as_str()
            )),
            _ => reasons.push("Sees you by telehealth, wherever you live.".to_owned()),
        },
    }
    if candidate.also_remote && candidate.distance_km.is_some() {
        reasons.push("Also offers telehealth or online sessions.".to_owned());
    }
    let payer = request
        .insurance
        .as_ref()
        .map(|insurance| insurance.payer.as_str());
    match (scored.payment_fit, payer) {
        (PaymentFit::InNetwork, Some(payer)) => {
            reasons.push(format!("In network with {payer}."));
            if scored.care_type == CareType::LactationConsulting {
                reasons.push("Lactation support is covered without cost sharing under the ACA women's preventive services.".to_owned());
            }
        }
        (PaymentFit::OutOfNetworkSuperbill, _) => reasons.push(
            "Out of network with your insurance, but gives a superbill you can submit for reimbursement."
                .to_owned(),
        ),
        (PaymentFit::FsaHsaEligible, _) => {
            reasons.push("You can pay with your FSA or HSA.".to_owned())
        }
        (PaymentFit::FsaHsaWithLetterOfMedicalNecessity, _) => reasons.push(
            "You can pay with your FSA or HSA with a letter of medical necessity.".to_owned(),
        ),
        _ => match summary.self_pay_rate_usd {
            Some(0) => reasons.push("Free of charge.".to_owned()),
            Some(rate) => reasons.push(format!("Self-pay: ${rate} a visit.")),
            None => reasons.push("Self-pay.".to_owned()),
        },
    }
    if !request.languages.is_empty() {
        let spoken: Vec<&str> = request
            .languages
            .iter()
            .map(|language| language.as_str())
            .collect();
        reasons.push(format!("Speaks {}.", words::join_with_or(&spoken)));
    }
    if scored.breakdown.text > 0.0 {
        reasons.push("Matches the words you searched for.".to_owned());
    }
    reasons
}

/// What she should know before booking.
fn notes(
    plan: &CarePlan,
    candidate: &Candidate,
    scored: &Scored,
    request: &MatchRequest,
) -> Vec<String> {
    let mut notes: Vec<String> = plan
        .cautions_for(scored.care_type)
        .map(|caution| caution.reason.clone())
        .collect();
    if scored.referral_missing {
        notes.push(
            "This provider requires a referral: ask your OB/GYN for a referral before booking."
                .to_owned(),
        );
    }
    if scored.payment_fit == PaymentFit::FsaHsaWithLetterOfMedicalNecessity {
        notes.push(format!(
            "To pay for {} with your FSA or HSA you need a letter of medical necessity from your doctor (IRS Publication 502).",
            scored.care_type.label()
        ));
    }
    if candidate.reach == Reach::BeyondRadius {
        notes.push(format!(
            "Beyond the {} you asked for.",
            words::kilometres(request.radius.kilometres())
        ));
    }
    notes
}
