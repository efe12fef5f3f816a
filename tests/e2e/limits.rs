//! Query and request limits, and the codes of the pipeline's own errors: every request past a
//! limit gets a clear error with `extensions.code`, and the server answers the next request.

use carematch_tests::{
    AppOptions, TestApp, error_code, spawn_app, spawn_app_with, spawn_app_with_settings,
};
use serde_json::{Value, json};

async fn post_raw(app: &TestApp, body: impl Into<reqwest::Body>) -> (u16, String, Value) {
    let response = app
        .client
        .post(app.graphql_url())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

fn aliases(count: usize, field: &str) -> String {
    (0..count)
        .map(|index| format!("a{index}: {field}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn a_query_nested_deeper_than_the_limit_is_query_too_deep() {
    let app = spawn_app().await;
    let mut query = "name".to_owned();
    for _ in 0..16 {
        query = format!("ofType {{ {query} }}");
    }
    let query = format!("{{ __schema {{ types {{ fields {{ type {{ {query} }} }} }} }} }}");
    let body = app.graphql(&query, json!({})).await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_DEEP"), "{body}");
    assert!(body["data"].is_null(), "{body}");
    app.assert_still_serving().await;
}

#[tokio::test]
async fn complexity_counts_first_times_the_selection_of_a_page() {
    let app = spawn_app_with_settings(AppOptions::default(), |settings| {
        settings.limits.max_query_complexity = 200;
    })
    .await;
    let query = "query($first: Int) { matchProviders(input: { location: { postalCode: \"97205\" } }, first: $first) { edges { cursor node { rank score } } } }";
    let body = app.graphql(query, json!({ "first": 50 })).await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("200")
    );
    // The same selection for a page of 10 costs five times less and runs.
    let body = app.graphql(query, json!({ "first": 10 })).await;
    assert!(body["errors"].is_null(), "{body}");
    app.assert_still_serving().await;
}

#[tokio::test]
async fn more_aliases_than_the_limit_is_too_many_aliases() {
    let app = spawn_app().await;
    let query = format!(
        "{{ recommendCare(symptoms: [URINE_LEAKAGE]) {{ {} }} }}",
        aliases(31, "__typename")
    );
    let body = app.graphql(&query, json!({})).await;
    assert_eq!(error_code(&body), Some("TOO_MANY_ALIASES"), "{body}");
    // Aliases spread through a fragment count once per spread.
    let query = format!(
        "query {{ recommendCare(symptoms: [URINE_LEAKAGE]) {{ ...A ...A }} }} fragment A on CarePlan {{ {} }}",
        aliases(16, "__typename")
    );
    let body = app.graphql(&query, json!({})).await;
    assert_eq!(error_code(&body), Some("TOO_MANY_ALIASES"), "{body}");
    let query = format!(
        "{{ recommendCare(symptoms: [URINE_LEAKAGE]) {{ {} }} }}",
        aliases(30, "__typename")
    );
    let body = app.graphql(&query, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    app.assert_still_serving().await;
}

#[tokio::test]
async fn more_root_fields_than_the_limit_is_too_many_root_fields_typename_included() {
    let app = spawn_app().await;
    let body = app
        .graphql(&format!("{{ {} }}", aliases(11, "__typename")), json!({}))
        .await;
    assert_eq!(error_code(&body), Some("TOO_MANY_ROOT_FIELDS"), "{body}");
    let body = app
        .graphql(&format!("{{ {} }}", aliases(10, "__typename")), json!({}))
        .await;
    assert_eq!(body["data"]["a9"], "Query", "{body}");
    app.assert_still_serving().await;
}

#[tokio::test]
async fn more_directives_on_a_field_than_the_limit_is_too_many_directives() {
    let app = spawn_app().await;
    let directives = "@include(if: true) ".repeat(6);
    let body = app
        .graphql(&format!("{{ __typename {directives} }}"), json!({}))
        .await;
    assert_eq!(error_code(&body), Some("TOO_MANY_DIRECTIVES"), "{body}");
    app.assert_still_serving().await;
}

#[tokio::test]
async fn a_query_text_longer_than_the_limit_is_query_too_large() {
    let app = spawn_app().await;
    let query = format!("{{ __typename }} # {}", "x".repeat(40 * 1024));
    let body = app.graphql(&query, json!({})).await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_LARGE"), "{body}");
    app.assert_still_serving().await;
}

#[tokio::test]
async fn a_body_larger_than_the_limit_is_413_with_a_graphql_error_body() {
    let app = spawn_app().await;
    let body =
        json!({ "query": "{ __typename }", "variables": { "padding": "x".repeat(300 * 1024) } });
    let (status, content_type, body) = post_raw(&app, body.to_string()).await;
    assert_eq!(status, 413);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert_eq!(error_code(&body), Some("PAYLOAD_TOO_LARGE"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("bytes")
    );
    app.assert_still_serving().await;
}

#[tokio::test]
async fn a_batch_of_operations_is_refused() {
    let app = spawn_app().await;
    let batch = json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]);
    let (status, _, body) = post_raw(&app, batch.to_string()).await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&body), Some("BATCHING_NOT_SUPPORTED"), "{body}");
    app.assert_still_serving().await;
}

#[tokio::test]
async fn a_request_past_the_timeout_is_request_timeout_and_the_server_stays_up() {
    // A redis that accepts connections and never answers: the match waits on its cache read
    // (up to the 100 ms command timeout), and the 1 ms deadline fires during that wait. Ranking
    // alone is no reliable wait: without text it runs in one step that no deadline cuts short.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let app = spawn_app_with_settings(
        AppOptions {
            seed_demo: 300,
            ..AppOptions::default()
        },
        |settings| {
            settings.server.request_timeout_ms = 1;
            settings.cache.redis_url =
                Some(serde_json::from_value(json!(format!("redis://{address}"))).expect("secret"));
            settings.cache.redis_command_timeout_ms = 100;
        },
    )
    .await;
    let query = "{ matchProviders(input: { location: { latitude: 40.7128, longitude: -74.006 }, radiusKm: 100, symptoms: [URINE_LEAKAGE, BACK_PAIN, STRESS, POOR_SLEEP] }, first: 50) { totalCount edges { node { provider { id name } } } } }";
    let body = app.graphql(query, json!({})).await;
    assert_eq!(error_code(&body), Some("REQUEST_TIMEOUT"), "{body}");
    app.assert_still_serving().await;
    app.stop().await;
    silent.abort();
}

#[tokio::test]
async fn a_syntax_error_is_graphql_parse_failed_with_a_generic_message() {
    let app = spawn_app().await;
    let body = app
        .graphql("{ matchProviders(input: { location: ", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("GRAPHQL_PARSE_FAILED"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        !message.contains("expected") && !message.contains("-->") && !message.contains("location"),
        "the parser's detail leaked: {message}"
    );
    app.assert_still_serving().await;
}

#[tokio::test]
async fn malformed_json_is_bad_request_with_a_generic_message() {
    let app = spawn_app().await;
    for body in [
        "{\"query\": ",
        "not json at all",
        "{\"query\": 42}",
        "{\"query\": \"{ __typename }\", \"variables\": \"nope\"}",
    ] {
        let (status, content_type, answer) = post_raw(&app, body).await;
        assert_eq!(status, 400, "{body}");
        assert!(content_type.starts_with("application/json"));
        assert_eq!(error_code(&answer), Some("BAD_REQUEST"), "{answer}");
        let message = answer["errors"][0]["message"].as_str().unwrap();
        assert!(
            !message.contains("line") && !message.contains("column") && !message.contains("Error("),
            "serde's detail leaked: {message}"
        );
    }
    app.assert_still_serving().await;
}

#[tokio::test]
async fn a_variable_of_the_wrong_type_is_bad_user_input() {
    let app = spawn_app().await;
    let query = "query($first: Int) { matchProviders(input: { location: { postalCode: \"97205\" } }, first: $first) { totalCount } }";
    let body = app.graphql(query, json!({ "first": "ten" })).await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let query = "query($input: MatchInput!) { matchProviders(input: $input) { totalCount } }";
    let body = app
        .graphql(
            query,
            json!({ "input": { "location": { "latitude": "north" } } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    app.assert_still_serving().await;
}

#[tokio::test]
async fn an_unknown_field_is_graphql_validation_failed_and_every_error_has_a_code() {
    let app = spawn_app().await;
    let body = app.graphql("{ providerz { id } }", json!({})).await;
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    let body = app
        .graphql("query A { __typename } query B { __typename }", json!({}))
        .await;
    assert_eq!(
        error_code(&body),
        Some("OPERATION_RESOLUTION_FAILURE"),
        "{body}"
    );
}

#[tokio::test]
async fn a_mutation_over_get_is_refused() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.graphql_url())
        .query(&[(
            "query",
            "mutation { deleteProvider(id: \"00000000-0000-4000-8000-000000000001\") }",
        )])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("METHOD_NOT_ALLOWED"), "{body}");
}

#[tokio::test]
async fn a_chunked_body_without_a_length_is_cut_at_the_limit_too() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = "x".repeat(64 * 1024);
    // The server may answer and close before the whole body is sent: later writes may fail.
    for _ in 0..6 {
        if stream
            .write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes())
            .await
            .is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
    app.assert_still_serving().await;
}

/// `open` repeated `depth` times around `inner`, each closed by `close`.
fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

#[tokio::test]
async fn values_nested_too_deep_are_query_too_deep_and_the_process_survives() {
    let app = spawn_app().await;
    // Each of these, 1,600 deep, aborted the process (a thread's stack overflowed after
    // parsing); they are refused before parsing now.
    let depth = 1_600;
    let documents = [
        // A list literal.
        format!(
            "{{ recommendCare(symptoms: {}) {{ cautions }} }}",
            nested("[", "STRESS", "]", depth)
        ),
        // An object literal.
        format!(
            "{{ careTeam(input: {}) {{ matchId }} }}",
            nested("{location: ", "1", "}", depth)
        ),
        // A variable's default.
        format!(
            "query($s: [Symptom!]! = {}) {{ recommendCare(symptoms: $s) {{ cautions }} }}",
            nested("[", "STRESS", "]", depth)
        ),
        // An unknown directive's argument.
        format!(
            "{{ __typename @unknown(value: {}) }}",
            nested("[", "1", "]", depth)
        ),
        // A list type.
        format!(
            "query($s: {}) {{ __typename }}",
            nested("[", "Int", "]", depth)
        ),
    ];
    for document in &documents {
        let body = app.graphql(document, json!({})).await;
        assert_eq!(error_code(&body), Some("QUERY_TOO_DEEP"), "{body}");
        assert!(body["data"].is_null(), "{body}");
    }
    app.assert_still_serving().await;
    // Within the limit, the same shapes reach validation (which names what is wrong).
    let limit = carematch_api::limits::MAX_NESTING;
    let within = format!(
        "{{ recommendCare(symptoms: {}) {{ cautions }} }}",
        nested("[", "STRESS", "]", limit - 2)
    );
    let body = app.graphql(&within, json!({})).await;
    assert!(
        matches!(
            error_code(&body),
            Some("GRAPHQL_VALIDATION_FAILED" | "BAD_USER_INPUT")
        ),
        "{body}"
    );
    // Brackets inside strings and comments are not nesting.
    let in_text = format!(
        "{{ __typename @unknown(a: \"{}\", b: \"\"\"{}\"\"\") # {}\n }}",
        "[".repeat(depth),
        "{".repeat(depth),
        "(".repeat(depth)
    );
    let body = app.graphql(&in_text, json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}

#[tokio::test]
async fn variables_nested_deeper_than_json_allows_are_a_bad_request() {
    let app = spawn_app().await;
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }";
    // serde_json refuses JSON nested deeper than 128: the body is not a GraphQL request.
    let deep = format!(
        r#"{{"query": {}, "variables": {{"r": [{}]}}}}"#,
        json!(query),
        nested("[", "1", "]", 200)
    );
    let (status, _, body) = post_raw(&app, deep).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_code(&body), Some("BAD_REQUEST"), "{body}");
    // Just under that, the representation is answered as malformed, by name.
    let under = format!(
        r#"{{"query": {}, "variables": {{"r": [{}]}}}}"#,
        json!(query),
        nested("[", "1", "]", 120)
    );
    let (status, _, body) = post_raw(&app, under).await;
    assert!(status < 500, "{status} {body}");
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    app.assert_still_serving().await;
}

/// 2^`levels` spreads of `__typename`: fragment F0 spreads F1 twice, F1 spreads F2 twice, ...
fn multiplying_fragments(levels: usize) -> String {
    let mut document = "{ ...F0 }".to_owned();
    for level in 0..levels {
        let next = if level + 1 == levels {
            "__typename".to_owned()
        } else {
            format!("...F{0} ...F{0}", level + 1)
        };
        document.push_str(&format!(" fragment F{level} on Query {{ {next} }}"));
    }
    document
}

#[tokio::test]
async fn fragments_that_multiply_are_refused_without_walking_every_spread() {
    let app = spawn_app().await;
    // 2^40 spreads: walking them one by one would never end; each fragment is counted once.
    let started = std::time::Instant::now();
    let body = app.graphql(&multiplying_fragments(40), json!({})).await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
    // A generous bound: a walk of 2^40 spreads takes hours, the counted one microseconds.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    // A fragment cycle that doubles would be walked 2^32 times by async-graphql's depth check.
    let cycle = "{ ...A } fragment A on Query { ...B ...B } fragment B on Query { ...A ...A }";
    let body = app.graphql(cycle, json!({})).await;
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    // A few levels are fine.
    let body = app.graphql(&multiplying_fragments(4), json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    app.assert_still_serving().await;
}

#[tokio::test]
async fn a_variable_must_fit_where_it_is_used() {
    let app = spawn_app_with(AppOptions {
        seed_demo: 20,
        ..AppOptions::default()
    })
    .await;
    let input = json!({ "location": { "postalCode": "97205" }, "text": "free text" });
    // A String variable given to a MatchInput argument, with an object value: it executed.
    let body = app
        .graphql(
            "query($i: String!) { careTeam(input: $i) { matchId } }",
            json!({ "i": input }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    assert!(body["data"].is_null(), "{body}");
    // A Boolean variable given to `symptoms` ([Symptom!]!): it executed.
    let body = app
        .graphql(
            "query($s: Boolean) { recommendCare(symptoms: $s) { cautions } }",
            json!({ "s": true }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    // A value of the wrong type for a well-declared variable.
    let body = app
        .graphql(
            "query($i: MatchInput!) { careTeam(input: $i) { matchId } }",
            json!({ "i": "97205" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    // A required variable not sent.
    let body = app
        .graphql(
            "query($i: MatchInput!) { careTeam(input: $i) { matchId } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    // A variable used but never declared.
    let body = app
        .graphql("{ careTeam(input: $i) { matchId } }", json!({ "i": input }))
        .await;
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    // The same through a fragment.
    let body = app
        .graphql(
            "query($s: Boolean) { ...F } fragment F on Query { recommendCare(symptoms: $s) { cautions } }",
            json!({ "s": true }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    // The right type still runs.
    let body = app
        .graphql(
            "query($i: MatchInput!) { careTeam(input: $i) { matchId } }",
            json!({ "i": input }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
}

#[tokio::test]
async fn a_malformed_entity_representation_is_bad_user_input() {
    let app = spawn_app().await;
    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Provider { id } } }";
    for representations in [
        json!([{}]),
        json!([{ "__typename": "Provider" }]),
        json!([{ "__typename": "Nothing", "id": "x" }]),
        json!(["Provider"]),
        json!([[1, 2]]),
        json!([{ "__typename": "Provider", "npi": { "a": 1 } }]),
    ] {
        let body = app.graphql(query, json!({ "r": representations })).await;
        let codes: Vec<&str> = body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|error| error["extensions"]["code"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        assert!(!codes.is_empty(), "{representations}: {body}");
        assert!(
            codes.iter().all(|code| *code == "BAD_USER_INPUT"),
            "{representations}: {body}"
        );
    }
}
