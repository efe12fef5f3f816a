//! The GraphQL schema: root resolvers and the federation (v2) setup.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, EmptySubscription, ID, Object, Result, SDLExportOptions, Schema};
use carematch_domain as domain;
use carematch_domain::limits::{MAX_CARE_TYPES, MAX_SYMPTOMS, MAX_WARNING_SIGNS};
use carematch_search::ProviderIndex;
use carematch_store::StoreError;

use crate::inputs::ProviderInput;
use crate::match_log::{OUTCOME_FLUSH_TIMEOUT, PendingMatchLog};
use crate::matches::{
    CareTeam, CareTeamMember, Cursor, MAX_PAGE_SIZE, MatchEdge, MatchInput, MatchResult, PageInfo,
    fingerprint, to_match,
};
use crate::types::{BirthType, CarePlan, CareType, MatchOutcome, Provider, Symptom, WarningSign};
use crate::{ApiError, AppState};

pub type CarematchSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The raw `Authorization` header of the request, checked only by resolvers that need it.
#[derive(Clone, Default)]
pub struct RequestAuthorization(pub Option<String>);

/// Loads providers from the local index, many ids in one read per request (federation
/// `_entities` batches and match pages).
pub struct ProviderLoader {
    index: Arc<ProviderIndex>,
}

impl ProviderLoader {
    pub fn data_loader(index: Arc<ProviderIndex>) -> DataLoader<ProviderLoader> {
        DataLoader::new(ProviderLoader { index }, tokio::spawn)
    }
}

impl Loader<domain::ProviderId> for ProviderLoader {
    type Value = domain::Provider;
    type Error = Arc<String>;

    async fn load(
        &self,
        keys: &[domain::ProviderId],
    ) -> Result<HashMap<domain::ProviderId, domain::Provider>, Self::Error> {
        let index = Arc::clone(&self.index);
        let ids = keys.to_vec();
        let loaded = tokio::task::spawn_blocking(move || index.get_many(&ids))
            .await
            .map_err(|error| Arc::new(error.to_string()))?
            .map_err(|error| Arc::new(error.to_string()))?;
        Ok(loaded
            .into_iter()
            .flatten()
            .map(|provider| (provider.id, provider))
            .collect())
    }
}

pub struct QueryRoot;

// Named `Query` and `Mutation`: the federation SDL has no `schema { }` block, so composition
// finds the roots by these names only.
#[Object(name = "Query")]
impl QueryRoot {
    /// Ranked providers for one mother's needs, with the care plan behind them. The ranked
    /// list (at most 200) is cut into pages by `first` (1 to 50) and `after` (a cursor from
    /// this same request). When too few providers are inside her radius, `searchArea` says so
    /// and telehealth, online and nearest-beyond-radius providers are offered, marked as such.
    // A page costs its selection once per edge: `first` (1 to 50, default 10) times the child.
    #[graphql(
        tag = "public",
        complexity = "first.unwrap_or(10).clamp(1, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn match_providers(
        &self,
        context: &Context<'_>,
        input: MatchInput,
        #[graphql(default_with = "Some(10)")] first: Option<i32>,
        after: Option<String>,
    ) -> Result<MatchResult> {
        let state = context.data_unchecked::<AppState>();
        // Nullable with a default, as in the contract: an explicit null means the default.
        let first = first.unwrap_or(10);
        if !(1..=MAX_PAGE_SIZE).contains(&first) {
            return Err(ApiError::BadUserInput {
                field: "first".into(),
                message: format!("must be between 1 and {MAX_PAGE_SIZE}"),
            }
            .into());
        }
        let request = state
            .engine
            .validate_request(input.into())
            .map_err(|error| ApiError::invalid("input", error))?;
        let started = std::time::Instant::now();
        let request_fingerprint = fingerprint(&request);
        let start = match after {
            Some(cursor) => Cursor::decode(&cursor, request_fingerprint)?.rank,
            None => 0,
        };
        let engine = Arc::clone(&state.engine);
        let logged_request = request.clone();
        let results = tokio::task::spawn_blocking(move || engine.match_providers(&request))
            .await
            .map_err(|error| ApiError::internal(&error))?
            .map_err(|error| ApiError::internal(&error))?;

        let total = results.matches.len();
        let page: Vec<_> = results
            .matches
            .iter()
            .skip(start)
            .take(first as usize)
            .cloned()
            .collect();
        let shown: Vec<_> = page.iter().map(|found| (found.rank, found)).collect();
        let match_log = PendingMatchLog::new(
            context,
            "matchProviders",
            started,
            &logged_request,
            &results.plan,
            &results.search_area,
            total,
            &shown,
        );
        let loader = context.data_unchecked::<DataLoader<ProviderLoader>>();
        let mut providers = loader
            .load_many(page.iter().map(|found| found.provider_id))
            .await
            .map_err(|error| ApiError::internal_message(&error))?;
        let edges: Vec<MatchEdge> = page
            .into_iter()
            .filter_map(|found| {
                let provider = providers.remove(&found.provider_id)?;
                let cursor = Cursor {
                    fingerprint: request_fingerprint,
                    rank: found.rank as usize,
                }
                .encode();
                Some(MatchEdge {
                    cursor,
                    node: to_match(found, provider),
                })
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: start + edges.len() < total,
            has_previous_page: start > 0,
            start_cursor: edges.first().map(|edge| edge.cursor.clone()),
            end_cursor: edges.last().map(|edge| edge.cursor.clone()),
        };
        let widened = results.search_area.widened;
        Ok(MatchResult {
            match_id: ID(match_log.submit(&state.match_log).to_string()),
            plan: results.plan.into(),
            total_count: i32::try_from(total).unwrap_or(i32::MAX),
            edges,
            page_info,
            search_area: results.search_area.into(),
            widened,
            explanation: results.explanation,
        })
    }

    /// The best provider for each recommended care type: her care team. No provider is on
    /// the team twice; members are ordered by care priority.
    #[graphql(tag = "public")]
    async fn care_team(&self, context: &Context<'_>, input: MatchInput) -> Result<CareTeam> {
        let state = context.data_unchecked::<AppState>();
        let request = state
            .engine
            .validate_request(input.into())
            .map_err(|error| ApiError::invalid("input", error))?;
        let started = std::time::Instant::now();
        let engine = Arc::clone(&state.engine);
        let logged_request = request.clone();
        let team = tokio::task::spawn_blocking(move || engine.care_team(&request))
            .await
            .map_err(|error| ApiError::internal(&error))?
            .map_err(|error| ApiError::internal(&error))?;
        // Each member comes from its own ranked list: the log ranks members by team order.
        let shown: Vec<_> = team
            .members
            .iter()
            .filter_map(|member| member.provider_match.as_ref())
            .zip(1..)
            .map(|(found, position)| (position, found))
            .collect();
        let match_log = PendingMatchLog::new(
            context,
            "careTeam",
            started,
            &logged_request,
            &team.plan,
            &team.search_area,
            shown.len(),
            &shown,
        );
        let loader = context.data_unchecked::<DataLoader<ProviderLoader>>();
        let ids = team
            .members
            .iter()
            .filter_map(|member| member.provider_match.as_ref())
            .map(|found| found.provider_id);
        let mut providers = loader
            .load_many(ids)
            .await
            .map_err(|error| ApiError::internal_message(&error))?;
        let members = team
            .members
            .into_iter()
            .map(|member| CareTeamMember {
                care_type: member.care_type.into(),
                member_match: member.provider_match.and_then(|found| {
                    let provider = providers.remove(&found.provider_id)?;
                    Some(to_match(found, provider))
                }),
            })
            .collect();
        Ok(CareTeam {
            match_id: ID(match_log.submit(&state.match_log).to_string()),
            plan: team.plan.into(),
            members,
            search_area: team.search_area.into(),
            explanation: team.explanation,
        })
    }

    /// Triage only: which care types fit these needs, and the safety notes. Warning signs put
    /// urgent guidance first; they never change which care is recommended.
    #[allow(clippy::too_many_arguments)]
    #[graphql(tag = "public")]
    async fn recommend_care(
        &self,
        symptoms: Vec<Symptom>,
        #[graphql(default_with = "Some(Vec::new())")] warning_signs: Option<Vec<WarningSign>>,
        birth_type: Option<BirthType>,
        weeks_postpartum: Option<i32>,
        #[graphql(default_with = "Some(false)")] cleared_for_massage: Option<bool>,
        #[graphql(desc = "Care types she asks for; kept even if no symptom leads to them.")]
        care_types: Option<Vec<CareType>>,
    ) -> Result<CarePlan> {
        // Nullable arguments with defaults, as in the contract: an explicit null means the default.
        let warning_signs = warning_signs.unwrap_or_default();
        let cleared_for_massage = cleared_for_massage.unwrap_or(false);
        check_len(symptoms.len(), "symptoms", MAX_SYMPTOMS)?;
        check_len(warning_signs.len(), "warningSigns", MAX_WARNING_SIGNS)?;
        let care_types = care_types.unwrap_or_default();
        check_len(care_types.len(), "careTypes", MAX_CARE_TYPES)?;
        let weeks_postpartum = weeks_postpartum
            .map(|weeks| domain::WeeksPostpartum::new(i64::from(weeks)))
            .transpose()
            .map_err(|error| ApiError::invalid("", error))?;
        let input = domain::TriageInput {
            symptoms: symptoms.into_iter().map(Into::into).collect(),
            warning_signs: warning_signs.into_iter().map(Into::into).collect(),
            care_types: care_types.into_iter().map(Into::into).collect(),
            birth_type: birth_type.map(Into::into),
            weeks_postpartum,
            cleared_for_massage,
        };
        Ok(domain::triage::triage(&input).into())
    }

    /// One provider by id; null when there is none.
    #[graphql(tag = "public")]
    async fn provider(&self, context: &Context<'_>, id: ID) -> Result<Option<Provider>> {
        let id = domain::ProviderId::parse(&id).map_err(|error| ApiError::invalid("", error))?;
        load_provider(context, id).await
    }

    /// Internal, for operators querying this subgraph directly: how many providers this
    /// replica's search index holds. `@inaccessible`: the supergraph never exposes it to apps.
    #[graphql(inaccessible)]
    async fn indexed_provider_count(&self, context: &Context<'_>) -> i32 {
        let state = context.data_unchecked::<AppState>();
        i32::try_from(state.directory.index.len()).unwrap_or(i32::MAX)
    }

    /// Federation: resolves `Provider` references from other subgraphs by id. An unknown id
    /// resolves to null for that representation only.
    #[graphql(entity)]
    async fn find_provider_by_id(&self, context: &Context<'_>, id: ID) -> Result<Option<Provider>> {
        let Ok(id) = domain::ProviderId::parse(&id) else {
            return Ok(None);
        };
        load_provider(context, id).await
    }

    /// Federation: resolves `Provider` references by NPI, for directory partners.
    #[graphql(entity)]
    async fn find_provider_by_npi(
        &self,
        context: &Context<'_>,
        npi: String,
    ) -> Result<Option<Provider>> {
        let Ok(npi) = domain::Npi::parse(&npi) else {
            return Ok(None);
        };
        let state = context.data_unchecked::<AppState>();
        let provider = state
            .directory
            .store
            .get_provider_by_npi(&npi)
            .await
            .map_err(|error| ApiError::internal(&error))?;
        Ok(provider.map(Provider))
    }
}

async fn load_provider(context: &Context<'_>, id: domain::ProviderId) -> Result<Option<Provider>> {
    let loader = context.data_unchecked::<DataLoader<ProviderLoader>>();
    let provider = loader
        .load_one(id)
        .await
        .map_err(|error| ApiError::internal_message(&error))?;
    Ok(provider.map(Provider))
}

pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Admin only (`Authorization: Bearer <JWT>` with `role: "admin"`). Creates or replaces a
    /// provider and returns it; the change is searchable on return. Every write is audited.
    #[graphql(tag = "admin")]
    async fn upsert_provider(
        &self,
        context: &Context<'_>,
        input: ProviderInput,
    ) -> Result<Provider> {
        let state = context.data_unchecked::<AppState>();
        let admin = require_admin(context)?;
        let draft: domain::ProviderDraft = input.into();
        let provider = draft
            .validate(domain::ProviderId::from_uuid(uuid::Uuid::new_v4()))
            .map_err(|error| ApiError::invalid("input", error))?;
        match state
            .directory
            .upsert(provider.clone(), &admin.subject)
            .await
        {
            Ok(_) => Ok(Provider(provider)),
            Err(crate::directory::DirectoryError::Store(StoreError::NpiConflict { .. })) => {
                Err(ApiError::BadUserInput {
                    field: "input.npi".into(),
                    message: "belongs to another provider".into(),
                }
                .into())
            }
            Err(error) => Err(ApiError::internal(&error).into()),
        }
    }

    /// Admin only (bearer token). Deletes a provider; false when there was none.
    #[graphql(tag = "admin")]
    async fn delete_provider(&self, context: &Context<'_>, id: ID) -> Result<bool> {
        let state = context.data_unchecked::<AppState>();
        let admin = require_admin(context)?;
        let id = domain::ProviderId::parse(&id).map_err(|error| ApiError::invalid("", error))?;
        state
            .directory
            .delete(id, &admin.subject)
            .await
            .map_err(|error| ApiError::internal(&error).into())
    }

    /// What the mother did with a match; joins the match log for analysts. An unknown
    /// `matchId` is `NOT_FOUND`.
    #[graphql(tag = "public")]
    async fn record_match_outcome(
        &self,
        context: &Context<'_>,
        match_id: ID,
        provider_id: ID,
        outcome: MatchOutcome,
    ) -> Result<bool> {
        let state = context.data_unchecked::<AppState>();
        let match_id = uuid::Uuid::parse_str(&match_id).map_err(|_| ApiError::BadUserInput {
            field: "matchId".into(),
            message: "must be a UUID".into(),
        })?;
        let provider_id =
            domain::ProviderId::parse(&provider_id).map_err(|error| ApiError::BadUserInput {
                field: "providerId".into(),
                message: error.problem,
            })?;
        let record = carematch_store::MatchOutcomeRecord {
            id: uuid::Uuid::new_v4(),
            match_id,
            provider_id,
            outcome: outcome.into(),
            recorded_week: crate::match_log::week_start(chrono::Utc::now().date_naive()),
        };
        // A match still queued for the log is not in the database yet: write it first.
        if state.match_log.is_pending(match_id) {
            state.match_log.flush(OUTCOME_FLUSH_TIMEOUT).await;
        }
        match state.directory.store.insert_match_outcome(&record).await {
            Ok(()) => Ok(true),
            Err(StoreError::UnknownMatch(_)) => Err(ApiError::NotFound.into()),
            Err(error) => Err(ApiError::internal(&error).into()),
        }
    }
}

fn require_admin(context: &Context<'_>) -> Result<crate::auth::Admin, ApiError> {
    let state = context.data_unchecked::<AppState>();
    let authorization = context
        .data_opt::<RequestAuthorization>()
        .and_then(|auth| auth.0.as_deref());
    state
        .authenticator
        .require_admin(authorization)
        .map_err(ApiError::from)
}

fn check_len(len: usize, field: &str, max: usize) -> Result<(), ApiError> {
    if len > max {
        return Err(ApiError::BadUserInput {
            field: field.to_owned(),
            message: format!("at most {max} items are allowed, got {len}"),
        });
    }
    Ok(())
}

fn schema_builder() -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription).enable_federation()
}

/// The schema with its shared state, default limits and switches.
pub fn build_schema(state: AppState) -> CarematchSchema {
    build_schema_with(state, &crate::ApiOptions::default())
}

/// The schema with its shared state, the query limits async-graphql counts itself (depth,
/// complexity, directives per field), the parse-time guard for the rest, and introspection.
pub fn build_schema_with(state: AppState, options: &crate::ApiOptions) -> CarematchSchema {
    let limits = &options.limits;
    let builder = schema_builder()
        .data(state)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_directives(limits.max_directives_per_field)
        .extension(crate::limits::RequestGuard::new(
            limits.clone(),
            options.introspection,
        ))
        .extension(crate::ftv1::FederatedTracing);
    if options.introspection {
        builder.finish()
    } else {
        // Suggestions ("did you mean ...") would reveal the schema field by field.
        builder
            .disable_introspection()
            .disable_suggestions()
            .finish()
    }
}

/// The subgraph SDL as published in `schema.graphql` (federation v2 directives included).
/// Needs no state: the SDL depends on the code alone.
pub fn sdl() -> String {
    schema_builder()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}
