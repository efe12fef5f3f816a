//! The `Mutation` root: admin writes to the provider directory and her outcomes.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result};
use carematch_domain as domain;
use carematch_service::{Admin, DirectoryError, OutcomeError, OutcomeReport};

use super::inputs::ProviderInput;
use super::schema::RequestAuthorization;
use super::types::{MatchOutcome, Provider};
use crate::{ApiError, AppState};

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
            Ok(_) => Ok(Provider(Arc::new(provider))),
            Err(DirectoryError::NpiConflict) => Err(ApiError::BadUserInput {
                field: "input.npi".into(),
                message: "belongs to another provider".into(),
            }
            .into()),
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
        let report = OutcomeReport {
            match_id,
            provider_id,
            outcome: outcome.into(),
        };
        match state.matches.record_outcome(report).await {
            Ok(()) => Ok(true),
            Err(OutcomeError::UnknownMatch) => Err(ApiError::NotFound.into()),
            Err(error) => Err(ApiError::internal(&error).into()),
        }
    }
}

fn require_admin(context: &Context<'_>) -> Result<Admin, ApiError> {
    let state = context.data_unchecked::<AppState>();
    let authorization = context
        .data_opt::<RequestAuthorization>()
        .and_then(|auth| auth.0.as_deref());
    state
        .authenticator
        .require_admin(authorization)
        .map_err(ApiError::from)
}
