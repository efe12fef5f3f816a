//! The GraphQL surface: the schema and its roots, the resolvers (which validate arguments, call
//! one service method and map types), the DataLoaders, and the contract's types mapped from
//! domain and service types.

mod inputs;
mod loaders;
mod matches;
mod mutation;
mod query;
mod schema;
mod types;

pub(crate) use loaders::ProviderLoader;
pub(crate) use schema::{
    CACHE_HEADER, RequestAuthorization, build_plain_schema, build_schema_with, full_sdl,
};
pub use schema::{CarematchSchema, build_schema, sdl, sdl_of};
