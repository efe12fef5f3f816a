//! The match service: one call per answer. `match_providers` and `care_team` each run the same
//! steps in order: the ranked-list cache (ranking on a miss), the words (reasons and notes) of
//! the matches shown, the shown providers loaded from the index, and the de-identified match-log
//! record, queued when the answer is ready. `record_outcome` joins what she did to a logged
//! answer.
//!
//! The plan an answer shows and logs is the one the ranking made (triaged again only when the
//! ranked list came from the cache), and every read of the index goes through the engine, which
//! ranks over the directory's index.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use carematch_cache::{CacheOutcome, TwoTierCache};
use carematch_domain::{
    CarePlan, CareType, MatchOutcome, MatchRequest, MatchRequestDraft, Provider, ProviderId,
    ValidationError,
};
use carematch_matching::{
    CareTeam, Engine, MatchResults, MatchingError, ProviderMatch, RankingConfig, SearchArea,
    write_words,
};
use carematch_postal::PostalCodes;
use carematch_store::{MatchOutcomeRecord, Store, StoreError};
use uuid::Uuid;

use crate::directory::{DirectoryError, ProviderDirectory, indexed_providers};
use crate::match_log::{
    Caller, LoggedAnswer, MatchLogWriter, MatchOperation, PendingMatchLog, Serving, week_start,
};
use crate::ranked_lists::{RankedListCache, RankedListError};

/// How long `record_outcome` waits for its match to leave the match-log writer's queue.
pub const OUTCOME_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an answer could not be given. Both are internal: her input was checked by
/// [`MatchService::validate`] before.
#[derive(Debug, thiserror::Error)]
pub enum MatchServiceError {
    #[error(transparent)]
    Ranking(#[from] RankedListError),
    #[error("loading the shown providers: {0}")]
    Providers(#[from] DirectoryError),
}

/// Why an outcome was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum OutcomeError {
    /// No answer was logged under this match id.
    #[error("no logged match has this id")]
    UnknownMatch,
    #[error(transparent)]
    Store(StoreError),
}

/// Which part of the ranked list to show: `size` matches from the 0-based position `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub start: usize,
    pub size: usize,
}

/// A match she is shown, with its words written, and its provider as the index holds it.
#[derive(Debug, Clone)]
pub struct ShownMatch {
    pub found: ProviderMatch,
    pub provider: Arc<Provider>,
}

/// One page of a ranked list, and what it was ranked for.
#[derive(Debug)]
pub struct MatchPage {
    /// The match-log record's id, to give back with an outcome.
    pub match_id: Uuid,
    pub plan: CarePlan,
    /// Matches in the whole ranked list.
    pub total: usize,
    /// The page's matches, best first; one whose provider left the index since the ranking is
    /// left out.
    pub matches: Vec<ShownMatch>,
    pub search_area: SearchArea,
    /// Why there are no matches, in plain words.
    pub explanation: Option<String>,
    /// Where the ranked list came from.
    pub cache: CacheOutcome,
}

/// One member of a care team as shown.
#[derive(Debug)]
pub struct ShownTeamMember {
    pub care_type: CareType,
    /// `None` when no provider was found for this care type (or it left the index since).
    pub shown: Option<ShownMatch>,
}

/// Her care team, and what it was chosen for.
#[derive(Debug)]
pub struct CareTeamPage {
    pub match_id: Uuid,
    pub plan: CarePlan,
    pub members: Vec<ShownTeamMember>,
    pub search_area: SearchArea,
    pub explanation: Option<String>,
    pub cache: CacheOutcome,
}

/// What she did with a match.
#[derive(Debug, Clone, Copy)]
pub struct OutcomeReport {
    pub match_id: Uuid,
    pub provider_id: ProviderId,
    pub outcome: MatchOutcome,
}

/// Validation, ranking, pages and the match log. Cheap to clone.
#[derive(Clone)]
pub struct MatchService {
    engine: Arc<Engine>,
    ranked_lists: RankedListCache,
    match_log: MatchLogWriter,
    /// Where outcomes are recorded.
    store: Store,
}

impl std::fmt::Debug for MatchService {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MatchService")
            .field("ranked_lists", &self.ranked_lists)
            .finish_non_exhaustive()
    }
}

impl MatchService {
    /// A service ranking with `ranking` over the directory's own index (there is no other
    /// route to it), caching ranked lists in `results` and logging answers to `match_log`.
    /// Fails only on a ranking configuration that cannot rank.
    pub fn new(
        directory: &ProviderDirectory,
        ranking: RankingConfig,
        results: Arc<TwoTierCache>,
        match_log: MatchLogWriter,
    ) -> Result<Self, MatchingError> {
        let engine = Engine::new(
            Arc::clone(&directory.index),
            PostalCodes::embedded(),
            ranking,
        )?;
        let ranked_lists = RankedListCache::new(results, &engine);
        Ok(Self {
            engine: Arc::new(engine),
            ranked_lists,
            match_log,
            store: directory.store().clone(),
        })
    }

    /// Her request, checked and completed (postal code to centroid, her state); errors name
    /// the field from the request's root (`location.latitude`).
    pub fn validate(&self, draft: MatchRequestDraft) -> Result<MatchRequest, ValidationError> {
        self.engine.validate_request(draft)
    }

    /// One page of the ranked providers for `request`, logged.
    pub async fn match_providers(
        &self,
        request: &MatchRequest,
        page: PageRequest,
        caller: &Caller,
    ) -> Result<MatchPage, MatchServiceError> {
        let started = Instant::now();
        let (results, cache) = self
            .ranked_lists
            .match_providers(&self.engine, request)
            .await?;
        let MatchResults {
            plan,
            matches,
            search_area,
            explanation,
            ..
        } = results;
        let total = matches.len();
        let mut shown: Vec<ProviderMatch> = matches
            .into_iter()
            .skip(page.start)
            .take(page.size)
            .collect();
        for found in &mut shown {
            write_words(found, &plan, request);
        }
        let logged: Vec<(u32, &ProviderMatch)> =
            shown.iter().map(|found| (found.rank, found)).collect();
        let match_log = PendingMatchLog::new(
            &LoggedAnswer {
                request,
                plan: &plan,
                search_area: &search_area,
                result_count: total,
                shown: &logged,
            },
            Serving {
                operation: MatchOperation::MatchProviders,
                started,
                cache_hit: cache.is_hit(),
                caller,
            },
        );
        let mut providers = self.load(shown.iter()).await?;
        let matches = shown
            .into_iter()
            .filter_map(|found| {
                let provider = providers.remove(&found.provider_id)?;
                Some(ShownMatch { found, provider })
            })
            .collect();
        Ok(MatchPage {
            match_id: match_log.submit(&self.match_log),
            plan,
            total,
            matches,
            search_area,
            explanation,
            cache,
        })
    }

    /// Her care team for `request`, logged (members ranked by team order).
    pub async fn care_team(
        &self,
        request: &MatchRequest,
        caller: &Caller,
    ) -> Result<CareTeamPage, MatchServiceError> {
        let started = Instant::now();
        let (team, cache) = self.ranked_lists.care_team(&self.engine, request).await?;
        let CareTeam {
            plan,
            members,
            search_area,
            explanation,
            ..
        } = team;
        let found: Vec<&ProviderMatch> = members
            .iter()
            .filter_map(|member| member.provider_match.as_ref())
            .collect();
        // Each member comes from its own ranked list: the log ranks members by team order.
        let logged: Vec<(u32, &ProviderMatch)> = (1..).zip(found.iter().copied()).collect();
        let match_log = PendingMatchLog::new(
            &LoggedAnswer {
                request,
                plan: &plan,
                search_area: &search_area,
                result_count: logged.len(),
                shown: &logged,
            },
            Serving {
                operation: MatchOperation::CareTeam,
                started,
                cache_hit: cache.is_hit(),
                caller,
            },
        );
        let mut providers = self.load(found.into_iter()).await?;
        let members = members
            .into_iter()
            .map(|member| ShownTeamMember {
                care_type: member.care_type,
                shown: member.provider_match.and_then(|found| {
                    let provider = providers.remove(&found.provider_id)?;
                    Some(ShownMatch { found, provider })
                }),
            })
            .collect();
        Ok(CareTeamPage {
            match_id: match_log.submit(&self.match_log),
            plan,
            members,
            search_area,
            explanation,
            cache,
        })
    }

    /// Records what she did with a match. A match still queued for the log is written first,
    /// so an outcome given right after its answer finds it.
    pub async fn record_outcome(&self, report: OutcomeReport) -> Result<(), OutcomeError> {
        let record = MatchOutcomeRecord {
            id: Uuid::new_v4(),
            match_id: report.match_id,
            provider_id: report.provider_id,
            outcome: report.outcome,
            recorded_week: week_start(chrono::Utc::now().date_naive()),
        };
        if self.match_log.is_pending(report.match_id) {
            self.match_log.flush(OUTCOME_FLUSH_TIMEOUT).await;
        }
        match self.store.insert_match_outcome(&record).await {
            Ok(()) => Ok(()),
            Err(StoreError::UnknownMatch(_)) => Err(OutcomeError::UnknownMatch),
            Err(error) => Err(OutcomeError::Store(error)),
        }
    }

    /// The shown matches' providers, from the index the engine ranked over.
    async fn load<'a>(
        &self,
        shown: impl Iterator<Item = &'a ProviderMatch>,
    ) -> Result<HashMap<ProviderId, Arc<Provider>>, DirectoryError> {
        indexed_providers(
            self.engine.index(),
            shown.map(|found| found.provider_id).collect(),
        )
        .await
    }
}

/// Internal: her input was checked before the service ran.
impl carematch_domain::HasErrorCode for MatchServiceError {
    fn code(&self) -> carematch_domain::ErrorCode {
        match self {
            MatchServiceError::Ranking(error) => carematch_domain::HasErrorCode::code(error),
            MatchServiceError::Providers(error) => carematch_domain::HasErrorCode::code(error),
        }
    }
}

/// An unknown match is not found; a store failure is internal.
impl carematch_domain::HasErrorCode for OutcomeError {
    fn code(&self) -> carematch_domain::ErrorCode {
        match self {
            OutcomeError::UnknownMatch => carematch_domain::ErrorCode::NotFound,
            OutcomeError::Store(error) => carematch_domain::HasErrorCode::code(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use carematch_cache::TwoTierCacheOptions;
    use carematch_demo::{DemoConfig, generate_range};
    use carematch_search::ProviderIndex;
    use carematch_store::{MatchLogRecord, StoreOptions};
    use serde_json::json;

    use super::*;
    use crate::match_log::{MatchLogCapture, MatchLogWriterOptions};

    #[test]
    fn each_service_error_says_its_code_of_the_table() {
        use carematch_domain::{ErrorCode, HasErrorCode};
        assert_eq!(OutcomeError::UnknownMatch.code(), ErrorCode::NotFound);
        assert_eq!(
            crate::DirectoryError::NpiConflict.code(),
            ErrorCode::BadUserInput
        );
        let providers = MatchServiceError::Providers(crate::DirectoryError::NpiConflict);
        assert_eq!(providers.code(), ErrorCode::BadUserInput);
        let ranking = MatchServiceError::Ranking(RankedListError::Ranking("stopped".into()));
        assert_eq!(ranking.code(), ErrorCode::InternalServerError);
        assert_eq!(crate::AuthError::NotAdmin.code(), ErrorCode::Forbidden);
        assert_eq!(crate::AuthError::Expired.code(), "UNAUTHENTICATED");
    }

    /// A match service over demo providers around real US metros (indexed at generation 1),
    /// with an in-memory database for the match log and outcomes.
    struct Fixture {
        service: MatchService,
        index: Arc<ProviderIndex>,
        caller: Caller,
        capture: MatchLogCapture,
    }

    async fn fixture() -> Fixture {
        let store = Store::connect("sqlite::memory:", &StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let providers = generate_range(DemoConfig::DEFAULT_SEED, 0..4_000).unwrap();
        let index = Arc::new(ProviderIndex::in_ram().unwrap());
        index.upsert_many(&providers, 1).unwrap();
        let directory = ProviderDirectory::new(store.clone(), Arc::clone(&index));
        let match_log = MatchLogWriter::start(store, MatchLogWriterOptions::default());
        let results = Arc::new(TwoTierCache::new(&TwoTierCacheOptions::default(), None));
        let service =
            MatchService::new(&directory, RankingConfig::default(), results, match_log).unwrap();
        let capture = MatchLogCapture::default();
        let caller = Caller {
            capture: Some(capture.clone()),
            ..Caller::default()
        };
        Fixture {
            service,
            index,
            caller,
            capture,
        }
    }

    /// Explicit care types beside symptoms: the plan then depends on more than the symptoms.
    fn request(service: &MatchService) -> MatchRequest {
        let draft: MatchRequestDraft = serde_json::from_value(json!({
            "location": {"postalCode": "10001"}, "radiusKm": 25.0,
            "symptoms": ["URINE_LEAKAGE", "BACK_PAIN"],
            "careTypes": ["PELVIC_FLOOR_PHYSICAL_THERAPY", "POSTNATAL_MASSAGE"],
            "insurance": {"payer": "Aetna"}
        }))
        .unwrap();
        service.validate(draft).unwrap()
    }

    fn only_record(capture: &MatchLogCapture) -> MatchLogRecord {
        let mut records = capture.records();
        assert_eq!(records.len(), 1, "one record per answer");
        records.remove(0)
    }

    fn care_types(plan: &CarePlan) -> Vec<CareType> {
        plan.recommendations
            .iter()
            .map(|recommendation| recommendation.care_type)
            .collect()
    }

    #[tokio::test]
    async fn a_page_logs_the_plan_the_ranking_made_and_the_ranks_it_shows() {
        let fixture = fixture().await;
        let request = request(&fixture.service);
        let page_request = PageRequest { start: 2, size: 3 };

        let page = fixture
            .service
            .match_providers(&request, page_request, &fixture.caller)
            .await
            .unwrap();

        let ranked = fixture.service.engine.rank(&request).unwrap();
        assert_eq!(page.plan, ranked.plan);
        assert_eq!(page.total, ranked.matches.len());
        assert_eq!(page.cache, CacheOutcome::Miss);
        let shown: Vec<(u32, ProviderId)> = page
            .matches
            .iter()
            .map(|shown| (shown.found.rank, shown.found.provider_id))
            .collect();
        let expected: Vec<(u32, ProviderId)> = ranked.matches[2..5]
            .iter()
            .map(|found| (found.rank, found.provider_id))
            .collect();
        assert_eq!(shown, expected);
        for shown in &page.matches {
            assert!(!shown.found.reasons.is_empty(), "the words are written");
            assert_eq!(shown.provider.id, shown.found.provider_id);
        }

        let record = only_record(&fixture.capture);
        assert_eq!(record.id, page.match_id);
        assert_eq!(record.operation, "matchProviders");
        assert!(!record.cache_hit);
        assert_eq!(record.care_types_recommended, care_types(&ranked.plan));
        assert_eq!(
            record.result_count,
            u32::try_from(ranked.matches.len()).unwrap()
        );
        let logged: Vec<(u32, ProviderId)> = record
            .results
            .iter()
            .map(|result| (result.rank, result.provider_id))
            .collect();
        assert_eq!(logged, expected);
    }

    #[tokio::test]
    async fn a_repeated_request_is_served_from_the_cache_without_ranking_again() {
        let fixture = fixture().await;
        let request = request(&fixture.service);
        let first_page = PageRequest { start: 0, size: 5 };
        let first = fixture
            .service
            .match_providers(&request, first_page, &Caller::default())
            .await
            .unwrap();
        assert_eq!(first.cache, CacheOutcome::Miss);
        assert!(first.matches.len() >= 2, "demo providers near 10001");

        // The best provider leaves the index without the generation moving: ranking again
        // would drop it from the list; the cached list still counts it, and the page leaves
        // it out because it can no longer be loaded.
        let best = first.matches[0].found.provider_id;
        fixture.index.apply(&[], &[best], 1).unwrap();
        let again = fixture
            .service
            .match_providers(&request, first_page, &fixture.caller)
            .await
            .unwrap();
        assert_eq!(again.cache, CacheOutcome::LocalHit);
        assert_eq!(again.total, first.total);
        assert_eq!(again.plan, first.plan);
        let ids = |page: &MatchPage| -> Vec<ProviderId> {
            page.matches
                .iter()
                .map(|shown| shown.found.provider_id)
                .collect()
        };
        assert_eq!(ids(&again), ids(&first)[1..]);
        assert!(only_record(&fixture.capture).cache_hit);

        // A write that moves the generation makes the next request rank again.
        fixture.index.apply(&[], &[], 2).unwrap();
        let ranked_again = fixture
            .service
            .match_providers(&request, first_page, &Caller::default())
            .await
            .unwrap();
        assert_eq!(ranked_again.cache, CacheOutcome::Miss);
        assert!(!ids(&ranked_again).contains(&best));
        assert_eq!(ranked_again.matches.len(), first_page.size.min(first.total));
    }

    #[tokio::test]
    async fn a_care_team_logs_its_members_in_team_order_with_the_plan_the_ranking_made() {
        let fixture = fixture().await;
        let request = request(&fixture.service);

        let team = fixture
            .service
            .care_team(&request, &fixture.caller)
            .await
            .unwrap();

        let chosen = fixture.service.engine.care_team(&request).unwrap();
        assert_eq!(team.plan, chosen.plan);
        let members: Vec<ProviderId> = team
            .members
            .iter()
            .filter_map(|member| member.shown.as_ref())
            .map(|shown| shown.found.provider_id)
            .collect();
        assert!(!members.is_empty());
        let record = only_record(&fixture.capture);
        assert_eq!(record.id, team.match_id);
        assert_eq!(record.operation, "careTeam");
        assert_eq!(record.care_types_recommended, care_types(&chosen.plan));
        let logged: Vec<(u32, ProviderId)> = record
            .results
            .iter()
            .map(|result| (result.rank, result.provider_id))
            .collect();
        let expected: Vec<(u32, ProviderId)> = (1..).zip(members).collect();
        assert_eq!(logged, expected);
        assert_eq!(record.result_count, u32::try_from(expected.len()).unwrap());
    }

    #[tokio::test]
    async fn an_outcome_given_right_after_its_answer_finds_the_logged_match() {
        let fixture = fixture().await;
        let request = request(&fixture.service);
        let page = fixture
            .service
            .match_providers(
                &request,
                PageRequest { start: 0, size: 1 },
                &Caller::default(),
            )
            .await
            .unwrap();
        let provider_id = page.matches[0].found.provider_id;

        let report = |match_id| OutcomeReport {
            match_id,
            provider_id,
            outcome: MatchOutcome::Booked,
        };
        fixture
            .service
            .record_outcome(report(page.match_id))
            .await
            .unwrap();
        let unknown = fixture.service.record_outcome(report(Uuid::new_v4())).await;
        assert!(
            matches!(unknown, Err(OutcomeError::UnknownMatch)),
            "{unknown:?}"
        );
    }
}
