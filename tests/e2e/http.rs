//! The HTTP surface around the schema: introspection and playground switches, the router's
//! shared secret, CORS, request ids, compression, content negotiation and APQ.

use carematch_tests::{AppOptions, TestApp, error_code, spawn_app, spawn_app_with_settings};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

async fn production_like_app() -> TestApp {
    spawn_app_with_settings(AppOptions::default(), |settings| {
        settings.server.introspection = false;
        settings.server.playground = false;
        settings.server.cors_allowed_origins = vec!["https://app.example.org".into()];
    })
    .await
}

#[tokio::test]
async fn with_introspection_off_schema_queries_fail_but_the_router_still_gets_the_sdl() {
    let app = production_like_app().await;
    let body = app
        .graphql("{ __schema { types { name } } }", json!({}))
        .await;
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    assert!(body["data"]["__schema"].is_null(), "{body}");
    let body = app.graphql("{ _service { sdl } }", json!({})).await;
    let sdl = body["data"]["_service"]["sdl"].as_str().unwrap_or_default();
    assert!(sdl.contains("matchProviders"), "{body}");
    // No suggestions either: they would reveal the schema field by field.
    let body = app
        .graphql("{ matchProvider { totalCount } }", json!({}))
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{message}");
    assert_eq!(error_code(&body), Some("GRAPHQL_VALIDATION_FAILED"));
}

#[tokio::test]
async fn introspection_and_suggestions_are_on_by_default() {
    let app = spawn_app().await;
    let body = app
        .graphql("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"], "Query",
        "{body}"
    );
}

#[tokio::test]
async fn the_playground_is_served_by_default_and_is_404_when_off() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.graphql_url())
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("<html"));
    let app = production_like_app().await;
    let response = app
        .client
        .get(app.graphql_url())
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // Its files too.
    let response = app
        .client
        .get(format!("{}/graphiql/4.1.2/graphiql.min.js", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn with_a_router_secret_graphql_requires_it_and_health_checks_do_not() {
    let app = spawn_app_with_settings(AppOptions::default(), |settings| {
        settings.server.router_secret =
            Some(serde_json::from_value(json!("router-secret-0123456789")).unwrap());
    })
    .await;
    let query = json!({ "query": "{ __typename }" });
    let response = app
        .client
        .post(app.graphql_url())
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let response = app
        .client
        .post(app.graphql_url())
        .header("x-router-secret", "wrong-secret-0123456789!")
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = app
        .client
        .post(app.graphql_url())
        .header("x-router-secret", "router-secret-0123456789")
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "Query");
    for path in ["/healthz", "/readyz"] {
        let response = app
            .client
            .get(format!("{}{path}", app.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn cors_answers_allowed_origins_only() {
    let app = production_like_app().await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.graphql_url())
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let response = preflight("https://app.example.org").await.unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    let response = preflight("https://evil.example.com").await.unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let response = app
        .client
        .post(app.graphql_url())
        .header("origin", "https://app.example.org")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    assert!(
        response.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("x-request-id")
    );
}

#[tokio::test]
async fn the_request_id_is_echoed_or_generated() {
    let app = spawn_app().await;
    let query = json!({ "query": "{ __typename }" });
    let response = app
        .client
        .post(app.graphql_url())
        .header("x-request-id", "frontend-req-42")
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "frontend-req-42");
    let response = app
        .client
        .post(app.graphql_url())
        .json(&query)
        .send()
        .await
        .unwrap();
    let generated = response.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");
    let response = app
        .client
        .get(format!("{}/healthz", app.base_url))
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("x-request-id").is_some());
}

#[tokio::test]
async fn responses_are_gzipped_when_asked() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.graphql_url())
        .header("accept-encoding", "gzip")
        .json(&json!({ "query": "{ _service { sdl } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
    let response = app
        .client
        .post(app.graphql_url())
        .header("accept-encoding", "br")
        .json(&json!({ "query": "{ _service { sdl } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "br");
}

#[tokio::test]
async fn graphql_response_json_is_answered_when_accepted() {
    let app = spawn_app().await;
    let send = |accept: &'static str, query: &'static str| {
        app.client
            .post(app.graphql_url())
            .header("accept", accept)
            .json(&json!({ "query": query }))
            .send()
    };
    let response = send(
        "application/graphql-response+json, application/json;q=0.9",
        "{ __typename }",
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/graphql-response+json"
    );
    let response = send("application/json", "{ __typename }").await.unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
    // GraphQL over HTTP: a request that never executed is a 4xx with the new media type ...
    let response = send("application/graphql-response+json", "{ nope")
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // ... and a 200 with the legacy one.
    let response = send("application/json", "{ nope").await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn get_requests_run_queries() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.graphql_url())
        .query(&[
            ("query", "query($s: [Symptom!]!) { recommendCare(symptoms: $s) { recommendations { careType } } }"),
            ("variables", r#"{"s": ["URINE_LEAKAGE"]}"#),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert!(
        body["data"]["recommendCare"]["recommendations"].is_array(),
        "{body}"
    );
}

#[tokio::test]
async fn persisted_queries_register_then_hit_over_get_and_post() {
    let app = spawn_app().await;
    let query = "{ recommendCare(symptoms: [URINE_LEAKAGE]) { recommendations { careType } } }";
    let hash = sha256_hex(query);
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let get = |extensions: Value| {
        app.client
            .get(app.graphql_url())
            .query(&[("extensions", extensions.to_string())])
            .send()
    };
    // Unknown hash: the client is told to send the query.
    let body: Value = get(extensions.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    // Register with the query and its hash.
    let body: Value = app
        .client
        .post(app.graphql_url())
        .json(&json!({ "query": query, "extensions": extensions }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["data"]["recommendCare"].is_object(), "{body}");
    // Now the hash alone works, over GET and POST.
    let body: Value = get(extensions.clone()).await.unwrap().json().await.unwrap();
    assert!(body["data"]["recommendCare"].is_object(), "{body}");
    let body: Value = app
        .client
        .post(app.graphql_url())
        .json(&json!({ "extensions": extensions }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["data"]["recommendCare"].is_object(), "{body}");
    // A query that does not match its hash is not stored.
    let body: Value = app
        .client
        .post(app.graphql_url())
        .json(&json!({ "query": "{ __typename }", "extensions": extensions }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&body), Some("BAD_REQUEST"), "{body}");
}

#[tokio::test]
async fn an_inline_trace_is_answered_when_the_router_asks_for_ftv1() {
    use carematch_api::ftv1::proto::NodeId;
    let app = spawn_app().await;
    let query = json!({ "query": "{ recommendCare(symptoms: [URINE_LEAKAGE]) { recommendations { careType } } stress: recommendCare(symptoms: [STRESS]) { urgent { message } } }" });
    let body: Value = app
        .client
        .post(app.graphql_url())
        .header("apollo-federation-include-trace", "ftv1")
        .json(&query)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["errors"].is_null(), "{body}");
    let encoded = body["extensions"]["ftv1"].as_str().expect("ftv1 extension");
    let trace = carematch_api::ftv1::decode_trace(encoded).expect("a protobuf Trace");
    let (start, end) = (trace.start_time.unwrap(), trace.end_time.unwrap());
    assert!((end.seconds, end.nanos) >= (start.seconds, start.nanos));
    assert!(trace.duration_ns > 0);
    let root = trace.root.expect("root node");
    let named = |nodes: &[carematch_api::ftv1::proto::Node], name: &str| {
        nodes
            .iter()
            .find(|node| node.id == Some(NodeId::ResponseName(name.to_owned())))
            .cloned()
            .unwrap_or_else(|| panic!("no node {name}"))
    };
    let field = named(&root.child, "recommendCare");
    assert_eq!(field.parent_type, "Query");
    assert_eq!(field.r#type, "CarePlan!");
    assert!(field.end_time >= field.start_time);
    assert!(field.original_field_name.is_empty());
    let aliased = named(&root.child, "stress");
    assert_eq!(aliased.original_field_name, "recommendCare");
    // A list field has one index node per element, and the element's fields under it.
    let recommendations = named(&field.child, "recommendations");
    assert_eq!(recommendations.parent_type, "CarePlan");
    let first = &recommendations.child[0];
    assert_eq!(first.id, Some(NodeId::Index(0)));
    let care_type = named(&first.child, "careType");
    assert_eq!(care_type.parent_type, "CareRecommendation");
    // Without the header there is no trace.
    let body: Value = app
        .client
        .post(app.graphql_url())
        .json(&query)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["extensions"]["ftv1"].is_null(), "{body}");
}

#[tokio::test]
async fn the_subgraph_sdl_tags_public_and_admin_fields_and_hides_internal_ones() {
    let app = production_like_app().await;
    let body = app.graphql("{ _service { sdl } }", json!({})).await;
    let sdl = body["data"]["_service"]["sdl"].as_str().unwrap();
    assert!(sdl.contains("@tag(name: \"public\")"), "{sdl}");
    assert!(sdl.contains("@tag(name: \"admin\")"), "{sdl}");
    assert!(
        sdl.contains("indexedProviderCount: Int! @inaccessible"),
        "{sdl}"
    );
    // Operators querying the subgraph directly still get the internal field.
    let body = app.graphql("{ indexedProviderCount }", json!({})).await;
    assert_eq!(body["data"]["indexedProviderCount"], 0, "{body}");
}

/// graphql-js's `getIntrospectionQuery()`, as codegen tools and the playground send it.
const INTROSPECTION_QUERY: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}"#;

#[tokio::test]
async fn the_standard_introspection_query_fits_the_default_limits() {
    let app = spawn_app().await;
    let body = app.graphql(INTROSPECTION_QUERY, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    assert!(body["data"]["__schema"]["types"].as_array().unwrap().len() > 20);
}
