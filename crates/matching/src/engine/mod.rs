//! [`Engine`]: request -> care plan -> candidates -> component scores -> ranked matches with
//! reasons and notes; and care teams. Pure over one read view of the index, so the same
//! request on the same index generation always gives the same answer.
//!
//! Ranking is exact and reads little. Every candidate arrives as a compact entry (in the
//! R*-tree leaf or the remote pool) that holds all the inputs of its score, so scoring reads
//! no summary; the full summary is read only for the matches kept (reasons) or when a
//! plan-specific contract leaves the entry unsure. A bounded list keeps the best seen; once it
//! is full, two cut-offs skip work that cannot change it: nearby hits beyond the distance at
//! which even perfect other components could not beat the worst kept (the radius is searched
//! in two rings), and remote pool groups (same certification and ways to be seen, ids
//! ascending) whose best possible score cannot beat it. Both are proven exact by tests that
//! compare against scoring everyone. With text, the best `text_rescore_window` by the other
//! components are re-scored with BM25 (Elasticsearch's rescore window).

mod best;
mod bounds;
mod search_area;

use best::{BestScored, Scored, keep_best, ranking_order};
use bounds::DistanceBounds;

use std::collections::HashSet;
use std::sync::Arc;

use carematch_domain::triage::triage;
use carematch_domain::{
    CarePlan, CareType, MatchRequest, MatchRequestDraft, Provider, ProviderId, ValidationError,
};
use carematch_postal::PostalCodes;
use carematch_search::{
    CandidateQuery, CareModeSet, CareTypeSet, Hit, IndexView, NetworkAnswer, NextHit, PoolGroup,
    ProviderIndex, Reach, SymptomSet, UsefulDistance, VocabularyKey,
};

use crate::MatchingError;
use crate::config::RankingConfig;
use crate::reasons::write_words;
use crate::results::{CareTeam, CareTeamMember, MatchFacts, MatchResults, ProviderMatch};
use crate::scoring::{
    PayerSituation, ScoreBreakdown, availability_score, beyond_radius_distance_score,
    certification_score, distance_score, need_fit_score, payment_fit, payment_score, text_score,
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
pub(super) struct WantedCare {
    pub(super) care_type: CareType,
    pub(super) priority: u8,
    pub(super) relevant_symptoms: SymptomSet,
}

/// Everything one request needs, computed once under one read view.
pub(super) struct Prepared<'view, 'index> {
    pub(super) view: &'view IndexView<'index>,
    pub(super) plan: CarePlan,
    pub(super) wanted: Vec<WantedCare>,
    pub(super) situation: PayerSituation,
    pub(super) accepted_modes: CareModeSet,
    pub(super) text_given: bool,
    /// Her languages' keys in the index, in the request's order (`None`: no provider speaks it).
    pub(super) languages: Vec<Option<VocabularyKey>>,
}

impl Prepared<'_, '_> {
    fn wanted(&self, care_type: CareType) -> Option<&WantedCare> {
        self.wanted
            .iter()
            .find(|wanted| wanted.care_type == care_type)
    }
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
        let mut results = self.rank(request)?;
        for found in &mut results.matches {
            write_words(found, &results.plan, request);
        }
        Ok(results)
    }

    /// [`Engine::match_providers`] without the reasons and notes: the caller writes them with
    /// [`write_words`] for the matches it shows.
    pub fn rank(&self, request: &MatchRequest) -> Result<MatchResults, MatchingError> {
        let view = self.index.view();
        let prepared = self.prepare(&view, request);
        let keep_top = self.config.keep_top;
        let window = if prepared.text_given {
            self.config.text_rescore_window.max(keep_top)
        } else {
            keep_top
        };
        let mut best = BestScored::new(window);
        let bounds = DistanceBounds::new(self, &prepared);
        let useful = |care_type: CareType, group: PoolGroup| bounds.get(care_type, group);
        let query = CandidateQuery {
            useful_distance_km: Some(UsefulDistance(&useful)),
            ..self.candidate_query(&prepared, request)
        };
        let counts = view.candidates(&query, |hit| {
            if hit.reach == Reach::Remote
                && best
                    .worst()
                    .is_some_and(|worst| self.group_cannot_beat(&prepared, hit, worst))
            {
                return NextHit::SkipGroup;
            }
            if let Some(scored) = self.score_hit(&prepared, request, hit)
                && best.offer(scored)
                && let Some(threshold) = best.threshold()
            {
                bounds.raise(threshold);
            }
            NextHit::Continue
        });
        let mut ranked = best.into_items();
        if prepared.text_given {
            self.rescore_with_text(&prepared, request, &mut ranked)?;
        }
        keep_best(&mut ranked, keep_top);
        ranked.sort_unstable_by(ranking_order);

        let matches: Vec<ProviderMatch> = ranked
            .iter()
            .enumerate()
            .filter_map(|(position, scored)| {
                self.provider_match(&prepared, scored, position as u32 + 1)
            })
            .collect();
        let search_area = self.search_area(&counts, request);
        let explanation = matches
            .is_empty()
            .then(|| self.explain_empty(&prepared, request));
        Ok(MatchResults {
            index_generation: prepared.view.generation(),
            plan: prepared.plan,
            matches,
            search_area,
            explanation,
            candidates_found: counts.found_within_radius
                + counts.found_remote
                + counts.found_beyond_radius,
        })
    }

    /// Her care team: for each care type of her plan, by care priority, the best provider not
    /// already on the team.
    pub fn care_team(&self, request: &MatchRequest) -> Result<CareTeam, MatchingError> {
        let view = self.index.view();
        let prepared = self.prepare(&view, request);
        // Per care type, enough to skip the providers already on the team, and a few more so
        // text can still reorder the head.
        let per_care_type = prepared.wanted.len() + 8;
        let mut best: Vec<BestScored> = prepared
            .wanted
            .iter()
            .map(|_| BestScored::new(per_care_type))
            .collect();
        let counts = view.candidates(&self.candidate_query(&prepared, request), |hit| {
            let Some(position) = prepared
                .wanted
                .iter()
                .position(|wanted| wanted.care_type == hit.care_type)
            else {
                return NextHit::Continue;
            };
            if hit.reach == Reach::Remote
                && best[position]
                    .worst()
                    .is_some_and(|worst| self.group_cannot_beat(&prepared, hit, worst))
            {
                return NextHit::SkipGroup;
            }
            if let Some(scored) = self.score_hit(&prepared, request, hit) {
                best[position].offer(scored);
            }
            NextHit::Continue
        });
        let mut used: HashSet<ProviderId> = HashSet::new();
        let mut members: Vec<CareTeamMember> = Vec::new();
        for (wanted, best) in prepared.wanted.iter().zip(best) {
            let mut shortlist: Vec<Scored> = best
                .into_items()
                .into_iter()
                .filter(|scored| !used.contains(&scored.provider_id))
                .collect();
            if prepared.text_given {
                self.rescore_with_text(&prepared, request, &mut shortlist)?;
            }
            let mut provider_match = shortlist
                .iter()
                .min_by(|first, second| ranking_order(first, second))
                .and_then(|scored| self.provider_match(&prepared, scored, 1));
            if let Some(found) = &mut provider_match {
                write_words(found, &prepared.plan, request);
                used.insert(found.provider_id);
            }
            members.push(CareTeamMember {
                care_type: wanted.care_type,
                priority: wanted.priority,
                provider_match,
            });
        }
        let search_area = self.search_area(&counts, request);
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

    fn prepare<'view, 'index>(
        &self,
        view: &'view IndexView<'index>,
        request: &MatchRequest,
    ) -> Prepared<'view, 'index> {
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
        Prepared {
            view,
            plan,
            wanted,
            situation,
            accepted_modes: request.modes.iter().copied().collect(),
            text_given: request.text.is_some(),
            languages: request
                .languages
                .iter()
                .map(|language| view.language_key(language))
                .collect(),
        }
    }

    fn candidate_query<'request>(
        &self,
        prepared: &Prepared<'_, '_>,
        request: &'request MatchRequest,
    ) -> CandidateQuery<'request> {
        CandidateQuery {
            origin: request.origin,
            radius_km: request.radius.kilometres(),
            region: request.region.as_ref(),
            care_types: prepared
                .wanted
                .iter()
                .map(|wanted| wanted.care_type)
                .collect::<CareTypeSet>(),
            modes: prepared.accepted_modes,
            languages: &request.languages,
            widen_when_fewer_than: self.config.widen_when_fewer_than,
            beyond_radius_max_km: self.config.beyond_radius_max_km,
            useful_distance_km: None,
        }
    }

    /// A hit's score from its compact entry (text not yet included). Exact: when the entry
    /// cannot tell whether she is in network, the summary decides.
    fn score_hit(
        &self,
        prepared: &Prepared<'_, '_>,
        request: &MatchRequest,
        hit: &Hit<'_>,
    ) -> Option<Scored> {
        let wanted = prepared.wanted(hit.care_type)?;
        let entry = hit.entry;
        let config = &self.config;
        let situation = &prepared.situation;
        let in_network = situation.payer.is_some_and(|payer| {
            match entry.in_network(payer, situation.plan.is_some()) {
                NetworkAnswer::Yes => true,
                NetworkAnswer::No => false,
                NetworkAnswer::Maybe => prepared.view.summary(entry.slot).is_some_and(|summary| {
                    summary.in_network(payer, situation.plan, wanted.care_type)
                }),
            }
        });
        let fit = payment_fit(
            in_network,
            entry.provides_superbill,
            entry.accepts_fsa_hsa,
            wanted.care_type,
            situation,
        );
        let referral_missing = entry.requires_referral && !request.has_referral;
        let breakdown = ScoreBreakdown {
            need_fit: need_fit_score(
                entry.treats,
                wanted.relevant_symptoms,
                wanted.priority,
                config.need_fit_floor,
                &config.priority_weights,
            ),
            distance: match (hit.reach, hit.distance_km) {
                (Reach::BeyondRadius, Some(distance_km)) => {
                    beyond_radius_distance_score(distance_km, &config.distance_decay)
                }
                _ => distance_score(hit.distance_km, hit.also_remote, &config.distance_decay),
            },
            certification: certification_score(entry.certification, &config.certification_scores),
            payment: payment_score(fit, referral_missing, &config.payment_scores),
            availability: availability_score(
                entry.modes,
                prepared.accepted_modes,
                &config.availability_scores,
            ),
            text: 0.0,
        };
        Some(Scored {
            candidate: hit.to_candidate(),
            provider_id: entry.id,
            care_type: wanted.care_type,
            relevant_symptoms: wanted.relevant_symptoms,
            total: breakdown.total(&config.weights, prepared.text_given),
            breakdown,
            payment_fit: fit,
            referral_missing,
            beyond_radius: hit.reach == Reach::BeyondRadius,
        })
    }

    /// Adds BM25 relevance (relative to the best among them) to these scored candidates.
    fn rescore_with_text(
        &self,
        prepared: &Prepared<'_, '_>,
        request: &MatchRequest,
        ranked: &mut [Scored],
    ) -> Result<(), MatchingError> {
        let Some(text) = request.text.as_deref() else {
            return Ok(());
        };
        if ranked.is_empty() {
            return Ok(());
        }
        let slots: Vec<u32> = ranked.iter().map(|scored| scored.candidate.slot).collect();
        let raw = prepared.view.text_relevance(text, &slots)?;
        let best = raw.iter().copied().fold(0.0_f32, f32::max);
        for (scored, raw) in ranked.iter_mut().zip(raw) {
            scored.breakdown.text = text_score(raw, best);
            scored.total = scored.breakdown.total(&self.config.weights, true);
        }
        Ok(())
    }

    fn provider_match(
        &self,
        prepared: &Prepared<'_, '_>,
        scored: &Scored,
        rank: u32,
    ) -> Option<ProviderMatch> {
        let candidate = &scored.candidate;
        let summary = prepared.view.summary(candidate.slot)?;
        let spoken_languages = prepared
            .languages
            .iter()
            .enumerate()
            .filter(|(_, key)| key.is_some_and(|key| summary.languages.contains(&key)))
            .fold(0_u32, |bits, (position, _)| bits | 1 << position);
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
            reasons: Vec::new(),
            notes: Vec::new(),
            facts: MatchFacts {
                treated: summary.treats.intersection(scored.relevant_symptoms),
                certification: summary.certification_for(scored.care_type),
                self_pay_rate_usd: summary.self_pay_rate_usd,
                also_remote: candidate.also_remote,
                referral_missing: scored.referral_missing,
                spoken_languages,
            },
        })
    }
}
