//! Step 4: which schema runs a request, and running it.
//!
//! async-graphql sends every field of every request through the extension chain as soon as a
//! schema has one extension, so carematch builds two schemas of the same types: the guarded
//! one (the request guard, which codes parse and validation errors, and federated tracing) and
//! the plain one, without extensions. The choice is made before executing, from the parsed
//! document alone ([`SchemaChoice::for_document`]): the plain schema runs a document that holds
//! queries only and passed every parse-time check of the guard (`parsed::ParsedDocument::plain`),
//! when no trace is asked for (only the guarded schema traces).
//!
//! What the document cannot tell is decided by async-graphql before it executes anything:
//! schema validation, variable values, operation selection, depth and cost. On the plain
//! schema such a refusal carries no code. It is recognized by the shape the GraphQL
//! specification gives a request error (section 7.1.2: no `data`; only field errors have a
//! `path`), and every error raised while executing carries either a path or a code of ours
//! (resolvers return `ApiError`). Nothing has run then, so the request runs again on the
//! guarded schema, which refuses it again with the codes its extension gives. The tests below
//! hold async-graphql to that shape.

use std::future::Future;

use async_graphql::parser::types::ExecutableDocument;

use crate::CarematchSchema;
use crate::limits::error_code;
use crate::metrics::OperationSlot;
use crate::parsed::ParsedDocument;

/// Executions by schema: `plain` (a checked query, no extensions), `guarded`, and
/// `guarded_again` (refused on the plain schema before anything ran, then run guarded).
const SCHEMA_RUNS: &str = "carematch_graphql_executions_total";

/// Which schema a request runs on, chosen before executing.
#[derive(Debug, Clone, Copy)]
pub(super) enum SchemaChoice<'a> {
    /// The schema with the request guard and tracing.
    Guarded,
    /// The schema without extensions, for this checked document.
    Plain(&'a ExecutableDocument),
}

impl<'a> SchemaChoice<'a> {
    /// Plain for a document of queries that passed the guard's parse-time checks, unless a
    /// trace is asked for; guarded for anything else, a document that did not parse included.
    pub(super) fn for_document(parsed: Option<&'a ParsedDocument>, trace_requested: bool) -> Self {
        match parsed {
            Some(parsed) if parsed.plain && !trace_requested => Self::Plain(&parsed.document),
            _ => Self::Guarded,
        }
    }
}

/// Something that executes a GraphQL request: carematch's schema, or a small one in tests.
pub(super) trait Executes: Sync {
    fn execute(
        &self,
        request: async_graphql::Request,
    ) -> impl Future<Output = async_graphql::Response> + Send;
}

impl Executes for CarematchSchema {
    fn execute(
        &self,
        request: async_graphql::Request,
    ) -> impl Future<Output = async_graphql::Response> + Send {
        CarematchSchema::execute(self, request)
    }
}

/// The two schemas of the same types.
pub(super) struct Schemas<'a, S> {
    pub(super) guarded: &'a S,
    pub(super) plain: &'a S,
}

/// Runs `request` on the chosen schema; `with_data` adds the request's data (called again for
/// a second run: data cannot be copied). A plain run refused before executing runs again
/// guarded.
pub(super) async fn run<S: Executes>(
    schemas: Schemas<'_, S>,
    choice: SchemaChoice<'_>,
    request: async_graphql::Request,
    with_data: impl Fn(async_graphql::Request) -> async_graphql::Request,
    slot: &OperationSlot,
) -> async_graphql::Response {
    let SchemaChoice::Plain(document) = choice else {
        metrics::counter!(SCHEMA_RUNS, "run" => "guarded").increment(1);
        return schemas.guarded.execute(with_data(request)).await;
    };
    let again = RequestParts::of(&request);
    // The guard records the operation when it parses; the plain schema has no guard.
    slot.record(document);
    let response = schemas.plain.execute(with_data(request)).await;
    if !refused_before_execution(&response) {
        metrics::counter!(SCHEMA_RUNS, "run" => "plain").increment(1);
        return response;
    }
    metrics::counter!(SCHEMA_RUNS, "run" => "guarded_again").increment(1);
    // Refused before anything ran (a variable of the wrong type, a complexity limit): the
    // guarded schema refuses it again, with the codes its extension gives.
    schemas
        .guarded
        .execute(with_data(again.into_request().data(slot.clone())))
        .await
}

/// Whether the plain schema refused `response`'s request before executing any field: the
/// GraphQL specification's request error (no data, errors without a path), none of whose
/// errors has a code (every error a resolver of ours raises has one).
pub(super) fn refused_before_execution(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response
            .errors
            .iter()
            .all(|error| error.path.is_empty() && error_code(error).is_none())
}

/// What a request needs to be sent again: its data cannot be copied, so it is added afresh.
struct RequestParts {
    query: String,
    operation_name: Option<String>,
    variables: async_graphql::Variables,
    extensions: async_graphql::Extensions,
}

impl RequestParts {
    fn of(request: &async_graphql::Request) -> Self {
        Self {
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: request.variables.clone(),
            extensions: request.extensions.clone(),
        }
    }

    fn into_request(self) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(self.query).variables(self.variables);
        request.operation_name = self.operation_name;
        request.extensions = self.extensions;
        request
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema};

    use super::*;
    use crate::limits::{ApiLimits, RequestGuard};
    use crate::parsed::ParsedDocuments;

    /// How many times a resolver ran.
    #[derive(Default)]
    struct Resolved(AtomicUsize);

    struct TestQuery;

    #[Object]
    impl TestQuery {
        async fn double(&self, context: &Context<'_>, n: i32) -> i32 {
            context
                .data_unchecked::<Arc<Resolved>>()
                .0
                .fetch_add(1, Ordering::SeqCst);
            n * 2
        }

        async fn broken(&self, context: &Context<'_>) -> async_graphql::Result<i32> {
            context
                .data_unchecked::<Arc<Resolved>>()
                .0
                .fetch_add(1, Ordering::SeqCst);
            Err("the resolver failed".into())
        }
    }

    type TestSchema = Schema<TestQuery, EmptyMutation, EmptySubscription>;

    impl Executes for TestSchema {
        fn execute(
            &self,
            request: async_graphql::Request,
        ) -> impl Future<Output = async_graphql::Response> + Send {
            Schema::execute(self, request)
        }
    }

    struct Fixture {
        guarded: TestSchema,
        plain: TestSchema,
        resolved: Arc<Resolved>,
        documents: ParsedDocuments,
    }

    impl Fixture {
        fn new() -> Self {
            let resolved = Arc::new(Resolved::default());
            let builder = || {
                Schema::build(TestQuery, EmptyMutation, EmptySubscription).data(resolved.clone())
            };
            Self {
                guarded: builder()
                    .extension(RequestGuard::new(ApiLimits::default(), true))
                    .finish(),
                plain: builder().finish(),
                resolved: resolved.clone(),
                documents: ParsedDocuments::new(ApiLimits::default(), true),
            }
        }

        /// Runs `query` as the HTTP layer would; the response and how many resolvers ran.
        async fn run(
            &self,
            query: &str,
            variables: serde_json::Value,
        ) -> (async_graphql::Response, usize) {
            self.resolved.0.store(0, Ordering::SeqCst);
            let parsed = self.documents.get(query);
            let choice = SchemaChoice::for_document(parsed.as_deref(), false);
            assert!(
                matches!(choice, SchemaChoice::Plain(_)),
                "{query} should run plain"
            );
            let request = async_graphql::Request::new(query)
                .variables(async_graphql::Variables::from_json(variables));
            let with_data = |request: async_graphql::Request| match &parsed {
                Some(parsed) => {
                    let mut request = request;
                    request.set_parsed_query(parsed.document.clone());
                    request
                }
                None => request,
            };
            let schemas = Schemas {
                guarded: &self.guarded,
                plain: &self.plain,
            };
            let slot = OperationSlot::new(None);
            let response = run(schemas, choice, request, with_data, &slot).await;
            (response, self.resolved.0.load(Ordering::SeqCst))
        }
    }

    fn codes(response: &async_graphql::Response) -> Vec<Option<String>> {
        response.errors.iter().map(error_code).collect()
    }

    #[tokio::test]
    async fn a_checked_query_runs_once_on_the_plain_schema() {
        let fixture = Fixture::new();
        let (response, resolved) = fixture
            .run("{ double(n: 21) }", serde_json::json!({}))
            .await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        assert_eq!(resolved, 1);
        assert!(!refused_before_execution(&response));
    }

    #[tokio::test]
    async fn a_variable_of_the_wrong_type_is_refused_again_by_the_guarded_schema_with_a_code() {
        let fixture = Fixture::new();
        let query = "query($n: Int!) { double(n: $n) }";
        let plain = fixture
            .plain
            .execute(async_graphql::Request::new(query).variables(
                async_graphql::Variables::from_json(serde_json::json!({ "n": "two" })),
            ))
            .await;
        assert!(refused_before_execution(&plain), "{plain:?}");
        let (response, resolved) = fixture.run(query, serde_json::json!({ "n": "two" })).await;
        assert_eq!(resolved, 0, "nothing may run before a refusal");
        assert_eq!(codes(&response), vec![Some("BAD_USER_INPUT".to_owned())]);
    }

    #[tokio::test]
    async fn a_field_the_schema_lacks_is_refused_again_with_a_validation_code() {
        let fixture = Fixture::new();
        let (response, resolved) = fixture.run("{ missing }", serde_json::json!({})).await;
        assert_eq!(resolved, 0);
        assert_eq!(
            codes(&response),
            vec![Some("GRAPHQL_VALIDATION_FAILED".to_owned())]
        );
    }

    #[tokio::test]
    async fn a_resolver_error_is_not_a_refusal_and_runs_only_once() {
        let fixture = Fixture::new();
        let (response, resolved) = fixture.run("{ broken }", serde_json::json!({})).await;
        assert_eq!(resolved, 1, "a field error must not run the request again");
        assert_eq!(response.errors.len(), 1);
        assert!(
            !response.errors[0].path.is_empty(),
            "a field error has a path"
        );
        assert!(!refused_before_execution(&response));
    }

    #[test]
    fn only_a_checked_query_without_a_trace_runs_plain() {
        let documents = ParsedDocuments::new(ApiLimits::default(), false);
        let query = documents.get("{ double(n: 1) }");
        assert!(matches!(
            SchemaChoice::for_document(query.as_deref(), false),
            SchemaChoice::Plain(_)
        ));
        assert!(matches!(
            SchemaChoice::for_document(query.as_deref(), true),
            SchemaChoice::Guarded
        ));
        let mutation = documents.get("mutation { double(n: 1) }");
        assert!(matches!(
            SchemaChoice::for_document(mutation.as_deref(), false),
            SchemaChoice::Guarded
        ));
        assert!(matches!(
            SchemaChoice::for_document(documents.get("{ double(").as_deref(), false),
            SchemaChoice::Guarded
        ));
    }

    #[test]
    fn a_coded_or_located_error_is_not_a_refusal_before_execution() {
        let uncoded = async_graphql::ServerError::new("Unknown field", None);
        assert!(refused_before_execution(
            &async_graphql::Response::from_errors(vec![uncoded.clone()])
        ));
        let coded = crate::limits::coded_error(carematch_domain::ErrorCode::NotFound, "not found");
        assert!(!refused_before_execution(
            &async_graphql::Response::from_errors(vec![coded])
        ));
        let mut located = uncoded;
        located.path = vec![async_graphql::PathSegment::Field("broken".into())];
        assert!(!refused_before_execution(
            &async_graphql::Response::from_errors(vec![located])
        ));
        assert!(!refused_before_execution(&async_graphql::Response::new(
            async_graphql::Value::Null
        )));
    }
}
