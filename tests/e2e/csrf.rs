//! Cross-site request forgery: a page on another site can make its visitor's browser POST a
//! form (`text/plain`, form-encoded, multipart) or a body without a content type, with no CORS
//! preflight. Such a POST is refused before its body is read, as Apollo Server refuses it,
//! unless it carries a header only a preflighted request can carry.

use carematch_tests::{AppOptions, TestApp, error_code, spawn_app_with};
use serde_json::{Value, json};

const RECORD_OUTCOME: &str = "mutation { recordMatchOutcome(matchId: \"00000000-0000-4000-8000-000000000001\", providerId: \"00000000-0000-4000-8000-000000000002\", outcome: BOOKED) }";

async fn post(app: &TestApp, headers: &[(&str, &str)], body: String) -> (u16, Value) {
    let mut request = app.client.post(app.graphql_url()).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_post_a_browser_sends_without_preflight_is_refused_before_it_runs() {
    let app = spawn_app_with(AppOptions::default()).await;
    let body = json!({ "query": RECORD_OUTCOME }).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("Text/Plain ; charset=utf-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|value| vec![("content-type", value)])
            .unwrap_or_default();
        let (status, answer) = post(&app, &headers, body.clone()).await;
        assert_eq!(status, 400, "{content_type:?}: {answer}");
        assert_eq!(error_code(&answer), Some("BAD_REQUEST"), "{answer}");
        let message = answer["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("cross-site request forgery"), "{message}");
        assert!(answer.get("data").is_none_or(Value::is_null), "{answer}");
        // An empty preflight header proves nothing.
        let mut with_empty = headers.clone();
        with_empty.push(("apollo-require-preflight", ""));
        let (status, _) = post(&app, &with_empty, body.clone()).await;
        assert_eq!(status, 400, "{content_type:?} with an empty header");
    }
    // The same mutation with JSON runs: its resolver answers that the match is unknown.
    let (status, answer) = post(&app, &[("content-type", "application/json")], body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(error_code(&answer), Some("NOT_FOUND"), "{answer}");
}

#[tokio::test]
async fn json_or_a_preflight_header_is_served_as_before() {
    let app = spawn_app_with(AppOptions::default()).await;
    let body = json!({ "query": "{ __typename }" }).to_string();
    for headers in [
        vec![("content-type", "application/json")],
        vec![("content-type", "application/json; charset=utf-8")],
        vec![("content-type", "application/graphql-response+json")],
        // Not a MIME type: a browser preflights it.
        vec![("content-type", "json")],
        vec![
            ("content-type", "text/plain"),
            ("apollo-require-preflight", "true"),
        ],
        vec![("x-apollo-operation-name", "Anything")],
    ] {
        let (status, answer) = post(&app, &headers, body.clone()).await;
        assert_eq!(status, 200, "{headers:?}: {answer}");
        assert_eq!(
            answer["data"]["__typename"], "Query",
            "{headers:?}: {answer}"
        );
    }
    // GET queries stay allowed without any header (mutations are refused over GET anyway).
    let response = app
        .client
        .get(app.graphql_url())
        .query(&[("query", "{ __typename }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}
