//! The ranked-list cache: the whole ranked list of a request (not one page), so every page and
//! a repeated request are served without ranking again.
//!
//! The key is a SHA-256 over the normalized request (defaults applied, lists sorted), the
//! index generation it is answered from, and the ranking configuration: so it never holds
//! health data in the clear, two spellings of one request share it, and a provider write (which
//! moves the generation) or a ranking change makes every replica miss. The value is compact:
//! provider ids, scores and the facts the words are written from (written for the shown page
//! only); providers are hydrated from the index. The care plan, a pure function of the request,
//! is not cached: a miss keeps the plan the ranking made, a hit triages again.

use std::sync::Arc;

use carematch_cache::{CacheOutcome, TwoTierCache};
use carematch_domain::triage::triage;
use carematch_domain::{CarePlan, MatchRequest};
use carematch_matching::{
    CareTeam, CareTeamMember, Engine, MatchResults, MatchingError, ProviderMatch, SearchArea,
};
use sha2::{Digest, Sha256};

/// Why a ranked list could not be had. A redis failure is not one: it is a miss.
#[derive(Debug, thiserror::Error)]
pub enum RankedListError {
    /// The engine failed, or the task ranking on a blocking thread stopped.
    #[error("ranking failed: {0}")]
    Ranking(String),
    /// A cached value that does not decode (never written by this encoding version).
    #[error("cached ranked list unreadable: {0}")]
    Decode(#[from] postcard::Error),
}

impl carematch_domain::HasErrorCode for RankedListError {
    fn code(&self) -> carematch_domain::ErrorCode {
        carematch_domain::ErrorCode::InternalServerError
    }
}

/// Bumped when the encoding of cached values changes, so old entries are never misread.
const ENCODING_VERSION: &str = "v3";

/// The cached part of a ranked list.
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedMatches {
    matches: Vec<ProviderMatch>,
    search_area: SearchArea,
    explanation: Option<String>,
    candidates_found: usize,
}

/// The cached part of a care team.
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedTeam {
    members: Vec<CareTeamMember>,
    search_area: SearchArea,
    explanation: Option<String>,
}

/// Ranks `request` into the part of the answer that is cached, and the plan ranked for.
type RankFn<V> = fn(&Engine, &MatchRequest) -> Result<(V, CarePlan), MatchingError>;

/// What the ranking gave, and where it came from.
pub struct Ranked<V> {
    pub value: V,
    /// The plan the ranking made (on a miss) or her request's plan triaged again (on a hit).
    pub plan: CarePlan,
    pub outcome: CacheOutcome,
    /// The index generation the key was made for.
    pub generation: Option<u64>,
}

/// Ranked lists and care teams by normalized request, index generation and ranking
/// configuration, in this process and in redis when configured.
#[derive(Clone)]
pub struct RankedListCache {
    results: Arc<TwoTierCache>,
    /// The ranking configuration's fingerprint: replicas ranking differently never share.
    ranking: String,
}

impl std::fmt::Debug for RankedListCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RankedListCache")
            .field("results", &self.results)
            .finish_non_exhaustive()
    }
}

impl RankedListCache {
    pub fn new(results: Arc<TwoTierCache>, engine: &Engine) -> Self {
        let ranking = serde_json::to_vec(engine.config()).unwrap_or_default();
        Self {
            results,
            ranking: hex(&Sha256::digest(&ranking)),
        }
    }

    /// The key of `request` answered by `kind` at `generation`.
    fn key(&self, kind: &str, request: &MatchRequest, generation: Option<u64>) -> String {
        let mut normalized = request.clone();
        // Lists whose order does not change the answer.
        normalized.symptoms.sort_unstable();
        normalized.symptoms.dedup();
        normalized.warning_signs.sort_unstable();
        normalized.warning_signs.dedup();
        // Care types keep her order: the plan and the care team list asked-for care in it.
        normalized
            .languages
            .sort_by_key(carematch_domain::Language::key);
        normalized.languages.dedup();
        normalized.modes.sort_unstable();
        normalized.modes.dedup();
        let mut hasher = Sha256::new();
        hasher.update(ENCODING_VERSION);
        hasher.update(&self.ranking);
        hasher.update(kind);
        hasher.update(
            generation
                .map_or(-1, |generation| generation as i128)
                .to_le_bytes(),
        );
        hasher.update(serde_json::to_vec(&normalized).unwrap_or_default());
        format!("{kind}:{}", hex(&hasher.finalize()))
    }

    /// The ranked list for `request`, from the cache or from the engine, without reasons and
    /// notes: the caller writes them for the matches it shows (`matching::write_words`).
    pub async fn match_providers(
        &self,
        engine: &Arc<Engine>,
        request: &MatchRequest,
    ) -> Result<(MatchResults, CacheOutcome), RankedListError> {
        let ranked = self
            .ranked("match", engine, request, |engine, request| {
                let results = engine.rank(request)?;
                let cached = CachedMatches {
                    matches: results.matches,
                    search_area: results.search_area,
                    explanation: results.explanation,
                    candidates_found: results.candidates_found,
                };
                Ok((cached, results.plan))
            })
            .await?;
        let cached = ranked.value;
        let results = MatchResults {
            plan: ranked.plan,
            matches: cached.matches,
            search_area: cached.search_area,
            explanation: cached.explanation,
            candidates_found: cached.candidates_found,
            index_generation: ranked.generation,
        };
        Ok((results, ranked.outcome))
    }

    /// The care team for `request`, from the cache or from the engine.
    pub async fn care_team(
        &self,
        engine: &Arc<Engine>,
        request: &MatchRequest,
    ) -> Result<(CareTeam, CacheOutcome), RankedListError> {
        let ranked = self
            .ranked("team", engine, request, |engine, request| {
                let team = engine.care_team(request)?;
                let cached = CachedTeam {
                    members: team.members,
                    search_area: team.search_area,
                    explanation: team.explanation,
                };
                Ok((cached, team.plan))
            })
            .await?;
        let cached = ranked.value;
        let team = CareTeam {
            plan: ranked.plan,
            members: cached.members,
            search_area: cached.search_area,
            explanation: cached.explanation,
            index_generation: ranked.generation,
        };
        Ok((team, ranked.outcome))
    }

    /// The cached part of `rank`'s answer under `kind`, ranking on a miss (on a blocking thread
    /// when the request has text), with the plan and the index generation the key was made for.
    async fn ranked<V>(
        &self,
        kind: &str,
        engine: &Arc<Engine>,
        request: &MatchRequest,
        rank: RankFn<V>,
    ) -> Result<Ranked<V>, RankedListError>
    where
        V: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
    {
        let generation = engine.index().generation();
        let key = self.key(kind, request, generation);
        // The request that ranks keeps its value and plan: decoding it back from the bytes it
        // just encoded would cost as much as the encoding, and triaging again is needless.
        let computed: std::sync::Mutex<Option<(V, CarePlan)>> = std::sync::Mutex::new(None);
        let compute = || {
            let engine = Arc::clone(engine);
            let request = request.clone();
            let computed = &computed;
            async move {
                // Without text a ranking is a bounded walk of the compact index (0.3-0.5 ms
                // mean, under 1 ms at p99 on 1M providers, BENCHMARKS.md): run it here, as a
                // hop to a blocking thread and back costs two thread wake-ups and buys nothing
                // when every core is busy ranking. Text re-scores a window with BM25 over the
                // full-text index and can take several milliseconds: that leaves the worker.
                let value = if request.text.is_none() {
                    rank(&engine, &request)
                } else {
                    tokio::task::spawn_blocking(move || rank(&engine, &request))
                        .await
                        .map_err(|error| error.to_string())?
                }
                .map_err(|error| error.to_string())?;
                let bytes = postcard::to_stdvec(&value.0).map_err(|error| error.to_string())?;
                *computed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(value);
                Ok::<_, String>(bytes)
            }
        };
        let (bytes, outcome) = self
            .results
            .get_or_compute(&key, compute)
            .await
            .map_err(|error| RankedListError::Ranking(error.to_string()))?;
        let computed = computed
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (value, plan) = match computed {
            Some(computed) => computed,
            None => (
                postcard::from_bytes(&bytes)?,
                triage(&request.triage_input()),
            ),
        };
        Ok(Ranked {
            value,
            plan,
            outcome,
            generation,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(64), |mut text, byte| {
            let _ = write!(text, "{byte:02x}");
            text
        })
}
