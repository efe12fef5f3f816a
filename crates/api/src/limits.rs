//! Query limits (OWASP GraphQL cheat sheet, Apollo router practice) and the public codes of
//! the GraphQL pipeline's own errors: one async-graphql extension checks the query's size,
//! aliases, root fields and method at parse time and gives every parse and validation error an
//! `extensions.code`, so no error reaches a client without one. Documents of queries that pass
//! these checks run on a schema without the extension (`parsed.rs`, `http.rs`).
//!
//! Depth, complexity and directives per field are counted by async-graphql itself (configured in
//! `schema_builder`); this module only names their errors.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{ErrorExtensionValues, ServerError, ServerResult, ValidationResult, Variables};

/// The codes of errors raised before any resolver runs. Resolver errors use [`crate::ApiError`].
pub mod codes {
    /// The document is not GraphQL (Apollo's code).
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    /// The document does not fit the schema (Apollo's code).
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// A variable or argument value has the wrong type (Apollo's code).
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    /// The HTTP request is not a GraphQL request: bad JSON, bad query string (Apollo's code).
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    /// No operation, or several and no `operationName` (Apollo's code).
    pub const OPERATION_RESOLUTION_FAILURE: &str = "OPERATION_RESOLUTION_FAILURE";
    /// The query is nested deeper than `max_query_depth`.
    pub const QUERY_TOO_DEEP: &str = "QUERY_TOO_DEEP";
    /// The query costs more than `max_query_complexity`.
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    /// More aliases than `max_aliases`.
    pub const TOO_MANY_ALIASES: &str = "TOO_MANY_ALIASES";
    /// More root fields than `max_root_fields`.
    pub const TOO_MANY_ROOT_FIELDS: &str = "TOO_MANY_ROOT_FIELDS";
    /// More directives on one field than `max_directives_per_field`.
    pub const TOO_MANY_DIRECTIVES: &str = "TOO_MANY_DIRECTIVES";
    /// The query text is longer than `max_query_bytes`.
    pub const QUERY_TOO_LARGE: &str = "QUERY_TOO_LARGE";
    /// The request body is larger than `max_request_body_bytes` (HTTP 413).
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// A JSON array of operations was sent (HTTP 400).
    pub const BATCHING_NOT_SUPPORTED: &str = "BATCHING_NOT_SUPPORTED";
    /// The request ran longer than `request_timeout_ms`.
    pub const REQUEST_TIMEOUT: &str = "REQUEST_TIMEOUT";
    /// APQ: the hash is unknown; send the query with it (Apollo's code).
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// A mutation was sent with GET (HTTP 405).
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    /// The replica is starting (its index is loading): retry on another (HTTP 503).
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
}

/// Every limit on one request. The defaults admit any query the frontends and the router send
/// (a full `matchProviders` page of 50 costs about 2,500) and refuse what only an attacker sends.
#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Deepest selection nesting; the standard introspection query needs 13.
    pub max_depth: usize,
    /// Highest cost: one per field, list fields cost `first * child`.
    pub max_complexity: usize,
    /// Aliased fields in the document, fragments expanded where they are spread.
    pub max_aliases: usize,
    /// Fields at the root of an operation, `__typename` included.
    pub max_root_fields: usize,
    /// Directives on one field.
    pub max_directives_per_field: usize,
    /// Bytes of a POST body.
    pub max_body_bytes: usize,
    /// Bytes of the query text (POST or GET).
    pub max_query_bytes: usize,
    /// Whole-request deadline for executing an operation.
    pub request_timeout: Duration,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_complexity: 5_000,
            max_aliases: 30,
            max_root_fields: 10,
            max_directives_per_field: 5,
            max_body_bytes: 256 * 1024,
            max_query_bytes: 32 * 1024,
            request_timeout: Duration::from_secs(15),
        }
    }
}

/// How many selections the alias count may visit before giving up on a document whose
/// fragments expand exponentially (that document would fail the complexity limit anyway).
const MAX_VISITED_SELECTIONS: usize = 20_000;

/// A pipeline error with its public code.
pub fn coded_error(code: &str, message: impl Into<String>) -> ServerError {
    let mut error = ServerError::new(message, None);
    set_code(&mut error, code);
    error
}

fn set_code(error: &mut ServerError, code: &str) {
    let mut extensions = error.extensions.take().unwrap_or_default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
}

/// The code of an error, if it has one.
pub fn error_code(error: &ServerError) -> Option<String> {
    error
        .extensions
        .as_ref()
        .and_then(|extensions: &ErrorExtensionValues| extensions.get("code"))
        .map(|code| match code {
            async_graphql::Value::String(code) => code.clone(),
            other => other.to_string(),
        })
}

/// Marks a request that came by GET, where mutations are refused (a link or an image tag must
/// not be able to write). Carries the operation name to find the operation that will run.
#[derive(Debug, Clone)]
pub struct ArrivedByGet {
    pub operation_name: Option<String>,
}

/// The extension that enforces the parse-time limits and codes pipeline errors.
pub struct RequestGuard {
    limits: Arc<ApiLimits>,
    introspection: bool,
}

impl RequestGuard {
    /// `introspection`: whether `__schema` and `__type` may be selected. async-graphql answers
    /// them with a silent null when introspection is disabled; the guard says why instead.
    pub fn new(limits: ApiLimits, introspection: bool) -> Self {
        Self {
            limits: Arc::new(limits),
            introspection,
        }
    }
}

impl ExtensionFactory for RequestGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestGuardExtension {
            limits: Arc::clone(&self.limits),
            introspection: self.introspection,
        })
    }
}

struct RequestGuardExtension {
    limits: Arc<ApiLimits>,
    introspection: bool,
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestGuardExtension {
    async fn parse_query(
        &self,
        context: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let limits = &self.limits;
        if query.len() > limits.max_query_bytes {
            return Err(coded_error(
                codes::QUERY_TOO_LARGE,
                format!("the query is longer than {} bytes", limits.max_query_bytes),
            ));
        }
        let document = next
            .run(context, query, variables)
            .await
            .map_err(code_parse_error)?;
        if let Some(slot) = context.data_opt::<crate::metrics::OperationSlot>() {
            slot.record(&document);
        }
        check_document(
            &document,
            limits,
            self.introspection,
            context.data_opt::<ArrivedByGet>(),
        )?;
        Ok(document)
    }

    async fn validation(
        &self,
        context: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let limits = &self.limits;
        next.run(context).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| code_validation_error(error, limits))
                .collect()
        })
    }
}

/// Parse errors carry the parser's grammar internals and an excerpt of the query: the client
/// gets a generic message and the position instead. The recursion and directive checks that
/// async-graphql runs in the same step keep their (safe) messages under their own codes.
fn code_parse_error(mut error: ServerError) -> ServerError {
    if error.message.starts_with("The recursion depth") {
        error.message = "the query is nested too deeply".into();
        set_code(&mut error, codes::QUERY_TOO_DEEP);
    } else if error.message.starts_with("The number of directives") {
        set_code(&mut error, codes::TOO_MANY_DIRECTIVES);
    } else {
        error.message = "syntax error: the document is not valid GraphQL".into();
        set_code(&mut error, codes::GRAPHQL_PARSE_FAILED);
    }
    error
}

fn code_validation_error(mut error: ServerError, limits: &ApiLimits) -> ServerError {
    let code = if error.message == "Query is too complex." {
        error.message = format!(
            "the query is too complex: its cost is above {} (ask for fewer fields or a smaller `first`)",
            limits.max_complexity
        );
        codes::QUERY_TOO_COMPLEX
    } else if error.message == "Query is nested too deep." {
        error.message = format!(
            "the query is nested deeper than {} levels",
            limits.max_depth
        );
        codes::QUERY_TOO_DEEP
    } else if error.message.starts_with("Invalid value for argument")
        || error.message.starts_with("Variable \"") && error.message.contains("value")
    {
        // Variable coercion: Apollo answers BAD_USER_INPUT for a value of the wrong type.
        codes::BAD_USER_INPUT
    } else {
        codes::GRAPHQL_VALIDATION_FAILED
    };
    set_code(&mut error, code);
    error
}

pub(crate) fn check_document(
    document: &ExecutableDocument,
    limits: &ApiLimits,
    introspection: bool,
    arrived_by_get: Option<&ArrivedByGet>,
) -> ServerResult<()> {
    if let Some(get) = arrived_by_get {
        let operation = match (&document.operations, &get.operation_name) {
            (DocumentOperations::Single(operation), _) => Some(operation),
            (DocumentOperations::Multiple(operations), Some(name)) => operations
                .iter()
                .find(|(candidate, _)| candidate.as_str() == name)
                .map(|(_, operation)| operation),
            (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
                operations.values().next()
            }
            _ => None,
        };
        if operation.is_some_and(|operation| operation.node.ty == OperationType::Mutation) {
            return Err(coded_error(
                codes::METHOD_NOT_ALLOWED,
                "mutations are accepted only over POST",
            ));
        }
    }
    let mut counter = Counter {
        document,
        fragment_stack: Vec::new(),
        visited: 0,
        aliases: 0,
        introspection_fields: 0,
    };
    for (_, operation) in document.operations.iter() {
        let root_fields = counter.root_fields(&operation.node.selection_set.node);
        if root_fields > limits.max_root_fields {
            return Err(coded_error(
                codes::TOO_MANY_ROOT_FIELDS,
                format!(
                    "an operation may select at most {} root fields, `__typename` included",
                    limits.max_root_fields
                ),
            ));
        }
        counter.count_aliases(&operation.node.selection_set.node, limits.max_aliases);
    }
    if !introspection && counter.introspection_fields > 0 {
        return Err(coded_error(
            codes::GRAPHQL_VALIDATION_FAILED,
            "introspection is disabled on this server",
        ));
    }
    if counter.aliases > limits.max_aliases {
        return Err(coded_error(
            codes::TOO_MANY_ALIASES,
            format!("a query may use at most {} aliases", limits.max_aliases),
        ));
    }
    if counter.visited > MAX_VISITED_SELECTIONS {
        return Err(coded_error(
            codes::QUERY_TOO_COMPLEX,
            "the query's fragments expand to too many fields",
        ));
    }
    Ok(())
}

/// Counts over the document with fragments expanded where they are spread, so a fragment of
/// aliases spread ten times counts ten times. Cycles are skipped (validation rejects them).
struct Counter<'a> {
    document: &'a ExecutableDocument,
    fragment_stack: Vec<&'a str>,
    visited: usize,
    aliases: usize,
    /// `__schema` and `__type` selected at a root.
    introspection_fields: usize,
}

impl<'a> Counter<'a> {
    fn root_fields(&mut self, selection_set: &'a SelectionSet) -> usize {
        let mut fields = 0;
        for item in &selection_set.items {
            match &item.node {
                Selection::Field(field) => {
                    fields += 1;
                    if matches!(field.node.name.node.as_str(), "__schema" | "__type") {
                        self.introspection_fields += 1;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    fields += self.root_fields(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if self.fragment_stack.contains(&name) {
                        continue;
                    }
                    if let Some(definition) =
                        self.document.fragments.get(&spread.node.fragment_name.node)
                    {
                        self.fragment_stack.push(name);
                        fields += self.root_fields(&definition.node.selection_set.node);
                        self.fragment_stack.pop();
                    }
                }
            }
        }
        fields
    }

    fn count_aliases(&mut self, selection_set: &'a SelectionSet, max_aliases: usize) {
        for item in &selection_set.items {
            self.visited += 1;
            if self.aliases > max_aliases || self.visited > MAX_VISITED_SELECTIONS {
                return;
            }
            match &item.node {
                Selection::Field(field) => {
                    if field.node.alias.is_some() {
                        self.aliases += 1;
                    }
                    self.count_aliases(&field.node.selection_set.node, max_aliases);
                }
                Selection::InlineFragment(fragment) => {
                    self.count_aliases(&fragment.node.selection_set.node, max_aliases);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if self.fragment_stack.contains(&name) {
                        continue;
                    }
                    if let Some(definition) =
                        self.document.fragments.get(&spread.node.fragment_name.node)
                    {
                        self.fragment_stack.push(name);
                        self.count_aliases(&definition.node.selection_set.node, max_aliases);
                        self.fragment_stack.pop();
                    }
                }
            }
        }
    }
}

/// The last pass over a response: an error that still has no code gets one. Operation
/// resolution and argument errors keep their message; anything else is treated as internal:
/// logged with the request id, answered with a generic message.
pub fn ensure_codes(errors: &mut [ServerError], request_id: &str) {
    for error in errors {
        if error_code(error).is_some() {
            continue;
        }
        let message = error.message.as_str();
        if message.starts_with("Unknown operation named")
            || message.starts_with("Operation name required")
        {
            set_code(error, codes::OPERATION_RESOLUTION_FAILURE);
        } else if message.starts_with("Invalid value for argument")
            || message.starts_with("Failed to parse")
        {
            set_code(error, codes::BAD_USER_INPUT);
        } else {
            // The message is async-graphql's, never the request's variables.
            tracing::error!(request_id, error = %error.message, "internal error without a code");
            error.message = format!("internal error (request id {request_id})");
            set_code(error, codes::INTERNAL_SERVER_ERROR);
            if let Some(extensions) = error.extensions.as_mut() {
                extensions.set("requestId", request_id);
            }
        }
    }
}
