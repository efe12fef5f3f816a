//! Query limits (OWASP GraphQL cheat sheet, Apollo router practice) and the public codes (of the
//! one table, `carematch_domain::ErrorCode`) of the GraphQL pipeline's own errors: one async-graphql extension checks the query's size,
//! aliases, root fields and method at parse time and gives every parse and validation error an
//! `extensions.code`, so no error reaches a client without one. Documents of queries that pass
//! these checks run on a schema without the extension (`parsed.rs`, `http/schema_run.rs`).
//!
//! Depth, complexity and directives per field are counted by async-graphql itself (configured in
//! `schema_builder`); this module only names their errors.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{ErrorExtensionValues, ServerError, ServerResult, ValidationResult, Variables};
use carematch_domain::{ErrorCode, HasErrorCode};

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
    /// How long a POST body may take to arrive once the request's head is read.
    pub body_read_timeout: Duration,
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
            body_read_timeout: Duration::from_secs(10),
        }
    }
}

/// Selections a document may expand to, fragments expanded where they are spread: far above
/// any real query (a full page of 50 matches selects about 2,500), far below what would keep
/// async-graphql's walks busy.
pub const MAX_EXPANDED_SELECTIONS: usize = 20_000;

/// A request refused by one of the guard's own checks, before async-graphql sees it. Each
/// says what to change, and its code (of the one table) says which limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("the query is longer than {max_query_bytes} bytes")]
    QueryTooLarge { max_query_bytes: usize },
    /// Brackets of any kind nested past [`MAX_NESTING`] in the text (see [`check_nesting`]).
    #[error(
        "the query nests selections, arguments, lists or input objects more than {} levels deep",
        MAX_NESTING
    )]
    NestedTooDeep,
    /// A link or an image tag must not be able to write.
    #[error("mutations are accepted only over POST")]
    MutationOverGet,
    #[error("the fragment `{0}` spreads itself")]
    FragmentCycle(String),
    #[error("fragments are spread more than {} levels deep", MAX_NESTING)]
    FragmentsTooDeep,
    /// More than [`MAX_EXPANDED_SELECTIONS`] with fragments expanded where they are spread.
    #[error("the query's fragments expand to too many fields")]
    FragmentsExpandTooFar,
    #[error("an operation may select at most {max_root_fields} root fields, `__typename` included")]
    TooManyRootFields { max_root_fields: usize },
    #[error("introspection is disabled on this server")]
    IntrospectionDisabled,
    #[error("a query may use at most {max_aliases} aliases")]
    TooManyAliases { max_aliases: usize },
}

impl HasErrorCode for LimitError {
    fn code(&self) -> ErrorCode {
        match self {
            LimitError::QueryTooLarge { .. } => ErrorCode::QueryTooLarge,
            LimitError::NestedTooDeep | LimitError::FragmentsTooDeep => ErrorCode::QueryTooDeep,
            LimitError::MutationOverGet => ErrorCode::MethodNotAllowed,
            LimitError::FragmentCycle(_) | LimitError::IntrospectionDisabled => {
                ErrorCode::GraphqlValidationFailed
            }
            LimitError::FragmentsExpandTooFar => ErrorCode::QueryTooComplex,
            LimitError::TooManyRootFields { .. } => ErrorCode::TooManyRootFields,
            LimitError::TooManyAliases { .. } => ErrorCode::TooManyAliases,
        }
    }
}

impl From<LimitError> for ServerError {
    fn from(error: LimitError) -> Self {
        coded_error(error.code(), error.to_string())
    }
}

/// A pipeline error with its public code.
pub fn coded_error(code: ErrorCode, message: impl Into<String>) -> ServerError {
    let mut error = ServerError::new(message, None);
    set_code(&mut error, code);
    error
}

/// A pipeline error with its public code, located in the query.
pub fn coded_error_at(
    code: ErrorCode,
    message: impl Into<String>,
    pos: async_graphql::Pos,
) -> ServerError {
    let mut error = ServerError::new(message, Some(pos));
    set_code(&mut error, code);
    error
}

fn set_code(error: &mut ServerError, code: ErrorCode) {
    let mut extensions = error.extensions.take().unwrap_or_default();
    extensions.set("code", code.as_str());
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
            return Err(LimitError::QueryTooLarge {
                max_query_bytes: limits.max_query_bytes,
            }
            .into());
        }
        check_nesting(query)?;
        let document = next
            .run(context, query, variables)
            .await
            .map_err(code_parse_error)?;
        if let Some(slot) = context.data_opt::<crate::metrics::OperationSlot>() {
            slot.record(&document);
        }
        check_method(&document, context.data_opt::<ArrivedByGet>())?;
        check_document(&document, limits, self.introspection)?;
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
        set_code(&mut error, ErrorCode::QueryTooDeep);
    } else if error.message.starts_with("The number of directives") {
        set_code(&mut error, ErrorCode::TooManyDirectives);
    } else {
        error.message = "syntax error: the document is not valid GraphQL".into();
        set_code(&mut error, ErrorCode::GraphqlParseFailed);
    }
    error
}

fn code_validation_error(mut error: ServerError, limits: &ApiLimits) -> ServerError {
    let code = if error.message == "Query is too complex." {
        error.message = format!(
            "the query is too complex: its cost is above {} (ask for fewer fields or a smaller `first`)",
            limits.max_complexity
        );
        ErrorCode::QueryTooComplex
    } else if error.message == "Query is nested too deep." {
        error.message = format!(
            "the query is nested deeper than {} levels",
            limits.max_depth
        );
        ErrorCode::QueryTooDeep
    } else if error.message.starts_with("Invalid value for argument")
        || error.message.starts_with("Variable \"") && error.message.contains("value")
    {
        // Variable coercion: Apollo answers BAD_USER_INPUT for a value of the wrong type.
        ErrorCode::BadUserInput
    } else {
        ErrorCode::GraphqlValidationFailed
    };
    set_code(&mut error, code);
    error
}

/// Deepest nesting of `{`, `[` and `(` in a document's text: selection sets, argument and
/// variable lists, list and input-object values, list types. async-graphql's parser bounds
/// selection sets only; a list literal, an object literal, a variable's default or an unknown
/// directive's argument nested about 1,600 deep parses, and then the recursive walks over it
/// (validation, cloning, dropping) overflow a runtime thread's stack and abort the process.
/// The standard introspection query nests 10 deep and the default query depth allows 15
/// selection levels, so 64 leaves room for any real query.
pub const MAX_NESTING: usize = 64;

/// Refuses a document nested deeper than [`MAX_NESTING`] before it is parsed, so no deep
/// structure is ever built. It reads the text as GraphQL's lexer does (strings, block strings,
/// comments), so a bracket inside a string does not count and none can hide from it.
pub fn check_nesting(query: &str) -> Result<(), LimitError> {
    let bytes = query.as_bytes();
    let mut depth = 0_usize;
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'#' => {
                while index < bytes.len() && !matches!(bytes[index], b'\n' | b'\r') {
                    index += 1;
                }
            }
            b'"' if bytes[index..].starts_with(b"\"\"\"") => {
                index += 3;
                while index < bytes.len() && !bytes[index..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped triple quote inside a block string.
                    index += if bytes[index..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                index += 2;
            }
            b'"' => {
                index += 1;
                while index < bytes.len() && !matches!(bytes[index], b'"' | b'\n' | b'\r') {
                    index += if bytes[index] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(LimitError::NestedTooDeep);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        index += 1;
    }
    Ok(())
}

/// Refuses a mutation that came by GET: a link or an image tag must not be able to write.
pub(crate) fn check_method(
    document: &ExecutableDocument,
    arrived_by_get: Option<&ArrivedByGet>,
) -> Result<(), LimitError> {
    let Some(get) = arrived_by_get else {
        return Ok(());
    };
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
        return Err(LimitError::MutationOverGet);
    }
    Ok(())
}

/// The parse-time limits on a parsed document: fragment cycles, fragments nested too deep,
/// root fields, introspection, aliases and the expanded size. It expands each fragment once
/// (memoized), so its cost follows the document's length however the fragments multiply;
/// and it refuses what async-graphql's own walks would expand without bound (they follow every
/// spread anew: 24 levels of fragments spreading the one below twice are 2^24 visits), so
/// those walks only ever see a document that expands to at most [`MAX_EXPANDED_SELECTIONS`].
pub(crate) fn check_document(
    document: &ExecutableDocument,
    limits: &ApiLimits,
    introspection: bool,
) -> ServerResult<()> {
    check_expanded_document(document, limits, introspection)?;
    crate::variables::check_usages(document, &crate::variables::CAREMATCH_TYPES)
}

/// The limits of [`check_document`] that fragments expanded where they are spread decide.
fn check_expanded_document(
    document: &ExecutableDocument,
    limits: &ApiLimits,
    introspection: bool,
) -> Result<(), LimitError> {
    let mut expander = Expander {
        document,
        expanded: HashMap::new(),
        in_progress: Vec::new(),
        cycle: None,
        too_deep: false,
    };
    let mut whole = Expansion::default();
    let mut most_root_fields = 0;
    for (_, operation) in document.operations.iter() {
        let expansion = expander.selection_set(&operation.node.selection_set.node, 0);
        most_root_fields = most_root_fields.max(expansion.fields);
        whole.add(expansion);
    }
    if let Some(name) = expander.cycle {
        return Err(LimitError::FragmentCycle(name.to_owned()));
    }
    if expander.too_deep {
        return Err(LimitError::FragmentsTooDeep);
    }
    if whole.selections > MAX_EXPANDED_SELECTIONS {
        return Err(LimitError::FragmentsExpandTooFar);
    }
    if most_root_fields > limits.max_root_fields {
        return Err(LimitError::TooManyRootFields {
            max_root_fields: limits.max_root_fields,
        });
    }
    if !introspection && whole.introspection_fields > 0 {
        return Err(LimitError::IntrospectionDisabled);
    }
    if whole.aliases > limits.max_aliases {
        return Err(LimitError::TooManyAliases {
            max_aliases: limits.max_aliases,
        });
    }
    Ok(())
}

/// What a selection set adds up to with its fragments expanded where they are spread, so a
/// fragment of aliases spread ten times counts ten times. Sums saturate: a document whose
/// fragments multiply past `usize` is refused all the same.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Expansion {
    /// Fields, spreads and inline fragments at every level.
    selections: usize,
    /// Aliased fields at every level.
    aliases: usize,
    /// Fields at this set's own level (through inline fragments and spreads): for the root
    /// field count.
    fields: usize,
    /// `__schema` and `__type` at this set's own level.
    introspection_fields: usize,
}

impl Expansion {
    fn add(&mut self, other: Expansion) {
        self.selections = self.selections.saturating_add(other.selections);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.fields = self.fields.saturating_add(other.fields);
        self.introspection_fields = self
            .introspection_fields
            .saturating_add(other.introspection_fields);
    }
}

struct Expander<'a> {
    document: &'a ExecutableDocument,
    /// Every fragment expanded so far: each is walked once, whatever spreads it.
    expanded: HashMap<&'a str, Expansion>,
    /// The fragments being expanded, to find cycles (which validation would refuse, but
    /// async-graphql's depth walk runs before validation).
    in_progress: Vec<&'a str>,
    cycle: Option<&'a str>,
    /// Selections and spreads nested past [`MAX_NESTING`]: the walk stops there.
    too_deep: bool,
}

impl<'a> Expander<'a> {
    fn selection_set(&mut self, selection_set: &'a SelectionSet, depth: usize) -> Expansion {
        let mut total = Expansion::default();
        if depth > MAX_NESTING {
            self.too_deep = true;
            return total;
        }
        for item in &selection_set.items {
            total.selections = total.selections.saturating_add(1);
            match &item.node {
                Selection::Field(field) => {
                    total.fields += 1;
                    if field.node.alias.is_some() {
                        total.aliases += 1;
                    }
                    if matches!(field.node.name.node.as_str(), "__schema" | "__type") {
                        total.introspection_fields += 1;
                    }
                    let inner = self.selection_set(&field.node.selection_set.node, depth + 1);
                    total.selections = total.selections.saturating_add(inner.selections);
                    total.aliases = total.aliases.saturating_add(inner.aliases);
                }
                Selection::InlineFragment(fragment) => {
                    total.add(self.selection_set(&fragment.node.selection_set.node, depth + 1));
                }
                Selection::FragmentSpread(spread) => {
                    total.add(self.fragment(spread.node.fragment_name.node.as_str(), depth + 1));
                }
            }
        }
        total
    }

    fn fragment(&mut self, name: &'a str, depth: usize) -> Expansion {
        if let Some(expansion) = self.expanded.get(name) {
            return *expansion;
        }
        if self.in_progress.contains(&name) {
            self.cycle.get_or_insert(name);
            return Expansion::default();
        }
        // An unknown fragment is left to validation.
        let Some((name, definition)) = self.document.fragments.get_key_value(name) else {
            return Expansion::default();
        };
        let name = name.as_str();
        self.in_progress.push(name);
        let expansion = self.selection_set(&definition.node.selection_set.node, depth);
        self.in_progress.pop();
        self.expanded.insert(name, expansion);
        expansion
    }
}

/// The errors async-graphql raises while executing, without a code, that are the client's
/// mistake, by the start of their message: never internal.
const ASYNC_GRAPHQL_CLIENT_ERRORS: &[(&str, ErrorCode)] = &[
    (
        "Unknown operation named",
        ErrorCode::OperationResolutionFailure,
    ),
    (
        "Operation name required",
        ErrorCode::OperationResolutionFailure,
    ),
    // An argument or variable value of the wrong type.
    ("Invalid value for argument", ErrorCode::BadUserInput),
    ("Failed to parse", ErrorCode::BadUserInput),
    ("Expected input type", ErrorCode::BadUserInput),
    // A variable declared and used but not sent (checked before execution too).
    ("Variable ", ErrorCode::BadUserInput),
    // `_entities`: a representation no entity resolver takes (unknown type, no key field),
    // or one that is not an object with a `__typename` string.
    ("Entity not found.", ErrorCode::BadUserInput),
    (
        "\"__typename\" must be an existing string",
        ErrorCode::BadUserInput,
    ),
];

/// The words of an error message before anything it quotes or numbers (a name, a value, a
/// position), at most 60 bytes: what kind of error it is, safe to log.
fn message_opening(message: &str) -> &str {
    let end = message
        .find(|character: char| {
            matches!(character, '"' | '\'' | '`' | ':' | '$' | '{' | '[' | '(')
                || character.is_ascii_digit()
                || !character.is_ascii()
        })
        .unwrap_or(message.len())
        .min(60);
    // `end` is at an ASCII character or at most 60 bytes of ASCII in.
    message.get(..end).unwrap_or_default().trim_end()
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
        if let Some((_, code)) = ASYNC_GRAPHQL_CLIENT_ERRORS
            .iter()
            .find(|(opening, _)| message.starts_with(opening))
        {
            set_code(error, *code);
        } else {
            // Only the message's opening words: async-graphql's messages quote the values they
            // are about, and a value may be a variable holding health data.
            tracing::error!(
                request_id,
                error_kind = message_opening(&error.message),
                "internal error without a code"
            );
            error.message = format!("internal error (request id {request_id})");
            set_code(error, ErrorCode::InternalServerError);
            if let Some(extensions) = error.extensions.as_mut() {
                extensions.set("requestId", request_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nesting_refused(query: &str) -> bool {
        check_nesting(query).is_err()
    }

    #[test]
    fn nesting_counts_brackets_of_every_kind_outside_strings_and_comments() {
        let at_limit = format!("{}{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
        assert!(!nesting_refused(&at_limit));
        let past_limit = format!("{{{at_limit}}}");
        assert!(nesting_refused(&past_limit));
        // Closing brackets bring the depth down: many shallow lists are fine.
        assert!(!nesting_refused(&"[[1]] ".repeat(10_000)));
        let mixed = "{ ( [ ".repeat(MAX_NESTING / 3 + 1);
        assert!(nesting_refused(&mixed));
        let deep = "[".repeat(MAX_NESTING + 1);
        for hidden in [
            format!("\"{deep}\""),
            format!("\"\\\"{deep}\""),
            format!("\"\"\"{deep}\"\"\""),
            format!("\"\"\" \\\"\"\" {deep} \"\"\""),
            format!("# {deep}\n"),
        ] {
            assert!(!nesting_refused(&hidden), "{hidden}");
        }
        // A string ends at its closing quote or at the end of its line.
        assert!(nesting_refused(&format!("\"a\" {deep}")));
        assert!(nesting_refused(&format!("\"a\n{deep}")));
        assert!(nesting_refused(&format!("\"\"\"a\"\"\"{deep}")));
        assert!(nesting_refused(&format!("# a\r{deep}")));
        assert!(nesting_refused(&format!("\"\" {deep}")));
    }

    fn check(query: &str) -> ServerResult<()> {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        check_document(&document, &ApiLimits::default(), false)
    }

    fn code(result: ServerResult<()>) -> Option<String> {
        result.err().as_ref().and_then(error_code)
    }

    #[test]
    fn fragments_count_once_per_spread_each_expanded_once() {
        // Two spreads of a fragment of 16 aliases: 32, past the 30 allowed.
        let aliases: String = (0..16).map(|n| format!("a{n}: b ")).collect();
        let query = format!("{{ x {{ ...F ...F }} }} fragment F on X {{ {aliases} }}");
        assert_eq!(
            code(check(&query)).as_deref(),
            Some(ErrorCode::TooManyAliases.as_str())
        );
        let query = format!("{{ x {{ ...F }} }} fragment F on X {{ {aliases} }}");
        assert_eq!(code(check(&query)), None);
        // Root fields through a fragment and an inline fragment.
        let query = "{ ...R ... { f5 f6 f7 f8 } } fragment R on Query { f1 f2 f3 f4 ...S } fragment S on Query { f9 f10 f11 }";
        assert_eq!(
            code(check(query)).as_deref(),
            Some(ErrorCode::TooManyRootFields.as_str())
        );
        // Introspection, hidden in a fragment.
        let query = "{ ...I } fragment I on Query { __schema { types { name } } }";
        assert_eq!(
            code(check(query)).as_deref(),
            Some(ErrorCode::GraphqlValidationFailed.as_str())
        );
    }

    #[test]
    fn fragments_that_multiply_or_cycle_are_refused() {
        // 2^60 spreads: only a walk that expands each fragment once ends.
        let mut query = "{ ...F0 }".to_owned();
        for level in 0..60 {
            query.push_str(&format!(
                " fragment F{level} on Query {{ ...F{0} ...F{0} }}",
                level + 1
            ));
        }
        query.push_str(" fragment F60 on Query { __typename }");
        assert_eq!(
            code(check(&query)).as_deref(),
            Some(ErrorCode::QueryTooComplex.as_str())
        );
        let cycle = "{ ...A } fragment A on Query { x { ...B } } fragment B on X { y { ...A } }";
        assert_eq!(
            code(check(cycle)).as_deref(),
            Some(ErrorCode::GraphqlValidationFailed.as_str())
        );
        // A chain of fragments deeper than the nesting limit.
        let mut chain = "{ ...C0 }".to_owned();
        for level in 0..=MAX_NESTING {
            chain.push_str(&format!(
                " fragment C{level} on Query {{ ...C{} }}",
                level + 1
            ));
        }
        chain.push_str(&format!(" fragment C{} on Query {{ a }}", MAX_NESTING + 1));
        assert_eq!(
            code(check(&chain)).as_deref(),
            Some(ErrorCode::QueryTooDeep.as_str())
        );
    }

    #[test]
    fn each_limit_error_answers_its_code_and_message() {
        let cases = [
            (
                LimitError::QueryTooLarge {
                    max_query_bytes: 16,
                },
                "QUERY_TOO_LARGE",
                "the query is longer than 16 bytes",
            ),
            (
                LimitError::NestedTooDeep,
                "QUERY_TOO_DEEP",
                "the query nests selections, arguments, lists or input objects more than 64 \
                 levels deep",
            ),
            (
                LimitError::MutationOverGet,
                "METHOD_NOT_ALLOWED",
                "mutations are accepted only over POST",
            ),
            (
                LimitError::FragmentCycle("A".into()),
                "GRAPHQL_VALIDATION_FAILED",
                "the fragment `A` spreads itself",
            ),
            (
                LimitError::FragmentsTooDeep,
                "QUERY_TOO_DEEP",
                "fragments are spread more than 64 levels deep",
            ),
            (
                LimitError::FragmentsExpandTooFar,
                "QUERY_TOO_COMPLEX",
                "the query's fragments expand to too many fields",
            ),
            (
                LimitError::TooManyRootFields {
                    max_root_fields: 10,
                },
                "TOO_MANY_ROOT_FIELDS",
                "an operation may select at most 10 root fields, `__typename` included",
            ),
            (
                LimitError::IntrospectionDisabled,
                "GRAPHQL_VALIDATION_FAILED",
                "introspection is disabled on this server",
            ),
            (
                LimitError::TooManyAliases { max_aliases: 30 },
                "TOO_MANY_ALIASES",
                "a query may use at most 30 aliases",
            ),
        ];
        for (error, code, message) in cases {
            assert_eq!(error.code(), code);
            let error = ServerError::from(error);
            assert_eq!(error_code(&error).as_deref(), Some(code));
            assert_eq!(error.message, message);
        }
    }

    #[test]
    fn a_mutation_is_refused_over_get_only() {
        let document =
            async_graphql::parser::parse_query("mutation M { a } query Q { b }").expect("parses");
        let get = |name: Option<&str>| ArrivedByGet {
            operation_name: name.map(str::to_owned),
        };
        assert_eq!(
            check_method(&document, Some(&get(Some("M")))),
            Err(LimitError::MutationOverGet)
        );
        assert_eq!(check_method(&document, Some(&get(Some("Q")))), Ok(()));
        assert_eq!(check_method(&document, None), Ok(()));
    }

    #[test]
    fn a_logged_error_keeps_only_the_words_before_what_it_quotes() {
        assert_eq!(
            message_opening(r#"Failed to parse "MatchInput": {"text": "secret"}"#),
            "Failed to parse"
        );
        assert_eq!(
            message_opening("Invalid value for argument \"input.latitude\", expected type"),
            "Invalid value for argument"
        );
        assert_eq!(message_opening("plain words only"), "plain words only");
        assert_eq!(message_opening("é secret"), "");
        assert!(message_opening(&"word ".repeat(100)).len() <= 60);
        assert_eq!(message_opening("value 97219 given"), "value");
    }
}
