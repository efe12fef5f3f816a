//! The GraphQL schema: root resolvers and the federation (v2) setup.

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, ID, Object, Result, SDLExportOptions, Schema,
};
use carematch_domain as domain;
use carematch_domain::limits::{MAX_CARE_TYPES, MAX_SYMPTOMS, MAX_WARNING_SIGNS};

use crate::types::{BirthType, CarePlan, CareType, Provider, Symptom, WarningSign};
use crate::{ApiError, AppState};

pub type CarematchSchema = Schema<QueryRoot, EmptyMutation, EmptySubscription>;

pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// Triage only: which care types fit these needs, and the safety notes. Warning signs put
    /// urgent guidance first; they never change which care is recommended.
    #[allow(clippy::too_many_arguments)]
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
    async fn provider(&self, context: &Context<'_>, id: ID) -> Result<Option<Provider>> {
        let id = domain::ProviderId::parse(&id).map_err(|error| ApiError::invalid("", error))?;
        let state = context.data_unchecked::<AppState>();
        let provider = state
            .store
            .get_provider(id)
            .await
            .map_err(|error| ApiError::internal(&error))?;
        Ok(provider.map(Provider))
    }

    /// Federation: resolves `Provider` references from other subgraphs by id.
    #[graphql(entity)]
    async fn find_provider_by_id(&self, context: &Context<'_>, id: ID) -> Result<Option<Provider>> {
        let Ok(id) = domain::ProviderId::parse(&id) else {
            return Ok(None);
        };
        let state = context.data_unchecked::<AppState>();
        let provider = state
            .store
            .get_provider(id)
            .await
            .map_err(|error| ApiError::internal(&error))?;
        Ok(provider.map(Provider))
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

fn schema_builder() -> async_graphql::SchemaBuilder<QueryRoot, EmptyMutation, EmptySubscription> {
    Schema::build(QueryRoot, EmptyMutation, EmptySubscription).enable_federation()
}

/// The schema with its shared state.
pub fn build_schema(state: AppState) -> CarematchSchema {
    schema_builder().data(state).finish()
}

/// The subgraph SDL as published in `schema.graphql` (federation v2 directives included).
/// Needs no state: the SDL depends on the code alone.
pub fn sdl() -> String {
    schema_builder()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation().compose_directive())
}
