//! The GraphQL schema: root resolvers and the federation (v2) setup.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{
    Context, EmptySubscription, ID, MergedObject, Object, ObjectType, Result, SDLExportOptions,
    Schema,
};
use carematch_domain as domain;
use carematch_domain::limits::{MAX_CARE_TYPES, MAX_SYMPTOMS, MAX_WARNING_SIGNS};
use carematch_search::ProviderIndex;
use carematch_service::match_log::{Caller, ClientInfo, MatchLogCapture};
use carematch_service::{
    Admin, DirectoryError, OutcomeError, OutcomeReport, PageRequest, ProviderDirectory,
};

use crate::inputs::ProviderInput;
use crate::matches::{CareTeam, Cursor, MAX_PAGE_SIZE, MatchInput, MatchResult, fingerprint};
use crate::types::{
    BirthType, CareListing, CarePlan, CareType, MatchOutcome, Provider, Symptom, WarningSign,
};
use crate::{ApiError, AppState};

/// The schema as served: the providers subgraph alone, or with the `CareListing`
/// `@interfaceObject` (`ApiOptions::care_listing_interface_object`). Two Rust schema types,
/// because async-graphql publishes every type its resolvers name: an interface object that is
/// off must be absent from the SDL, or the subgraph composes only beside a subgraph that owns
/// `interface CareListing` (composition's INTERFACE_OBJECT_USAGE_ERROR otherwise).
#[derive(Clone)]
pub enum CarematchSchema {
    Providers(Schema<Query, MutationRoot, EmptySubscription>),
    WithCareListings(Schema<QueryWithCareListings, MutationRoot, EmptySubscription>),
}

impl CarematchSchema {
    pub async fn execute(
        &self,
        request: impl Into<async_graphql::Request>,
    ) -> async_graphql::Response {
        match self {
            Self::Providers(schema) => schema.execute(request).await,
            Self::WithCareListings(schema) => schema.execute(request).await,
        }
    }

    /// The subgraph SDL this schema publishes in `_service { sdl }`.
    pub fn federation_sdl(&self) -> String {
        let options = SDLExportOptions::new().federation().compose_directive();
        match self {
            Self::Providers(schema) => schema.sdl_with_options(options),
            Self::WithCareListings(schema) => schema.sdl_with_options(options),
        }
    }
}

// The `Query` root of the providers subgraph. Named `Query` (and the mutations' root
// `Mutation`): the federation SDL has no `schema { }` block, so composition finds the roots by
// these names only. `//` comments: a doc comment here would be published as the type's
// description.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(QueryRoot);

// The `Query` root with the `CareListing` interface object's entity resolver.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryWithCareListings(QueryRoot, CareListingEntities);

/// Says where a ranked list came from: `miss`, `local` (this replica's cache) or `shared`
/// (redis, computed by another replica).
pub const CACHE_HEADER: &str = "x-carematch-cache";

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
    type Value = Arc<domain::Provider>;
    type Error = Arc<String>;

    async fn load(
        &self,
        keys: &[domain::ProviderId],
    ) -> Result<HashMap<domain::ProviderId, Arc<domain::Provider>>, Self::Error> {
        carematch_service::indexed_providers(&self.index, keys.to_vec())
            .await
            .map_err(|error| Arc::new(error.to_string()))
    }
}

/// Loads providers from the database by NPI, all the NPIs of one batch in one read
/// (`ProviderDirectory::providers_by_npis`): federation `_entities` representations keyed by `npi`,
/// which the index cannot answer (it is keyed by id). It caches nothing, so the one instance in
/// the schema's data serves every request: concurrent lookups share a read, none sees another's
/// stale answer.
pub struct ProviderByNpiLoader {
    directory: ProviderDirectory,
    reads: Arc<std::sync::atomic::AtomicU64>,
}

impl ProviderByNpiLoader {
    pub fn data_loader(directory: ProviderDirectory) -> DataLoader<ProviderByNpiLoader> {
        Self::counting(directory, Arc::default())
    }

    /// A loader that adds one to `reads` per database read (for tests and diagnostics).
    pub fn counting(
        directory: ProviderDirectory,
        reads: Arc<std::sync::atomic::AtomicU64>,
    ) -> DataLoader<ProviderByNpiLoader> {
        DataLoader::new(ProviderByNpiLoader { directory, reads }, tokio::spawn)
    }
}

impl Loader<domain::Npi> for ProviderByNpiLoader {
    type Value = domain::Provider;
    type Error = Arc<String>;

    async fn load(
        &self,
        keys: &[domain::Npi],
    ) -> Result<HashMap<domain::Npi, domain::Provider>, Self::Error> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let found = self
            .directory
            .providers_by_npis(keys)
            .await
            .map_err(|error| Arc::new(error.to_string()))?;
        Ok(found
            .into_iter()
            .filter_map(|provider| Some((provider.npi.clone()?, provider)))
            .collect())
    }
}

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
            Err(DirectoryError::NpiConflict) => {
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

fn check_len(len: usize, field: &str, max: usize) -> Result<(), ApiError> {
    if len > max {
        return Err(ApiError::BadUserInput {
            field: field.to_owned(),
            message: format!("at most {max} items are allowed, got {len}"),
        });
    }
    Ok(())
}

fn schema_builder<Q: ObjectType + Default + 'static>()
-> async_graphql::SchemaBuilder<Q, MutationRoot, EmptySubscription> {
    Schema::build(Q::default(), MutationRoot, EmptySubscription).enable_federation()
}

/// The schema with its shared state, default limits and switches.
pub fn build_schema(state: AppState) -> CarematchSchema {
    build_schema_with(state, &crate::ApiOptions::default())
}

/// The schema with its shared state, the query limits async-graphql counts itself (depth,
/// complexity, directives per field), the parse-time guard for the rest, tracing, and
/// introspection.
pub fn build_schema_with(state: AppState, options: &crate::ApiOptions) -> CarematchSchema {
    fn guarded<Q: ObjectType + Default + 'static>(
        state: AppState,
        options: &crate::ApiOptions,
    ) -> Schema<Q, MutationRoot, EmptySubscription> {
        let builder = configured_builder(state, options)
            .extension(crate::limits::RequestGuard::new(
                options.limits.clone(),
                options.introspection,
            ))
            .extension(crate::ftv1::FederatedTracing);
        finish(builder, options)
    }
    if options.care_listing_interface_object {
        CarematchSchema::WithCareListings(guarded(state, options))
    } else {
        CarematchSchema::Providers(guarded(state, options))
    }
}

/// The same schema without extensions, for documents the guard's checks already passed
/// (`parsed::ParsedDocument::plain`): async-graphql then resolves fields on its fast path.
/// Its errors carry no codes; the HTTP layer runs such a request again on the guarded schema.
pub(crate) fn build_plain_schema(state: AppState, options: &crate::ApiOptions) -> CarematchSchema {
    if options.care_listing_interface_object {
        CarematchSchema::WithCareListings(finish(configured_builder(state, options), options))
    } else {
        CarematchSchema::Providers(finish(configured_builder(state, options), options))
    }
}

fn configured_builder<Q: ObjectType + Default + 'static>(
    state: AppState,
    options: &crate::ApiOptions,
) -> async_graphql::SchemaBuilder<Q, MutationRoot, EmptySubscription> {
    let limits = &options.limits;
    let npi_loader = ProviderByNpiLoader::data_loader(state.directory.clone());
    schema_builder()
        .data(state)
        .data(npi_loader)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .limit_directives(limits.max_directives_per_field)
}

fn finish<Q: ObjectType + 'static>(
    builder: async_graphql::SchemaBuilder<Q, MutationRoot, EmptySubscription>,
    options: &crate::ApiOptions,
) -> Schema<Q, MutationRoot, EmptySubscription> {
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

/// The whole schema's SDL, federation's `_entities` and `_service` included (for the
/// variable rule, `variables`). The input types are the same with or without the interface
/// object.
pub(crate) fn full_sdl() -> String {
    schema_builder::<Query>().finish().sdl()
}

/// The subgraph SDL as published in `schema.graphql`: the providers subgraph alone, with the
/// federation v2 directives. Needs no state: the SDL depends on the code alone.
pub fn sdl() -> String {
    sdl_of(false)
}

/// The subgraph SDL of the schema with the `CareListing` interface object switched on
/// (`care_listing_interface_object`) or off.
pub fn sdl_of(care_listing_interface_object: bool) -> String {
    let schema = if care_listing_interface_object {
        CarematchSchema::WithCareListings(schema_builder().finish())
    } else {
        CarematchSchema::Providers(schema_builder().finish())
    };
    schema.federation_sdl()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use async_graphql::{Request, Variables};
    use carematch_store::{Store, StoreOptions};
    use serde_json::json;

    use super::*;

    /// The usual example of a valid NPI, and two more with the right check digit.
    const NPIS: [&str; 3] = ["1234567893", "1245319599", "1679576722"];
    /// Well-formed (right check digit), held by nobody.
    const UNKNOWN_NPI: &str = "1003000126";

    fn provider(n: u128, npi: Option<&str>) -> domain::Provider {
        let draft: domain::ProviderDraft = serde_json::from_value(json!({
            "npi": npi,
            "name": format!("Test Doula {n}"),
            "careTypes": ["DOULA"],
            "certifications": [],
            "treats": [],
            "locations": [],
            "modes": ["TELEHEALTH"],
            "languages": ["English"],
            "acceptingNewClients": true,
            "insurance": [],
            "acceptsFsaHsa": false,
            "providesSuperbill": false,
            "requiresReferral": false,
        }))
        .unwrap();
        draft
            .validate(domain::ProviderId::from_uuid(uuid::Uuid::from_u128(n)))
            .unwrap()
    }

    async fn store_with(providers: &[domain::Provider]) -> Store {
        let store = Store::connect("sqlite::memory:", &StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store.upsert_providers(providers).await.unwrap();
        store
    }

    const PROVIDER_ENTITIES: &str = "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Provider { id npi name } } }";
    const LISTING_ENTITIES: &str = "query ($r: [_Any!]!) { _entities(representations: $r) { \
        ... on Provider { id npi name } \
        ... on CareListing { id provider { id name } } } }";

    async fn entities(
        schema: &CarematchSchema,
        query: &str,
        request_data: impl FnOnce(Request) -> Request,
        representations: serde_json::Value,
    ) -> async_graphql::Response {
        let request =
            Request::new(query).variables(Variables::from_json(json!({ "r": representations })));
        schema.execute(request_data(request)).await
    }

    #[tokio::test]
    async fn npi_representations_of_one_request_are_read_in_one_batch_and_unknown_ones_are_null() {
        let providers = [
            provider(1, Some(NPIS[0])),
            provider(2, Some(NPIS[1])),
            provider(3, Some(NPIS[2])),
        ];
        let store = store_with(&providers).await;
        let reads = Arc::new(AtomicU64::new(0));
        let directory = ProviderDirectory::new(store, Arc::new(ProviderIndex::in_ram().unwrap()));
        let loader = ProviderByNpiLoader::counting(directory, Arc::clone(&reads));
        let schema = CarematchSchema::Providers(schema_builder().data(loader).finish());

        let response = entities(
            &schema,
            PROVIDER_ENTITIES,
            |request| request,
            json!([
                { "__typename": "Provider", "npi": NPIS[2] },
                { "__typename": "Provider", "npi": UNKNOWN_NPI },
                { "__typename": "Provider", "npi": NPIS[0] },
                { "__typename": "Provider", "npi": "not an npi" },
                { "__typename": "Provider", "npi": NPIS[1] },
            ]),
        )
        .await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().unwrap();
        let ids: Vec<Option<&str>> = data["_entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entity| entity["id"].as_str())
            .collect();
        let id = |n: u128| providers[n as usize - 1].id.to_string();
        assert_eq!(
            ids,
            [
                Some(id(3).as_str()),
                None,
                Some(id(1).as_str()),
                None,
                Some(id(2).as_str())
            ]
        );
        assert!(data["_entities"][1].is_null() && data["_entities"][3].is_null());
        assert_eq!(data["_entities"][2]["npi"], NPIS[0]);
        // Four well-formed NPIs (three known, one unknown), one read.
        assert_eq!(reads.load(Ordering::SeqCst), 1);

        // A second request reads again: nothing is cached between requests.
        let response = entities(
            &schema,
            PROVIDER_ENTITIES,
            |request| request,
            json!([{ "__typename": "Provider", "npi": NPIS[1] }]),
        )
        .await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_care_listing_resolves_to_its_provider_and_an_unknown_listing_to_null() {
        let providers = [provider(1, None), provider(2, Some(NPIS[0]))];
        let index = Arc::new(ProviderIndex::in_ram().unwrap());
        index.upsert_many(&providers, 1).unwrap();
        let schema = CarematchSchema::WithCareListings(schema_builder().finish());
        let unknown = uuid::Uuid::from_u128(99).to_string();

        let response = entities(
            &schema,
            LISTING_ENTITIES,
            |request| request.data(ProviderLoader::data_loader(Arc::clone(&index))),
            json!([
                { "__typename": "CareListing", "id": providers[1].id.to_string() },
                { "__typename": "CareListing", "id": unknown },
                { "__typename": "CareListing", "id": "not-a-uuid" },
                { "__typename": "Provider", "id": providers[0].id.to_string() },
            ]),
        )
        .await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.into_json().unwrap();
        let listing = &data["_entities"][0];
        assert_eq!(listing["id"], providers[1].id.to_string());
        assert_eq!(listing["provider"]["id"], providers[1].id.to_string());
        assert_eq!(listing["provider"]["name"], "Test Doula 2");
        assert!(data["_entities"][1].is_null());
        assert!(data["_entities"][2].is_null());
        assert_eq!(data["_entities"][3]["name"], "Test Doula 1");
    }

    #[test]
    fn the_published_sdl_has_no_care_listing_and_the_switched_on_one_declares_it_an_interface_object()
     {
        let published = sdl();
        assert!(!published.contains("CareListing"), "{published}");
        let switched_on = sdl_of(true);
        assert!(
            switched_on.contains("type CareListing @key(fields: \"id\") @interfaceObject"),
            "{switched_on}"
        );
        assert!(
            switched_on.contains("\"@interfaceObject\""),
            "imported in @link"
        );
        // Everything else is the same: the interface object only adds.
        let without_listing: String = switched_on
            .split("\n\n")
            .filter(|block| !block.contains("CareListing"))
            .collect::<Vec<_>>()
            .join("\n\n");
        assert_eq!(without_listing, published);
        // A listing's provider is nullable: a listing whose provider carematch does not know
        // loses that field only, not the list it is in.
        assert!(
            switched_on.contains("\tprovider: Provider\n"),
            "{switched_on}"
        );
    }
}
