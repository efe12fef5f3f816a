//! Variables checked against the places they are used, before anything runs.
//!
//! The GraphQL specification's rule "All Variable Usages Are Allowed" (5.8.5): a variable
//! declared `String!` cannot be passed to `input: MatchInput!`, nor a `Boolean` to
//! `symptoms: [Symptom!]!`. async-graphql 7.2 has the rule, but its visitor chain never passes
//! it the usages (`VisitorCons` does not forward `enter_input_value`), so such a query ran and
//! failed inside the resolver as an internal error. The rule is applied here instead, on the
//! document (once per document text, see `parsed`), from the schema's own SDL.
//!
//! Also per request: a non-null variable without a default must be sent (the specification's
//! CoerceVariableValues); async-graphql only notices while resolving the field that uses it.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, Selection, SelectionSet, Type, TypeKind,
    TypeSystemDefinition, VariableDefinition,
};
use async_graphql::{Name, Pos, Positioned, ServerError, Variables};
use async_graphql_value::{ConstValue, Value};
use carematch_domain::ErrorCode;

use crate::limits::coded_error_at;

/// A place a value goes: its type, and whether it has a default of its own (which lets a
/// nullable variable fill a non-null place).
#[derive(Debug, Clone)]
struct Place {
    ty: Type,
    has_default: bool,
}

/// What the rule needs of the schema: the arguments of every field and the fields of every
/// input object.
#[derive(Debug, Default)]
pub(crate) struct SchemaTypes {
    /// Object and interface types: field name → its arguments and the type it returns.
    fields: HashMap<String, HashMap<String, FieldTypes>>,
    /// Input objects: field name → its place.
    inputs: HashMap<String, HashMap<String, Place>>,
}

#[derive(Debug, Default)]
struct FieldTypes {
    arguments: HashMap<String, Place>,
    /// The named type the field returns (lists and non-null removed).
    returns: String,
}

/// The types of carematch's schema, read once from its SDL (it depends on the code only).
pub(crate) static CAREMATCH_TYPES: LazyLock<SchemaTypes> =
    LazyLock::new(|| SchemaTypes::from_sdl(&crate::graphql::full_sdl()));

impl SchemaTypes {
    pub(crate) fn from_sdl(sdl: &str) -> Self {
        let mut types = SchemaTypes::default();
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else {
            return types;
        };
        let place = |value: &async_graphql::parser::types::InputValueDefinition| Place {
            ty: value.ty.node.clone(),
            has_default: value.default_value.is_some(),
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let name = definition.node.name.node.to_string();
            let fields = match &definition.node.kind {
                TypeKind::Object(object) => &object.fields,
                TypeKind::Interface(interface) => &interface.fields,
                TypeKind::InputObject(input) => {
                    let fields = input
                        .fields
                        .iter()
                        .map(|field| (field.node.name.node.to_string(), place(&field.node)))
                        .collect();
                    types.inputs.insert(name, fields);
                    continue;
                }
                _ => continue,
            };
            let fields: HashMap<String, FieldTypes> = fields
                .iter()
                .map(|field| {
                    let arguments = field
                        .node
                        .arguments
                        .iter()
                        .map(|argument| {
                            (argument.node.name.node.to_string(), place(&argument.node))
                        })
                        .collect();
                    let returns = named_type(&field.node.ty.node).to_owned();
                    (
                        field.node.name.node.to_string(),
                        FieldTypes { arguments, returns },
                    )
                })
                .collect();
            types.fields.entry(name).or_default().extend(fields);
        }
        // Introspection's own field with an argument (the others take none that matter).
        if let Some(query) = types.fields.get_mut("Query")
            && let Some(name) = Type::new("String!")
        {
            query.insert(
                "__type".into(),
                FieldTypes {
                    arguments: HashMap::from([(
                        "name".into(),
                        Place {
                            ty: name,
                            has_default: false,
                        },
                    )]),
                    returns: "__Type".into(),
                },
            );
        }
        types
    }
}

fn named_type(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(item) => named_type(item),
    }
}

/// A variable where a value goes.
struct Usage<'a> {
    variable: &'a str,
    place: Place,
    pos: Pos,
}

/// The usages and fragment spreads of one operation or fragment, outside its fragments.
#[derive(Default)]
struct Scope<'a> {
    usages: Vec<Usage<'a>>,
    spreads: Vec<&'a str>,
}

/// Every variable used where its declared type is not allowed, as validation errors.
pub(crate) fn check_usages(
    document: &ExecutableDocument,
    types: &SchemaTypes,
) -> Result<(), ServerError> {
    let mut fragments: HashMap<&str, Scope<'_>> = HashMap::new();
    for (name, fragment) in &document.fragments {
        let mut scope = Scope::default();
        let on = fragment.node.type_condition.node.on.node.as_str();
        collect(
            &fragment.node.selection_set.node,
            Some(on),
            types,
            &mut scope,
        );
        fragments.insert(name.as_str(), scope);
    }
    for (_, operation) in document.operations.iter() {
        let root = match operation.node.ty {
            async_graphql::parser::types::OperationType::Query => "Query",
            async_graphql::parser::types::OperationType::Mutation => "Mutation",
            async_graphql::parser::types::OperationType::Subscription => "Subscription",
        };
        let mut own = Scope::default();
        collect(
            &operation.node.selection_set.node,
            Some(root),
            types,
            &mut own,
        );
        // The operation's usages and those of every fragment it reaches, each fragment once.
        let mut reached: HashSet<&str> = HashSet::new();
        let mut to_visit: Vec<&str> = own.spreads.clone();
        let mut usages: Vec<&Usage<'_>> = own.usages.iter().collect();
        while let Some(name) = to_visit.pop() {
            if !reached.insert(name) {
                continue;
            }
            if let Some(scope) = fragments.get(name) {
                usages.extend(scope.usages.iter());
                to_visit.extend(scope.spreads.iter().copied());
            }
        }
        let definitions = &operation.node.variable_definitions;
        for usage in usages {
            // An undeclared variable is validation's to report.
            let Some(definition) = definitions
                .iter()
                .find(|definition| definition.node.name.node.as_str() == usage.variable)
            else {
                continue;
            };
            if !usage_allowed(&definition.node, &usage.place) {
                return Err(coded_error_at(
                    ErrorCode::GraphqlValidationFailed,
                    format!(
                        "variable `${}` of type `{}` is used where `{}` is expected",
                        usage.variable, definition.node.var_type.node, usage.place.ty
                    ),
                    usage.pos,
                ));
            }
        }
    }
    Ok(())
}

fn collect<'a>(
    selection_set: &'a SelectionSet,
    parent: Option<&str>,
    types: &SchemaTypes,
    scope: &mut Scope<'a>,
) {
    for item in &selection_set.items {
        match &item.node {
            Selection::Field(field) => {
                let field_types = parent
                    .and_then(|parent| types.fields.get(parent))
                    .and_then(|fields| fields.get(field.node.name.node.as_str()));
                for (name, value) in &field.node.arguments {
                    // An unknown argument is validation's to report.
                    if let Some(place) =
                        field_types.and_then(|field| field.arguments.get(name.node.as_str()))
                    {
                        collect_value(&value.node, place, value.pos, types, scope);
                    }
                }
                collect_directives(&field.node.directives, types, scope);
                collect(
                    &field.node.selection_set.node,
                    field_types.map(|field| field.returns.as_str()),
                    types,
                    scope,
                );
            }
            Selection::InlineFragment(fragment) => {
                collect_directives(&fragment.node.directives, types, scope);
                let on = fragment
                    .node
                    .type_condition
                    .as_ref()
                    .map(|condition| condition.node.on.node.as_str())
                    .or(parent);
                collect(&fragment.node.selection_set.node, on, types, scope);
            }
            Selection::FragmentSpread(spread) => {
                collect_directives(&spread.node.directives, types, scope);
                scope.spreads.push(spread.node.fragment_name.node.as_str());
            }
        }
    }
}

/// `@skip(if:)` and `@include(if:)` take a `Boolean!`; other directives are validation's.
fn collect_directives<'a>(
    directives: &'a [Positioned<async_graphql::parser::types::Directive>],
    types: &SchemaTypes,
    scope: &mut Scope<'a>,
) {
    for directive in directives {
        if !matches!(directive.node.name.node.as_str(), "skip" | "include") {
            continue;
        }
        for (name, value) in &directive.node.arguments {
            if name.node.as_str() == "if"
                && let Some(ty) = Type::new("Boolean!")
            {
                let place = Place {
                    ty,
                    has_default: false,
                };
                collect_value(&value.node, &place, value.pos, types, scope);
            }
        }
    }
}

fn collect_value<'a>(
    value: &'a Value,
    place: &Place,
    pos: Pos,
    types: &SchemaTypes,
    scope: &mut Scope<'a>,
) {
    match value {
        Value::Variable(name) => scope.usages.push(Usage {
            variable: name.as_str(),
            place: place.clone(),
            pos,
        }),
        Value::List(items) => {
            if let BaseType::List(item_type) = &place.ty.base {
                let item_place = Place {
                    ty: (**item_type).clone(),
                    has_default: false,
                };
                for item in items {
                    collect_value(item, &item_place, pos, types, scope);
                }
            }
        }
        Value::Object(fields) => {
            if let BaseType::Named(input) = &place.ty.base
                && let Some(input_fields) = types.inputs.get(input.as_str())
            {
                for (name, field_value) in fields {
                    if let Some(field_place) = input_fields.get(name.as_str()) {
                        collect_value(field_value, field_place, pos, types, scope);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The specification's IsVariableUsageAllowed.
fn usage_allowed(definition: &VariableDefinition, place: &Place) -> bool {
    let variable = &definition.var_type.node;
    if !place.ty.nullable && variable.nullable {
        let non_null_default = definition
            .default_value
            .as_ref()
            .is_some_and(|default| default.node != ConstValue::Null);
        if !non_null_default && !place.has_default {
            return false;
        }
        return types_compatible(variable, &nullable(&place.ty));
    }
    types_compatible(variable, &place.ty)
}

/// The specification's AreTypesCompatible.
fn types_compatible(variable: &Type, place: &Type) -> bool {
    if !place.nullable {
        return !variable.nullable && types_compatible(&nullable(variable), &nullable(place));
    }
    if !variable.nullable {
        return types_compatible(&nullable(variable), place);
    }
    match (&variable.base, &place.base) {
        (BaseType::List(variable_item), BaseType::List(place_item)) => {
            types_compatible(variable_item, place_item)
        }
        (BaseType::Named(variable_name), BaseType::Named(place_name)) => {
            variable_name == place_name
        }
        _ => false,
    }
}

fn nullable(ty: &Type) -> Type {
    Type {
        base: ty.base.clone(),
        nullable: true,
    }
}

/// A non-null variable without a default that the request does not send (or sends as null)
/// is the client's mistake, answered before anything runs; async-graphql would only notice
/// while resolving the field that uses it, and call it an internal error.
pub(crate) fn check_required(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Result<(), ServerError> {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .iter()
            .find(|(candidate, _)| candidate.as_str() == name)
            .map(|(_, operation)| operation),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        // No operation to run: operation resolution says so.
        _ => None,
    };
    let Some(operation) = operation else {
        return Ok(());
    };
    for definition in &operation.node.variable_definitions {
        let definition = &definition.node;
        let required = !definition.var_type.node.nullable && definition.default_value.is_none();
        let name: &Name = &definition.name.node;
        let sent = variables
            .get(name)
            .is_some_and(|value| *value != ConstValue::Null);
        if required && !sent {
            return Err(coded_error_at(
                ErrorCode::BadUserInput,
                format!(
                    "variable `${name}` of type `{}` must be given a value",
                    definition.var_type.node
                ),
                definition.name.pos,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() -> SchemaTypes {
        SchemaTypes::from_sdl(
            "type Query { care(input: MatchInput!, first: Int = 10, tags: [String!]): Care }
             type Care { items(symptoms: [Symptom!]!): [String] }
             input MatchInput { location: Location!, radius: Float = 25.0, symptoms: [Symptom!] }
             input Location { postalCode: String }
             enum Symptom { STRESS }",
        )
    }

    fn usages_allowed(query: &str) -> bool {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        check_usages(&document, &types()).is_ok()
    }

    #[test]
    fn a_variable_must_be_declared_with_a_type_its_place_accepts() {
        for (query, allowed) in [
            (
                "query($i: MatchInput!) { care(input: $i) { __typename } }",
                true,
            ),
            (
                "query($i: String!) { care(input: $i) { __typename } }",
                false,
            ),
            // Nullable into non-null: only with a default, the variable's or the place's.
            (
                "query($i: MatchInput) { care(input: $i) { __typename } }",
                false,
            ),
            (
                "query($f: Int) { care(input: {location: {}}, first: $f) { __typename } }",
                true,
            ),
            (
                "query($r: Float) { care(input: {location: {}, radius: $r}) { __typename } }",
                true,
            ),
            (
                "query($l: Location) { care(input: {location: $l}) { __typename } }",
                false,
            ),
            (
                "query($l: Location = {}) { care(input: {location: $l}) { __typename } }",
                true,
            ),
            // Lists, and items inside list literals.
            (
                "query($s: Boolean) { care(input: {location: {}}) { items(symptoms: $s) } }",
                false,
            ),
            (
                "query($s: [Symptom!]!) { care(input: {location: {}}) { items(symptoms: $s) } }",
                true,
            ),
            (
                "query($s: [Symptom]!) { care(input: {location: {}}) { items(symptoms: $s) } }",
                false,
            ),
            (
                "query($s: Symptom!) { care(input: {location: {}}) { items(symptoms: [$s]) } }",
                true,
            ),
            (
                "query($s: String!) { care(input: {location: {}}) { items(symptoms: [$s]) } }",
                false,
            ),
            (
                "query($t: [String!]!) { care(input: {location: {}}, tags: $t) { __typename } }",
                true,
            ),
            // Directives and fragments.
            (
                "query($b: String) { care(input: {location: {}}) @skip(if: $b) { __typename } }",
                false,
            ),
            (
                "query($b: Boolean!) { care(input: {location: {}}) @skip(if: $b) { __typename } }",
                true,
            ),
            (
                "query($i: String!) { ...F } fragment F on Query { care(input: $i) { __typename } }",
                false,
            ),
            (
                "query($i: MatchInput!) { ...F } fragment F on Query { ... on Query { care(input: $i) { __typename } } }",
                true,
            ),
            // Unknown places are validation's to report, not this rule's.
            ("query($i: String!) { nothing(input: $i) }", true),
        ] {
            assert_eq!(usages_allowed(query), allowed, "{query}");
        }
    }

    #[test]
    fn a_required_variable_must_be_sent() {
        let document = async_graphql::parser::parse_query(
            "query($i: MatchInput!, $f: Int, $d: Int! = 3) { care(input: $i, first: $f) { __typename } }",
        )
        .expect("parses");
        let variables = |json: serde_json::Value| Variables::from_json(json);
        assert!(check_required(&document, None, &variables(serde_json::json!({}))).is_err());
        assert!(
            check_required(
                &document,
                None,
                &variables(serde_json::json!({ "i": null }))
            )
            .is_err()
        );
        assert!(
            check_required(
                &document,
                None,
                &variables(serde_json::json!({ "i": { "location": {} } }))
            )
            .is_ok()
        );
    }
}
