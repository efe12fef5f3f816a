//! What a team integrating the subgraph meets first (issue 21): GraphQL over HTTP as the
//! specification and Apollo's clients and router speak it: GET with `operationName`, request
//! errors without `data`, `Cache-Control` on GET answers, compressed request bodies, and the
//! trace headers a browser sends through CORS.

use std::io::Write;

use carematch_tests::{AppOptions, TestApp, error_code, spawn_app, spawn_app_with_settings};
use serde_json::{Value, json};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        encoder.write_all(bytes).unwrap();
    }
    out
}

async fn get(app: &TestApp, parameters: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .get(app.graphql_url())
        .header("accept", "application/json")
        .query(parameters)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_get_runs_the_operation_its_operation_name_names() {
    let app = spawn_app().await;
    let document = "query T { __typename } \
                    query R { recommendCare(symptoms: [URINE_LEAKAGE]) { recommendations { careType } } }";
    for name_parameter in ["operationName", "operation_name"] {
        let response = get(&app, &[("query", document), (name_parameter, "R")]).await;
        let body: Value = response.json().await.unwrap();
        assert!(
            body["data"]["recommendCare"]["recommendations"].is_array(),
            "{name_parameter}: {body}"
        );
        assert!(body["data"].get("__typename").is_none(), "{body}");
    }
    // Without a name, two operations cannot be resolved: the error says so.
    let body: Value = get(&app, &[("query", document)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        error_code(&body),
        Some("OPERATION_RESOLUTION_FAILURE"),
        "{body}"
    );
}

#[tokio::test]
async fn a_document_that_fails_to_parse_or_validate_answers_4xx_without_data() {
    let app = spawn_app().await;
    for (query, code) in [
        ("{ nope", "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED"),
    ] {
        for accept in [GRAPHQL_RESPONSE_JSON, "application/json"] {
            let response = app
                .client
                .post(app.graphql_url())
                .header("accept", accept)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            assert_eq!(error_code(&body), Some(code), "{body}");
            // No `data` entry at all, not `"data": null`: nothing was executed.
            assert!(body.get("data").is_none(), "{accept} {query}: {body}");
            let expected = if accept == GRAPHQL_RESPONSE_JSON {
                400
            } else {
                200
            };
            assert_eq!(status, expected, "{accept} {query}");
        }
    }
    // A variable that cannot be coerced is a request error too.
    let response = app
        .client
        .post(app.graphql_url())
        .header("accept", GRAPHQL_RESPONSE_JSON)
        .json(&json!({ "query": "query ($id: ID!) { provider(id: $id) { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(body.get("data").is_none(), "{body}");
    // An error while executing keeps its (partial) data.
    let body = app
        .graphql("{ provider(id: \"not-a-uuid\") { id } }", json!({}))
        .await;
    assert!(body.get("data").is_some(), "{body}");
}

#[tokio::test]
async fn get_answers_say_public_operations_may_be_cached_and_personal_ones_not_stored() {
    let app = spawn_app().await;
    let cache_control = |response: &reqwest::Response| {
        response
            .headers()
            .get("cache-control")
            .map(|value| value.to_str().unwrap().to_owned())
    };

    // A persisted query over GET, the URL a CDN keys on: registered once, then by hash alone.
    let plan = "{ recommendCare(symptoms: [URINE_LEAKAGE]) { recommendations { careType } } }";
    let extensions =
        json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(plan) } }).to_string();
    let registered = get(&app, &[("query", plan), ("extensions", &extensions)]).await;
    assert_eq!(
        cache_control(&registered).as_deref(),
        Some("public, max-age=300")
    );
    let by_hash = get(&app, &[("extensions", &extensions)]).await;
    assert_eq!(
        cache_control(&by_hash).as_deref(),
        Some("public, max-age=300")
    );
    let body: Value = by_hash.json().await.unwrap();
    assert!(body["data"]["recommendCare"].is_object(), "{body}");
    // Answered again from the response cache: the same header.
    let replayed = get(&app, &[("extensions", &extensions)]).await;
    assert_eq!(
        cache_control(&replayed).as_deref(),
        Some("public, max-age=300")
    );

    // A match carries her location and symptoms in its variables, and has its own match id.
    let matches = "query M($i: MatchInput!) { matchProviders(input: $i, first: 1) { matchId } }";
    let variables =
        json!({ "i": { "location": { "postalCode": "97205" }, "symptoms": ["LOW_MOOD"] } })
            .to_string();
    let extensions =
        json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(matches) } })
            .to_string();
    let response = get(
        &app,
        &[
            ("query", matches),
            ("variables", &variables),
            ("extensions", &extensions),
        ],
    )
    .await;
    assert_eq!(
        cache_control(&response).as_deref(),
        Some("private, no-store")
    );
    let body: Value = response.json().await.unwrap();
    assert!(
        body["data"]["matchProviders"]["matchId"].is_string(),
        "{body}"
    );

    // An unknown hash (the client will register it) and an error are never stored.
    let unknown = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex("{ x }") } })
        .to_string();
    let response = get(&app, &[("extensions", &unknown)]).await;
    assert_eq!(
        cache_control(&response).as_deref(),
        Some("private, no-store")
    );
    let response = get(
        &app,
        &[("query", "{ provider(id: \"not-a-uuid\") { id } }")],
    )
    .await;
    assert_eq!(
        cache_control(&response).as_deref(),
        Some("private, no-store")
    );
}

#[tokio::test]
async fn gzip_and_brotli_request_bodies_are_accepted() {
    let app = spawn_app().await;
    let body = json!({ "query": "{ recommendCare(symptoms: [LOW_MOOD]) { urgent { message } } }" })
        .to_string();
    for (encoding, compressed) in [
        ("gzip", gzip(body.as_bytes())),
        ("br", brotli(body.as_bytes())),
    ] {
        let response = app
            .client
            .post(app.graphql_url())
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body(compressed)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{encoding}");
        let answer: Value = response.json().await.unwrap();
        assert!(
            answer["data"]["recommendCare"].is_object(),
            "{encoding}: {answer}"
        );
    }
    // An encoding the server cannot read is refused with a GraphQL error, not misread.
    let response = app
        .client
        .post(app.graphql_url())
        .header("content-type", "application/json")
        .header("content-encoding", "compress")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(error_code(&answer), Some("BAD_REQUEST"), "{answer}");
    app.assert_still_serving().await;
}

#[tokio::test]
async fn a_compressed_body_that_inflates_past_the_body_limit_is_refused() {
    let app = spawn_app_with_settings(AppOptions::default(), |settings| {
        settings.limits.max_request_body_bytes = 64 * 1024;
    })
    .await;
    // 16 MB of spaces inside valid JSON compress to a few kilobytes: well under the limit as
    // sent, far over it once inflated.
    let mut bomb = b"{\"query\": \"{ __typename }\", \"variables\": {}".to_vec();
    bomb.extend(std::iter::repeat_n(b' ', 16 * 1024 * 1024));
    bomb.push(b'}');
    for (encoding, compressed) in [("gzip", gzip(&bomb)), ("br", brotli(&bomb))] {
        assert!(
            compressed.len() < 64 * 1024,
            "{encoding}: {}",
            compressed.len()
        );
        let response = app
            .client
            .post(app.graphql_url())
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body(compressed)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "{encoding}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(error_code(&answer), Some("PAYLOAD_TOO_LARGE"), "{answer}");
    }
    app.assert_still_serving().await;
}

#[tokio::test]
async fn a_cors_preflight_allows_the_trace_context_and_baggage_headers() {
    let app = spawn_app().await;
    // One of the default allowed origins (a local frontend).
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, app.graphql_url())
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,traceparent,tracestate,baggage",
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in ["content-type", "traceparent", "tracestate", "baggage"] {
        assert!(allowed.contains(header), "{header} not in {allowed}");
    }
}
