//! Operations: readiness during start-up and shutdown, `/metrics`, trace context, and stopping
//! under load without losing an accepted request or its match log.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use carematch_cli::Application;
use carematch_cli::config::{Config, Settings};
use carematch_store::test_support::PostgresDatabase;
use carematch_tests::{AppOptions, error_code, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const MATCH: &str = "query OpsMatch($input: MatchInput!) { matchProviders(input: $input, first: 5) { matchId totalCount } }";

/// A different request for every `n` (the response and match caches would answer repeats
/// without running them).
fn match_variables(n: usize) -> Value {
    json!({ "input": {
        "location": { "postalCode": "97205" },
        "radiusKm": 100 + (n % 100),
        "symptoms": [if n.is_multiple_of(2) { "URINE_LEAKAGE" } else { "LOW_MOOD" }],
    }})
}

fn settings_in(dir: &std::path::Path) -> Settings {
    let mut settings = Settings::default();
    settings.server.listen = "127.0.0.1:0".into();
    settings.database.database_url = format!("sqlite://{}?mode=rwc", dir.join("c.db").display());
    settings.index.index_dir = dir.join("index");
    settings.index.seed_demo = 30;
    settings
}

fn config_of(settings: Settings) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        settings,
    }
}

#[tokio::test]
async fn readiness_flips_to_ready_only_after_the_index_is_loaded_and_back_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    settings.server.shutdown_delay_seconds = 1;
    let config = config_of(settings);
    let mut application = Application::build(&config, true).await.unwrap();
    let base = format!("http://{}", application.address());
    let readiness = application.readiness();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    application.hold_startup_until(async {
        let _ = released.await;
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{base}{path}")).send();

    // Held before the index opens: alive, not ready, GraphQL refused with a code.
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    // The database connects before the hold; wait until readiness sees it.
    let mut body = Value::Null;
    for _ in 0..100 {
        let response = get("/readyz").await.unwrap();
        assert_eq!(response.status(), 503);
        body = response.json().await.unwrap();
        if body["checks"]["database"] == "up" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(body["status"], "not_ready", "{body}");
    assert_eq!(body["checks"]["index_loaded"], false, "{body}");
    assert_eq!(body["checks"]["database"], "up", "{body}");
    let early = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(early.status(), 503);
    assert_eq!(early.headers()["retry-after"], "1");
    let early: Value = early.json().await.unwrap();
    assert_eq!(error_code(&early), Some("SERVICE_UNAVAILABLE"), "{early}");
    assert!(early["data"].is_null());
    let metrics = get("/metrics").await.unwrap();
    assert_eq!(metrics.status(), 200);

    release.send(()).unwrap();
    readiness.wait_started().await.unwrap();
    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["checks"]["index_loaded"], true);
    assert_eq!(ready["checks"]["redis"], "not_configured");
    let answer: Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": MATCH, "variables": match_variables(0) }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer["errors"].is_null(), "{answer}");

    // Shutdown: readiness false at once, while the listener still serves (pre-stop delay).
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let draining = get("/readyz").await.unwrap();
    assert_eq!(draining.status(), 503);
    let draining: Value = draining.json().await.unwrap();
    assert_eq!(draining["checks"]["draining"], true, "{draining}");
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    server.await.unwrap().unwrap();
    assert!(get("/healthz").await.is_err(), "the listener is closed");
}

#[tokio::test]
async fn a_failed_start_up_stops_the_server_with_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the index directory should be: opening the index fails.
    std::fs::write(dir.path().join("index"), b"not a directory").unwrap();
    let application = Application::build(&config_of(settings_in(dir.path())), true)
        .await
        .unwrap();
    let error = tokio::time::timeout(
        Duration::from_secs(60),
        application.run_until(std::future::pending()),
    )
    .await
    .expect("stops by itself")
    .unwrap_err();
    assert!(
        format!("{error:#}").contains("CAREMATCH_INDEX_DIR"),
        "{error:#}"
    );
}

/// The value of the first series line starting with `prefix` and containing every label.
fn series_value(text: &str, prefix: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && line.starts_with(prefix))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn metrics_expose_the_named_series_after_a_few_requests() {
    let app = spawn_app_with(AppOptions {
        seed_demo: 30,
        ..AppOptions::default()
    })
    .await;
    let before = app.metrics().await;
    let count_of = |text: &str| {
        series_value(
            text,
            "carematch_graphql_request_duration_seconds_count",
            &["operation=\"OpsMatch\"", "type=\"query\""],
        )
        .unwrap_or(0.0)
    };
    let unauthenticated = |text: &str| {
        series_value(
            text,
            "carematch_graphql_errors_total",
            &["code=\"UNAUTHENTICATED\""],
        )
        .unwrap_or(0.0)
    };
    for n in 0..3 {
        let body = app.graphql(MATCH, match_variables(n)).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    // The same request twice: the second may be replayed from the response cache without
    // being parsed; it still counts under its operation.
    for _ in 0..2 {
        let body: Value = app
            .client
            .post(app.graphql_url())
            .json(&json!({ "query": MATCH, "operationName": "OpsMatch", "variables": match_variables(50) }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(body["errors"].is_null(), "{body}");
    }
    // A mutation without a token: an error counted by its code.
    let refused = app
        .graphql(
            "mutation OpsDelete { deleteProvider(id: \"00000000-0000-4000-8000-000000000001\") }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&refused), Some("UNAUTHENTICATED"), "{refused}");

    let after = app.metrics().await;
    // Other tests share the process's recorder: compare increases, not absolute values.
    assert!(count_of(&after) >= count_of(&before) + 5.0, "{after}");
    assert!(
        series_value(
            &after,
            "carematch_graphql_request_duration_seconds_bucket",
            &["operation=\"OpsMatch\"", "le=\"+Inf\""],
        )
        .is_some(),
        "{after}"
    );
    assert!(
        series_value(
            &after,
            "carematch_graphql_request_duration_seconds_count",
            &["operation=\"OpsDelete\"", "type=\"mutation\""],
        )
        .is_some(),
        "{after}"
    );
    assert!(
        unauthenticated(&after) > unauthenticated(&before),
        "{after}"
    );
    for series in [
        "carematch_index_documents",
        "carematch_index_generation",
        "carematch_match_log_queue_depth",
        "carematch_match_log_dropped_total",
        "carematch_match_log_written_total",
        "carematch_match_log_batches_total",
        "carematch_database_pool_connections",
        "carematch_database_pool_idle_connections",
        "carematch_database_pool_max_connections",
        "carematch_http_requests_in_flight",
        "carematch_http_requests_total",
        "carematch_ready",
    ] {
        assert!(
            series_value(&after, series, &[]).is_some(),
            "{series} missing:\n{after}"
        );
    }
    assert!(after.contains("# TYPE carematch_graphql_request_duration_seconds histogram"));
    // No label carries what she asked: the postal code and symptoms stay out.
    assert!(!after.contains("97205") && !after.contains("URINE_LEAKAGE"));
    app.stop().await;
}

#[tokio::test]
async fn a_checked_query_runs_without_the_guard_and_a_refused_one_still_gets_its_codes() {
    let app = spawn_app_with(AppOptions {
        seed_demo: 500,
        ..AppOptions::default()
    })
    .await;
    let runs = |text: &str, run: &str| {
        series_value(
            text,
            "carematch_graphql_executions_total",
            &[&format!("run=\"{run}\"")],
        )
        .unwrap_or(0.0)
    };
    let query = "query PlainMatch($input: MatchInput!) { matchProviders(input: $input, first: 3) { totalCount edges { node { rank provider { id } } } } }";
    let before = app.metrics().await;
    let mut answers = Vec::new();
    for n in 0..2 {
        let variables = json!({ "input": {
            "location": { "postalCode": "97205" },
            "radiusKm": 150 + n,
            "symptoms": ["LOW_MOOD", "URINE_LEAKAGE"],
        }});
        let body = app.graphql(query, variables).await;
        assert!(body["errors"].is_null(), "{body}");
        answers.push(body);
    }
    assert!(
        answers[0]["data"]["matchProviders"]["edges"]
            .as_array()
            .is_some_and(|edges| !edges.is_empty()),
        "{}",
        answers[0]
    );
    // The same checked document with a variable of the wrong type: refused before running.
    let refused = app
        .graphql(
            query,
            json!({ "input": { "location": { "postalCode": "97205" }, "radiusKm": "far" } }),
        )
        .await;
    assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"), "{refused}");
    assert!(refused["data"].is_null(), "{refused}");
    // A document over a parse-time limit never reaches the plain schema.
    let aliases: String = (0..40).map(|n| format!("a{n}: sdl ")).collect();
    let too_many = app
        .graphql(&format!("{{ _service {{ {aliases} }} }}"), json!({}))
        .await;
    assert_eq!(
        error_code(&too_many),
        Some("TOO_MANY_ALIASES"),
        "{too_many}"
    );
    let after = app.metrics().await;
    // Other tests share the process's recorder: compare increases.
    assert!(
        runs(&after, "plain") >= runs(&before, "plain") + 2.0,
        "{after}"
    );
    assert!(
        runs(&after, "guarded_again") >= runs(&before, "guarded_again") + 1.0,
        "{after}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_traceparent_is_continued_with_a_new_span_and_a_missing_one_starts_a_trace() {
    let app = spawn_app().await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = app
        .client
        .post(app.graphql_url())
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .header("x-request-id", "ops-trace-1")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "ops-trace-1");
    let answered = response.headers()["traceparent"]
        .to_str()
        .unwrap()
        .to_owned();
    let parts: Vec<&str> = answered.split('-').collect();
    assert_eq!(parts.len(), 4, "{answered}");
    assert_eq!((parts[0], parts[1], parts[3]), ("00", trace_id, "01"));
    assert_ne!(parts[2], "00f067aa0ba902b7");
    assert_eq!(parts[2].len(), 16);

    for sent in [None, Some("00-not-a-trace-01")] {
        let mut request = app.client.get(format!("{}/healthz", app.base_url));
        if let Some(sent) = sent {
            request = request.header("traceparent", sent);
        }
        let answered = request.send().await.unwrap().headers()["traceparent"]
            .to_str()
            .unwrap()
            .to_owned();
        let parts: Vec<&str> = answered.split('-').collect();
        assert_eq!(parts.len(), 4, "{answered}");
        assert_eq!(parts[1].len(), 32);
        assert_ne!(parts[1], trace_id);
    }
    app.stop().await;
}

#[tokio::test]
async fn stopping_under_load_loses_no_accepted_request_and_no_match_log() {
    // The database outlives the app: its match logs are read after it stopped.
    let database_dir = tempfile::tempdir().unwrap();
    let database_url = format!(
        "sqlite://{}?mode=rwc",
        database_dir.path().join("load.db").display()
    );
    let app = spawn_app_with(AppOptions {
        seed_demo: 200,
        database_url: Some(database_url.clone()),
    })
    .await;
    let url = app.graphql_url();
    let answered = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = Vec::new();
    for client_number in 0..8 {
        let url = url.clone();
        let answered = Arc::clone(&answered);
        let refused = Arc::clone(&refused);
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for n in 0.. {
                let sent = client
                    .post(&url)
                    .json(
                        &json!({ "query": MATCH, "variables": match_variables(client_number + n) }),
                    )
                    .send()
                    .await;
                let Ok(response) = sent else {
                    // Not accepted: the listener had closed (or closed this idle connection).
                    refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if refused.load(std::sync::atomic::Ordering::Relaxed) > 200 {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                // An accepted request must be answered in full.
                let body: Value = response
                    .json()
                    .await
                    .expect("an accepted request is answered");
                assert!(body["errors"].is_null(), "{body}");
                let id = body["data"]["matchProviders"]["matchId"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                answered.lock().unwrap().push(id);
            }
        }));
    }
    // Let the load run, then stop the way SIGTERM does.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    app.stop().await;
    for client in clients {
        client.await.expect("no client saw a broken answer");
    }
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() >= 20, "only {} answered", answered.len());
    let store = carematch_store::Store::connect(&database_url, &Default::default())
        .await
        .unwrap();
    let rows = store.match_log_table_as_json("match_logs").await.unwrap();
    let logged: HashSet<String> = rows
        .iter()
        // SQLite stores UUIDs as blobs, read back as hex without dashes.
        .filter_map(|row| row["id"].as_str().map(|id| id.replace('-', "")))
        .collect();
    let missing: Vec<&String> = answered
        .iter()
        .filter(|id| !logged.contains(&id.replace('-', "")))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} answered matches have no match log: {missing:?}",
        missing.len(),
        answered.len()
    );
}

#[tokio::test]
async fn postgres_restart_is_survived_without_restarting_the_process() {
    use sea_orm::ConnectionTrait;
    let Some(database) = PostgresDatabase::create("carematch_e2e_ops").await else {
        return;
    };
    let (admin, name) = (database.admin(), database.name());
    let app = spawn_app_with(AppOptions {
        seed_demo: 30,
        database_url: Some(database.url().to_owned()),
    })
    .await;
    let before = app.graphql(MATCH, match_variables(1)).await;
    assert!(before["errors"].is_null(), "{before}");

    // What a PostgreSQL restart does to a client: every server connection is cut.
    let terminated = admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .unwrap();
    assert!(terminated.rows_affected() > 0, "the app held no connection");

    // The next requests reconnect on their own: matches (and their match logs) at once.
    let mut ids = Vec::new();
    for n in 2..12 {
        let body = app.graphql(MATCH, match_variables(n)).await;
        assert!(body["errors"].is_null(), "{body}");
        ids.push(
            body["data"]["matchProviders"]["matchId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Readiness pings the database through the pool too; a catch-up that failed on a cut
    // connection may hold readiness until its next run (CAREMATCH_CATCH_UP_INTERVAL_MS).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let ready = app
            .client
            .get(format!("{}/readyz", app.base_url))
            .send()
            .await
            .unwrap();
        let status = ready.status();
        let body: Value = ready.json().await.unwrap();
        assert_eq!(body["checks"]["database"], "up", "{body}");
        if status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never ready again: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A write goes to the database through the pool too.
    let store = app.store().await;
    app.stop().await;
    let logged: HashSet<String> = store
        .match_log_table_as_json("match_logs")
        .await
        .unwrap()
        .iter()
        .filter_map(|row| row["id"].as_str().map(|id| id.replace('-', "")))
        .collect();
    for id in ids {
        assert!(logged.contains(&id.replace('-', "")), "{id} not logged");
    }
    store.close().await.unwrap();
    database.drop_database().await;
}
