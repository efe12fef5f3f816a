//! The schema keeps every name of the contract agreed with the frontend teams
//! (`tests/data/schema-contract.graphql`, a copy of `shared/contract/`): every type, field,
//! argument, input field and enum value, with the same type and default. Additions are free.

use std::collections::BTreeMap;
use std::path::PathBuf;

use async_graphql_parser::parse_schema;
use async_graphql_parser::types::{InputValueDefinition, TypeKind, TypeSystemDefinition};

/// Every named element of an SDL, mapped to its type (and default, for arguments and inputs).
fn signatures(sdl: &str) -> BTreeMap<String, String> {
    let document = parse_schema(sdl).expect("SDL parses");
    let mut signatures = BTreeMap::new();
    let input_value = |value: &InputValueDefinition| {
        let default = value
            .default_value
            .as_ref()
            .map(|default| {
                // `25` and `25.0` are the same Float default: compare numbers as numbers.
                match default.node.clone().into_json().expect("default as JSON") {
                    serde_json::Value::Number(number) => format!(" = {:?}", number.as_f64()),
                    other => format!(" = {other}"),
                }
            })
            .unwrap_or_default();
        format!("{}{default}", value.ty.node)
    };
    for definition in document.definitions {
        let TypeSystemDefinition::Type(definition) = definition else {
            continue;
        };
        let definition = definition.node;
        let type_name = definition.name.node.to_string();
        signatures.insert(type_name.clone(), "type".to_owned());
        match definition.kind {
            TypeKind::Object(object) => {
                for field in object.fields {
                    let field = field.node;
                    let path = format!("{type_name}.{}", field.name.node);
                    for argument in &field.arguments {
                        signatures.insert(
                            format!("{path}({})", argument.node.name.node),
                            input_value(&argument.node),
                        );
                    }
                    signatures.insert(path, field.ty.node.to_string());
                }
            }
            TypeKind::InputObject(input) => {
                for field in input.fields {
                    signatures.insert(
                        format!("{type_name}.{}", field.node.name.node),
                        input_value(&field.node),
                    );
                }
            }
            TypeKind::Enum(enumeration) => {
                for value in enumeration.values {
                    signatures.insert(
                        format!("{type_name}.{}", value.node.value.node),
                        "value".to_owned(),
                    );
                }
            }
            _ => {}
        }
    }
    signatures
}

#[test]
fn the_schema_keeps_every_name_type_and_default_of_the_contract() {
    let contract_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/schema-contract.graphql");
    let contract = signatures(&std::fs::read_to_string(contract_path).expect("contract"));
    let ours = signatures(&carematch_api::sdl());
    assert!(
        contract.len() > 150,
        "the contract parsed into {} names",
        contract.len()
    );
    let problems: Vec<String> = contract
        .iter()
        .filter(|(name, signature)| ours.get(*name) != Some(signature))
        .map(|(name, signature)| {
            format!(
                "{name}: contract `{signature}`, ours `{:?}`",
                ours.get(name)
            )
        })
        .collect();
    assert!(
        problems.is_empty(),
        "contract names changed or missing:\n{}",
        problems.join("\n")
    );
}
