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

use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use carematch_domain::payment::{
    FREE_GROUP_NOTE, MEDICAID_DOULA_NOTE, is_medicaid, letter_of_medical_necessity_note,
};
use carematch_domain::triage::triage;
use carematch_domain::{
    CareMode, CarePlan, CareType, MatchRequest, MatchRequestDraft, PaymentFit, Provider,
    ProviderId, ValidationError,
};
use carematch_postal::PostalCodes;
use carematch_search::{
    Candidate, CandidateCounts, CandidateQuery, CareModeSet, CareTypeSet, CertificationLevel, Hit,
    IndexView, NetworkAnswer, NextHit, PoolGroup, ProviderIndex, Reach, SymptomSet, UsefulDistance,
    VocabularyKey,
};
use rustc_hash::FxHashMap;

use crate::MatchingError;
use crate::config::RankingConfig;
use crate::results::{
    CareTeam, CareTeamMember, MatchFacts, MatchResults, ProviderMatch, SearchArea,
};
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
struct WantedCare {
    care_type: CareType,
    priority: u8,
    relevant_symptoms: SymptomSet,
}

/// One candidate scored for one care type.
#[derive(Debug, Clone, Copy)]
struct Scored {
    candidate: Candidate,
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

/// Keeps the best `count` in `items` (unordered), in linear time.
fn keep_best(items: &mut Vec<Scored>, count: usize) {
    if items.len() > count {
        if count == 0 {
            items.clear();
            return;
        }
        items.select_nth_unstable_by(count - 1, ranking_order);
        items.truncate(count);
    }
}

/// The best `capacity` providers offered so far (each at its best hit), in amortized constant
/// time per offer: once full, anything not better than the worst kept is turned away with one
/// comparison.
struct BestScored {
    capacity: usize,
    items: Vec<Scored>,
    worst_kept: Option<Scored>,
    /// Scratch for [`BestScored::shrink`], kept so a request allocates it once.
    position_by_provider: FxHashMap<ProviderId, usize>,
    unique: Vec<Scored>,
}

impl BestScored {
    fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            items: Vec::new(),
            worst_kept: None,
            position_by_provider: FxHashMap::default(),
            unique: Vec::new(),
        }
    }

    /// Offers a candidate; returns whether the worst kept score changed.
    fn offer(&mut self, scored: Scored) -> bool {
        if let Some(worst) = &self.worst_kept
            && ranking_order(&scored, worst) != Ordering::Less
        {
            return false;
        }
        self.items.push(scored);
        if self.items.len() >= 2 * self.capacity {
            self.shrink();
            return true;
        }
        false
    }

    fn worst(&self) -> Option<&Scored> {
        self.worst_kept.as_ref()
    }

    /// The score a candidate must beat to be kept, once the list is full.
    fn threshold(&self) -> Option<f64> {
        self.worst_kept
            .filter(|worst| !worst.beyond_radius)
            .map(|worst| worst.total)
    }

    fn shrink(&mut self) {
        // One entry per provider (its best: a provider is visited once per location and care
        // type) before counting, so the list holds `capacity` providers and anything turned
        // away is worse than the `capacity`-th best provider: exact.
        self.position_by_provider.clear();
        self.unique.clear();
        for item in self.items.drain(..) {
            match self.position_by_provider.get(&item.provider_id) {
                Some(&position) => {
                    if ranking_order(&item, &self.unique[position]) == Ordering::Less {
                        self.unique[position] = item;
                    }
                }
                None => {
                    self.position_by_provider
                        .insert(item.provider_id, self.unique.len());
                    self.unique.push(item);
                }
            }
        }
        std::mem::swap(&mut self.items, &mut self.unique);
        keep_best(&mut self.items, self.capacity);
        self.worst_kept = if self.items.len() >= self.capacity {
            self.items.iter().copied().max_by(ranking_order)
        } else {
            None
        };
    }

    fn into_items(mut self) -> Vec<Scored> {
        self.shrink();
        self.items
    }
}

/// How far past the exact bound a group's best distance score must be needed before the
/// group is skipped whole, so rounding in the two sums never drops a provider that ties.
const GROUP_BOUND_MARGIN: f64 = 1e-9;

/// The useful distance per care type and group for the current threshold of one ranking,
/// each computed when first asked after the threshold rose (the search asks once per hit).
struct DistanceBounds<'engine, 'prepared, 'view, 'index> {
    engine: &'engine Engine,
    prepared: &'prepared Prepared<'view, 'index>,
    /// `NEG_INFINITY` until the list is full: every distance is useful.
    threshold: Cell<f64>,
    /// Per care type and group: the threshold it was computed for, and the distance.
    computed: Vec<Cell<(f64, f64)>>,
}

impl<'engine, 'prepared, 'view, 'index> DistanceBounds<'engine, 'prepared, 'view, 'index> {
    fn new(engine: &'engine Engine, prepared: &'prepared Prepared<'view, 'index>) -> Self {
        Self {
            engine,
            prepared,
            threshold: Cell::new(f64::NEG_INFINITY),
            computed: vec![
                Cell::new((f64::NEG_INFINITY, f64::INFINITY));
                CareType::ALL.len() * PoolGroup::COUNT
            ],
        }
    }

    fn raise(&self, threshold: f64) {
        self.threshold.set(threshold);
    }

    fn get(&self, care_type: CareType, group: PoolGroup) -> f64 {
        let threshold = self.threshold.get();
        let position = care_type as usize * PoolGroup::COUNT + group.position();
        let Some(cell) = self.computed.get(position) else {
            return f64::INFINITY;
        };
        let (computed_for, distance) = cell.get();
        if computed_for == threshold {
            return distance;
        }
        let distance = self
            .engine
            .useful_distance_km(self.prepared, threshold, care_type, group);
        cell.set((threshold, distance));
        distance
    }
}

/// Everything one request needs, computed once under one read view.
struct Prepared<'view, 'index> {
    view: &'view IndexView<'index>,
    plan: CarePlan,
    wanted: Vec<WantedCare>,
    situation: PayerSituation,
    accepted_modes: CareModeSet,
    text_given: bool,
    /// Her languages' keys in the index, in the request's order (`None`: no provider speaks it).
    languages: Vec<Option<VocabularyKey>>,
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

    /// The best total a hit of `care_type` and `group` can reach with `distance` as its
    /// distance score: the best need fit and payment her request allows, the group's
    /// certification and ways to be seen, full text. `None` when she did not ask for the care.
    fn group_best_total(
        &self,
        prepared: &Prepared<'_, '_>,
        care_type: CareType,
        group: PoolGroup,
        distance: f64,
    ) -> Option<f64> {
        let wanted = prepared.wanted(care_type)?;
        let config = &self.config;
        let bound = ScoreBreakdown {
            need_fit: crate::scoring::priority_weight(wanted.priority, &config.priority_weights),
            distance,
            certification: certification_score(group.certification, &config.certification_scores),
            payment: self.best_payment_score(&prepared.situation),
            availability: crate::scoring::ways_score(group.ways, &config.availability_scores),
            text: 1.0,
        };
        Some(bound.total(&config.weights, prepared.text_given))
    }

    /// The distance past which a nearby hit of `care_type` and `group` cannot beat
    /// `threshold`: its total is at most the group's best, which is linear in the distance
    /// score, and the distance score decays with distance. Negative when no hit of the group
    /// can beat it at any distance.
    fn useful_distance_km(
        &self,
        prepared: &Prepared<'_, '_>,
        threshold: f64,
        care_type: CareType,
        group: PoolGroup,
    ) -> f64 {
        let (Some(at_far), Some(at_door)) = (
            self.group_best_total(prepared, care_type, group, 0.0),
            self.group_best_total(prepared, care_type, group, 1.0),
        ) else {
            return f64::INFINITY;
        };
        if at_door <= at_far {
            // Distance does not count: every distance is as good as any.
            return f64::INFINITY;
        }
        let needed_distance_score = (threshold - at_far) / (at_door - at_far);
        if needed_distance_score <= 0.0 {
            return f64::INFINITY;
        }
        if needed_distance_score > 1.0 + GROUP_BOUND_MARGIN {
            // Not even a provider at her door: the whole group is out.
            return -1.0;
        }
        let decay = &self.config.distance_decay;
        if needed_distance_score > 1.0 {
            return decay.offset_km;
        }
        let two_sigma_squared = -(decay.scale_km * decay.scale_km) / decay.decay.ln();
        // A small margin keeps rounding from skipping a hit exactly at the bound.
        decay.offset_km + (-needed_distance_score.ln() * two_sigma_squared).sqrt() + 0.001
    }

    /// The best payment score her situation allows (care-guide.md section 5).
    fn best_payment_score(&self, situation: &PayerSituation) -> f64 {
        let scores = &self.config.payment_scores;
        let mut best = scores.self_pay;
        if situation.payer.is_some() {
            best = best.max(scores.in_network);
        }
        if situation.has_insurance {
            best = best.max(scores.out_of_network_superbill);
        }
        if situation.has_fsa_or_hsa {
            best = best
                .max(scores.fsa_hsa_eligible)
                .max(scores.fsa_hsa_with_letter_of_medical_necessity);
        }
        best
    }

    /// Whether no remote hit of this hit's pool group, from this one on, can be kept: their
    /// scores are at most this bound (best need fit and payment, the group's certification and
    /// ways to be seen, full text), and their ids only grow.
    fn group_cannot_beat(
        &self,
        prepared: &Prepared<'_, '_>,
        hit: &Hit<'_>,
        worst: &Scored,
    ) -> bool {
        if worst.beyond_radius {
            return false;
        }
        let remote_distance = distance_score(None, true, &self.config.distance_decay);
        let Some(bound) = self.group_best_total(
            prepared,
            hit.care_type,
            hit.entry.pool_group(),
            remote_distance,
        ) else {
            return false;
        };
        bound < worst.total || (bound == worst.total && hit.entry.id > worst.provider_id)
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

    fn search_area(&self, counts: &CandidateCounts, request: &MatchRequest) -> SearchArea {
        let set = counts;
        let radius = words::kilometres(request.radius.kilometres());
        let without_nearby: Vec<CareType> = set.missing_nearby.iter().collect();
        let mut sentences: Vec<String> = Vec::new();
        if set.widened
            && set.found_within_radius > 0
            && set.found_within_radius < self.config.widen_when_fewer_than
        {
            sentences.push(format!(
                "Only {} {} found within {radius} of you.",
                set.found_within_radius,
                if set.found_within_radius == 1 {
                    "provider was"
                } else {
                    "providers were"
                }
            ));
        }
        let labels: Vec<&str> = without_nearby.iter().map(|care| care.label()).collect();
        if set.found_within_radius == 0 && (set.widened || !labels.is_empty()) {
            if labels.is_empty() {
                sentences.push(format!("Nothing was found within {radius} of you."));
            } else {
                sentences.push(format!(
                    "Nothing was found within {radius} of you for {}.",
                    words::join_with_or(&labels)
                ));
            }
        } else if !labels.is_empty() {
            sentences.push(format!(
                "No one to see in person for {} was found within {radius} of you.",
                words::join_with_or(&labels)
            ));
        }
        let radius_note = (!sentences.is_empty()).then(|| {
            let mut note = sentences.join(" ");
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
            care_types_without_nearby: without_nearby,
        }
    }

    fn explain_empty(&self, prepared: &Prepared<'_, '_>, request: &MatchRequest) -> String {
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

/// Writes the reasons and notes of a match from its facts: every match of
/// [`Engine::match_providers`], only the shown ones of [`Engine::rank`]. `plan` is the care
/// plan of `request`.
pub fn write_words(found: &mut ProviderMatch, plan: &CarePlan, request: &MatchRequest) {
    found.reasons = reasons(found, request);
    found.notes = notes(found, plan, request);
}

/// Why this provider ranks here, in words a mother understands. Every sentence is a fact of
/// this provider for the care type it was matched for.
fn reasons(found: &ProviderMatch, request: &MatchRequest) -> Vec<String> {
    let facts = &found.facts;
    let mut reasons = Vec::new();
    let treated: Vec<&str> = facts
        .treated
        .iter()
        .map(|symptom| symptom.label())
        .collect();
    if treated.is_empty() {
        reasons.push(format!("Offers {}.", found.care_type.label()));
    } else {
        reasons.push(format!(
            "Offers {} and treats {}.",
            found.care_type.label(),
            words::join(&treated)
        ));
    }
    match facts.certification {
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
    let distance = found.distance_km.map(words::distance);
    let licensed_in = request
        .region
        .as_ref()
        .filter(|_| found.care_type.needs_state_licence());
    match (found.reach, found.mode, distance) {
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
        (_, CareMode::VirtualGroup, None) => match licensed_in {
            Some(region) => reasons.push(format!("Meets online, licensed in {}.", region.as_str())),
            None => reasons.push("Meets online, open to you wherever you live.".to_owned()),
        },
        (_, _, None) => match licensed_in {
            Some(region) => reasons.push(format!(
                "Sees you by telehealth, licensed in {}.",
                region.as_str()
            )),
            None => reasons.push("Sees you by telehealth.".to_owned()),
        },
    }
    if facts.also_remote && found.distance_km.is_some() {
        reasons.push(if found.care_type == CareType::SupportGroup {
            "Also meets online.".to_owned()
        } else {
            "Also offers telehealth.".to_owned()
        });
    }
    let payer = request
        .insurance
        .as_ref()
        .map(|insurance| insurance.payer.as_str());
    match (found.payment_fit, payer) {
        (PaymentFit::InNetwork, Some(payer)) => {
            reasons.push(format!("In network with {payer}."));
            if found.care_type == CareType::LactationConsulting {
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
        _ => match facts.self_pay_rate_usd {
            Some(0) => reasons.push("Free of charge.".to_owned()),
            Some(rate) => reasons.push(format!("Self-pay: ${rate} a visit.")),
            None => reasons.push("Self-pay.".to_owned()),
        },
    }
    let spoken: Vec<&str> = request
        .languages
        .iter()
        .enumerate()
        .filter(|(position, _)| *position < 32 && facts.spoken_languages & (1 << position) != 0)
        .map(|(_, language)| language.as_str())
        .collect();
    if !spoken.is_empty() {
        reasons.push(format!("Speaks {}.", words::join(&spoken)));
    }
    if found.breakdown.text > 0.0 {
        reasons.push("Matches the words you searched for.".to_owned());
    }
    reasons
}

/// What she should know before booking.
fn notes(found: &ProviderMatch, plan: &CarePlan, request: &MatchRequest) -> Vec<String> {
    let mut notes: Vec<String> = plan
        .cautions_for(found.care_type)
        .map(|caution| caution.reason.clone())
        .collect();
    if found.facts.referral_missing {
        notes.push(
            "This provider requires a referral: ask your OB/GYN for a referral before booking."
                .to_owned(),
        );
    }
    if found.payment_fit == PaymentFit::FsaHsaWithLetterOfMedicalNecessity {
        notes.push(letter_of_medical_necessity_note(found.care_type));
    }
    if found.care_type == CareType::SupportGroup && found.facts.self_pay_rate_usd == Some(0) {
        notes.push(FREE_GROUP_NOTE.to_owned());
    }
    if found.care_type == CareType::Doula
        && request
            .insurance
            .as_ref()
            .is_some_and(|insurance| is_medicaid(&insurance.payer))
    {
        notes.push(MEDICAID_DOULA_NOTE.to_owned());
    }
    if found.reach == Reach::BeyondRadius {
        notes.push(format!(
            "Beyond the {} you asked for.",
            words::kilometres(request.radius.kilometres())
        ));
    }
    notes
}
