//! A fuzzer over the real server. It generates GraphQL requests from the published schema
//! (`carematch_api::sdl()`): valid ones, and the mistakes clients and attackers make (values of
//! the wrong type, variables declared with the wrong type or never sent, values and types
//! nested past the limits, fragments that multiply or spread themselves, unknown directives,
//! malformed `_entities` representations, random bytes in the document or the body), and sends
//! them over HTTP to an app built as production builds it. Every answer must come within a
//! bound, without a 5xx status, and every error must carry a code other than
//! `INTERNAL_SERVER_ERROR`: a client's mistake is never the server's. A panic or a stack
//! overflow in the server fails (or aborts) this test.
//!
//! The default run is short and fixed (CI): `CAREMATCH_FUZZ_CASES` (default 3,000) requests from
//! seed `CAREMATCH_FUZZ_SEED` (default 20), stopping early after `CAREMATCH_FUZZ_SECONDS`
//! (default 30). A failing request is written to `fuzz-failures/` under Cargo's target
//! temporary directory; copy it into `tests/data/fuzz-corpus/`, where
//! `every_request_of_the_crash_corpus_is_answered_as_a_client_error` replays it forever.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_graphql_parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use carematch_tests::{AppOptions, TestApp, spawn_app_with_settings};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// Far above any answer of a healthy server, far below a walk that never ends.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// Unique strings a log must never show (see `crates/cli/tests/health_data_in_logs.rs`);
/// here they are only realistic free text.
const TEXTS: &[&str] = &[
    "leaking when I sneeze",
    "97219",
    "45.51234987",
    "",
    "é\u{0}\u{7f}\u{1F600}",
    "\\\"\"\"",
    "{[(",
    "x'; DROP TABLE providers; --",
];

#[tokio::test]
async fn generated_requests_are_answered_without_a_server_error() {
    let cases = env_number("CAREMATCH_FUZZ_CASES", 3_000);
    let seed = env_number("CAREMATCH_FUZZ_SEED", 20);
    let budget = Duration::from_secs(env_number("CAREMATCH_FUZZ_SECONDS", 30));
    let app = fuzzing_app().await;
    let model = SchemaModel::from_sdl(&carematch_api::sdl());
    let mut generator = Generator::new(&model, seed);
    let started = Instant::now();
    let mut sent = 0;
    let mut answers: std::collections::BTreeMap<String, u64> = Default::default();
    for case in 0..cases {
        if started.elapsed() > budget {
            break;
        }
        let request = generator.request();
        let answer = send_and_check(&app, &request).await;
        if let Ok(answer) = &answer {
            *answers.entry(answer.clone()).or_default() += 1;
        }
        if let Err(problem) = answer {
            let kept = keep_failure(seed, case, &request);
            panic!(
                "seed {seed}, case {case}: {}\nrequest kept in {}",
                shortened(&problem),
                kept.display()
            );
        }
        sent += 1;
    }
    // Shown with `--nocapture`: how the answers spread, to judge the generator.
    eprintln!("{sent} requests in {:?}: {answers:?}", started.elapsed());
    assert!(sent >= cases.min(50), "only {sent} requests in {budget:?}");
    assert!(
        answers.get("ran").is_some_and(|ran| *ran * 4 >= sent),
        "fewer than a quarter of the requests ran: {answers:?}"
    );
    app.assert_still_serving().await;
}

#[tokio::test]
async fn every_request_of_the_crash_corpus_is_answered_as_a_client_error() {
    let app = fuzzing_app().await;
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/fuzz-corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "body")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the corpus is missing: {files:?}");
    for file in files {
        let request = FuzzRequest::Post(std::fs::read(&file).unwrap());
        if let Err(problem) = send_and_check(&app, &request).await {
            panic!("{}: {}", file.display(), shortened(&problem));
        }
    }
    app.assert_still_serving().await;
}

async fn fuzzing_app() -> TestApp {
    spawn_app_with_settings(
        AppOptions {
            seed_demo: 30,
            ..AppOptions::default()
        },
        |settings| {
            // As in production: no introspection, no suggestions.
            settings.server.introspection = false;
            settings.server.playground = false;
        },
    )
    .await
}

/// At most 2,000 characters of a problem's description.
fn shortened(text: &str) -> String {
    text.chars().take(2_000).collect()
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// One HTTP request.
#[derive(Debug, Clone)]
enum FuzzRequest {
    /// A POST body, sent as `application/json`.
    Post(Vec<u8>),
    /// A GET query string.
    Get(Vec<(String, String)>),
}

/// What was answered: `ran` (with data, errors or not) or the first error's code.
async fn send_and_check(app: &TestApp, request: &FuzzRequest) -> Result<String, String> {
    let builder = match request {
        FuzzRequest::Post(body) => app
            .client
            .post(app.graphql_url())
            .header("content-type", "application/json")
            .body(body.clone()),
        FuzzRequest::Get(pairs) => app.client.get(app.graphql_url()).query(pairs),
    };
    let started = Instant::now();
    let response = tokio::time::timeout(ANSWER_WITHIN, builder.send())
        .await
        .map_err(|_| format!("no answer within {ANSWER_WITHIN:?}"))?
        .map_err(|error| format!("the request failed (server crashed?): {error}"))?;
    let status = response.status().as_u16();
    let text = tokio::time::timeout(ANSWER_WITHIN, response.text())
        .await
        .map_err(|_| "the body did not arrive".to_owned())?
        .map_err(|error| format!("reading the body: {error}"))?;
    if started.elapsed() > ANSWER_WITHIN {
        return Err(format!("answered after {:?}", started.elapsed()));
    }
    if status >= 500 {
        return Err(format!("HTTP {status}: {text}"));
    }
    let body: Value =
        serde_json::from_str(&text).map_err(|_| format!("HTTP {status}, not JSON: {text}"))?;
    for error in body["errors"].as_array().into_iter().flatten() {
        match error["extensions"]["code"].as_str() {
            None => return Err(format!("an error without a code: {text}")),
            Some("INTERNAL_SERVER_ERROR") => return Err(format!("internal error: {text}")),
            Some(_) => {}
        }
    }
    if body.get("data").is_none() && body.get("errors").is_none() {
        return Err(format!("neither data nor errors: {text}"));
    }
    // Every root field skipped (`@skip`) is answered `{"data": null}`.
    let no_errors = body["errors"].as_array().is_none_or(Vec::is_empty);
    if body["data"].is_object() || no_errors {
        return Ok("ran".to_owned());
    }
    match body["errors"][0]["extensions"]["code"].as_str() {
        Some(code) => Ok(code.to_owned()),
        None => Err(format!("no data and no error: {text}")),
    }
}

fn keep_failure(seed: u64, case: u64, request: &FuzzRequest) -> PathBuf {
    let directory = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    let _ = std::fs::create_dir_all(&directory);
    let path = directory.join(format!("seed-{seed}-case-{case}.body"));
    let bytes = match request {
        FuzzRequest::Post(body) => body.clone(),
        // Kept as the equivalent POST body, which the corpus replays.
        FuzzRequest::Get(pairs) => {
            let get = |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.clone())
            };
            let variables = get("variables")
                .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                .unwrap_or(Value::Null);
            json!({ "query": get("query"), "variables": variables })
                .to_string()
                .into_bytes()
        }
    };
    let _ = std::fs::write(&path, bytes);
    path
}

/// The types of the published schema, as the generator needs them.
struct SchemaModel {
    /// Object and interface types: their fields.
    objects: HashMap<String, Vec<FieldModel>>,
    /// Interfaces and unions: the object types that can stand for them.
    possible_types: HashMap<String, Vec<String>>,
    inputs: HashMap<String, Vec<(String, Type)>>,
    enums: HashMap<String, Vec<String>>,
}

#[derive(Clone)]
struct FieldModel {
    name: String,
    arguments: Vec<(String, Type)>,
    ty: Type,
}

impl SchemaModel {
    fn from_sdl(sdl: &str) -> Self {
        let document = async_graphql_parser::parse_schema(sdl).expect("the SDL parses");
        let mut model = SchemaModel {
            objects: HashMap::new(),
            possible_types: HashMap::new(),
            inputs: HashMap::new(),
            enums: HashMap::new(),
        };
        let input_values = |values: &[async_graphql_parser::Positioned<
            async_graphql_parser::types::InputValueDefinition,
        >]| {
            values
                .iter()
                .map(|value| (value.node.name.node.to_string(), value.node.ty.node.clone()))
                .collect::<Vec<_>>()
        };
        let fields = |fields: &[async_graphql_parser::Positioned<
            async_graphql_parser::types::FieldDefinition,
        >]| {
            fields
                .iter()
                .map(|field| FieldModel {
                    name: field.node.name.node.to_string(),
                    arguments: input_values(&field.node.arguments),
                    ty: field.node.ty.node.clone(),
                })
                .collect::<Vec<_>>()
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let name = definition.node.name.node.to_string();
            match &definition.node.kind {
                TypeKind::Object(object) => {
                    for interface in &object.implements {
                        model
                            .possible_types
                            .entry(interface.node.to_string())
                            .or_default()
                            .push(name.clone());
                    }
                    model
                        .objects
                        .entry(name)
                        .or_default()
                        .extend(fields(&object.fields));
                }
                TypeKind::Interface(interface) => {
                    model
                        .objects
                        .entry(name)
                        .or_default()
                        .extend(fields(&interface.fields));
                }
                TypeKind::Union(union) => {
                    let members = union.members.iter().map(|member| member.node.to_string());
                    model
                        .possible_types
                        .entry(name)
                        .or_default()
                        .extend(members);
                }
                TypeKind::Enum(enumeration) => {
                    let values = enumeration
                        .values
                        .iter()
                        .map(|value| value.node.value.node.to_string());
                    model.enums.entry(name).or_default().extend(values);
                }
                TypeKind::InputObject(input) => {
                    model
                        .inputs
                        .entry(name)
                        .or_default()
                        .extend(input_values(&input.fields));
                }
                TypeKind::Scalar => {}
            }
        }
        // Federation's entry points, added to the schema at run time.
        if let Some(query) = model.objects.get_mut("Query") {
            query.push(FieldModel {
                name: "_entities".into(),
                arguments: vec![("representations".into(), Type::new("[_Any!]!").unwrap())],
                ty: Type::new("[_Entity]!").unwrap(),
            });
            query.push(FieldModel {
                name: "_service".into(),
                arguments: Vec::new(),
                ty: Type::new("_Service!").unwrap(),
            });
        }
        model.objects.insert(
            "_Service".into(),
            vec![FieldModel {
                name: "sdl".into(),
                arguments: Vec::new(),
                ty: Type::new("String").unwrap(),
            }],
        );
        let entities: Vec<String> = ["Provider", "CareListing"]
            .into_iter()
            .filter(|name| model.objects.contains_key(*name))
            .map(str::to_owned)
            .collect();
        model.possible_types.insert("_Entity".into(), entities);
        model
    }
}

fn named_type(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named_type(inner),
    }
}

/// Builds random requests from the schema; one per call, reproducible from the seed.
struct Generator<'a> {
    model: &'a SchemaModel,
    random: SmallRng,
    /// The request being built: its variable definitions, values and fragments.
    definitions: Vec<String>,
    variables: serde_json::Map<String, Value>,
    fragments: Vec<String>,
    /// Whether this request may hold deliberate mistakes; half do not, so that half of the
    /// requests mostly run and reach the resolvers.
    mistakes: bool,
}

impl<'a> Generator<'a> {
    fn new(model: &'a SchemaModel, seed: u64) -> Self {
        Self {
            model,
            random: SmallRng::seed_from_u64(seed),
            definitions: Vec::new(),
            variables: serde_json::Map::new(),
            fragments: Vec::new(),
            mistakes: true,
        }
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.random.random_bool(probability)
    }

    /// A deliberate mistake, with `probability` in a request that may hold mistakes.
    fn mistake(&mut self, probability: f64) -> bool {
        self.mistakes && self.chance(probability)
    }

    fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        &items[self.random.random_range(0..items.len())]
    }

    fn request(&mut self) -> FuzzRequest {
        self.definitions.clear();
        self.variables.clear();
        self.fragments.clear();
        self.mistakes = self.chance(0.5);
        if !self.mistakes {
            return FuzzRequest::Post(
                json!({ "query": self.operation(), "variables": Value::Object(self.variables.clone()) })
                    .to_string()
                    .into_bytes(),
            );
        }
        let mut document = match self.random.random_range(0..100) {
            0..4 => self.multiplying_fragments(),
            4..6 => "{ ...A } fragment A on Query { ...B ...B } fragment B on Query { ...A ...A }"
                .to_owned(),
            6..10 => self.deep_literal_document(),
            _ => self.operation(),
        };
        if self.chance(0.08) {
            document = self.mutate_bytes(&document);
        }
        let mut envelope =
            json!({ "query": document, "variables": Value::Object(self.variables.clone()) });
        if self.chance(0.05) {
            envelope["operationName"] = json!(self.pick(&["Q", "", "Nope"]).to_owned());
        }
        if self.chance(0.04) {
            // Variables nested past serde_json's limit, or just under it.
            let depth = self.random.random_range(100..200);
            envelope["variables"] = json!({ "v0": deep_json(depth) });
        }
        match self.random.random_range(0..100) {
            0..3 => {
                let bytes: Vec<u8> = (0..self.random.random_range(0..200))
                    .map(|_| self.random.random())
                    .collect();
                FuzzRequest::Post(bytes)
            }
            // A long query goes by POST: clients refuse URLs that long.
            3..10 if envelope.to_string().len() < 4_000 => FuzzRequest::Get(vec![
                (
                    "query".into(),
                    envelope["query"].as_str().unwrap_or_default().to_owned(),
                ),
                ("variables".into(), envelope["variables"].to_string()),
            ]),
            _ => FuzzRequest::Post(envelope.to_string().into_bytes()),
        }
    }

    fn operation(&mut self) -> String {
        let mutation = self.chance(0.15);
        let root = if mutation { "Mutation" } else { "Query" };
        let fields = self.model.objects[root].clone();
        let mut selections = Vec::new();
        for _ in 0..self.random.random_range(1..=3) {
            let field = self.pick(&fields).clone();
            selections.push(self.field(&field, 0));
        }
        if self.chance(0.1) {
            selections.push(self.fragment_spread(root, 0));
        }
        let definitions = if self.definitions.is_empty() {
            String::new()
        } else {
            format!("({})", self.definitions.join(", "))
        };
        let keyword = if mutation { "mutation" } else { "query" };
        let mut document = format!("{keyword} Q{definitions} {{ {} }}", selections.join(" "));
        for fragment in &self.fragments {
            document.push(' ');
            document.push_str(fragment);
        }
        document
    }

    /// A field with arguments, maybe an alias and directives, and a selection when it has one.
    fn field(&mut self, field: &FieldModel, depth: usize) -> String {
        let mut text = String::new();
        if self.chance(0.1) {
            text.push_str(&format!("a{}: ", self.random.random_range(0..5)));
        }
        text.push_str(&field.name);
        let mut arguments = Vec::new();
        for (name, ty) in &field.arguments {
            if ty.nullable && self.chance(0.5) {
                continue;
            }
            if !ty.nullable && self.mistake(0.03) {
                continue;
            }
            let value = self.argument_value(ty);
            arguments.push(format!("{name}: {value}"));
        }
        if self.mistake(0.03) {
            arguments.push(format!(
                "unknownArgument: {}",
                self.literal(&Type::new("Int").unwrap(), 0)
            ));
        }
        if !arguments.is_empty() {
            text.push_str(&format!("({})", arguments.join(", ")));
        }
        text.push_str(&self.directives());
        let type_name = named_type(&field.ty).to_owned();
        if self.model.objects.contains_key(&type_name)
            || self.model.possible_types.contains_key(&type_name)
        {
            if !self.mistake(0.02) {
                text.push(' ');
                text.push_str(&self.selection_set(&type_name, depth + 1));
            }
        } else if self.mistake(0.02) {
            text.push_str(" { id }");
        }
        text
    }

    fn directives(&mut self) -> String {
        match self.random.random_range(0..100) {
            0..5 => {
                let value = self.argument_value(&Type::new("Boolean!").unwrap());
                format!(" @include(if: {value})")
            }
            5..8 if self.mistakes => {
                format!(
                    " @skip(if: {})",
                    self.pick(&["true", "false", "1", "$nope"])
                )
            }
            5..8 => format!(" @skip(if: {})", self.pick(&["true", "false"])),
            8..10 if self.mistakes => {
                format!(
                    " @unknown(value: {})",
                    self.literal(&Type::new("[Int]").unwrap(), 0)
                )
            }
            _ => String::new(),
        }
    }

    fn selection_set(&mut self, type_name: &str, depth: usize) -> String {
        let mut selections = Vec::new();
        if let Some(fields) = self.model.objects.get(type_name).cloned() {
            let count = self.random.random_range(1..=4);
            for _ in 0..count {
                let field = self.pick(&fields).clone();
                let has_selection = self.model.objects.contains_key(named_type(&field.ty))
                    || self
                        .model
                        .possible_types
                        .contains_key(named_type(&field.ty));
                if has_selection && depth > 5 {
                    continue;
                }
                selections.push(self.field(&field, depth));
            }
        }
        if let Some(possible) = self.model.possible_types.get(type_name).cloned()
            && !possible.is_empty()
            && (selections.is_empty() || self.chance(0.3))
        {
            let member = self.pick(&possible).clone();
            let inner = self.selection_set(&member, depth + 1);
            selections.push(format!("... on {member} {inner}"));
        }
        if self.chance(0.05) && depth < 5 {
            selections.push(self.fragment_spread(type_name, depth));
        }
        if selections.is_empty() || self.chance(0.1) {
            selections.push("__typename".to_owned());
        }
        format!("{{ {} }}", selections.join(" "))
    }

    fn fragment_spread(&mut self, type_name: &str, depth: usize) -> String {
        let name = format!("F{}", self.fragments.len());
        // Reserve the name first: the fragment's own selection may add fragments.
        self.fragments.push(String::new());
        let index = self.fragments.len() - 1;
        let selection = self.selection_set(type_name, depth + 1);
        self.fragments[index] = format!("fragment {name} on {type_name} {selection}");
        format!("...{name}")
    }

    /// A literal, or a variable: declared with the argument's type or a wrong one, or never
    /// declared; its value of that type, of another, or missing.
    fn argument_value(&mut self, ty: &Type) -> String {
        if self.chance(0.6) {
            return self.literal(ty, 0);
        }
        let name = format!("v{}", self.definitions.len());
        let declared = match self.random.random_range(0..100) {
            _ if !self.mistakes => ty.to_string(),
            0..70 => ty.to_string(),
            70..80 => (*self.pick(&["String!", "Boolean", "Int", "[String]", "MatchInput", "ID!"]))
                .to_owned(),
            80..88 => {
                // Nullable where the argument is not.
                let mut nullable = ty.clone();
                nullable.nullable = true;
                nullable.to_string()
            }
            88..95 => format!("{ty} = {}", self.literal(ty, 0)),
            _ => return format!("${name}"),
        };
        self.definitions.push(format!("${name}: {declared}"));
        match self.random.random_range(0..100) {
            _ if !self.mistakes => {
                let value = self.json_value(ty, 0);
                self.variables.insert(name.clone(), value);
            }
            0..75 => {
                let value = self.json_value(ty, 0);
                self.variables.insert(name.clone(), value);
            }
            75..88 => {
                const OTHER_TYPES: [&str; 5] =
                    ["String", "Int", "[Boolean]", "MatchInput", "Float"];
                let other_type: &&str = self.pick(&OTHER_TYPES);
                let other = Type::new(other_type).unwrap();
                let value = self.json_value(&other, 0);
                self.variables.insert(name.clone(), value);
            }
            88..94 => {
                self.variables.insert(name.clone(), Value::Null);
            }
            _ => {}
        }
        format!("${name}")
    }

    fn literal(&mut self, ty: &Type, depth: usize) -> String {
        if ty.nullable && self.chance(0.05) {
            return "null".to_owned();
        }
        if self.mistake(0.04) || depth > 4 {
            return self.wrong_literal();
        }
        match &ty.base {
            BaseType::List(inner) => {
                let items: Vec<String> = (0..self.random.random_range(0..4))
                    .map(|_| self.literal(inner, depth + 1))
                    .collect();
                format!("[{}]", items.join(", "))
            }
            BaseType::Named(name) => self.named_literal(name.as_str(), depth),
        }
    }

    fn named_literal(&mut self, name: &str, depth: usize) -> String {
        match name {
            "Int" => self.int().to_string(),
            "Float" => format!("{:.4}", self.float()),
            "Boolean" => self.pick(&["true", "false"]).to_string(),
            "String" | "ID" => Value::String(self.text()).to_string(),
            _ => {
                if let Some(values) = self.model.enums.get(name).cloned() {
                    return if !self.mistake(0.1) {
                        self.pick(&values).clone()
                    } else {
                        "NOT_A_VALUE".to_owned()
                    };
                }
                if let Some(fields) = self.model.inputs.get(name).cloned() {
                    let mut items = Vec::new();
                    for (field, ty) in &fields {
                        if (ty.nullable && self.chance(0.6)) || self.mistake(0.03) {
                            continue;
                        }
                        items.push(format!("{field}: {}", self.literal(ty, depth + 1)));
                    }
                    return format!("{{{}}}", items.join(", "));
                }
                // Custom scalars (`_Any`, `FieldSet`, ...): anything.
                self.wrong_literal()
            }
        }
    }

    fn wrong_literal(&mut self) -> String {
        match self.random.random_range(0..7) {
            0 => self.int().to_string(),
            1 => Value::String(self.text()).to_string(),
            2 => "[1, \"two\", null]".to_owned(),
            3 => "{a: 1, __typename: \"Provider\", id: \"x\"}".to_owned(),
            4 => "SOME_ENUM".to_owned(),
            5 => "99999999999999999999999".to_owned(),
            _ => "null".to_owned(),
        }
    }

    fn json_value(&mut self, ty: &Type, depth: usize) -> Value {
        if ty.nullable && self.chance(0.05) {
            return Value::Null;
        }
        if self.mistake(0.04) || depth > 4 {
            return self.wrong_json();
        }
        match &ty.base {
            BaseType::List(inner) => {
                let count = self.random.random_range(0..4);
                Value::Array(
                    (0..count)
                        .map(|_| self.json_value(inner, depth + 1))
                        .collect(),
                )
            }
            BaseType::Named(name) => match name.as_str() {
                "Int" => json!(self.int()),
                "Float" => json!(self.float()),
                "Boolean" => json!(self.chance(0.5)),
                "String" | "ID" => json!(self.text()),
                "_Any" => self.representation(),
                other => {
                    if let Some(values) = self.model.enums.get(other).cloned() {
                        return json!(self.pick(&values));
                    }
                    if let Some(fields) = self.model.inputs.get(other).cloned() {
                        let mut object = serde_json::Map::new();
                        for (field, ty) in &fields {
                            if (ty.nullable && self.chance(0.6)) || self.mistake(0.03) {
                                continue;
                            }
                            object.insert(field.clone(), self.json_value(ty, depth + 1));
                        }
                        return Value::Object(object);
                    }
                    self.wrong_json()
                }
            },
        }
    }

    /// A federation representation: well-formed, or not.
    fn representation(&mut self) -> Value {
        match self.random.random_range(0..8) {
            0 => json!({ "__typename": "Provider", "id": uuid::Uuid::new_v4().to_string() }),
            1 => json!({ "__typename": "Provider", "npi": "1234567893" }),
            2 => json!({ "__typename": "CareListing", "id": self.text() }),
            3 => json!({ "__typename": "Provider" }),
            4 => json!({ "__typename": self.text(), "id": 1 }),
            5 => json!({ "__typename": "Provider", "id": [1, 2] }),
            6 => json!({ "__typename": "Provider", "npi": { "nested": true } }),
            _ => self.wrong_json(),
        }
    }

    fn wrong_json(&mut self) -> Value {
        match self.random.random_range(0..7) {
            0 => json!(self.int()),
            1 => json!(self.text()),
            2 => json!([1, "two", null]),
            3 => json!({ "latitude": "north", "location": { "postalCode": 97219 } }),
            4 => json!(1e300),
            5 => deep_json(self.random.random_range(2..40)),
            _ => Value::Null,
        }
    }

    fn int(&mut self) -> i64 {
        match self.random.random_range(0..5) {
            0 => 0,
            1 => -1,
            2 if self.mistakes => i64::from(i32::MAX) + 1,
            _ => self.random.random_range(-10..200),
        }
    }

    fn float(&mut self) -> f64 {
        match self.random.random_range(0..4) {
            0 => 45.5,
            1 => -122.6,
            2 => 1e30,
            _ => self.random.random_range(-200.0..200.0),
        }
    }

    fn text(&mut self) -> String {
        if self.chance(0.1) {
            return uuid::Uuid::new_v4().to_string();
        }
        let text = *self.pick(TEXTS);
        if self.mistake(0.02) {
            return text.repeat(2_000);
        }
        text.to_owned()
    }

    /// 2^levels spreads through a chain of fragments, each spreading the next twice.
    fn multiplying_fragments(&mut self) -> String {
        let levels = self.random.random_range(3..40);
        let mut document = "{ ...M0 }".to_owned();
        for level in 0..levels {
            let next = if level + 1 == levels {
                "__typename".to_owned()
            } else {
                format!("...M{0} ...M{0}", level + 1)
            };
            document.push_str(&format!(" fragment M{level} on Query {{ {next} }}"));
        }
        document
    }

    /// A list or object literal, variable default, unknown directive argument or list type
    /// nested around the limit.
    fn deep_literal_document(&mut self) -> String {
        let depth = self.random.random_range(30..2_000);
        let list = |inner: &str| format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth));
        match self.random.random_range(0..5) {
            0 => format!(
                "{{ recommendCare(symptoms: {}) {{ cautions }} }}",
                list("STRESS")
            ),
            1 => format!(
                "{{ careTeam(input: {}1{}) {{ matchId }} }}",
                "{location: ".repeat(depth),
                "}".repeat(depth)
            ),
            2 => format!(
                "query($s: [Symptom!]! = {}) {{ recommendCare(symptoms: $s) {{ cautions }} }}",
                list("STRESS")
            ),
            3 => format!("{{ __typename @unknown(value: {}) }}", list("1")),
            _ => format!("query($s: {}) {{ __typename }}", list("Int")),
        }
    }

    /// The document with a few bytes changed, inserted or removed.
    fn mutate_bytes(&mut self, document: &str) -> String {
        let mut bytes = document.as_bytes().to_vec();
        for _ in 0..self.random.random_range(1..5) {
            if bytes.is_empty() {
                break;
            }
            let at = self.random.random_range(0..bytes.len());
            match self.random.random_range(0..3) {
                0 => bytes[at] = *self.pick(b"{}[]()\"#$@!:.,\\ \n\x00\xff"),
                1 => bytes.insert(at, *self.pick(b"{}[]()\"#$@!:.,\\")),
                _ => {
                    bytes.remove(at);
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// `{"a": [{"a": [...]}]}` nested `depth` deep (arrays and objects alternating).
fn deep_json(depth: usize) -> Value {
    let mut value = json!(1);
    for level in 0..depth {
        value = if level % 2 == 0 {
            json!([value])
        } else {
            json!({ "a": value })
        };
    }
    value
}
