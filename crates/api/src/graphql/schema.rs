//! The GraphQL schema: its two shapes (with or without the `CareListing` interface object),
//! the federation (v2) setup, limits and extensions, and the published SDL.

use async_graphql::{EmptySubscription, MergedObject, ObjectType, SDLExportOptions, Schema};

use super::loaders::ProviderByNpiLoader;
use super::mutation::MutationRoot;
use super::query::{CareListingEntities, QueryRoot};
use crate::limits::RequestGuard;
use crate::{ApiOptions, AppState};

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

fn schema_builder<Q: ObjectType + Default + 'static>()
-> async_graphql::SchemaBuilder<Q, MutationRoot, EmptySubscription> {
    Schema::build(Q::default(), MutationRoot, EmptySubscription).enable_federation()
}

/// The schema with its shared state, default limits and switches.
pub fn build_schema(state: AppState) -> CarematchSchema {
    build_schema_with(state, &ApiOptions::default())
}

/// The schema with its shared state, the query limits async-graphql counts itself (depth,
/// complexity, directives per field), the parse-time guard for the rest, tracing, and
/// introspection.
pub fn build_schema_with(state: AppState, options: &ApiOptions) -> CarematchSchema {
    fn guarded<Q: ObjectType + Default + 'static>(
        state: AppState,
        options: &ApiOptions,
    ) -> Schema<Q, MutationRoot, EmptySubscription> {
        let builder = configured_builder(state, options)
            .extension(RequestGuard::new(
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
pub(crate) fn build_plain_schema(state: AppState, options: &ApiOptions) -> CarematchSchema {
    if options.care_listing_interface_object {
        CarematchSchema::WithCareListings(finish(configured_builder(state, options), options))
    } else {
        CarematchSchema::Providers(finish(configured_builder(state, options), options))
    }
}

fn configured_builder<Q: ObjectType + Default + 'static>(
    state: AppState,
    options: &ApiOptions,
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
    options: &ApiOptions,
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

    use std::sync::Arc;

    use async_graphql::{Request, Variables};
    use carematch_domain as domain;
    use carematch_search::ProviderIndex;
    use carematch_service::ProviderDirectory;
    use carematch_store::{Store, StoreOptions};
    use serde_json::json;

    use super::*;
    use crate::graphql::loaders::ProviderLoader;

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
