//! The `Query` root's fields and the federation entity resolvers: each validates its
//! arguments, calls one service and maps the answer to the contract's types.

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object, Result};
use carematch_domain as domain;
use carematch_domain::limits::{MAX_CARE_TYPES, MAX_SYMPTOMS, MAX_WARNING_SIGNS};
use carematch_service::PageRequest;
use carematch_service::match_log::{Caller, ClientInfo, MatchLogCapture};

use super::loaders::{ProviderByNpiLoader, ProviderLoader};
use super::matches::{CareTeam, Cursor, MAX_PAGE_SIZE, MatchInput, MatchResult, fingerprint};
use super::schema::CACHE_HEADER;
use super::types::{BirthType, CareListing, CarePlan, CareType, Provider, Symptom, WarningSign};
use crate::{ApiError, AppState};

/// The root fields and `Provider` entity resolvers, merged into [`Query`] or
/// [`QueryWithCareListings`]; its own name never reaches the SDL.
#[derive(Default)]
pub struct QueryRoot;

#[Object(name = "QueryFields")]
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
            .matches
            .validate(input.into())
            .map_err(|error| ApiError::invalid("input", error))?;
        let request_fingerprint = fingerprint(&request);
        let start = match after {
            Some(cursor) => Cursor::decode(&cursor, request_fingerprint)?.rank,
            None => 0,
        };
        let page = PageRequest {
            start,
            size: first as usize,
        };
        let page = state
            .matches
            .match_providers(&request, page, &caller(context))
            .await
            .map_err(|error| ApiError::internal(&error))?;
        context.insert_http_header(CACHE_HEADER, page.cache.as_str());
        Ok(MatchResult::from_page(page, start, request_fingerprint))
    }

    /// The best provider for each recommended care type: her care team. No provider is on
    /// the team twice; members are ordered by care priority.
    #[graphql(tag = "public")]
    async fn care_team(&self, context: &Context<'_>, input: MatchInput) -> Result<CareTeam> {
        let state = context.data_unchecked::<AppState>();
        let request = state
            .matches
            .validate(input.into())
            .map_err(|error| ApiError::invalid("input", error))?;
        let team = state
            .matches
            .care_team(&request, &caller(context))
            .await
            .map_err(|error| ApiError::internal(&error))?;
        context.insert_http_header(CACHE_HEADER, team.cache.as_str());
        Ok(team.into())
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
        #[graphql(
            desc = "Her own words. Read only for words of harm or postpartum psychosis, which raise the THOUGHTS_OF_HARM guidance; never stored or logged."
        )]
        text: Option<String>,
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
        if let Some(text) = &text
            && text.chars().count() > domain::limits::MAX_QUERY_TEXT_CHARS
        {
            return Err(ApiError::BadUserInput {
                field: "text".into(),
                message: format!(
                    "must be at most {} characters",
                    domain::limits::MAX_QUERY_TEXT_CHARS
                ),
            }
            .into());
        }
        let mut asked: Vec<domain::CareType> = Vec::new();
        for care_type in care_types {
            let care_type = care_type.into();
            if !asked.contains(&care_type) {
                asked.push(care_type);
            }
        }
        let input = domain::TriageInput {
            crisis_words: text
                .as_deref()
                .map(domain::crisis_words)
                .unwrap_or_default(),
            symptoms: symptoms.into_iter().map(Into::into).collect(),
            warning_signs: warning_signs.into_iter().map(Into::into).collect(),
            care_types: asked,
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
        i32::try_from(state.directory.indexed_count()).unwrap_or(i32::MAX)
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
        // The representations of one `_entities` call are resolved concurrently, so the loader
        // gathers their NPIs into one store read.
        let loader = context.data_unchecked::<DataLoader<ProviderByNpiLoader>>();
        let provider = loader
            .load_one(npi)
            .await
            .map_err(|error| ApiError::internal_message(&error))?;
        Ok(provider.map(|provider| Provider(Arc::new(provider))))
    }
}

/// The entity resolver of the `CareListing` interface object, in the schema only when it is
/// switched on.
#[derive(Default)]
pub struct CareListingEntities;

#[Object(name = "CareListingEntities")]
impl CareListingEntities {
    /// Federation: resolves `CareListing` references (an interface entity owned by the
    /// bookings subgraph; carematch contributes fields to every listing as an
    /// `@interfaceObject`). A listing shares its provider's id; an id that is no provider here
    /// resolves to null for that representation only. Batched with the `Provider` lookups.
    #[graphql(entity)]
    async fn find_care_listing_by_id(
        &self,
        context: &Context<'_>,
        id: ID,
    ) -> Result<Option<CareListing>> {
        let Ok(provider_id) = domain::ProviderId::parse(&id) else {
            return Ok(None);
        };
        Ok(load_provider(context, provider_id)
            .await?
            .map(|provider| CareListing { id, provider }))
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

/// Who asks, for the match log: the calling application and the HTTP layer's capture of the
/// records (for the response replay), both put in the request's data by `http.rs`.
fn caller(context: &Context<'_>) -> Caller {
    Caller {
        client: context
            .data_opt::<ClientInfo>()
            .cloned()
            .unwrap_or_default(),
        capture: context.data_opt::<MatchLogCapture>().cloned(),
    }
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
